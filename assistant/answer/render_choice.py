"""Choosing: recommendations, "why not X", and comparisons that end with a verdict.

All three rank with `ranking.shortlist`, so they agree with each other: a model a
recommendation left out is explained by the constraint it failed or by the signal it ranked
lower on, with the figure.
"""

from __future__ import annotations

import dataclasses

from ..hardware import estimate
from ..knowledge import Model
from ..labels import commercial_label, format_context, format_params, task_label
from ..messages import Message, join
from ..vocabulary import vocabulary
from .context import Context, Writer, facts_model
from .describe import conditions, constraint_summary, context_phrase, display_name, modalities_phrase
from .ranking import USABLE_TOKENS_PER_S, Shortlist, article_specialists, check, shortlist
from .render_facts import superseded_note
from .types import Exclusion, Plan, Recommendation, Rendered, Subject

LIST_LIMIT = 5


def capability_text(w: Writer, rec: Recommendation) -> str:
    cap = rec.capability
    if not cap:
        return w.say("capability.not_measured")
    figure = cap.get("figure") or ""
    fallback = cap.get("fallback")
    if fallback:
        return w.say("capability.fallback", figure=figure, task=task_label(cap.get("task", ""), w.language), basis=task_label(fallback, w.language))
    return w.say("capability.figure", figure=figure)


def rec_reason(w: Writer, rec: Recommendation, plan: Plan) -> str:
    """One line per recommendation: size, licence, fit on the stated hardware, capability."""
    model, variant, lang = rec.model, rec.variant, w.language
    parts = [format_params(variant.params_total_b) + (w.say("describe.active", active=format_params(variant.params_active_b)) if variant.params_active_b else ""),
             w.say("describe.licence_short", id=model.licence.id, badge=commercial_label(model.commercial_use, lang))]
    if rec.fit is not None:
        parts.append(w.say("fit.short", quant=rec.fit.quant, need=f"{rec.fit.required_gb:.1f}",
                           speed=w.say("fit.speed_short", speed=f"{rec.fit.tokens_per_s:g}") if rec.fit.tokens_per_s else ""))
    parts.append(capability_text(w, rec))
    if rec.fit is not None and rec.fit.tokens_per_s is not None and rec.fit.tokens_per_s < USABLE_TOKENS_PER_S:
        parts.append(w.say("fit.too_slow", speed=f"{rec.fit.tokens_per_s:g}"))
    if model.released:
        parts.append(w.say("describe.released_short", date=model.released[:7]))
    return w.say("list.clauses").join(p for p in parts if p)


