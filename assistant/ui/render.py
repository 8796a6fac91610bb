"""Rendering shared by the tabs, with no gradio: citation links, list spacing, the sources
panel, the conversation's hardware, fit on that hardware (the answer engine's placements),
badges and the catalog facts every tab shows the same way.

Everything returned as HTML is built from escaped text (`esc`); Markdown goes through
`sanitize_markdown` before these helpers add their own, fixed, links.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..labels import commercial_label, format_context, format_params, memory_kind_label, task_label
from ..messages import say
from .common import esc, is_en, lang

if TYPE_CHECKING:
    from ..hardware.fit import FitResult
    from ..knowledge import Model

# ------------------------------------------------------------------ citations

_CITATION = re.compile(r"\[(\d{1,3})\](?![(\[:])")
_CITATION_LINK = re.compile(r"\[\\\[(\d{1,3})\\\]\]\(#src-a\d+-\d+\)")


def source_anchor(answer_no: int, n: int | None = None) -> str:
    """The element id of answer `answer_no`'s source group, or of its source `[n]`."""
    return f"src-a{answer_no}" if n is None else f"src-a{answer_no}-{n}"


def link_citations(markdown: str, answer_no: int, count: int) -> str:
    """Turn `[n]` (1 ≤ n ≤ count) into a link to that answer's source `n` in the panel.

    The link target is a fragment on this page only; the page script opens the passage.
    """
    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if 1 <= n <= count:
            return f"[\\[{n}\\]](#{source_anchor(answer_no, n)})"
        return match.group(0)

    return _CITATION.sub(link, markdown)


def unlink_citations(markdown: str) -> str:
    """The answer text as the conversation history needs it: `[n]` without link syntax."""
    return _CITATION_LINK.sub(r"[\1]", markdown)


# ------------------------------------------------------------------ Markdown lists

_LIST_ITEM = re.compile(r"^[ \t]{0,3}(?:[-*+]|\d{1,3}[.)])[ \t]+\S")
_BLOCK_START = re.compile(r"^[ \t]{0,3}(?:#{1,6}\s|>|```|~~~|\|)")


def separate_lists(markdown: str) -> str:
    """Put a blank line between a list and the paragraph after it.

    Markdown treats an unindented line right after a list item as a *lazy continuation*
    of that item, so 「原文認為…」 after a numbered list would be drawn inside item 3.
    """
    out: list[str] = []
    in_list = False
    fence = False
    for line in markdown.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        if fence:
            in_list = False
        elif _LIST_ITEM.match(line):
            in_list = True
        elif not line.strip():
            in_list = False
        elif in_list and not line.startswith((" ", "\t")):
            out.append("")
            in_list = False
        elif _BLOCK_START.match(line):
            in_list = False
        out.append(line)
    return "\n".join(out)


# ------------------------------------------------------------------ sources

SOURCE_KIND = {
    "zh-TW": {"article": "原文", "catalog": "型錄", "user": "使用者文件"},
    "en": {"article": "article", "catalog": "catalog", "user": "your document"},
}
_TITLE_PREFIX = re.compile(r"^(?:型錄|原文)・?")


def source_dict(passage: Any) -> dict[str, str]:
    """The fields of a retrieved passage the page keeps per answer (plain, JSON-ready)."""
    return {
        "id": str(getattr(passage, "id", "")),
        "source": str(getattr(passage, "source", "")),
        "title": str(getattr(passage, "title", "")),
        "text": str(getattr(passage, "text", "")),
    }


def source_title(title: str, source: str, language: str | None) -> str:
    """A passage title without the 型錄・/原文・ prefix, in English for English pages."""
    text = _TITLE_PREFIX.sub("", title).strip()
    if is_en(language):
        text = re.sub(r"^閉源模型\s*", "closed model ", text)
        text = re.sub(r"\s*家族$", " family", text)
        if source == "article":
            text = f"{text} (Chinese article)" if text else "Chinese article"
    return text or SOURCE_KIND[lang(language)].get(source, source)


