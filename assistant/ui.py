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

from .answer.fitting import fit_table  # noqa: E402
from .api import register_api  # noqa: E402
from .config import PROJECT_ROOT, Settings  # noqa: E402, F401  (PROJECT_ROOT: tests read it here)
from .hardware import QUANT_BITS, USABLE_FRACTION, detect_machine, fits_any_quant  # noqa: E402
from .index import format_context, format_params  # noqa: E402
from .inputs import strip_invisible  # noqa: E402
from .knowledge import STRENGTH_TAGS, Catalog, Model  # noqa: E402
from .labels import commercial_label, country_label, task_label  # noqa: E402
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
from .ui_render import (  # noqa: E402
    CATALOG_JS,
    CITATION_JS,
    hardware_label,
    link_citations,
    machine_hardware,
    render_catalog_table,
    render_source_groups,
    reply_hardware,
    separate_lists,
    server_wording,
    source_dict,
    unlink_citations,
    usable_rule,
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
ARCH_TEXT = {"dense": "dense", "moe": "MoE", "hybrid": "hybrid", "ssm": "SSM"}
MEMORY_KINDS = [("RAM（CPU）", "ram"), ("VRAM（NVIDIA 等獨立顯卡）", "vram"), ("統一記憶體（Apple M 系列）", "unified")]
CONTEXT_CHOICES = [2048, 4096, 8192, 16384, 32768, 65536, 131072]

CATALOG_HEADERS = [
    "模型 Model", "家族 Family", "廠商 Vendor", "最小尺寸 Smallest (B)", "啟動 Active (B)", "架構 Arch",
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
.badge-fit,.badge-nofit{white-space:normal;max-width:100%}
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
.panel-title{margin:10px 0 6px 0;font-size:1em}
.fit-basis{font-size:.82em;opacity:.8;margin-bottom:6px}
.src details.src-group{border:none;padding:0;margin:0 0 8px 0}
.src summary.src-group-title{font-size:.85em;opacity:.8;margin-bottom:4px}
.src details.source.cited{border-color:var(--color-accent);box-shadow:0 0 0 2px var(--color-accent-soft)}
#chatbot a[href^="#src-a"]{display:inline-block;font-size:.78em;line-height:1.3;padding:0 5px;margin:0 1px;border-radius:6px;
  background:var(--background-fill-secondary);border:1px solid var(--border-color-primary);text-decoration:none;vertical-align:super}
#chatbot a[href^="#src-a"]:hover{border-color:var(--color-accent)}
.offscreen{position:absolute !important;left:-10000px !important;width:1px !important;height:1px !important;overflow:hidden !important}
.catalog-wrap{overflow-x:auto;max-height:560px;overflow-y:auto}
.catalog-hint{font-size:.85em;opacity:.75;margin-bottom:4px}
table.catalog{border-collapse:collapse;width:100%;font-size:.86em}
table.catalog th,table.catalog td{border:1px solid var(--border-color-primary);padding:4px 6px;vertical-align:top;text-align:left}
table.catalog thead th{position:sticky;top:0;background:var(--background-fill-secondary);z-index:1}
table.catalog th button.sort{all:unset;cursor:pointer;font-weight:600;white-space:nowrap}
table.catalog th .sort-mark::after{content:" ↕";opacity:.35}
table.catalog th[aria-sort=ascending] .sort-mark::after{content:" ▲";opacity:1}
table.catalog th[aria-sort=descending] .sort-mark::after{content:" ▼";opacity:1}
table.catalog tbody tr{cursor:pointer}
table.catalog tbody tr:hover,table.catalog tbody tr.picked{background:var(--background-fill-secondary)}
table.catalog td.col-name{font-weight:600}
@media (max-width: 768px){
  /* Chat: answer, then the question box, then the cards; examples and settings last. */
  #chat-row{flex-direction:column !important}
  #chat-main,#chat-side{display:contents !important}
  #chatbot{order:1} #ask-row{order:2} #status-row{order:3} #cards{order:4} #why-not{order:5} #sources{order:6}
  #examples-box{order:7} #settings{order:8}
  /* Catalog: one card per model with the key columns; the rest is in the entry below. */
  table.catalog thead tr{display:flex;flex-wrap:wrap;gap:4px}
  table.catalog thead th{position:static;border:1px solid var(--border-color-primary);border-radius:6px}
  table.catalog thead th:not(.narrow-keep){display:none}
  table.catalog,table.catalog tbody{display:block}
  table.catalog tbody tr{display:block;border:1px solid var(--border-color-primary);border-radius:8px;margin:6px 0;padding:6px 8px}
  table.catalog tbody td{display:block;border:none;padding:1px 0}
  table.catalog tbody td:not(.narrow-keep){display:none}
  table.catalog tbody td.narrow-keep:not(.col-name)::before{content:attr(data-label) "：";opacity:.7}
  .catalog-wrap{max-height:none}
}
"""

# After an answer: show its start (not the disclaimers at its end).
READ_FROM_START_JS = """
() => {
  const bots = document.querySelectorAll("#chatbot [data-testid='bot']");
  const last = bots[bots.length - 1];
  if (!last) return;
  let box = last.parentElement;
  while (box && box !== document.body) {
    const style = getComputedStyle(box);
    if (/(auto|scroll)/.test(style.overflowY) && box.scrollHeight > box.clientHeight) break;
    box = box.parentElement;
  }
  if (box && box !== document.body) {
    box.scrollTop += last.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
  }
  const top = last.getBoundingClientRect().top;
  if (top < 0 || top > window.innerHeight * 0.6) window.scrollBy(0, top - 8);
}
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
        text = unlink_citations(_message_text(message.get("content")))
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
    text = label.get(model.commercial_use) or commercial_label(model.commercial_use, _lang(language))
    title = model.commercial_conditions or model.licence.name
    return f'<span class="badge badge-{_e(model.commercial_use)}" title="{_e(title)}">{_e(text)}</span>'


def fit_badge(model: Model, hardware: dict[str, Any] | None, language: str | None = "zh-TW",
              variant_name: str | None = None) -> str:
    """A "fits 16 GB RAM?" badge for the hardware in the conversation (best quant that fits).

    `hardware` is a budget `{memory_gb, kind}` (from the conversation or an explicit
    "detect" click) or a `detect_machine()` dict; without one there is no badge, because
    the server's memory says nothing about the reader's computer.
    """
    zh = _zh(language)
    budget = machine_hardware(hardware)
    if budget is None:
        return ""
    memory, kind = budget["memory_gb"], budget["kind"]
    candidate = model
    if variant_name:
        sizes = [v for v in model.sizes if v.name == variant_name]
        if sizes:
            candidate = model.model_copy(update={"variants": sizes})
    named = {"hardware_name": budget.get("name"), "gpu_count": budget.get("gpu_count"), "bandwidth_gb_s": budget.get("bandwidth_gbs")}
    fit = fits_any_quant(candidate, memory, 4096, kind, **{k: v for k, v in named.items() if v})
    where = hardware_label(budget, language)
    if fit is None:
        text = f"{where} 放不下" if zh else f"won't fit {where}"
        return f'<span class="badge badge-nofit" title="{_e(usable_rule(kind, language))}">✗ {_e(text)}</span>'
    text = (
        f"{where} 可跑 {fit.variant}（{fit.quant} 約 {fit.required_gb:.1f}GB）"
        if zh
        else f"fits {where}: {fit.variant} ({fit.quant}, ~{fit.required_gb:.1f} GB)"
    )
    return f'<span class="badge badge-fit" title="{_e(usable_rule(kind, language))}">✓ {_e(text)}</span>'


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


def _panel_title(key: str, language: str | None) -> str:
    return f'<h4 class="panel-title">{_e(_t(key, language))}</h4>'


def render_cards(reply: Reply | None, catalog: Catalog | None, hardware: dict[str, Any] | None,
                 language: str | None = None) -> str:
    """Recommendation cards; for a fact or compare answer, cards for the models it names.

    Fit badges judge against `hardware` (the conversation's budget); without one, a hint
    says how to get them.
    """
    language = _lang(language or (reply.language if reply else None))
    zh = _zh(language)
    title = _panel_title("cards", language)
    if reply is None or catalog is None:
        return title + f'<div class="panel-empty">{"問一個問題，推薦的模型會顯示在這裡。" if zh else "Ask a question; recommended models appear here."}</div>'
    cards = [
        _card(r.model, r.variant.name, r.variant.params_total_b, r.variant.params_active_b, r.reason, hardware, language, i)
        for i, r in enumerate(reply.recommendations, 1)
    ]
    if not cards:
        for model_id in reply.mentioned[:3]:
            model = catalog.by_id.get(model_id)
            if model is not None:
                summary = model.summary_zh if zh else model.summary_en
                cards.append(_card(model, None, model.params_total_b, model.params_active_b, summary, hardware, language, None))
    if not cards:
        return title + f'<div class="panel-empty">{"這個回答沒有推薦特定模型。" if zh else "No specific model in this answer."}</div>'
    budget = machine_hardware(hardware)
    if budget is None:
        note = ("說出你的硬體（例如「16GB 筆電」「一張 RTX 4090」），卡片就會標示放不放得下。" if zh
                else "Say what hardware you have (e.g. “16 GB laptop”, “one RTX 4090”) and the cards show what fits.")
    else:
        source = ("依對話中的硬體" if budget.get("origin") == "conversation" else "依偵測到的伺服器硬體") if zh else (
            "from the conversation" if budget.get("origin") == "conversation" else "from the detected server")
        note = (f"放不放得下：{hardware_label(budget, language)}（{source}；{usable_rule(budget['kind'], language)}）" if zh
                else f"Fit: {hardware_label(budget, language)} ({source}; {usable_rule(budget['kind'], language)})")
    return title + f'<div class="fit-basis">{_e(note)}</div>' + "".join(cards)


def render_exclusions(reply: Reply | None, language: str | None = None) -> str:
    """The "why not" list: models the answer ruled out, each with its reason."""
    language = _lang(language or (reply.language if reply else None))
    title = _panel_title("why_not", language)
    if reply is None or not reply.excluded:
        empty = "沒有被排除的模型。" if _zh(language) else "Nothing was ruled out."
        return title + f'<div class="panel-empty">{empty}</div>'
    items = "".join(f"<li>{_e(e.reason)}</li>" for e in reply.excluded)
    return title + f'<ul class="why-not">{items}</ul>'


def render_sources(reply: Reply | None, language: str | None = None) -> str:
    """One answer's cited passages `[n]`; each expands to show its text."""
    language = _lang(language or (reply.language if reply else None))
    groups = [[source_dict(p) for p in reply.sources]] if reply is not None and reply.sources else []
    return render_source_groups(groups, language)


def answer_markdown(reply: Reply, answer_no: int | None = None) -> str:
    """The final answer for the chat bubble: sanitized, lists closed before the next
    paragraph, `[n]` linked to this answer's sources, notices set apart."""
    text = separate_lists(sanitize_markdown(reply.answer))
    notes = [sanitize_markdown(server_wording(n)) for n in reply.notices if n]
    if notes:
        text += "\n\n" + "\n\n".join(f"※ {n}" for n in notes)
    if answer_no is not None:
        text = link_citations(text, answer_no, len(reply.sources))
    return text


def mode_label(reply: Reply, model_status: dict[str, Any] | None = None) -> str:
    """The status line under the chat: the mode, and for a model answer which model wrote it."""
    zh = reply.language != "en"
    if reply.mode == "grounded":
        return "模式：依知識庫（grounded）" if zh else "Mode: grounded (knowledge base)"
    if reply.mode == "llm":
        name = (model_status or {}).get("model") or Path(str((model_status or {}).get("path") or "")).name
        label = f"語言模型 {name}" if zh and name else ("語言模型" if zh else (f"language model {name}" if name else "language model"))
        return f"模式：{sanitize_markdown(label)}" if zh else f"Mode: {sanitize_markdown(label)}"
    return f"模式：{reply.mode}" if zh else f"Mode: {reply.mode}"


# ------------------------------------------------------------------ the chat handler


def new_conversation() -> dict[str, Any]:
    """Per-session chat state: each answer's sources (so every answer's `[n]` keeps
    working), the hardware the conversation stated, and the explicitly detected one."""
    return {"sources": [], "hardware": None, "detected": None}


def _conversation(state: Any, chat: list[Any]) -> dict[str, Any]:
    state = dict(state) if isinstance(state, dict) else new_conversation()
    state.setdefault("sources", [])
    state.setdefault("hardware", None)
    state.setdefault("detected", None)
    answers = sum(1 for m in chat if isinstance(m, dict) and m.get("role") == "assistant")
    if answers == 0:  # a cleared or new chat starts its answers (and stated hardware) afresh
        state["sources"], state["hardware"] = [], None
    # Keep numbering in step with the bubbles even if the state was lost or is ahead.
    sources = list(state["sources"])[:answers]
    state["sources"] = sources + [[] for _ in range(answers - len(sources))]
    return state


REJECTED_ZH = "※ 語言模型的回答沒有通過事實檢查，已改為依知識庫的回答。"
REJECTED_EN = "※ The language model's answer failed the fact check; showing the knowledge-base answer instead."


def respond(
    assistant: Assistant,
    machine: dict[str, Any] | None,
    message: str | None,
    chat: list[Any] | None,
    mode: str = MODE_GROUNDED,
    language: str = "auto",
    conversation: dict[str, Any] | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Stream one answer into the chat.

    Args:
        machine: hardware the user asked to use explicitly ("detect this machine"), as a
            budget or `detect_machine()` dict; None when nothing was detected.
        conversation: the state from the previous call (`new_conversation()` shape).

    Yields (chat, textbox, cards, why-not, sources, status, conversation) after each
    step; the last yield carries the final answer, its panels and the new state. An
    empty question gets a friendly message and no model call.
    """
    lang = None if language in (None, "", "auto") else _lang(language)
    shown = [m for m in (chat or []) if isinstance(m, dict)]
    display = [{"role": m.get("role", "user"), "content": _message_text(m.get("content"))} for m in shown]
    state = _conversation(conversation, shown)
    skip = gr.skip()
    question = message if isinstance(message, str) else ""
    # Invisible-only input (zero-width, bidi, BOM) is empty too: the assistant would reject it.
    if not strip_invisible(question).strip():
        zh = lang != "en"
        status = "請先輸入問題。" if zh else "Please type a question first."
        yield [*display], "", skip, skip, skip, status, skip
        return
    history = history_from_chat(shown)
    max_chars = assistant.settings.max_question_chars
    display = [*display, {"role": "user", "content": sanitize_markdown(question[: max_chars + 200])}]
    thinking = "正在查資料…" if lang != "en" else "Looking it up…"
    display.append({"role": "assistant", "content": thinking})
    waiting = thinking
    if mode == MODE_LLM:
        model_status = llm_status(assistant)
        if model_status.get("available"):
            waiting = thinking + llm_details(model_status, lang != "en")
    yield [*display], "", skip, skip, skip, waiting, skip
    streamed = ""
    from_model = False  # a status event announces the language model's (unchecked) text
    replaced = False
    try:
        for event in assistant.ask_stream(question, history, mode == MODE_LLM, lang):
            if event.kind == "status":
                from_model = True
                text = sanitize_markdown(server_wording(event.text))
                if not streamed:
                    display[-1] = {"role": "assistant", "content": f"{text}…"}
                yield [*display], "", skip, skip, skip, text, skip
            elif event.kind == "replace":
                # The model's answer was rejected: never leave it on screen.
                streamed, replaced = event.text, True
                zh = (lang or answer_language_of(event.text)) != "en"
                notice = REJECTED_ZH if zh else REJECTED_EN
                display[-1] = {"role": "assistant", "content": separate_lists(sanitize_markdown(streamed)) + f"\n\n{notice}"}
                yield [*display], "", skip, skip, skip, notice, skip
            elif event.kind == "delta":
                streamed += event.text
                display[-1] = {"role": "assistant", "content": separate_lists(sanitize_markdown(streamed)) + " ▍"}
                yield [*display], "", skip, skip, skip, skip, skip
            elif event.kind == "final" and event.reply is not None:
                reply = event.reply
                state["sources"] = [*state["sources"], [source_dict(p) for p in reply.sources]]
                state["hardware"] = reply_hardware(reply, state["hardware"])
                answer_no = len(state["sources"])
                display[-1] = {"role": "assistant", "content": answer_markdown(reply, answer_no)}
                hardware = state["hardware"] or state["detected"] or machine_hardware(machine)
                yield (
                    [*display],
                    "",
                    render_cards(reply, assistant.catalog, hardware),
                    render_exclusions(reply),
                    render_source_groups(state["sources"], reply.language),
                    mode_label(reply, llm_status(assistant) if reply.mode == "llm" else None),
                    state,
                )
                return
    except Exception:  # the page must stay usable whatever failed underneath
        log.exception("answering failed")
        display[-1] = {
            "role": "assistant",
            "content": "抱歉，這次回答時發生錯誤，請再試一次。" if lang != "en" else "Sorry, something went wrong; please try again.",
        }
        yield [*display], "", skip, skip, skip, "", skip
        return
    # A stream without a final event: keep grounded text, never unchecked model text.
    if from_model and not replaced:
        streamed = ("回答中斷，請再試一次。" if lang != "en" else "The answer was interrupted; please try again.")
    display[-1] = {"role": "assistant", "content": separate_lists(sanitize_markdown(streamed))}
    yield [*display], "", skip, skip, skip, "", skip


def answer_language_of(text: str) -> str:
    """zh-TW when the text has CJK characters, else en (for messages before the reply)."""
    return "zh-TW" if re.search(r"[\u4e00-\u9fff]", text or "") else "en"


def clear_conversation(language: str = "auto") -> tuple[Any, ...]:
    """Empty chat, panels in the page's language, and a fresh state (detected hardware kept by the caller)."""
    lang = "en" if language == "en" else "zh-TW"
    return ([], "", render_cards(None, None, None, lang), render_exclusions(None, lang), render_sources(None, lang), "",
            new_conversation())


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


def llm_details(status: dict[str, Any], zh: bool) -> str:
    """'（上下文 4096 token，預計等待約 12 秒）' from the status's `n_ctx` and `expected_wait_s`."""
    parts = []
    n_ctx = status.get("n_ctx")
    if isinstance(n_ctx, int) and not isinstance(n_ctx, bool) and n_ctx > 0:
        parts.append(f"上下文 {n_ctx} token" if zh else f"context {n_ctx} tokens")
    wait = status.get("expected_wait_s")
    if isinstance(wait, (int, float)) and not isinstance(wait, bool) and wait >= 0:
        parts.append(f"預計等待約 {wait:.0f} 秒" if zh else f"expected wait ~{wait:.0f} s")
    if not parts:
        return ""
    return f"（{'，'.join(parts)}）" if zh else f" ({', '.join(parts)})"


def settings_markdown(assistant: Assistant, language: str | None = "auto") -> str:
    """What answer mode is available and why, and which local model is active."""
    zh = language != "en"
    status = llm_status(assistant)
    if status.get("available"):
        name = status.get("model") or Path(str(status.get("path") or "")).name or "?"
        lines = [f"● **{'語言模型可用' if zh else 'LLM ready'}**{'：' if zh else ': '}`{sanitize_markdown(name)}`"
                 + llm_details(status, zh)]
    else:
        reason = status.get("reason_zh" if zh else "reason_en") or status.get("reason_zh") or ""
        head = "○ 目前只用知識庫回答" if zh else "○ Grounded answers only"
        lines = [f"{head}{'：' if zh else ': '}{sanitize_markdown(server_wording(reason))}"]
    models = list_models(assistant)
    if models:
        lines.append("")
        lines.append("**伺服器上的模型**" if zh else "**Models on the server**")
        for entry in models[:12]:
            mark = "▶ " if entry.get("active") else "・"
            extra = [str(entry[key]) for key in ("parameters", "quant", "size") if entry.get(key)]
            if entry.get("chat_template") is False:
                extra.append("基礎模型，無對話樣板" if zh else "base model, no chat template")
            problem = entry.get("problem_zh" if zh else "problem") or entry.get("problem")
            if problem:
                extra.append(server_wording(str(problem)))
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
    if zh:
        return f"{VERDICT_TEXT['zh-TW'][model.verdict]}：{model.verdict_reason}"
    return f"{VERDICT_TEXT['en'][model.verdict]}: {model.verdict_reason_en or '(the article’s reason is in Chinese only)'}"


def _weaknesses(model: Model, zh: bool) -> str:
    """The catalog's weaknesses are zh-TW phrases; an English page says so instead of pasting them."""
    if not model.weaknesses:
        return "—"
    if zh:
        return "；".join(model.weaknesses)
    return f"{len(model.weaknesses)} listed in the Chinese catalog only (switch the language to 繁體中文 to read them)"


def _commercial_text(model: Model, zh: bool) -> str:
    conditions = model.commercial_conditions if zh else (model.commercial_conditions_en or "")
    badge = commercial_label(model.commercial_use, "zh-TW" if zh else "en")
    if zh:
        return badge + (f"：{conditions}" if conditions else "")
    if model.commercial_conditions and not conditions:
        conditions = "conditions in the licence (Chinese summary only)"
    return badge + (f": {conditions}" if conditions else "")


def _strengths(model: Model, zh: bool) -> str:
    return "、".join(task_label(t, "zh-TW") for t in model.strengths) if zh else ", ".join(model.strengths)


def catalog_models(
    catalog: Catalog,
    commercial: str = "all",
    max_size_b: float | None = None,
    tags: list[str] | None = None,
    vendors: list[str] | None = None,
) -> list[Model]:
    """The catalog's models that pass the filters.

    Args:
        commercial: "all", "commercial" (yes or conditional) or "unconditional" (yes only).
        max_size_b: keep models with a downloadable size at or under this many billions.
        tags: keep models having every one of these strength tags.
        vendors: keep models from these vendors.
    """
    kept = []
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
        kept.append(model)
    return kept


def catalog_rows(
    catalog: Catalog,
    commercial: str = "all",
    max_size_b: float | None = None,
    tags: list[str] | None = None,
    vendors: list[str] | None = None,
    language: str | None = "zh-TW",
) -> list[list[Any]]:
    """The filtered catalog as plain rows (`CATALOG_HEADERS`); the size is the smallest
    downloadable one, so a series sorts by what people can actually run."""
    zh = _zh(language)
    rows = []
    for model in catalog_models(catalog, commercial, max_size_b, tags, vendors):
        family = catalog.family_by_id[model.family].name
        rows.append(
            [
                model.name,
                family,
                model.vendor,
                min(v.params_total_b for v in model.sizes),
                model.active_b,
                ARCH_TEXT[model.architecture],
                context_k(model.context_tokens),
                model.licence.id,
                commercial_label(model.commercial_use, _lang(language)),
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
    country = country_label(model.country, "zh-TW") if zh else model.country
    rows = [
        ("廠商" if zh else "Vendor", f"{model.vendor}（{family.vendor_zh}，{country}）" if zh else f"{model.vendor} ({country})"),
        ("參數" if zh else "Parameters", _params_text(model.params_total_b, model.params_active_b, zh)
         + (f"；{model.experts} 個專家" if zh and model.experts else (f"; {model.experts} experts" if model.experts else ""))),
        ("可下載尺寸" if zh else "Sizes", "、".join(f"{v.name}（{format_params(v.params_total_b)}）" for v in model.sizes)),
        ("上下文" if zh else "Context", _context_text(model.context_tokens, zh)),
        ("授權" if zh else "Licence", f"{model.licence.name}（{model.licence.id}）"),
        ("商用" if zh else "Commercial use", _commercial_text(model, zh)),
        ("模態" if zh else "Modalities", ", ".join(model.modalities)),
        *([("中文", model.languages.chinese_note)] if zh else []),
        ("強項" if zh else "Strengths", _strengths(model, zh)),
        ("缺點" if zh else "Weaknesses", _weaknesses(model, zh)),
        ("原文評價" if zh else "Article's verdict", _verdict(model, zh)),
        ("發布" if zh else "Released", model.released or "—"),
        ("資料日期" if zh else "As of", model.as_of.isoformat()),
    ]
    table = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    sources = "".join(f"<li>{_e(k)}{'：' if zh else ': '}{_e(v)}</li>" for k, v in model.sources.items())
    passages = article_passages(assistant, model)
    passage_html = "".join(f'<div class="passage">{_e(c.text)}</div>' for c in passages) or (
        f'<div class="panel-empty">{"原文沒有這個家族的段落。" if zh else "The article has no passage on this family."}</div>'
    )
    summary = model.summary_zh if zh else model.summary_en
    return (
        f'<div class="entry cmp"><h3>{_e(model.name)} {commercial_badge(model, language)}</h3>'
        f"<p>{_e(summary)}</p><table>{table}</table>"
        f'<h4>{"原文段落" if zh else "Article passage (Chinese)"}{"：" if zh else ": "}{_e(family.article_section or ("原文未提及" if zh else "not in the article"))}</h4>{passage_html}'
        f'<h4>{"資料來源" if zh else "Sources"}</h4><ul>{sources}</ul></div>'
    )


# ------------------------------------------------------------------ compare tab


def _fit_label(memory_gb: float | None, kind: str, zh: bool) -> str:
    if not memory_gb:
        return "記憶體" if zh else "Memory"
    where = hardware_label({"memory_gb": float(memory_gb), "kind": kind}, "zh-TW" if zh else "en")
    return f"{where} 可否執行" if zh else f"Fits {where}?"


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
        ("廠商" if zh else "Vendor", f"{model.vendor}（{country_label(model.country, 'zh-TW')}）" if zh else f"{model.vendor} ({model.country})"),
        ("家族" if zh else "Family", family_name),
        ("參數" if zh else "Parameters", _params_text(model.params_total_b, model.params_active_b, zh)),
        ("可下載尺寸" if zh else "Sizes", ", ".join(format_params(v.params_total_b) for v in model.sizes)),
        ("架構" if zh else "Architecture", ARCH_TEXT[model.architecture]),
        ("上下文" if zh else "Context", _context_text(model.context_tokens, zh)),
        ("授權" if zh else "Licence", f"{model.licence.name} ({model.licence.id})"),
        ("商用" if zh else "Commercial use", _commercial_text(model, zh)),
        ("模態" if zh else "Modalities", ", ".join(model.modalities)),
        (_fit_label(memory_gb, kind, zh), fit_text),
        ("強項" if zh else "Strengths", _strengths(model, zh) or "—"),
        ("缺點" if zh else "Weaknesses", _weaknesses(model, zh)),
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
        lines.append(f"  - {'原文章節' if zh else 'article section'}: {catalog.family_by_id[model.family].article_section or ('原文未提及' if zh else 'not in the article')}")
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


def estimate_options(hardware_name: str | None = None, bandwidth_gb_s: float | None = None) -> dict[str, Any]:
    """Keyword arguments for `fit_table`/`hardware.estimate` from the hardware tab's preset and bandwidth."""
    options: dict[str, Any] = {}
    if hardware_name:
        options["hardware_name"] = hardware_name
    if isinstance(bandwidth_gb_s, (int, float)) and bandwidth_gb_s > 0:
        options["bandwidth_gb_s"] = float(bandwidth_gb_s)
    return options


def hardware_rows(catalog: Catalog, memory_gb: float, kind: str = "ram", context: int = 4096, quant: str = "Q4_K_M",
                  only_fits: bool = False, language: str | None = "zh-TW",
                  options: dict[str, Any] | None = None) -> list[list[Any]]:
    """Every catalog size with its memory estimate; what fits first, biggest first.

    `options` (`estimate_options`) names the hardware or its bandwidth for the speed column.
    """
    zh = _zh(language)
    rows = fit_table(catalog, float(memory_gb), quant, int(context), kind, **(options or {}))
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
                commercial_label(r["commercial_use"], _lang(language)),
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
                   language: str | None = "zh-TW", limit: int = 40, options: dict[str, Any] | None = None) -> Figure:
    """Horizontal bars of required memory per model against a vertical line at the budget.

    One bar per model: its largest size that fits, else its smallest. All that fit are
    shown, then the nearest that do not, up to `limit` bars.
    """
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # noqa: PLC0415

    font = cjk_font()
    zh = _zh(language) and font is not None
    rows = fit_table(catalog, float(memory_gb), quant, int(context), kind, **(options or {}))
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
    # Fit is judged against the usable part of the memory (hardware.USABLE_FRACTION), so
    # that is the line a bar must stay left of; the full memory is drawn faintly.
    fraction = USABLE_FRACTION.get(kind, USABLE_FRACTION["ram"])
    usable = float(memory_gb) * fraction
    kind_name = {"ram": "RAM", "vram": "VRAM", "unified": "統一記憶體" if zh else "unified memory"}.get(kind, kind)
    ax.axvline(usable, color="#1a4fb4", linestyle="--", linewidth=2, gid="usable-budget")
    ax.axvline(float(memory_gb), color="#888888", linestyle=":", linewidth=1, gid="total-memory")
    budget_label = (f"可用 {usable:.3g} GB＝{kind_name} {memory_gb:g} GB 的 {fraction:.0%}" if zh
                    else f"usable {usable:.3g} GB = {fraction:.0%} of {memory_gb:g} GB {kind_name}")
    ax.text(usable, len(chosen) - 0.5, f" {budget_label}", color="#1a4fb4", va="bottom", fontsize=9)
    from matplotlib.ticker import FuncFormatter, LogLocator  # noqa: PLC0415

    if values and max(values + [float(memory_gb)]) / max(min(values), 0.1) > 4:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))

    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:g} GB"))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda _x, _pos: ""))
    ax.set_xlabel("需要的記憶體（GB，含 KV 快取）" if zh else "Required memory (GB, incl. KV cache)")
    rule = (f"放得下＝需要 ≤ {kind_name} 的 {fraction:.0%}" if zh else f"fits = required ≤ {fraction:.0%} of {kind_name}")
    ax.set_title(
        (f"{quant}・上下文 {context}：綠色放得下、紅色放不下（{rule}）" if zh
         else f"{quant}, context {context}: green fits, red does not ({rule})"),
        fontsize=10,
    )
    ax.grid(axis="x", alpha=0.3)
    return fig


