"""Conversation state, rebuilt from the history every client already sends.

The CLI (`--history`, `chat`), the web UI and the API send the earlier turns as
`{role, content}` messages. `replay` plans and answers the earlier *user* turns in order with
the same engine, so the state is exactly what the user was shown, whichever client asked,
and nothing is stored server-side.

What a follow-up resolves against:
* `shown` — the ordered list of models the last list-like answer showed (ordinals pick from it);
* `subjects` — what the conversation is about (pronouns pick it);
* `constraints` — the request so far (task, hardware, licence, language …), which a follow-up
  changes one part of and keeps the rest;
* `intent`, `attributes` — what was asked, for 「那 Qwen3 呢？」 (same question, new subject).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..constraints import Constraints
from .types import Plan, Rendered, Subject

MAX_REPLAYED_TURNS = 6


@dataclass
class ConversationState:
    turns: int = 0
    intent: str | None = None
    subjects: list[Subject] = field(default_factory=list)
    attributes: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)  # model ids in the order last shown
    variants: dict[str, str] = field(default_factory=dict)
    constraints: Constraints | None = None  # the request so far (recommend, fit, list, rank)
    family_scope: Subject | None = None  # the one family the last list-like request was within ("Mistral 有哪些…")
    request_intent: str | None = None  # the last list-like request (recommend, list, rank, newest), kept across fact turns
    questions: list[str] = field(default_factory=list)
    language: str | None = None  # the language of the last answer
    just_one: bool = False  # the user asked for one answer only; follow-ups keep it
    last_plan: Plan | None = None

    @property
    def shortlist(self) -> list[str]:
        return self.shown

    def update(self, plan: Plan, rendered: Rendered) -> None:
        """Fold one answered turn into the state."""
        self.turns += 1
        self.questions.append(plan.question)
        if plan.intent in ("nonsense", "scope", "no_change", "out_of_scope"):
            return  # nothing in it to refer back to
        self.language = plan.language
        self.intent = plan.intent
        self.just_one = plan.just_one or (self.just_one and plan.reference is not None)
        self.last_plan = plan
        catalog_subjects = [s for s in plan.subjects if s.kind in ("model", "family")]
        if catalog_subjects and plan.intent not in ("recommend", "list", "rank", "newest"):
            self.subjects = catalog_subjects
        elif rendered.shown and plan.intent in ("lookup", "rank", "recommend", "newest", "list"):
            first = rendered.shown[0]
            self.subjects = [Subject("model", first, first, rendered.variants.get(first))]
        if plan.attributes:
            self.attributes = list(plan.attributes)
        elif plan.intent in ("recommend", "list", "rank", "newest"):
            self.attributes = []
        if rendered.shown and plan.intent in ("recommend", "list", "rank", "compare", "newest", "why_not", "fit", "fact"):
            if plan.intent in ("recommend", "list", "rank", "compare", "newest") or not self.shown:
                self.shown = list(rendered.shown)
                self.variants = dict(rendered.variants)
        if plan.intent in ("recommend", "list", "rank", "newest"):
            self.request_intent = plan.intent
            families = [s for s in plan.subjects if s.kind == "family"]
            self.family_scope = families[0] if len(families) == 1 and not [s for s in plan.subjects if s.kind == "model"] else None
        elif catalog_subjects:
            families = [s for s in catalog_subjects if s.kind == "family"]
            self.family_scope = families[0] if len(families) == 1 and len(catalog_subjects) == 1 else None
        if plan.intent in ("recommend", "fit", "list", "rank", "compare", "newest", "why_not") and (
            plan.constraints.stated or self.constraints is None
        ):
            self.constraints = plan.constraints.copy()


def user_turns(history: list[dict[str, str]] | None) -> list[str]:
    turns = []
    for turn in history or []:
        if isinstance(turn, dict) and turn.get("role") == "user" and isinstance(turn.get("content"), str):
            turns.append(turn["content"])
    return turns[-MAX_REPLAYED_TURNS:]


def replay(history: list[dict[str, str]] | None, answer_turn: Callable[[str, ConversationState], tuple[Plan, Rendered]]) -> ConversationState:
    """Re-plan the earlier user turns, oldest first, into a `ConversationState`.

    Args:
        answer_turn: plans and renders one question in the given state (the same code path
            that answers the current question).
    """
    state = ConversationState()
    for question in user_turns(history):
        try:
            plan, rendered = answer_turn(question, state)
        except Exception:  # one odd earlier turn must not break the current answer
            continue
        state.update(plan, rendered)
    return state
