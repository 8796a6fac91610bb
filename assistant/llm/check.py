"""Each claim of an answer checked against the catalog facts of exactly its subject.

One size's facts for a size, every size's for a series, every model's for a family: a
series or family claim stands when it is true of one of them (「Qwen2.5 可商用」 passes,
「Qwen2.5-3B 可商用」 does not); a "largest is …" claim and a denial are checked against
all of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..knowledge import Catalog, Model
from ..text import normalize
from .facts import (
    NUMBER,
    Claim,
    Entity,
    Facts,
    close,
    contexts_of,
    cues,
    language_count,
    licence_segments,
    mentions,
    number_key,
    numbers_in,
    params_of,
)
from .numbers import number_claims, numbers_before


@dataclass
class CheckContext:
    catalog: Catalog
    facts: Facts
    known_numbers: set[str]  # numbers the grounded answer, the question and the history state
    copied: Callable[[int, int], bool]  # whether the answer's text around [start, end) is copied from the facts
    other_values: Callable[[Claim, str], list[float]]  # values of the other subjects in the sentence (for lists)
    known_text: str = ""  # the grounded answer, the question and the history (normalised)
    _stated: dict[Entity, list[tuple[float, str]]] | None = None
    _memory: set[str] | None = None

    def family_values(self, subject: Entity, kind: str) -> list[float]:
        """Parameter counts or context lengths of every model in the subject's family."""
        catalog = self.catalog
        family = subject.id if subject.kind == "family" else getattr(catalog.by_id.get(subject.id), "family", None)
        values: list[float] = []
        for model in catalog.models_of(family) if family else []:
            for fact in self.facts.of(Entity("model", model.id)):
                values += [*params_of(fact)[0], *params_of(fact)[1]] if kind == "params" else contexts_of(fact)
        return values

    def stated_params(self, subject: Entity) -> list[tuple[float, str]]:
        """Parameter counts the catalog's own texts state about the subject, with their role
        ("每個 token 動態啟動約 18.6B–31.3B": active)."""
        if self._stated is None:
            self._stated = {}
        if subject not in self._stated:
            text = normalize(self.facts.texts(subject))
            names = [(m.start, m.end, m.kind) for m in mentions(text, self.catalog)]
            self._stated[subject] = [(c.value, c.role) for c in number_claims(text, 0, len(text), names) if c.kind == "params"]
        return self._stated[subject]

    def memory_figures(self) -> set[str]:
        """The memory figures (numbers before GB) the grounded answer and the conversation state."""
        if self._memory is not None:
            return self._memory
        figures: set[str] = set()
        for match in NUMBER.finditer(self.known_text):
            unit = cues("memory_after").at_start(self.known_text[match.end() : match.end() + 6])
            if unit is not None:
                scale = {"tb": 1000.0, "mb": 0.001}.get(unit.group().strip(), 1.0)
                figures.add(number_key(float(match.group(1).replace(",", "")) * scale))
        self._memory = figures
        return figures

    def stated(self, value: float, subject: Entity | None) -> bool:
        """Whether the facts state this number: the grounded answer or the subject's catalog texts."""
        key = number_key(value)
        return key in self.known_numbers or (subject is not None and key in self.facts.numbers(subject))


_UNDENIABLE = frozenset({"context", "experts", "languages", "memory", "date", "count", "speed", "score"})
"""Kinds whose denial ("not 128k") says nothing checkable."""


def check_claims(reading_claims: list[Claim], ctx: CheckContext) -> list[str]:
    problems: list[str] = []
    catalog = ctx.catalog
    _mark_series(reading_claims, ctx)
    for claim in reading_claims:
        if claim.qualifier == "sibling" or (claim.qualifier == "negated" and claim.kind in _UNDENIABLE):
            continue
        if claim.kind in ("speed", "score"):
            if not ctx.stated(claim.value, claim.subject):
                what = "speed" if claim.kind == "speed" else "score"
                problems.append(f"states a {what} the facts do not hold: '{claim.shown}'")
            continue
        if claim.kind == "count":
            problem = _check_count(claim, ctx)
            if problem:
                problems.append(problem)
            continue
        subject = claim.subject
        if subject is None:
            if claim.kind == "memory" and number_key(claim.value) not in ctx.memory_figures():
                problems.append(f"states '{claim.shown}', which the facts do not hold")
            continue
        if claim.qualifier in ("series", "series_family") and subject.kind == "model":
            subject = Entity("model", subject.id)  # a list or range of sizes is about the series
        facts = ctx.facts.of(subject)
        if not facts:
            continue
        if ctx.copied(claim.start, claim.end):
            continue  # copied with its context from the facts
        problem = _check(claim, facts, ctx, subject)
        if problem:
            problems.append(f"{subject.label(catalog)}: {problem}")
    return problems


