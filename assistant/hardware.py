"""Will this model run on this machine, and how fast? Memory fit, placement and a calibrated speed.

Everything here is plain arithmetic over the catalog's `Variant` numbers and the cited tables in
`knowledge/` (`hardware.yaml` for machines, `benchmarks.yaml` for measured speeds), so every answer
is explainable: each `FitEstimate` carries the assumptions it rests on.

Units
-----
All sizes are **decimal gigabytes** (1 GB = 10**9 bytes), the unit in which model parameters are
counted (8B = 8e9 parameters). A budget such as "16 GB" is read the same way; machines sold as
"16 GB" usually hold 16 GiB = 17.2e9 bytes, so reading the budget as decimal GB leaves a silent ~7 %
margin on the safe side.

Memory
------
``required_gb = weights_gb + kv_cache_gb + overhead_gb``

* **weights_gb** = ``params_total_b * bits_per_weight / 8``. Bits per weight are the effective
  averages llama.cpp publishes (`QUANT_BITS`: the Llama-3.1-8B table in llama.cpp's
  ``tools/quantize/README.md``, scales and mixed-precision tensors included). For a mixture-of-experts
  model *all* experts must be resident, so the **total** parameter count is used.
* **kv_cache_gb**, F16 cache, K and V: ``2 * n_layers * n_kv_heads * head_dim * context * 2 / 1e9``
  when the variant states its shape; otherwise scaled from Llama-3-8B (0.125 MiB per token) by
  active parameters.
* **overhead_gb** = ``0.5 + 5 % of weights_gb`` for compute buffers, the runtime and the GPU context.

Placement (the labels LM Studio uses)
-------------------------------------
* **full GPU offload**: everything fits the GPU's memory (VRAM, summed over ``gpu_count`` cards, or
  Apple unified memory). Usable: 90 % of VRAM (cards hold GiB, so ~84 % of the real bytes), 70 % of unified memory (macOS caps GPU wiring).
* **partial offload**: VRAM is too small but VRAM + system RAM (when the RAM size is known) holds it.
  Weights beyond VRAM run from RAM at RAM bandwidth. A dense model keeps whole layers on the GPU
  (``-ngl``); a mixture-of-experts model keeps attention on the GPU and moves experts to RAM
  (``--n-cpu-moe``), which costs far less because each token reads only the active experts.
* **CPU only**: system RAM (75 % usable; the OS and programs need the rest).
* **does not fit**: nothing above holds it.

Decode speed (calibrated)
-------------------------
Token generation is memory-bandwidth bound: each token reads every *active* weight once. The bare
ceiling ``bandwidth / active_bytes`` overestimates published llama.cpp runs (dense models: median
1.37x; mixture-of-experts models: 1.9-3.2x; a 7B model on an H100: 3.9x), so the estimate is

    seconds_per_token = overhead_ms[backend] / 1000 + active_gb / (efficiency[backend] * moe * bandwidth)

with ``moe`` = `SpeedModel.moe_efficiency` for mixture-of-experts models and 1 for dense ones. The
fixed per-token overhead (kernel launches, sampling, synchronisation) is what makes small and
sparse models slower than the ceiling; the efficiency is the share of peak bandwidth reached on big
reads. Bandwidth comes from the named hardware (`knowledge/hardware.yaml`: RTX 4090 1008 GB/s, M4
120 GB/s, ...), else from `DEFAULT_BANDWIDTH_GB_S` by memory kind. Multi-GPU splits layers across
cards, which run one after another, so the speed is that of one card reading all the weights. A
partial offload adds the RAM share of the active bytes read at RAM bandwidth with the CPU efficiency.

The constants in `FITTED` were fitted by `assistant.calibration.fit` (least squares on the log of
tokens/s, coordinate search) on the 29 ``split: fit`` rows of `knowledge/benchmarks.yaml`: published
llama-bench / llama.cpp measurements from the llama.cpp repository's PRs and issues, the
XiongjieDai GPU-Benchmarks-on-LLM-Inference tables, llmfit's community table and normiebench.
Fitted values:

    backend          efficiency   overhead per token
    GPU (CUDA/ROCm)     0.883          3.32 ms
    Apple Metal         0.772          3.70 ms
    CPU                 0.888          36.6 ms
    MoE efficiency factor: 0.884
    prompt processing (pp_factor, tok/s per GB/s per billion active parameters):
    GPU 32.1, Metal 10.5, CPU 4.34

The CPU overhead is large because the CPU rows include 2014-2017 laptops and DDR3 desktops; it
matters little next to the seconds a CPU spends reading weights.

On the 27 held-back ``split: holdout`` rows the calibrated estimate is within +-35 % on 81 % (22 of 27) of
them with a median absolute error of 12.6 % (tests/test_benchmarks.py checks this). Typical
misses: 2023 builds on data-centre cards with 7B or 70B models, Qwen3.6's hybrid-attention MoE on
older Macs, and an M1 Max that two sources measure at 35.7 and 46.2 tok/s for the same 8B model. Long contexts add KV-cache reads that are not modelled.

Prompt processing (time to first token)
---------------------------------------
Prompt processing is compute bound; bandwidth is used as a proxy for the chip's class:
``pp_tokens_per_s = pp_factor[backend] * bandwidth / active_params_b`` (`SpeedModel.pp_*`, fitted on
the rows with pp numbers). ``ttft_s_1k = 1000 / pp_tokens_per_s`` is an **order of magnitude** only.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from assistant.knowledge import Model, Variant

MemoryKind = Literal["ram", "vram", "unified"]
Backend = Literal["gpu", "metal", "cpu"]
Placement = Literal["full GPU offload", "partial offload", "CPU only", "does not fit"]

KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"
HARDWARE_YAML = KNOWLEDGE_DIR / "hardware.yaml"

QUANT_BITS: dict[str, float] = {
    "Q2_K": 3.16,
    "Q3_K_M": 3.89,
    "Q4_0": 4.54,
    "IQ4_XS": 4.46,
    "Q4_K_M": 4.89,
    "Q5_K_M": 5.70,
    "Q6_K": 6.56,
    "Q8_0": 8.50,
    "F16": 16.0,
    "BF16": 16.0,
    "MXFP4": 4.63,
}
"""Effective bits per weight of GGUF formats, as llama.cpp publishes them.