def source_text(text: str, source: str, language: str | None) -> str:
    """A passage as a reader needs it: a catalog card in the page's language only.

    Catalog cards carry a zh-TW fact sheet plus one `EN: …` line; an English page shows
    the English line, a Chinese page the rest. Doubled full stops are collapsed.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if source == "catalog":
        english = [line[4:].strip() for line in lines if line.startswith("EN: ")]
        if is_en(language) and english:
            lines = english
        else:
            lines = [line for line in lines if not line.startswith(("EN: ", "別名："))]
    return re.sub(r"。{2,}", "。", "\n".join(lines))


def render_source_groups(groups: list[list[dict[str, str]]], language: str | None) -> str:
    """Every answer's sources, newest first; only the newest group starts open.

    Each source has the id `src-a{answer}-{n}`, the target of `[n]` in that answer.
    """
    en = is_en(language)
    heading = f'<h4 class="panel-title">{"Sources" if en else "引用來源"}</h4>'
    if not any(groups):
        empty = "Passages the answer cites are listed here." if en else "回答引用的段落會列在這裡。"
        return f'{heading}<div class="panel-empty">{empty}</div>'
    kinds = SOURCE_KIND[lang(language)]
    parts = []
    latest = len(groups)
    for answer_no in range(latest, 0, -1):
        sources = groups[answer_no - 1]
        if not sources:
            continue
        items = []
        for n, s in enumerate(sources, 1):
            kind = kinds.get(s.get("source", ""), s.get("source", ""))
            items.append(
                f'<details class="source" id="{source_anchor(answer_no, n)}" data-source-id="{esc(s.get("id", ""))}">'
                f'<summary>[{n}] {esc(source_title(s.get("title", ""), s.get("source", ""), language))}'
                f'<span class="src-kind">{esc(kind)}</span></summary>'
                f'<div class="src-text">{esc(source_text(s.get("text", ""), s.get("source", ""), language))}</div></details>'
            )
        label = f"Answer {answer_no}: {len(sources)} sources" if en else f"第 {answer_no} 則回答的來源（{len(sources)}）"
        is_open = " open" if answer_no == latest else ""
        parts.append(
            f'<details class="src-group" id="{source_anchor(answer_no)}" data-answer="{answer_no}"{is_open}>'
            f'<summary class="src-group-title">{esc(label)}</summary>{"".join(items)}</details>'
        )
    return f'{heading}<div class="src">{"".join(parts)}</div>'


# ------------------------------------------------------------------ hardware in the conversation

KINDS = ("ram", "vram", "unified")


def _field(source: Any, name: str) -> Any:
    if source is None:
        return None
    if isinstance(source, dict):
        return source.get(name)
    return getattr(source, name, None)


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def reply_hardware(reply: Any, previous: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The memory budget the conversation states: {memory_gb (all cards), kind, origin, name?,
    gpu_count?, bandwidth_gbs?, ram_gb?}, or `previous` when the reply states none.

    Read from the reply's plan when it has one, else its constraints (the planner keeps
    them across turns).
    """
    plan = getattr(reply, "plan", None)
    for source in (plan, _field(plan, "constraints"), getattr(reply, "constraints", None)):
        memory = _field(source, "memory_gb")
        if not _positive(memory):
            continue
        kind = _field(source, "memory_kind")
        hardware: dict[str, Any] = {"memory_gb": float(memory), "kind": kind if kind in KINDS else "ram",
                                    "origin": "conversation"}
        name = _field(source, "hardware_name")
        if isinstance(name, str) and name:
            hardware["name"] = name
        count = _field(source, "gpu_count")
        if isinstance(count, int) and not isinstance(count, bool) and count > 1:
            hardware["gpu_count"] = count
        for key in ("bandwidth_gbs", "ram_gb"):
            value = _field(source, key)
            if _positive(value):
                hardware[key] = float(value)
        return hardware
    return previous


