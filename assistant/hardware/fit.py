"""「跑得動嗎」: where a model runs on a machine, as people meet it, and how fast.

`estimate_fit(variant, hardware, quant, context_tokens) -> FitResult` is the structured answer:

* ``placement``: fits | tight | os_limit | partial_offload | expert_offload | no_fit
* memory: ``weights_gb`` (per tensor group), ``kv_cache_gb`` (layer shape at the stated context, else 4K),
  ``overhead_gb`` (llama.cpp's compute buffer), ``required_gb``
* ``budget``: the usable memory and the rule that set it (`memory.BUDGET_RULES`), the raised limit and
  the command that raises it (macOS ``sudo sysctl iogpu.wired_limit_mb=...``)
* ``tokens_per_s`` with ``speed_basis`` (the fitted class constants it used), ``gpu_share`` for offload
* ``lower_quant`` when a smaller file fits where this one does not, with its perplexity caveat
* ``max_context_tokens``: the longest context that still fits the tight budget
* ``assumptions``: `Assumption(id, slots)` records, not prose; answers render text from templates
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .memory import DEFAULT_CONTEXT, Budget, budget_for, kv_cache_gb, overhead_gb
from .presets import HardwareMatch, Preset, find_hardware, preset_named
from .quant import (
    LOWER_QUANTS,
    PERPLEXITY_DELTA,
    QUANT_BITS,
    TensorGroups,
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

FitPlacement = Literal["fits", "tight", "os_limit", "partial_offload", "expert_offload", "no_fit"]
RUNS = ("fits", "tight", "os_limit", "partial_offload", "expert_offload")
ROUTED_SHARE_OF_ACTIVE = 0.75
"""Share of a MoE model's per-token bytes that sit in routed experts (attention, shared experts and the
output matrix stay on the GPU under --n-cpu-moe); used only to split an expert offload."""


@dataclass(frozen=True)
class Assumption:
    """One rule an answer rests on: an id the answer templates know, and the numbers to fill in."""

    id: str
    slots: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Machine:
    """The hardware an estimate is for. Memory is as sold (binary GB), per card for discrete GPUs."""

    memory_gb: float
    kind: Literal["ram", "vram", "unified"]
    bandwidth_gbs: float
    count: int = 1
    platform: str = ""
    speed_class: str = ""
    name: str | None = None
    ram_gb: float | None = None
    ram_bandwidth_gbs: float | None = None

    def __post_init__(self) -> None:
        if not self.platform:
            object.__setattr__(self, "platform", {"vram": "discrete", "ram": "cpu", "unified": "macos"}[self.kind])
        if not self.speed_class:
            object.__setattr__(self, "speed_class", {"vram": "nvidia", "ram": "cpu", "unified": "apple"}[self.kind])


def machine_from(hardware: Machine | Preset | HardwareMatch | str, *, count: int | None = None,
                 ram_gb: float | None = None, ram_bandwidth_gbs: float | None = None) -> Machine:
    """A `Machine` from a preset, a text match, or a name such as "M3 Max 64GB" or "兩張 4090"."""
    if isinstance(hardware, Machine):
        return hardware
    cards = 1
    if isinstance(hardware, str):
        preset = preset_named(hardware)
        if preset is None:
            match = find_hardware(hardware)
            if match is None:
                raise ValueError(f"unknown hardware {hardware!r}; see knowledge/hardware.yaml")
            hardware = match
        else:
            hardware = preset
    if isinstance(hardware, HardwareMatch):
        cards = hardware.count
        hardware = hardware.variant
    p: Preset = hardware
    return Machine(p.memory_gb, p.memory_kind, p.bandwidth_gbs, count or cards, p.platform, p.speed_class, p.name,
                   ram_gb, ram_bandwidth_gbs)


@dataclass(frozen=True)
class LowerQuant:
    quant: str
    required_gb: float
    placement: str
    perplexity_delta: float | None
    caveat: str  # "small_loss" (< 10 % perplexity), "noticeable_loss" (< 35 %), "large_loss"


@dataclass(frozen=True)
class FitResult:
    model_id: str
    variant: str
    quant: str
    context_tokens: int
    context_stated: bool
    placement: FitPlacement
    weights_gb: float
    kv_cache_gb: float
    overhead_gb: float
    required_gb: float
    kv_method: str
    budget: Budget
    headroom_gb: float
    tokens_per_s: float | None
    speed_basis: dict[str, Any]
    gpu_share: float | None
    offload_mode: str | None
    lower_quant: LowerQuant | None
    max_context_tokens: int | None
    assumptions: tuple[Assumption, ...]
    hardware_name: str | None
    memory_gb: float
    memory_kind: str
    gpu_count: int
    bandwidth_gb_s: float
    ceiling_tokens_per_s: float | None = None
    ttft_s_1k: float | None = None
    offload_needs_ram_gb: float | None = None

    @property
    def runs(self) -> bool:
        return self.placement in RUNS

    @property
    def usable_gb(self) -> float:
        return self.budget.tight_gb

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["runs"] = self.runs
        data["assumptions"] = [{"id": a.id, "slots": a.slots} for a in self.assumptions]
        data["budget"]["slots"] = dict(self.budget.slots)
        return data


@dataclass(frozen=True)
class VariantFacts:
    name: str
    params_total_b: float
    params_active_b: float | None = None
    n_layers: int | None = None
    n_kv_heads: int | None = None
    head_dim: int | None = None
    weights_format: str | None = None
    context_max: int | None = None

    @property
    def active_b(self) -> float:
        return self.params_active_b or self.params_total_b

    @property
    def moe(self) -> bool:
        return self.params_active_b is not None and self.params_active_b < self.params_total_b


def facts_of(variant: Any) -> VariantFacts:
    """`VariantFacts` from a catalog Variant or Model (its headline size), a dict, or VariantFacts."""
    if isinstance(variant, VariantFacts):
        return variant
    if isinstance(variant, dict):
        return VariantFacts(**{k: v for k, v in variant.items() if k in VariantFacts.__dataclass_fields__})
    sizes = getattr(variant, "sizes", None)
    if sizes:  # a catalog Model: its headline variant
        same = [v for v in sizes if v.params_total_b == variant.params_total_b]
        variant = same[-1] if same else sizes[-1]
    ctx = getattr(variant, "context_extended", None) or getattr(variant, "context_native", None)
    return VariantFacts(variant.name, variant.params_total_b, getattr(variant, "params_active_b", None),
                        getattr(variant, "n_layers", None), getattr(variant, "n_kv_heads", None),
                        getattr(variant, "head_dim", None), getattr(variant, "weights_format", None), ctx)


def _memory(f: VariantFacts, quant: str, context: int, groups: TensorGroups) -> tuple[float, float, float, str]:
    w = weights_gb(f.params_total_b, quant, groups)
    kv, method = kv_cache_gb(f.n_layers, f.n_kv_heads, f.head_dim, context, f.active_b, groups)
    return w, kv, overhead_gb(), method


def _place(m: Machine, b: Budget, required: float, weights: float) -> tuple[str, float | None, float | None]:
    """(placement, share of weights on the GPU, RAM the spill needs)."""
    if required <= b.comfortable_gb:
        return "fits", 1.0, None
    if required <= b.tight_gb:
        return "tight", 1.0, None
    if b.raised_gb is not None and required <= b.raised_gb:
        return "os_limit", 1.0, None
    if m.platform == "discrete":
        spill = required - b.comfortable_gb
        if m.ram_gb is not None:
            ram = budget_for("cpu", m.ram_gb)
            if spill <= ram.tight_gb:
                return "offload", max(0.0, 1 - spill / weights), spill
        return "no_fit", None, spill
    return "no_fit", None, None


def _two_significant(value: float) -> float:
    if value <= 0 or not math.isfinite(value):
        return value
    digits = 1 - int(math.floor(math.log10(value)))
    return round(value, digits)


def estimate_fit(
    variant: Any,
    hardware: Machine | Preset | HardwareMatch | str,
    quant: str = "Q4_K_M",
    context_tokens: int | None = None,
    *,
    model_id: str = "",
    speed_model: SpeedModel = FITTED,
    suggest_lower: bool = True,
) -> FitResult:
    """Where `variant` runs on `hardware` at `quant` with a `context_tokens` KV cache (4K when None)."""
    quant = normalize_quant(quant)
    f = facts_of(variant)
    m = machine_from(hardware)
    if m.memory_gb <= 0 or m.bandwidth_gbs <= 0 or not 1 <= m.count <= 16:
        raise ValueError(f"memory, bandwidth and card count must be positive (got {m})")
    stated = context_tokens is not None
    context = int(context_tokens) if stated else DEFAULT_CONTEXT
    if context < 0:
        raise ValueError(f"context_tokens must not be negative, got {context_tokens!r}")
    groups = tensor_groups_for(f.name, f.weights_format)
    weights, kv, overhead, kv_method = _memory(f, quant, context, groups)
    required = weights + kv + overhead
    budget = budget_for(m.platform, m.memory_gb, m.count if m.kind == "vram" else 1)
    placement, gpu_share, spill = _place(m, budget, required, weights)
    offload_mode = None
    needs_ram = None
    if placement == "offload":
        placement = "expert_offload" if f.moe else "partial_offload"
        offload_mode = "experts (--n-cpu-moe)" if f.moe else "layers (-ngl)"
    elif placement == "no_fit" and spill is not None:
        needs_ram = _two_significant(spill / 0.75 + 4)  # RAM whose cpu budget holds the spill

    assumptions = [
        Assumption("weights", {"params_b": f.params_total_b, "quant": quant, "bits": QUANT_BITS[quant],
                               "gb": round(weights, 2), "mxfp4_experts_b": groups.expert_params_b if groups.mxfp4_experts else 0,
                               "output_q6k": quant not in ("Q6_K", "Q8_0", "F16", "BF16")}),
        Assumption("kv_per_layer" if kv_method == "per-layer" else "kv_from_size",
                   {"layers": f.n_layers, "kv_heads": f.n_kv_heads, "head_dim": f.head_dim, "context": context,
                    "gb": round(kv, 2), "sliding_window": groups.sliding_window}),
        Assumption("overhead_compute_buffer", {"gb": round(overhead, 2)}),
        Assumption(f"budget_{budget.rule}", {"memory_gb": m.memory_gb, "count": m.count,
                                             "decimal_gb": round(m.memory_gb * m.count * 2**30 / 1e9, 1),  # a "16GB" card holds 16 GiB
                                             "usable_gb": round(budget.tight_gb, 1),
                                             "comfortable_gb": round(budget.comfortable_gb, 1), **dict(budget.slots)}),
    ]
    if not stated:
        assumptions.insert(2, Assumption("context_default", {"context": DEFAULT_CONTEXT}))
    if placement == "tight":
        assumptions.append(Assumption("close_apps" if m.platform != "discrete" else "free_vram",
                                      {"headroom_gb": round(budget.tight_gb - required, 2)}))
    if placement == "os_limit":
        assumptions.append(Assumption("raise_os_limit", {"command": budget.command,
                                                         "raised_gb": round(budget.raised_gb or 0, 1)}))

    # speed
    tokens = ttft = ceiling = None
    basis: dict[str, Any] = {}
    ram_fraction = 0.0
    if placement in RUNS:
        layers = f.n_layers or estimated_layers(f.params_total_b)
        active = active_weights_gb(f.active_b, f.params_total_b, quant, groups)
        if placement == "partial_offload":
            ram_fraction = 1 - (gpu_share or 0)
        elif placement == "expert_offload":
            expert_bytes = max(weights - active, weights * 0.5)
            ram_fraction = min(1.0, (spill or 0) / expert_bytes) * ROUTED_SHARE_OF_ACTIVE
        old = False
        seconds = decode_seconds(active, layers, m.bandwidth_gbs, m.speed_class, f.moe, speed_model, old_build=old,
                                 gpus=m.count if m.kind == "vram" else 1, ram_fraction=ram_fraction,
                                 ram_bandwidth_gb_s=m.ram_bandwidth_gbs)
        tokens = _two_significant(1 / seconds)
        ceiling = _two_significant(m.bandwidth_gbs / active)
        pp = prompt_tokens_per_s(f.active_b, m.bandwidth_gbs, m.speed_class, speed_model)
        if pp:
            ttft = _two_significant(1000 / pp)
        basis = {"speed_class": m.speed_class, "efficiency": round(speed_model.efficiency(m.speed_class, f.moe), 3),
                 "layer_us": round(speed_model.layer_s(m.speed_class) * 1e6, 1), "layers": layers,
                 "layers_estimated": f.n_layers is None, "bandwidth_gb_s": m.bandwidth_gbs,
                 "active_gb": round(active, 2), "moe": f.moe, "ram_fraction_of_reads": round(ram_fraction, 3),
                 "ram_bandwidth_gb_s": m.ram_bandwidth_gbs or (DEFAULT_BANDWIDTH_GB_S["ram"] if ram_fraction else None)}
        assumptions.append(Assumption("speed_calibrated", {**basis, "tokens_per_s": tokens}))
        if f.n_layers is None:
            assumptions.append(Assumption("layers_estimated", {"layers": layers}))
        if m.kind == "vram" and m.count > 1:
            assumptions.append(Assumption("multi_gpu_layer_split", {"count": m.count}))
        if placement in ("partial_offload", "expert_offload"):
            assumptions.append(Assumption("offload", {"mode": offload_mode, "gpu_share": round(gpu_share or 0, 2),
                                                      "ram_gb": m.ram_gb, "spill_gb": round(spill or 0, 1)}))
    else:
        assumptions.append(Assumption("no_speed_without_fit", {}))

    lower = None
    if suggest_lower and placement not in ("fits", "tight"):
        lower = _lower_quant(f, m, quant, context, groups)
        if lower:
            assumptions.append(Assumption("lower_quant", {"quant": lower.quant, "required_gb": lower.required_gb,
                                                          "perplexity_delta": lower.perplexity_delta,
                                                          "caveat": lower.caveat}))
    max_ctx = _max_context(f, quant, budget.tight_gb, weights, overhead, groups, context)
    placement_final: FitPlacement = placement  # type: ignore[assignment]
    assumptions.append(Assumption(f"placement_{placement_final}", {}))
    return FitResult(
        model_id=model_id, variant=f.name, quant=quant, context_tokens=context, context_stated=stated,
        placement=placement_final, weights_gb=weights, kv_cache_gb=kv, overhead_gb=overhead, required_gb=required,
        kv_method=kv_method, budget=budget, headroom_gb=budget.tight_gb - required, tokens_per_s=tokens,
        speed_basis=basis, gpu_share=round(gpu_share, 3) if gpu_share is not None else None,
        offload_mode=offload_mode, lower_quant=lower, max_context_tokens=max_ctx, assumptions=tuple(assumptions),
        hardware_name=m.name, memory_gb=m.memory_gb, memory_kind=m.kind, gpu_count=m.count,
        bandwidth_gb_s=m.bandwidth_gbs, ceiling_tokens_per_s=ceiling, ttft_s_1k=ttft, offload_needs_ram_gb=needs_ram,
    )


def _lower_quant(f: VariantFacts, m: Machine, quant: str, context: int, groups: TensorGroups) -> LowerQuant | None:
    bits = QUANT_BITS[quant]
    budget = budget_for(m.platform, m.memory_gb, m.count if m.kind == "vram" else 1)
    for q in LOWER_QUANTS:
        if QUANT_BITS[q] >= bits - 1e-9:
            continue
        w, kv, over, _ = _memory(f, q, context, groups)
        need = w + kv + over
        placement, _, _ = _place(m, budget, need, w)
        if placement in ("fits", "tight"):
            delta = PERPLEXITY_DELTA.get(q)
            caveat = "small_loss" if (delta or 1) < 0.10 else "noticeable_loss" if (delta or 1) < 0.35 else "large_loss"
            return LowerQuant(q, round(need, 2), placement, delta, caveat)
    return None


def _max_context(f: VariantFacts, quant: str, usable: float, weights: float, overhead: float,
                 groups: TensorGroups, context: int) -> int | None:
    per_token, _ = kv_cache_gb(f.n_layers, f.n_kv_heads, f.head_dim, 1024, f.active_b, groups)
    per_token /= 1024
    room = usable - weights - overhead
    if room <= 0 or per_token <= 0:
        return None
    tokens = int(room / per_token) // 1024 * 1024
    if groups.sliding_window:  # window layers stop growing; keep the simple bound (conservative)
        tokens = max(tokens, 0)
    if f.context_max:
        tokens = min(tokens, f.context_max)
    return tokens if tokens >= 1024 else None