Q2_K, IQ4_XS, Q4_K_M, Q5_K_M, Q6_K, Q8_0, F16: the Llama-3.1-8B table in llama.cpp's
``tools/quantize/README.md`` (3.1593, 4.4597, 4.8944, 5.7036, 6.5633, 8.5008, 16.0005).
Q3_K_M: 31.91 GiB for Llama-3-70B (70.55B) in the perplexity table of llama.cpp PR #6745
(dranger003), 3.89 bits. Q4_0: llama-bench's 3.56 GiB for LLaMA-7B (6.74B) in llama.cpp PR #4766,
4.54 bits. MXFP4 (gpt-oss): llama-bench's 11.27 GiB for gpt-oss-20b (20.91B) in llama.cpp PR #15451,
4.63 bits (MXFP4 experts at 4.25 bits plus BF16 attention). BF16 costs what F16 does."""

QUANT_ALIASES: dict[str, str] = {
    "q2": "Q2_K",
    "q3": "Q3_K_M",
    "q3_k": "Q3_K_M",
    "q3km": "Q3_K_M",
    "q4": "Q4_K_M",
    "q4_k": "Q4_K_M",
    "q4km": "Q4_K_M",
    "int4": "Q4_K_M",
    "4bit": "Q4_K_M",
    "iq4": "IQ4_XS",
    "iq4xs": "IQ4_XS",
    "q5": "Q5_K_M",
    "q5_k": "Q5_K_M",
    "q5km": "Q5_K_M",
    "q6": "Q6_K",
    "q8": "Q8_0",
    "int8": "Q8_0",
    "8bit": "Q8_0",
    "f16": "F16",
    "fp16": "F16",
    "16bit": "F16",
    "bf16": "BF16",
    "mxfp4": "MXFP4",
    "fp4": "MXFP4",
}

QUALITY_ORDER: tuple[str, ...] = ("Q8_0", "Q5_K_M", "Q4_K_M")
"""Quantisations `fits_any_quant` tries, best quality first. F16 is left out: it
costs twice Q8_0's memory for a difference users rarely notice."""

USABLE_FRACTION: dict[str, float] = {
    # The OS, a browser and the desktop commonly take a quarter of a laptop's RAM.
    "ram": 0.75,
    # Cards sold as "24 GB" hold 24 GiB = 25.8 GB; display output, driver and CUDA context
    # take a few hundred MB to ~1.5 GB of it. 90 % of the decimal size is ~84 % of the real bytes.
    "vram": 0.90,
    # macOS lets the GPU wire roughly 65-75 % of unified memory by default.
    "unified": 0.70,
}

DEFAULT_BANDWIDTH_GB_S: dict[str, float] = {
    # Dual-channel DDR5-4800/5600 in a laptop or desktop: 77-90 GB/s peak.
    "ram": 60.0,
    # Mid-to-high consumer GPUs: RTX 3090 936 GB/s, RTX 4090 1008, RTX 4070 504.
    "vram": 900.0,
    # Apple M-series Pro class: M3 Pro 150, M4 Pro 273, Max chips 400-546.
    "unified": 200.0,
}
"""Used only when the hardware is not named and no bandwidth is given."""