def why_first(w: Writer, top: Recommendation, runner: Recommendation | None, task: str) -> str:
    """Why the first pick beats the runner-up, with the figures and their sources."""
    lang = w.language
    if runner is None:
        return ""
    unmeasured = [r for r in (top, runner) if not r.capability or r.capability.get("fallback")]
    top_window, runner_window = (top.model.context_native or 0), (runner.model.context_native or 0)
    if task == "long-context" and unmeasured and format_context(top_window, lang) != format_context(runner_window, lang) \
            and top_window > runner_window:
        # No long-context test for one of them: the longer window decided.
        return w.say("recommend.beats_context", top=top.model.name, runner=runner.model.name,
                     top_context=format_context(top_window, lang), runner_context=format_context(runner_window, lang))
    if top.fit and runner.fit and top.capability and runner.capability and top.capability["score"] < runner.capability["score"] \
            and (top.fit.tokens_per_s or 0) > (runner.fit.tokens_per_s or 0):
        # Ranked first for speed, though it scores a little lower: say so, and whether speed was asked for.
        asked = "efficiency" in w.plan.constraints.tasks
        return w.say("recommend.beats_speed_trade" if asked else "recommend.beats_speed_tie", top=top.model.name if top.variant.name == top.model.name else top.variant.name,
                     runner=runner.variant.name, top_speed=f"{top.fit.tokens_per_s:g}", runner_speed=f"{runner.fit.tokens_per_s:g}",
                     top_figure=top.capability.get("figure", ""), runner_figure=runner.capability.get("figure", ""))
    if top.capability and runner.capability:
        top_values, runner_values = top.capability.get("values", {}), runner.capability.get("values", {})
        ahead = [b for b in top_values if b in runner_values and top_values[b] > runner_values[b]]
        if ahead:  # a benchmark both report, on which the pick is ahead
            figures = top.capability.get("figures", {}), runner.capability.get("figures", {})
            basis = top.capability.get("fallback") if top.capability.get("fallback") == runner.capability.get("fallback") else None
            return w.say("recommend.beats", top=top.model.name, runner=runner.model.name, task=task_label(basis or task, lang),
                         top_figure=figures[0][ahead[0]], runner_figure=figures[1][ahead[0]])
        if top.capability["score"] < runner.capability["score"]:
            # Ranked first by what else the ranking weighs (a caution, the licence, a preference), not by the score.
            return w.say("recommend.beats_close", top=top.model.name, runner=runner.model.name, task=task_label(task, lang),
                         top_figure=top.capability.get("figure", ""), runner_figure=runner.capability.get("figure", ""))
        # No shared benchmark where it leads: the pick rests on the combined score across tests.
        return w.say("recommend.beats_combined", top=top.model.name, runner=runner.model.name, task=task_label(task, lang),
                     top_score=f"{top.capability['score']:.2f}", runner_score=f"{runner.capability['score']:.2f}",
                     top_figure=top.capability.get("figure", ""), runner_figure=runner.capability.get("figure", ""))
    if top.capability and not runner.capability:
        return w.say("recommend.beats_unmeasured", top=top.model.name, runner=runner.model.name, figure=top.capability.get("figure", ""))
    if top.fit and runner.fit and (top.fit.tokens_per_s or 0) > (runner.fit.tokens_per_s or 0):
        return w.say("recommend.beats_speed", top=top.model.name, runner=runner.model.name, top_speed=f"{top.fit.tokens_per_s:g}",
                     runner_speed=f"{runner.fit.tokens_per_s:g}")
    return w.say("recommend.beats_unknown", top=top.model.name, runner=runner.model.name)


def _needs_line(w: Writer, rec: Recommendation) -> str:
    """What a model needs to run (Q4_K_M with a 4k context), for answers without hardware."""
    est = estimate(rec.variant, 10_000, "Q4_K_M", 4096, model_id=rec.model.id)
    return w.say("recommend.needs", need=f"{est.required_gb:.0f}")


def _rec_name(rec: Recommendation) -> str:
    """The model, and its size when the model comes in several."""
    if rec.variant.name == rec.model.name or len(rec.model.sizes) <= 1:
        return rec.model.name
    return f"{rec.model.name} · {rec.variant.name}"