def machine_hardware(machine: dict[str, Any] | None, origin: str = "detected") -> dict[str, Any] | None:
    """A budget from a budget dict or a detected machine (`detect_machine()`): NVIDIA VRAM when
    present, else RAM; None when it has no memory."""
    machine = machine or {}
    if "memory_gb" in machine:
        memory = machine.get("memory_gb")
        if _positive(memory):
            return {**machine, "memory_gb": float(memory), "kind": machine.get("kind") or "ram",
                    "origin": machine.get("origin", origin)}
        return None
    vram = machine.get("vram_gb")
    if _positive(vram):
        return {"memory_gb": float(vram), "kind": "vram", "origin": origin}
    ram = machine.get("ram_gb")
    if _positive(ram):
        return {"memory_gb": float(ram), "kind": "ram", "origin": origin}
    return None


def hardware_label(hardware: dict[str, Any] | None, language: str | None) -> str:
    """'16 GB RAM', '24 GB VRAM', '36 GB 統一記憶體', 'RTX 4090（24 GB VRAM）'."""
    if not hardware:
        return ""
    kind = hardware.get("kind", "ram")
    short = {"ram": "RAM", "vram": "VRAM"}.get(kind) or memory_kind_label(kind, lang(language))
    memory = f"{hardware['memory_gb']:g} GB {short}"
    name = hardware.get("name")
    if not name:
        return memory
    count = hardware.get("gpu_count")
    name = f"{count}× {name}" if isinstance(count, int) and count > 1 else name
    return f"{name} ({memory})" if is_en(language) else f"{name}（{memory}）"


def budget_constraints(hardware: dict[str, Any]) -> Any:
    """The hardware as the answer engine's `Constraints`, so fit here is fit in the answers."""
    from ..constraints import Constraints  # noqa: PLC0415

    return Constraints(memory_gb=float(hardware["memory_gb"]), memory_kind=hardware.get("kind") or "ram",
                       gpu_count=hardware.get("gpu_count"), hardware_name=hardware.get("name"),
                       bandwidth_gbs=hardware.get("bandwidth_gbs"), ram_gb=hardware.get("ram_gb"))


def best_fit(model: Model, hardware: dict[str, Any] | None, variant_name: str | None = None) -> FitResult | None:
    """The largest size of `model` (or `variant_name`) that runs on `hardware` at the best
    quantisation that fits comfortably (the engine's `fitting.best_fit`), else None."""
    from ..answer import fitting  # noqa: PLC0415

    budget = machine_hardware(hardware)
    if budget is None:
        return None
    constraints = budget_constraints(budget)
    sizes = [v for v in model.sizes if not variant_name or v.name == variant_name] or list(model.sizes)
    for variant in sorted(sizes, key=lambda v: -v.params_total_b):
        fit = fitting.best_fit(model, variant, constraints)
        if fit is not None:
            return fit
    return None


def budget_rule(fit: FitResult | None, language: str | None) -> str:
    """The usable-memory rule a fit was judged by, in the engine's words (「假設：…」)."""
    if fit is None:
        return ""
    for assumption in fit.assumptions:
        if assumption.id.startswith("budget_"):
            try:
                slots = {k: (f"{v:g}" if isinstance(v, float) else v) for k, v in assumption.slots.items()}
                return say(f"fit.rule.{assumption.id}", lang(language), **slots)
            except (KeyError, ValueError):
                return ""
    return ""


def placement_label(placement: str, language: str | None) -> str:
    """放得下／很緊但放得下／要放寬系統上限／要部分卸載／要專家卸載／放不下 (or English)."""
    return say(f"fit.placement_word.{placement}", lang(language))


# ------------------------------------------------------------------ badges and facts

VERDICT_TEXT = {
    "zh-TW": {"recommended": "推薦", "neutral": "中立", "not-recommended": "不推薦"},
    "en": {"recommended": "recommended", "neutral": "neutral", "not-recommended": "not recommended"},
}
ARCH_TEXT = {"dense": "dense", "moe": "MoE", "hybrid": "hybrid", "ssm": "SSM"}


def commercial_badge(model: Model, language: str | None = "zh-TW") -> str:
    label = {} if is_en(language) else {"conditional": "有條件"}
    text = label.get(model.commercial_use) or commercial_label(model.commercial_use, lang(language))
    title = model.commercial_conditions or model.licence.name
    return f'<span class="badge badge-{esc(model.commercial_use)}" title="{esc(title)}">{esc(text)}</span>'


