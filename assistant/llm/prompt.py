"""The LLM prompt: a short static prefix in the answer's language (rules and one worked
example with a fictional model), then one user message with the conversation's context
(the resolved subject and requirements, not the old turns), the glossary terms the facts
use, the facts and the question.

- **Cache.** The system message is the same text for every question of a language, so
  llama.cpp reuses its KV cache; the per-question part is small.
- **Size.** The static part stays under `STATIC_TOKEN_LIMIT` tokens. No source list is
  sent: the facts carry their [n] markers, and a list of titles was echoed back.
- **Budget.** Counted with the model's own tokenizer so that prompt + max_tokens <= n_ctx
  always; trimmed in this order: the conversation context, the glossary, the worked
  example, facts, the question, and last max_tokens.
- **Examples.** The worked examples name fictional models (`EXAMPLE_MODELS`), so a model
  that copies them is caught by the validator as copying, never as a catalog model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..messages import messages
from .backends import GenerationError, Message

if TYPE_CHECKING:
    from ..compose import Reply

MIN_NEW_TOKENS = 48
"""Below this many tokens of room for the answer, the LLM is not worth calling."""

STATIC_TOKEN_LIMIT = 350
"""The system message (rules and worked example) stays under this many tokens."""

RULES = """You are 選型助手. Reword the facts into a short answer.
1. Use only these facts. If they do not say, say the knowledge base has no data on it.
2. Name only models in the facts. Copy numbers and units exactly; never convert.
3. The first sentence answers the question (the facts' first line); then 2 to 4 short points.
4. Cite [1] at the end of a sentence, as the facts do.
5. Finish every sentence. Never repeat these rules or the labels."""
ANSWER_IN = {"zh": "6. Answer in Traditional Chinese with Taiwan wording (繁體中文).", "en": "6. Answer in English."}
RULES_ZH = RULES + "\n" + ANSWER_IN["zh"]
RULES_EN = RULES + "\n" + ANSWER_IN["en"]

EXAMPLE_MODELS = ("Kestrel-7B", "Heron-20B")
"""Fictional models used only in the worked examples; the validator knows them."""

EXAMPLE_ZH = """範例（虛構模型，只示範格式）：
事實：**Kestrel-7B** 參數量 7B；上下文 32k；Apache-2.0，可商用。[1]
問題：Kestrel-7B 可以商用嗎？
回答：可以，Kestrel-7B 採 Apache-2.0，可商用 [1]。
- 7B 參數，上下文 32k [1]。"""

EXAMPLE_EN = """Example (a fictional model, format only):
Facts: **Heron-20B**: 20B parameters; context 8k; CC-BY-NC-4.0, no commercial use.[1]
Question: Can I use Heron-20B in a product?
Answer: No. Heron-20B is under CC-BY-NC-4.0, which does not allow commercial use [1].
- 20B parameters, context 8k [1]."""

WORKED_EXAMPLES = EXAMPLE_ZH + "\n\n" + EXAMPLE_EN
"""Both worked examples (each prompt carries only the one in the answer's language)."""

LABELS = {
    "zh": {"facts": "事實：", "question": "問題：", "context": "對話脈絡：", "terms": "詞彙："},
    "en": {"facts": "Facts:", "question": "Question:", "context": "Conversation so far:", "terms": "Terms:"},
}
FACT_LABELS = ("事實：", "來源：", "問題：", "規則：", "對話脈絡：", "詞彙：", "Facts:", "Sources:", "Question:", "Rules:",
               "Conversation so far:", "Terms:")
"""Labels of the prompt's blocks; an answer that repeats them is regurgitating the prompt."""

GLOSSARY: tuple[tuple[str, str, str], ...] = (
    # (a pattern on the facts, the zh gloss, the en gloss)
    (r"有條件商用|commercial with conditions", "有條件商用＝可商用，但須遵守後面列的條件", "commercial with conditions = allowed if the conditions that follow are met"),
    (r"不可商用|no commercial use|non-commercial", "不可商用＝授權不允許商業使用", "no commercial use = the licence forbids commercial use"),
    (r"原文推薦|recommended by the article", "原文推薦＝知識庫的評比文章推薦它", "recommended by the article = the review article in the knowledge base recommends it"),
    (r"約需 ?[\d.]+ ?GB|needs about [\d.]+ ?GB", "約需 N GB＝該量化版本（Q4_K_M、Q8_0）含 KV 快取的記憶體估算", "needs about N GB = memory for that quantisation (Q4_K_M, Q8_0) including the KV cache"),
    (r"token/s", "token/s＝粗估的生成速度", "token/s = a rough generation speed"),
    (r"每次啟動|active\b", "每次啟動＝MoE 模型每個 token 用到的參數", "active = the parameters a MoE model uses per token"),
)

SYSTEM_PROMPTS = {
    "zh": RULES_ZH + "\n\n" + EXAMPLE_ZH,
    "en": RULES_EN + "\n\n" + EXAMPLE_EN,
}
SYSTEM_RULES = RULES_EN
"""The rules (the validator spots an answer repeating them)."""
SYSTEM_PROMPT = SYSTEM_PROMPTS["zh"]
"""The static prefix of a zh-TW answer (`system_prompt(language)` for either language)."""

HISTORY_TURNS = 6
BULLET_RUN = 3
"""At most this many consecutive "- " lines of the facts (excluded models, family
members) go into the prompt: the first ones carry the answer, the rest cost tokens."""


def system_prompt(language: str, example: bool = True) -> str:
    key = "en" if language == "en" else "zh"
    return SYSTEM_PROMPTS[key] if example else (RULES_EN if key == "en" else RULES_ZH)


class PromptTooLong(GenerationError):
    """Even the smallest prompt leaves no room for an answer in n_ctx."""


@dataclass
class Prompt:
    """What is sent to the model, and what the validator may accept from it."""

    messages: list[Message]
    facts_text: str
    source_count: int
    prompt_tokens: int
    max_tokens: int
    n_ctx: int
    trimmed: list[str] = field(default_factory=list)

    def rendered(self) -> str:
        """The messages as readable text (for `--verbose` logs)."""
        return "\n\n".join(f"<{m['role']}>\n{m['content']}" for m in self.messages)


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


CITATION = re.compile(r"\[(\d{1,3})\]")
_STALE_CITATION = re.compile(r"\s?\[(?:\d{1,3}|[a-zA-Z])\]")


def strip_citations(text: str) -> str:
    """Text without its [n] markers (they pointed at another turn's sources)."""
    return _STALE_CITATION.sub("", text)


# The grounded answer ends with the same boilerplate every time (the catalog date, what
# memory and speed estimates include, what 「原文」 means): the glossary says it when needed.
BOILERPLATE_KEYS = ("catalog.footer", "fit.estimate_note")
"""Message keys (knowledge/messages/*.yaml) of the grounded answer's footer lines."""


@lru_cache(maxsize=1)
def _boilerplate_prefixes() -> tuple[str, ...]:
    """The fixed start of each footer line, in both languages (the text before its first slot)."""
    prefixes = []
    for key in BOILERPLATE_KEYS:
        for language in ("zh-TW", "en"):
            try:
                prefixes.append(messages().template(key, language).split("{")[0].strip())
            except KeyError:
                continue
    return tuple(p for p in prefixes if len(p) >= 4)


_VARIANT_LIST = re.compile(r"((?:尺寸|sizes) \S+?[–-]\S+?)[（(][^（）()]*[）)]")
"""「尺寸 270M–27B（Gemma 3 270M、Gemma 3 1B、…）」: the range says it, the list repeats it."""


def fact_lines(answer: str) -> list[str]:
    """The grounded answer as fact lines, without its boilerplate footer lines, long
    bullet runs cut to `BULLET_RUN` and size ranges without their variant lists."""
    lines: list[str] = []
    run = 0
    for line in answer.strip().splitlines():
        line = _VARIANT_LIST.sub(r"\1", line)
        run = run + 1 if line.lstrip().startswith("- ") else 0
        if run > BULLET_RUN:
            continue
        if line.strip().startswith(_boilerplate_prefixes()):
            continue
        if line.strip() or (lines and lines[-1].strip()):
            lines.append(line.rstrip())
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def glossary_lines(facts: str, language: str) -> list[str]:
    """The glossary entries for the terms the facts use, in the answer's language."""
    column = 2 if language == "en" else 1
    return [entry[column] for entry in GLOSSARY if re.search(entry[0], facts)]


_CONSTRAINT_WORDS = {
    "commercial_required": ("需可商用", "commercial use"),
    "open_source_only": ("只要開源授權", "open-source licence only"),
    "cpu_only": ("只用 CPU", "CPU only"),
}


def conversation_context(reply: Reply, history: Sequence[dict[str, str]], language: str) -> str:
    """The conversation so far, reduced to what the answer depends on: the subject the
    question resolved to and the requirements in force ("" without history)."""
    if not any(isinstance(t, dict) and str(t.get("content", "")).strip() for t in history):
        return ""
    en = language == "en"
    plan = getattr(reply, "plan", None)
    names = []
    for subject in getattr(plan, "subjects", None) or []:
        if getattr(subject, "kind", "") in ("model", "family"):
            names.append(getattr(subject, "variant", None) or getattr(subject, "name", "") or getattr(subject, "id", ""))
    requirements = _requirement_words(getattr(plan, "constraints", None) or getattr(reply, "constraints", None), en)
    parts = []
    if names:
        joined = ", ".join(dict.fromkeys(names)) if en else "、".join(dict.fromkeys(names))
        parts.append(f"the question is about {joined}" if en else f"這題問的是 {joined}")
    if requirements:
        parts.append(("requirements: " if en else "條件：") + (", ".join(requirements) if en else "、".join(requirements)))
    if not parts:
        return ""
    return ("; ".join(parts) + ".") if en else ("；".join(parts) + "。")


def _requirement_words(constraints: Any, en: bool) -> list[str]:
    if constraints is None:
        return []
    words: list[str] = []
    for name, (zh, english) in _CONSTRAINT_WORDS.items():
        if getattr(constraints, name, False):
            words.append(english if en else zh)
    memory = getattr(constraints, "memory_gb", None)
    if memory:
        words.append(f"{memory:g} GB memory" if en else f"{memory:g}GB 記憶體")
    hardware = getattr(constraints, "hardware_name", None)
    if hardware:
        words.append(str(hardware))
    high, low = getattr(constraints, "max_params_b", None), getattr(constraints, "min_params_b", None)
    if high:
        words.append(f"at most {high:g}B" if en else f"{high:g}B 以下")
    if low:
        words.append(f"at least {low:g}B" if en else f"{low:g}B 以上")
    context = getattr(constraints, "min_context_tokens", None)
    if context:
        words.append(f"context ≥ {context // 1000:g}k" if en else f"上下文至少 {context // 1000:g}k")
    for task in getattr(constraints, "tasks", None) or []:
        words.append(str(task))
    for licence in getattr(constraints, "licence_ids", None) or []:
        words.append(str(licence))
    for family in getattr(constraints, "avoid_families", None) or []:
        words.append(f"not {family}" if en else f"不要 {family}")
    for country in getattr(constraints, "avoid_countries", None) or []:
        words.append(f"not from {country}" if en else f"不要 {country} 的模型")
    return words


def build_prompt(
    reply: Reply,
    history: Sequence[dict[str, str]],
    count_tokens: Callable[[Sequence[Message]], int],
    n_ctx: int,
    max_tokens: int,
) -> Prompt:
    """Messages for one answer, trimmed until prompt + max_tokens <= n_ctx.

    Layout: the static system prefix of the answer's language (`system_prompt`), then
    one user message: the conversation context (when there is history), the glossary
    terms the facts use, the facts and the question, each under a label in the answer's
    language.

    Trimming order: the conversation context, the glossary, the worked example, facts,
    the question, and last max_tokens.

    Args:
        reply: the grounded reply; its answer is the facts.
        history: earlier turns ({role, content}); only the subject and requirements they
            resolved to are sent (from the reply's plan).
        count_tokens: the model's token counter for a message list.
        n_ctx: the context window.
        max_tokens: the answer budget; lowered (never below MIN_NEW_TOKENS) only when
            the smallest prompt still does not fit.

    Raises:
        PromptTooLong: the rules alone leave less than MIN_NEW_TOKENS.
    """
    language = "en" if reply.language == "en" else "zh"
    labels = LABELS[language]
    lines = fact_lines(reply.answer)
    context = conversation_context(reply, [t for t in history if isinstance(t, dict)], reply.language)
    terms = glossary_lines("\n".join(lines), reply.language)
    question = reply.question
    example = True
    trimmed: list[str] = []

    def assemble() -> tuple[list[Message], str]:
        facts = "\n".join(lines).strip()
        blocks = []
        if context:
            blocks.append(f"{labels['context']}{' ' if language == 'en' else ''}{context}")
        if terms:
            joiner = "; " if language == "en" else "；"
            blocks.append(f"{labels['terms']}{' ' if language == 'en' else ''}{joiner.join(terms)}")
        blocks.append(f"{labels['facts']}\n{facts}")
        blocks.append(f"{labels['question']}{' ' if language == 'en' else ''}{question}")
        user = "\n".join(blocks)
        messages = [{"role": "system", "content": system_prompt(language, example)}, {"role": "user", "content": user}]
        return messages, f"{facts}\n{question}"

    budget = max_tokens
    while True:
        messages, facts_text = assemble()
        used = count_tokens(messages)
        if used + budget <= n_ctx:
            break
        if context:
            context = ""
            _note(trimmed, "history")
        elif terms:
            terms = []
            _note(trimmed, "glossary")
        elif example:
            example = False
            _note(trimmed, "examples")
        elif len(lines) > 1:
            lines.pop()
            _note(trimmed, "facts")
        elif len(question) > 120:
            question = _clip(question, len(question) // 2)
            _note(trimmed, "question")
        elif lines and len(lines[0]) > 120:
            lines[0] = _clip(lines[0], len(lines[0]) // 2)
            _note(trimmed, "facts")
        elif n_ctx - used >= MIN_NEW_TOKENS:
            budget = n_ctx - used
            _note(trimmed, "max_tokens")
        else:
            raise PromptTooLong(
                f"上下文 {n_ctx} token 太小，放不下規則與問題（需要 {used} + {MIN_NEW_TOKENS}）；請調高 ASSISTANT_N_CTX。",
                f"n_ctx {n_ctx} is too small for the rules and the question ({used} + {MIN_NEW_TOKENS}); raise ASSISTANT_N_CTX.",
            )
    return Prompt(messages, facts_text, len(reply.sources), used, budget, n_ctx, trimmed)


def _note(trimmed: list[str], what: str) -> None:
    if what not in trimmed:
        trimmed.append(what)
