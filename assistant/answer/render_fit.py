"""Fit answers: can this hardware run it, how (fits, tightly, with the OS limit raised, with
offload, or not at all), how fast, and what it needs."""

from __future__ import annotations

import dataclasses

from ..business import findings
from ..hardware import estimate
from ..hardware.fit import FitResult
from ..knowledge import Model, Variant
from ..labels import format_context, format_params, memory_kind_label
from ..messages import join
from .context import Context, Writer
from .fitting import COMFORTABLE, near_limit, report_fit
from .ranking import shortlist, sizes_within
from .render_facts import attribute_lead, commercial_lead, terms_lines
from .types import Plan, Rendered

OFFLOAD = ("partial_offload", "expert_offload")
_ASSUMPTIONS_SHOWN = ("budget_vram", "budget_macos", "budget_amd-uma", "budget_nvidia-uma", "budget_cpu", "context_default",
                      "kv_from_size", "multi_gpu_layer_split")


def hardware_phrase(w: Writer, plan: Plan) -> str:
    c = plan.constraints
    kind = memory_kind_label(c.memory_kind, w.language)
    if c.hardware_name and (c.gpu_count or 1) > 1:
        return w.say("fit.hardware_named_multi", count=c.gpu_count, name=c.hardware_name, memory=f"{c.memory_gb:g}")
    if c.hardware_name:
        return w.say("fit.hardware_named", name=c.hardware_name, memory=f"{c.memory_gb:g}", kind=kind)
    return w.say("fit.hardware", memory=f"{c.memory_gb:g}", kind=kind)


def speed_phrase(w: Writer, fit: FitResult | None) -> str:
    if fit is None or not fit.tokens_per_s:
        return ""
    return w.say("fit.speed_short", speed=f"{fit.tokens_per_s:g}")


def context_on_machine(w: Writer, model: Model, fit: FitResult, wanted: int | None) -> None:
    """How much context this machine holds at the chosen quantization, against the model's own
    window and the context the user wants (「我想開 128k」, "how much context would I get")."""
    native = model.context_native or 0
    most = fit.max_context_tokens
    if most is None or not native:
        return
    if wanted and wanted > most:
        w.raw(w.say("fit.context_short", wanted=format_context(wanted, w.language), most=format_context(most, w.language), quant=fit.quant))
    elif most >= native:
        w.raw(w.say("fit.context_full", native=format_context(native, w.language), quant=fit.quant))
    else:
        w.raw(w.say("fit.context_most", most=format_context(most, w.language), native=format_context(native, w.language), quant=fit.quant))


def _best_runnable(model: Model, sizes: list[Variant], plan: Plan) -> tuple[FitResult | None, list[FitResult]]:
    """The largest size that runs comfortably, else the largest that runs with offload; and every report."""
    reports = [r for r in (report_fit(model, v, plan.constraints) for v in sorted(sizes, key=lambda v: -v.params_total_b)) if r]
    for wanted in (COMFORTABLE, OFFLOAD):
        runnable = [r for r in reports if r.placement in wanted]
        if runnable:
            return runnable[0], reports
    return None, reports


def placement_lead(w: Writer, fit: FitResult, hw: str, cite: str) -> None:
    """The answer's first sentence for one size on the stated hardware, by how it runs."""
    slots = dict(name=fit.variant, hardware=hw, quant=fit.quant, need=f"{fit.required_gb:.1f}", speed=speed_phrase(w, fit),
                 limit=f"{fit.budget.tight_gb:.1f}", comfortable=f"{fit.budget.comfortable_gb:.1f}")
    if near_limit(fit):
        w.add("fit.placement.near_limit", cite=cite, **slots)  # 24.1 GB of a 24.2 GB budget: say it is close
    elif fit.placement == "os_limit":
        w.add("fit.placement.os_limit", cite=cite, command=fit.budget.command or "", raised=f"{fit.budget.raised_gb or 0:.0f}", **slots)
    elif fit.placement in OFFLOAD:
        w.add(f"fit.placement.{fit.placement}", cite=cite, share=f"{round((fit.gpu_share or 0) * 100)}", **slots)
    else:
        w.add(f"fit.placement.{fit.placement}", cite=cite, **slots)


def placement_details(w: Writer, fit: FitResult) -> None:
    if fit.placement == "tight":
        if fit.max_context_tokens and fit.max_context_tokens > fit.context_tokens:
            w.raw(w.say("fit.tight_context", context=format_context(fit.max_context_tokens, w.language)))
        w.raw(w.say("fit.tight_close_apps" if fit.budget.rule != "vram" else "fit.tight_free_vram"))
    if fit.placement in OFFLOAD and fit.offload_needs_ram_gb:
        w.raw(w.say("fit.offload_ram", ram=f"{fit.offload_needs_ram_gb:g}"))
    if fit.lower_quant is not None and fit.placement not in ("fits", "tight"):
        low = fit.lower_quant
        w.raw(w.say(f"fit.lower_quant.{low.caveat}", quant=low.quant, need=f"{low.required_gb:.1f}", name=fit.variant,
                    placement=w.say(f"fit.placement_word.{low.placement}")))


