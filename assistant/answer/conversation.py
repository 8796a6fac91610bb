"""Conversation state, rebuilt from the history every client already sends.

The CLI (`--history`, `chat`) and the web UI send the earlier turns as `{role, content}`
messages. `replay` re-plans the earlier *user* turns in order with the same planner and
selection engine, so the state (subjects, shortlist, constraints, attribute) is exactly
what the user saw, whichever client asked, and nothing is stored server-side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..constraints import Constraints

if TYPE_CHECKING:
    from .plan import Plan, Subject
    from .render import Rendered

MAX_REPLAYED_TURNS = 6


@dataclass
class ConversationState:
    turns: int = 0
    intent: str | None = None
    subjects: list[Subject] = field(default_factory=list)
    attributes: list[str] = field(default_factory=list)
    shortlist: list[str] = field(default_factory=list)  # model ids, in the order last shown
    variants: dict[str, str] = field(default_factory=dict)
    constraints: Constraints | None = None  # the constraints of the last recommendation or fit
    questions: list[str] = field(default_factory=list)

    def update(self, plan: Plan, rendered: Rendered) -> None:
        """Fold one answered turn into the state."""
        self.turns += 1
        self.questions.append(plan.question)
        self.intent = plan.intent
        catalog_subjects = [s for s in plan.subjects if s.kind in ("model", "family")]
        if catalog_subjects:
            self.subjects = catalog_subjects
        elif rendered.shown and plan.intent in ("lookup", "rank"):
            from .plan import Subject  # noqa: PLC0415

            self.subjects = []
            self.subjects = [Subject("model", rendered.shown[0], rendered.shown[0], rendered.variants.get(rendered.shown[0]))]
        elif plan.intent in ("recommend", "list"):
            self.subjects = []
        if plan.attributes:
            self.attributes = list(plan.attributes)
        if rendered.shown and plan.intent in ("recommend", "list", "rank", "compare"):
            self.shortlist = list(rendered.shown)
            self.variants = dict(rendered.variants)
        if plan.intent in ("recommend", "fit", "list", "rank") and (plan.constraints.hard or plan.constraints.tasks):
            self.constraints = plan.constraints


def user_turns(history: list[dict[str, str]] | None) -> list[str]:
    turns = []
    for turn in history or []:
        if isinstance(turn, dict) and turn.get("role") == "user" and isinstance(turn.get("content"), str):
            turns.append(turn["content"])
    return turns[-MAX_REPLAYED_TURNS:]


def replay(history: list[dict[str, str]] | None, answer_turn: Callable[[str, ConversationState], tuple[Plan, Rendered]]) -> ConversationState:
    """Re-plan the earlier user turns, oldest first, into a `ConversationState`.

    Args:
        answer_turn: plans and renders one question in the given state (the same code
            path that answers the current question).
    """
    state = ConversationState()
    for question in user_turns(history):
        try:
            plan, rendered = answer_turn(question, state)
        except Exception:  # one odd earlier turn must not break the current answer
            continue
        state.update(plan, rendered)
    return state
