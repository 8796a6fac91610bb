"""Hardware in a question: memory sizes and their kind (RAM, VRAM, unified), named GPUs and Macs,
card counts ("兩張 3090", "4x H100"), devices with default memory, and the arithmetic that turns
them into one memory budget on `Constraints` (split out of `constraints.py`).
"""

from __future__ import annotations

import re
from typing import Any

from .hardware import find_all_hardware
from .messages import Message
from .vocabulary import Vocabulary

MemoryKind = Any  # Literal["ram", "vram", "unified"] (constraints.MemoryKind)

_NUM = r"(?<![0-9.])(\d{1,5}(?:\.\d{1,3})?)"
_MEMORY = re.compile(_NUM + r"\s?(gib|gb|gig|g|吉)(?![a-z])")
_MEMORY_MB = re.compile(_NUM + r"\s?(mb|mib)(?![a-z])")
_COUNT_BEFORE_SIZE = re.compile(r"(?:(?<![0-9])([1-8])\s?(?:x|×|\*|張|片|塊)|(兩|二|雙|三|四|八|dual|two|three|four|quad|eight)\s?(?:張|片|塊|x)?)\s?(?:的\s?)?$")
_PLURAL_NUMBER = re.compile(r"(?<=\d)s(?![a-z])")


def _memory_kind_near(text: str, start: int, end: int, v: Vocabulary, gpu_spans: list[tuple[int, int]]) -> MemoryKind | None:
    """The memory kind named right after a size ("24GB VRAM") or right before it."""

    def kind_of(lo: int, hi: int, nearest_last: bool) -> MemoryKind | None:
        window = text[lo:hi]
        hits: list[tuple[int, MemoryKind]] = []
        for name, kind in (("devices.vram", "vram"), ("devices.ram", "ram"), ("devices.unified", "unified")):
            hits += [(m.start(), kind) for m in v.cues(name).finditer(window)]  # type: ignore[misc]
        hits += [(s - lo, "vram") for s, e in gpu_spans if lo <= s < hi]
        if not hits:
            return None
        hits.sort()
        return hits[-1][1] if nearest_last else hits[0][1]

    return kind_of(end, end + 18, False) or kind_of(max(0, start - 12), start, True)


