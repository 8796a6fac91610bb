"""Leaf helpers every tab uses: escaping, inert Markdown, the page language and its labels.

Nothing here imports gradio or the rest of the package, so any module (and the server) can
use it. Every label the page shows is in `TEXT` in both languages: an English page is English
throughout, a Chinese page uses Taiwan wording (記憶體, 顯示卡記憶體, 程式).
"""

from __future__ import annotations

import html
import re
from typing import Any

# ------------------------------------------------------------------ output is inert

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\s*(?:\([^)]*\)|\[[^\]]*\])")
_MD_LINK = re.compile(r"\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+[^)]*)?\)")
_MD_REF_DEF = re.compile(r"^[ \t]{0,3}\[[^\]]+\]:[ \t]*<?(\S*?)>?(?:[ \t].*)?$", re.M)
_SAFE_URL = re.compile(r"^(?:https?://|mailto:|#)", re.I)
_SCRIPT_SCHEME = re.compile(r"(?i)\b((?:java|vb|live)\s*script|data|file)\s*:")
CJK = re.compile(r"[\u3400-\u9fff]")


def sanitize_markdown(text: str) -> str:
    """Markdown that renders inert: no raw HTML, no images, no script or data links.

    Images become their alt text, links keep only http(s)/mailto targets, `<`, `>` and `&`
    are escaped (so no tag or entity trick survives), and a leftover `javascript:` is
    broken so no renderer turns it into a link.
    """
    if not isinstance(text, str):
        text = str(text)
    text = CONTROL.sub("", text)
    text = _MD_IMAGE.sub(lambda m: f"〔圖片未載入：{m.group(1)}〕" if m.group(1).strip() else "〔圖片未載入〕", text)
    text = _MD_LINK.sub(lambda m: m.group(0) if _SAFE_URL.match(m.group(2)) else m.group(1), text)
    text = _MD_REF_DEF.sub(lambda m: m.group(0) if _SAFE_URL.match(m.group(1)) else "", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SCRIPT_SCHEME.sub(lambda m: f"{m.group(1)}&#58;", text)


def esc(value: object) -> str:
    """Escape any value for HTML text or attribute context."""
    return html.escape(CONTROL.sub("", str(value)), quote=True)


def multiline(value: object) -> str:
    return esc(value).replace("\n", "<br>")


def server_wording(text: str) -> str:
    """Say 伺服器 where a message says 本機: the page may be open on another computer,
    and the model and memory it means are the server's."""
    return text.replace("本機模型", "伺服器上的模型").replace("本機", "伺服器")


# ------------------------------------------------------------------ language


def lang(language: str | None) -> str:
    """The page language for a setting or reply language: "en" or "zh-TW" ("auto" -> zh-TW)."""
    return "en" if language == "en" else "zh-TW"


def is_en(language: str | None) -> bool:
    return language == "en"


def zh(language: str | None) -> bool:
    return not is_en(language)


def number(value: float) -> str:
    """2000 -> '2,000'."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


# Every label on the page, (zh-TW, en). Keys are grouped by tab.
TEXT: dict[str, tuple[str, str]] = {
    "title": ("選型助手 · Open-weight LLM picker", "Open-weight LLM picker · 選型助手"),
    "header": (
        "## 選型助手 · 開放權重語言模型怎麼選\n"
        "依知識庫（評比文章＋模型型錄）回答：授權能不能商用、你的電腦跑不跑得動、哪個適合你的用途。"
        "每個說法都附來源 [n]，點一下就能看原文。",
        "## Which open-weight language model should I use?\n"
        "Answers from the knowledge base (a comparison article and a model catalog): whether a licence allows "
        "commercial use, whether your computer can run a model, which one suits your task. "
        "Every claim cites its source [n]; click it to read the passage.",
    ),
    "tab.chat": ("對話", "Chat"),
    "tab.catalog": ("型錄", "Catalog"),
    "tab.compare": ("比較", "Compare"),
    "tab.hardware": ("硬體", "Hardware"),
    # chat
    "question": ("輸入你的問題，例如「我要商用、只有 16GB 筆電，想跑能寫程式的模型」",
                 "Ask, e.g. “commercial use, 16 GB laptop, a model that can code”"),
    "send": ("送出", "Send"),
    "clear": ("清除對話", "Clear conversation"),
    "chat_placeholder": ("**問我任何選型問題**：授權、商用、硬體需求、模型比較…",
                         "**Ask me about choosing a model**: licences, commercial use, hardware, comparisons…"),
    "examples": ("試試這些問題", "Try these"),
    "cards": ("推薦與提到的模型", "Recommended and mentioned models"),
    "why_not": ("為什麼不選", "Why not"),
    "sources": ("引用來源", "Sources"),
    "thinking": ("正在查資料…", "Looking it up…"),
    "empty_question": ("請先輸入問題。", "Please type a question first."),
    "counter": ("{n} / {max} 字", "{n} / {max} characters"),
    "counter_full": ("已達 {max} 字上限，多出的字不會送出。", "Limit of {max} characters reached; anything longer is cut off."),
    "counter_cut": ("貼上的文字超過 {max} 字，只保留了前 {max} 字。", "The pasted text was over {max} characters; only the first {max} were kept."),
    # settings
    "settings": ("⚙ 設定 · Settings / Language", "⚙ Settings · 設定／語言"),
    "mode": ("回答模式", "Answer mode"),
    "language": ("語言 Language", "Language 語言"),
    "refresh": ("重新檢查模型", "Check the model again"),
    "lang.auto": ("自動（跟隨問題）", "Auto (follow the question)"),
    # catalog
    "filter.commercial": ("商用", "Commercial use"),
    "filter.size": ("尺寸上限（有任一尺寸在此以下）", "Max size (any size at or under)"),
    "filter.tags": ("強項（全部符合）", "Strengths (all of)"),
    "filter.vendor": ("廠商", "Vendor"),
    "catalog.count": ("共 {count} 個模型（型錄截至 {as_of}）", "{count} models (catalog as of {as_of})"),
    "catalog.match": ("符合 {count} / {total} 個模型（型錄截至 {as_of}）", "{count} of {total} models match (catalog as of {as_of})"),
    # compare
    "compare.pick": ("選 2–3 個模型", "Pick 2–3 models"),
    "compare.memory": ("記憶體預算 GB", "Memory budget (GB)"),
    "compare.kind": ("記憶體種類", "Memory kind"),
    "compare.button": ("比較", "Compare"),
    "compare.download": ("⬇ 下載 Markdown", "⬇ Download Markdown"),
    # hardware
    "hw.preset": ("常見硬體（顯示卡、Apple 晶片含記憶體版本、DDR 系統）", "Common hardware (GPUs, Apple chips by memory size, DDR systems)"),
    "hw.name": ("或輸入硬體名稱，按 Enter", "Or type the hardware, then Enter"),
    "hw.name_placeholder": ("例如 M3 Max 64GB、兩張 RTX 4090、H200", "e.g. M3 Max 64GB, 2x RTX 4090, H200"),
    "hw.memory": ("記憶體 GB（顯示卡為每張的容量）", "Memory GB (per card for GPUs)"),
    "hw.kind": ("記憶體種類", "Memory kind"),
    "hw.count": ("顯示卡張數", "GPUs"),
    "hw.bandwidth": ("記憶體頻寬 GB/s", "Memory bandwidth GB/s"),
    "hw.bandwidth_placeholder": ("空白＝依種類預設", "blank = default for the kind"),
    "hw.ram": ("系統記憶體 GB（卸載用，選填）", "System RAM GB (for offload, optional)"),
    "hw.ram_placeholder": ("空白＝不考慮卸載", "blank = no offload"),
    "hw.context": ("上下文長度（token）", "Context (tokens)"),
    "hw.quant": ("量化", "Quantisation"),
    "hw.only": ("只顯示跑得動的", "Only what runs"),
    "hw.button": ("計算", "Calculate"),
    "hw.detect": ("偵測執行本服務的電腦", "Detect the server's hardware"),
    "hw.table": ("哪些跑得動（記憶體含 KV 快取與執行負擔；速度是估計值）",
                 "What runs (memory includes the KV cache and runtime overhead; speeds are estimates)"),
    "hw.memory_error": ("請輸入大於 0 的記憶體大小（GB）。", "Enter a memory size above 0 GB."),
    "hw.not_a_number": ("「{text}」不是數字，改用預設值。", "“{text}” is not a number; using the default."),
    "hw.unknown": ("看不懂「{name}」：請從清單選，或寫成「M3 Max 64GB」「兩張 RTX 4090」。",
                   "Could not read “{name}”: pick from the list, or write it like “M3 Max 64GB” or “2x RTX 4090”."),
}


def t(key: str, language: str | None, **slots: Any) -> str:
    """The label `key` in the page language, with `{slots}` filled in."""
    zh_text, en_text = TEXT[key]
    text = en_text if is_en(language) else zh_text
    return text.format(**slots) if slots else text


def panel_title(key: str, language: str | None) -> str:
    return f'<h4 class="panel-title">{esc(t(key, language))}</h4>'


def empty(text: str) -> str:
    return f'<div class="panel-empty">{esc(text)}</div>'