def assumption_lines(w: Writer, fit: FitResult) -> None:
    for assumption in fit.assumptions:
        if assumption.id in _ASSUMPTIONS_SHOWN:
            raw = dict(assumption.slots)
            slots = {k: (f"{v:g}" if isinstance(v, float) else v) for k, v in raw.items()}
            w.raw(w.say(f"fit.rule.{assumption.id}", **{k: slots.get(k, "") for k in (
                "memory_gb", "decimal_gb", "usable_gb", "comfortable_gb", "count", "context", "layers")}))


def _family_fit(w: Writer, plan: Plan, ctx: Context, family_id: str) -> list[str]:
    catalog = ctx.catalog
    members = [m for m in catalog.models_of(family_id) if m.status == "released"]
    if plan.asks_full_size and members:
        members = [max(members, key=lambda m: m.params_total_b)]
    hw = hardware_phrase(w, plan)
    fitting, too_big = [], []
    for model in sorted(members, key=lambda m: m.released or "", reverse=True):
        best, _ = _best_runnable(model, sizes_within(model, plan.constraints) or model.sizes, plan)
        if best is not None and best.placement in COMFORTABLE:
            fitting.append(w.say("fit.item", name=best.variant, quant=best.quant, need=f"{best.required_gb:.1f}", speed=speed_phrase(w, best)))
        else:
            small = min(model.sizes, key=lambda v: v.params_total_b)
            too_big.append(w.say("fit.item_too_big", name=model.name, size=format_params(small.params_total_b)))
    name = catalog.family_by_id[family_id].name
    cite = ctx.cites.family(family_id)
    lang = w.language
    if not fitting:
        w.add("fit.family_none", cite=cite, family=name, hardware=hw, models=join(too_big[:6], lang))
    elif too_big:
        w.add("fit.family_some", cite=cite, family=name, hardware=hw, fitting=join(fitting[:6], lang), too_big=join(too_big[:6], lang))
    else:
        w.add("fit.family_all", cite=cite, family=name, hardware=hw, fitting=join(fitting[:8], lang))
    return [m.id for m in members]


def _model_fit(w: Writer, plan: Plan, ctx: Context, model: Model, variant: Variant | None) -> FitResult | None:
    cite = ctx.cites.model(model.id)
    hw = hardware_phrase(w, plan)
    sizes = [variant] if variant else model.sizes
    best, reports = _best_runnable(model, sizes, plan)
    if (best is None or best.placement not in COMFORTABLE) and plan.constraints.min_context_tokens:
        # 「號稱 10M context，一張 H100 塞得下嗎」: the weights fit; the whole window is what does not.
        shorter = dataclasses.replace(plan, constraints=dataclasses.replace(plan.constraints, min_context_tokens=None))
        loaded, _ = _best_runnable(model, sizes, shorter)
        if loaded is not None and loaded.placement in COMFORTABLE:
            placement_lead(w, loaded, hw, cite)
            context_on_machine(w, model, loaded, plan.constraints.min_context_tokens)
            assumption_lines(w, loaded)
            return None
    if best is not None:
        placement_lead(w, best, hw, cite)
        larger = [r.variant for r in reports if r.placement not in COMFORTABLE and r is not best
                  and next((v.params_total_b for v in model.sizes if v.name == r.variant), 0) > next((v.params_total_b for v in model.sizes if v.name == best.variant), 0)]
        if larger and not variant:
            w.raw(w.say("fit.larger_do_not", names=join(larger, w.language)))
        placement_details(w, best)
        assumption_lines(w, best)
        return best
    smallest = min(reports, key=lambda r: r.weights_gb) if reports else None
    if smallest is None:
        return None
    name = variant.name if variant else model.name
    key = "fit.no_single" if variant or len(model.sizes) == 1 else "fit.no_smallest"
    target = next(v for v in model.sizes if v.name == smallest.variant) if not variant else variant
    w.add(key, cite=cite, name=name, smallest=smallest.variant, hardware=hw, params=format_params(target.params_total_b),
          quant=smallest.quant, need=f"{smallest.required_gb:.0f}")
    placement_details(w, smallest)
    _instead(w, plan, ctx, model)
    assumption_lines(w, smallest)
    return None


