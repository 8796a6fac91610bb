"""The answer comes first.

* For a yes/no question the answer's verdict matches the grounded one (or, when the
  grounded answer leads with no verdict, the catalog's for the size asked about); a
  conditional yes may be answered with the conditions instead of a bare yes.
* For a question about one attribute (context, experts, size, maker, release date …) the
  first sentences state it.
* For "which model", the first sentence names one of the grounded answer's models, or (for
  a recommendation) a model that meets every requirement of the question.
* An answer about a model the catalog does not have gives no verdict and no facts about it.
* "I don't know" fails when the facts answer the question.
"""

from __future__ import annotations

from typing import Any

from ..knowledge import Catalog
from ..text import normalize
from .claims import read_answer, resolve_entity, sentences
from .facts import CITATION, NUMBER, Entity, Facts, Reading, at_end, cues, mentions, word_chars
from .form import LIST_ITEM
from .grounding import NUMBER_ASKS, Grounding, asks, subject_entities
from .names import excluded_by_question, question_constraints

_MARKUP = str.maketrans("", "", "*_`#>")
_CLAUSE_MARKS = "，,：:；;。！？!?\n—"

ATTRIBUTE_CLAIMS = {
    "context": {"context"}, "experts": {"experts", "params"}, "size": {"params", "params_range"},
    "params": {"params", "params_range"}, "vendor": {"vendor", "country"}, "country": {"country", "vendor"},
    "released": {"date", "status"}, "languages": {"languages", "language_support"},
    "licence": {"licence", "commercial", "unrestricted"},
}
"""The claims that answer a question about an attribute (the plan's attribute names)."""
NUMERIC = frozenset({"context", "experts", "size", "params", "languages"})
"""Attributes a number answers: any number the lead states (outside names) will do, its
value is checked with the other claims."""
ASKED_FALLBACK = ("vendor", "released", "context", "experts", "params", "languages")
"""The attributes read from the question's words when the plan names none."""


def lead_text(text: str, count: int = 2) -> str:
    """The first `count` sentences of an answer, normalised (Markdown and an 「回答：」 label
    removed; a bare 「可以。」 or a heading line brings the next line along)."""
    body = text.translate(_MARKUP).strip()
    label = cues("answer_label").at_start(normalize(body[:12]))
    if label is not None:
        body = body[body.find(":") + 1 if ":" in body[:12] else body.find("：") + 1 :]
    lines = [LIST_ITEM.sub("", line).strip() for line in body.splitlines() if line.strip()]
    if not lines:
        return ""
    lead = lines[0]
    if (word_chars(lead) < 8 or lead.endswith(("：", ":"))) and len(lines) > 1:
        lead += " " + lines[1]
    normalised = normalize(lead)
    spans = sentences(normalised)[:count]
    return normalised[: spans[-1][1]] if spans else normalised


def _clauses(text: str) -> list[str]:
    out, current = [], []
    for ch in text:
        if ch in _CLAUSE_MARKS:
            out.append("".join(current))
            current = []
        else:
            current.append(ch)
    out.append("".join(current))
    return [c for c in out if c.strip()]


def particle(text: str, fit: bool = True) -> str | None:
    """A leading yes or no; with `fit`, also "it runs" / "it does not fit" (not when the
    question is about commercial use)."""
    if cues("lead_no").at_start(text) or (fit and cues("lead_fit_no").at_start(text)):
        return "no"
    if cues("lead_yes").at_start(text) or (fit and cues("lead_fit_yes").at_start(text)):
        return "yes"
    return None


def polarity(lead: str, subjects: list[Entity], catalog: Catalog, about_commercial: bool) -> str | None:
    """"yes" or "no": a leading 「可以」/「有條件可以」/「不行」/Yes/No; else the first
    commercial-use claim (when the question is about commercial use: a conditional "needs
    a separate licence above 700M users" is a yes with conditions); else a short clause
    that is only a yes or a no (「至於商用，R1 是 MIT 授權，可以。」)."""
    said = particle(lead, fit=not about_commercial)
    if said:
        return said
    if about_commercial:
        reading = read_answer(lead, catalog, subjects)
        for claim in reading.claims:
            if claim.kind == "commercial":
                return "yes" if claim.qualifier == "conditional" else claim.value
            if claim.kind == "unrestricted":
                return "yes"
    for clause in _clauses(lead):
        clause = clause.strip()
        if clause and word_chars(clause) <= 4:
            said = particle(clause, fit=not about_commercial)
            if said:
                return said
    return None


