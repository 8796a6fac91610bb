"""The previous `estimate()` API (cards, compare tab, hardware chart, selection), kept working.

It uses the new memory model (per-tensor weights, layer-shape KV cache, measured compute buffer) and
the new speed model, but keeps its old budget contract: fit is judged against a fixed fraction of the
memory (`USABLE_FRACTION`) with the old placement labels, because the hardware chart draws that line.
New code should call `estimate_fit`, whose budgets follow what drivers and operating systems allow.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

from .fit import VariantFacts, facts_of
from .memory import budget_for, kv_cache_gb, overhead_gb
from .presets import MemoryKind, preset_named
from .quant import (
    QUALITY_ORDER,
    QUANT_BITS,
    active_weights_gb,
    normalize_quant,
    tensor_groups_for,
    weights_gb,
)
from .speed import (
    DEFAULT_BANDWIDTH_GB_S,
    FITTED,
    SpeedModel,
    decode_seconds,
    estimated_layers,
    prompt_tokens_per_s,
)

Placement = Literal["full GPU offload", "partial offload", "CPU only", "does not fit"]

USABLE_FRACTION: dict[str, float] = {"ram": 0.75, "vram": 0.90, "unified": 0.70}
"""Legacy fixed budgets (RAM 75 %, VRAM 90 %, unified 70 %) of `estimate`; `estimate_fit` uses
`memory.budget_for` instead."""

BACKEND_OF_KIND: dict[str, str] = {"vram": "gpu", "unified": "metal", "ram": "cpu"}
PLACEMENT_ZH: dict[str, str] = {
    "full GPU offload": "完全載入 GPU",
    "partial offload": "部分卸載到系統記憶體",
    "CPU only": "只用 CPU",
    "does not fit": "放不下",
}
TTFT_PROMPT_TOKENS = 1000


@dataclass(frozen=True)
class FitEstimate:
    """Whether one variant at one quantisation runs on a machine, where, and how fast (legacy shape)."""

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
        data = asdict(self)
        data["assumptions"] = list(self.assumptions)
        return data


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


def estimate(
    variant_or_model: object,
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
    """Memory one variant needs, where it runs against a fixed share of `memory_gb`, and its speed.

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

    sizes = getattr(variant_or_model, "sizes", None)
    if sizes is not None:
        model_id = model_id or getattr(variant_or_model, "id", "")
    f: VariantFacts = facts_of(variant_or_model)
    groups = tensor_groups_for(f.name, f.weights_format)
    weights = weights_gb(f.params_total_b, quant, groups)
    kv, kv_method = kv_cache_gb(f.n_layers, f.n_kv_heads, f.head_dim, context_tokens, f.active_b, groups)
    overhead = overhead_gb()
    required = weights + kv + overhead
    usable = memory_gb * usable_fraction
    speed_class = preset.speed_class if preset else {"vram": "nvidia", "unified": "apple", "ram": "cpu"}[memory_kind]

    offload_fraction = 0.0
    offload_mode: str | None = None
    notes: list[str] = []
    if required <= usable:
        placement: Placement = "CPU only" if memory_kind == "ram" else "full GPU offload"
    elif memory_kind == "vram" and ram_gb is not None and required - usable <= budget_for("cpu", ram_gb).tight_gb:
        spill = required - usable
        placement = "partial offload"
        offload_fraction = min(1.0, spill / weights)
        offload_mode = "experts in RAM (--n-cpu-moe)" if f.moe else "layers in RAM (-ngl)"
        notes.append(f"Partial offload: {spill:.1f} GB ({offload_fraction:.0%} of the weights) beyond usable VRAM "
                     f"runs from system RAM ({ram_gb:g} GB): {offload_mode}")
    else:
        placement = "does not fit"
    does_fit = placement != "does not fit"

    active = active_weights_gb(f.active_b, f.params_total_b, quant, groups)
    layers = f.n_layers or estimated_layers(f.params_total_b)
    ceiling = bandwidth_gb_s / active
    tokens_per_s = ttft = None
    if does_fit:
        ram_fraction = offload_fraction * (0.75 if f.moe else 1.0)
        seconds = decode_seconds(active, layers, bandwidth_gb_s, speed_class, f.moe, speed_model, gpus=gpu_count,
                                 ram_fraction=ram_fraction, ram_bandwidth_gb_s=ram_bandwidth_gb_s)
        tokens_per_s = _two_significant(1 / seconds)
        pp = prompt_tokens_per_s(f.active_b, bandwidth_gb_s, speed_class, speed_model)
        if pp:
            ttft = _two_significant(TTFT_PROMPT_TOKENS / pp)
    where = {"vram": "VRAM" + (f" over {gpu_count} GPUs" if gpu_count > 1 else ""), "unified": "unified memory",
             "ram": "RAM"}[memory_kind]
    assumptions = [
        f"Weights: {f.params_total_b:g}B total parameters at {quant} = {weights:.2f} GB (decimal GB; output matrix "
        "at Q6_K, gpt-oss experts at MXFP4)" + ("; every expert of a mixture-of-experts model must be in memory" if f.moe else ""),
        (f"KV cache (per-layer): 2 x {f.n_layers} layers x {f.n_kv_heads} KV heads x {f.head_dim} dims x "
         f"{context_tokens} tokens x 2 bytes (F16) = {kv:.2f} GB") if kv_method == "per-layer" else
        (f"KV cache (approximate, layer shape unknown): scaled from Llama-3-8B by {f.active_b:g}B active parameters, "
         f"{context_tokens} tokens = {kv:.2f} GB"),
        f"Overhead: {overhead:.2f} GB llama.cpp compute buffer",
        f"Fits when required <= {usable_fraction:.0%} of {memory_gb:g} GB {where} = {usable:.2f} GB",
        *notes,
        f"Placement: {placement}",
        f"Bandwidth: {bandwidth_gb_s:g} GB/s ({bandwidth_note})",
    ]
    if gpu_count > 1:
        assumptions.append(f"{gpu_count} GPUs: memory adds up; layers are split across the cards and run one after "
                           "another, so speed is that of one card reading all the weights")
    if does_fit:
        assumptions.append(f"Speed: calibrated against published llama.cpp runs (knowledge/benchmarks.yaml): {layers} "
                           f"layers x {speed_model.layer_s(speed_class) * 1e6:.0f} us + {active:.2f} GB at "
                           f"{speed_model.efficiency(speed_class, f.moe):.0%} of {bandwidth_gb_s:g} GB/s; the bare "
                           f"bandwidth ceiling would be {_two_significant(ceiling):g} tok/s")
        if ttft is not None:
            assumptions.append(f"Time to first token for a {TTFT_PROMPT_TOKENS:,}-token prompt: ~{ttft:g} s "
                               "(order of magnitude only; prompt processing is compute bound)")
    else:
        assumptions.append("Speed: not given because the model does not fit")
    return FitEstimate(
        model_id=model_id, variant=f.name, quant=quant, context_tokens=context_tokens, memory_gb=memory_gb,
        weights_gb=weights, kv_cache_gb=kv, overhead_gb=overhead, required_gb=required, fits=does_fit,
        headroom_gb=usable - required, tokens_per_s=tokens_per_s, kv_method=kv_method,  # type: ignore[arg-type]
        assumptions=tuple(assumptions), memory_kind=memory_kind, usable_gb=usable, placement=placement,
        placement_zh=PLACEMENT_ZH[placement], bandwidth_gb_s=bandwidth_gb_s,
        hardware_name=preset.name if preset else None, gpu_count=gpu_count, offload_fraction=round(offload_fraction, 3),
        offload_mode=offload_mode, ceiling_tokens_per_s=_two_significant(ceiling), ttft_s_1k=ttft,
        params_total_b=f.params_total_b, params_active_b=f.active_b,
    )