def _mark_series(claims: list[Claim], ctx: CheckContext) -> None:
    """A list or range of sizes none of which is the subject's names another model of its
    family (「Hunyuan-A13B 和 0.5B–7B 小模型」): its sizes may be any of the family's. One
    that matches the subject somewhere is the subject's, size by size (「3B、8B、22B」)."""
    group: list[Claim] = []

    def close_group() -> None:
        listed_sizes = [c for c in group if c.qualifier == "series" and c.subject is not None]
        if not listed_sizes or any(c.qualifier == "sibling" for c in group):
            return  # a size of the subject is among them: the list is the subject's
        subject = listed_sizes[0].subject
        series = Entity("model", subject.id) if subject.kind == "model" else subject
        own = [x for m in ctx.facts.of(series) for part in params_of(m) for x in part]
        if not any(close(c.value, own, 0.06) for c in listed_sizes):
            for c in listed_sizes:
                c.qualifier = "series_family"

    def listed(claim: Claim) -> bool:
        return claim.kind == "params" and claim.qualifier in ("series", "sibling")

    for claim in claims:
        if listed(claim) and (not group or claim.qualifier == "sibling" or group[-1].subject is None
                              or claim.subject is None or group[-1].subject.id == claim.subject.id):
            group.append(claim)
            continue
        close_group()
        group = [claim] if listed(claim) else []
    close_group()


def _check_count(claim: Claim, ctx: CheckContext) -> str | None:
    """A number of something the facts count with another number: "3,000 sub-agents" where
    the facts say 300. Nothing to check when the facts never count that noun."""
    value, noun = claim.value
    texts = [ctx.known_text]
    if claim.subject is not None:
        texts.append(normalize(ctx.facts.texts(claim.subject)))
    counted: list[float] = []
    for text in texts:
        at = text.find(noun)
        while at >= 0:
            counted += numbers_before(text, at)
            at = text.find(noun, at + 1)
    if not counted or close(value, counted, 0.01):
        return None
    return f"says '{claim.shown} {noun}', but the facts count {'/'.join(number_key(c) for c in sorted(set(counted)))}"


def _check(claim: Claim, facts: list[Model], ctx: CheckContext, subject: Entity) -> str | None:
    kind = claim.kind
    checker = _CHECKS.get(kind)
    return checker(claim, facts, ctx, subject) if checker else None


def _commercial(claim: Claim, facts: list[Model], ctx: CheckContext, subject: Entity) -> str | None:
    allowed = {m.commercial_use for m in facts}
    if claim.value == "no" and allowed <= {"yes"}:
        return f"says '{claim.shown}', but the catalog says commercial use is allowed"
    if claim.value == "no" and allowed <= {"conditional"} and claim.qualifier != "conditional":
        return f"says '{claim.shown}', but the catalog allows commercial use under conditions"
    if claim.value == "yes" and allowed <= {"no"}:
        return f"says '{claim.shown}', but the catalog says no commercial use"
    return None


def _unrestricted(claim: Claim, facts: list[Model], ctx: CheckContext, subject: Entity) -> str | None:
    if "yes" not in {m.commercial_use for m in facts}:
        return f"says '{claim.shown}', but its licence has conditions"
    return None


def _licence(claim: Claim, facts: list[Model], ctx: CheckContext, subject: Entity) -> str | None:
    if claim.qualifier == "previous":
        return None  # "it used to be under …"
    patterns = [re.compile(p) for p in claim.value.get("segments", [])]
    segments = {s for m in facts for s in licence_segments(m)}
    holds = [any(p.fullmatch(s) for p in patterns for s in licence_segments(m)) for m in facts]
    if claim.qualifier == "negated":
        return f"says it is not under '{claim.shown}', but that is its licence in the catalog" if all(holds) else None
    if not any(p.fullmatch(s) for p in patterns for s in segments):
        return f"'{claim.shown}' is not its licence in the catalog"
    return None


