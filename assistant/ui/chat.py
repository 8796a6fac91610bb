"""The chat tab: the streaming chat handler (`respond`), the conversation state, and the tab's
layout. The side panels' HTML is in `panels.py`.

The language an answer is written in: the setting when it is 繁體中文 or English; on "auto",
the question's own language, except for a message that is no question at all (emoji, `<script>`,
random letters), which is answered in the conversation's language, else in Chinese (the page's).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import gradio as gr

from ..inputs import strip_invisible
from .assets import CITATION_JS, COUNTER_JS
from .common import CJK, esc, lang, sanitize_markdown, server_wording, t
from .panels import (
    answer_markdown,
    mode_label,
    notify_once,
    render_cards,
    render_exclusions,
    render_sources,
    slow_model_notice,
)
from .render import (
    machine_hardware,
    render_source_groups,
    reply_hardware,
    separate_lists,
    source_dict,
    unlink_citations,
)
from .settings import MODE_GROUNDED, MODE_LLM, build_settings, llm_details, llm_status

if TYPE_CHECKING:
    from ..knowledge import Catalog
    from ..service import Assistant

log = logging.getLogger(__name__)

MAX_HISTORY_MESSAGES = 12

EXAMPLES = {
    "zh-TW": [
        "我要商用、只有 16GB 筆電，想跑能寫程式的模型，選哪個？",
        "Cohere Command 可以商用嗎？",
        "Phi 4 和 Gemma 3 比較",
        "手機上能跑什麼模型？",
        "不要中國公司、要能看圖的模型",
        "RTX 4090 可以跑 gpt-oss-20b 嗎？",
        "Which models have an MIT licence?",
    ],
    "en": [
        "Commercial use, a 16 GB laptop, a model that can write code: which one?",
        "Can I use Cohere Command commercially?",
        "Compare Phi 4 and Gemma 3",
        "Which models run on a phone?",
        "No Chinese vendors, and it must understand images",
        "Can an RTX 4090 run gpt-oss-20b?",
        "Which models have an MIT licence?",
    ],
}

REJECTED_ZH = "※ 語言模型的回答沒有通過事實檢查，已改為依知識庫的回答。"
REJECTED_EN = "※ The language model's answer failed the fact check; showing the knowledge-base answer instead."


def message_text(content: Any) -> str:
    """Text of a chatbot message's content: a string, a list of parts, or a dict part."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return content.get("text", "") if content.get("type", "text") == "text" else ""
    if isinstance(content, (list, tuple)):
        parts = (message_text(part) for part in content if not isinstance(part, (list, tuple)))
        return "\n".join(p for p in parts if p)
    return ""


def history_from_chat(chat: list[Any] | None) -> list[dict[str, str]]:
    """The conversation as `[{role, content}]` text turns; files and odd parts are dropped."""
    turns: list[dict[str, str]] = []
    for message in chat or []:
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            continue
        text = unlink_citations(message_text(message.get("content")))
        if text.strip():
            turns.append({"role": message["role"], "content": text})
    return turns[-MAX_HISTORY_MESSAGES:]


def new_conversation() -> dict[str, Any]:
    """Per-session chat state: each answer's sources (so every answer's `[n]` keeps working),
    the hardware the conversation stated, the explicitly detected one, the language the
    conversation is in, and the one-time notices already shown."""
    return {"sources": [], "hardware": None, "detected": None, "language": None, "notified": []}


def conversation(state: Any, chat: list[Any]) -> dict[str, Any]:
    """The state for a chat with these bubbles (a cleared chat starts afresh)."""
    state = dict(state) if isinstance(state, dict) else new_conversation()
    for key, value in new_conversation().items():
        state.setdefault(key, value)
    state["notified"] = list(state["notified"])
    answers = sum(1 for m in chat if isinstance(m, dict) and m.get("role") == "assistant")
    if answers == 0:  # a cleared or new chat starts its answers (and stated hardware) afresh
        state["sources"], state["hardware"], state["language"] = [], None, None
    # Keep numbering in step with the bubbles even if the state was lost or is ahead.
    sources = list(state["sources"])[:answers]
    state["sources"] = sources + [[] for _ in range(answers - len(sources))]
    return state


def answer_language(catalog: Catalog, question: str, history: list[dict[str, str]], setting: str | None,
                    state: dict[str, Any] | None = None) -> str | None:
    """The language to ask the engine for: the setting when it is not "auto"; on "auto", None
    (the engine follows the question) unless the message is no question at all, which gets
    the conversation's language, else the page's Chinese."""
    if setting in ("zh-TW", "en"):
        return setting
    if CJK.search(question):
        return None
    try:
        from ..compose import plan_question  # noqa: PLC0415

        intent = plan_question(question, catalog, history).intent
    except Exception as exc:  # planning again is only a language hint
        log.warning("planning for the language failed: %s", exc)
        return None
    if intent != "nonsense":
        return None
    return (state or {}).get("language") or "zh-TW"


