"""Fact answers: a named model's or family's facts, the asked attribute first, and false premises."""

from __future__ import annotations

from collections import Counter

from ..business import findings
from ..hardware import estimate
from ..knowledge import Catalog, Model, Variant
from ..labels import commercial_label, country_label, format_context, format_params, memory_kind_label
from ..messages import join
from .citations import article_quote
from .context import Context, Writer, facts_model
from .describe import (
    architecture_phrase,
    conditions,
    context_phrase,
    display_name,
    languages_phrase,
    licence_phrase,
    modalities_phrase,
    size_phrase,
    summary,
    vendor_phrase,
)
from .ranking import fit_variant, supports_language, takes_audio, takes_images
from .read import claim_holds
from .types import Plan, Rendered, Subject

_COVERED = {"commercial", "licence", "size", "memory", "experts", "context", "modalities", "vendor", "country", "released", "base", "languages"}


def commercial_lead(w: Writer, model: Model, name: str, cite: str, prefix: str = "") -> None:
    key = {"yes": "fact.commercial.yes", "conditional": "fact.commercial.conditional", "no": "fact.commercial.no"}[model.commercial_use]
    w.add(key, cite=cite, prefix=prefix, name=name, licence=model.licence.name, id=model.licence.id, conditions=conditions(model, w.language))


def terms_lines(w: Writer, plan: Plan, model: Model, cite: str = "") -> bool:
    """What the licence's thresholds mean for the business the user described (revenue, users,
    location), worst first; True when something was said."""
    found = findings(model, plan.constraints.business)
    order = {"blocked": 0, "display": 1, "clear": 2}
    for n, (_outcome, message) in enumerate(sorted(found, key=lambda f: order[f[0]])):
        if n == 0:
            w.add(message.key, cite=cite, **message.slots)
        else:
            w.raw(message.text(w.language))
    return bool(found)


