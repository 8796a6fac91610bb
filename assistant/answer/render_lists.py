"""Answers over the whole catalog: rankings by a field, filtered lists, the newest releases,
and "which model has P?" lookups in the article."""

from __future__ import annotations

from ..knowledge import Catalog, Model, Variant
from ..labels import commercial_label, country_label, format_context, format_params
from ..messages import join
from ..vocabulary import vocabulary
from .context import Context, Writer
from .describe import constraint_summary, context_phrase, display_name, licence_phrase
from .ranking import check, fit_variant, size_facts, sizes_within, takes_images
from .types import Plan, Rendered

NEWEST_SHOWN = 8
LIST_SHOWN = 40  # a list question lists every match up to this many


def newest_release(catalog: Catalog) -> str | None:
    """The newest release date the catalog holds (YYYY-MM-DD)."""
    dates = [m.released for m in catalog.models if m.released and m.status == "released"]
    dates += [v.released for m in catalog.models for v in m.variants if v.released]
    return max(dates) if dates else None


def _in_scope(plan: Plan, model: Model, catalog: Catalog) -> bool:
    families = {s.id for s in plan.families()}
    models = {s.id for s in plan.models()}
    if (families or models) and model.family not in families and model.id not in models:
        return False
    return check(model, plan.constraints, catalog) is None


def _task_ok(plan: Plan, model: Model) -> bool:
    tasks = [t for t in plan.constraints.tasks if t not in ("chinese", "edge", "efficiency", "general")]
    return all(t in model.strengths or (t == "vision" and takes_images(model)) for t in tasks)


def render_rank(plan: Plan, ctx: Context) -> Rendered:
    catalog = ctx.catalog
    w = Writer(plan)
    spec = plan.rank
    assert spec is not None
    rows: list[tuple[float | str, Model, Variant | None]] = []
    for model in catalog.models:
        if model.status != "released" or not _in_scope(plan, model, catalog) or not _task_ok(plan, model):
            continue
        if plan.country and model.country != plan.country:
            continue
        if spec.field in ("params_total", "params_active"):
            for variant in sizes_within(model, plan.constraints):
                active = variant.params_active_b or (model.params_active_b if variant.params_total_b == model.params_total_b else None)
                is_moe = bool(active)
                if (spec.moe_only and not is_moe) or (spec.dense_only and is_moe):
                    continue
                value = active if spec.field == "params_active" else variant.params_total_b
                if value:
                    rows.append((value, model, variant if len(model.sizes) > 1 else None))
        else:
            if (spec.moe_only and model.architecture != "moe") or (spec.dense_only and model.architecture == "moe"):
                continue
            # Context ranks by the native window (what a model reads without RoPE scaling); the extended
            # figure is shown beside it ("256k, 1M with YaRN").
            value = {"experts": model.experts, "context": model.context_native or model.context_max, "released": model.released,
                     "languages": model.languages.count}.get(spec.field)
            if value:
                # On stated hardware, name the size that fits ("Nemotron 3 Nano 30B-A3B", not the family).
                fitting = [x for x in sizes_within(model, plan.constraints)
                           if plan.constraints.memory_gb is None or fit_variant(model, x, plan.constraints) is not None]
                pick = max(fitting, key=lambda x: x.params_total_b) if fitting and len(model.sizes) > 1 and plan.constraints.memory_gb else None
                rows.append((value, model, pick))
    rows = _measured_for_task(rows, plan, ctx)
    rows.sort(key=lambda r: (str(r[0]) if spec.field == "released" else r[0], r[1].name), reverse=not spec.ascending)
    summary = _scope_summary(w, plan)
    if not rows:
        w.add("rank.none", scope=summary)
        return Rendered(w.text(), lead=w.lead, parts=w.parts)
    position = min(spec.position, len(rows))
    value, model, variant = rows[position - 1]
    label = display_name(model, variant) if variant is None else w.say("rank.variant_of", variant=variant.name, model=model.name)
    ties = [r for r in rows if r[0] == value and r[1] is not model]
    direction = "asc" if spec.ascending else "desc"
    w.add(f"rank.lead.{spec.field}.{direction}", cite=ctx.cites.model(model.id), scope=summary, name=label,
          value=_value(w, spec.field, value), position=position, moe=w.say("rank.moe") if spec.moe_only else "")
    if ties:
        w.raw(w.say("rank.ties", value=_value(w, spec.field, value), names=join([display_name(r[1], r[2]) for r in ties[:3]], w.language)))
    w.raw(w.say("rank.head"))
    shown: list[str] = []
    variants: dict[str, str] = {}
    for n, (val, m, v) in enumerate(rows[: 1 if plan.just_one else 6], 1):
        shown_value = context_phrase(m, w.language) if spec.field == "context" else _value(w, spec.field, val)
        w.raw(w.say("rank.item", n=n, name=display_name(m, v), value=shown_value))
        if m.id not in shown:
            shown.append(m.id)
            if v:
                variants[m.id] = v.name
    if spec.field == "context":
        missing = [m.name for m in catalog.models if not m.context_max]
        if missing:
            w.raw(w.say("rank.context_missing", names=join(missing[:5], w.language)))
    if spec.field == "released":
        w.raw(_coverage(w, catalog))
    return Rendered(w.text(), lead=w.lead, parts=w.parts, shown=shown, variants=variants)


