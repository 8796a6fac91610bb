"""Grounded answers (no language model needed): the one entry point, `compose()`.

`compose` plans the question in the context of the conversation
(`assistant.answer.plan.make_plan`), then renders the answer for the plan's intent
(`assistant.answer.render`): the first sentence answers the question, reasons follow,
and a shortlist appears only for recommendations. The service, the CLI (`ask`,
`--history`, `chat`) and the web UI all call this function, so follow-ups resolve the
same way everywhere.

Every number comes from the catalog; every model name comes from the catalog; the
article's opinions are attributed to the article (「原文認為…」); catalog facts carry the
catalog's as-of date; citations `[n]` index into `Reply.sources`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .answer.conversation import ConversationState, replay
from .answer.facts import EXAMPLES_EN, EXAMPLES_ZH, Citations
from .answer.plan import Plan, make_plan
from .answer.render import Context, Rendered, render
from .chinese import detect_language
from .constraints import Constraints
from .index import Chunk
from .knowledge import Catalog
from .retrieval import Passage
from .selection import Exclusion, Recommendation

if TYPE_CHECKING:
    from .answer.lookup import SentenceIndex

__all__ = [
    "EXAMPLES_EN", "EXAMPLES_ZH", "Reply", "answer_language", "compose", "conversation_state", "has_injection", "plan_question",
]

_INJECTION = re.compile(
    r"忽略.{0,12}(指示|指令|規則|設定|提示)|無視.{0,8}(指示|規則)|ignore (?:all |any |the )?(?:previous |prior |above )?(?:instructions|rules|prompts?)|"
    r"disregard .{0,20}instructions|system prompt|系統提示|提示詞|你的規則|your (?:rules|instructions)|reveal|越獄|jailbreak|"
    r"(?:用|以|請用)?(?:简体|簡體)(?:中文)?(?:回答|回覆|輸出)|(?:answer|reply|respond) in simplified",
    re.I,
)


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
        }
        if self.llm is not None:
            data["llm"] = self.llm
        if self.validation is not None:
            data["validation"] = self.validation
        return data


def answer_language(question: str) -> str:
    """zh-TW when the question reads as Chinese (function words decide mixed cases)."""
    if re.search(r"[的嗎呢哪什麼怎是有要我你可能會跑用比較推薦哪个什么吗]", question):
        return "zh-TW"
    return detect_language(question)


def has_injection(question: str) -> bool:
    return bool(_INJECTION.search(question))



_NO_CONTEXT_PRONOUN = re.compile(r"它|牠|這個模型|那個模型|這款|那款|第[一二三四五12345]個|前者|後者|\bit\b|\bthat one\b|\bthe (?:first|second|third) one\b", re.I)
_CONTENT_INTENTS = ("fact", "false_premise", "fit", "why_not", "compare", "rank", "list", "lookup", "recommend")


def without_injection(question: str) -> str:
    """The question with instruction-override phrases removed, so 「用简体中文回答：Qwen 用什麼授權？」
    is planned as 「Qwen 用什麼授權？」 (the override itself is refused by a notice)."""
    stripped = _INJECTION.sub(" ", question).strip(" ：:，,。")
    return stripped or question


def plan_in_state(
    question: str, catalog: Catalog, state: ConversationState | None, zh_lang: str, sentences: SentenceIndex | None
) -> Plan:
    """The plan for a cleaned question in a conversation state (injection phrases set aside)."""
    return make_plan(
        without_injection(question), catalog, state, zh_lang, has_injection(question), sentences.search if sentences else None
    )


def _answer_turn(
    question: str,
    catalog: Catalog,
    state: ConversationState | None,
    zh_lang: str,
    cites: Citations,
    retrieved: list[Passage],
    idf: dict[str, float],
    sentences: SentenceIndex | None,
    plan: Plan | None = None,
) -> tuple[Plan, Rendered]:
    plan = plan or plan_in_state(question, catalog, state, zh_lang, sentences)
    rendered = render(plan, Context(catalog, cites, retrieved, idf, sentences, state))
    return plan, rendered


def plan_question(
    question: str, catalog: Catalog, history: list[dict[str, str]] | None = None, language: str | None = None
) -> Plan:
    """The plan for a question in a conversation, without rendering its answer."""
    zh_lang = language or answer_language(question)
    state = conversation_state(catalog, history, zh_lang, {}, None)
    return plan_in_state(question, catalog, state, zh_lang, None)


def conversation_state(
    catalog: Catalog,
    history: list[dict[str, str]] | None,
    zh_lang: str,
    chunks: dict[str, Chunk],
    sentences: SentenceIndex | None,
) -> ConversationState:
    def answer_turn(question: str, state: ConversationState) -> tuple[Plan, Rendered]:
        return _answer_turn(question, catalog, state, zh_lang, Citations(chunks, []), [], {}, sentences)

    return replay(history, answer_turn)


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
) -> Reply:
    """Build the grounded reply for a cleaned question.

    Args:
        history: earlier `{role, content}` turns; user turns are replayed into the
            conversation state that pronouns, ordinals and why-not questions resolve against.
        idf: the lexical index's IDF table, used to pick the article sentence to quote.
        sentences: the article's sentence index, for "which model has P?" lookups.
        state: the conversation state when the caller already replayed `history`.
        plan: the plan when the caller already made it (with the same state and language).
    """
    zh_lang = language or answer_language(question)
    zh = zh_lang != "en"
    notices: list[str] = []
    if has_injection(question):
        notices.append(
            "已忽略要求更改規則或改用簡體的指示；本助手一律依知識庫以繁體中文回答。" if zh
            else "Instructions to change my rules were ignored; answers stay grounded in the knowledge base."
        )
    if state is None and history:
        state = conversation_state(catalog, history, zh_lang, chunks, sentences)
    cites = Citations(chunks, retrieved)
    plan, rendered = _answer_turn(question, catalog, state, zh_lang, cites, retrieved, idf or {}, sentences, plan)
    if (state is None or not state.turns) and _NO_CONTEXT_PRONOUN.search(question) and not plan.subjects:
        notices.append(
            "沒有上文可判斷「它」指哪個模型；可以直接寫出模型名稱再問一次。" if zh
            else "There is no earlier question to tell which model “it” means; ask again with the model's name."
        )
    text = rendered.text
    if plan.intent in _CONTENT_INTENTS:
        text += (f"\n\n（型錄資料截至 {catalog.as_of.isoformat()}；「原文」指知識庫收錄的評比文章。）" if zh
                 else f"\n\n(Catalog facts as of {catalog.as_of.isoformat()}; “the article” is the comparison article in the knowledge base.)")
        cites.fill(k)
    return Reply(
        question=question,
        language="zh-TW" if zh else "en",
        answer=text,
        route=plan.intent,
        constraints=plan.constraints,
        recommendations=rendered.recommendations,
        excluded=rendered.excluded,
        sources=cites.sources,
        notices=notices + rendered.notices,
        # Models the answer is about (named, or listed by a list/rank/lookup answer) for the UI's cards.
        mentioned=list(dict.fromkeys([*(s.id for s in plan.subjects if s.kind == "model"), *rendered.shown])),
        grounded_answer=text,
        plan=plan,
        shown=rendered.shown,
    )