def respond(
    assistant: Assistant,
    machine: dict[str, Any] | None,
    message: str | None,
    chat: list[Any] | None,
    mode: str = MODE_GROUNDED,
    language: str = "auto",
    state: dict[str, Any] | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Stream one answer into the chat.

    Args:
        machine: hardware the user asked to use explicitly ("detect this machine"), as a
            budget or `detect_machine()` dict; None when nothing was detected.
        state: the conversation state from the previous call (`new_conversation()` shape).

    Yields (chat, textbox, cards, why-not, sources, status, state) after each step; the last
    yield carries the final answer, its panels and the new state. An empty question gets a
    friendly message and no model call.
    """
    setting = None if language in (None, "", "auto") else lang(language)
    shown = [m for m in (chat or []) if isinstance(m, dict)]
    display = [{"role": m.get("role", "user"), "content": message_text(m.get("content"))} for m in shown]
    state = conversation(state, shown)
    skip = gr.skip()
    question = message if isinstance(message, str) else ""
    # Invisible-only input (zero-width, bidi, BOM) is empty too: the assistant would reject it.
    if not strip_invisible(question).strip():
        yield [*display], "", skip, skip, skip, t("empty_question", setting), skip
        return
    history = history_from_chat(shown)
    ask_language = answer_language(assistant.catalog, question, history, setting, state)
    page = ask_language or setting or state.get("language")
    max_chars = assistant.settings.max_question_chars
    display = [*display, {"role": "user", "content": sanitize_markdown(question[: max_chars + 200])}]
    thinking = t("thinking", page)
    display.append({"role": "assistant", "content": thinking})
    waiting = thinking
    if mode == MODE_LLM:
        model_status = llm_status(assistant)
        if model_status.get("available"):
            waiting = thinking + llm_details(model_status, page != "en")
    yield [*display], "", skip, skip, skip, waiting, skip
    streamed = ""
    from_model = False  # a status event announces the language model's (unchecked) text
    replaced = False
    try:
        for event in assistant.ask_stream(question, history, mode == MODE_LLM, ask_language):
            if event.kind == "status":
                from_model = True
                text = sanitize_markdown(server_wording(event.text))
                if not streamed:
                    display[-1] = {"role": "assistant", "content": f"{text}…"}
                yield [*display], "", skip, skip, skip, text, skip
            elif event.kind == "replace":
                # The model's answer was rejected: never leave it on screen.
                streamed, replaced = event.text, True
                notice = REJECTED_EN if (page or language_of(event.text)) == "en" else REJECTED_ZH
                display[-1] = {"role": "assistant", "content": separate_lists(sanitize_markdown(streamed)) + f"\n\n{notice}"}
                yield [*display], "", skip, skip, skip, notice, skip
            elif event.kind == "delta":
                streamed += event.text
                display[-1] = {"role": "assistant", "content": separate_lists(sanitize_markdown(streamed)) + " ▍"}
                yield [*display], "", skip, skip, skip, skip, skip
            elif event.kind == "final" and event.reply is not None:
                yield final_update(assistant, machine, event.reply, display, state, mode)
                return
    except Exception:  # the page must stay usable whatever failed underneath
        log.exception("answering failed")
        display[-1] = {"role": "assistant", "content": "Sorry, something went wrong; please try again." if page == "en"
                       else "抱歉，這次回答時發生錯誤，請再試一次。"}
        yield [*display], "", skip, skip, skip, "", skip
        return
    # A stream without a final event: keep grounded text, never unchecked model text.
    if from_model and not replaced:
        streamed = "The answer was interrupted; please try again." if page == "en" else "回答中斷，請再試一次。"
    display[-1] = {"role": "assistant", "content": separate_lists(sanitize_markdown(streamed))}
    yield [*display], "", skip, skip, skip, "", skip


def final_update(assistant: Assistant, machine: dict[str, Any] | None, reply: Any, display: list[dict[str, Any]],
                 state: dict[str, Any], mode: str) -> tuple[Any, ...]:
    """The last yield of an answer: the bubble, every panel, the status line (with a one-time
    notice when the local model is too slow) and the new state."""
    state["sources"] = [*state["sources"], [source_dict(p) for p in reply.sources]]
    state["hardware"] = reply_hardware(reply, state["hardware"])
    state["language"] = reply.language
    answer_no = len(state["sources"])
    display[-1] = {"role": "assistant", "content": answer_markdown(reply, answer_no)}
    hardware = state["hardware"] or state["detected"] or machine_hardware(machine)
    status = llm_status(assistant) if mode == MODE_LLM or reply.mode == "llm" else None
    line = mode_label(reply, status if reply.mode == "llm" else None)
    line += notify_once(state, slow_model_notice(status, reply.language))
    return (
        [*display],
        "",
        render_cards(reply, assistant.catalog, hardware),
        render_exclusions(reply),
        render_source_groups(state["sources"], reply.language),
        line,
        state,
    )


def language_of(text: str) -> str:
    """zh-TW when the text has CJK characters, else en (for messages before the reply)."""
    return "zh-TW" if CJK.search(text or "") else "en"


def clear_conversation(language: str = "auto") -> tuple[Any, ...]:
    """Empty chat, panels in the page's language, and a fresh state (detected hardware kept by the caller)."""
    page = lang(language)
    return ([], "", render_cards(None, None, None, page), render_exclusions(None, page), render_sources(None, page), "",
            new_conversation())


def counter_html(max_chars: int, language: str | None) -> str:
    """The question's length counter (filled in by COUNTER_JS as the reader types)."""
    return (f'<div class="counter" data-max="{max_chars}" data-count="{esc(t("counter", language, n="{n}", max="{max}"))}" '
            f'data-full="{esc(t("counter_full", language, max="{max}"))}" data-cut="{esc(t("counter_cut", language, max="{max}"))}" '
            'aria-live="polite"></div>')


# ------------------------------------------------------------------ layout


def build_chat(assistant: Assistant, max_chars: int) -> dict[str, Any]:
    """The chat tab's components (call inside its `gr.Tab`). Events are wired by `page.py`."""
    catalog = assistant.catalog
    with gr.Row(equal_height=False, elem_id="chat-row"):
        with gr.Column(scale=3, min_width=420, elem_id="chat-main"):
            chatbot = gr.Chatbot(
                label="選型助手", show_label=False, elem_id="chatbot", height=600, sanitize_html=True,
                render_markdown=True, allow_tags=False, allow_file_downloads=False, feedback_options=None,
                buttons=["copy"], layout="bubble", placeholder=t("chat_placeholder", "zh-TW"), latex_delimiters=[],
                # The page scrolls to the start of each new answer instead (READ_FROM_START_JS).
                autoscroll=False,
            )
            with gr.Row(elem_id="ask-row"):
                # No autofocus: on a phone it scrolls the page to the box and hides the title
                # and tabs; wide screens get the focus from the page's load script instead.
                question = gr.Textbox(placeholder=t("question", "zh-TW"), show_label=False, lines=1, max_lines=6,
                                      max_length=max_chars, scale=5, elem_id="question")
                send = gr.Button(t("send", "zh-TW"), variant="primary", scale=1, min_width=80, elem_id="send")
            counter = gr.HTML(counter_html(max_chars, "zh-TW"), elem_id="question-counter", js_on_load=COUNTER_JS)
            with gr.Row(elem_id="status-row"):
                clear = gr.Button(t("clear", "zh-TW"), size="sm", elem_id="clear")
                status = gr.Markdown("", elem_id="status", elem_classes=["status-line"])
            with gr.Accordion(t("examples", "zh-TW"), open=True, elem_id="examples-box") as examples_box:
                examples = gr.Examples(examples=[[e] for e in EXAMPLES["zh-TW"]], inputs=[question], label=None,
                                       examples_per_page=len(EXAMPLES["zh-TW"]), elem_id="examples")
        with gr.Column(scale=2, min_width=320, elem_id="chat-side"):
            settings = build_settings(assistant)
            cards = gr.HTML(render_cards(None, catalog, None, "zh-TW"), elem_id="cards", js_on_load=None)
            why_not = gr.HTML(render_exclusions(None, "zh-TW"), elem_id="why-not", js_on_load=None)
            sources = gr.HTML(render_sources(None, "zh-TW"), elem_id="sources", js_on_load=CITATION_JS)
    return {"chatbot": chatbot, "question": question, "send": send, "counter": counter, "clear": clear,
            "status": status, "examples_box": examples_box, "examples": examples.dataset, "settings": settings,
            "cards": cards, "why_not": why_not, "sources": sources}


def relabel_chat(parts: dict[str, Any], setting: str, state: dict[str, Any] | None, max_chars: int) -> list[Any]:
    """Updates for the chat tab for the language `setting`; panels that show an answer keep it
    (sources are redrawn from the state in the chosen language; "auto" leaves them as they are)."""
    language = lang(setting)
    groups = state.get("sources") if isinstance(state, dict) else None
    has_answers = bool(groups)
    return [
        gr.update(placeholder=t("chat_placeholder", language)),
        gr.update(placeholder=t("question", language)),
        gr.update(value=t("send", language)),
        counter_html(max_chars, language),
        gr.update(value=t("clear", language)),
        gr.update(label=t("examples", language)),
        gr.Dataset(samples=[[e] for e in EXAMPLES[language]]),
        gr.skip() if has_answers else render_cards(None, None, None, language),
        gr.skip() if has_answers else render_exclusions(None, language),
        gr.skip() if has_answers and setting == "auto" else render_source_groups(groups or [], language),
    ]


def relabelled_chat(parts: dict[str, Any]) -> list[Any]:
    return [parts[k] for k in ("chatbot", "question", "send", "counter", "clear", "examples_box", "examples", "cards",
                               "why_not", "sources")]
