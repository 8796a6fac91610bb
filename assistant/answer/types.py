"""The answer engine's types: what planning produces and what rendering returns.

A leaf of `assistant.answer`: the planner, the conversation, the ranking and the renderers
all import these, and this module imports none of them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..constraints import Constraints
from ..messages import Message

INTENTS = (
    "recommend", "fact", "lookup", "rank", "list", "compare", "why_not", "fit", "newest",
    "out_of_scope", "unknown_model", "false_premise", "closed", "scope", "nonsense", "no_change", "no_context",
    "derivatives", "suitability", "only", "diff",
)


@dataclass
class Subject:
    """A thing the question is about."""

    kind: str  # "model" | "family" | "closed" | "unknown"
    id: str  # model id, family id, closed-model name, or the unknown name as written
    name: str
    variant: str | None = None  # the size named ("Gemma 3 27B")


@dataclass
class Claim:
    """Something the question takes for granted ("Gemma 3 是 MIT 授權對吧？")."""

    attribute: str  # licence | vendor | country | size | commercial | verdict | released
    value: str
    subject: str  # model or family id


@dataclass
class RankSpec:
    field: str  # params_total | params_active | context | released | languages | experts
    ascending: bool
    position: int = 1
    moe_only: bool = False
    dense_only: bool = False
    native: bool = False  # context: the native window, not the extended one


@dataclass
class Step:
    """One intent rule the planner tried: its name, whether it fired, and why."""

    rule: str
    fired: bool
    why: str = ""


@dataclass
class Plan:
    """A question, read once. Everything later stages need is here; nothing after planning
    reads the question's text again. `to_dict()` is what `ask --json` shows under `plan`."""

    question: str
    intent: str
    language: str
    subjects: list[Subject] = field(default_factory=list)
    constraints: Constraints = field(default_factory=Constraints)
    attributes: list[str] = field(default_factory=list)  # in the order the question asks them
    rank: RankSpec | None = None
    claims: list[Claim] = field(default_factory=list)
    answer_kind: str = "model"  # model | yes_no | number | list | verdict | not_covered | help
    just_one: bool = False
    strongest: bool = False  # "which is the best / strongest"
    newest: bool = False  # "what's new / latest"
    asks_storage: bool = False  # disk / download size rather than memory to run
    asks_full_size: bool = False  # the flagship of a family (滿血)
    size_extreme: str | None = None  # "smallest" | "largest" size of a named model
    modality_asked: str = "image"  # image | audio | video, for "can it see / hear"
    company_asked: bool = False  # a lookup asking for the maker rather than the model
    naming: bool = False  # asks what a name means
    same_asked: bool = False  # "same terms as …?", 「跟 K2 一樣嗎」: sameness, answered yes or no
    drift_asked: bool = False  # asks whether Chinese output drifts into Simplified
    count: int | None = None  # how many to list, when the question says ("best 3")
    then_recommend: bool = False  # after correcting a premise, the question still asks what to use
    more: bool = False  # asks for more options of the same list
    country: str | None = None  # a country the question asks about (not one it avoids)
    mentions_closed: list[str] = field(default_factory=list)  # closed models named in passing
    unknown_names: list[str] = field(default_factory=list)
    reference: str | None = None  # how a follow-up resolved: pronoun | ordinal:N | partial-name | replace | implicit
    changes: list[str] = field(default_factory=list)  # what a follow-up changed: subject, hardware, constraint, attribute
    inherited: list[str] = field(default_factory=list)
    hardware_stated: bool = False
    hardware_in_question: bool = False
    injection: bool = False
    reason: str = ""
    trace: list[Step] = field(default_factory=list)
    lookup: dict[str, Any] | None = None

    @property
    def zh(self) -> bool:
        return self.language != "en"

    @property
    def lang(self) -> str:
        return "en" if self.language == "en" else "zh-TW"

    def models(self) -> list[Subject]:
        return [s for s in self.subjects if s.kind == "model"]

    def families(self) -> list[Subject]:
        return [s for s in self.subjects if s.kind == "family"]

    def catalog_subjects(self) -> list[Subject]:
        return [s for s in self.subjects if s.kind in ("model", "family")]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["constraints"] = {k: v for k, v in self.constraints.to_dict().items() if v not in (None, False, [], "")}
        data["trace"] = [asdict(s) for s in self.trace]
        return data


@dataclass
class Recommendation:
    """A model that passed every hard filter, with why it ranks where it does."""

    model: Any  # knowledge.Model (the chosen size's facts)
    variant: Any  # knowledge.Variant
    score: float
    reason: str = ""
    fit: Any = None  # hardware.FitEstimate
    matched_tasks: list[str] = field(default_factory=list)
    capability: dict[str, Any] | None = None  # {"task", "score", "basis", "source", "figure"} or None
    capability_reason: str = ""  # why capability is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.model.id,
            "name": self.model.name,
            "variant": self.variant.name,
            "reason": self.reason,
            "fit": self.fit.to_dict() if self.fit else None,
            "capability": self.capability,
            "capability_missing": self.capability_reason or None,
            "vendor": self.model.vendor,
            "params_total_b": self.variant.params_total_b,
            "params_active_b": self.variant.params_active_b,
            "context_tokens": self.model.context_tokens,
            "licence": self.model.licence.id,
            "commercial_use": self.model.commercial_use,
            "released": self.model.released,
            "verdict": self.model.verdict,
        }


@dataclass
class Exclusion:
    """A model a hard constraint ruled out, and which constraint."""

    model: Any
    reason: str
    constraint: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.model.id, "name": self.model.name, "reason": self.reason, "constraint": self.constraint}


@dataclass
class Rendered:
    """An answer: its lead (the first sentence, as a template key and slots), its text, and
    what it showed (for follow-ups such as 「第二個」)."""

    text: str
    lead: Message | None = None
    parts: list[Message] = field(default_factory=list)
    recommendations: list[Recommendation] = field(default_factory=list)
    excluded: list[Exclusion] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)  # model ids in the order shown
    variants: dict[str, str] = field(default_factory=dict)  # model id -> size shown
    notices: list[str] = field(default_factory=list)
    footer: bool = True  # the catalog's as-of line