def attribute_lead(w: Writer, plan: Plan, model: Model, variant: Variant | None, catalog: Catalog, attribute: str | None, cite: str, prefix: str = "") -> None:
    """The sentence that answers `attribute` about `model` (the first one is the answer's lead)."""
    name = display_name(model, variant) if variant else model.name
    lang = w.language
    if attribute in ("commercial", "licence") and terms_lines(w, plan, model, cite):
        prefix = w.say("terms.general_prefix")  # the user's own situation first, then the licence in general
    if attribute == "commercial":
        return commercial_lead(w, model, name, cite, prefix)
    if attribute == "licence":
        w.add("fact.licence", cite=cite, prefix=prefix, name=name, licence=model.licence.name, id=model.licence.id,
              badge=commercial_label(model.commercial_use, lang))
        return None
    if attribute in ("size", "memory"):
        if variant is None and len(model.sizes) > 1 and plan.size_extreme:
            pick = (min if plan.size_extreme == "smallest" else max)(model.sizes, key=lambda v: v.params_total_b)
            w.add(f"fact.size_{plan.size_extreme}", cite=cite, prefix=prefix, name=model.name, variant=pick.name, params=format_params(pick.params_total_b))
            return None
        w.add("fact.size", cite=cite, prefix=prefix, name=name, size=size_phrase(model, lang, variant))
        return None
    if attribute == "experts":
        # The sizes asked about: the one named, the largest/smallest asked for, else every size.
        if variant is not None:
            sizes = [variant]
        elif plan.size_extreme and len(model.sizes) > 1:
            sizes = [(min if plan.size_extreme == "smallest" else max)(model.sizes, key=lambda v: v.params_total_b)]
        else:
            sizes = list(model.sizes)
        sparse = [v for v in sizes if v.params_active_b and v.params_active_b < v.params_total_b]
        architecture = architecture_phrase(model, lang)
        if sparse and len(sparse) == len(sizes):
            one = sparse[0] if len(sparse) == 1 else None
            active = format_params(one.params_active_b) if one else join([f"{v.name} {format_params(v.params_active_b)}" for v in sparse], lang)
            label = one.name if one and variant is None and len(model.sizes) > 1 else name
            w.add("fact.moe", cite=cite, prefix=prefix, name=label, active=active,
                  architecture=architecture if model.architecture == "moe" else w.say("fact.moe_with", architecture=architecture))
        elif sparse:
            w.add("fact.moe_some", cite=cite, prefix=prefix, name=name,
                  moe=join([f"{v.name}（{format_params(v.params_active_b)}）" if lang != "en" else f"{v.name} ({format_params(v.params_active_b)} active)" for v in sparse], lang),
                  dense=join([v.name for v in sizes if v not in sparse], lang))
        else:
            w.add("fact.not_moe", cite=cite, prefix=prefix, name=name, architecture=architecture)
        return None
    if attribute == "context":
        if not model.context_native:
            w.add("fact.context_missing", cite=cite, prefix=prefix, name=name)
        else:
            w.add("fact.context", cite=cite, prefix=prefix, name=name, context=context_phrase(model, lang))
        return None
    if attribute == "modalities":
        asked = plan.modality_asked
        has = takes_audio(model, variant) if asked == "audio" else takes_images(model, variant) if asked == "image" else "video" in model.modalities
        w.add(f"fact.modality.{'yes' if has else 'no'}", cite=cite, prefix=prefix, name=name,
              what=w.say(f"label.modality.{asked}"), modalities=modalities_phrase(model, lang, variant))
        return None
    if attribute == "languages":
        w.add("fact.languages", cite=cite, prefix=prefix, name=name, languages=languages_phrase(model, lang))
        return None
    if attribute == "vendor":
        w.add("fact.vendor", cite=cite, prefix=prefix, name=name, vendor=vendor_phrase(model, catalog, lang))
        return None
    if attribute == "country":
        w.add("fact.country", cite=cite, prefix=prefix, name=name, country=country_label(model.country, lang), vendor=model.vendor)
        return None
    if attribute == "released" and model.released:
        dated = {} if variant is not None else {v.name: v.released for v in model.sizes if v.released and v.released != model.released}
        if dated:
            # Sizes released on their own dates (Qwen3.5's small sizes two weeks later; TAIDE's 2602 version).
            by_date: dict[str, list[str]] = {}
            for v in model.sizes:
                by_date.setdefault(v.released or model.released, []).append(v.name)
            items = [w.say("family.released_item", names=join(names, lang), date=date) for date, names in sorted(by_date.items(), reverse=True)]
            w.add("fact.released_sizes", cite=cite, prefix=prefix, name=name, items=w.say("list.clauses").join(items))
        else:
            w.add("fact.released", cite=cite, prefix=prefix, name=name, date=(variant.released if variant and variant.released else model.released))
        return None
    if attribute == "chinese":
        # Yes / no / not stated from the sourced language list, then the article's drift warning; the
        # catalog's own Chinese note follows in Chinese answers only.
        support = supports_language(model, "zh")
        weak = _chinese_weaknesses([model], catalog, lang)
        drift = "simplified-drift" in model.weakness_tags
        if plan.drift_asked:  # 「會不會跳成簡體？」: that first, then whether it supports Chinese at all
            w.add("fact.drift_yes" if drift else "fact.drift_unrecorded", cite=cite, prefix=prefix, name=name)
            prefix = ""
        if weak and support is not True:  # "mainly English": a tagged weakness says more than the language list
            w.add("fact.chinese_weak", cite=cite, prefix=prefix, name=name, weakness=weak[0])
        else:
            key = {True: "fact.chinese_yes", False: "fact.chinese_no", None: "fact.chinese_unstated"}[support]
            w.add(key, cite=cite, prefix=prefix, name=name, languages=languages_phrase(model, lang))
            for label in weak:
                w.raw(w.say("fact.chinese_weakness", weakness=label))
        if drift and not plan.drift_asked:
            w.raw(w.say("fact.chinese_drift"))
        elif plan.constraints.traditional and not plan.drift_asked:
            w.raw(w.say("fact.chinese_no_drift", name=name))
        if lang != "en" and model.languages.chinese_note:
            w.raw(w.say("fact.chinese_note", note=model.languages.chinese_note.rstrip("。")))
        return None
    if attribute == "weakness" and model.weaknesses:
        w.add("fact.weakness", cite=cite, prefix=prefix, name=name, weaknesses="；".join(model.weaknesses))
        return None
    if attribute == "verdict":
        reason = model.verdict_reason if lang != "en" else (model.verdict_reason_en or model.verdict_reason)
        w.add("fact.verdict", cite=cite, prefix=prefix, name=name, reason=reason.rstrip("。."))
        return None
    if attribute == "base":
        base = catalog.by_id.get(model.base_model or "")
        if base:
            w.add("fact.base", cite=cite, prefix=prefix, name=name, base=base.name)
            return None
    series = catalog.by_id[model.id]
    if plan.reference and plan.reference.startswith("ordinal:"):
        w.add("fact.ordinal_pick", cite=cite, prefix=prefix, position=plan.reference.split(":")[1], name=name, summary=summary(series, lang))
    elif variant is not None and series.name != name:
        w.add("fact.variant_summary", cite=cite, prefix=prefix, name=name, model=series.name, summary=summary(series, lang))
    else:
        w.add("fact.summary", cite=cite, prefix=prefix, summary=summary(model, lang))
    return None


