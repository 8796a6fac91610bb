"""Claims in an LLM answer, each tied to the model it is about.

An answer is read sentence by sentence (normalised text: lower case, Traditional script).
Every claim found (`numbers.py` reads the numbers, `statements.py` the rest) is attributed
to a *subject*:

* the catalog name nearest before it in the sentence (or one right after it: 「Apache 2.0
  釋出的 Codestral Mamba」), with the size the name gives ("Qwen2.5-3B" is that size, not
  the series); a partial name of a family in play counts as a name (「M2.5」 for
  MiniMax-M2.5 when MiniMax is being discussed, 「0324 版」 for DeepSeek-V3-0324);
* a pronoun (它, "it", 該模型 …) stands for the subject in play: the last model the answer
  named before it, else the subject of the question (the plan's, or the one the question
  or the conversation names);
* a sentence with a claim and no name or pronoun is about the subject in play too, unless
  it speaks of others (「其他」, "both", "the rest");
* "X is the same as Y: 128k" (「X 跟 Y 一樣是 128k」) states the claim about X as well.

`check.py` checks each claim against the catalog facts of exactly that subject. The words
come from `knowledge/vocabulary/validation.yaml`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..knowledge import Catalog
from ..mentions import SHIELD
from ..text import normalize
from .facts import (
    Claim,
    Entity,
    Reading,
    at_end,
    catalog_name_keys,
    close,
    cues,
    entity_of,
    mentions,
    name_key,
    name_sizes,
)
from .numbers import number_claims
from .statements import overlaps, statement_claims, term_matches
from .tails import find_tails

__all__ = ["Claim", "Entity", "Reading", "read_answer", "sentences", "resolve_entity"]

_SENTENCE_MARKS = frozenset("。！？!?\n")


def sentences(normalised: str) -> list[tuple[int, int]]:
    """Sentence spans: split at 。！？!? and line breaks, and at '. ' (not inside 2.5 or e.g.)."""
    spans: list[tuple[int, int]] = []
    start = 0
    n = len(normalised)
    for i, ch in enumerate(normalised):
        end_here = ch in _SENTENCE_MARKS or (
            ch == "." and i > 0 and (normalised[i - 1].isascii() and normalised[i - 1].isalnum() or normalised[i - 1] in ")]")
            and (i + 1 == n or normalised[i + 1].isspace())
        )
        if end_here:
            spans.append((start, i + 1))
            start = i + 1
    if start < n:
        spans.append((start, n))
    return [(s, e) for s, e in spans if normalised[s:e].strip(" 。！？!?\n")]


@dataclass(frozen=True)
class _Pseudo:
    """A name found another way than the catalog's alias index (a partial name, a bare size,
    a name the catalog does not have), standing in for a mention."""

    kind: str
    target: str
    start: int
    end: int
    variant: str | None = None


def resolve_entity(m: Any, text: str, catalog: Catalog) -> Entity:
    """The entity a mention names. A name that is exactly one size's name means that size
    ("DeepSeek-V3" is the first release, not the V3-0324 update; "Phi-4-reasoning" is not
    Phi-4-mini-reasoning); so does a series named with 「原版」/"the original" before it."""
    if m.kind != "model":
        return Entity(m.kind, m.target)
    if m.variant:
        return Entity("model", m.target, m.variant)
    model = catalog.by_id.get(m.target)
    if model is not None and len(model.variants) > 1:
        key = name_key(text[m.start : m.end])
        for variant in model.variants:
            if key in {name_key(variant.name), *(name_key(a) for a in variant.aliases)}:
                return Entity("model", m.target, variant.name)
        if at_end("original_before", text[max(0, m.start - 14) : m.start]):
            first = next((v for v in model.variants if name_key(v.name) == name_key(model.name)), None)
            if first is not None:
                return Entity("model", m.target, first.name)
    return Entity("model", m.target)


def _as_subject(m: Any, text: str, catalog: Catalog, name_keys: frozenset[str]) -> Any:
    """A mention as a subject: the size it names; or, when a word after it makes a name the
    catalog does not have ("Pixtral Large"), a model the catalog does not know."""
    continuation = cues("name_continuation").at_start(text[m.end : m.end + 12])
    if continuation is not None and name_key(text[m.start : m.end + continuation.end()]) not in name_keys:
        return _Pseudo("unknown", text[m.start : m.end + continuation.end()].strip(), m.start, m.end + continuation.end())
    if m.kind == "model":
        return _Pseudo(m.kind, m.target, m.start, m.end, resolve_entity(m, text, catalog).variant)
    return m


def _sibling_size(claim: Claim, catalog: Catalog, text: str) -> Entity | None:
    """The size of the subject's model that a bare parameter count names, when it is
    another size than the subject: one of a series' sizes other than its headline size,
    or a sibling of the size named. None when several sizes share the count, and when the
    words around it make it a claim ("it has 405B parameters", 「有 3B、8B」)."""
    subject = claim.subject
    if claim.kind != "params" or claim.role or claim.qualifier not in ("", "more", "approx", "series") or subject is None or subject.kind != "model":
        return None
    if at_end("size_claim_before", text[max(0, claim.start - 10) : claim.start]) or cues("params_after").at_start(text[claim.end : claim.end + 12]):
        return None
    model = catalog.by_id.get(subject.id)
    if model is None or len(model.variants) < 2:
        return None
    own = model.variant(subject.variant) if subject.variant else None

    def sizes(variant: Any) -> list[float]:
        return [variant.params_total_b] + [x for n in (variant.name, *variant.aliases) for x in name_sizes(n)]

    own_sizes = sizes(own) if own is not None else [model.params_total_b]
    if close(claim.value, own_sizes, 0.06):
        return None
    matching = [v for v in model.variants if v is not own and close(claim.value, sizes(v), 0.06)]
    if len(matching) == 1:
        return Entity("model", model.id, matching[0].name)
    return None


def _nearest(inside: list[Any], refs: list[tuple[int, int]], start: int, end: int, in_play: Entity | None,
             text: str, after_limit: int = 12) -> Entity | None:
    """The name (or pronoun, standing for the subject in play) nearest before the claim,
    or one at most `after_limit` characters after it in the same clause."""
    candidates: list[tuple[int, Entity]] = []
    for m in inside:
        ent = entity_of(m)
        if m.end <= start:
            candidates.append((start - m.end, ent))
        elif m.start >= end and m.start - end <= after_limit and not any(ch in "，,；;：:、" for ch in text[end : m.start]):
            candidates.append((m.start - end + 1, ent))
        elif m.start < end and start < m.end:
            candidates.append((0, ent))
    # A pronoun before the claim stands for the name before it in this sentence, else the subject in play.
    for p_start, p_end in refs:
        if p_end <= start:
            earlier = [m for m in inside if m.end <= p_start]
            ent = entity_of(earlier[-1]) if earlier else in_play
            if ent is not None:
                candidates.append((start - p_end, ent))
    return min(candidates, key=lambda c: c[0])[1] if candidates else None


def _licence_spans(text: str) -> list[tuple[int, int, Any]]:
    return term_matches("claimed_licences", text, 0, len(text))


def read_answer(
    answer: str,
    catalog: Catalog,
    default_subjects: Sequence[Entity],
    about_use: bool = False,
    families: Sequence[str] = (),
    asked: Sequence[str] = (),
) -> Reading:
    """Find the claims of an answer and the subject each is about.

    Args:
        answer: the answer text (already converted to zh-TW where it is Chinese).
        catalog: the catalog names are found with.
        default_subjects: the subject in play before the answer names one (the question's).
        about_use: the question is about commercial use or the licence, so "no restrictions"
            anywhere in the answer is about the licence.
        families: families being discussed (by the question, the facts, the conversation):
            their partial names count as names.
        asked: the attributes the question asks (the plan's): a maker or a date named in
            the answer is then the answer about the subject, whatever the shape.
    """
    text = normalize(answer)
    asked_set = frozenset(asked)
    found = [m for m in mentions(text, catalog) if m.kind in ("model", "family", "closed")]
    licence_spans = _licence_spans(text)
    # "Llama 3 Community License" is a licence, not the model Llama 3; so is a family name
    # right next to a licence name or a verdict ("Gemma Terms of Use（Gemma）", "Gemma（可商用）").
    found = [
        m for m in found
        if not any(s <= m.start and m.end <= e and (e - s) > (m.end - m.start) for s, e, _ in licence_spans)
        and not (m.kind == "family" and (
            any(0 <= m.start - e <= 3 or 0 <= s - m.end <= 1 for s, e, _ in licence_spans)
            or cues("verdict_after_name").at_start(text[m.end : m.end + 16])
        ))
    ]
    in_families = list(dict.fromkeys([
        *families,
        *(catalog.by_id[m.target].family for m in found if m.kind == "model" and m.target in catalog.by_id),
        *(m.target for m in found if m.kind == "family"),
        *(catalog.by_id[s.id].family for s in default_subjects if s.kind == "model" and s.id in catalog.by_id),
        *(s.id for s in default_subjects if s.kind == "family"),
    ]))
    shielded = [(m.start, m.end) for m in catalog.alias_index.find(text, shields=True) if m.kind == SHIELD]  # "BFCL v3"
    tails, invented = find_tails(text, catalog, in_families, [(m.start, m.end) for m in found] + shielded)
    found = sorted([*found, *(_Pseudo("model", t.model, t.start, t.end, t.variant) for t in tails)], key=lambda m: m.start)
    reading = Reading(text, found, invented=invented)
    name_keys = catalog_name_keys(catalog)
    entities = [m for m in found if m.kind in ("model", "family")]
    names = [(m.start, m.end, m.kind) for m in found]
    pronouns = [(m.start(), m.end()) for m in cues("pronoun").finditer(text)]
    pronouns = [p for p in pronouns if not any(overlaps(p, n[:2]) for n in names)]
    default = list(dict.fromkeys(default_subjects))
    in_play: Entity | None = default[0] if len(default) == 1 else None

    for s_start, s_end in sentences(text):
        inside = [m for m in entities if s_start <= m.start < s_end]
        refs = [p for p in pronouns if s_start <= p[0] < s_end]
        sentence_claims = sorted(
            number_claims(text, s_start, s_end, names, asked_set)
            + statement_claims(text, s_start, s_end, names, licence_spans, about_use, asked_set),
            key=lambda c: c.start,
        )
        makers = [(c.start, c.end) for c in sentence_claims if c.kind in ("vendor", "country")]
        inside = [m for m in inside if not any(overlaps((m.start, m.end), span) for span in makers)]
        inside = [_as_subject(m, text, catalog, name_keys) for m in inside]
        added: list[Claim] = []
        for claim in sentence_claims:
            linked = [m for m in inside if claim.link is not None and m.start == claim.link]
            owner = entity_of(linked[0]) if linked else (
                None if claim.link == -1 else _nearest(inside, refs, claim.start, claim.end, in_play, text))
            if owner is not None:
                claim.subject = owner
            elif in_play is not None and not cues("others").search(text, s_start, claim.start):
                claim.subject, claim.owner_known = in_play, False
            sibling = _sibling_size(claim, catalog, text)
            if sibling is not None:
                # A bare size of the model in play names that size ("Gemma 3 1B 只有 32k，4B 以上才有 128k"):
                # it is true as a size, and what follows in the sentence is about that size.
                inside = sorted([*inside, _Pseudo("model", sibling.id, claim.start, claim.end, sibling.variant)],
                                key=lambda m: m.start)
                claim.qualifier = "sibling"  # true as a size; not checked again
            added.append(claim)
            if at_end("distributive_before", text[max(s_start, claim.start - 8) : claim.start]):
                # 「27B 和 35B-A3B 都是 MoE」: said of each name before it in the sentence.
                for other in dict.fromkeys(entity_of(m) for m in inside if m.end <= claim.start and m.kind in ("model", "family")):
                    if other != claim.subject:
                        added.append(replace(claim, subject=other, owner_known=True))
        added += _same_as(text, s_start, inside, added, in_play)
        reading.claims += added
        if inside:
            in_play = entity_of(inside[-1])
    return reading


def _same_as(text: str, s_start: int, inside: list[Any], claims: list[Claim], in_play: Entity | None) -> list[Claim]:
    """「X 跟 Y 一樣是 128k」, "same as Y": what is said of Y after it is said of X too
    (X: the name before the comparison, else the subject in play); what follows a contrast
    (「X 跟 Y 一樣大，但上下文只有 32k」) is said of X only."""
    extra: list[Claim] = []
    for index, other in enumerate(inside):
        if other.kind not in ("model", "family"):
            continue
        comparator = at_end("same_as_before", text[max(s_start, other.start - 16) : other.start])
        if comparator is None:
            continue
        if not cues("same_as_after").at_start(text[other.end : other.end + 10]) and not cues("same_as_english").search(comparator.group()):
            continue
        before = [m for m in inside[:index] if m.end <= other.start - len(comparator.group()) and m.kind in ("model", "family")]
        main = entity_of(before[-1]) if before else in_play
        compared = entity_of(other)
        if main is None or main == compared:
            continue
        contrast = cues("contrast").search(text, other.end)
        for claim in claims:
            if claim.start < other.end or claim.subject != compared or claim.kind in ("vendor", "country"):
                continue
            if contrast is not None and claim.start >= contrast.end():
                claim.subject = main  # after "but": the main subject's own
            else:
                extra.append(replace(claim, subject=main, same_as=True, owner_known=True))
    return extra