BACKEND_OF_KIND: dict[str, Backend] = {"vram": "gpu", "unified": "metal", "ram": "cpu"}

PLACEMENT_ZH: dict[str, str] = {
    "full GPU offload": "完全載入 GPU",
    "partial offload": "部分卸載到系統記憶體",
    "CPU only": "只用 CPU",
    "does not fit": "放不下",
}

KV_BYTES_PER_TOKEN_PER_8B_ACTIVE = 2 * 32 * 8 * 128 * 2
"""131072 bytes: Llama-3-8B (32 layers, 8 KV heads of dim 128) with an F16 cache."""

KV_BYTES_PER_ELEMENT = 2  # F16 cache, llama.cpp's default
OVERHEAD_FIXED_GB = 0.5
OVERHEAD_FRACTION_OF_WEIGHTS = 0.05
TTFT_PROMPT_TOKENS = 1000

_KEY_NORMALISER = re.compile(r"[\s\-.]+")


@dataclass(frozen=True)
class SpeedModel:
    """The calibrated decode-speed model; see the module docstring for the formula."""

    efficiency_gpu: float
    efficiency_metal: float
    efficiency_cpu: float
    moe_efficiency: float
    overhead_ms_gpu: float
    overhead_ms_metal: float
    overhead_ms_cpu: float
    pp_factor_gpu: float | None = None
    pp_factor_metal: float | None = None
    pp_factor_cpu: float | None = None

    def efficiency(self, backend: str, moe: bool) -> float:
        return float(getattr(self, f"efficiency_{backend}")) * (self.moe_efficiency if moe else 1.0)

    def overhead_s(self, backend: str) -> float:
        return float(getattr(self, f"overhead_ms_{backend}")) / 1000

    def pp_factor(self, backend: str) -> float | None:
        value = getattr(self, f"pp_factor_{backend}")
        return None if value is None else float(value)


FITTED = SpeedModel(
    efficiency_gpu=0.883,
    efficiency_metal=0.772,
    efficiency_cpu=0.888,
    moe_efficiency=0.884,
    overhead_ms_gpu=3.32,
    overhead_ms_metal=3.70,
    overhead_ms_cpu=36.6,
    pp_factor_gpu=32.1,
    pp_factor_metal=10.5,
    pp_factor_cpu=4.34,
)
"""Fitted on the ``split: fit`` rows of knowledge/benchmarks.yaml by `assistant.calibration.fit`."""


def decode_tokens_per_s(
    active_gb: float,
    bandwidth_gb_s: float,
    backend: str,
    moe: bool,
    model: SpeedModel = FITTED,
    ram_fraction: float = 0.0,
    ram_bandwidth_gb_s: float | None = None,
) -> float:
    """Calibrated generation speed for `active_gb` read per token (unrounded).

    `ram_fraction` of the active bytes is read from system RAM at `ram_bandwidth_gb_s` with the CPU
    efficiency (partial or expert offload); the rest from `bandwidth_gb_s` with `backend`'s.
    """
    seconds = model.overhead_s(backend)
    seconds += active_gb * (1 - ram_fraction) / (model.efficiency(backend, moe) * bandwidth_gb_s)
    if ram_fraction > 0:
        ram_bw = ram_bandwidth_gb_s or DEFAULT_BANDWIDTH_GB_S["ram"]
        seconds += active_gb * ram_fraction / (model.efficiency("cpu", moe) * ram_bw)
    return 1 / seconds


def prompt_tokens_per_s(
    active_params_b: float, bandwidth_gb_s: float, backend: str, model: SpeedModel = FITTED
) -> float | None:
    """Order-of-magnitude prompt-processing speed, or None when the backend has no pp data."""
    factor = model.pp_factor(backend)
    if factor is None:
        return None
    return factor * bandwidth_gb_s / active_params_b