def details(w: Writer, plan: Plan, model: Model, variant: Variant | None, catalog: Catalog, ctx: Context) -> None:
    """The supporting paragraph: who makes it, the key numbers the lead did not state, the article's view."""
    lang = w.language
    asked = set(plan.attributes)
    facts = [vendor_phrase(model, catalog, lang)]
    base = catalog.by_id.get(model.base_model or "")
    if base:
        facts.append(w.say("describe.derivative", base=base.name))
    if not asked & {"size", "experts", "memory"}:
        facts.append(size_phrase(model, lang, variant))
    if not asked & {"licence", "commercial"}:
        facts.append(licence_phrase(model, lang))
    if "context" not in asked and model.context_native:
        facts.append(w.say("describe.context_label", context=context_phrase(model, lang)))
    if model.released and "released" not in asked:
        facts.append(w.say("describe.released", date=model.released))
    for claim in model.article_claims:
        if claim.field.startswith("params") and asked & {"size", "experts"}:
            facts.append(w.say("describe.article_claim", says=claim.article_says, note=claim.note))
    w.raw(w.say("describe.sentence", name=display_name(model, variant) if variant else model.name, facts=w.say("list.clauses").join(facts)) + ctx.cites.model(model.id))
    if plan.constraints.has_hardware() and plan.reference:
        fit = fit_variant(model, variant or max(model.sizes, key=lambda v: v.params_total_b), plan.constraints)
        if fit is not None:
            w.raw(w.say("fit.line_fits", name=fit.variant, memory=f"{plan.constraints.memory_gb:g}",
                        kind=memory_kind_label(plan.constraints.memory_kind, lang), quant=fit.quant, need=f"{fit.required_gb:.1f}"))
    reason = model.verdict_reason if lang != "en" else (model.verdict_reason_en or model.verdict_reason)
    w.raw(w.say("describe.verdict", name=model.name, reason=reason.rstrip("。."), cite=ctx.cites.article(model.family)))
    superseded_note(w, model, catalog, ctx)


def superseded_note(w: Writer, model: Model, catalog: Catalog, ctx: Context) -> None:
    """A name that now means two releases: say which one the answer is about, and how the older differs."""
    for old_id in catalog.by_id[model.id].supersedes:
        old = catalog.by_id[old_id]
        w.raw(w.say("describe.superseded", new=model.name, new_date=(model.released or "")[:7], old=old.name,
                    old_date=(old.released or "")[:7], old_licence=licence_phrase(old, w.language, with_conditions=False)) + ctx.cites.model(old.id))


def family_lead(w: Writer, plan: Plan, family_id: str, catalog: Catalog, cite: str, prefix: str = "") -> None:
    """The family's answer to each attribute asked, in the question's order (its summary when none is)."""
    answered = False
    for attribute in plan.attributes[:3]:
        answered = _family_attribute(w, plan, family_id, catalog, cite, prefix, {attribute}) or answered
        prefix = "" if answered else prefix
    if not answered:
        family = catalog.family_by_id[family_id]
        w.add("family.summary", cite=cite, prefix=prefix, family=family.name, vendor=family.vendor_zh if w.language != "en" else family.vendor,
              summary=family.summary_zh if w.language != "en" else family.summary_en)