def _measured_for_task(rows: list, plan: Plan, ctx: Context) -> list:  # type: ignore[type-arg]
    """"The smallest reasoning model": sizes with a measured figure for the asked specialist task,
    when enough have one (a family's strength tag does not make its 0.3B size a reasoning model)."""
    terms = {t.id: t for t in vocabulary().terms("tasks")}
    tasks = [terms[t].get("capability") for t in plan.constraints.tasks
             if t in terms and terms[t].get("specialist") and terms[t].get("capability") and not terms[t].get("modality")]
    if not tasks or plan.rank is None or plan.rank.field not in ("params_total", "params_active"):
        return rows

    def measured(row) -> bool:  # type: ignore[no-untyped-def]
        model, variant = row[1], row[2] or row[1].sizes[0]
        found = ctx.capabilities.capability(size_facts(model, variant), variant, tasks[0])
        return bool(found) and not found.get("fallback")

    kept = [r for r in rows if measured(r)]
    return kept if len(kept) >= 3 else rows


def _value(w: Writer, field: str, value: float | str) -> str:
    if field in ("params_total", "params_active"):
        return w.say(f"rank.value.{field}", value=format_params(float(value)))
    if field == "context":
        return w.say("rank.value.context", value=format_context(int(value), w.language))
    return w.say(f"rank.value.{field}", value=value)


def _scope_summary(w: Writer, plan: Plan) -> str:
    named = [s.name for s in plan.catalog_subjects()]
    summary = constraint_summary(plan, w.language)
    if plan.country:
        summary = w.say("list.summary_joiner").join(x for x in (w.say("rank.country", country=country_label(plan.country, w.language)), summary) if x)
    if named:
        return w.say("rank.scope_named", names=join(named, w.language))
    if summary:
        return w.say("rank.scope_summary", summary=summary)
    return w.say("rank.scope_all")


def _coverage(w: Writer, catalog: Catalog) -> str:
    newest = newest_release(catalog) or ""
    return w.say("catalog.coverage", month=newest[:7], checked=catalog.as_of.isoformat())