def _instead(w: Writer, plan: Plan, ctx: Context, model: Model) -> None:
    """What does fit this machine: the strongest models for the same need, so "no" comes with a way on."""
    c = dataclasses.replace(plan.constraints, mentioned_models=[], mentioned_families=[])
    result = shortlist(ctx.catalog, c, ctx.capabilities, limit=3)
    picks = [r for r in result.recommendations if r.model.id != model.id][:3]
    if picks:
        w.raw(w.say("fit.instead", names=join([f"{r.variant.name}（{r.fit.quant} {r.fit.required_gb:.0f}GB）" if w.language != "en"
                                               else f"{r.variant.name} ({r.fit.quant}, {r.fit.required_gb:.0f} GB)" for r in picks if r.fit],
                                              w.language)) + "".join(ctx.cites.model(r.model.id) for r in picks))


def _memory_needs(w: Writer, plan: Plan, ctx: Context, model: Model, variant: Variant | None) -> None:
    cite = ctx.cites.model(model.id)
    target = variant or max(model.sizes, key=lambda v: v.params_total_b)
    if plan.asks_storage:
        full = estimate(target, 10_000, "F16", 4096, model_id=model.id)
        q4 = estimate(target, 10_000, "Q4_K_M", 4096, model_id=model.id)
        w.add("fit.storage", cite=cite, name=target.name, full=f"{full.weights_gb:.0f}", q4=f"{q4.weights_gb:.0f}")
        said = [x for x in model.weaknesses if "GB" in x]
        if said:
            w.raw(w.say("fit.article_says", text=said[0]))
        return
    needs = {q: estimate(target, 10_000, q, 4096, model_id=model.id) for q in ("Q4_K_M", "Q8_0", "F16")}
    w.add("fit.needs", cite=cite, name=target.name, q4=f"{needs['Q4_K_M'].required_gb:.0f}", q8=f"{needs['Q8_0'].required_gb:.0f}",
          f16=f"{needs['F16'].required_gb:.0f}")
    if not variant and len(model.sizes) > 1:
        small = min(model.sizes, key=lambda v: v.params_total_b)
        small_need = estimate(small, 10_000, "Q4_K_M", 4096, model_id=model.id)
        w.raw(w.say("fit.smallest_needs", name=small.name, need=f"{small_need.required_gb:.1f}"))
    for claim in model.article_claims:
        if "GB" in claim.article_says:
            w.raw(w.say("fit.article_says", text=claim.article_says))


def render_fit(plan: Plan, ctx: Context) -> Rendered:
    w = Writer(plan)
    c = plan.constraints
    shown: list[str] = []
    variants: dict[str, str] = {}
    for subject in plan.families()[:2]:
        if c.has_hardware():
            shown += _family_fit(w, plan, ctx, subject.id)
    for subject in plan.models()[:3]:
        model = ctx.catalog.by_id[subject.id]
        variant = model.variant(subject.variant) if subject.variant else None
        shown.append(model.id)
        # The licence verdict for this user's business (revenue, users, location) leads; the fit follows.
        terms_said = c.has_hardware() and terms_lines(w, plan, model, ctx.cites.model(model.id))
        start = len(w.lines)
        chosen = None
        if c.has_hardware() and variant is None and plan.size_extreme and ("size" in plan.attributes or not plan.attributes) and len(model.sizes) > 1:
            # 「Qwen3 最迷你的是幾B？想塞進樹莓派」: that size first, then how it runs.
            attribute_lead(w, plan, model, None, ctx.catalog, "size", ctx.cites.model(model.id))
            variant = (min if plan.size_extreme == "smallest" else max)(model.sizes, key=lambda v: v.params_total_b)
            start = len(w.lines)
        if c.has_hardware():
            chosen = _model_fit(w, plan, ctx, model, variant)
            if chosen:
                variants[model.id] = chosen.variant
        else:
            _memory_needs(w, plan, ctx, model, variant)
        # A second question in the same message ("…能聽語音嗎？"): answered after the fit.
        fitted = len(w.lines)
        asked = [a for a in plan.attributes if a not in ("memory", "speed", "size")]
        if chosen and ("context" in asked or c.min_context_tokens or c.longest_context):
            context_on_machine(w, model, chosen, c.min_context_tokens)
            asked = [a for a in asked if a != "context"]
        for attribute in asked:
            if terms_said and attribute in ("commercial", "licence"):
                commercial_lead(w, model, model.name, ctx.cites.model(model.id))
            else:
                attribute_lead(w, plan, model, variant, ctx.catalog, attribute, ctx.cites.model(model.id))
        if terms_said and any(outcome == "blocked" for outcome, _m in findings(model, c.business)):
            _instead(w, plan, ctx, model)  # not licensed to this user: what is
        # Right after the fit's own first sentence, before its details and assumptions.
        answers = w.lines[fitted:]
        del w.lines[fitted:]
        w.lines[start + 1 : start + 1] = answers
    if not w.lines:
        w.add("fit.no_hardware")
    for note in c.assumptions:
        w.raw(w.say("assume.line", text=note.text(w.language)))
    w.raw(w.say("fit.estimate_note"))
    return Rendered(w.text(), lead=w.lead, parts=w.parts, shown=shown, variants=variants)
