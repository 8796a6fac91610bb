"""Grounded answers (no language model needed): the one entry point, `compose()`.

`compose` plans the question in the context of the conversation (`answer.plan.make_plan`),
then renders the answer for the plan's intent (`answer.render`): the first sentence answers
the question, reasons follow, and a shortlist appears only for recommendations. The service,
the CLI (`ask`, `--history`, `chat`), the web UI and the API all call it, so follow-ups
resolve the same way everywhere.

Every number and model name comes from the catalog; the article's opinions are attributed to
the article; citations `[n]` index into `Reply.sources`; the footer states the newest release
the catalog holds and the date it was last checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .answer.citations import Citations
from .answer.context import Context
from .answer.conversation import ConversationState, replay
from .answer.lookup import SentenceIndex
from .answer.plan import make_plan
from .answer.ranking import CapabilitySource, default_capabilities
from .answer.render import render
from .answer.render_lists import newest_release
from .answer.types import Exclusion, Plan, Recommendation, Rendered
from .chinese import detect_language
from .constraints import Constraints
from .index import Chunk
from .knowledge import Catalog
from .messages import messages, say
from .retrieval import Passage
from .text import normalize
from .vocabulary import vocabulary

__all__ = ["EXAMPLES_EN", "EXAMPLES_ZH", "Reply", "answer_language", "compose", "conversation_state", "has_injection", "plan_question"]

_LETTERS = re.compile(r"[A-Za-z\u3400-\u9fff]")
_CJK = re.compile(r"[\u3400-\u9fff]")
_WORDLIKE = re.compile(r"[A-Za-z]{2,}")
_MARKUP = re.compile(r"<[^<>]{0,200}>")


def _examples(language: str) -> list[str]:
    return [say(f"scope.example_{n}", language) for n in range(1, 7) if messages().has(f"scope.example_{n}")]


EXAMPLES_ZH = _examples("zh-TW")
EXAMPLES_EN = _examples("en")


@dataclass
class Reply:
    question: str
    language: str
    answer: str
    route: str
    constraints: Constraints
    recommendations: list[Recommendation] = field(default_factory=list)
    excluded: list[Exclusion] = field(default_factory=list)
    sources: list[Passage] = field(default_factory=list)
    mode: str = "grounded"
    notices: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    validation: dict[str, Any] | None = None
    mentioned: list[str] = field(default_factory=list)
    grounded_answer: str = ""
    plan: Plan | None = None
    shown: list[str] = field(default_factory=list)
    llm: dict[str, Any] | None = None  # what the local model did (outcome, finish reason, rejected text …)
    lead: dict[str, Any] | None = None  # the first sentence's template key and slots

    def recommendations_dicts(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self.recommendations]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "question": self.question,
            "language": self.language,
            "answer": self.answer,
            "route": self.route,
            "recommendations": self.recommendations_dicts(),
            "excluded": [e.to_dict() for e in self.excluded],
            "constraints": self.constraints.to_dict(),
            "sources": [p.to_dict() for p in self.sources],
            "mode": self.mode,
            "notices": self.notices,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "plan": self.plan.to_dict() if self.plan is not None else None,
            "lead": self.lead,
        }
        if self.llm is not None:
            data["llm"] = self.llm
        if self.validation is not None:
            data["validation"] = self.validation
        return data


def answer_language(question: str, history: list[dict[str, str]] | None = None) -> str:
    """zh-TW when the question reads as Chinese, English when it reads as English. Input with no
    words (emoji, markup, random letters) takes the conversation's language (its user turns,
    most of them), else zh-TW."""
    text = _MARKUP.sub(" ", question or "")
    if _CJK.search(text):
        return "zh-TW"
    if _WORDLIKE.search(text) and not _looks_like_noise(text):
        return detect_language(text)
    languages = [answer_language(t["content"], None) for t in (history or [])
                 if isinstance(t, dict) and t.get("role") == "user" and isinstance(t.get("content"), str)
                 and (_CJK.search(t["content"]) or _WORDLIKE.search(_MARKUP.sub(" ", t["content"])))]
    if languages:
        return max(set(languages), key=languages.count)
    return "zh-TW"


def _looks_like_noise(text: str) -> bool:
    """Letters that make no word the vocabulary knows ("asdkjh qwpoeiru")."""
    known = vocabulary().words("stopwords.not_a_model") | vocabulary().words("stopwords.leading_filler")
    words = re.findall(r"[a-z]+", normalize(text))
    return bool(words) and not any(w in known for w in words)


def has_injection(question: str) -> bool:
    """Whether the question tries to change the assistant's rules (it is answered all the same,
    with a notice; the words are not removed from the question)."""
    return vocabulary().cues("scope.injection")(normalize(question))


def plan_in_state(
    question: str, catalog: Catalog, state: ConversationState | None, zh_lang: str, sentences: SentenceIndex | None
) -> Plan:
    """The plan for a question in a conversation state."""
    return make_plan(question, catalog, state, zh_lang, None, sentences.search if sentences else None)


def plan_question(question: str, catalog: Catalog, history: list[dict[str, str]] | None = None, language: str | None = None) -> Plan:
    """The plan for a question in a conversation, without rendering its answer."""
    zh_lang = language or answer_language(question, history)
    state = conversation_state(catalog, history, zh_lang, {}, None)
    return plan_in_state(question, catalog, state, zh_lang, None)


def conversation_state(
    catalog: Catalog,
    history: list[dict[str, str]] | None,
    zh_lang: str,
    chunks: dict[str, Chunk],
    sentences: SentenceIndex | None,
    capabilities: CapabilitySource | None = None,
) -> ConversationState:
    source = capabilities or default_capabilities()

    def answer_turn(question: str, state: ConversationState) -> tuple[Plan, Rendered]:
        plan = plan_in_state(question, catalog, state, answer_language(question) if _LETTERS.search(question) else zh_lang, sentences)
        # (a turn with no words keeps the conversation's language)
        return plan, render(plan, Context(catalog, Citations(chunks, []), [], {}, sentences, state, source))

    return replay(history, answer_turn)


def footer(catalog: Catalog, language: str) -> str:
    newest = newest_release(catalog) or ""
    return say("catalog.footer", language, month=newest[:7], checked=catalog.as_of.isoformat())


def compose(
    question: str,
    catalog: Catalog,
    retrieved: list[Passage],
    chunks: dict[str, Chunk],
    history: list[dict[str, str]] | None = None,
    language: str | None = None,
    k: int = 5,
    idf: dict[str, float] | None = None,
    sentences: SentenceIndex | None = None,
    state: ConversationState | None = None,
    plan: Plan | None = None,
    capabilities: CapabilitySource | None = None,
) -> Reply:
    """Build the grounded reply for a cleaned question.

    Args:
        history: earlier `{role, content}` turns; user turns are replayed into the conversation
            state that pronouns, ordinals and follow-ups resolve against.
        idf: the lexical index's IDF table, used to pick the article sentence to quote.
        sentences: the article's sentence index, for "which model has P?" lookups.
        state: the conversation state when the caller already replayed `history`.
        plan: the plan when the caller already made it (with the same state and language).
        capabilities: where capability figures come from (default: knowledge/capabilities.yaml).
    """
    zh_lang = language or answer_language(question, history)
    source = capabilities or default_capabilities()
    if state is None and history:
        state = conversation_state(catalog, history, zh_lang, chunks, sentences, source)
    plan = plan or plan_in_state(question, catalog, state, zh_lang, sentences)
    cites = Citations(chunks, retrieved)
    rendered = render(plan, Context(catalog, cites, retrieved, idf or {}, sentences, state, source))
    notices: list[str] = []
    if plan.injection:
        notices.append(say("notice.injection", plan.lang))
    text = rendered.text
    if rendered.footer:
        text += "\n\n" + footer(catalog, plan.lang)
        cites.fill(k)
    return Reply(
        question=question,
        language=plan.lang,
        answer=text,
        route=plan.intent,
        constraints=plan.constraints,
        recommendations=rendered.recommendations,
        excluded=rendered.excluded,
        sources=cites.sources,
        notices=notices + rendered.notices,
        mentioned=list(dict.fromkeys([*(s.id for s in plan.subjects if s.kind == "model"), *rendered.shown])),
        grounded_answer=text,
        plan=plan,
        shown=rendered.shown,
        lead={"key": rendered.lead.key, "slots": rendered.lead.slots} if rendered.lead else None,
    )
