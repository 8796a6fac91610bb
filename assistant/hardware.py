"""Will this model run on this machine? Memory fit and a rough decode speed.

Everything here is plain arithmetic over the catalog's `Variant` numbers, so the
answer is explainable: every `FitEstimate` carries the assumptions it rests on.

Units
-----
All sizes are **decimal gigabytes** (1 GB = 10**9 bytes), the unit in which model
parameters are counted (8B = 8e9 parameters). A budget such as "16 GB" is read the
same way; machines sold as "16 GB" usually hold 16 GiB = 17.2e9 bytes, so reading
the budget as decimal GB leaves a silent ~7 % margin on the safe side.

The estimate
------------
``required_gb = weights_gb + kv_cache_gb + overhead_gb``

* **weights_gb** = ``params_total_b * 1e9 * bits_per_weight / 8 / 1e9``. Bits per
  weight are the effective averages of llama.cpp GGUF quantisations, scales and
  mixed-precision tensors included (`QUANT_BITS`). For a mixture-of-experts model
  *all* experts must be resident, so the **total** parameter count is used; only
  the speed estimate uses the active parameters.
* **kv_cache_gb**, F16 cache (2 bytes per element), K and V:
  ``2 * n_layers * n_kv_heads * head_dim * context_tokens * 2 / 1e9`` when the
  variant states its shape ("per-layer" method). Otherwise an "approximate" method
  scales a reference model by active parameters: Llama-3-8B with grouped-query
  attention stores ``2 * 32 * 8 * 128 * 2 = 131072`` bytes (0.125 MiB) per token,
  so we assume ``131072 * params_active_b / 8`` bytes per token. Models with
  sliding-window or linear attention need less; models without GQA need more.
* **overhead_gb** = ``0.5 + 5 % of weights_gb``: compute-graph scratch buffers,
  the runtime itself and CUDA/Metal context. The 5 % grows with model width
  (larger activations); the 0.5 GB floor covers the fixed cost.

A model *fits* when ``required_gb <= memory_gb * usable_fraction``. The usable
fraction depends on the memory kind (`USABLE_FRACTION`): system RAM must also
hold the OS, browser and desktop; dedicated VRAM loses some to the display and
driver; Apple unified memory is capped by macOS for GPU use.

Decode speed
------------
Token generation is memory-bandwidth bound: each new token reads every *active*
weight once. So ``tokens_per_s ≈ bandwidth_gb_s / (params_active_b * bits / 8)``,
rounded to two significant figures. This is a ceiling; real runs reach perhaps
50-80 % of it, and long contexts add KV-cache reads. Treat it as an order of
magnitude, which is what users need to tell "chat speed" from "go make coffee".
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from typing import Literal

from assistant.knowledge import Model, Variant

MemoryKind = Literal["ram", "vram", "unified"]

QUANT_BITS: dict[str, float] = {
    "Q4_K_M": 4.85,
    "Q5_K_M": 5.7,
    "Q8_0": 8.5,
    "F16": 16.0,
}
"""Effective bits per weight of common GGUF formats (llama.cpp's published averages)."""

QUANT_ALIASES: dict[str, str] = {
    "q4": "Q4_K_M",
    "q4_k": "Q4_K_M",
    "q4km": "Q4_K_M",
    "int4": "Q4_K_M",
    "4bit": "Q4_K_M",
    "q5": "Q5_K_M",
    "q5_k": "Q5_K_M",
    "q5km": "Q5_K_M",
    "q8": "Q8_0",
    "int8": "Q8_0",
    "8bit": "Q8_0",
    "f16": "F16",
    "fp16": "F16",
    "bf16": "F16",
    "16bit": "F16",
}

QUALITY_ORDER: tuple[str, ...] = ("Q8_0", "Q5_K_M", "Q4_K_M")
"""Quantisations `fits_any_quant` tries, best quality first. F16 is left out: it
costs twice Q8_0's memory for a difference users rarely notice."""

USABLE_FRACTION: dict[str, float] = {
    # The OS, a browser and the desktop commonly take a quarter of a laptop's RAM.
    "ram": 0.75,
    # Display output, driver and CUDA context take a few hundred MB to ~1.5 GB.
    "vram": 0.85,
    # macOS lets the GPU wire roughly 65-75 % of unified memory by default.
    "unified": 0.70,
}

DEFAULT_BANDWIDTH_GB_S: dict[str, float] = {
    # Dual-channel DDR5-4800/5600 in a laptop or desktop: ~60-90 GB/s in theory.
    "ram": 60.0,
    # Mid-to-high consumer GPUs: RTX 3090 936 GB/s, RTX 4090 1008, RTX 4070 504.
    "vram": 900.0,
    # Apple M-series Pro class: M3 Pro 150, M4 Pro 273, Max chips 400-546.
    "unified": 200.0,
}

KV_BYTES_PER_TOKEN_PER_8B_ACTIVE = 2 * 32 * 8 * 128 * 2
"""131072 bytes: Llama-3-8B (32 layers, 8 KV heads of dim 128) with an F16 cache."""

KV_BYTES_PER_ELEMENT = 2  # F16 cache, llama.cpp's default
OVERHEAD_FIXED_GB = 0.5
OVERHEAD_FRACTION_OF_WEIGHTS = 0.05

_KEY_NORMALISER = re.compile(r"[\s\-.]+")


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


@dataclass(frozen=True)
class FitEstimate:
    """Whether one variant at one quantisation fits a memory budget, and why.

    Sizes are decimal GB. `headroom_gb` is measured against the *usable* budget
    (`usable_gb`), so it is negative exactly when `fits` is False. `tokens_per_s`
    is None when the model does not fit, since a speed for a run that cannot
    happen would mislead.
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
) -> FitEstimate:
    """Estimate the memory one variant needs and whether it fits `memory_gb`.

    Args:
        variant_or_model: a catalog `Variant`, or a `Model` (its headline size is
            used, taking the shape of the variant of the same size when there is one).
        memory_gb: the budget in decimal GB (RAM, VRAM or unified memory).
        quant: a `QUANT_BITS` name or alias; see `normalize_quant`.
        context_tokens: tokens the KV cache must hold (prompt plus reply).
        bandwidth_gb_s: memory bandwidth for the speed estimate; defaults by
            `memory_kind` from `DEFAULT_BANDWIDTH_GB_S`.
        model_id: catalog id to record; defaults to the `Model`'s id when given one.
        memory_kind: "ram", "vram" or "unified"; picks the usable fraction and
            the default bandwidth.
        usable_fraction: override for `USABLE_FRACTION[memory_kind]`, in (0, 1].

    Returns:
        A `FitEstimate` with the breakdown and the assumptions behind it.

    Raises:
        ValueError: on a non-positive or non-finite budget or bandwidth, a
            negative context, an unknown quantisation or memory kind.
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
    if bandwidth_gb_s is None:
        bandwidth_gb_s = DEFAULT_BANDWIDTH_GB_S[memory_kind]
        bandwidth_note = f"default for {memory_kind}"
    else:
        bandwidth_gb_s = _positive_finite("bandwidth_gb_s", bandwidth_gb_s)
        bandwidth_note = "given"

    if isinstance(variant_or_model, Model):
        model_id = model_id or variant_or_model.id
        variant = _headline_variant(variant_or_model)
    else:
        variant = variant_or_model
    bits = QUANT_BITS[quant]

    weights_gb = variant.params_total_b * 1e9 * bits / 8 / 1e9
    kv_cache_gb, kv_method, kv_note = _kv_cache_gb(variant, context_tokens)
    overhead_gb = OVERHEAD_FIXED_GB + OVERHEAD_FRACTION_OF_WEIGHTS * weights_gb
    required_gb = weights_gb + kv_cache_gb + overhead_gb
    usable_gb = memory_gb * usable_fraction
    does_fit = required_gb <= usable_gb

    active_gb = variant.active_b * 1e9 * bits / 8 / 1e9
    tokens_per_s = _two_significant(bandwidth_gb_s / active_gb) if does_fit else None

    assumptions = (
        f"Weights: {variant.params_total_b:g}B total parameters x {bits:g} bits/weight ({quant}) "
        f"= {weights_gb:.2f} GB (decimal GB)"
        + (
            "; every expert of a mixture-of-experts model must be in memory"
            if variant.params_active_b
            else ""
        ),
        kv_note,
        f"Overhead: {OVERHEAD_FIXED_GB:g} GB + {OVERHEAD_FRACTION_OF_WEIGHTS:.0%} of weights "
        "for runtime and compute buffers",
        f"Fits when required <= {usable_fraction:.0%} of {memory_gb:g} GB {memory_kind} "
        f"= {usable_gb:.2f} GB ({_usable_reason(memory_kind)})",
        f"Speed: memory-bandwidth bound decode, {bandwidth_gb_s:g} GB/s ({bandwidth_note}) / "
        f"{variant.active_b:g}B active parameters at {bits:g} bits; a ceiling, order of magnitude only"
        + ("" if does_fit else "; not given because the model does not fit"),
    )
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
        assumptions=assumptions,
        memory_kind=memory_kind,
        usable_gb=usable_gb,
    )