def answer_key(grounding: Grounding, catalog: Catalog) -> dict[str, Any]:
    """What the first sentences must carry: {"kind", and "yes_no" / "numbers" / "models" /
    "attribute"}; "conditional": the yes has conditions; "soft": the verdict is the
    catalog's, not the grounded answer's lead, so an answer without one may stand."""
    kind = grounding.answer_kind or "fact"
    subjects = subject_entities(grounding, catalog)
    key: dict[str, Any] = {"kind": kind}
    grounded_lead = lead_text(grounding.grounded, 1)
    about_commercial = asks("commercial", grounding.question) or "commercial" in grounding.attributes
    facts = Facts(catalog)
    uses = {m.commercial_use for s in subjects[:1] for m in facts.of(s)} if len(subjects) == 1 else set()
    # On commercial use, the grounded lead's verdict counts when it speaks of use or licence
    # (not when the engine answered another question, e.g. whether it fits a machine).
    on_topic = not about_commercial or any(
        c.kind in ("commercial", "unrestricted", "licence") for c in read_answer(grounded_lead, catalog, subjects).claims)
    if kind == "yes_no" and on_topic:
        said = polarity(grounded_lead, subjects, catalog, about_commercial)
        if said:
            key["yes_no"] = said
            key["conditional"] = said == "yes" and uses == {"conditional"}
    if "yes_no" not in key and about_commercial and uses and (uses <= {"no"} or "no" not in uses):
        key.update(yes_no="no" if uses <= {"no"} else "yes", conditional=uses == {"conditional"}, soft=True)
    if kind in ("number", "fact") and len(subjects) == 1:
        attributes = [a for a in grounding.attributes if a in ATTRIBUTE_CLAIMS]
        if not grounding.attributes:
            attributes = [name for name in (NUMBER_ASKS if kind == "number" else ASKED_FALLBACK) if asks(name, grounding.question)]
        # Only what the grounded answer itself leads with (the engine may have read the
        # question otherwise: "released under" is no release date).
        if attributes and not (about_commercial and "yes_no" in key) and _states(lead_text(grounding.grounded, 3), attributes[0], subjects, catalog):
            key["attribute"] = attributes[0]
            if kind == "number":
                key["numbers"] = {"kind": "params" if attributes[0] == "size" else attributes[0]}
    elif kind in ("model", "list"):
        # The models the grounded answer puts forward: none when its first sentence names
        # none ("no model meets all of it"); never those it lists as excluded.
        grounded = normalize(grounding.grounded)
        cut = cues("excluded_heading").search(grounded)
        grounded = grounded[: cut.start()] if cut else grounded
        if not any(m.kind in ("model", "family") for m in mentions(grounded_lead, catalog)):
            grounded = ""
        names = [m for m in mentions(grounded, catalog) if m.kind in ("model", "family")]
        ids = list(dict.fromkeys((m.kind, m.target) for m in names))[:3]
        if ids:
            key["models"] = ids
    return key


def _states(lead: str, wanted: str, subjects: list[Entity], catalog: Catalog) -> bool:
    """Whether the lead states the attribute asked: a claim of that kind; for a number, any
    number outside names and citations; for the maker, a maker's name the catalog knows."""
    reading = read_answer(lead, catalog, subjects, asked=[wanted])
    if {c.kind for c in reading.claims} & (ATTRIBUTE_CLAIMS[wanted] | ({"count"} if wanted in NUMERIC else set())):
        return True
    spans = [(m.start, m.end) for m in reading.mentions] + [(c.start, c.end) for c in reading.claims]
    if wanted in NUMERIC:
        cited = [m.span() for m in CITATION.finditer(reading.text)]
        return any(not any(s <= n.start() < e for s, e in spans + cited) for n in NUMBER.finditer(reading.text))
    if wanted == "vendor":
        makers = {normalize(n) for f in catalog.families for n in (f.vendor, f.vendor_zh) if n}
        return any(reading.text[m.start : m.end] in makers for m in reading.mentions)
    if wanted == "licence":
        return cues("asks.licence").search(reading.text) is not None  # a licence the term list does not know
    return False


