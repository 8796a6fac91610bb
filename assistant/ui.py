"""The Gradio web UI: chat with citations, catalog explorer, compare and export, hardware fit.

The module is layered so tests need no browser:

- pure functions (`sanitize_markdown`, `render_*`, `catalog_rows`, `compare_markdown`,
  `hardware_rows`, `hardware_chart`, `respond`, …) take plain values and return plain values;
- `build_ui(assistant, settings)` wires them to components;
- serving (launch options, queue, middleware, sign-in) lives in `server.py`; `serve`,
  `launch_options` and friends are re-exported here.

Everything rendered is built from escaped text: nothing from the model, the catalog or a
retrieved passage can inject HTML, script, a `javascript:` link or a remote image.

Only `app.py` and the tests import this module; the CLI never pays for gradio.
"""

from __future__ import annotations

import html
import logging
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402  (analytics must be off before the import)

from .config import PROJECT_ROOT, Settings  # noqa: E402, F401  (PROJECT_ROOT: tests read it here)
from .hardware import QUANT_BITS, detect_machine, fits_any_quant  # noqa: E402
from .index import format_context, format_params  # noqa: E402
from .inputs import strip_invisible  # noqa: E402
from .knowledge import STRENGTH_TAGS, Catalog, Model  # noqa: E402
from .selection import COMMERCIAL_BADGE, COUNTRY_ZH, TASK_ZH, fit_table  # noqa: E402
from .server import (  # noqa: E402, F401  (serving lives in server.py; these names stay importable here)
    BUSY_MESSAGE,
    BUSY_ZH,
    ModelSlot,
    SameOriginWrites,
    blocked_paths,
    busy_event_options,
    busy_reply,
    chat_event_options,
    configure_queue,
    export_folder,
    friendly_queue_full,
    guarded_chat,
    is_loopback,
    launch_options,
    parse_auth,
    serve,
    trusted_hosts,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .compose import Reply
    from .service import Assistant

log = logging.getLogger(__name__)

MAX_HISTORY_MESSAGES = 12

LANGUAGES = [("自動（跟隨問題）", "auto"), ("繁體中文", "zh-TW"), ("English", "en")]
MODE_LLM, MODE_GROUNDED = "llm", "grounded"

EXAMPLES = [
    "我要商用、只有 16GB 筆電，想跑能寫程式的模型，選哪個？",
    "Cohere Command 可以商用嗎？",
    "Phi 4 和 Gemma 3 比較",
    "手機上能跑什麼模型？",
    "不要中國公司、要能看圖的模型",
    "RTX 4090 可以跑 gpt-oss-20b 嗎？",
    "Which models have an MIT licence?",
]

VERDICT_TEXT = {
    "zh-TW": {"recommended": "推薦", "neutral": "中立", "not-recommended": "不推薦"},
    "en": {"recommended": "recommended", "neutral": "neutral", "not-recommended": "not recommended"},
}
ARCH_TEXT = {"dense": "dense", "moe": "MoE", "hybrid": "hybrid"}
MEMORY_KINDS = [("RAM（CPU）", "ram"), ("VRAM（NVIDIA 等獨立顯卡）", "vram"), ("統一記憶體（Apple M 系列）", "unified")]
CONTEXT_CHOICES = [2048, 4096, 8192, 16384, 32768, 65536, 131072]

CATALOG_HEADERS = [
    "模型 Model", "家族 Family", "廠商 Vendor", "參數 Params (B)", "啟動 Active (B)", "架構 Arch",
    "上下文 Context (k)", "授權 Licence", "商用 Commercial", "模態 Modalities", "強項 Strengths",
    "原文評價 Verdict", "資料日期 As of",
]
CATALOG_DATATYPES = ["str", "str", "str", "number", "number", "str", "number", "str", "str", "str", "str", "str", "str"]
SIZE_FILTERS = [("不限 Any", 0), ("≤ 1B（手機）", 1), ("≤ 4B", 4), ("≤ 8B", 8), ("≤ 16B", 16), ("≤ 32B", 32),
                ("≤ 72B", 72), ("≤ 125B", 125), ("≤ 400B", 400)]
COMMERCIAL_FILTERS = [("全部 All", "all"), ("可商用（含有條件）", "commercial"), ("僅無條件可商用", "unconditional")]
HARDWARE_HEADERS = [
    "模型 Model", "尺寸 Size", "參數 (B)", "啟動 (B)", "需要 GB", "放得下？ Fits", "速度 tok/s（數量級）", "商用",
]

# Labels that follow the language setting (component -> (zh-TW, en)).
UI_TEXT = {
    "question": ("輸入你的問題，例如「我要商用、只有 16GB 筆電，想跑能寫程式的模型」", "Ask, e.g. “commercial use, 16 GB laptop, a model that can code”"),
    "send": ("送出", "Send"),
    "clear": ("清除對話", "Clear conversation"),
    "cards": ("推薦與提到的模型", "Recommended and mentioned models"),
    "why_not": ("為什麼不選", "Why not"),
    "sources": ("引用來源", "Sources"),
}

_CSS = """
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.8em;margin:0 4px 2px 0;border:1px solid transparent;white-space:nowrap}
.badge-yes{background:#e7f6ec;color:#146c2e;border-color:#b7e1c3}
.badge-conditional{background:#fff4e0;color:#8a5300;border-color:#f3d19c}
.badge-no{background:#fdeaea;color:#a11d1d;border-color:#f2b8b8}
.badge-fit{background:#e8f0fe;color:#1a4fb4;border-color:#bcd0f7}
.badge-nofit{background:#f1f1f1;color:#555;border-color:#ddd}
.rec-card{border:1px solid var(--border-color-primary);border-radius:10px;padding:10px 12px;margin-bottom:8px;background:var(--background-fill-secondary)}
.rec-head{display:flex;flex-wrap:wrap;align-items:center;gap:4px;margin-bottom:4px}
.rec-name{font-weight:600;font-size:1.05em;margin-right:6px}
.rec-meta{font-size:.88em;opacity:.85;margin-bottom:4px}
.rec-reason{font-size:.9em}
.panel-empty{opacity:.6;font-size:.9em}
.why-not li{margin-bottom:2px;font-size:.9em}
.src details{border:1px solid var(--border-color-primary);border-radius:8px;padding:6px 10px;margin-bottom:6px}
.src summary{cursor:pointer;font-weight:500}
.src .src-kind{font-size:.8em;opacity:.7;margin-left:6px}
.src .src-text{white-space:pre-wrap;font-size:.88em;margin-top:6px;line-height:1.5}
.cmp table{border-collapse:collapse;width:100%;font-size:.9em}
.cmp th,.cmp td{border:1px solid var(--border-color-primary);padding:6px 8px;vertical-align:top;text-align:left}
.cmp th{background:var(--background-fill-secondary);white-space:nowrap}
.entry h3{margin:0 0 6px 0}
.entry .passage{white-space:pre-wrap;border-left:3px solid var(--border-color-accent);padding-left:10px;margin:6px 0;font-size:.9em}
.status-line{font-size:.85em;opacity:.8}
footer{display:none !important}
"""

# Gradio's browser client shows a fixed English toast when the queue is full; say it in
# Traditional Chinese too.
_HEAD = """
<meta name="referrer" content="no-referrer">
<script>
(() => {
  const EN = "This application is currently busy";
  const ZH = "忙碌中，請稍後再試。（The assistant is busy; please try again shortly.）";
  const fix = (node) => {
    const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    let n;
    while ((n = walker.nextNode())) { if (n.nodeValue && n.nodeValue.includes(EN)) n.nodeValue = ZH; }
  };
  const start = () => new MutationObserver((muts) => {
    for (const m of muts) {
      if (m.type === "characterData" && m.target.nodeValue && m.target.nodeValue.includes(EN)) m.target.nodeValue = ZH;
      for (const added of m.addedNodes) fix(added.nodeType === 3 ? added.parentNode || added : added);
    }
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
</script>
"""


# ------------------------------------------------------------------ output is inert

_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\s*(?:\([^)]*\)|\[[^\]]*\])")
_MD_LINK = re.compile(r"\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+[^)]*)?\)")
_MD_REF_DEF = re.compile(r"^[ \t]{0,3}\[[^\]]+\]:[ \t]*<?(\S*?)>?(?:[ \t].*)?$", re.M)
_SAFE_URL = re.compile(r"^(?:https?://|mailto:|#)", re.I)
_SCRIPT_SCHEME = re.compile(r"(?i)\b((?:java|vb|live)\s*script|data|file)\s*:")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def sanitize_markdown(text: str) -> str:
    """Markdown that renders inert: no raw HTML, no images, no script or data links.

    Images become their alt text, links keep only http(s)/mailto targets, `<`, `>` and `&`
    are escaped (so no tag or entity trick survives), and a leftover `javascript:` is
    broken so no renderer turns it into a link.
    """
    if not isinstance(text, str):
        text = str(text)
    text = _CONTROL.sub("", text)
    text = _MD_IMAGE.sub(lambda m: f"〔圖片未載入：{m.group(1)}〕" if m.group(1).strip() else "〔圖片未載入〕", text)
    text = _MD_LINK.sub(lambda m: m.group(0) if _SAFE_URL.match(m.group(2)) else m.group(1), text)
    text = _MD_REF_DEF.sub(lambda m: m.group(0) if _SAFE_URL.match(m.group(1)) else "", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SCRIPT_SCHEME.sub(lambda m: f"{m.group(1)}&#58;", text)


def _e(value: object) -> str:
    """Escape any value for HTML text or attribute context."""
    return html.escape(_CONTROL.sub("", str(value)), quote=True)


def _multiline(value: object) -> str:
    return _e(value).replace("\n", "<br>")


# ------------------------------------------------------------------ small helpers


def _lang(language: str | None) -> str:
    return "en" if language == "en" else "zh-TW"


def _zh(language: str | None) -> bool:
    return _lang(language) != "en"


def _t(key: str, language: str | None) -> str:
    zh, en = UI_TEXT[key]
    return zh if _zh(language) else en


def _message_text(content: Any) -> str:
    """Text of a chatbot message's content: a string, a list of parts, or a dict part."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return content.get("text", "") if content.get("type", "text") == "text" else ""
    if isinstance(content, (list, tuple)):
        parts = (_message_text(part) for part in content if not isinstance(part, (list, tuple)))
        return "\n".join(p for p in parts if p)
    return ""


def history_from_chat(chat: list[Any] | None) -> list[dict[str, str]]:
    """The conversation as `[{role, content}]` text turns; files and odd parts are dropped."""
    turns: list[dict[str, str]] = []
    for message in chat or []:
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            continue
        text = _message_text(message.get("content"))
        if text.strip():
            turns.append({"role": message["role"], "content": text})
    return turns[-MAX_HISTORY_MESSAGES:]


def machine_budget(machine: dict[str, Any] | None) -> tuple[float | None, str]:
    """The memory a local model would use here: NVIDIA VRAM when present, else RAM."""
    machine = machine or {}
    vram = machine.get("vram_gb")
    if isinstance(vram, (int, float)) and vram > 0:
        return float(vram), "vram"
    ram = machine.get("ram_gb")
    if isinstance(ram, (int, float)) and ram > 0:
        return float(ram), "ram"
    return None, "ram"


def machine_summary(machine: dict[str, Any] | None, language: str | None = "zh-TW") -> str:
    machine = machine or {}
    zh = _zh(language)
    ram = machine.get("ram_gb")
    gpus = machine.get("gpus_vram_gb") or []
    ram_text = f"RAM {ram:g} GB" if isinstance(ram, (int, float)) else ("RAM 未知" if zh else "RAM unknown")
    if gpus:
        gpu_text = " + ".join(f"{g:g} GB" for g in gpus)
        return f"{ram_text}；NVIDIA VRAM {gpu_text}" if zh else f"{ram_text}; NVIDIA VRAM {gpu_text}"
    return f"{ram_text}；未偵測到 NVIDIA GPU" if zh else f"{ram_text}; no NVIDIA GPU detected"


def commercial_badge(model: Model, language: str | None = "zh-TW") -> str:
    label = {"conditional": "有條件"} if _zh(language) else {}
    text = label.get(model.commercial_use) or COMMERCIAL_BADGE[_lang(language)][model.commercial_use]
    title = model.commercial_conditions or model.licence.name
    return f'<span class="badge badge-{_e(model.commercial_use)}" title="{_e(title)}">{_e(text)}</span>'


def fit_badge(model: Model, machine: dict[str, Any] | None, language: str | None = "zh-TW", variant_name: str | None = None) -> str:
    """A "fits this machine?" badge from the detected RAM/VRAM (best quant that fits)."""
    zh = _zh(language)
    memory, kind = machine_budget(machine)
    if memory is None:
        return f'<span class="badge badge-nofit">{"本機記憶體未知" if zh else "machine memory unknown"}</span>'
    candidate = model
    if variant_name:
        sizes = [v for v in model.sizes if v.name == variant_name]
        if sizes:
            candidate = model.model_copy(update={"variants": sizes})
    fit = fits_any_quant(candidate, memory, 4096, kind)  # type: ignore[arg-type]
    where = {"vram": "VRAM", "ram": "RAM", "unified": "RAM"}[kind]
    if fit is None:
        text = f"本機放不下（{where} {memory:g}GB）" if zh else f"won't fit this machine ({where} {memory:g} GB)"
        return f'<span class="badge badge-nofit">✗ {_e(text)}</span>'
    text = (
        f"本機可跑 {fit.variant}（{fit.quant} 約 {fit.required_gb:.1f}GB）"
        if zh
        else f"fits this machine: {fit.variant} ({fit.quant}, ~{fit.required_gb:.1f} GB)"
    )
    return f'<span class="badge badge-fit">✓ {_e(text)}</span>'


def _params_text(total_b: float, active_b: float | None, zh: bool) -> str:
    text = format_params(total_b)
    if active_b and active_b != total_b:
        text += f"（啟動 {format_params(active_b)}）" if zh else f" ({format_params(active_b)} active)"
    return text


def _context_text(tokens: int | None, zh: bool) -> str:
    if not tokens:
        return "未載明" if zh else "not stated"
    return format_context(tokens)


# ------------------------------------------------------------------ chat side panels


def _card(model: Model, variant_name: str | None, total_b: float, active_b: float | None, reason: str,
          machine: dict[str, Any] | None, language: str, index: int | None) -> str:
    zh = _zh(language)
    number = f"{index}. " if index else ""
    size_label = "參數" if zh else "params"
    context_label = "上下文" if zh else "context"
    meta = " · ".join(
        [
            _e(model.vendor),
            *([_e(variant_name)] if variant_name and variant_name != model.name else []),
            f"{size_label} {_e(_params_text(total_b, active_b, zh))}",
            f"{context_label} {_e(_context_text(model.context_tokens, zh))}",
            _e(model.licence.id),
        ]
    )
    return (
        '<div class="rec-card">'
        f'<div class="rec-head"><span class="rec-name">{_e(number)}{_e(model.name)}</span>'
        f"{commercial_badge(model, language)}{fit_badge(model, machine, language, variant_name)}</div>"
        f'<div class="rec-meta">{meta}</div>'
        + (f'<div class="rec-reason">{_multiline(reason)}</div>' if reason else "")
        + "</div>"
    )


def render_cards(reply: Reply | None, catalog: Catalog, machine: dict[str, Any] | None, language: str | None = None) -> str:
    """Recommendation cards; for a fact or compare answer, cards for the models it names."""
    language = _lang(language or (reply.language if reply else None))
    zh = _zh(language)
    if reply is None:
        return f'<div class="panel-empty">{"問一個問題，推薦的模型會顯示在這裡。" if zh else "Ask a question; recommended models appear here."}</div>'
    cards = [
        _card(r.model, r.variant.name, r.variant.params_total_b, r.variant.params_active_b, r.reason, machine, language, i)
        for i, r in enumerate(reply.recommendations, 1)
    ]
    if not cards:
        for model_id in reply.mentioned[:3]:
            model = catalog.by_id.get(model_id)
            if model is not None:
                summary = model.summary_zh if zh else model.summary_en
                cards.append(_card(model, None, model.params_total_b, model.params_active_b, summary, machine, language, None))
    if not cards:
        return f'<div class="panel-empty">{"這個回答沒有推薦特定模型。" if zh else "No specific model in this answer."}</div>'
    return "".join(cards)


def render_exclusions(reply: Reply | None, language: str | None = None) -> str:
    """The "why not" list: models the answer ruled out, each with its reason."""
    language = _lang(language or (reply.language if reply else None))
    if reply is None or not reply.excluded:
        empty = "沒有被排除的模型。" if _zh(language) else "Nothing was ruled out."
        return f'<div class="panel-empty">{empty}</div>'
    items = "".join(f"<li>{_e(e.reason)}</li>" for e in reply.excluded)
    return f'<ul class="why-not">{items}</ul>'


_SOURCE_KIND = {
    "zh-TW": {"article": "原文", "catalog": "型錄", "user": "使用者文件"},
    "en": {"article": "article", "catalog": "catalog", "user": "your document"},
}


def render_sources(reply: Reply | None, language: str | None = None) -> str:
    """Cited passages `[n]` with section titles; each expands to show its text."""
    language = _lang(language or (reply.language if reply else None))
    if reply is None or not reply.sources:
        empty = "回答引用的段落會列在這裡。" if _zh(language) else "Passages the answer cites are listed here."
        return f'<div class="panel-empty">{empty}</div>'
    kinds = _SOURCE_KIND[language]
    items = []
    for n, passage in enumerate(reply.sources, 1):
        kind = kinds.get(passage.source, passage.source)
        items.append(
            f'<details class="source" data-source-id="{_e(passage.id)}"><summary>[{n}] {_e(passage.title)}'
            f'<span class="src-kind">{_e(kind)}</span></summary>'
            f'<div class="src-text">{_e(passage.text)}</div></details>'
        )
    return f'<div class="src">{"".join(items)}</div>'


def answer_markdown(reply: Reply) -> str:
    """The final answer for the chat bubble: sanitized, with notices set apart."""
    text = sanitize_markdown(reply.answer)
    notes = [sanitize_markdown(n) for n in reply.notices if n]
    if notes:
        text += "\n\n" + "\n".join(f"※ {n}" for n in notes)
    return text


def mode_label(reply: Reply) -> str:
    zh = reply.language != "en"
    if reply.mode == "grounded":
        return "模式：依知識庫（grounded）" if zh else "Mode: grounded (knowledge base)"
    return f"模式：{reply.mode}" if zh else f"Mode: {reply.mode}"


# ------------------------------------------------------------------ the chat handler


def respond(
    assistant: Assistant,
    machine: dict[str, Any] | None,
    message: str | None,
    chat: list[Any] | None,
    mode: str = MODE_GROUNDED,
    language: str = "auto",
) -> Iterator[tuple[list[dict[str, str]], str, str, str, str, str]]:
    """Stream one answer into the chat.

    Yields (chat, textbox, cards, why-not, sources, status) after each step; the last
    yield carries the final answer and its panels. An empty question gets a friendly
    message and no model call.
    """
    lang = None if language in (None, "", "auto") else _lang(language)
    shown = [m for m in (chat or []) if isinstance(m, dict)]
    display = [{"role": m.get("role", "user"), "content": _message_text(m.get("content"))} for m in shown]
    question = message if isinstance(message, str) else ""
    # Invisible-only input (zero-width, bidi, BOM) is empty too: the assistant would reject it.
    if not strip_invisible(question).strip():
        zh = lang != "en"
        status = "請先輸入問題。" if zh else "Please type a question first."
        yield [*display], "", gr.skip(), gr.skip(), gr.skip(), status
        return
    history = history_from_chat(shown)
    max_chars = assistant.settings.max_question_chars
    display = [*display, {"role": "user", "content": sanitize_markdown(question[: max_chars + 200])}]
    thinking = "正在查資料…" if lang != "en" else "Looking it up…"
    display.append({"role": "assistant", "content": thinking})
    yield [*display], "", gr.skip(), gr.skip(), gr.skip(), thinking
    streamed = ""
    try:
        for event in assistant.ask_stream(question, history, mode == MODE_LLM, lang):
            if event.kind == "status":
                if not streamed:
                    display[-1] = {"role": "assistant", "content": f"{sanitize_markdown(event.text)}…"}
                yield [*display], "", gr.skip(), gr.skip(), gr.skip(), sanitize_markdown(event.text)
            elif event.kind in ("delta", "replace"):
                streamed = streamed + event.text if event.kind == "delta" else event.text
                display[-1] = {"role": "assistant", "content": sanitize_markdown(streamed) + " ▍"}
                yield [*display], "", gr.skip(), gr.skip(), gr.skip(), gr.skip()
            elif event.kind == "final" and event.reply is not None:
                reply = event.reply
                display[-1] = {"role": "assistant", "content": answer_markdown(reply)}
                yield (
                    [*display],
                    "",
                    render_cards(reply, assistant.catalog, machine),
                    render_exclusions(reply),
                    render_sources(reply),
                    mode_label(reply),
                )
                return
    except Exception:  # the page must stay usable whatever failed underneath
        log.exception("answering failed")
        display[-1] = {
            "role": "assistant",
            "content": "抱歉，這次回答時發生錯誤，請再試一次。" if lang != "en" else "Sorry, something went wrong; please try again.",
        }
        yield [*display], "", gr.skip(), gr.skip(), gr.skip(), ""
        return
    # A stream without a final event: keep what was streamed, drop the cursor.
    display[-1] = {"role": "assistant", "content": sanitize_markdown(streamed)}
    yield [*display], "", gr.skip(), gr.skip(), gr.skip(), ""


def clear_conversation(language: str = "auto") -> tuple[list[Any], str, str, str, str, str]:
    lang = "en" if language == "en" else "zh-TW"
    return [], "", render_cards(None, None, None, lang), render_exclusions(None, lang), render_sources(None, lang), ""  # type: ignore[arg-type]


# ------------------------------------------------------------------ settings panel


def llm_status(assistant: Assistant) -> dict[str, Any]:
    """The assistant's LLM status, or "grounded mode only" when it has no LLM layer."""
    probe = getattr(assistant, "llm_status", None)
    if callable(probe):
        try:
            status = probe()
            if isinstance(status, dict):
                return status
        except Exception as exc:  # a broken model must not break the page
            log.warning("llm_status failed: %s", exc)
            return {"available": False, "model": None, "reason_zh": f"語言模型狀態讀取失敗：{exc}", "reason_en": f"could not read the model status: {exc}"}
    return {
        "available": False,
        "model": None,
        "reason_zh": "這個版本只有依知識庫回答（grounded mode only）。",
        "reason_en": "This build answers from the knowledge base only (grounded mode only).",
    }


def list_models(assistant: Assistant) -> list[dict[str, Any]]:
    probe = getattr(assistant, "list_models", None)
    if not callable(probe):
        return []
    try:
        models = probe()
    except Exception as exc:
        log.warning("list_models failed: %s", exc)
        return []
    return [m for m in models or [] if isinstance(m, dict)]


def _model_label(entry: dict[str, Any]) -> str:
    for key in ("name", "id", "model", "path", "file"):
        if entry.get(key):
            return Path(str(entry[key])).name if key in ("path", "file") else str(entry[key])
    return "?"


def settings_markdown(assistant: Assistant, language: str | None = "auto") -> str:
    """What answer mode is available and why, and which local model is active."""
    zh = language != "en"
    status = llm_status(assistant)
    if status.get("available"):
        name = status.get("model") or Path(str(status.get("path") or "")).name or "?"
        lines = [f"● **{'語言模型可用' if zh else 'LLM ready'}**：`{sanitize_markdown(name)}`"]
    else:
        reason = status.get("reason_zh" if zh else "reason_en") or status.get("reason_zh") or ""
        head = "○ 目前只用知識庫回答" if zh else "○ Grounded answers only"
        lines = [f"{head}{'：' if zh else ': '}{sanitize_markdown(reason)}"]
    models = list_models(assistant)
    if models:
        lines.append("")
        lines.append("**本機模型**" if zh else "**Local models**")
        for entry in models[:12]:
            mark = "▶ " if entry.get("active") else "・"
            extra = [str(entry[key]) for key in ("parameters", "quant", "size") if entry.get(key)]
            if entry.get("chat_template") is False:
                extra.append("基礎模型，無對話樣板" if zh else "base model, no chat template")
            problem = entry.get("problem_zh" if zh else "problem") or entry.get("problem")
            if problem:
                extra.append(str(problem))
            suffix = f"（{'；'.join(extra)}）" if extra else ""
            lines.append(f"- {mark}{sanitize_markdown(_model_label(entry))}{sanitize_markdown(suffix)}")
    return "\n".join(lines)


def mode_choices(assistant: Assistant, language: str | None = "auto") -> tuple[list[tuple[str, str]], str]:
    zh = language != "en"
    available = bool(llm_status(assistant).get("available"))
    llm = "語言模型（LLM）" if zh else "Language model (LLM)"
    if not available:
        llm += "－目前無法使用" if zh else " – unavailable"
    grounded = "依知識庫（grounded，最快）" if zh else "Grounded (knowledge base, fastest)"
    return [(llm, MODE_LLM), (grounded, MODE_GROUNDED)], (MODE_LLM if available else MODE_GROUNDED)


# ------------------------------------------------------------------ catalog tab


def _verdict(model: Model, zh: bool) -> str:
    return f"{VERDICT_TEXT['zh-TW' if zh else 'en'][model.verdict]}：{model.verdict_reason}" if zh else f"{VERDICT_TEXT['en'][model.verdict]}: {model.verdict_reason}"


def _strengths(model: Model, zh: bool) -> str:
    return "、".join(TASK_ZH.get(t, t) for t in model.strengths) if zh else ", ".join(model.strengths)


def catalog_rows(
    catalog: Catalog,
    commercial: str = "all",
    max_size_b: float | None = None,
    tags: list[str] | None = None,
    vendors: list[str] | None = None,
    language: str | None = "zh-TW",
) -> list[list[Any]]:
    """The catalog as table rows, filtered.

    Args:
        commercial: "all", "commercial" (yes or conditional) or "unconditional" (yes only).
        max_size_b: keep models with a downloadable size at or under this many billions.
        tags: keep models having every one of these strength tags.
        vendors: keep models from these vendors.
    """
    zh = _zh(language)
    rows = []
    for model in catalog.models:
        if commercial == "commercial" and model.commercial_use == "no":
            continue
        if commercial == "unconditional" and model.commercial_use != "yes":
            continue
        if max_size_b and min(v.params_total_b for v in model.sizes) > max_size_b:
            continue
        if tags and not set(tags) <= set(model.strengths):
            continue
        if vendors and model.vendor not in vendors:
            continue
        family = catalog.family_by_id[model.family].name
        rows.append(
            [
                model.name,
                family,
                model.vendor,
                model.params_total_b,
                model.active_b,
                ARCH_TEXT[model.architecture],
                context_k(model.context_tokens),
                model.licence.id,
                COMMERCIAL_BADGE[_lang(language)][model.commercial_use],
                ", ".join(model.modalities),
                _strengths(model, zh),
                _verdict(model, zh),
                model.as_of.isoformat(),
            ]
        )
    return rows


def context_k(tokens: int | None) -> float | None:
    """Context in thousands, as the model cards say it: 131072 -> 128, 32000 -> 32."""
    if not tokens:
        return None
    return round(tokens / 1024, 1) if tokens % 1000 else tokens / 1000


def catalog_frame(rows: list[list[Any]]):  # -> pandas.DataFrame
    import pandas as pd  # noqa: PLC0415  (gradio depends on pandas)

    return pd.DataFrame(rows, columns=CATALOG_HEADERS)


def model_by_name(catalog: Catalog, name: str | None) -> Model | None:
    if not name:
        return None
    for model in catalog.models:
        if model.name == name or model.id == name:
            return model
    return None


def article_passages(assistant: Assistant, model: Model) -> list[Any]:
    """The article's chunks about a model's family, from the assistant's index."""
    try:
        chunks = assistant.retriever.chunks
    except Exception as exc:  # an index still building must not break the catalog
        log.warning("chunks unavailable: %s", exc)
        return []
    return [c for c in chunks if c.source == "article" and c.family == model.family]


def render_entry(assistant: Assistant, model: Model | None, language: str | None = "zh-TW") -> str:
    """One catalog entry with its article passage, as escaped HTML."""
    zh = _zh(language)
    if model is None:
        return f'<div class="panel-empty">{"點選表格中的一列，查看完整資料與原文段落。" if zh else "Select a row to see the entry and its article passage."}</div>'
    catalog = assistant.catalog
    family = catalog.family_by_id[model.family]
    country = COUNTRY_ZH.get(model.country, model.country) if zh else model.country
    rows = [
        ("廠商" if zh else "Vendor", f"{model.vendor}（{family.vendor_zh}，{country}）" if zh else f"{model.vendor} ({country})"),
        ("參數" if zh else "Parameters", _params_text(model.params_total_b, model.params_active_b, zh)
         + (f"；{model.experts} 個專家" if zh and model.experts else (f"; {model.experts} experts" if model.experts else ""))),
        ("可下載尺寸" if zh else "Sizes", "、".join(f"{v.name}（{format_params(v.params_total_b)}）" for v in model.sizes)),
        ("上下文" if zh else "Context", _context_text(model.context_tokens, zh)),
        ("授權" if zh else "Licence", f"{model.licence.name}（{model.licence.id}）"),
        ("商用" if zh else "Commercial use", COMMERCIAL_BADGE[_lang(language)][model.commercial_use]
         + (f"：{model.commercial_conditions}" if model.commercial_conditions else "")),
        ("模態" if zh else "Modalities", ", ".join(model.modalities)),
        ("中文" if zh else "Chinese", model.languages.chinese_note),
        ("強項" if zh else "Strengths", _strengths(model, zh)),
        ("缺點" if zh else "Weaknesses", "；".join(model.weaknesses) or "—"),
        ("原文評價" if zh else "Article's verdict", _verdict(model, zh)),
        ("發布" if zh else "Released", model.released or "—"),
        ("資料日期" if zh else "As of", model.as_of.isoformat()),
    ]
    table = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    sources = "".join(f"<li>{_e(k)}：{_e(v)}</li>" for k, v in model.sources.items())
    passages = article_passages(assistant, model)
    passage_html = "".join(f'<div class="passage">{_e(c.text)}</div>' for c in passages) or (
        f'<div class="panel-empty">{"原文沒有這個家族的段落。" if zh else "The article has no passage on this family."}</div>'
    )
    summary = model.summary_zh if zh else model.summary_en
    return (
        f'<div class="entry cmp"><h3>{_e(model.name)} {commercial_badge(model, language)}</h3>'
        f"<p>{_e(summary)}</p><table>{table}</table>"
        f'<h4>{"原文段落" if zh else "Article passage"}：{_e(family.article_section)}</h4>{passage_html}'
        f'<h4>{"資料來源" if zh else "Sources"}</h4><ul>{sources}</ul></div>'
    )


# ------------------------------------------------------------------ compare tab


def _compare_fields(model: Model, family_name: str, memory_gb: float | None, kind: str, zh: bool) -> list[tuple[str, str]]:
    if memory_gb:
        fit = fits_any_quant(model, memory_gb, 4096, kind)  # type: ignore[arg-type]
        if fit:
            fit_text = (f"可跑 {fit.variant}（{fit.quant} 約 {fit.required_gb:.1f}GB，約 {fit.tokens_per_s:g} token/s）" if zh
                        else f"{fit.variant} fits ({fit.quant}, ~{fit.required_gb:.1f} GB, ~{fit.tokens_per_s:g} tok/s)")
        else:
            fit_text = "放不下" if zh else "does not fit"
    else:
        fit_text = "—"
    return [
        ("廠商" if zh else "Vendor", f"{model.vendor}（{COUNTRY_ZH.get(model.country, model.country)}）" if zh else f"{model.vendor} ({model.country})"),
        ("家族" if zh else "Family", family_name),
        ("參數" if zh else "Parameters", _params_text(model.params_total_b, model.params_active_b, zh)),
        ("可下載尺寸" if zh else "Sizes", ", ".join(format_params(v.params_total_b) for v in model.sizes)),
        ("架構" if zh else "Architecture", ARCH_TEXT[model.architecture]),
        ("上下文" if zh else "Context", _context_text(model.context_tokens, zh)),
        ("授權" if zh else "Licence", f"{model.licence.name} ({model.licence.id})"),
        ("商用" if zh else "Commercial use", COMMERCIAL_BADGE["zh-TW" if zh else "en"][model.commercial_use]
         + (f"：{model.commercial_conditions}" if model.commercial_conditions else "")),
        ("模態" if zh else "Modalities", ", ".join(model.modalities)),
        (f"{memory_gb:g}GB {kind.upper()} 可否執行" if zh and memory_gb else (f"Fits {memory_gb:g} GB {kind.upper()}" if memory_gb else ("記憶體" if zh else "Memory")), fit_text),
        ("強項" if zh else "Strengths", _strengths(model, zh) or "—"),
        ("缺點" if zh else "Weaknesses", "；".join(model.weaknesses) or "—"),
        ("原文評價" if zh else "Article's verdict", _verdict(model, zh)),
        ("資料日期" if zh else "As of", model.as_of.isoformat()),
    ]


def selected_models(catalog: Catalog, names: list[str] | None) -> list[Model]:
    models = [m for m in (model_by_name(catalog, n) for n in (names or [])) if m is not None]
    unique = {m.id: m for m in models}
    return list(unique.values())[:3]


def compare_html(catalog: Catalog, names: list[str] | None, memory_gb: float | None = None, kind: str = "ram",
                 language: str | None = "zh-TW") -> str:
    """Two or three models side by side, as an escaped HTML table."""
    zh = _zh(language)
    models = selected_models(catalog, names)
    if len(models) < 2:
        return f'<div class="panel-empty">{"請選 2–3 個模型來比較。" if zh else "Pick 2–3 models to compare."}</div>'
    columns = [_compare_fields(m, catalog.family_by_id[m.family].name, memory_gb, kind, zh) for m in models]
    head = "<tr><th></th>" + "".join(f"<th>{_e(m.name)} {commercial_badge(m, language)}</th>" for m in models) + "</tr>"
    body = "".join(
        f"<tr><th>{_e(label)}</th>" + "".join(f"<td>{_e(col[i][1])}</td>" for col in columns) + "</tr>"
        for i, (label, _) in enumerate(columns[0])
    )
    return f'<div class="cmp"><table>{head}{body}</table></div>'


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def compare_markdown(catalog: Catalog, names: list[str] | None, memory_gb: float | None = None, kind: str = "ram",
                     language: str | None = "zh-TW", passages: dict[str, list[str]] | None = None) -> str:
    """The comparison as a Markdown document with its sources and as-of date."""
    zh = _zh(language)
    models = selected_models(catalog, names)
    if len(models) < 2:
        return ""
    columns = [_compare_fields(m, catalog.family_by_id[m.family].name, memory_gb, kind, zh) for m in models]
    title = " vs ".join(m.name for m in models)
    lines = [
        f"# {'模型比較' if zh else 'Model comparison'}：{title}" if zh else f"# Model comparison: {title}",
        "",
        (f"型錄資料截至 {catalog.as_of.isoformat()}；「原文」指知識庫收錄的評比文章。" if zh
         else f"Catalog facts as of {catalog.as_of.isoformat()}; “the article” is the comparison article in the knowledge base."),
        "",
        "| | " + " | ".join(_md_cell(m.name) for m in models) + " |",
        "|---|" + "---|" * len(models),
    ]
    for i, (label, _) in enumerate(columns[0]):
        lines.append(f"| {_md_cell(label)} | " + " | ".join(_md_cell(col[i][1]) for col in columns) + " |")
    lines += ["", f"## {'原文怎麼說' if zh else 'What the article says'}", ""]
    for model in models:
        lines.append(f"- **{model.name}**：{_verdict(model, zh)}" if zh else f"- **{model.name}**: {_verdict(model, zh)}")
        for text in (passages or {}).get(model.id, [])[:2]:
            lines.append(f"  > {' '.join(text.split())}")
    lines += ["", f"## {'資料來源' if zh else 'Sources'}", ""]
    for model in models:
        lines.append(f"- **{model.name}**（as of {model.as_of.isoformat()}）")
        for group, source in model.sources.items():
            lines.append(f"  - {group}: {source}")
        lines.append(f"  - {'原文章節' if zh else 'article section'}: {catalog.family_by_id[model.family].article_section}")
    lines.append("")
    return "\n".join(lines)


def export_comparison(assistant: Assistant, names: list[str] | None, memory_gb: float | None, kind: str,
                      language: str | None, export_dir: Path) -> Path | None:
    """Write the comparison Markdown into `export_dir`; None when fewer than two models."""
    models = selected_models(assistant.catalog, names)
    if len(models) < 2:
        return None
    passages = {m.id: [c.text for c in article_passages(assistant, m)] for m in models}
    text = compare_markdown(assistant.catalog, names, memory_gb, kind, language, passages)
    slug = "-vs-".join(re.sub(r"[^a-z0-9.]+", "-", m.id) for m in models)
    export_dir.mkdir(parents=True, exist_ok=True)
    path = export_dir / f"compare-{slug}.md"
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ hardware tab


def _speed_text(tokens_per_s: float | None) -> str:
    if not tokens_per_s:
        return "—"
    if tokens_per_s >= 100:
        return f"~{round(tokens_per_s, -2):g}"
    if tokens_per_s >= 10:
        return f"~{round(tokens_per_s, -1):g}"
    return f"~{tokens_per_s:.1g}" if tokens_per_s < 1 else f"~{round(tokens_per_s):g}"


def hardware_rows(catalog: Catalog, memory_gb: float, kind: str = "ram", context: int = 4096, quant: str = "Q4_K_M",
                  only_fits: bool = False, language: str | None = "zh-TW") -> list[list[Any]]:
    """Every catalog size with its memory estimate; what fits first, biggest first."""
    zh = _zh(language)
    rows = fit_table(catalog, float(memory_gb), quant, int(context), kind)
    rows.sort(key=lambda r: (not r["fits"], -r["params_b"] if r["fits"] else r["required_gb"]))
    out = []
    for r in rows:
        if only_fits and not r["fits"]:
            continue
        out.append(
            [
                r["model"], r["variant"], r["params_b"], r["active_b"], r["required_gb"],
                ("✓ 可以" if zh else "✓ yes") if r["fits"] else ("✗ 放不下" if zh else "✗ no"),
                _speed_text(r["tokens_per_s"]),
                COMMERCIAL_BADGE[_lang(language)][r["commercial_use"]],
            ]
        )
    return out


_CJK_FONT: list[str | None] = []
_CJK_LOCK = threading.Lock()


def cjk_font() -> str | None:
    """A matplotlib font family that can draw CJK (Noto Sans CJK from fonts-noto-cjk), or None."""
    with _CJK_LOCK:
        if _CJK_FONT:
            return _CJK_FONT[0]
        from matplotlib import font_manager  # noqa: PLC0415

        wanted = ("Noto Sans CJK TC", "Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans TC", "Noto Serif CJK TC")
        found: str | None = None
        names = {f.name for f in font_manager.fontManager.ttflist}
        if not any(w in names for w in wanted):
            # Fonts installed after matplotlib built its cache: register them directly.
            for directory in ("/usr/share/fonts", "/usr/local/share/fonts", str(Path.home() / ".fonts")):
                for path in Path(directory).rglob("*CJK*") if Path(directory).is_dir() else []:
                    if path.suffix.lower() in (".ttc", ".otf", ".ttf"):
                        try:
                            font_manager.fontManager.addfont(str(path))
                        except Exception:  # an unreadable font file is just skipped
                            continue
            names = {f.name for f in font_manager.fontManager.ttflist}
        found = next((w for w in wanted if w in names), None)
        _CJK_FONT.append(found)
        return found


def hardware_chart(catalog: Catalog, memory_gb: float, kind: str = "ram", context: int = 4096, quant: str = "Q4_K_M",
                   language: str | None = "zh-TW", limit: int = 40) -> Figure:
    """Horizontal bars of required memory per model against a vertical line at the budget.

    One bar per model: its largest size that fits, else its smallest. All that fit are
    shown, then the nearest that do not, up to `limit` bars.
    """
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # noqa: PLC0415

    font = cjk_font()
    zh = _zh(language) and font is not None
    rows = fit_table(catalog, float(memory_gb), quant, int(context), kind)
    per_model: dict[str, dict[str, Any]] = {}
    for r in rows:
        best = per_model.get(r["model"])
        if best is None:
            per_model[r["model"]] = r
        elif r["fits"] and (not best["fits"] or r["params_b"] > best["params_b"]):
            per_model[r["model"]] = r
        elif not r["fits"] and not best["fits"] and r["required_gb"] < best["required_gb"]:
            per_model[r["model"]] = r
    fitting = sorted((r for r in per_model.values() if r["fits"]), key=lambda r: r["required_gb"])
    missing = sorted((r for r in per_model.values() if not r["fits"]), key=lambda r: r["required_gb"])
    chosen = (fitting + missing)[: max(limit, 1)] if len(fitting) < limit else fitting[-limit:]
    chosen.sort(key=lambda r: r["required_gb"])

    height = max(3.0, 0.26 * len(chosen) + 1.4)
    fig = Figure(figsize=(9, height), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    if font:
        for text_kind in ("font.family",):
            matplotlib.rcParams[text_kind] = ["sans-serif"]
        matplotlib.rcParams["font.sans-serif"] = [font, "DejaVu Sans"]
    labels = [r["variant"] for r in chosen]
    values = [r["required_gb"] for r in chosen]
    colors = ["#2e7d32" if r["fits"] else "#c62828" for r in chosen]
    ax.barh(range(len(chosen)), values, color=colors, alpha=0.85)
    ax.set_yticks(range(len(chosen)), labels, fontsize=8)
    ax.axvline(float(memory_gb), color="#1a4fb4", linestyle="--", linewidth=2)
    budget_label = f"可用預算 {memory_gb:g} GB" if zh else f"budget {memory_gb:g} GB"
    ax.text(float(memory_gb), len(chosen) - 0.5, f" {budget_label}", color="#1a4fb4", va="bottom", fontsize=9)
    if values and max(values) / max(min(values), 0.1) > 50:
        ax.set_xscale("log")
    ax.set_xlabel("需要的記憶體（GB，含 KV 快取）" if zh else "Required memory (GB, incl. KV cache)")
    ax.set_title(
        (f"{quant}・上下文 {context}：綠色放得下、紅色放不下" if zh else f"{quant}, context {context}: green fits, red does not"),
        fontsize=10,
    )
    ax.grid(axis="x", alpha=0.3)
    return fig


def detect_this_machine(language: str | None = "zh-TW") -> tuple[float, str, str]:
    """(memory GB, memory kind, a one-line summary) from psutil and nvidia-smi."""
    machine = detect_machine()
    memory, kind = machine_budget(machine)
    return (round(memory, 1) if memory else 16.0), kind, machine_summary(machine, language)


# ------------------------------------------------------------------ assembly


def build_ui(assistant: Assistant, settings: Settings, machine: dict[str, Any] | None = None) -> gr.Blocks:
    """Wire the handlers to components. `machine` defaults to `detect_machine()`.

    The returned Blocks has its queue configured (bounded, one model request at a time)
    and carries `export_dir`, the only folder `serve` lets the server read files from.
    """
    catalog = assistant.catalog
    machine = machine if machine is not None else detect_machine()
    export_dir = export_folder(settings)
    vendors = sorted({m.vendor for m in catalog.models})
    names = [m.name for m in catalog.models]
    tag_choices = [(f"{TASK_ZH.get(t, t)} {t}", t) for t in sorted(STRENGTH_TAGS)]
    budget, budget_kind = machine_budget(machine)
    default_memory = round(budget, 1) if budget else 16.0
    choices, default_mode = mode_choices(assistant)

    with gr.Blocks(title="選型助手 · Open-weight LLM picker", analytics_enabled=False) as demo:
        gr.Markdown(
            "## 選型助手 · 開放權重語言模型怎麼選\n"
            "依知識庫（評比文章＋模型型錄）回答：授權能不能商用、你的電腦跑不跑得動、哪個適合你的用途。"
            "每個說法都附來源 [n]。",
            elem_id="header",
        )
        with gr.Tabs(elem_id="tabs"):
            # ---------------------------------------------------------- chat
            with gr.Tab("對話 Chat", id="chat", elem_id="tab-chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=420):
                        chatbot = gr.Chatbot(
                            label="選型助手",
                            show_label=False,
                            elem_id="chatbot",
                            height=600,
                            sanitize_html=True,
                            render_markdown=True,
                            allow_tags=False,
                            allow_file_downloads=False,
                            feedback_options=None,
                            buttons=["copy"],
                            layout="bubble",
                            placeholder="**問我任何選型問題**：授權、商用、硬體需求、模型比較…",
                            latex_delimiters=[],
                        )
                        with gr.Row():
                            question = gr.Textbox(
                                placeholder=UI_TEXT["question"][0],
                                show_label=False,
                                lines=1,
                                max_lines=6,
                                max_length=settings.max_question_chars,
                                scale=5,
                                elem_id="question",
                                autofocus=True,
                            )
                            send = gr.Button(UI_TEXT["send"][0], variant="primary", scale=1, min_width=80, elem_id="send")
                        with gr.Row():
                            clear = gr.Button(UI_TEXT["clear"][0], size="sm", elem_id="clear")
                            status = gr.Markdown("", elem_id="status", elem_classes=["status-line"])
                        gr.Examples(examples=[[e] for e in EXAMPLES], inputs=[question], label="試試這些問題 · Try these",
                                    examples_per_page=len(EXAMPLES), elem_id="examples")
                    with gr.Column(scale=2, min_width=320):
                        with gr.Accordion("⚙ 設定 Settings", open=False, elem_id="settings"):
                            mode = gr.Radio(choices=choices, value=default_mode, label="回答模式 Answer mode", elem_id="mode")
                            language = gr.Radio(choices=LANGUAGES, value="auto", label="語言 Language", elem_id="language")
                            llm_info = gr.Markdown(settings_markdown(assistant), elem_id="llm-status")
                            refresh = gr.Button("重新檢查模型 Refresh", size="sm")
                            gr.Markdown(f"本機：{_e(machine_summary(machine))}", elem_id="machine")
                        cards_label = gr.Markdown(f"#### {UI_TEXT['cards'][0]}")
                        cards = gr.HTML(render_cards(None, catalog, machine, "zh-TW"), elem_id="cards", js_on_load=None)
                        why_label = gr.Markdown(f"#### {UI_TEXT['why_not'][0]}")
                        why_not = gr.HTML(render_exclusions(None, "zh-TW"), elem_id="why-not", js_on_load=None)
                        sources_label = gr.Markdown(f"#### {UI_TEXT['sources'][0]}")
                        sources = gr.HTML(render_sources(None, "zh-TW"), elem_id="sources", js_on_load=None)

            # ---------------------------------------------------------- catalog
            with gr.Tab("型錄 Catalog", id="catalog", elem_id="tab-catalog"):
                with gr.Row():
                    commercial = gr.Radio(COMMERCIAL_FILTERS, value="all", label="商用 Commercial use", elem_id="filter-commercial")
                    max_size = gr.Dropdown(SIZE_FILTERS, value=0, label="尺寸上限 Max size（有任一尺寸在此以下）", elem_id="filter-size")
                with gr.Row():
                    tags = gr.Dropdown(tag_choices, multiselect=True, label="強項標籤 Tags（全部符合）", elem_id="filter-tags")
                    vendor = gr.Dropdown(vendors, multiselect=True, label="廠商 Vendor", elem_id="filter-vendor")
                catalog_count = gr.Markdown(f"共 {len(catalog.models)} 個模型（型錄截至 {catalog.as_of.isoformat()}）", elem_id="catalog-count")
                table = gr.Dataframe(
                    value=catalog_frame(catalog_rows(catalog)),
                    headers=CATALOG_HEADERS,
                    datatype=CATALOG_DATATYPES,
                    interactive=False,
                    wrap=True,
                    max_height=520,
                    pinned_columns=1,
                    show_search="search",
                    elem_id="catalog-table",
                    label="模型型錄（點欄位標題排序，點一列看詳細）",
                )
                entry = gr.HTML(render_entry(assistant, None), elem_id="catalog-entry", js_on_load=None)

            # ---------------------------------------------------------- compare
            with gr.Tab("比較 Compare", id="compare", elem_id="tab-compare") as compare_tab:
                with gr.Row():
                    picked = gr.Dropdown(names, value=["Phi-4", "Gemma 3"] if {"Phi-4", "Gemma 3"} <= set(names) else None,
                                         multiselect=True, max_choices=3, label="選 2–3 個模型 Pick 2–3 models",
                                         elem_id="compare-models", scale=3)
                    compare_memory = gr.Number(value=default_memory, label="記憶體預算 GB", minimum=0.5, maximum=4096,
                                               elem_id="compare-memory", scale=1)
                    compare_kind = gr.Radio(MEMORY_KINDS, value=budget_kind, label="記憶體種類", elem_id="compare-kind", scale=2)
                with gr.Row():
                    compare_button = gr.Button("比較 Compare", variant="primary", elem_id="compare-button")
                    download = gr.DownloadButton("⬇ 下載 Markdown", visible=False, elem_id="compare-download")
                comparison = gr.HTML(compare_html(catalog, None), elem_id="comparison", js_on_load=None)

            # ---------------------------------------------------------- hardware
            with gr.Tab("硬體 Hardware", id="hardware", elem_id="tab-hardware") as hardware_tab:
                with gr.Row():
                    hw_memory = gr.Number(value=default_memory, label="記憶體 GB（RAM 或 VRAM）", minimum=0.5, maximum=4096, elem_id="hw-memory")
                    hw_kind = gr.Radio(MEMORY_KINDS, value=budget_kind, label="記憶體種類 Memory kind", elem_id="hw-kind")
                with gr.Row():
                    hw_context = gr.Dropdown(CONTEXT_CHOICES, value=4096, label="上下文長度 Context (tokens)", elem_id="hw-context")
                    hw_quant = gr.Dropdown(list(QUANT_BITS), value="Q4_K_M", label="量化 Quantisation", elem_id="hw-quant")
                    hw_only = gr.Checkbox(value=False, label="只顯示放得下的 Only what fits", elem_id="hw-only")
                with gr.Row():
                    hw_button = gr.Button("計算 Calculate", variant="primary", elem_id="hw-button")
                    detect = gr.Button("偵測這台電腦 Detect this machine", elem_id="hw-detect")
                hw_machine = gr.Markdown(f"本機：{_e(machine_summary(machine))}", elem_id="hw-machine")
                hw_plot = gr.Plot(label="需要的記憶體 vs 預算", format="png", elem_id="hw-plot")
                hw_table = gr.Dataframe(
                    headers=HARDWARE_HEADERS,
                    datatype=["str", "str", "number", "number", "number", "str", "str", "str"],
                    interactive=False,
                    wrap=True,
                    max_height=480,
                    elem_id="hw-table",
                    label="哪些放得下（記憶體含 KV 快取與執行負擔；速度只代表數量級）",
                )

        # -------------------------------------------------------------- events
        model_slot = ModelSlot(settings.llm_waiting)

        def on_ask(message, chat, mode_value, language_value):
            # server.guarded_chat: one LLM answer at a time (grounded ones never wait for it).
            yield from guarded_chat(respond, model_slot, MODE_LLM, MODE_GROUNDED,
                                    assistant, machine, message, chat, mode_value, language_value)

        chat_outputs = [chatbot, question, cards, why_not, sources, status]
        chat_inputs = [question, chatbot, mode, language]
        send.click(on_ask, chat_inputs, chat_outputs, api_name="chat", **chat_event_options(settings))
        question.submit(on_ask, chat_inputs, chat_outputs, api_visibility="private", **chat_event_options(settings))
        # A chat request that finds the queue full is routed here (server.friendly_queue_full).
        gr.Button(visible=False, elem_id="busy-route").click(busy_reply, chat_inputs, chat_outputs, **busy_event_options())
        clear.click(clear_conversation, [language], chat_outputs, api_visibility="private", queue=False)

        def on_language(value):
            lang = "en" if value == "en" else "zh-TW"
            mode_update, _ = mode_choices(assistant, lang)
            return (
                gr.update(placeholder=_t("question", lang)),
                gr.update(value=_t("send", lang)),
                gr.update(value=_t("clear", lang)),
                f"#### {_t('cards', lang)}",
                f"#### {_t('why_not', lang)}",
                f"#### {_t('sources', lang)}",
                settings_markdown(assistant, lang),
                gr.update(choices=mode_update),
            )

        language.change(on_language, [language], [question, send, clear, cards_label, why_label, sources_label, llm_info, mode],
                        api_visibility="private", queue=False)

        def on_refresh(language_value):
            lang = "en" if language_value == "en" else "zh-TW"
            options, default = mode_choices(assistant, lang)
            return settings_markdown(assistant, lang), gr.update(choices=options, value=default)

        refresh.click(on_refresh, [language], [llm_info, mode], api_visibility="private", queue=False)
        demo.load(on_refresh, [language], [llm_info, mode], api_visibility="private", queue=False)

        def on_filter(commercial_value, size_value, tag_values, vendor_values, language_value):
            rows = catalog_rows(catalog, commercial_value, float(size_value or 0) or None, tag_values, vendor_values,
                                "en" if language_value == "en" else "zh-TW")
            return catalog_frame(rows), f"符合 {len(rows)} / {len(catalog.models)} 個模型（型錄截至 {catalog.as_of.isoformat()}）"

        filters = [commercial, max_size, tags, vendor, language]
        for control in (commercial, max_size, tags, vendor):
            control.change(on_filter, filters, [table, catalog_count], api_visibility="private", concurrency_limit=4)

        def on_select(evt: gr.SelectData, language_value):
            row = evt.row_value or []
            return render_entry(assistant, model_by_name(catalog, row[0] if row else None), language_value)

        table.select(on_select, [language], [entry], api_visibility="private", concurrency_limit=4)

        def on_compare(picked_names, memory_value, kind_value, language_value):
            lang = "en" if language_value == "en" else "zh-TW"
            table_html = compare_html(catalog, picked_names, memory_value, kind_value, lang)
            path = export_comparison(assistant, picked_names, memory_value, kind_value, lang, export_dir)
            if path is None:
                return table_html, gr.update(visible=False, value=None)
            return table_html, gr.update(visible=True, value=str(path))

        compare_button.click(on_compare, [picked, compare_memory, compare_kind, language], [comparison, download],
                             api_name="compare", concurrency_limit=4)
        compare_tab.select(on_compare, [picked, compare_memory, compare_kind, language], [comparison, download],
                           api_visibility="private", concurrency_limit=4)

        def on_hardware(memory_value, kind_value, context_value, quant_value, only_value, language_value):
            lang = "en" if language_value == "en" else "zh-TW"
            memory_value = float(memory_value or 0)
            if memory_value <= 0:
                raise gr.Error("請輸入大於 0 的記憶體大小（GB）。" if lang != "en" else "Enter a memory size above 0 GB.")
            rows = hardware_rows(catalog, memory_value, kind_value, int(context_value), quant_value, bool(only_value), lang)
            import pandas as pd  # noqa: PLC0415

            figure = hardware_chart(catalog, memory_value, kind_value, int(context_value), quant_value, lang)
            return figure, pd.DataFrame(rows, columns=HARDWARE_HEADERS)

        hw_inputs = [hw_memory, hw_kind, hw_context, hw_quant, hw_only, language]
        hw_button.click(on_hardware, hw_inputs, [hw_plot, hw_table], api_name="hardware", concurrency_limit=2)
        hw_only.change(on_hardware, hw_inputs, [hw_plot, hw_table], api_visibility="private", concurrency_limit=2)
        hardware_tab.select(on_hardware, hw_inputs, [hw_plot, hw_table], api_visibility="private", concurrency_limit=2)

        def on_detect(language_value):
            memory_value, kind_value, summary = detect_this_machine(language_value)
            return memory_value, kind_value, f"本機：{_e(summary)}" if language_value != "en" else f"This machine: {_e(summary)}"

        detect.click(on_detect, [language], [hw_memory, hw_kind, hw_machine], api_visibility="private", queue=False).then(
            on_hardware, hw_inputs, [hw_plot, hw_table], api_visibility="private", concurrency_limit=2
        )

    configure_queue(demo, settings)
    demo.export_dir = export_dir  # type: ignore[attr-defined]
    return demo