def normalize_quant(name: str) -> str:
    """Map a quantisation name or alias ("q4", "int8", "bf16") to a `QUANT_BITS` key.

    Raises:
        ValueError: naming the accepted names when `name` is unknown.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"quantisation must be a non-empty name; accepted: {_accepted_quants()}")
    key = _KEY_NORMALISER.sub("_", name.strip()).upper()
    if key in QUANT_BITS:
        return key
    alias = QUANT_ALIASES.get(key.lower()) or QUANT_ALIASES.get(key.lower().replace("_", ""))
    if alias:
        return alias
    raise ValueError(f"unknown quantisation {name!r}; accepted: {_accepted_quants()}")


def _accepted_quants() -> str:
    return ", ".join([*QUANT_BITS, *sorted(QUANT_ALIASES)])


# ---------------------------------------------------------------- hardware presets


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

    @property
    def label(self) -> str:
        """"RTX 4090 (24 GB VRAM, 1008 GB/s)" style label for menus."""
        kind = {"vram": "VRAM", "unified": "unified", "ram": "RAM"}[self.memory_kind]
        return f"{self.name} ({self.memory_gb:g} GB {kind}, {self.bandwidth_gbs:g} GB/s)"


@dataclass(frozen=True)
class HardwareMatch:
    """A preset named in free text, with the size and count the text states."""

    preset: Preset
    memory_gb: float
    count: int
    start: int
    end: int
    size_stated: bool


@lru_cache(maxsize=4)
def _load_presets(path: str) -> tuple[Preset, ...]:
    import yaml  # noqa: PLC0415

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    presets = []
    for row in data["presets"]:
        kind = row["kind"]
        if kind not in USABLE_FRACTION:
            raise ValueError(f"{path}: preset {row.get('name')!r} has unknown kind {kind!r}")
        presets.append(
            Preset(
                name=str(row["name"]),
                memory_gb=float(row["memory_gb"]),
                memory_kind=kind,
                bandwidth_gbs=float(row["bandwidth_gbs"]),
                memory_options=tuple(float(v) for v in row.get("memory_options", ())),
                aliases=tuple(str(a) for a in row.get("aliases", ())),
                note=str(row.get("note", "")),
                source=str(row.get("source", "")),
            )
        )
    return tuple(presets)


def load_presets(path: Path | None = None) -> list[Preset]:
    """Every preset in knowledge/hardware.yaml, in file order (GPUs, Apple chips, RAM)."""
    return list(_load_presets(str(path or HARDWARE_YAML)))


def preset_named(name: str) -> Preset | None:
    """The preset whose name or alias equals `name` (case, spaces and "RTX" ignored), or None."""
    key = _name_key(name)
    for preset in load_presets():
        if key in {_name_key(n) for n in _names_of(preset)}:
            return preset
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
                "three": 3, "four": 4, "quad": 4, "eight": 8}
_COUNT_BEFORE = re.compile(
    r"(?:(?<![0-9])([1-8])\s?(?:x|×|\*|張|片|塊|個|顆)|(兩|二|雙|三|四|八|dual|two|double|three|four|quad|eight)"
    r"\s?(?:張|片|塊|個|顆|x)?)\s?(?:nvidia\s?)?(?:geforce\s?)?(?:rtx\s?)?$",
    re.I,
)
_COUNT_AFTER = re.compile(r"^\s?(?:(?:x|×|\*)\s?([1-8])(?![0-9.])|([1-8])\s?張)", re.I)


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


# ---------------------------------------------------------------- the estimate


@dataclass(frozen=True)
class FitEstimate:
    """Whether one variant at one quantisation runs on a machine, where, and how fast.

    Sizes are decimal GB. `headroom_gb` is measured against the *usable* budget of the memory
    named (`usable_gb`, VRAM for a GPU), so it is negative when the weights spill into RAM.
    `fits` is True when the model runs at all (`placement` is not "does not fit");
    `tokens_per_s` is the calibrated generation speed and None when it does not fit;
    `ttft_s_1k` is an order-of-magnitude time to first token for a 1,000-token prompt.
    """

    model_id: str
    variant: str
    quant: str
    context_tokens: int
    memory_gb: float
    weights_gb: float
    kv_cache_gb: float
    overhead_gb: float
    required_gb: float
    fits: bool
    headroom_gb: float
    tokens_per_s: float | None
    kv_method: Literal["per-layer", "approximate"]
    assumptions: tuple[str, ...]
    memory_kind: MemoryKind
    usable_gb: float
    placement: Placement = "does not fit"
    placement_zh: str = "放不下"
    bandwidth_gb_s: float = 0.0
    hardware_name: str | None = None
    gpu_count: int = 1
    offload_fraction: float = 0.0
    offload_mode: str | None = None
    ceiling_tokens_per_s: float | None = None
    ttft_s_1k: float | None = None
    params_total_b: float = 0.0
    params_active_b: float = 0.0

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (assumptions as a list)."""
        data = asdict(self)
        data["assumptions"] = list(self.assumptions)
        return data


