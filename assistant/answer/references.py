"""Follow-ups: what a turn refers back to, and what it changes.

A follow-up resolves against what the user was shown (`ConversationState`):

* an ordinal (第二個, "the second one") picks from the ordered list last shown;
* a pronoun (它, "that one") picks the conversation's subject, else the first model shown;
* part of a name or a relative size (「那 Air 版呢」, 「小一點的」) picks within the subject's family;
* 「那 X 呢」 with a new model replaces the subject and keeps the question and the request;
* a new constraint (「換成可以商用的呢」, 「那 Mac 呢」, "with 8GB?") changes that part of the
  request and keeps the rest — the task, the hardware, the licence, the language;
* a new attribute (「那它可以商用嗎」, 「需要什麼硬體」) asks that attribute of the subject;
* a turn that changes nothing is said to change nothing (it never repeats the last answer).

`resolve` returns what to plan with; the intent rules then decide the kind of answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..constraints import Constraints
from ..knowledge import Catalog
from ..messages import Message
from ..vocabulary import vocabulary
from .conversation import ConversationState
from .read import Reading, _squeeze
from .types import Subject

LIST_INTENTS = ("recommend", "list", "rank", "newest")
_FRAGMENT = re.compile(r"[a-z][a-z0-9.]*|\d+(?:\.\d+)?\s?[bm](?![a-z])")
# Constraint fields grouped by what a user changes at once.
_GROUPS: dict[str, tuple[str, ...]] = {
    "hardware": Constraints.HARDWARE_FIELDS,
    "commercial": ("commercial_required", "noncommercial_ok"),
    "licence": ("licence_ids", "open_source_only"),
    "size": ("max_params_b", "min_params_b"),
    "context": ("min_context_tokens", "longest_context", "native_context"),
    "tasks": ("tasks",),
    "languages": ("languages", "traditional"),
    "avoid": ("avoid_countries", "avoid_families"),
    "prefer": ("prefer_families",),
    "quant": ("quant",),
    "benchmark": ("benchmark",),
    "revenue": ("revenue_usd_month",),
    "users": ("mau",),
    "location": ("location",),
}


_REQUIREMENT_ATTRIBUTES = frozenset({"commercial", "licence", "memory", "context", "size", "speed"})
"""Attributes a stated requirement reads as ("has to be OK for commercial use"): no question of their own."""


@dataclass
class Resolution:
    subjects: list[Subject]
    constraints: Constraints
    attributes: list[str]
    reference: str | None = None
    changes: list[str] = field(default_factory=list)
    inherited: list[str] = field(default_factory=list)
    intent: str | None = None  # an intent the follow-up implies (re-run the last request …)
    note: Message | None = None


def _stated_groups(c: Constraints) -> list[str]:
    empty = Constraints()
    stated = []
    for group, names in _GROUPS.items():
        if any(getattr(c, n) != getattr(empty, n) for n in names):
            stated.append(group)
    return stated


def merge(prior: Constraints, new: Constraints, also: bool = False) -> tuple[Constraints, list[str]]:
    """The request `prior` with the parts `new` states replaced (a group at a time).

    Tasks stated again replace the earlier ones, unless the turn adds to them ("也要看圖").
    Commercial use not needed clears an earlier requirement, and the reverse.
    """
    merged = prior.copy()
    changed = _stated_groups(new)
    for group in changed:
        for name in _GROUPS[group]:
            value = getattr(new, name)
            if group == "tasks" and also:
                value = list(dict.fromkeys([*getattr(prior, name), *value]))
            setattr(merged, name, value)
    if "hardware" in changed:
        merged.assumptions = [a for a in merged.assumptions if not a.key.startswith(("assume.device", "assume.size_is", "assume.gpus", "assume.laptop", "assume.chip", "assume.cards", "assume.multi"))]
    merged.assumptions += [a for a in new.assumptions if a not in merged.assumptions]
    merged.mentioned_models, merged.mentioned_families, merged.mentioned_closed = (
        new.mentioned_models, new.mentioned_families, new.mentioned_closed)
    # Languages imply the Chinese task; keep them consistent after a change.
    if "languages" in changed and "zh" not in merged.languages and "chinese" in merged.tasks and "tasks" not in changed:
        merged.tasks = [t for t in merged.tasks if t != "chinese"]
    return merged, changed


def resolve(reading: Reading, state: ConversationState | None, catalog: Catalog) -> Resolution:
    """What the turn is about once earlier turns are taken into account."""
    result = Resolution(list(reading.subjects), reading.constraints.copy(), list(reading.attributes))
    if state is None or not state.turns or state.intent is None:
        return result
    v = vocabulary()
    named = [s for s in reading.subjects if s.kind in ("model", "family")]
    followup = (reading.flag("followup") or reading.flag("pronoun") or reading.ordinal is not None or reading.short
                or reading.flag("replace") or reading.flag("why_not"))
    scope = [state.family_scope] if state.family_scope is not None else []
    if (not named and len(scope) == 1 and not reading.unknown
            and (_stated_groups(reading.constraints) or reading.flag("followup") or reading.flag("superlative") or reading.flag("newest"))
            and any(reading.flag(f) for f in ("which", "newest", "recommend", "strongest", "more"))):
        # 「智譜的 GLM 出到第幾版了」→「我要 MIT、能看圖的，最新是哪個」, 「Mistral 有哪些可以商用的？」→「裡面最新的是哪一個」:
        # within the family just asked about, with the request so far.
        result.subjects = scope + [s for s in reading.subjects if s.kind not in ("model", "family")]
        result.reference = "family-scope"
        result.inherited.append(f"family → {scope[0].name}")
        if state.constraints is not None:
            result.constraints, changed = merge(state.constraints, reading.constraints, False)
            result.changes += [f"constraint:{g}" for g in changed]
        return result
    if not followup and (named or reading.flag("which") and not reading.attributes) and (
            named or _partial(reading, state, catalog) is None):
        return result  # a new question that stands on its own (no fragment names an earlier subject)
    also = v.cues("conversation.also")(reading.norm) and not v.cues("conversation.replace")(reading.norm)

    stated = _stated_groups(reading.constraints)
    last_request = state.intent if state.intent in LIST_INTENTS else state.request_intent
    # "It has to be OK for commercial use though", 「它要能在 Mac 上跑」 after a recommendation: a
    # requirement stated, not a question about the pick: the request again, with it added.
    refines = bool(last_request and not named and [g for g in stated if g not in ("revenue", "users", "location")]
                   and (reading.flag("rerun") or (not (reading.flag("yes_no") or reading.flag("which") or reading.flag("why_not"))
                                                    and not reading.norm.rstrip().endswith(("?", "？")) and set(reading.attributes) <= _REQUIREMENT_ATTRIBUTES)))
    picked = _pick(reading, state, catalog) if not named and not refines else None
    if picked is not None:
        subjects, how, label = picked
        result.subjects = subjects + [s for s in reading.subjects if s.kind not in ("model", "family")]
        result.reference = how
        result.inherited.append(label)
    elif named and reading.flag("same") and (state.subjects or state.shown) and not [s for s in named if s in _current_subjects(state, catalog)]:
        # 「那授權呢？跟 K2 那套一樣嗎」: the subject in play, compared with the one named.
        result.subjects = _current_subjects(state, catalog)[:1] + named[:1] + [s for s in reading.subjects if s.kind not in ("model", "family")]
        result.reference = "same-as"
        result.intent = "compare"
        result.inherited.append("compare with → " + named[0].name)
    elif named and followup and not (reading.flag("which") or reading.flag("plural")):
        result.reference = "replace"
        result.changes.append("subject")

    prior = state.constraints
    if prior is not None and (result.reference or stated or followup):
        merged, changed = merge(prior, reading.constraints, also)
        result.constraints = merged
        result.changes += [f"constraint:{g}" for g in changed]
        if not changed and result.reference:
            result.inherited.append("request")
        elif changed:
            result.inherited.append("request (" + ", ".join(changed) + " changed)")

    new_attributes = [a for a in reading.attributes if a not in state.attributes]
    if result.reference and not reading.attributes:
        # 「那第二個呢？」 after a fact question: the same attribute, for the new subject.
        if state.intent in ("fact", "fit", "false_premise", "why_not"):
            result.attributes = list(state.attributes)
            if state.attributes:
                result.inherited.append("attribute: " + ", ".join(state.attributes))
    elif new_attributes:
        result.changes.append("attribute")

    if picked is None and not named and followup and reading.flag("which") and not reading.flag("plural") and state.subjects \
            and state.intent not in LIST_INTENTS and (
            not reading.attributes or set(reading.attributes) <= {"commercial", "licence", "size", "memory"}):
        # 「那要選哪一版？」: choose among the subject in play, its other sizes and the releases that share its name.
        current = _current_subjects(state, catalog)
        if {"licence", "commercial"} & set(reading.attributes) and len(current) >= 2:
            # 「R1 和 V3 有什麼區別？」→「那哪個的授權更寬鬆？」: the two, compared on their licences.
            result.subjects, result.reference, result.intent = current, "implicit", "compare"
            result.inherited.append("compare → " + ", ".join(s.name for s in current))
            return result
        result.subjects = _with_namesakes(current, catalog)
        result.reference = "choose-among"
        result.intent = "recommend"
        result.inherited.append("choose among → " + ", ".join(s.name for s in result.subjects))
    elif refines:
        own = "recommend" if reading.flag("strongest") or reading.flag("recommend") else "newest" if reading.flag("newest") else None
        result.intent = own or last_request
        result.reference = "constraints"
        result.attributes = []
    elif picked is None and not named and followup:
        about_them = {"revenue", "users", "location"}  # facts about the user, not a new request
        if reading.attributes and (state.subjects or state.shown) and not [g for g in stated if g not in about_them]:
            # 「需要什麼硬體」, "and its licence?": a new attribute of the subject in play.
            result.subjects = _current_subjects(state, catalog)
            result.reference = "implicit"
            result.inherited.append("subject → " + ", ".join(s.name for s in result.subjects))
        elif stated and (state.intent in (*LIST_INTENTS, "compare", "why_not") or state.request_intent):
            last = state.intent if state.intent in LIST_INTENTS else state.request_intent
            # The new turn's own ask wins: "and the strongest one that fits 24 GB?" after "what's newest?".
            own = "recommend" if reading.flag("strongest") or reading.flag("recommend") else "newest" if reading.flag("newest") else None
            result.intent = own or last or "recommend"
            result.reference = "constraints"
        elif stated and state.intent == "fit":
            result.subjects = [s for s in state.subjects if s.kind in ("model", "family")][:3]
            result.reference = "implicit"
            result.intent = "fit"
            result.attributes = result.attributes or list(state.attributes)
        elif reading.flag("more") and state.intent in LIST_INTENTS:
            result.intent = state.intent
            result.reference = "more"
        elif not stated and not reading.attributes and not reading.flag("which") and not reading.unknown and (
                reading.flag("followup") or reading.flag("pronoun")):
            result.intent = "no_change"
            result.reference = "none"
    if result.reference == "replace" and state.intent in ("fit",) and not reading.constraints.has_hardware():
        result.intent = "fit"
    if result.reference == "replace" and not reading.attributes and state.intent in ("fact", "false_premise"):
        result.attributes = list(state.attributes)
    return result


def _with_namesakes(subjects: list[Subject], catalog: Catalog) -> list[Subject]:
    """The subjects plus the releases that share their name (what `supersedes` links, either way)."""
    out = list(subjects)
    ids = {s.id for s in subjects}
    for subject in subjects:
        if subject.kind != "model":
            continue
        model = catalog.by_id[subject.id]
        related = [*model.supersedes, *(m.id for m in catalog.models if subject.id in m.supersedes)]
        for other in related:
            if other not in ids:
                ids.add(other)
                out.append(Subject("model", other, catalog.by_id[other].name))
    return out


def _current_subjects(state: ConversationState, catalog: Catalog) -> list[Subject]:
    subjects = [s for s in state.subjects if s.kind in ("model", "family")]
    if subjects:
        return subjects[:3]
    if state.shown:
        model = catalog.by_id[state.shown[0]]
        return [Subject("model", model.id, model.name, state.variants.get(model.id))]
    return []


def _pick(reading: Reading, state: ConversationState, catalog: Catalog) -> tuple[list[Subject], str, str] | None:
    """The subject an ordinal, a pronoun, a name fragment or a relative size points at."""
    if reading.ordinal is not None and state.shown:
        index = reading.ordinal - 1 if reading.ordinal > 0 else len(state.shown) - 1
        if 0 <= index < len(state.shown):
            model = catalog.by_id[state.shown[index]]
            label = f"#{reading.ordinal if reading.ordinal > 0 else len(state.shown)} → {model.name}"
            return [Subject("model", model.id, model.name, state.variants.get(model.id))], f"ordinal:{index + 1}", label
    partial = _partial(reading, state, catalog)
    if partial is not None:
        return partial
    if reading.flag("pronoun"):
        subjects = _current_subjects(state, catalog)
        if subjects:
            return subjects, "pronoun", "→ " + ", ".join(s.name for s in subjects)
    return None


def _fragment_hit(token: str, candidates: list, catalog: Catalog, near: tuple[str, ...] = ()) -> tuple | None:
    """The one model (and its size, when one size holds the token) a name fragment points at."""
    matched = [(m, x) for m, x in candidates if token in _squeeze(x.name if x else m.name)
               and token not in _squeeze(catalog.family_by_id[m.family].name)]
    if len({m.id for m, _ in matched}) > 1:
        # 「Phi-4 有哪些版本」→「那 mini 呢」: of several models holding the fragment, the one named like the
        # earlier subject (Phi-4-mini, not Phi-3-mini), then the shortest name.
        def rank(m: Any) -> tuple[int, int]:
            return (0 if any(_squeeze(m.name).startswith(p) for p in near) else 1, len(_squeeze(m.name)))
        ranked = sorted({m.id: m for m, _ in matched}.values(), key=rank)
        if rank(ranked[0]) == rank(ranked[1]):
            return None
        matched = [(m, x) for m, x in matched if m.id == ranked[0].id]
    if not matched:
        return None
    sized = [(m, x) for m, x in matched if x is not None and token in _squeeze(x.name)]
    if len({x.name for _, x in sized}) == 1:
        return sized[0]
    return next(((m, x) for m, x in matched if x is None), matched[0])


def _partial(reading: Reading, state: ConversationState, catalog: Catalog) -> tuple[list[Subject], str, str] | None:
    """「那 Air 版呢？」, 「比較小的那個」, "the 8B one": within the previous subjects' family."""
    previous = [s for s in state.subjects if s.kind in ("model", "family")]
    if not previous and state.shown:
        previous = [Subject("model", state.shown[0], state.shown[0])]
    if not previous:
        return None
    families = {catalog.by_id[s.id].family if s.kind == "model" else s.id for s in previous}
    candidates = []
    for model in catalog.models:
        if model.family in families:
            candidates.append((model, None))
            candidates += [(model, x) for x in model.variants]
    stop = vocabulary().words("stopwords.followup_fragment")
    # "the small one", 「大一點的」: a size word there is a relative size (below), not a name fragment.
    v = vocabulary()
    size_spans = [m.span() for group in ("conversation.smaller", "conversation.larger") for m in v.cues(group).finditer(reading.norm)]
    tokens = [m.group(0).replace(" ", "") for m in _FRAGMENT.finditer(reading.norm) if m.group(0) not in stop and len(m.group(0)) >= 2
              and not any(s <= m.start() < e for s, e in size_spans)]
    own = [(m, x) for m in (catalog.by_id[s.id] for s in previous if s.kind == "model") for x in (None, *m.variants)]
    found: list[tuple[str, Subject, str]] = []
    for token in tokens:
        near = tuple(_squeeze(catalog.by_id[s.id].name) for s in previous if s.kind == "model")
        hit = _fragment_hit(token, own, catalog, near) or _fragment_hit(token, candidates, catalog, near)
        if hit is None:
            continue
        model, variant = hit
        subject = Subject("model", model.id, model.name, variant.name if variant and len(model.sizes) > 1 else None)
        if all((f[1].id, f[1].variant) != (subject.id, subject.variant) for f in found):
            found.append((token, subject, variant.name if variant else model.name))
    if found:
        # 「那 Air 版呢？」, 「26B A4B 跟 31B 差在哪？」: every fragment that names one entry.
        return [f[1] for f in found], "partial-name", ", ".join(f"{t} → {label}" for t, _, label in found)
    smaller, larger = reading.flag("smaller"), reading.flag("larger")
    if smaller == larger or not (reading.flag("pronoun") or reading.flag("followup") or reading.short):
        return None
    before = [catalog.by_id[s.id] for s in previous if s.kind == "model"]
    pool = before or [m for m in catalog.models if m.family in families]
    sized = [(m, x) for m in pool for x in m.sizes]
    pick = min(sized, key=lambda mv: mv[1].params_total_b) if smaller else max(sized, key=lambda mv: mv[1].params_total_b)
    model, variant = pick
    return ([Subject("model", model.id, model.name, variant.name if len(model.sizes) > 1 else None)], "relative-size",
            ("smallest → " if smaller else "largest → ") + variant.name)