def detect_this_machine(language: str | None = "zh-TW", machine: dict[str, Any] | None = None) -> tuple[float, str, str]:
    """(memory GB, memory kind, a one-line summary) of the computer running the server,
    from psutil and nvidia-smi (or `machine` when given, e.g. in tests)."""
    machine = machine if machine is not None else detect_machine()
    memory, kind = machine_budget(machine)
    return (round(memory, 1) if memory else 16.0), kind, machine_summary(machine, language)


DEFAULT_BUDGET = {"memory_gb": 16.0, "kind": "ram"}


def hardware_presets() -> list[Any]:
    """`hardware.load_presets()` (GPUs, Apple chips, DDR systems); empty when unavailable."""
    try:
        from .hardware import load_presets  # noqa: PLC0415
    except ImportError:
        return []
    try:
        return list(load_presets())
    except Exception as exc:  # a broken presets file must not break the page
        log.warning("hardware presets unavailable: %s", exc)
        return []


def preset_choices() -> list[tuple[str, str]]:
    """The preset menu: ("RTX 4090 (24 GB VRAM, 1008 GB/s)", "RTX 4090"), after a "custom" entry."""
    return [("自訂 Custom", ""), *((p.label, p.name) for p in hardware_presets())]


def preset_by_name(name: str | None) -> Any:
    return next((p for p in hardware_presets() if name and p.name == name), None)