def estimate(
    variant_or_model: Variant | Model,
    memory_gb: float,
    quant: str = "Q4_K_M",
    context_tokens: int = 4096,
    bandwidth_gb_s: float | None = None,
    model_id: str = "",
    memory_kind: MemoryKind = "ram",
    usable_fraction: float | None = None,
    *,
    gpu_count: int = 1,
    hardware_name: str | None = None,
    ram_gb: float | None = None,
    ram_bandwidth_gb_s: float | None = None,
    speed_model: SpeedModel = FITTED,
) -> FitEstimate:
    """Estimate the memory one variant needs, where it runs, and its calibrated speed.

    Args:
        variant_or_model: a catalog `Variant`, or a `Model` (its headline size is used).
        memory_gb: the budget in decimal GB: system RAM, unified memory, or VRAM summed over
            `gpu_count` cards.
        quant: a `QUANT_BITS` name or alias; see `normalize_quant`.
        context_tokens: tokens the KV cache must hold (prompt plus reply).
        bandwidth_gb_s: memory bandwidth; defaults to the named hardware's, then by `memory_kind`.
        model_id: catalog id to record; defaults to the `Model`'s id when given one.
        memory_kind: "ram", "vram" or "unified".
        usable_fraction: override for `USABLE_FRACTION[memory_kind]`, in (0, 1].
        gpu_count: cards the VRAM budget is spread over (layer split), for the label and notes.
        hardware_name: a preset name ("RTX 4090", "M4"); supplies the bandwidth when not given.
        ram_gb: system RAM next to a GPU; lets a model too big for VRAM run with partial offload.
        ram_bandwidth_gb_s: that RAM's bandwidth (default `DEFAULT_BANDWIDTH_GB_S["ram"]`).
        speed_model: the calibrated constants (`FITTED`).

    Raises:
        ValueError: on a non-positive or non-finite budget or bandwidth, a negative context,
            an unknown quantisation, memory kind or hardware name.
    """
    quant = normalize_quant(quant)
    memory_gb = _positive_finite("memory_gb", memory_gb)
    context_tokens = _context("context_tokens", context_tokens)
    if memory_kind not in USABLE_FRACTION:
        raise ValueError(f"memory_kind must be one of {sorted(USABLE_FRACTION)}, got {memory_kind!r}")
    if usable_fraction is None:
        usable_fraction = USABLE_FRACTION[memory_kind]
    elif not (isinstance(usable_fraction, (int, float)) and 0 < usable_fraction <= 1):
        raise ValueError(f"usable_fraction must be in (0, 1], got {usable_fraction!r}")
    if isinstance(gpu_count, bool) or not isinstance(gpu_count, int) or not 1 <= gpu_count <= 16:
        raise ValueError(f"gpu_count must be a whole number from 1 to 16, got {gpu_count!r}")
    preset = None
    if hardware_name:
        preset = preset_named(hardware_name)
        if preset is None:
            raise ValueError(f"unknown hardware {hardware_name!r}; see knowledge/hardware.yaml")
    if bandwidth_gb_s is not None:
        bandwidth_gb_s = _positive_finite("bandwidth_gb_s", bandwidth_gb_s)
        bandwidth_note = "given"
    elif preset is not None:
        bandwidth_gb_s = preset.bandwidth_gbs
        bandwidth_note = f"{preset.name}, knowledge/hardware.yaml"
    else:
        bandwidth_gb_s = DEFAULT_BANDWIDTH_GB_S[memory_kind]
        bandwidth_note = f"default for {memory_kind}; hardware not named"
    if ram_gb is not None:
        ram_gb = _positive_finite("ram_gb", ram_gb)
    if ram_bandwidth_gb_s is not None:
        ram_bandwidth_gb_s = _positive_finite("ram_bandwidth_gb_s", ram_bandwidth_gb_s)

    if isinstance(variant_or_model, Model):
        model_id = model_id or variant_or_model.id
        variant = _headline_variant(variant_or_model)
    else:
        variant = variant_or_model
    bits = QUANT_BITS[quant]
    moe = variant.params_active_b is not None and variant.params_active_b < variant.params_total_b

    weights_gb = variant.params_total_b * bits / 8
    kv_cache_gb, kv_method, kv_note = _kv_cache_gb(variant, context_tokens)
    overhead_gb = OVERHEAD_FIXED_GB + OVERHEAD_FRACTION_OF_WEIGHTS * weights_gb
    required_gb = weights_gb + kv_cache_gb + overhead_gb
    usable_gb = memory_gb * usable_fraction
    backend: Backend = BACKEND_OF_KIND[memory_kind]

    offload_fraction = 0.0
    offload_mode: str | None = None
    notes: list[str] = []
    if required_gb <= usable_gb:
        placement: Placement = "CPU only" if memory_kind == "ram" else "full GPU offload"
    elif memory_kind == "vram" and ram_gb is not None:
        ram_usable = ram_gb * USABLE_FRACTION["ram"]
        spill = required_gb - usable_gb
        if spill <= ram_usable:
            placement = "partial offload"
            offload_fraction = min(1.0, spill / weights_gb)
            offload_mode = "experts in RAM (--n-cpu-moe)" if moe else "layers in RAM (-ngl)"
            ram_note = f"{ram_bandwidth_gb_s:g} GB/s given" if ram_bandwidth_gb_s else (
                f"{DEFAULT_BANDWIDTH_GB_S['ram']:g} GB/s default")
            notes.append(
                f"Partial offload: {spill:.1f} GB ({offload_fraction:.0%} of the weights) beyond usable VRAM "
                f"runs from system RAM ({ram_gb:g} GB, {ram_note}); "
                + ("attention stays on the GPU and experts move to RAM, as llama.cpp's --n-cpu-moe does"
                   if moe else "whole layers stay in RAM, as llama.cpp's -ngl does")
            )
        else:
            placement = "does not fit"
    else:
        placement = "does not fit"
    does_fit = placement != "does not fit"

    active_gb = variant.active_b * bits / 8
    ceiling = bandwidth_gb_s / active_gb
    tokens_per_s = ttft = None
    if does_fit:
        tokens_per_s = _two_significant(
            decode_tokens_per_s(active_gb, bandwidth_gb_s, backend, moe, speed_model, offload_fraction,
                                ram_bandwidth_gb_s)
        )
        pp = prompt_tokens_per_s(variant.active_b, bandwidth_gb_s, backend, speed_model)
        if pp and offload_fraction:
            pp_cpu = prompt_tokens_per_s(variant.active_b, ram_bandwidth_gb_s or DEFAULT_BANDWIDTH_GB_S["ram"],
                                         "cpu", speed_model)
            pp = 1 / ((1 - offload_fraction) / pp + offload_fraction / pp_cpu) if pp_cpu else pp
        if pp:
            ttft = _two_significant(TTFT_PROMPT_TOKENS / pp)

    where = {"vram": "VRAM" + (f" over {gpu_count} GPUs" if gpu_count > 1 else ""), "unified": "unified memory",
             "ram": "RAM"}[memory_kind]
    eff = speed_model.efficiency(backend, moe)
    assumptions = [
        f"Weights: {variant.params_total_b:g}B total parameters x {bits:g} bits/weight ({quant}) "
        f"= {weights_gb:.2f} GB (decimal GB)"
        + ("; every expert of a mixture-of-experts model must be in memory" if moe else ""),
        kv_note,
        f"Overhead: {OVERHEAD_FIXED_GB:g} GB + {OVERHEAD_FRACTION_OF_WEIGHTS:.0%} of weights "
        "for runtime and compute buffers",
        f"Fits when required <= {usable_fraction:.0%} of {memory_gb:g} GB {where} "
        f"= {usable_gb:.2f} GB ({_usable_reason(memory_kind)})",
        *notes,
        f"Placement: {placement}",
        f"Bandwidth: {bandwidth_gb_s:g} GB/s ({bandwidth_note})",
    ]
    if gpu_count > 1:
        assumptions.append(
            f"{gpu_count} GPUs: memory adds up; layers are split across the cards and run one after another, "
            "so speed is that of one card reading all the weights"
        )
    if does_fit:
        assumptions.append(
            f"Speed: calibrated against published llama.cpp runs (knowledge/benchmarks.yaml): "
            f"{speed_model.overhead_s(backend) * 1000:g} ms "
            f"per token + {variant.active_b:g}B active x {bits:g} bits ({active_gb:.2f} GB) at "
            f"{eff:.0%} of {bandwidth_gb_s:g} GB/s"
            + (" (mixture-of-experts factor included)" if moe else "")
            + f"; the bare bandwidth ceiling would be {_two_significant(ceiling):g} tok/s"
        )
        if ttft is not None:
            assumptions.append(
                f"Time to first token for a {TTFT_PROMPT_TOKENS:,}-token prompt: ~{ttft:g} s "
                "(order of magnitude only; prompt processing is compute bound)"
            )
    else:
        assumptions.append("Speed: not given because the model does not fit")
    return FitEstimate(
        model_id=model_id,
        variant=variant.name,
        quant=quant,
        context_tokens=context_tokens,
        memory_gb=memory_gb,
        weights_gb=weights_gb,
        kv_cache_gb=kv_cache_gb,
        overhead_gb=overhead_gb,
        required_gb=required_gb,
        fits=does_fit,
        headroom_gb=usable_gb - required_gb,
        tokens_per_s=tokens_per_s,
        kv_method=kv_method,
        assumptions=tuple(assumptions),
        memory_kind=memory_kind,
        usable_gb=usable_gb,
        placement=placement,
        placement_zh=PLACEMENT_ZH[placement],
        bandwidth_gb_s=bandwidth_gb_s,
        hardware_name=preset.name if preset else None,
        gpu_count=gpu_count,
        offload_fraction=round(offload_fraction, 3),
        offload_mode=offload_mode,
        ceiling_tokens_per_s=_two_significant(ceiling),
        ttft_s_1k=ttft,
        params_total_b=variant.params_total_b,
        params_active_b=variant.active_b,
    )