def _family_attribute(w: Writer, plan: Plan, family_id: str, catalog: Catalog, cite: str, prefix: str, asked: set[str]) -> bool:
    family = catalog.family_by_id[family_id]
    members = [m for m in catalog.models_of(family_id) if m.status == "released"] or catalog.models_of(family_id)
    lang = w.language
    if "licence" in asked and "commercial" not in asked and members:
        counts = Counter(m.licence.id for m in members)
        common, n = counts.most_common(1)[0]
        others = join([f"{k} ({v})" for k, v in counts.items() if k != common], lang)
        w.add("family.licences_lead" if others else "family.licences_all", cite=cite, prefix=prefix, family=family.name,
              common=common, count=n, total=len(members), others=others)
        for text in list(dict.fromkeys(conditions(m, lang) for m in members if m.commercial_use != "yes" and m.commercial_conditions))[:2]:
            w.raw(w.say("family.condition", conditions=text))
        return True
    if "commercial" in asked or "licence" in asked:
        groups = {value: [m for m in members if m.commercial_use == value] for value in ("yes", "conditional", "no")}
        present = [value for value, group in groups.items() if group]
        if len(present) == 1:
            w.add(f"family.commercial_all.{present[0]}", cite=cite, prefix=prefix, family=family.name,
                  names=join([m.name for m in groups[present[0]]], lang))
        else:
            parts = [w.say(f"family.commercial_group.{value}", names=join([m.name for m in group], lang)) for value, group in groups.items() if group]
            w.add("family.commercial_mixed", cite=cite, prefix=prefix, family=family.name, groups=w.say("list.clauses").join(parts))
        conditions_seen = list(dict.fromkeys(conditions(m, lang) for m in groups["conditional"] if m.commercial_conditions))
        for text in conditions_seen[:2]:
            w.raw(w.say("family.condition", conditions=text))
        return True
    if {"vendor", "country"} & asked:
        w.add("family.vendor", cite=cite, prefix=prefix, family=family.name, vendor=family.vendor_zh if lang != "en" else family.vendor,
              country=country_label(family.country, lang))
        return True
    if {"size", "memory"} & asked and members:
        sizes = sorted({v.params_total_b for m in members for v in m.sizes})
        w.add("family.sizes", cite=cite, prefix=prefix, family=family.name, low=format_params(sizes[0]), high=format_params(sizes[-1]))
        return True
    if "chinese" in asked and members:
        said = {m.name: supports_language(m, "zh") for m in members}
        yes = [n for n, v in said.items() if v]
        no = [n for n, v in said.items() if v is False]
        weak = _chinese_weaknesses(members, catalog, lang)
        drifting = [m.name for m in members if "simplified-drift" in m.weakness_tags]
        if plan.drift_asked:
            w.add("family.drift_yes" if drifting else "family.drift_unrecorded", cite=cite, prefix=prefix, family=family.name,
                  names=join(drifting, lang))
            prefix = ""
        key = ("family.chinese_all" if len(yes) == len(said) else "family.chinese_none" if len(no) == len(said)
               else "family.chinese_some" if yes else "family.chinese_weak" if weak else "family.chinese_unstated")
        w.add(key, cite=cite, prefix=prefix, family=family.name, yes=join(yes, lang), no=join(no, lang),
              others=join([n for n, v in said.items() if not v], lang), weakness=weak[0] if weak else "")
        for label in weak[1:] if key == "family.chinese_weak" else weak:
            w.raw(w.say("fact.chinese_weakness", weakness=label))
        if drifting and not plan.drift_asked:
            w.raw(w.say("fact.chinese_drift"))
        notes = list(dict.fromkeys(m.languages.chinese_note.rstrip("。") for m in members if m.languages.chinese_note))
        if lang != "en" and notes:
            w.raw(w.say("fact.chinese_note", note="；".join(notes[:2])))
        return True
    if "released" in asked and members:
        by_date: dict[str, list[str]] = {}
        for m in sorted(members, key=lambda m: m.released or "", reverse=True):
            by_date.setdefault(m.released or "—", []).append(m.name)
        items = [w.say("family.released_item", names=join(names, lang), date=date) for date, names in list(by_date.items())[:5]]
        w.add("family.released", cite=cite, prefix=prefix, family=family.name, items=w.say("list.clauses").join(items),
              more=w.say("family.released_more", count=len(by_date) - 5) if len(by_date) > 5 else "")
        return True
    if "context" in asked and members:
        windows = sorted({m.context_native for m in members if m.context_native})
        if windows:
            w.add("family.context", cite=cite, prefix=prefix, family=family.name, low=format_context(windows[0], lang),
                  high=format_context(windows[-1], lang))
            return True
    if "languages" in asked and members:
        w.add("family.languages", cite=cite, prefix=prefix, family=family.name,
              items=w.say("list.clauses").join(w.say("family.languages_item", name=m.name, languages=languages_phrase(m, lang)) for m in members[:4]))
        return True
    return False