def render_recommend(plan: Plan, ctx: Context) -> Rendered:
    catalog = ctx.catalog
    w = Writer(plan)
    c = plan.constraints
    families = [s.id for s in plan.families()]
    models = [s.id for s in plan.models()]
    only = models if models and (len(models) >= 2 or plan.reference == "choose-among" or plan.reason.startswith("which-question naming")) else None
    limit = min(plan.count or LIST_LIMIT, 10)
    # "Top 3 by BFCL v4", 「前三名」: a ranking, where every size competes on its own figure.
    ranking_sizes = bool(c.benchmark or plan.count) and not plan.just_one and only is None
    result = shortlist(catalog, c, ctx.capabilities, family=families[0] if len(families) == 1 else None, only=only,
                       mentioned=c.mentioned_models, limit=limit, per_size=(bool(only) and len(set(models)) == 1) or ranking_sizes)
    restricted_out: list[Exclusion] = []
    if not result.ranked and (only is not None or len(families) == 1):
        # The named models (or family) all fail: say why, then answer the need from the whole catalog.
        restricted_out = [e for e in result.all_excluded if only is None or e.model.id in only][:3]
        result = shortlist(catalog, c, ctx.capabilities, mentioned=c.mentioned_models, limit=limit)
        families, only = [], None
    by_size = ranking_sizes
    if only is None and not ranking_sizes and len(families) != 1 and 1 <= result.count <= limit and not plan.just_one:
        # A short list is complete: every size that fits is its own entry, so "only N" counts what is shown.
        sized = shortlist(catalog, c, ctx.capabilities, mentioned=c.mentioned_models, limit=2 * limit, per_size=True)
        if sized.count > result.count:
            result, by_size = sized, True
    recs = result.recommendations
    if plan.more and ctx.state is not None and ctx.state.shown:
        recs = [r for r in result.ranked if r.model.id not in ctx.state.shown][:limit]
    summary = constraint_summary(plan, w.language)
    if restricted_out:
        w.add("recommend.named_fail", summary=summary or w.say("summary.none"),
              reasons=w.say("list.clauses").join(e.reason.text(w.language) for e in restricted_out))
    if not recs:
        w.add("recommend.none", summary=summary or w.say("summary.none"))
        w.raw(w.say("recommend.relax"))
    else:
        top = recs[0]
        runner = recs[1] if len(recs) > 1 else None
        name = top.model.name if top.variant.name == top.model.name else f"{top.model.name}（{top.variant.name}）" if w.language != "en" else f"{top.model.name} ({top.variant.name})"
        key = "recommend.strongest" if plan.strongest and not c.hard else "recommend.top"
        sole = result.count == 1 and runner is None
        scope = join([catalog.family_by_id[f].name for f in families], w.language) if len(families) == 1 else ""
        why = (w.say("recommend.sole_in" if scope else "recommend.sole", summary=summary or w.say("summary.none"), scope=scope) if sole
               else why_first(w, top, runner, result.task))
        w.add(key, cite=ctx.cites.model(top.model.id), name=name, why=why, summary=summary)
        shown_recs = recs[:1] if plan.just_one else recs
        count = result.count
        per_size = only is not None and len(set(models)) == 1
        if per_size:
            w.raw(w.say("recommend.sizes_fit", model=catalog.by_id[models[0]].name, count=count, summary=summary) if summary else
                  w.say("recommend.sizes_all", model=catalog.by_id[models[0]].name, count=count, task=task_label(result.task, w.language)))
        elif plan.just_one:
            if count > 1:
                w.raw(w.say("recommend.one_of", count=count))
        elif count == 1:
            if not sole:
                w.raw(w.say("recommend.only_one", summary=summary or w.say("summary.none")))
        elif count <= limit or (by_size and not ranking_sizes):
            w.raw(w.say("recommend.only_n_sizes" if by_size else "recommend.only_n", count=count, summary=summary or w.say("summary.none")))
        else:
            w.raw(w.say("recommend.top_n_sizes" if by_size else "recommend.top_n", count=count, shown=len(shown_recs), summary=summary or w.say("summary.none"),
                        task=task_label(result.task, w.language)))
        for n, rec in enumerate(shown_recs, 1):
            rec.reason = rec_reason(w, rec, plan)  # the same words the API and the UI cards carry
            line = w.say("recommend.item", n=n, name=_rec_name(rec), reason=rec.reason)
            if c.memory_gb is None:
                line += w.say("list.clause_sep") + _needs_line(w, rec)
            w.raw(line + ctx.cites.model(rec.model.id))
            for note in result.caveats.get(rec.model.id, []):
                w.raw("  " + note.text(w.language))
        picks = article_specialists(catalog, c, [r.model.id for r in recs]) if only is None else []
        if picks:
            tasks = [t for t in c.tasks if any(m.strengths[0] == t for m in picks)]
            w.raw(w.say("recommend.article_specialists", task=task_label(tasks[0], w.language),
                        names=join([m.name for m in picks[:3]], w.language)) + "".join(ctx.cites.model(m.id) for m in picks[:3]))
        if top.model.commercial_use == "conditional" and (c.commercial_required or "commercial" in plan.attributes):
            w.raw(w.say("recommend.condition", name=top.model.name, conditions=conditions(top.model, w.language)))
        art = ctx.cites.article(top.model.family)
        reason = top.model.verdict_reason if w.language != "en" else (top.model.verdict_reason_en or top.model.verdict_reason)
        if top.model.article_section:
            w.raw(w.say("describe.verdict", name=top.model.name, reason=reason.rstrip("。."), cite=art))
    if result.excluded and recs:
        w.raw(w.say("recommend.why_not_head"))
        for e in result.excluded:
            w.raw("- " + e.reason.text(w.language))
    for name in plan.mentions_closed:
        closed = next((x for x in catalog.closed_models if x.name == name), None)
        if closed is not None:
            w.raw(w.say("closed.as_reference", name=closed.name, vendor=closed.vendor))
    for note in c.assumptions:
        w.raw(w.say("assume.line", text=note.text(w.language)))
    if c.memory_gb is not None and recs:
        w.raw(w.say("fit.estimate_note"))
    if recs and any(r.capability for r in recs):
        w.raw(w.say("capability.note"))
    shown = recs[:1] if plan.just_one else recs
    return Rendered(
        w.text(), lead=w.lead, parts=w.parts, recommendations=list(shown), excluded=[_plain(e, w) for e in result.excluded],
        shown=[r.model.id for r in shown], variants={r.model.id: r.variant.name for r in shown},
    )