def best_variant(
    model: Model,
    memory_gb: float,
    quant: str = "Q4_K_M",
    context_tokens: int = 4096,
    memory_kind: MemoryKind = "ram",
) -> FitEstimate | None:
    """The largest variant (by total parameters) of `model` that fits, or None."""
    fitting = [
        e
        for e in (
            estimate(v, memory_gb, quant, context_tokens, model_id=model.id, memory_kind=memory_kind)
            for v in model.sizes
        )
        if e.fits
    ]
    if not fitting:
        return None
    return max(fitting, key=lambda e: e.weights_gb)


def fits(
    model: Model,
    memory_gb: float,
    quant: str = "Q4_K_M",
    context: int = 4096,
    memory_kind: MemoryKind = "ram",
) -> bool:
    """True when any variant of `model` fits `memory_gb` at `quant`."""
    return best_variant(model, memory_gb, quant, context, memory_kind) is not None


def fits_any_quant(
    model: Model,
    memory_gb: float,
    context: int = 4096,
    memory_kind: MemoryKind = "ram",
) -> FitEstimate | None:
    """The best fit over `QUALITY_ORDER` (Q8_0, Q5_K_M, Q4_K_M), or None.

    For a single-size model this is simply the highest-quality quantisation that
    fits. Across sizes, a larger variant wins over a smaller one at a higher
    precision: a 14B model at 4-bit generally beats an 8B at 8-bit. Between
    equal sizes, the earlier (higher-quality) quantisation wins.
    """
    best: FitEstimate | None = None
    for quant in QUALITY_ORDER:
        candidate = best_variant(model, memory_gb, quant, context, memory_kind)
        if candidate is None:
            continue
        if best is None or _params_b(candidate) > _params_b(best):
            best = candidate
    return best


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