def _params(claim: Claim, facts: list[Model], ctx: CheckContext, subject: Entity) -> str | None:
    value = claim.value
    totals = [x for m in facts for x in params_of(m)[0]]
    actives = [x for m in facts for x in params_of(m)[1]]
    if claim.kind == "params_range":
        low, high = value
        if not any(low * 0.94 <= x < high * 1.06 for x in totals + actives):
            return f"'{claim.shown}' does not match the catalog's parameter count"
        return None
    tolerance = 0.12 if claim.qualifier == "approx" else 0.06
    if claim.qualifier == "negated":
        return f"says there is no '{claim.shown}', but the catalog lists that size" if close(value, totals, 0.02) else None
    if claim.qualifier == "max":
        largest = max(totals)
        return None if close(value, [largest], tolerance) else f"says the largest is '{claim.shown}', but the catalog lists {largest:g}B"
    if claim.qualifier == "previous":
        ok = close(value, ctx.family_values(subject, "params"), tolerance)
    elif claim.qualifier == "series_family":
        ok = close(value, ctx.family_values(subject, "params"), 0.06)
    elif claim.qualifier == "more":
        ok = any(x >= value * 0.99 for x in totals + actives)
    elif claim.role == "active" and actives:
        ok = close(value, actives, tolerance)
    elif claim.role == "total":
        ok = close(value, totals, tolerance)
    else:
        ok = close(value, totals + actives, tolerance)
    if not ok and claim.shown.endswith("m"):
        ok = close(value * 1e9, [c for m in facts for c in contexts_of(m)], 0.05)  # "10M" can be a context
    if not ok and not claim.same_as:
        stated = [v for v, role in ctx.stated_params(subject) if role == claim.role or not claim.role]
        ok = close(value, ctx.other_values(claim, "params"), 0.06) or close(value, stated, 0.01)
    return None if ok else f"'{claim.shown}' does not match the catalog's parameter count"


def _context(claim: Claim, facts: list[Model], ctx: CheckContext, subject: Entity) -> str | None:
    value = claim.value
    contexts = [c for m in facts for c in contexts_of(m)]
    if not contexts:
        return None if number_key(value) in ctx.known_numbers else f"'{claim.shown}': the catalog has no context length"
    if claim.qualifier == "native":
        natives = [float(m.context_native) for m in facts if m.context_native]
        if natives and not close(value, natives, 0.05):
            return f"'{claim.shown}' is not its native context length in the catalog"
        return None
    if claim.qualifier == "previous":
        ok = close(value, ctx.family_values(subject, "context"), 0.05)
    elif claim.qualifier == "more":
        ok = any(c >= value * 0.95 for c in contexts)
    elif claim.qualifier == "max":
        ok = close(value, [max(contexts)], 0.05)
    else:
        ok = close(value, contexts, 0.1 if claim.qualifier == "approx" else 0.05)
    if not ok and not claim.same_as and close(value, ctx.other_values(claim, "context"), 0.05):
        ok = True
    return None if ok else f"'{claim.shown}' does not match the catalog's context length"


def _experts(claim: Claim, facts: list[Model], ctx: CheckContext, subject: Entity) -> str | None:
    experts = [float(m.experts) for m in facts if m.experts]
    if claim.role == "active":
        return None  # experts used per token: the catalog counts the experts, not those active
    if float(claim.value) in experts or ctx.stated(claim.value, subject):
        return None
    return f"'{claim.shown}' does not match the catalog's number of experts"


def _languages(claim: Claim, facts: list[Model], ctx: CheckContext, subject: Entity) -> str | None:
    value = claim.value
    counts = [c for c in (language_count(m) for m in facts) if c]
    if ctx.stated(value, subject):
        return None
    if not counts:
        return f"'{claim.shown}': the catalog does not give a number of languages"
    if claim.qualifier == "more":
        ok = any(c >= value for c in counts)
    elif claim.qualifier == "approx":
        ok = close(value, [float(c) for c in counts], 0.1)
    else:
        ok = float(value) in {float(c) for c in counts}
    return None if ok else f"'{claim.shown}' does not match the catalog's number of languages"


def _memory(claim: Claim, facts: list[Model], ctx: CheckContext, subject: Entity) -> str | None:
    """A memory figure the facts state, or one a quantisation of the size gives: from about
    2.4 bits a weight (0.3 GB per billion parameters) to 16-bit weights with room to spare."""
    if number_key(claim.value) in ctx.memory_figures():
        return None
    if any(0.3 * s <= claim.value <= 2.6 * s for m in facts for s in params_of(m)[0]):
        return None
    return f"'{claim.shown}' is not a memory figure the facts support"