def hardware_note(hardware: dict[str, Any] | None, language: str | None = "zh-TW") -> str:
    """Where the hardware tab's budget came from; never calls the server 本機."""
    zh = _zh(language)
    if not hardware:
        return ("預設 16 GB RAM。在對話中說出你的硬體（例如「一張 RTX 4090」），這裡會跟著改；"
                "也可以手動輸入，或偵測執行本服務的電腦。" if zh else
                "Default 16 GB RAM. State your hardware in the chat (e.g. “one RTX 4090”) and it follows; "
                "or type it in, or detect the computer running this service.")
    label = hardware_label(hardware, language)
    if hardware.get("origin") == "detected":
        return f"執行本服務的電腦：{label}" if zh else f"The computer running this service: {label}"
    return f"依對話中的硬體：{label}" if zh else f"From the conversation: {label}"


# ------------------------------------------------------------------ assembly


def build_ui(assistant: Assistant, settings: Settings, machine: dict[str, Any] | None = None) -> gr.Blocks:
    """Wire the handlers to components.

    Fit is judged against the hardware the conversation states; the server's own
    hardware is read only when someone presses "detect" (`machine` replaces that
    detection in tests). The returned Blocks has its queue configured (bounded, one model
    request at a time) and carries `export_dir`, the only folder `serve` lets the server
    read files from.
    """
    catalog = assistant.catalog
    export_dir = export_folder(settings)
    vendors = sorted({m.vendor for m in catalog.models})
    names = [m.name for m in catalog.models]
    tag_choices = [(f"{task_label(t, 'zh-TW')} {t}", t) for t in sorted(STRENGTH_TAGS)]
    default_memory, budget_kind = DEFAULT_BUDGET["memory_gb"], DEFAULT_BUDGET["kind"]
    choices, default_mode = mode_choices(assistant)

    with gr.Blocks(title="選型助手 · Open-weight LLM picker", analytics_enabled=False) as demo:
        conversation = gr.State(new_conversation())
        gr.Markdown(
            "## 選型助手 · 開放權重語言模型怎麼選\n"
            "依知識庫（評比文章＋模型型錄）回答：授權能不能商用、你的電腦跑不跑得動、哪個適合你的用途。"
            "每個說法都附來源 [n]，點一下就能看原文。",
            elem_id="header",
        )
        with gr.Tabs(elem_id="tabs"):
            # ---------------------------------------------------------- chat
            with gr.Tab("對話 Chat", id="chat", elem_id="tab-chat"):
                with gr.Row(equal_height=False, elem_id="chat-row"):
                    with gr.Column(scale=3, min_width=420, elem_id="chat-main"):
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
                            # The page scrolls to the start of each new answer instead (READ_FROM_START_JS).
                            autoscroll=False,
                        )
                        with gr.Row(elem_id="ask-row"):
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
                        with gr.Row(elem_id="status-row"):
                            clear = gr.Button(UI_TEXT["clear"][0], size="sm", elem_id="clear")
                            status = gr.Markdown("", elem_id="status", elem_classes=["status-line"])
                        with gr.Accordion("試試這些問題 · Try these", open=True, elem_id="examples-box") as examples_box:
                            gr.Examples(examples=[[e] for e in EXAMPLES], inputs=[question], label=None,
                                        examples_per_page=len(EXAMPLES), elem_id="examples")
                    with gr.Column(scale=2, min_width=320, elem_id="chat-side"):
                        with gr.Accordion("⚙ 設定 Settings", open=False, elem_id="settings"):
                            mode = gr.Radio(choices=choices, value=default_mode, label="回答模式 Answer mode", elem_id="mode")
                            language = gr.Radio(choices=LANGUAGES, value="auto", label="語言 Language", elem_id="language")
                            llm_info = gr.Markdown(settings_markdown(assistant), elem_id="llm-status")
                            refresh = gr.Button("重新檢查模型 Refresh", size="sm")
                        cards = gr.HTML(render_cards(None, catalog, None, "zh-TW"), elem_id="cards", js_on_load=None)
                        why_not = gr.HTML(render_exclusions(None, "zh-TW"), elem_id="why-not", js_on_load=None)
                        sources = gr.HTML(render_sources(None, "zh-TW"), elem_id="sources", js_on_load=CITATION_JS)

            # ---------------------------------------------------------- catalog
            with gr.Tab("型錄 Catalog", id="catalog", elem_id="tab-catalog"):
                with gr.Row():
                    commercial = gr.Radio(COMMERCIAL_FILTERS, value="all", label="商用 Commercial use", elem_id="filter-commercial")
                    max_size = gr.Dropdown(SIZE_FILTERS, value=0, label="尺寸上限 Max size（有任一尺寸在此以下）", elem_id="filter-size")
                with gr.Row():
                    tags = gr.Dropdown(tag_choices, multiselect=True, label="強項標籤 Tags（全部符合）", elem_id="filter-tags")
                    vendor = gr.Dropdown(vendors, multiselect=True, label="廠商 Vendor", elem_id="filter-vendor")
                catalog_count = gr.Markdown(f"共 {len(catalog.models)} 個模型（型錄截至 {catalog.as_of.isoformat()}）", elem_id="catalog-count")
                # Filled when the page loads (demo.load below), not in the page config: the
                # table is the config's largest part, and every API client fetches the config.
                table = gr.HTML("", elem_id="catalog-table", js_on_load=CATALOG_JS)
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
                compare_note = gr.Markdown(hardware_note(None), elem_id="compare-hardware")
                with gr.Row():
                    compare_button = gr.Button("比較 Compare", variant="primary", elem_id="compare-button")
                    download = gr.DownloadButton("⬇ 下載 Markdown", visible=False, elem_id="compare-download")
                comparison = gr.HTML(compare_html(catalog, None), elem_id="comparison", js_on_load=None)

            # ---------------------------------------------------------- hardware
            with gr.Tab("硬體 Hardware", id="hardware", elem_id="tab-hardware") as hardware_tab:
                with gr.Row():
                    hw_preset = gr.Dropdown(preset_choices(), value="", label="常見硬體 Presets（GPU、Apple 晶片、DDR 系統）",
                                            elem_id="hw-preset", scale=2)
                    hw_bandwidth = gr.Number(value=None, label="記憶體頻寬 GB/s（空白＝依種類預設）", maximum=20000,
                                             elem_id="hw-bandwidth", scale=1)
                with gr.Row():
                    hw_memory = gr.Number(value=default_memory, label="記憶體 GB（RAM 或 VRAM）", minimum=0.5, maximum=4096, elem_id="hw-memory")
                    hw_kind = gr.Radio(MEMORY_KINDS, value=budget_kind, label="記憶體種類 Memory kind", elem_id="hw-kind")
                with gr.Row():
                    hw_context = gr.Dropdown(CONTEXT_CHOICES, value=4096, label="上下文長度 Context (tokens)", elem_id="hw-context")
                    hw_quant = gr.Dropdown(list(QUANT_BITS), value="Q4_K_M", label="量化 Quantisation", elem_id="hw-quant")
                    hw_only = gr.Checkbox(value=False, label="只顯示放得下的 Only what fits", elem_id="hw-only")
                with gr.Row():
                    hw_button = gr.Button("計算 Calculate", variant="primary", elem_id="hw-button")
                    detect = gr.Button("偵測執行本服務的電腦 Detect the server's hardware", elem_id="hw-detect")
                hw_machine = gr.Markdown(hardware_note(None), elem_id="hw-machine")
                hw_plot = gr.Plot(label="需要的記憶體 vs 可用預算", format="png", elem_id="hw-plot")
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

        def on_ask(message, chat, mode_value, language_value, state):
            # server.guarded_chat: one LLM answer at a time (grounded ones never wait for it).
            def respond_in_conversation(*args):
                return respond(*args, state)

            yield from guarded_chat(respond_in_conversation, model_slot, MODE_LLM, MODE_GROUNDED,
                                    assistant, None, message, chat, mode_value, language_value, status_index=5)

        def collapse_examples():
            return gr.Accordion(open=False)

        def sync_hardware(state, language_value):
            """The compare and hardware tabs follow the conversation's (or detected) hardware."""
            state = state if isinstance(state, dict) else {}
            hardware = state.get("hardware") or state.get("detected")
            if not hardware:
                return tuple(gr.skip() for _ in hardware_outputs)
            note = hardware_note(hardware, language_value)
            memory, kind = hardware["memory_gb"], hardware["kind"]
            preset = preset_by_name(hardware.get("name"))
            bandwidth = hardware.get("bandwidth_gbs") or (preset.bandwidth_gbs if preset else None)
            return memory, kind, memory, kind, note, note, (preset.name if preset else ""), bandwidth

        chat_outputs = [chatbot, question, cards, why_not, sources, status, conversation]
        chat_inputs = [question, chatbot, mode, language, conversation]
        hardware_outputs = [compare_memory, compare_kind, hw_memory, hw_kind, compare_note, hw_machine, hw_preset, hw_bandwidth]
        send.click(on_ask, chat_inputs, chat_outputs, api_name="chat", **chat_event_options(settings)).then(
            sync_hardware, [conversation, language], hardware_outputs, api_visibility="private", queue=False
        ).then(None, None, None, js=READ_FROM_START_JS)
        question.submit(on_ask, chat_inputs, chat_outputs, api_visibility="private", **chat_event_options(settings)).then(
            sync_hardware, [conversation, language], hardware_outputs, api_visibility="private", queue=False
        ).then(None, None, None, js=READ_FROM_START_JS)
        send.click(collapse_examples, None, examples_box, api_visibility="private", queue=False)
        question.submit(collapse_examples, None, examples_box, api_visibility="private", queue=False)
        # A chat request that finds the queue full is routed here (server.friendly_queue_full).
        gr.Button(visible=False, elem_id="busy-route").click(busy_reply, chat_inputs, chat_outputs, **busy_event_options())

        def on_clear(language_value, state):
            *panels, fresh = clear_conversation(language_value)
            if isinstance(state, dict):
                fresh["detected"] = state.get("detected")
            return (*panels, fresh)

        clear.click(on_clear, [language, conversation], chat_outputs, api_visibility="private", queue=False)

        def on_language(value, state):
            lang = "en" if value == "en" else "zh-TW"
            mode_update, _ = mode_choices(assistant, lang)
            groups = state.get("sources") if isinstance(state, dict) else None
            has_answers = bool(groups)
            return (
                gr.update(placeholder=_t("question", lang)),
                gr.update(value=_t("send", lang)),
                gr.update(value=_t("clear", lang)),
                gr.skip() if has_answers else render_cards(None, None, None, lang),
                gr.skip() if has_answers else render_exclusions(None, lang),
                # The sources are kept per answer, so they can be redrawn in the new language.
                render_source_groups(groups or [], lang) if value != "auto" or not has_answers else gr.skip(),
                settings_markdown(assistant, lang),
                gr.update(choices=mode_update),
                *([hardware_note((state or {}).get("hardware") or (state or {}).get("detected"), lang)] * 2),
            )

        language.change(on_language, [language, conversation],
                        [question, send, clear, cards, why_not, sources, llm_info, mode, compare_note, hw_machine],
                        api_visibility="private", queue=False)

        def on_refresh(language_value):
            lang = "en" if language_value == "en" else "zh-TW"
            options, default = mode_choices(assistant, lang)
            return settings_markdown(assistant, lang), gr.update(choices=options, value=default)

        refresh.click(on_refresh, [language], [llm_info, mode], api_visibility="private", queue=False)
        demo.load(on_refresh, [language], [llm_info, mode], api_visibility="private", queue=False)

        def on_filter(commercial_value, size_value, tag_values, vendor_values, language_value):
            lang = "en" if language_value == "en" else "zh-TW"
            models = catalog_models(catalog, commercial_value, float(size_value or 0) or None, tag_values, vendor_values)
            count = (f"符合 {len(models)} / {len(catalog.models)} 個模型（型錄截至 {catalog.as_of.isoformat()}）" if lang != "en"
                     else f"{len(models)} of {len(catalog.models)} models match (catalog as of {catalog.as_of.isoformat()})")
            return render_catalog_table(models, catalog, lang), count

        filters = [commercial, max_size, tags, vendor, language]
        for control in (commercial, max_size, tags, vendor, language):
            control.change(on_filter, filters, [table, catalog_count], api_visibility="private", concurrency_limit=4)
        demo.load(on_filter, filters, [table, catalog_count], api_visibility="private", queue=False)

        def on_pick(language_value, evt: gr.EventData):
            data = getattr(evt, "_data", None)
            name = data.get("model") if isinstance(data, dict) else None
            return render_entry(assistant, model_by_name(catalog, name if isinstance(name, str) else None), language_value)

        table.click(on_pick, [language], [entry], api_visibility="private", concurrency_limit=4)

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

        def on_hardware(memory_value, kind_value, context_value, quant_value, only_value, language_value,
                        preset_value=None, bandwidth_value=None):
            lang = "en" if language_value == "en" else "zh-TW"
            memory_value = float(memory_value or 0)
            if memory_value <= 0:
                raise gr.Error("請輸入大於 0 的記憶體大小（GB）。" if lang != "en" else "Enter a memory size above 0 GB.")
            options = estimate_options(preset_value or None, bandwidth_value)
            rows = hardware_rows(catalog, memory_value, kind_value, int(context_value), quant_value, bool(only_value), lang,
                                 options)
            import pandas as pd  # noqa: PLC0415

            figure = hardware_chart(catalog, memory_value, kind_value, int(context_value), quant_value, lang, options=options)
            return figure, pd.DataFrame(rows, columns=HARDWARE_HEADERS)

        def on_preset(preset_value):
            preset = preset_by_name(preset_value)
            if preset is None:
                return gr.skip(), gr.skip(), None
            return preset.memory_gb, preset.memory_kind, preset.bandwidth_gbs

        hw_inputs = [hw_memory, hw_kind, hw_context, hw_quant, hw_only, language, hw_preset, hw_bandwidth]
        hw_preset.input(on_preset, [hw_preset], [hw_memory, hw_kind, hw_bandwidth], api_visibility="private", queue=False).then(
            on_hardware, hw_inputs, [hw_plot, hw_table], api_visibility="private", concurrency_limit=2
        )
        hw_button.click(on_hardware, hw_inputs, [hw_plot, hw_table], api_name="hardware", concurrency_limit=2)
        hw_only.change(on_hardware, hw_inputs, [hw_plot, hw_table], api_visibility="private", concurrency_limit=2)
        hardware_tab.select(on_hardware, hw_inputs, [hw_plot, hw_table], api_visibility="private", concurrency_limit=2)

        def on_detect(language_value, state):
            memory_value, kind_value, summary = detect_this_machine(language_value, machine)
            state = dict(state) if isinstance(state, dict) else new_conversation()
            state["detected"] = {"memory_gb": memory_value, "kind": kind_value, "origin": "detected"}
            zh = language_value != "en"
            note = f"執行本服務的電腦：{summary}" if zh else f"The computer running this service: {summary}"
            return memory_value, kind_value, memory_value, kind_value, _e(note), _e(note), "", None, state

        detect.click(on_detect, [language, conversation], [*hardware_outputs, conversation], api_visibility="private",
                     queue=False).then(on_hardware, hw_inputs, [hw_plot, hw_table], api_visibility="private", concurrency_limit=2)
        register_api(demo, assistant)  # /ask, /recommend, /estimate, /catalog_entry: API endpoints and MCP tools (api.py)

    configure_queue(demo, settings)
    demo.export_dir = export_dir  # type: ignore[attr-defined]
    return demo