def best_variant(
    model: Model,
    memory_gb: float,
    quant: str = "Q4_K_M",
    context_tokens: int = 4096,
    memory_kind: MemoryKind = "ram",
    **hardware: object,
) -> FitEstimate | None:
    """The largest variant (by total parameters) of `model` that fits, or None.

    `hardware` passes `gpu_count`, `hardware_name`, `bandwidth_gb_s`, `ram_gb` and
    `ram_bandwidth_gb_s` on to `estimate`. A variant that fits without offload beats a larger one
    that needs it.
    """
    fitting = [
        e
        for e in (
            estimate(v, memory_gb, quant, context_tokens, model_id=model.id, memory_kind=memory_kind,
                     **hardware)  # type: ignore[arg-type]
            for v in model.sizes
        )
        if e.fits
    ]
    if not fitting:
        return None
    return max(fitting, key=lambda e: (e.placement != "partial offload", e.weights_gb))


def fits(
    model: Model,
    memory_gb: float,
    quant: str = "Q4_K_M",
    context: int = 4096,
    memory_kind: MemoryKind = "ram",
    **hardware: object,
) -> bool:
    """True when any variant of `model` fits `memory_gb` at `quant`."""
    return best_variant(model, memory_gb, quant, context, memory_kind, **hardware) is not None