def _date(claim: Claim, facts: list[Model], ctx: CheckContext, subject: Entity) -> str | None:
    """A release date, compared as precisely as both sides give it (year, month, day)."""
    if claim.qualifier == "previous":
        return None
    year, month, day = claim.value
    dates = []
    for m in facts:
        if m.released:
            parts = [int(p) for p in m.released.split("-")]
            dates.append((parts[0], parts[1] if len(parts) > 1 else None, parts[2] if len(parts) > 2 else None))
    if not dates:
        return None

    def agrees(date: tuple[int, int | None, int | None]) -> bool:
        return date[0] == year and (month is None or date[1] is None or date[1] == month) and (
            day is None or date[2] is None or date[2] == day)

    if any(agrees(d) for d in dates):
        return None
    stated = ctx.facts.numbers(subject)
    if number_key(year) in stated and (month is None or number_key(month) in stated):
        return None  # a date the catalog's own text gives (an earlier preview, an update)
    return f"'{claim.shown}' is not its release date in the catalog ({'/'.join(sorted({m.released or '' for m in facts}))})"


def _arch(claim: Claim, facts: list[Model], ctx: CheckContext, subject: Entity) -> str | None:
    archs = {m.architecture for m in facts}
    sparse = {m.architecture for m in facts if m.params_active_b} | ({"moe"} & archs)
    if claim.value == "moe" and not sparse:
        return f"says '{claim.shown}', but the catalog lists it as {'/'.join(sorted(archs))}"
    if claim.value == "dense" and archs <= {"moe"}:
        return f"says '{claim.shown}', but the catalog lists it as a mixture-of-experts model"
    if claim.value == "hybrid" and not archs & {"hybrid", "ssm"}:
        return f"says '{claim.shown}', but the catalog lists it as {'/'.join(sorted(archs))}"
    if claim.value == "transformer" and archs <= {"hybrid", "ssm"}:
        return f"says '{claim.shown}', but the catalog lists it as {'/'.join(sorted(archs))}"
    return None


def _status(claim: Claim, facts: list[Model], ctx: CheckContext, subject: Entity) -> str | None:
    if all(m.status == "released" and m.released for m in facts):
        return f"says '{claim.shown}', but the catalog lists it as released"
    return None


def _weakness(claim: Claim, facts: list[Model], ctx: CheckContext, subject: Entity) -> str | None:
    if claim.qualifier == "negated" and all(claim.value in m.weakness_tags for m in facts):
        return f"says '{claim.shown}' is no problem, but the catalog notes it as a weakness"
    return None


def _modality(claim: Claim, facts: list[Model], ctx: CheckContext, subject: Entity) -> str | None:
    has = [claim.value in (m.modalities or []) for m in facts]
    if claim.qualifier == "negated" and all(has):
        return f"says it does not take {claim.shown}, but the catalog lists {claim.value} input"
    if claim.qualifier != "negated" and not any(has):
        return f"says it takes {claim.shown}, but the catalog lists {'/'.join(sorted({x for m in facts for x in m.modalities}))} only"
    return None


def _language_support(claim: Claim, facts: list[Model], ctx: CheckContext, subject: Entity) -> str | None:
    code_sets = [[c.lower() for c in m.languages.codes] for m in facts]
    if any("multi" in codes for codes in code_sets):
        return None  # "many languages": not checkable
    has = [any(c == claim.value or c.startswith(claim.value + "-") for c in codes) for codes in code_sets]
    if claim.qualifier == "negated" and all(has):
        return f"says it does not support {claim.shown}, but the catalog lists it"
    if claim.qualifier != "negated" and not any(has):
        return f"says it supports {claim.shown}, which the catalog's languages do not include"
    return None


def _vendor(claim: Claim, facts: list[Model], ctx: CheckContext, subject: Entity) -> str | None:
    words = ctx.facts.vendor_words(subject)
    if not any(normalize(w) in words for w in claim.value.get("matches", [])):
        return f"'{claim.shown}' is not its maker in the catalog"
    return None


def _country(claim: Claim, facts: list[Model], ctx: CheckContext, subject: Entity) -> str | None:
    if claim.value.id not in ctx.facts.countries(subject):
        return f"'{claim.shown}' is not where it comes from in the catalog"
    return None


_CHECKS: dict[str, Callable[[Claim, list[Model], CheckContext, Entity], str | None]] = {
    "commercial": _commercial, "unrestricted": _unrestricted, "licence": _licence, "params": _params,
    "params_range": _params, "context": _context, "experts": _experts, "languages": _languages, "memory": _memory,
    "date": _date, "arch": _arch, "status": _status, "weakness": _weakness, "modality": _modality,
    "language_support": _language_support, "vendor": _vendor, "country": _country,
}

__all__ = ["CheckContext", "check_claims", "numbers_in"]