def _plain(exclusion: Exclusion, w: Writer) -> Exclusion:
    """An exclusion with its reason as text (what `Reply.excluded` and the UI show)."""
    reason = exclusion.reason.text(w.language) if isinstance(exclusion.reason, Message) else exclusion.reason
    return Exclusion(exclusion.model, reason, exclusion.constraint)


def render_why_not(plan: Plan, ctx: Context) -> Rendered:
    catalog = ctx.catalog
    w = Writer(plan)
    c = plan.constraints
    has_request = ctx.state is not None and ctx.state.constraints is not None or c.stated
    claimed_licences = {cl.value.lower() for cl in plan.claims if cl.attribute == "licence"}
    if claimed_licences and c.licence_ids:
        prior = ctx.state.constraints.licence_ids if ctx.state is not None and ctx.state.constraints else []
        c.licence_ids = [x for x in c.licence_ids if x.lower() in {p.lower() for p in prior} or x.lower() not in claimed_licences]
    result: Shortlist | None = shortlist(catalog, c, ctx.capabilities, limit=LIST_LIMIT) if has_request else None
    shown: list[str] = []
    summary = constraint_summary(plan, w.language)
    for subject in plan.catalog_subjects()[:2]:
        members = [facts_model(catalog, subject)] if subject.kind == "model" else catalog.models_of(subject.id)
        cite = ctx.cites.model(members[0].id) if subject.kind == "model" else ctx.cites.family(subject.id)
        failures = [(m, check(m, c, catalog)) for m in members]
        passing = [m for m, broken in failures if broken is None]
        failing = [(m, broken) for m, broken in failures if broken is not None]
        shown += [m.id for m in members]
        for claim in [cl for cl in plan.claims if cl.attribute == "licence" and cl.subject == subject.id]:
            held = [m.name for m in members if m.licence.id.lower().startswith(claim.value.lower())]
            if held:
                w.add("why_not.licence_right", name=subject.name, licence=claim.value, models=join(held[:4], w.language))
            else:
                w.add("why_not.licence_wrong", name=subject.name, licence=claim.value,
                      actual=join(list(dict.fromkeys(m.licence.id for m in members)), w.language))
        if not has_request:
            model = members[0]
            w.add("why_not.no_request", cite=cite, name=subject.name, weaknesses="；".join(model.weaknesses[:3]) or "—")
            continue
        if not passing:
            reasons = list(dict.fromkeys(broken[1].text(w.language).split("：", 1)[-1].split(": ", 1)[-1] for _m, broken in failures if broken))
            w.add("why_not.failed", cite=cite, name=subject.name, reasons=w.say("list.clauses").join(reasons[:3]), summary=summary)
            continue
        assert result is not None
        if subject.kind == "family" and failing:
            # Some members fail a hard constraint: say which and why, first.
            reasons = list(dict.fromkeys(b[1].text(w.language).split("：", 1)[-1].split(": ", 1)[-1] for _m, b in failing))
            w.add("why_not.family_failed", cite=cite, names=join([m.name for m, _b in failing][:4], w.language),
                  reasons=w.say("list.clauses").join(reasons[:2]), passing=join([m.name for m in passing][:3], w.language))
        place = min((p for p in (result.position(m.id) for m in passing) if p), default=None)
        model = passing[0]
        rec = next((r for r in result.ranked if r.model.id == model.id), None)
        top = result.ranked[0] if result.ranked else None
        soft = _soft_reasons(w, model, c, result)
        shown_before = ctx.state.shown if ctx.state is not None and ctx.state.shown else [r.model.id for r in result.recommendations]
        if rec is not None and model.id in shown_before:
            w.add("why_not.listed", cite=cite, name=subject.name, place=shown_before.index(model.id) + 1)
            for reason in soft:
                w.raw(reason)
        elif rec is not None and top is not None:
            if soft:
                w.add("why_not.soft_lead", cite=cite, name=subject.name, reason=soft[0], place=place, count=result.count)
                for reason in soft[1:]:
                    w.raw(reason)
            if rec.capability and top.capability:
                key = "why_not.ranked_lower" if not soft else "why_not.rank_figure"
                w.add(key, cite="" if soft else cite, name=subject.name, place=place, count=result.count,
                      task=task_label(result.task, w.language), figure=rec.capability.get("figure", ""), top=top.model.name,
                      top_figure=top.capability.get("figure", ""))
            else:
                key = "why_not.ranked_lower_unmeasured" if not soft else "why_not.rank_unmeasured"
                w.add(key, cite="" if soft else cite, name=subject.name, place=place, count=result.count, top=top.model.name,
                      task=task_label(result.task, w.language))
    return Rendered(w.text(), lead=w.lead, parts=w.parts, shown=shown)


