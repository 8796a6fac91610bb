"""「Gemma 3 適合寫程式嗎？」 "Is Phi-4 good for coding?": a yes/no on one named model for one task.

The verdict rests on where the model's best size stands for the task among every catalog model
with a measured figure (its place and figure are stated), on the catalog's tagged strengths and
weaknesses, and on the question's other conditions; then the stronger models of the same size or
smaller, so "no" always comes with what to use instead.
"""

from __future__ import annotations

import dataclasses

from ..labels import format_params, task_label
from ..messages import join
from ..vocabulary import vocabulary
from .context import Context, Writer
from .describe import constraint_summary
from .ranking import ranking_task, shortlist
from .render_choice import rec_reason
from .render_facts import attribute_lead
from .types import Plan, Recommendation, Rendered

GOOD_SHARE = 0.25  # in the top quarter of the measured models: suited
FAIR_SHARE = 0.6  # above this share: not suited
ALTERNATES = 3
SIZE_SLACK = 1.2  # "the same size or smaller": up to 20 % larger still counts


def render_suitability(plan: Plan, ctx: Context) -> Rendered:
    catalog = ctx.catalog
    w = Writer(plan)
    subject = plan.catalog_subjects()[0]
    members = {subject.id} if subject.kind == "model" else {m.id for m in catalog.models_of(subject.id)}
    c = dataclasses.replace(plan.constraints, mentioned_models=[])
    asked = next((t for t in c.tasks if t != "general"), "general")
    term = vocabulary().term("tasks", asked)
    if term is not None and not term.get("capability"):
        return _by_tags(w, plan, ctx, asked)  # "適合微調嗎": no figure measures it, the catalog's tags decide
    task = ranking_task(c)
    label = task_label(task, w.language)
    result = shortlist(catalog, c, ctx.capabilities, limit=1, diverse=False, per_size=True)
    own = [r for r in result.ranked if r.model.id in members and (not subject.variant or r.variant.name == subject.variant)]
    name = subject.variant or subject.name
    if not own:
        broken = next((e for e in result.all_excluded if e.model.id in members), None)
        w.add("suit.excluded", name=name, task=label, reason=broken.reason.text(w.language) if broken else "")
        return _with_alternates(w, plan, ctx, result.ranked, None, label)
    best = own[0]
    measured = [r for r in result.ranked if _measured(r)]
    weakness = _weakness(best, task, catalog, w.language)
    tagged = task in best.model.strengths
    if weakness:
        key = "suit.weak"
    elif _measured(best):
        place = 1 + sum(1 for r in measured if r.capability["score"] > best.capability["score"])
        share = place / max(1, len(measured))
        key = "suit.yes" if share <= GOOD_SHARE else "suit.fair" if share <= FAIR_SHARE else "suit.no"
    else:
        key = "suit.tagged" if tagged else "suit.unknown"
    size = best.variant.name if best.variant.name != best.model.name else best.model.name
    w.add(key, cite=ctx.cites.model(best.model.id), name=name, size=size, task=label, weakness=weakness)
    if _measured(best):
        place = 1 + sum(1 for r in measured if r.capability["score"] > best.capability["score"])
        w.raw(w.say("suit.place", size=size, task=label, figure=best.capability.get("figure", ""), place=place, count=len(measured)))
    elif best.capability:
        w.raw(w.say("suit.stand_in", size=size, task=label, figure=best.capability.get("figure", "")))
    if tagged and key != "suit.tagged":
        w.raw(w.say("suit.strength", name=best.model.name, task=label))
    _other_attributes(w, plan, ctx)
    return _with_alternates(w, plan, ctx, result.ranked, best, label)


def _other_attributes(w: Writer, plan: Plan, ctx: Context) -> None:
    """"…any good for coding? and what's the licence": the other things asked, after the verdict."""
    subject = plan.catalog_subjects()[0]
    if subject.kind != "model":
        return
    model = ctx.catalog.by_id[subject.id]
    variant = model.variant(subject.variant) if subject.variant else None
    for attribute in [a for a in plan.attributes if a != "verdict"]:
        attribute_lead(w, plan, model, variant, ctx.catalog, attribute, ctx.cites.model(model.id))