def fits_any_quant(
    model: Model,
    memory_gb: float,
    context: int = 4096,
    memory_kind: MemoryKind = "ram",
    **hardware: object,
) -> FitEstimate | None:
    """The best fit over `QUALITY_ORDER` (Q8_0, Q5_K_M, Q4_K_M), or None.

    For a single-size model this is simply the highest-quality quantisation that
    fits. Across sizes, a larger variant wins over a smaller one at a higher
    precision: a 14B model at 4-bit generally beats an 8B at 8-bit. Between
    equal sizes, the earlier (higher-quality) quantisation wins. A fit without offload
    beats one that needs partial offload.
    """
    best: FitEstimate | None = None
    for quant in QUALITY_ORDER:
        candidate = best_variant(model, memory_gb, quant, context, memory_kind, **hardware)
        if candidate is None:
            continue
        if best is None or _rank(candidate) > _rank(best):
            best = candidate
    return best


def _rank(fit: FitEstimate) -> tuple[bool, float]:
    # Rounded: weights / bits * bits must not make one quant's variant "larger" by 1e-15.
    return (fit.placement != "partial offload", round(_params_b(fit), 6))


def _params_b(fit: FitEstimate) -> float:
    """Total parameters (billions) of the variant behind `fit`, recovered from its weights."""
    return fit.weights_gb * 8 / QUANT_BITS[fit.quant]


def _headline_variant(model: Model) -> Variant:
    same_size = [v for v in model.sizes if v.params_total_b == model.params_total_b]
    if same_size:
        return same_size[-1]
    return Variant(
        name=model.name, params_total_b=model.params_total_b, params_active_b=model.params_active_b
    )


def _kv_cache_gb(
    variant: Variant, context_tokens: int
) -> tuple[float, Literal["per-layer", "approximate"], str]:
    if variant.n_layers and variant.n_kv_heads and variant.head_dim:
        bytes_per_token = 2 * variant.n_layers * variant.n_kv_heads * variant.head_dim * KV_BYTES_PER_ELEMENT
        gb = bytes_per_token * context_tokens / 1e9
        note = (
            f"KV cache (per-layer): 2 x {variant.n_layers} layers x {variant.n_kv_heads} KV heads x "
            f"{variant.head_dim} dims x {context_tokens} tokens x 2 bytes (F16) = {gb:.2f} GB"
        )
        return gb, "per-layer", note
    bytes_per_token = KV_BYTES_PER_TOKEN_PER_8B_ACTIVE * variant.active_b / 8
    gb = bytes_per_token * context_tokens / 1e9
    note = (
        f"KV cache (approximate, layer shape unknown): scaled from Llama-3-8B with GQA "
        f"(0.125 MiB/token at F16) by {variant.active_b:g}B active parameters, "
        f"{context_tokens} tokens = {gb:.2f} GB"
    )
    return gb, "approximate", note