def render_newest(plan: Plan, ctx: Context) -> Rendered:
    catalog = ctx.catalog
    w = Writer(plan)
    models = [m for m in catalog.models if m.status == "released" and m.released and _in_scope(plan, m, catalog) and _task_ok(plan, m)]
    # A model's date is that of its newest size that meets the question (Qwen3.5's small sizes came two weeks later).
    dates = {m.id: max((v.released or m.released or "") for v in _passing(plan, m, catalog)) for m in models}
    models.sort(key=lambda m: (dates[m.id], m.params_total_b), reverse=True)
    if not models:
        w.add("newest.none", scope=_scope_summary(w, plan))
        w.raw(_coverage(w, catalog))
        return Rendered(w.text(), lead=w.lead, parts=w.parts)
    def named(m: Model) -> str:
        """The model, or its newest sizes when they came later than the rest (「Gemma 4 的 Gemma 4 12B」)."""
        name = _passing_sizes(w, plan, m, catalog)[0]
        newest = [v for v in _passing(plan, m, catalog) if (v.released or m.released) == dates[m.id]]
        if dates[m.id] != m.released and len(newest) < len(m.sizes):
            name = w.say("rank.variant_of", model=m.name, variant=join([v.name for v in newest], w.language))
        return name

    top = models[0]
    family = catalog.family_by_id[top.family]
    w.add("newest.lead", cite=ctx.cites.model(top.id), scope=_scope_summary(w, plan), name=named(top), date=dates[top.id],
          vendor=family.vendor_zh if w.language != "en" else family.vendor)
    w.raw(_coverage(w, catalog))
    w.raw(w.say("newest.head"))
    for m in models[:NEWEST_SHOWN]:
        _, span, facts = _passing_sizes(w, plan, m, catalog)
        w.raw(w.say("newest.item", date=dates[m.id], name=named(m), vendor=m.vendor, sizes=span, licence=facts.licence.id,
                    badge=commercial_label(facts.commercial_use, w.language)) + ctx.cites.model(m.id))
    return Rendered(w.text(), lead=w.lead, parts=w.parts, shown=[m.id for m in models[:NEWEST_SHOWN]])


def _passing(plan: Plan, model: Model, catalog: Catalog) -> list:
    """The sizes that meet the question's conditions (all of them when none does)."""
    return [v for v in model.sizes if check(size_facts(model, v), plan.constraints, catalog) is None
            and (plan.constraints.memory_gb is None or fit_variant(model, v, plan.constraints) is not None)] or list(model.sizes)


def _passing_sizes(w: Writer, plan: Plan, model: Model, catalog: Catalog) -> tuple[str, str, Model]:
    """Only the sizes that meet the question's conditions, with their own facts: "DeepSeek-V3 的
    DeepSeek-V3-0324: MIT", "Qwen3.8 的 Qwen3.8-27B" on a 24 GB card, not the flagship's licence."""
    passing = _passing(plan, model, catalog)
    facts = size_facts(model, passing[0]) if len(passing) < len(model.sizes) else model
    sizes = [v.params_total_b for v in passing]
    span = format_params(min(sizes)) if len(set(sizes)) == 1 else f"{format_params(min(sizes))}–{format_params(max(sizes))}"
    name = model.name if len(passing) == len(model.sizes) else w.say(
        "rank.variant_of", model=model.name, variant=join([v.name for v in passing], w.language))
    return name, span, facts


def render_list(plan: Plan, ctx: Context) -> Rendered:
    catalog = ctx.catalog
    w = Writer(plan)
    country = plan.country
    matches = [m for m in catalog.models if _in_scope(plan, m, catalog) and _task_ok(plan, m) and (not country or m.country == country)]
    matches.sort(key=lambda m: m.released or "", reverse=True)
    # What the list holds, plainly ("授權 MIT", "韓國", "Qwen 系列"), never a nested scope phrase.
    parts = [country_label(country, w.language) if country else "", join([s.name for s in plan.catalog_subjects()], w.language),
             constraint_summary(plan, w.language)]
    what = w.say("list.summary_joiner").join(p for p in parts if p) or w.say("summary.none")
    if not matches:
        w.add("list.none", what=what)
        return Rendered(w.text(), lead=w.lead, parts=w.parts)
    names = [m.name for m in matches]
    w.add("list.lead", what=what, count=len(matches), names=join(names[:12], w.language), more=w.say("list.more") if len(names) > 12 else "")
    for model in matches[:LIST_SHOWN]:
        name, span, facts = _passing_sizes(w, plan, model, catalog)
        w.raw(w.say("list.item", name=name, vendor=model.vendor, sizes=span, licence=facts.licence.id,
                    badge=commercial_label(facts.commercial_use, w.language)) + ctx.cites.model(model.id))
    if len(matches) > LIST_SHOWN:
        w.raw(w.say("list.rest", count=len(matches) - LIST_SHOWN))
    return Rendered(w.text(), lead=w.lead, parts=w.parts, shown=[m.id for m in matches[:LIST_SHOWN]])