def best_variant(model, memory_gb: float, quant: str = "Q4_K_M", context_tokens: int = 4096,
                 memory_kind: MemoryKind = "ram", **hardware: object) -> FitEstimate | None:
    """The largest variant (by total parameters) of `model` that fits, or None (no offload beats offload)."""
    fitting = [
        e for e in (estimate(v, memory_gb, quant, context_tokens, model_id=model.id, memory_kind=memory_kind,
                             **hardware) for v in model.sizes)  # type: ignore[arg-type]
        if e.fits
    ]
    if not fitting:
        return None
    return max(fitting, key=lambda e: (e.placement != "partial offload", e.weights_gb))


def fits(model, memory_gb: float, quant: str = "Q4_K_M", context: int = 4096, memory_kind: MemoryKind = "ram",
         **hardware: object) -> bool:
    """True when any variant of `model` fits `memory_gb` at `quant`."""
    return best_variant(model, memory_gb, quant, context, memory_kind, **hardware) is not None


def fits_any_quant(model, memory_gb: float, context: int = 4096, memory_kind: MemoryKind = "ram",
                   **hardware: object) -> FitEstimate | None:
    """The best fit over `QUALITY_ORDER` (Q8_0, Q5_K_M, Q4_K_M): a larger variant beats more bits; between
    equal sizes the higher-quality quantisation wins; a fit without offload beats one with it."""
    best: FitEstimate | None = None
    for quant in QUALITY_ORDER:
        candidate = best_variant(model, memory_gb, quant, context, memory_kind, **hardware)
        if candidate is None:
            continue
        if best is None or _rank(candidate) > _rank(best):
            best = candidate
    return best


def _rank(fit: FitEstimate) -> tuple[bool, float]:
    return (fit.placement != "partial offload", round(fit.params_total_b, 6))


__all__ = ["BACKEND_OF_KIND", "PLACEMENT_ZH", "QUANT_BITS", "USABLE_FRACTION", "FitEstimate", "best_variant",
           "estimate", "fits", "fits_any_quant"]