def _by_tags(w: Writer, plan: Plan, ctx: Context, task: str) -> Rendered:
    """A task no capability figure measures (fine-tuning, tool use …): the catalog's strength tags."""
    catalog = ctx.catalog
    subject = plan.catalog_subjects()[0]
    models = [catalog.by_id[subject.id]] if subject.kind == "model" else catalog.models_of(subject.id)
    label = task_label(task, w.language)
    tagged = [m for m in models if task in m.strengths]
    name = subject.variant or subject.name
    w.add("suit.tagged_only" if tagged else "suit.untagged", cite=ctx.cites.model(models[0].id), name=name, task=label)
    _other_attributes(w, plan, ctx)
    if not tagged:
        others = [m for m in catalog.models if task in m.strengths and m.status == "released" and m.id not in {x.id for x in models}]
        others.sort(key=lambda m: m.released or "", reverse=True)
        if others:
            w.raw(w.say("suit.tagged_others", task=label, names=join([m.name for m in others[:5]], w.language)))
    return Rendered(w.text(), lead=w.lead, parts=w.parts, shown=[m.id for m in tagged])


def _measured(rec: Recommendation) -> bool:
    return bool(rec.capability) and not rec.capability.get("fallback")


def _weakness(rec: Recommendation, task: str, catalog, language: str) -> str:
    """A tagged weakness the request rules name for this task ("the article advises against it for coding")."""
    tags = {tag for rule in catalog.request_rules if rule.request == task for tag in (*rule.excludes, *rule.cautions)}
    hit = next((t for t in rec.model.weakness_tags if t in tags), None)
    if hit is None:
        return ""
    label = catalog.weakness_labels[hit]
    return label.en if language == "en" else label.zh


def _with_alternates(w: Writer, plan: Plan, ctx: Context, ranked: list[Recommendation], best: Recommendation | None,
                     label: str) -> Rendered:
    """The stronger models of the same size or smaller (any size when the subject failed)."""
    members = {s.id for s in plan.catalog_subjects()} | {m.id for s in plan.catalog_subjects() if s.kind == "family"
                                                          for m in ctx.catalog.models_of(s.id)}
    limit = best.variant.params_total_b * SIZE_SLACK if best is not None else None
    better = [r for r in ranked if r.model.id not in members and _measured(r)
              and (limit is None or r.variant.params_total_b <= limit)
              and (best is None or not _measured(best) or r.capability["score"] > best.capability["score"])]
    seen: set[str] = set()
    picks = []
    for rec in better:
        if rec.model.id not in seen:
            seen.add(rec.model.id)
            picks.append(rec)
        if len(picks) == ALTERNATES:
            break
    if picks:
        items = [w.say("suit.alternate", name=r.variant.name, figure=r.capability.get("figure", "")) + ctx.cites.model(r.model.id)
                 for r in picks]
        head = "suit.better_same_size" if best is not None else "suit.better_any"
        w.raw(w.say(head, task=label, size=format_params(best.variant.params_total_b) if best else ""))
        for item in items:
            w.raw(item)
    elif best is not None and _measured(best):
        w.raw(w.say("suit.none_better", task=label, size=format_params(best.variant.params_total_b)))
    return Rendered(w.text(), lead=w.lead, parts=w.parts, shown=[r.model.id for r in picks],
                    recommendations=([best] if best else []) + picks)


ONLY_SHOWN = 5


def render_only(plan: Plan, ctx: Context) -> Rendered:
    """Whether the named model really is the only one that meets the stated conditions."""
    catalog = ctx.catalog
    w = Writer(plan)
    subjects = plan.catalog_subjects()
    members = {s.id for s in subjects if s.kind == "model"} | {m.id for s in subjects if s.kind == "family" for m in catalog.models_of(s.id)}
    name = join([s.variant or s.name for s in subjects], w.language)
    c = dataclasses.replace(plan.constraints, mentioned_models=[], mentioned_families=[])
    summary = constraint_summary(plan, w.language) or w.say("summary.none")
    result = shortlist(catalog, c, ctx.capabilities, limit=ONLY_SHOWN + len(members))
    others = [r for r in result.recommendations if r.model.id not in members][:ONLY_SHOWN]
    count_others = sum(1 for r in result.ranked if r.model.id not in members)
    passing = [r for r in result.ranked if r.model.id in members]
    if not others:
        key = "only.true" if passing else "only.none"
        w.add(key, name=name, summary=summary)
    elif passing:
        w.add("only.false", name=name, summary=summary, count=count_others, others=join([r.model.name for r in others[:3]], w.language))
    else:
        broken = next((e for e in result.all_excluded if e.model.id in members), None)
        w.add("only.subject_fails", name=name, summary=summary, reason=broken.reason.text(w.language) if broken else "",
              count=count_others, others=join([r.model.name for r in others[:3]], w.language))
    shown = passing[:1] + others
    for n, rec in enumerate(shown, 1):
        rec.reason = rec_reason(w, rec, plan)
        w.raw(w.say("recommend.item", n=n, name=rec.variant.name, reason=rec.reason) + ctx.cites.model(rec.model.id))
    return Rendered(w.text(), lead=w.lead, parts=w.parts, shown=[r.model.id for r in shown], recommendations=shown)
