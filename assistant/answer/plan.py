"""Question + conversation → `Plan`: the one reading every later stage works from.

`make_plan` reads the question once (`read.read_question`), resolves what a follow-up
refers to (`references.resolve`), picks the intent with the rule chain (`rules.decide`) and
fills the plan with everything the renderers need: subjects with their named size, the
request (constraints), the attributes in the order asked, the answer's kind, "just one",
storage or size asks, the modality asked, rank specs, claims, and what was inherited from
earlier turns. `ask --json` shows the plan, with `trace` naming the rule that fired.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..knowledge import Catalog
from ..text import name_key
from ..vocabulary import vocabulary
from .conversation import ConversationState
from .ranking import named_benchmark
from .read import Reading, claims_about, read_question
from .references import resolve
from .rules import STRONG_LOOKUP, RuleContext, decide
from .types import Plan, RankSpec, Step, Subject

_ANSWER_KIND = {
    "fact": "fact", "false_premise": "yes_no", "fit": "yes_no", "recommend": "model", "compare": "verdict",
    "rank": "model", "newest": "model", "list": "list", "derivatives": "list", "suitability": "yes_no", "only": "yes_no", "diff": "verdict", "lookup": "model", "why_not": "reason",
    "unknown_model": "not_covered", "closed": "not_covered", "out_of_scope": "not_covered",
    "scope": "help", "nonsense": "help", "no_change": "help", "no_context": "help",
}


def make_plan(
    question: str,
    catalog: Catalog,
    state: ConversationState | None = None,
    language: str = "zh-TW",
    injection: bool | None = None,
    lookup: Callable[..., list[Any]] | None = None,
) -> Plan:
    """Plan `question` in the context of `state`.

    Args:
        lookup: sentence search over the article (`SentenceIndex.search`), consulted for
            which-questions only.
    """
    reading = read_question(question, catalog)
    reading.constraints.benchmark = named_benchmark(reading.norm)  # "rank by GPQA Diamond"
    injected = reading.flag("injection") if injection is None else injection
    resolution = resolve(reading, state, catalog)
    if resolution.reference and not reading.claims:
        # 「那它是美國公司嗎？」: a claim about the subject the follow-up resolved to.
        reading.claims = claims_about(reading, resolution.subjects, catalog)
    ctx = RuleContext(reading, resolution, state, catalog, injected, lookup)
    ctx.lookup_hit = _strong_lookup(ctx)
    intent, why, trace = decide(ctx)
    c = resolution.constraints
    plan = Plan(
        question=question,
        intent=intent,
        language=language,
        subjects=list({(s.kind, s.id, s.variant): s for s in resolution.subjects if s.kind != "unknown"}.values()),
        constraints=c,
        attributes=resolution.attributes,
        claims=reading.claims,
        just_one=reading.flag("just_one") or bool(state is not None and state.just_one and resolution.reference is not None),
        strongest=reading.flag("strongest") and why.startswith("strongest"),
        newest=intent == "newest",
        asks_storage=reading.flag("storage"),
        drift_asked=reading.flag("drift"),
        then_recommend=reading.flag("recommend") and not reading.flag("yes_no"),
        count=reading.count,
        asks_full_size=reading.flag("full_size"),
        size_extreme=_size_extreme(reading),
        modality_asked="audio" if reading.flag("audio") else "video" if reading.flag("video") else "image",
        company_asked=reading.flag("company_asked"),
        naming=reading.flag("naming"),
        same_asked=reading.flag("same"),
        more=reading.flag("more"),
        country=_country(reading),
        mentions_closed=[s.id for s in resolution.subjects if s.kind == "closed"],
        unknown_names=list(reading.unknown) if intent == "unknown_model" else [],
        reference=resolution.reference,
        changes=resolution.changes,
        inherited=resolution.inherited,
        hardware_stated=c.has_hardware(),
        hardware_in_question=reading.constraints.has_hardware(),
        injection=injected,
        reason=why,
        trace=[Step(name, fired, reason) for name, fired, reason in trace],
    )
    plan.answer_kind = _ANSWER_KIND.get(intent, "model")
    if intent == "fact" and (set(plan.attributes) & {"commercial"} or reading.flag("yes_no")):
        plan.answer_kind = "yes_no"
    if intent == "unknown_model":
        plan.subjects += [Subject("unknown", name, name) for name in plan.unknown_names]
    if ctx.lookup_hit is not None and intent == "lookup":
        hit = ctx.lookup_hit
        plan.lookup = {"text": hit.text, "family": hit.family, "model": hit.model_id, "score": round(hit.score, 3)}
    if intent == "rank":
        plan.rank = RankSpec(
            field=reading.rank_field or "params_total",
            ascending=reading.flag("ascending"),
            position=reading.rank_position,
            moe_only=reading.flag("moe_only") or reading.rank_field == "params_active",
            dense_only=reading.flag("dense_only"),
            native=reading.flag("native"),
        )
    plan.constraints.mentioned_models = list(dict.fromkeys(
        [*c.mentioned_models, *(s.id for s in plan.subjects if s.kind == "model")]))
    return plan


def _country(reading: Reading) -> str | None:
    if reading.constraints.avoid_countries:
        return None
    return next((t.id for t in vocabulary().terms("countries") if t.cues(reading.norm)), None)


def _size_extreme(reading: Reading) -> str | None:
    if reading.flag("smaller") and not reading.flag("larger"):
        return "smallest"
    if reading.flag("larger") and not reading.flag("smaller"):
        return "largest"
    return None


def _strong_lookup(ctx: RuleContext) -> Any:
    """The article sentence that answers a which-question about something other than its
    named subjects, when one scores `STRONG_LOOKUP` or more."""
    reading = ctx.reading
    if ctx.lookup is None or ctx.resolution.reference or not reading.flag("which") or reading.flag("plural"):
        return None
    if reading.flag("superlative") and reading.rank_field or reading.flag("strongest"):
        return None
    if reading.flag("recommend") and not reading.flag("lookup_verbs"):
        return None
    if ctx.c.hard:
        return None
    named_models = {s.id for s in ctx.models}
    named = named_models | {s.id for s in ctx.families}
    if len(named) >= 2 and (reading.flag("compare") or len(named_models) >= 2):
        return None
    hits = ctx.lookup(reading.text, exclude=frozenset(named))
    if not hits:
        return None
    hit = hits[0]
    # A name the catalog lacks that the article itself names ("GneissWeb") makes its sentence the answer.
    names_unknown = any(name_key(u) and name_key(u) in name_key(hit.text) for u in reading.unknown)
    if hit.score < STRONG_LOOKUP and not names_unknown:
        return None
    if named_models and set(reading.attributes) - {"vendor", "country", "base"} and not reading.flag("lookup_verbs"):
        return None
    if named and reading.attributes and not (hit.names & named):
        return None
    families_named = {ctx.catalog.by_id[m].family for m in named_models} | named
    if hit.model_id and hit.model_id in named_models or not hit.model_id and hit.entity_family in families_named:
        return None
    return hit
