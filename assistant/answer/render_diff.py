"""「Devstral Small 2 跟 Small 1.1 差在哪？」 "Is Qwen3.6-35B-A3B worth the switch?": what changed
between two releases (or two sizes), fact by fact, then whether the newer one is worth it.

The differences come from the catalog's facts of each side (size, active parameters, context,
inputs, licence, release date) and the capability figures both sides report on the same
benchmark; the newer side's own summary says what the release was for.
"""

from __future__ import annotations

from ..knowledge import Model, Variant
from ..labels import commercial_label, format_params, task_label
from .context import Context, Writer, facts_model
from .describe import context_phrase, modalities_phrase
from .fitting import best_fit
from .types import Plan, Rendered, Subject

DIFF_TASKS = ("general", "coding", "reasoning", "long-context", "chinese")
SAME = 0.01  # relative gap under which two figures count as equal


def _sides(plan: Plan, ctx: Context) -> list[tuple[Subject, Model, Variant | None]]:
    catalog = ctx.catalog
    subjects = [s for s in plan.catalog_subjects() if s.kind == "model"][:2]
    if len(subjects) == 1:
        model = catalog.by_id[subjects[0].id]
        related = [*model.supersedes, *(m.id for m in catalog.models if model.id in m.supersedes)]
        if related:
            subjects.append(Subject("model", related[0], catalog.by_id[related[0]].name))
    sides = []
    for subject in subjects:
        model = catalog.by_id[subject.id]
        variant = model.variant(subject.variant) if subject.variant else None
        sides.append((subject, facts_model(catalog, subject), variant))
    sides.sort(key=lambda side: side[1].released or "")  # older first
    return sides


def render_diff(plan: Plan, ctx: Context) -> Rendered:
    w = Writer(plan)
    lang = w.language
    sides = _sides(plan, ctx)
    if len(sides) < 2:
        from .render_choice import render_compare  # noqa: PLC0415  (one side only: a plain comparison)

        return render_compare(plan, ctx)
    (_old_s, old, old_v), (_new_s, new, new_v) = sides
    diffs = _fact_diffs(w, old, new, old_v, new_v)
    figures = _figure_diffs(w, ctx, old, new, old_v, new_v)
    names = {"old": old.name, "new": new.name}
    if diffs or figures:
        w.add("diff.lead", cite=ctx.cites.model(new.id), **names, diffs=w.say("list.clauses").join(diffs + [f for f, _sign in figures]))
    else:
        w.add("diff.none", cite=ctx.cites.model(new.id), **names)
    summary = new.summary_en if lang == "en" and getattr(new, "summary_en", None) else new.summary_zh
    if summary:
        w.raw(w.say("diff.about", name=new.name, summary=summary.rstrip("。.")) + ctx.cites.model(new.id))
    signs = [sign for _f, sign in figures]
    if signs:
        key = ("diff.worth_same" if all(s == 0 for s in signs) else "diff.worth_yes" if all(s >= 0 for s in signs)
               else "diff.worth_no" if all(s <= 0 for s in signs) else "diff.worth_depends")
        w.raw(w.say(key, **names))
    elif diffs:
        w.raw(w.say("diff.worth_unmeasured", **names))
    if plan.constraints.has_hardware():
        for model, variant in ((old, old_v), (new, new_v)):
            fit = best_fit(model, variant or max(model.sizes, key=lambda v: v.params_total_b), plan.constraints)
            w.raw(w.say("diff.fits", name=model.name, quant=fit.quant, need=f"{fit.required_gb:.1f}") if fit
                  else w.say("diff.no_fit", name=model.name))
    return Rendered(w.text(), lead=w.lead, parts=w.parts, shown=[old.id, new.id] if old.id != new.id else [new.id],
                    variants={m.id: v.name for m, v in ((old, old_v), (new, new_v)) if v})


def _fact_diffs(w: Writer, old: Model, new: Model, old_v: Variant | None, new_v: Variant | None) -> list[str]:
    lang = w.language
    out: list[str] = []
    a, b = (old_v or old), (new_v or new)
    if (a.params_total_b, a.params_active_b) == (b.params_total_b, b.params_active_b):
        out.append(w.say("diff.same_size", size=_size(a)))
    else:
        out.append(w.say("diff.size", old=_size(a), new=_size(b)))
    if (old.context_native, old.context_max) != (new.context_native, new.context_max) and new.context_max and old.context_max:
        out.append(w.say("diff.context", old=context_phrase(old, lang), new=context_phrase(new, lang)))
    if set(old.modalities) != set(new.modalities):
        out.append(w.say("diff.inputs", old=modalities_phrase(old, lang, old_v), new=modalities_phrase(new, lang, new_v)))
    if old.licence.id != new.licence.id:
        out.append(w.say("diff.licence", old=f"{old.licence.id}（{commercial_label(old.commercial_use, lang)}）" if lang != "en"
                         else f"{old.licence.id} ({commercial_label(old.commercial_use, lang)})",
                         new=f"{new.licence.id}（{commercial_label(new.commercial_use, lang)}）" if lang != "en"
                         else f"{new.licence.id} ({commercial_label(new.commercial_use, lang)})"))
    else:
        out.append(w.say("diff.same_licence", licence=new.licence.id))
    if old.released and new.released and old.released != new.released:
        out.append(w.say("diff.released", old=old.released, new=new.released))
    return out


def _size(target: Model | Variant) -> str:
    total = format_params(target.params_total_b)
    return f"{total} / {format_params(target.params_active_b)}" if target.params_active_b else total


def _figure_diffs(w: Writer, ctx: Context, old: Model, new: Model, old_v: Variant | None,
                  new_v: Variant | None) -> list[tuple[str, int]]:
    """Benchmarks both report, per task: ("LiveCodeBench 65.7 → 80.7", +1)."""
    out: list[tuple[str, int]] = []
    seen: set[str] = set()
    for task in DIFF_TASKS:
        mine = ctx.capabilities.capability(old, old_v or old.sizes[0], task)
        theirs = ctx.capabilities.capability(new, new_v or new.sizes[0], task)
        if not mine or not theirs or mine.get("fallback") or theirs.get("fallback"):
            continue
        for bench in [b for b in theirs["values"] if b in mine["values"] and b not in seen][:1]:
            seen.add(bench)
            a, b = mine["values"][bench], theirs["values"][bench]
            sign = 0 if abs(b - a) <= SAME * max(abs(a), 1) else (1 if b > a else -1)
            figure = theirs["figures"][bench]
            cut = figure.find(f" {b:g} (")
            label = figure[:cut] if cut > 0 else bench
            out.append((w.say("diff.figure", task=task_label(task, w.language), bench=label, old=f"{a:g}", new=f"{b:g}"), sign))
    return out