def _usable_reason(memory_kind: str) -> str:
    return {
        "ram": "the OS and other programs need the rest",
        "vram": "display, driver and CUDA context take some",
        "unified": "macOS caps GPU use of unified memory",
    }[memory_kind]


def _positive_finite(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be greater than 0, got {value!r}")
    return float(value)


def _context(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a whole number of tokens, got {value!r}")
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value) or not value.is_integer()):
        raise ValueError(f"{name} must be a whole number of tokens, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value!r}")
    return int(value)


def _two_significant(value: float) -> float:
    if value <= 0 or not math.isfinite(value):
        return value
    digits = 1 - int(math.floor(math.log10(value)))
    return round(value, digits)


# ---------------------------------------------------------------- devices

GPU_MEMORY_GB: dict[str, float] = {
    "5090": 32,
    "5080": 16,
    "4090": 24,
    "4080": 16,
    "4070 ti super": 16,
    "4070 ti": 12,
    "4070": 12,
    "4060 ti": 8,  # also sold with 16 GB; "4060 Ti 16GB" in the text wins
    "4060": 8,
    "3090": 24,
    "3080": 10,  # also 12 GB; an explicit size in the text wins
    "3070": 8,
    "3060": 12,  # also 8 GB
    "a100": 80,  # also 40 GB
    "h100": 80,
    "h200": 141,
    "l40s": 48,
    "a6000": 48,
    "l4": 24,
    "t4": 16,
}
"""Memory of common GPUs in GB, as marketed (the usual or largest edition)."""

_SIZE_AFTER_NAME = re.compile(r"\s*[-(]?\s*(\d{1,3}(?:\.\d+)?)\s*(?:g|gb|gib|gig)\b", re.I)


def _gpu_pattern(key: str) -> re.Pattern[str]:
    body = r"\s*".join(re.escape(part) for part in key.split())
    # A leading digit may follow letters ("RTX4090"); a leading letter may not ("gpt4" is no T4).
    left = r"(?<!\d)" if key[0].isdigit() else r"(?<![a-z0-9])"
    return re.compile(left + body + r"(?![a-z0-9])", re.I)


_GPU_PATTERNS = [(key, _gpu_pattern(key)) for key in sorted(GPU_MEMORY_GB, key=len, reverse=True)]


def gpu_memory_gb(text: str) -> float | None:
    """Memory in GB of the first known GPU named in free text, or None.

    "RTX 4090", "rtx4090", "4090" all give 24. A size written right after the name
    ("3060 12G", "A100 40GB") overrides the table, since several cards ship in
    more than one size. Longer names win ("4070 Ti" over "4070").
    """
    if not text:
        return None
    found: list[tuple[int, int, str, int]] = []
    for key, pattern in _GPU_PATTERNS:
        for match in pattern.finditer(text):
            found.append((match.start(), -len(key), key, match.end()))
    if not found:
        return None
    _, _, key, end = min(found)
    explicit = _SIZE_AFTER_NAME.match(text, end)
    if explicit:
        return float(explicit.group(1))
    return float(GPU_MEMORY_GB[key])


def detect_machine() -> dict[str, object]:
    """Total RAM and NVIDIA VRAM of this machine, in decimal GB; never raises.

    Returns:
        {"ram_gb": float | None, "vram_gb": float | None (sum over GPUs),
         "gpus_vram_gb": list[float], "ram_source": "psutil" | "sysconf" | None}.
    """
    ram_gb, ram_source = _total_ram_gb()
    gpus = _nvidia_vram_gb()
    return {
        "ram_gb": ram_gb,
        "ram_source": ram_source,
        "vram_gb": round(sum(gpus), 2) if gpus else None,
        "gpus_vram_gb": gpus,
    }


def _total_ram_gb() -> tuple[float | None, str | None]:
    try:
        import psutil  # optional; imported here so `import assistant` stays light

        return round(psutil.virtual_memory().total / 1e9, 2), "psutil"
    except Exception:  # ImportError, or a sandbox that hides /proc
        pass
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        if total > 0:
            return round(total / 1e9, 2), "sysconf"
    except (AttributeError, ValueError, OSError):  # Windows has no sysconf
        pass
    return None, None


def _nvidia_vram_gb(timeout_s: float = 5.0) -> list[float]:
    exe = shutil.which("nvidia-smi")
    if not exe:
        return []
    try:
        result = subprocess.run(
            [exe, "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    if result.returncode != 0:
        return []
    sizes = []
    for line in result.stdout.splitlines():
        try:
            mib = float(line.strip())
        except ValueError:
            continue
        if mib > 0:
            sizes.append(round(mib * 1024 * 1024 / 1e9, 2))  # nvidia-smi reports MiB
    return sizes