def fit_text(fit: FitResult, language: str | None) -> str:
    """'Qwen3-8B（Q8_0 約 9.9GB，約 45 token/s，很緊但放得下）' style summary of one fit."""
    speed = fit.tokens_per_s
    if is_en(language):
        parts = [f"{fit.quant}, ~{fit.required_gb:.1f} GB"]
        if speed:
            parts.append(f"~{speed:g} tok/s")
        if fit.placement != "fits":
            parts.append(placement_label(fit.placement, language))
        return f"{fit.variant} ({', '.join(parts)})"
    parts = [f"{fit.quant} 約 {fit.required_gb:.1f}GB"]
    if speed:
        parts.append(f"約 {speed:g} token/s")
    if fit.placement != "fits":
        parts.append(placement_label(fit.placement, language))
    return f"{fit.variant}（{'，'.join(parts)}）"


def fit_badge(model: Model, hardware: dict[str, Any] | None, language: str | None = "zh-TW",
              variant_name: str | None = None, fit: FitResult | None = None) -> str:
    """A "runs on 16 GB RAM?" badge for the hardware in the conversation (best quant that fits).

    `hardware` is a budget `{memory_gb, kind, …}` (from the conversation or an explicit
    "detect" click) or a `detect_machine()` dict; without one there is no badge, because
    the server's memory says nothing about the reader's computer. `fit` is the answer's
    own fit for this recommendation, when it has one.
    """
    budget = machine_hardware(hardware)
    if budget is None:
        return ""
    fit = fit or best_fit(model, budget, variant_name)
    where = hardware_label(budget, language)
    if fit is None or not fit.runs:
        text = f"won't fit {where}" if is_en(language) else f"{where} 放不下"
        return f'<span class="badge badge-nofit">✗ {esc(text)}</span>'
    text = f"fits {where}: {fit_text(fit, language)}" if is_en(language) else f"{where} 可跑 {fit_text(fit, language)}"
    return f'<span class="badge badge-fit" title="{esc(budget_rule(fit, language))}">✓ {esc(text)}</span>'


def params_text(total_b: float, active_b: float | None, language: str | None) -> str:
    text = format_params(total_b)
    if active_b and active_b != total_b:
        text += f" ({format_params(active_b)} active)" if is_en(language) else f"（啟動 {format_params(active_b)}）"
    return text


def context_text(tokens: int | None, language: str | None) -> str:
    return format_context(tokens, lang(language)) if tokens else ("not stated" if is_en(language) else "未載明")


def verdict_text(model: Model, language: str | None) -> str:
    if not is_en(language):
        return f"{VERDICT_TEXT['zh-TW'][model.verdict]}：{model.verdict_reason}"
    return f"{VERDICT_TEXT['en'][model.verdict]}: {model.verdict_reason_en or '(the article’s reason is in Chinese only)'}"


def weaknesses_text(model: Model, language: str | None) -> str:
    """The catalog's weaknesses are zh-TW phrases; an English page says so instead of pasting them."""
    if not model.weaknesses:
        return "—"
    if not is_en(language):
        return "；".join(model.weaknesses)
    return f"{len(model.weaknesses)} listed in the Chinese catalog only (switch the language to 繁體中文 to read them)"


def commercial_text(model: Model, language: str | None) -> str:
    badge = commercial_label(model.commercial_use, lang(language))
    if not is_en(language):
        return badge + (f"：{model.commercial_conditions}" if model.commercial_conditions else "")
    conditions = model.commercial_conditions_en or ""
    if model.commercial_conditions and not conditions:
        conditions = "conditions in the licence (Chinese summary only)"
    return badge + (f": {conditions}" if conditions else "")


def strengths_text(model: Model, language: str | None) -> str:
    if is_en(language):
        return ", ".join(model.strengths)
    return "、".join(task_label(t, "zh-TW") for t in model.strengths)


def size_range(model: Model) -> str:
    """'0.6B–235B' for a series, '14.7B' for one size."""
    sizes = sorted(v.params_total_b for v in model.sizes)
    if len(sizes) == 1 or sizes[0] == sizes[-1]:
        return format_params(sizes[0])
    return f"{format_params(sizes[0])}–{format_params(sizes[-1])}"