def read_hardware(text: str, result: Any, v: Vocabulary) -> None:
    """Memory size and kind, named hardware (bandwidth, GPU count), device and CPU-only."""
    device_hits = [(m.start(), t.id) for t in v.terms("devices") for m in [t.cues.search(text)] if m]
    device_term = min(device_hits)[1] if device_hits else None
    result.device = device_term  # type: ignore[assignment]
    result.cpu_only = v.cues("devices.cpu_only")(text)
    on_mac = v.cues("devices.mac")(text)
    named = find_all_hardware(_PLURAL_NUMBER.sub("", text))  # "two 4090s" names two 4090s
    gpus = [] if result.cpu_only else [m for m in named if m.preset.memory_kind == "vram"]
    chips = [m for m in named if m.preset.memory_kind == "unified"]
    ram_kinds = [m for m in named if m.preset.memory_kind == "ram"]
    gpu_spans = [(m.start, m.end) for m in gpus]
    count_words = v.table("devices.count_words")
    laptop_memory = {str(k): float(x) for k, x in v.table("devices.laptop_gpu_memory_gb").items()}

    explicit: list[tuple[float, MemoryKind | None, int]] = []
    for pattern, scale in ((_MEMORY, 1.0), (_MEMORY_MB, 1 / 1024)):
        for match in pattern.finditer(text):
            value = float(match.group(1)) * scale
            if not 0 < value <= 4096:
                continue
            if any(s <= match.start() < e for s, e in gpu_spans):
                continue  # "RTX 3060 12GB": the card's own size, read with the card
            count = _COUNT_BEFORE_SIZE.search(text[max(0, match.start() - 12) : match.start()])
            cards = (int(count.group(1)) if count.group(1) else int(count_words[count.group(2)])) if count else 1
            explicit.append((value, _memory_kind_near(text, match.start(), match.end(), v, gpu_spans), cards))

    def settle(kind: MemoryKind | None) -> MemoryKind | None:
        if on_mac and not gpus:
            return "unified"
        if result.cpu_only:
            return "ram"
        return kind

    explicit = [(value, settle(kind), cards) for value, kind, cards in explicit]
    vram = [(value, cards) for value, kind, cards in explicit if kind == "vram"]
    laptop = result.device == "laptop"
    if gpus:
        first = gpus[0]
        key = _gpu_key(first.preset.name)
        if not laptop or key not in laptop_memory:
            card = first.preset.variant(_card_memory(first))
            result.hardware_name, result.bandwidth_gbs = card.name, card.bandwidth_gbs
        result.gpu_count = sum(g.count for g in gpus)
    if vram and not gpus:
        value, cards = max(vram)
        result.memory_gb, result.memory_kind = value * cards, "vram"
        result.gpu_count = max(result.gpu_count or 1, cards)
        if cards > 1:
            result.assumptions.append(Message("assume.cards_summed", {"count": cards, "each": f"{value:g}", "total": f"{value * cards:g}"}))
        rams = [x for x, kind, _ in explicit if kind == "ram"]
        if rams:
            result.ram_gb = max(rams)
    elif gpus:
        total = 0.0
        names = []
        for gpu in gpus:
            memory = laptop_memory.get(_gpu_key(gpu.preset.name), gpu.memory_gb) if laptop else _card_memory(gpu)
            total += memory * gpu.count
            names.append(f"{gpu.count}× {gpu.variant.name}" if gpu.count > 1 else gpu.variant.name)
        result.memory_gb, result.memory_kind = total, "vram"
        key = "assume.laptop_gpus_vram" if laptop else "assume.gpus_vram"
        result.assumptions.append(Message(key, {"gpus": " + ".join(names), "total": f"{total:g}"}))
        if sum(g.count for g in gpus) > 1:
            result.assumptions.append(Message("assume.multi_gpu_split"))
        rams = [x for x, kind, _ in explicit if kind in ("ram", None)]
        if rams:
            result.ram_gb = max(rams)
    elif explicit:
        value, kind, _ = explicit[0]
        if kind is None:
            kind = "ram"
            if result.device is None and not v.cues("devices.raspberry")(text):
                result.assumptions.append(Message("assume.size_is_ram", {"gb": f"{value:g}"}))
        result.memory_gb, result.memory_kind = value, kind
        if kind == "vram":
            result.gpu_count = 1
    elif chips:
        chip = chips[0]
        result.memory_gb, result.memory_kind = chip.memory_gb, "unified"
        if not chip.size_stated:
            result.assumptions.append(Message("assume.chip_memory", {"chip": chip.preset.name, "gb": f"{chip.memory_gb:g}"}))
        result.hardware_name, result.bandwidth_gbs = chip.variant.name, chip.variant.bandwidth_gbs
    elif v.cues("devices.raspberry")(text):
        defaults = v.table("devices.raspberry_defaults")
        result.memory_gb, result.memory_kind, result.cpu_only = float(defaults["memory_gb"]), "ram", True
        result.assumptions.append(Message("assume.raspberry", {"gb": f"{float(defaults['memory_gb']):g}"}))
    elif result.device == "edge" and v.cues("devices.wearable")(text):
        defaults = v.table("devices.wearable_defaults")
        result.memory_gb, result.memory_kind = float(defaults["memory_gb"]), "ram"
        result.assumptions.append(Message("assume.wearable", {"gb": f"{float(defaults['memory_gb']):g}"}))
        if result.max_params_b is None:
            result.max_params_b = float(defaults["max_params_b"])
            result.assumptions.append(Message("assume.wearable_size", {"max": f"{result.max_params_b:g}"}))
    elif on_mac and device_term is None:
        default = float(v.table("devices.mac_defaults")["memory_gb"])
        result.memory_gb, result.memory_kind = default, "unified"
        result.assumptions.append(Message("assume.mac_memory", {"gb": f"{default:g}"}))
    elif device_term is not None:
        term = v.term("devices", device_term)
        default = term.get("default_memory_gb") if term else None
        if default:
            result.memory_gb = float(default)
            result.memory_kind = "unified" if on_mac else "ram"
            key = "assume.device_unified" if on_mac else "assume.device_ram"
            result.assumptions.append(Message(key, {"device_zh": term.zh, "device_en": term.en, "gb": f"{float(default):g}"}))
            limit = term.get("max_params_b")
            if limit and result.max_params_b is None:
                result.max_params_b = float(limit)
                result.assumptions.append(Message("assume.device_size", {"device_zh": term.zh, "device_en": term.en, "max": f"{float(limit):g}"}))
    if result.memory_kind == "unified" and chips and not gpus:
        result.hardware_name, result.bandwidth_gbs = chips[0].variant.name, chips[0].variant.bandwidth_gbs
    elif result.memory_kind == "ram" and ram_kinds:
        ram = ram_kinds[0].variant
        result.hardware_name, result.bandwidth_gbs = ram.name, ram.bandwidth_gbs
        if ram.name.lower().startswith("raspberry"):
            result.cpu_only = True
    elif result.memory_kind == "ram" and v.cues("devices.raspberry")(text):
        result.cpu_only = True
    if result.memory_gb is not None:
        result.memory_gb = round(result.memory_gb, 3)


def _card_memory(gpu) -> float:  # type: ignore[no-untyped-def]
    """One card's memory: "8 張 H100（640GB）" states the total, not a 640GB card."""
    largest = max((gpu.preset.memory_gb, *gpu.preset.memory_options))
    if gpu.count > 1 and gpu.size_stated and gpu.memory_gb > largest * 1.01:
        return gpu.memory_gb / gpu.count
    return gpu.memory_gb


def _gpu_key(name: str) -> str:
    """"NVIDIA GeForce RTX 4090 24GB" -> "4090": the number the laptop table is keyed by."""
    words = [w for w in name.lower().split() if w not in ("nvidia", "amd", "geforce", "rtx", "rx", "gtx")]
    return words[0] if words else ""


# ---------------------------------------------------------------- the parser