def coverage_problems(answer: str, reading: Reading, grounding: Grounding, catalog: Catalog, facts: Facts) -> list[str]:
    key = answer_key(grounding, catalog)
    subjects = subject_entities(grounding, catalog)
    lead = lead_text(answer)
    about_commercial = asks("commercial", grounding.question) or "commercial" in grounding.attributes
    problems: list[str] = []
    # "I don't know" when the facts answer it.
    if cues("no_knowledge").search(lead) and not cues("no_data").search(lead_text(grounding.grounded, 1)):
        problems.append("says it does not know, but the facts answer the question")
    # A model the catalog does not have: no verdict, no facts about it.
    if key["kind"] == "not_covered":
        unknown = [c for c in reading.claims if c.subject is not None and c.subject.kind == "unknown"]
        if particle(lead) or unknown:
            problems.append("answers about a model the catalog does not have")
    # The model a recommendation leads with must meet the question's requirements.
    constraints = question_constraints(grounding, catalog)
    first = next(
        (m for m in mentions(lead, catalog)
         if m.kind == "model" and not at_end("not_recommended_before", lead[max(0, m.start - 16) : m.start])),
        None,
    )
    asked = {(s.kind, s.id) for s in subjects}
    recommended = first is not None and (
        at_end("recommend_verb", lead[max(0, first.start - 12) : first.start]) is not None
        or (key["kind"] in ("model", "list") and ("model", first.target) not in asked)
    )
    first_ok = False
    if first is not None and recommended:
        entity = resolve_entity(first, lead, catalog)
        reason = excluded_by_question(entity, constraints, catalog, facts)
        if reason:
            problems.append(f"leads with {entity.label(catalog)}, but {reason}")
        first_ok = reason is None and grounding.intent == "recommend"
    if "yes_no" in key:
        said = polarity(lead, subjects, catalog, about_commercial)
        if said is None:
            # The verdict may come a little later ("Phi-4 採 MIT 授權，…。因此可以商用。").
            said = polarity(lead_text(answer, 4), subjects, catalog, about_commercial)
        hedged = said is None and (key.get("conditional") or key.get("soft"))
        if said != key["yes_no"] and not hedged:
            shown = "neither yes nor no" if said is None else f"'{said}'"
            problems.append(f"the answer says {shown} first; the facts say '{key['yes_no']}'")
    if "attribute" in key and not _states(lead_text(answer, 3), key["attribute"], subjects, catalog):
        problems.append(f"the first sentences do not state the {key.get('numbers', {}).get('kind', key['attribute'])} asked for")
    if "models" in key and not first_ok:
        lead_names = {(m.kind, m.target) for m in mentions(lead, catalog) if m.kind in ("model", "family")}
        families = {("family", catalog.by_id[t].family) for k, t in lead_names if k == "model" and t in catalog.by_id}
        wanted_names = set(key["models"]) | asked
        wanted_families = {("family", catalog.by_id[t].family) for k, t in wanted_names if k == "model" and t in catalog.by_id}
        lead_reading = read_answer(lead, catalog, subjects)
        about_subject = any(
            c.subject is not None and (c.subject.kind, c.subject.id) in asked for c in lead_reading.claims
        ) or (bool(cues("pronoun").search(lead)) and any((s.kind, s.id) in wanted_names for s in subjects))
        if not (lead_names & (wanted_names | wanted_families) or families & (wanted_names | wanted_families) or about_subject):
            names = [
                catalog.by_id[t].name if k == "model" else catalog.family_by_id[t].name
                for k, t in key["models"]
                if (t in catalog.by_id if k == "model" else t in catalog.family_by_id)
            ]
            problems.append(f"the first sentence does not name the answer ({', '.join(names)})")
    return problems
