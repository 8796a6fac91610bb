"""What every renderer needs besides the plan."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..knowledge import Catalog, Model, Variant
from ..messages import Message, say
from ..retrieval import Passage
from .citations import Citations
from .conversation import ConversationState
from .lookup import SentenceIndex
from .ranking import CapabilitySource, NoCapabilities
from .types import Plan, Subject


@dataclass
class Context:
    catalog: Catalog
    cites: Citations
    retrieved: list[Passage]
    idf: dict[str, float]
    sentences: SentenceIndex | None
    state: ConversationState | None
    capabilities: CapabilitySource = field(default_factory=NoCapabilities)


class Writer:
    """Collects an answer's sentences: each one a template key and its slots."""

    def __init__(self, plan: Plan) -> None:
        self.language = plan.lang
        self.plan = plan
        self.lines: list[str] = []
        self.parts: list[Message] = []
        self.lead: Message | None = None

    def say(self, key: str, **slots: object) -> str:
        return say(key, self.language, **slots)

    def add(self, key: str, /, cite: str = "", **slots: object) -> str:
        """Append the sentence `key`; the first one added is the answer's lead."""
        message = Message(key, dict(slots))
        text = message.text(self.language) + cite
        if self.lead is None:
            self.lead = message
        self.parts.append(message)
        self.lines.append(text)
        return text

    def raw(self, text: str) -> None:
        """Append text already built from templates (a list item, a quote)."""
        if text:
            self.lines.append(text)

    def text(self, separator: str = "\n") -> str:
        return separator.join(line for line in self.lines if line)


def facts_model(catalog: Catalog, subject: Subject) -> Model:
    """The model whose facts answer for `subject`: a named size carries its own licence,
    context, modalities and release (「Qwen2.5-3B」 is non-commercial though the series is not)."""
    model = catalog.by_id[subject.id]
    if subject.variant and model.variant(subject.variant) is not None and len(model.sizes) > 1:
        return model.with_variant(subject.variant)
    return model


def subject_variant(catalog: Catalog, subject: Subject) -> Variant | None:
    model = catalog.by_id[subject.id]
    if not subject.variant:
        return None
    return model.variant(subject.variant)
