"""What the validator checks an answer against (`Grounding`), what it returns
(`Validation`), and the subject in play before the answer names one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..knowledge import Catalog
from ..text import normalize
from .facts import Entity, cues, mentions

if TYPE_CHECKING:
    from ..compose import Reply


@dataclass
class Validation:
    ok: bool
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": list(self.problems)}


@dataclass
class Grounding:
    """Everything the validator checks an answer against.

    Args:
        question: the user's question (cleaned).
        grounded: the grounded answer's text (the facts the model was given come from it).
        history: earlier turns ({role, content}).
        language: "en" or "zh-TW" (default: read from the question).
        subjects: the plan's subjects (objects with kind, id, name, variant), if known.
        answer_kind: the plan's answer kind (model, yes_no, number, list, verdict,
            not_covered, help, fact, reason), if known.
        source_count: how many sources [n] may cite (default: the largest [n] of the
            grounded answer).
        untrusted: text of user-supplied documents among the sources: a name found only
            there must not reach the answer.
        constraints: the plan's constraints (default: read from the question).
        attributes: the attributes the question asks, in order (the plan's: context,
            vendor, released …), if known.
        intent: the plan's intent (recommend, fact, rank …), if known.
    """

    question: str
    grounded: str
    history: Sequence[dict[str, str]] = ()
    language: str = ""
    subjects: Sequence[Any] = ()
    answer_kind: str | None = None
    source_count: int | None = None
    untrusted: str = ""
    constraints: Any = None
    attributes: Sequence[str] = ()
    intent: str = ""

    @classmethod
    def from_reply(cls, reply: Reply, history: Sequence[dict[str, str]] | None = None) -> Grounding:
        plan = getattr(reply, "plan", None)
        subjects = list(getattr(plan, "subjects", None) or [])
        route = getattr(reply, "route", "") or getattr(plan, "intent", "") or ""
        kind = getattr(plan, "answer_kind", None) or answer_kind_from_route(route, reply.question, subjects)
        sources = list(getattr(reply, "sources", []) or [])
        return cls(
            question=reply.question,
            grounded=reply.grounded_answer or reply.answer,
            history=[t for t in (history or []) if isinstance(t, dict)],
            language=reply.language,
            subjects=subjects,
            answer_kind=kind,
            source_count=len(sources),
            untrusted=" ".join(
                str(getattr(p, "text", "")) for p in sources if getattr(p, "source", "") not in ("article", "catalog")
            ),
            constraints=getattr(plan, "constraints", None) or getattr(reply, "constraints", None),
            attributes=list(getattr(plan, "attributes", None) or []),
            intent=str(getattr(plan, "intent", "") or route),
        )

    def trusted_text(self) -> str:
        """The grounded answer and the assistant's earlier answers: what names and facts may come from."""
        return "\n".join([self.grounded, *(str(t.get("content", "")) for t in self.history if t.get("role") == "assistant")])

    def known_text(self) -> str:
        """The grounded answer, the question and the whole conversation."""
        return "\n".join([self.grounded, self.question, *(str(t.get("content", "")) for t in self.history)])


_ROUTE_KIND = {
    "recommend": "model", "rank": "model", "lookup": "model", "list": "list", "newest": "model", "compare": "model",
    "why_not": "reason", "false_premise": "verdict", "fit": "fact", "fact": "fact",
}


def asks(group: str, question: str) -> bool:
    """Whether the question asks this (cue groups `asks.*` of validation.yaml)."""
    return cues(f"asks.{group}").search(normalize(question)) is not None


NUMBER_ASKS = ("context", "experts", "params", "languages")


def answer_kind_from_route(route: str, question: str, subjects: Sequence[Any]) -> str:
    kind = _ROUTE_KIND.get(route, "fact")
    if route == "fact" and [getattr(s, "kind", "") for s in subjects] == ["model"]:
        if asks("commercial", question):
            return "yes_no"
        if any(asks(name, question) for name in NUMBER_ASKS):
            return "number"
    return kind


def subject_entities(grounding: Grounding, catalog: Catalog) -> list[Entity]:
    """The subject in play before the answer names one: the plan's subjects, else the
    question's names, else the latest names of the conversation."""
    found: list[Entity] = []
    for subject in grounding.subjects:
        kind = getattr(subject, "kind", "")
        if kind == "model" and getattr(subject, "id", "") in catalog.by_id:
            found.append(Entity("model", subject.id, getattr(subject, "variant", None)))
        elif kind == "family" and getattr(subject, "id", "") in catalog.family_by_id:
            found.append(Entity("family", subject.id))
    if found:
        return list(dict.fromkeys(found))
    texts = [grounding.question] + [
        str(t.get("content", "")) for t in reversed(list(grounding.history)) if isinstance(t, dict)
    ]
    for text in texts:
        names = [m for m in mentions(normalize(text), catalog) if m.kind in ("model", "family")]
        if names:
            return list(dict.fromkeys(Entity(m.kind, m.target, m.variant if m.kind == "model" else None) for m in names))
    return []


def families_in_play(grounding: Grounding, catalog: Catalog) -> list[str]:
    """Families the question, the facts or the conversation discuss (their partial names count)."""
    found: list[str] = []
    for m in mentions(normalize(grounding.known_text()), catalog):
        if m.kind == "model" and m.target in catalog.by_id:
            found.append(catalog.by_id[m.target].family)
        elif m.kind == "family":
            found.append(m.target)
    for subject in grounding.subjects:
        if getattr(subject, "kind", "") == "model" and getattr(subject, "id", "") in catalog.by_id:
            found.append(catalog.by_id[subject.id].family)
        elif getattr(subject, "kind", "") == "family":
            found.append(subject.id)
    return list(dict.fromkeys(found))