def _soft_reasons(w: Writer, model, c, result: Shortlist) -> list[str]:
    """What pulls a model that passed every hard filter down: the article's verdict, a caveat for
    the request, a licence condition when commercial use is required."""
    reasons = []
    if model.verdict == "not-recommended":
        reason = model.verdict_reason if w.language != "en" else (model.verdict_reason_en or model.verdict_reason)
        reasons.append(w.say("why_not.reason_article", reason=reason.rstrip("。.")))
    for note in result.caveats.get(model.id, []):
        reasons.append(w.say("why_not.reason_caveat", caveat=note.slots.get("weakness_zh" if w.language != "en" else "weakness_en", "")))
    if c.commercial_required and model.commercial_use == "conditional" and model.commercial_conditions:
        reasons.append(w.say("why_not.reason_licence", conditions=conditions(model, w.language)))
    return [r for r in reasons if r.strip()]


def _compared(plan: Plan, ctx: Context) -> list[Subject]:
    """What a comparison is between: the named subjects; one named model alone means its sizes and
    the releases that share its name ("Mistral Small 3、3.1 還有新版差在哪")."""
    catalog = ctx.catalog
    subjects = plan.catalog_subjects()[:4]
    models = [s for s in subjects if s.kind == "model"]
    if len({(s.id, s.kind) for s in subjects}) == 1 and models and len(subjects) == 1:
        model = catalog.by_id[models[0].id]
        expanded = [Subject("model", model.id, model.name, v.name) for v in model.sizes] if len(model.sizes) > 1 else [models[0]]
        related = [*model.supersedes, *(m.id for m in catalog.models if model.id in m.supersedes)]
        expanded += [Subject("model", other, catalog.by_id[other].name) for other in related]
        return expanded[:6]
    return subjects