def family_members(w: Writer, plan: Plan, family_id: str, ctx: Context) -> list[str]:
    members = ctx.catalog.models_of(family_id)
    tasks = plan.constraints.tasks
    if tasks:
        matching = [m for m in members if any(t in m.strengths for t in tasks)]
        members = matching + [m for m in members if m not in matching]
    members = sorted(members, key=lambda m: m.released or "", reverse=True)
    w.raw(w.say("family.members_head", family=ctx.catalog.family_by_id[family_id].name, count=len(members)))
    for m in members[:10]:
        sizes = [v.params_total_b for v in m.sizes]
        span = format_params(min(sizes)) if len(sizes) == 1 else f"{format_params(min(sizes))}–{format_params(max(sizes))}"
        w.raw(w.say("family.member", name=m.name, sizes=span, licence=m.licence.id, badge=commercial_label(m.commercial_use, w.language),
                    released=m.released or "—") + ctx.cites.model(m.id))
    return [m.id for m in members]


def _confirm_prefix(w: Writer, plan: Plan, catalog: Catalog) -> str:
    """「沒錯，」 when the question's claims hold, and only about what the answer leads with: "Mistral 的
    Codestral … 商用沒問題吧" confirms the maker, not the commercial use the answer denies."""
    confirmed = [c for c in plan.claims if claim_holds(c, catalog)]
    if not confirmed or [c for c in plan.claims if not claim_holds(c, catalog)]:
        return ""
    lead = plan.attributes[0] if plan.attributes else None
    if lead is not None and not any(c.attribute == lead or (lead, c.attribute) in _SAME_CLAIM for c in confirmed):
        return ""
    return w.say("fact.confirmed")


_SAME_CLAIM = {("commercial", "licence"), ("licence", "commercial"), ("country", "vendor"), ("vendor", "country")}


def render_fact(plan: Plan, ctx: Context) -> Rendered:
    catalog = ctx.catalog
    w = Writer(plan)
    shown: list[str] = []
    variants: dict[str, str] = {}
    prefix = _confirm_prefix(w, plan, catalog)
    models = plan.models()[:3]
    families = plan.families()[:2]
    asked = plan.attributes[:3] or [None]
    if plan.constraints.business and any(findings(facts_model(catalog, s), plan.constraints.business) for s in models):
        # "Any licence gotchas?" from a startup in Berlin: the licence, applied to them, answers first.
        asked = sorted(asked, key=lambda a: a not in ("commercial", "licence"))
    for subject in models:
        model = facts_model(catalog, subject)
        variant = catalog.by_id[subject.id].variant(subject.variant) if subject.variant else None
        cite = ctx.cites.model(subject.id)
        for n, attribute in enumerate(asked):
            attribute_lead(w, plan, model, variant, catalog, attribute, cite if n == len(asked) - 1 else "", prefix if n == 0 else "")
            prefix = ""
        shown.append(subject.id)
        if variant:
            variants[subject.id] = variant.name
    for subject in families:
        family_lead(w, plan, subject.id, catalog, ctx.cites.family(subject.id), prefix)
        prefix = ""
    lead_text = " ".join(w.lines)
    w.lines = [lead_text]
    for subject in models:
        model = facts_model(catalog, subject)
        variant = catalog.by_id[subject.id].variant(subject.variant) if subject.variant else None
        details(w, plan, model, variant, catalog, ctx)
    for subject in families:
        shown += family_members(w, plan, subject.id, ctx)
    _closed_notes(w, plan, ctx)
    _quote(w, plan, ctx, {catalog.by_id[s.id].family for s in models} | {s.id for s in families})
    return Rendered(w.text(), lead=w.lead, parts=w.parts, shown=shown, variants=variants)


def _closed_notes(w: Writer, plan: Plan, ctx: Context) -> None:
    for name in plan.mentions_closed:
        closed = next((c for c in ctx.catalog.closed_models if c.name == name), None)
        if closed is not None:
            w.raw(w.say("closed.note", name=closed.name, vendor=closed.vendor, note=closed.note_zh if w.language != "en" else closed.note_en))


def _quote(w: Writer, plan: Plan, ctx: Context, families: set[str]) -> None:
    found = article_quote(plan.question, ctx.retrieved, ctx.idf, families, ctx.cites, plan.naming)
    if found:
        sentence, cite = found
        w.raw(w.say("article.quote", sentence=sentence, cite=cite))


