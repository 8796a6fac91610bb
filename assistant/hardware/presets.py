"""Hardware presets from knowledge/hardware.yaml and hardware named in free text.

A preset is a chip or card; `memory_variants` are the sizes it is sold with, each with its own bandwidth
where it differs (the 36 GB M3 Max has the 30-core GPU and 300 GB/s). "M3 Max 64GB", "M4 Pro 48GB",
"Strix Halo 128GB", "RTX 5090" and "兩張 4090" are all read from the data: the name or an alias, then
an optional size right after it ("64GB", "64 GB", "(64GB)", "的 64G"), and a card count before or after.

How chip + memory names are matched (for the question parser): `find_all_hardware(text)` returns a
`HardwareMatch` per name with ``memory_gb`` (the stated size, else the preset default), ``size_stated``,
``count`` (cards; "2x 3090", "兩張 4090", "4090 x2") and ``variant`` (the `Preset` of that memory size,
with its bandwidth). `preset_named("M3 Max 64GB")` gives that variant directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Literal

from .quant import KNOWLEDGE_DIR

MemoryKind = Literal["ram", "vram", "unified"]
HARDWARE_YAML = KNOWLEDGE_DIR / "hardware.yaml"
KINDS = ("ram", "vram", "unified")


@dataclass(frozen=True)
class MemoryVariant:
    memory_gb: float
    bandwidth_gbs: float
    note: str = ""


@dataclass(frozen=True)
class Preset:
    """One machine from knowledge/hardware.yaml: its memory and memory bandwidth."""

    name: str
    memory_gb: float
    memory_kind: MemoryKind
    bandwidth_gbs: float
    memory_options: tuple[float, ...] = ()
    aliases: tuple[str, ...] = ()
    note: str = ""
    source: str = ""
    platform: str = ""
    speed_class: str = ""
    hw_class: str = ""
    variants: tuple[MemoryVariant, ...] = ()
    base_name: str = ""

    @property
    def label(self) -> str:
        """"RTX 4090 (24 GB VRAM, 1008 GB/s)" style label for menus."""
        kind = {"vram": "VRAM", "unified": "unified", "ram": "RAM"}[self.memory_kind]
        return f"{self.name} ({self.memory_gb:g} GB {kind}, {self.bandwidth_gbs:g} GB/s)"

    @property
    def chip(self) -> str:
        """The chip or card name without a memory size ("M3 Max" for "M3 Max 64GB")."""
        return self.base_name or self.name

    def variant(self, memory_gb: float) -> Preset:
        """This preset at `memory_gb` (its sold variant's bandwidth when listed), named "M3 Max 64GB"."""
        chosen = next((v for v in self.variants if abs(v.memory_gb - memory_gb) < 0.01), None)
        bandwidth = chosen.bandwidth_gbs if chosen else self.bandwidth_gbs
        note = chosen.note if chosen and chosen.note else self.note
        if abs(memory_gb - self.memory_gb) < 0.01 and bandwidth == self.bandwidth_gbs and not self.base_name:
            return self
        return replace(self, name=f"{self.chip} {memory_gb:g}GB", memory_gb=float(memory_gb), bandwidth_gbs=bandwidth,
                       note=note, base_name=self.chip)


@dataclass(frozen=True)
class HardwareMatch:
    """A preset named in free text, with the size and count the text states."""

    preset: Preset
    memory_gb: float
    count: int
    start: int
    end: int
    size_stated: bool

    @property
    def variant(self) -> Preset:
        """The preset at the stated (or default) memory size, with that variant's bandwidth."""
        return self.preset.variant(self.memory_gb)


def _platform(kind: str, name: str, row: dict) -> str:
    if row.get("platform"):
        return str(row["platform"])
    return {"vram": "discrete", "ram": "cpu"}.get(kind) or ("macos" if re.match(r"^M\d", name) else "unified")


def _speed_class(kind: str, name: str, row: dict) -> str:
    if row.get("speed_class"):
        return str(row["speed_class"])
    if kind == "ram":
        return "cpu"
    if kind == "unified":
        return "apple-ultra" if name.endswith("Ultra") else "apple"
    return "amd" if re.match(r"^(RX|Radeon)\b", name) else "nvidia"


def _hw_class(kind: str, name: str, row: dict) -> str:
    if row.get("class"):
        return str(row["class"])
    if kind == "ram":
        return "cpu"
    if kind == "unified":
        m = re.match(r"^M\d(?: (Pro|Max|Ultra))?", name)
        return f"apple-{(m.group(1) or 'base').lower()}" if m else "unified"
    if re.match(r"^(RX|Radeon)\b", name):
        return "amd-gpu"
    if re.match(r"^RTX 50\d0", name):
        return "nvidia-rtx50"
    if re.match(r"^RTX [2-4]0\d0", name):
        return "nvidia-consumer"
    return "nvidia-workstation-dc"


@lru_cache(maxsize=4)
def _load_presets(path: str) -> tuple[Preset, ...]:
    import yaml  # noqa: PLC0415

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    presets = []
    for row in data["presets"]:
        kind, name = row["kind"], str(row["name"])
        if kind not in KINDS:
            raise ValueError(f"{path}: preset {name!r} has unknown kind {kind!r}")
        bandwidth = float(row["bandwidth_gbs"])
        variants = tuple(
            MemoryVariant(float(v["memory_gb"]), float(v.get("bandwidth_gbs", bandwidth)), str(v.get("note", "")))
            for v in row.get("memory_variants", ())
        ) or tuple(MemoryVariant(float(m), bandwidth) for m in row.get("memory_options", ()))
        presets.append(
            Preset(
                name=name,
                memory_gb=float(row["memory_gb"]),
                memory_kind=kind,
                bandwidth_gbs=bandwidth,
                memory_options=tuple(v.memory_gb for v in variants),
                aliases=tuple(str(a) for a in row.get("aliases", ())),
                note=str(row.get("note", "")),
                source=str(row.get("source", "")),
                platform=_platform(kind, name, row),
                speed_class=_speed_class(kind, name, row),
                hw_class=_hw_class(kind, name, row),
                variants=variants,
            )
        )
    return tuple(presets)


def load_presets(path: Path | None = None, *, variants: bool = False) -> list[Preset]:
    """Every preset in knowledge/hardware.yaml, in file order (GPUs, Apple chips, RAM).

    With ``variants=True`` each sold memory size is its own entry ("M3 Max 36GB", "M3 Max 48GB", ...),
    for menus that offer memory variants.
    """
    presets = list(_load_presets(str(path or HARDWARE_YAML)))
    if not variants:
        return presets
    out: list[Preset] = []
    for preset in presets:
        if len(preset.variants) > 1:
            for v in preset.variants:
                sized = preset.variant(v.memory_gb)
                out.append(sized if sized.base_name else replace(sized, name=f"{preset.name} {v.memory_gb:g}GB",
                                                                 base_name=preset.name))
        else:
            out.append(preset)
    return out


_SIZE_IN_NAME = re.compile(r"^(.*?)[\s\-(]*(\d{1,4}(?:\.\d+)?)\s?(?:g|gb|gib)\)?$", re.I)


def preset_named(name: str) -> Preset | None:
    """The preset whose name or alias equals `name` (case, spaces and "RTX" ignored), or None.

    A memory size after the name picks that variant: "M3 Max 64GB" -> M3 Max at 64 GB.
    """
    if not name:
        return None
    key = _name_key(name)
    for preset in load_presets():
        if key in {_name_key(n) for n in _names_of(preset)}:
            return preset
    sized = _SIZE_IN_NAME.match(name.strip())
    if sized:
        base = preset_named(sized.group(1))
        if base is not None and not re.search(r"\d\s?(?:g|gb|gib)\)?$", base.name, re.I):
            return base.variant(float(sized.group(2)))
    return None


def _name_key(name: str) -> str:
    key = re.sub(r"[\s\-_]+", "", name.lower())
    return re.sub(r"^(?:nvidia)?(?:geforce)?(?:rtx|rx|apple)?", "", key)


def _names_of(preset: Preset) -> list[str]:
    names = [preset.name, *preset.aliases]
    stripped = re.sub(r"^(?:RTX|RX)\s+", "", preset.name)
    if stripped != preset.name:
        names.append(stripped)
    return names


def _text_pattern(name: str) -> re.Pattern[str]:
    parts = re.sub(r"^(?:RTX|RX)\s+", "", name).lower().split()
    body = r"[\s\-]?".join(re.escape(p) for p in parts)
    prefix = r"(?:(?:nvidia\s?)?(?:geforce\s?)?(?:rtx|rx)\s?)?" if re.match(r"^(RTX|RX)\s", name) else ""
    left = r"(?<![0-9])" if parts[0][0].isdigit() and not prefix else r"(?<![a-z0-9])"
    return re.compile(left + prefix + body + r"(?![a-z0-9])", re.I)


@lru_cache(maxsize=1)
def _preset_patterns() -> tuple[tuple[Preset, re.Pattern[str], int], ...]:
    rows = []
    for preset in load_presets():
        for name in _names_of(preset):
            if re.search(r"[\u4e00-\u9fff]", name):
                pattern = re.compile(re.escape(name))
            else:
                pattern = _text_pattern(name)
            rows.append((preset, pattern, len(name)))
    rows.sort(key=lambda r: -r[2])
    return tuple(rows)


_SIZE_AFTER = re.compile(r"^\s?(?:[-(,]\s?)?(?:的\s?)?(\d{1,3}(?:\.\d+)?)\s?(?:g|gb|gib|吉)(?![a-z])", re.I)
_COUNT_WORDS = {"兩": 2, "二": 2, "雙": 2, "三": 3, "四": 4, "八": 8, "dual": 2, "two": 2, "double": 2,
                "three": 3, "four": 4, "quad": 4, "eight": 8, "十六": 16, "sixteen": 16}
_COUNT_BEFORE = re.compile(
    r"(?:(?<![0-9])([1-9]|1[0-6])\s?(?:x|×|\*|張|片|塊|個|顆)|(兩|二|雙|三|四|八|十六|dual|two|double|three|four|quad|eight|sixteen)"
    r"\s?(?:張|片|塊|個|顆|x)?)\s?(?:nvidia\s?)?(?:geforce\s?)?(?:rtx\s?)?$",
    re.I,
)
_COUNT_AFTER = re.compile(r"^\s?(?:(?:x|×|\*)\s?([1-9]|1[0-6])(?![0-9.])|([1-9]|1[0-6])\s?張)", re.I)


def find_all_hardware(text: str) -> list[HardwareMatch]:
    """Every preset named in `text`, in order of appearance, longest name first on overlaps.

    "兩張 4090" gives RTX 4090 x2; "M3 Max 64GB" gives M3 Max with 64 GB; "3060 12GB" gives RTX 3060
    with 12 GB; "Mac mini M4" gives M4 with its default 16 GB (``size_stated`` False).
    """
    if not text:
        return []
    found: list[HardwareMatch] = []
    taken: list[tuple[int, int]] = []
    for preset, pattern, _ in _preset_patterns():
        for match in pattern.finditer(text):
            if any(match.start() < e and s < match.end() for s, e in taken):
                continue
            taken.append((match.start(), match.end()))
            size = _SIZE_AFTER.match(text[match.end() : match.end() + 12])
            memory = float(size.group(1)) if size else preset.memory_gb
            before = _COUNT_BEFORE.search(text[max(0, match.start() - 20) : match.start()])
            after = _COUNT_AFTER.search(text[match.end() : match.end() + 8])
            count = 1
            if preset.memory_kind == "vram":
                if before:
                    count = int(before.group(1)) if before.group(1) else _COUNT_WORDS[before.group(2).lower()]
                elif after:
                    count = int(after.group(1) or after.group(2))
            found.append(HardwareMatch(preset, memory, count, match.start(), match.end(), bool(size)))
    return sorted(found, key=lambda m: m.start)


def find_hardware(text: str) -> HardwareMatch | None:
    """The first preset named in `text` ("4090", "M3 Max 64GB", "Mac mini M4"), or None."""
    found = find_all_hardware(text)
    return found[0] if found else None