_PERMISSIVE = {"yes": 2, "conditional": 1, "no": 0}


def licence_verdict(w: Writer, models: list[Model], ctx: Context, same_asked: bool = False) -> None:
    """"Which of the two has the less restrictive licence?": the more permissive one first
    (commercial use allowed, then an OSI licence), or "the same terms"."""
    if len(models) < 2:
        return
    def rank(m: Model) -> tuple[int, int]:
        return _PERMISSIVE.get(m.commercial_use, 0), int(bool(m.licence.open_source))
    ordered = sorted(models, key=rank, reverse=True)
    top, others = ordered[0], ordered[1:]
    lang = w.language
    described = [w.say("compare.licence_of", name=m.name, licence=m.licence.id, badge=commercial_label(m.commercial_use, lang)) for m in ordered]
    if same_asked:
        same = len({m.licence.id for m in ordered}) == 1
        w.add("compare.licence_same" if same else "compare.licence_differs", cite=ctx.cites.model(top.id), licences=join(described, lang))
    elif all(rank(m) == rank(top) for m in others):
        key = "compare.licence_same" if len({m.licence.id for m in ordered}) == 1 else "compare.licence_tie"
        w.add(key, cite=ctx.cites.model(top.id), licences=join(described, lang))
    else:
        w.add("compare.licence_pick", cite=ctx.cites.model(top.id), name=top.name, licences=join(described, lang))


def render_compare(plan: Plan, ctx: Context) -> Rendered:
    catalog = ctx.catalog
    w = Writer(plan)
    c = plan.constraints
    subjects = _compared(plan, ctx)
    if {"licence", "commercial"} & set(plan.attributes):
        licence_verdict(w, [facts_model(catalog, s) for s in subjects if s.kind == "model"], ctx, plan.same_asked)
        # The licences the user named were a description ("signed off on Gemma 3 under the Gemma terms"), not a filter.
        c = dataclasses.replace(c, licence_ids=[], open_source_only=False)
    ids = list(dict.fromkeys(sid for s in subjects for sid in ([s.id] if s.kind == "model" else [m.id for m in catalog.models_of(s.id)])))
    result = shortlist(catalog, c, ctx.capabilities, only=ids, limit=20, diverse=False, per_size=True)
    order = {id(r): n for n, r in enumerate(result.ranked)}

    def best_for(subject: Subject) -> Recommendation | None:
        members = {subject.id} if subject.kind == "model" else {m.id for m in catalog.models_of(subject.id)}
        for rec in result.ranked:  # best first
            if rec.model.id in members and (not subject.variant or rec.variant.name == subject.variant):
                return rec
        return None

    rows = [(subject, best_for(subject)) for subject in subjects]
    passing = [(s, r) for s, r in rows if r is not None]
    summary = constraint_summary(dataclasses.replace(plan, constraints=c), w.language)
    need = summary or w.say("compare.overall")
    best: Recommendation | None = None
    if passing:
        subject, best = min(passing, key=lambda sr: order[id(sr[1])])
        because = []
        # Against the runner-up only (the next in ranking order), then why each failing one fails.
        runner_up = min((r for s, r in passing if s is not subject), key=lambda r: order[id(r)], default=None)
        if runner_up is not None:
            because.append(why_first(w, best, runner_up, result.task))
        for other_subject, other in rows:
            if other is None:
                broken = next((e for e in result.all_excluded if e.model.id == other_subject.id or e.model.family == other_subject.id), None)
                because.append(broken.reason.text(w.language) if broken else w.say("compare.fails", name=_label(other_subject)))
        w.add("compare.verdict", name=_rec_name(best), need=need, because=w.say("list.clauses").join(b.rstrip("。.") for b in because if b))
    else:
        reasons = [e.reason.text(w.language) for e in result.all_excluded]
        w.add("compare.neither", summary=need, reasons=w.say("list.clauses").join(reasons[:3]))
    w.raw(w.say("compare.head"))
    # The pick first, then the others in ranking order, then those that fail.
    rows.sort(key=lambda sr: order[id(sr[1])] if sr[1] is not None else len(order))
    for subject, rec in rows:
        model = facts_model(catalog, subject) if subject.kind == "model" else catalog.models_of(subject.id)[0]
        if rec is not None:
            model = rec.model
            line = rec.reason = rec_reason(w, rec, plan)
        else:
            excluded = next((e for e in result.all_excluded if e.model.id == subject.id), None)
            line = excluded.reason.text(w.language) if excluded else ""
        w.raw(w.say("compare.row", name=_label(subject) if subject.kind == "family" else display_name(model), vendor=model.vendor,
                    line=line, context=context_phrase(model, w.language),
                    inputs=modalities_phrase(model, w.language)) + ctx.cites.model(model.id))
    for subject in plan.catalog_subjects():
        if subject.kind == "model":
            superseded_note(w, catalog.by_id[subject.id], catalog, ctx)
    if best is not None and len(passing) > 1:
        runner = sorted((r for _s, r in passing), key=lambda r: order[id(r)])[1]
        change = what_would_change(w, best, runner, result.task, ctx)
        if change:
            w.raw(change)
    elif passing and len(rows) > len(passing):
        w.raw(w.say("compare.change_constraint"))
    return Rendered(w.text(), lead=w.lead, parts=w.parts, shown=list(dict.fromkeys(s.id for s in subjects if s.kind == "model")),
                    recommendations=sorted((r for _s, r in passing), key=lambda r: order[id(r)]), variants={r.model.id: r.variant.name for _s, r in passing})