def render_derivatives(plan: Plan, ctx: Context) -> Rendered:
    """The catalog's models built on the named ones: tuned from them (base_model) or distilled onto
    their weights (weights_from)."""
    catalog = ctx.catalog
    w = Writer(plan)
    bases: set[str] = set()
    for subject in plan.catalog_subjects():
        bases |= {subject.id} if subject.kind == "model" else {m.id for m in catalog.models_of(subject.id)}
    names = join([s.name for s in plan.catalog_subjects()], w.language)
    found = [m for m in catalog.models if m.base_model in bases or m.weights_from in bases]
    found.sort(key=lambda m: m.released or "", reverse=True)
    if not found:
        w.add("derivatives.none", names=names)
        return Rendered(w.text(), lead=w.lead, parts=w.parts)
    w.add("derivatives.lead", names=names, count=len(found), list=join([m.name for m in found], w.language))
    for model in found:
        base = catalog.by_id[model.base_model] if model.base_model else None
        student = catalog.by_id[model.weights_from] if model.weights_from else None
        how = (w.say("derivatives.distilled", teacher=base.name, student=student.name) if base and student
               else w.say("derivatives.tuned", base=base.name if base else ""))
        w.raw(w.say("derivatives.item", name=model.name, vendor=model.vendor, how=how, licence=model.licence.id,
                    badge=commercial_label(model.commercial_use, w.language)) + ctx.cites.model(model.id))
    w.raw(w.say("derivatives.coverage"))
    return Rendered(w.text(), lead=w.lead, parts=w.parts, shown=[m.id for m in found])


def render_lookup(plan: Plan, ctx: Context) -> Rendered:
    catalog = ctx.catalog
    w = Writer(plan)
    named = frozenset(s.id for s in plan.catalog_subjects())
    restrict = {s.id for s in plan.families()}
    hits = ctx.sentences.search(plan.question, k=5, exclude=named - restrict) if ctx.sentences is not None else []
    if restrict:
        hits = [h for h in hits if h.family in restrict or (h.model_id and catalog.by_id[h.model_id].family in restrict)] or hits
    if not hits:
        w.add("lookup.none")
        return Rendered(w.text(), lead=w.lead, parts=w.parts)
    best = hits[0]
    shown: list[str] = []
    if best.model_id and not plan.company_asked:
        model = catalog.by_id[best.model_id]
        family = catalog.family_by_id[model.family]
        own_vendor = family.vendor_zh if w.language != "en" and model.vendor == family.vendor else model.vendor
        w.add("lookup.model", name=model.name, vendor=own_vendor)
        shown = [model.id]
    elif best.entity_family or best.family:
        section_ok = best.family and best.family not in named and plan.company_asked
        family = catalog.family_by_id[best.family if section_ok else (best.entity_family or best.family)]
        w.add("lookup.family", name=family.name, vendor=family.vendor_zh if w.language != "en" else family.vendor)
        shown = [m.id for m in catalog.models_of(family.id)][:3]
    else:
        w.add("lookup.says")
    cite = ctx.cites.cite(best.chunk_id)
    if best.from_article or w.language != "en":
        w.raw(w.say("lookup.quote", quote=best.quote_zh, cite=cite))
    else:
        w.raw(w.say("lookup.paraphrase", quote=best.quote_en, cite=cite))
    if shown and best.model_id and not plan.company_asked:
        model = catalog.by_id[shown[0]]
        w.raw(w.say("lookup.catalog", licence=licence_phrase(model, w.language, with_conditions=False)) + ctx.cites.model(model.id))
    return Rendered(w.text(), lead=w.lead, parts=w.parts, shown=shown)