def render_false_premise(plan: Plan, ctx: Context) -> Rendered:
    catalog = ctx.catalog
    w = Writer(plan)
    lang = w.language
    wrong = [c for c in plan.claims if not claim_holds(c, catalog)]
    claim = wrong[0]
    subject = next((s for s in plan.subjects if s.id == claim.subject), plan.catalog_subjects()[0])
    models = [facts_model(catalog, subject)] if subject.kind == "model" else catalog.models_of(subject.id)
    model = models[0]
    name = model.name if subject.kind == "model" else subject.name
    cite = ctx.cites.model(model.id) if subject.kind == "model" else ctx.cites.family(subject.id)
    if claim.attribute == "licence":
        actual = join(list(dict.fromkeys(f"{m.licence.name} ({m.licence.id})" for m in models)), lang)
        w.add("premise.licence", cite=cite, name=name, actual=actual, claimed=claim.value)
    elif claim.attribute == "vendor":
        claimed = catalog.family_by_id[claim.value]
        family = catalog.family_by_id[model.family]
        w.add("premise.vendor", cite=cite, name=name, actual=family.vendor_zh if lang != "en" else family.vendor,
              claimed=claimed.vendor_zh if lang != "en" else claimed.vendor)
    elif claim.attribute == "country":
        w.add("premise.country", cite=cite, name=name, actual=country_label(model.country, lang), vendor=model.vendor,
              claimed=country_label(claim.value, lang))
    elif claim.attribute == "verdict":
        bad = [m for m in models if m.verdict == "not-recommended"] or [model]
        reasons = [(m.verdict_reason if lang != "en" else (m.verdict_reason_en or m.verdict_reason)).rstrip("。.") for m in bad[:2]]
        w.add("premise.verdict", cite=cite, name=name, reason="；".join(reasons))
    elif claim.attribute == "released":
        dates = join(list(dict.fromkeys(f"{m.name} {m.released}" for m in models if m.released)), lang)
        w.add("premise.released", cite=cite, name=name, claimed=claim.value, dates=dates)
    elif claim.attribute == "size":
        value = float(claim.value)
        active = next((v for v in model.sizes if v.params_active_b and abs(v.params_active_b - value) <= 0.1 * value), None)
        if active is not None:
            # "It's only 32B": that is what a MoE model activates per token; memory follows the total.
            need = estimate(active, 10_000, "Q4_K_M", 4096, model_id=model.id).required_gb
            w.add("premise.size_active", cite=cite, name=name, total=format_params(active.params_total_b),
                  claimed=format_params(value), need=f"{need:.0f}")
        else:
            sizes = join([format_params(v.params_total_b) for v in model.sizes], lang)
            w.add("premise.size", cite=cite, name=name, sizes=sizes, claimed=format_params(value))
    elif claim.attribute == "context":
        w.add("premise.context", cite=cite, name=name, actual=context_phrase(model, lang), claimed=format_context(int(claim.value), lang))
    else:
        key = {"yes": "premise.commercial_yes", "conditional": "premise.commercial_conditional", "no": "premise.commercial_no"}[model.commercial_use]
        w.add(key, cite=cite, name=name, licence=model.licence.name, conditions=conditions(model, lang))
    if claim.attribute == "licence":
        commercial_lead(w, model, name, cite)  # "既然是 MIT，商用沒問題吧": whether it may be used commercially
    if plan.then_recommend:
        return Rendered(w.text(), lead=w.lead, parts=w.parts)  # render.py adds the recommendation after the correction
    rest = render_fact(Plan(**{**plan.__dict__, "claims": []}), ctx)
    body = rest.text.split("\n", 1)[1] if "\n" in rest.text else ""
    w.raw(body)
    return Rendered(w.text(), lead=w.lead, parts=w.parts + rest.parts, shown=rest.shown, variants=rest.variants)


__all__ = ["render_fact", "render_false_premise", "attribute_lead", "commercial_lead", "Subject"]


def _chinese_weaknesses(models: list[Model], catalog: Catalog, language: str) -> list[str]:
    """Tagged weaknesses the request rules tie to Chinese ("mainly English") other than the drift, which has its own line."""
    tags = {t for rule in catalog.request_rules if "chinese" in rule.request for t in (*rule.excludes, *rule.cautions)} - {"simplified-drift"}
    found = dict.fromkeys(t for m in models for t in m.weakness_tags if t in tags)
    return [catalog.weakness_labels[t].en if language == "en" else catalog.weakness_labels[t].zh for t in found]