def _label(subject: Subject) -> str:
    return subject.variant or subject.name


def what_would_change(w: Writer, best: Recommendation, runner: Recommendation, task: str, ctx: Context) -> str:
    """What would make the runner-up the better pick: its own advantage, stated, or that it has none."""
    if (runner.model.context_native or 0) > (best.model.context_native or 0):
        return w.say("compare.change_context", runner=runner.model.name, context=context_phrase(runner.model, w.language))
    if runner.variant.params_total_b < best.variant.params_total_b * 0.7:
        return w.say("compare.change_smaller", runner=runner.model.name, size=format_params(runner.variant.params_total_b))
    if runner.model.commercial_use == "yes" and best.model.commercial_use != "yes":
        return w.say("compare.change_licence", runner=runner.model.name, licence=runner.model.licence.id)
    lead, compared = task_where_ahead(ctx, runner, best, exclude=task)
    if lead is not None:
        other, figure, best_figure = lead
        return w.say("compare.change_task", runner=runner.model.name, other=task_label(other, w.language),
                     figure=figure, best=best.model.name, best_figure=best_figure)
    return w.say("compare.no_edge", runner=runner.model.name, best=best.model.name) if compared else ""


def task_where_ahead(ctx: Context, ahead: Recommendation, behind: Recommendation,
                     exclude: str) -> tuple[tuple[str, str, str] | None, bool]:
    """A task, other than the one ranked by, on which `ahead` has measured figures beating `behind`'s
    on every benchmark both report; and whether any task had figures for both to compare."""
    compared = False
    tasks = vocabulary().terms("tasks")
    seen = {exclude} | {t.get("capability") for t in tasks if t.id == exclude}
    for term in tasks:
        capability = term.get("capability")
        if not term.get("specialist") or not capability or capability in seen:
            continue
        seen.add(capability)
        mine = ctx.capabilities.capability(ahead.model, ahead.variant, capability)
        theirs = ctx.capabilities.capability(behind.model, behind.variant, capability)
        if not mine or not theirs or mine.get("fallback") or theirs.get("fallback"):
            continue
        shared = [b for b in mine["values"] if b in theirs["values"]]
        compared = compared or bool(shared)
        if shared and all(mine["values"][b] > theirs["values"][b] for b in shared):
            return (term.id, mine["figures"][shared[0]], theirs["figures"][shared[0]]), True
    return None, compared
