"""A model on the user's stated hardware: the question's `Constraints` as a `Machine`, and the
best way a size runs there (`hardware.estimate_fit`), for the ranking and the fit answers."""

from __future__ import annotations

from collections import OrderedDict

from ..constraints import Constraints
from ..hardware import DEFAULT_BANDWIDTH_GB_S, Machine, estimate, estimate_fit, preset_named
from ..hardware.fit import FitResult
from ..knowledge import Catalog, Model, Variant
from ..vocabulary import vocabulary

DEFAULT_CONTEXT = 4096
QUALITY_ORDER = ("Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M")
"""Quantisations tried, best first; a recommendation never assumes less than Q4_K_M."""
USABLE_TOKENS_PER_S = 4.0
"""Below this an answer takes minutes (the ranking puts such fits after every usable one)."""
NEAR_LIMIT = 0.95
"""A comfortable fit using this share of the comfortable budget or more is reported as close to the limit."""
COMFORTABLE = ("fits", "tight", "os_limit")
"""Placements that count as "fits the stated hardware"."""

_CACHE: OrderedDict[tuple, FitResult | None] = OrderedDict()
_CACHE_SIZE = 4096
"""Fit estimates kept (least recently used dropped): one recommendation on new hardware needs a few hundred."""


def machine_for(c: Constraints) -> Machine | None:
    """The machine a question states, or None when it states no memory."""
    if c.memory_gb is None:
        return None
    kind = c.memory_kind or "ram"
    count = (c.gpu_count or 1) if kind == "vram" else 1
    per_card = c.memory_gb / count
    preset = preset_named(c.hardware_name) if c.hardware_name else None
    if preset is not None:
        variant = preset.variant(per_card)
        return Machine(per_card, kind, c.bandwidth_gbs or variant.bandwidth_gbs, count, variant.platform, variant.speed_class,
                       variant.name, c.ram_gb, None)
    platform = "cpu" if c.cpu_only else ""
    return Machine(per_card, "ram" if c.cpu_only else kind, c.bandwidth_gbs or DEFAULT_BANDWIDTH_GB_S["ram" if c.cpu_only else kind],
                   count, platform, "cpu" if c.cpu_only else "", None, c.ram_gb, None)


def _context(c: Constraints) -> int | None:
    """The context to size the KV cache for: the stated minimum (however long), else the longest
    working context the asked tasks need (knowledge/vocabulary/tasks.yaml `working_context`:
    RAG and agents carry long prompts), else the estimator's default."""
    if c.min_context_tokens:
        return c.min_context_tokens  # "paste whole 400k-token contracts": the KV cache is sized for it
    needs = [int(t.get("working_context")) for t in vocabulary().terms("tasks") if t.id in c.tasks and t.get("working_context")]
    return max(needs) if needs else None


def run_at(model: Model, variant: Variant, c: Constraints, quant: str) -> FitResult | None:
    """How `variant` runs at `quant` on the stated hardware (memoised), or None with no hardware."""
    machine = machine_for(c)
    if machine is None:
        return None
    key = (model.id, variant.name, variant.params_total_b, variant.params_active_b, variant.n_layers, machine, quant, _context(c))
    if key in _CACHE:
        _CACHE.move_to_end(key)
    else:
        while len(_CACHE) >= _CACHE_SIZE:
            _CACHE.popitem(last=False)
        facts = model.with_variant(variant.name) if len(model.sizes) > 1 and model.variant(variant.name) else model
        target = facts.sizes[0] if len(model.sizes) > 1 else variant
        _CACHE[key] = estimate_fit(target, machine, quant, _context(c), model_id=model.id)
    return _CACHE[key]


def best_fit(model: Model, variant: Variant, c: Constraints) -> FitResult | None:
    """The best-quality quantisation at which `variant` fits, preferring a roomy fit at a lower
    quantisation (down to Q4_K_M) over a tight one at a higher one, and a usable speed over a
    higher quantisation that is too slow (a Pi, a CPU box: Q4_K_M at 5 tok/s beats Q8_0 at 2.5);
    else None."""
    quants = (c.quant,) if c.quant else QUALITY_ORDER
    results = [r for r in (run_at(model, variant, c, q) for q in quants) if r is not None]
    usable = [r for r in results if r.tokens_per_s is None or r.tokens_per_s >= USABLE_TOKENS_PER_S]
    for pool in (usable, results):
        roomy = [r for r in pool if r.placement == "fits" and not near_limit(r)]
        for result in roomy + [r for p in COMFORTABLE for r in pool if r.placement == p and r not in roomy]:
            return result
    return None


def near_limit(fit: FitResult) -> bool:
    """A fit that uses NEAR_LIMIT of the comfortable budget or more: it runs, with almost no headroom."""
    return fit.placement == "fits" and fit.required_gb >= NEAR_LIMIT * fit.budget.comfortable_gb


def report_fit(model: Model, variant: Variant, c: Constraints) -> FitResult | None:
    """The fit to report for a size: the best comfortable one, else how it runs (or not) at the
    stated quantisation or Q4_K_M (offload, no fit, with a lower-quant suggestion)."""
    return best_fit(model, variant, c) or run_at(model, variant, c, c.quant or "Q4_K_M")


def fit_table(catalog: Catalog, memory_gb: float, quant: str, context: int, memory_kind: str = "ram", **hardware: object) -> list[dict]:
    """Every catalog size with its memory estimate, for the hardware tab (`hardware` goes to `estimate`)."""
    rows = []
    for model in catalog.models:
        for variant in model.sizes:
            est = estimate(variant, memory_gb, quant, context, model_id=model.id, memory_kind=memory_kind, **hardware)  # type: ignore[arg-type]
            rows.append({
                "model": model.name, "variant": variant.name, "params_b": variant.params_total_b,
                "active_b": variant.params_active_b or variant.params_total_b, "required_gb": round(est.required_gb, 1),
                "fits": est.fits, "tokens_per_s": est.tokens_per_s, "placement": est.placement, "placement_zh": est.placement_zh,
                "commercial_use": model.commercial_use,
            })
    return rows
