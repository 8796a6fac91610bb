"""The chat tab's side panels and answer text: model cards (with the capability figure and its
source), the "why not" list, the sources, the answer bubble's Markdown and the status line.
Plain functions of a `Reply`; no gradio."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..labels import task_label
from ..messages import say
from .common import empty, esc, is_en, lang, multiline, panel_title, sanitize_markdown, server_wording
from .render import (
    commercial_badge,
    context_text,
    fit_badge,
    hardware_label,
    link_citations,
    machine_hardware,
    params_text,
    render_source_groups,
    separate_lists,
    source_dict,
)

if TYPE_CHECKING:
    from ..compose import Reply
    from ..knowledge import Catalog, Model

_FIGURE_SOURCE = re.compile(r"^(.*\S)\s+\(([^()]*)\)$")


def figure_text(figure: str, language: str | None) -> str:
    """A capability figure with its source: 'LiveCodeBench 61（… model card, 2025-12）' on a Chinese page."""
    match = _FIGURE_SOURCE.match(figure.strip())
    if match and not is_en(language):
        return f"{match.group(1)}（{match.group(2)}）"
    return figure.strip()


def capability_line(rec: Any, language: str | None) -> str:
    """「能力：LiveCodeBench 63.5（Qwen3 tech report, 2025-05）」, the stand-in figure when the task
    has none, or 「能力：沒有測得的數據」 (from the answer templates, so cards and answers agree)."""
    language = lang(language)
    cap = getattr(rec, "capability", None)
    if not cap:
        return say("capability.not_measured", language)
    figure = figure_text(str(cap.get("figure") or ""), language)
    if not figure:
        return say("capability.not_measured", language)
    fallback = cap.get("fallback")
    if fallback:
        figure = say("capability.fallback", language, figure=figure, task=task_label(str(cap.get("task", "")), language),
                     basis=task_label(str(fallback), language))
    return say("capability.figure", language, figure=figure)


def _card(model: Model, variant_name: str | None, total_b: float, active_b: float | None, lines: list[str],
          hardware: dict[str, Any] | None, language: str, index: int | None, fit: Any = None) -> str:
    en = is_en(language)
    number = f"{index}. " if index else ""
    meta = " · ".join(
        [
            esc(model.vendor),
            *([esc(variant_name)] if variant_name and variant_name != model.name else []),
            f"{'params' if en else '參數'} {esc(params_text(total_b, active_b, language))}",
            f"{'context' if en else '上下文'} {esc(context_text(model.context_tokens, language))}",
            esc(model.licence.id),
        ]
    )
    body = "".join(f'<div class="{css}">{multiline(text)}</div>' for css, text in lines if text)
    return (
        f'<div class="rec-card" data-model="{esc(model.name)}">'
        f'<div class="rec-head"><span class="rec-name">{esc(number)}{esc(model.name)}</span>'
        f"{commercial_badge(model, language)}{fit_badge(model, hardware, language, variant_name, fit)}</div>"
        f'<div class="rec-meta">{meta}</div>{body}</div>'
    )


def render_cards(reply: Reply | None, catalog: Catalog | None, hardware: dict[str, Any] | None,
                 language: str | None = None) -> str:
    """Recommendation cards, each with its capability figure and source; for a fact or
    compare answer, cards for the models it names.

    Fit badges judge against `hardware` (the conversation's budget); without one, a hint
    says how to get them.
    """
    language = lang(language or (reply.language if reply else None))
    en = is_en(language)
    title = panel_title("cards", language)
    if reply is None or catalog is None:
        return title + empty("Ask a question; recommended models appear here." if en else "問一個問題，推薦的模型會顯示在這裡。")
    cards = []
    for i, r in enumerate(reply.recommendations, 1):
        lines = [("rec-cap", capability_line(r, language)), ("rec-reason", r.reason)]
        cards.append(_card(r.model, r.variant.name, r.variant.params_total_b, r.variant.params_active_b, lines,
                           hardware, language, i, getattr(r, "fit", None) if hardware else None))
    if not cards:
        for model_id in reply.mentioned[:3]:
            model = catalog.by_id.get(model_id)
            if model is not None:
                summary = model.summary_en if en else model.summary_zh
                cards.append(_card(model, None, model.params_total_b, model.params_active_b, [("rec-reason", summary)],
                                   hardware, language, None))
    if not cards:
        return title + empty("No specific model in this answer." if en else "這個回答沒有推薦特定模型。")
    budget = machine_hardware(hardware)
    if budget is None:
        note = ("Say what hardware you have (e.g. “16 GB laptop”, “one RTX 4090”) and the cards show what fits." if en
                else "說出你的硬體（例如「16GB 筆電」「一張 RTX 4090」），卡片就會標示跑不跑得動。")
    else:
        conversation = budget.get("origin") == "conversation"
        if en:
            note = f"Fit: {hardware_label(budget, language)} ({'from the conversation' if conversation else 'the detected server'})"
        else:
            note = f"跑不跑得動：{hardware_label(budget, language)}（{'依對話中的硬體' if conversation else '依偵測到的伺服器硬體'}）"
    return title + f'<div class="fit-basis">{esc(note)}</div>' + "".join(cards)


def render_exclusions(reply: Reply | None, language: str | None = None) -> str:
    """The "why not" list: models the answer ruled out, each with its reason."""
    language = lang(language or (reply.language if reply else None))
    title = panel_title("why_not", language)
    if reply is None or not reply.excluded:
        return title + empty("Nothing was ruled out." if is_en(language) else "沒有被排除的模型。")
    items = "".join(f"<li>{esc(e.reason)}</li>" for e in reply.excluded)
    return title + f'<ul class="why-not">{items}</ul>'


def render_sources(reply: Reply | None, language: str | None = None) -> str:
    """One answer's cited passages `[n]`; each expands to show its text."""
    language = lang(language or (reply.language if reply else None))
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
        label = (f"語言模型 {name}" if name else "語言模型") if zh else (f"language model {name}" if name else "language model")
        return f"模式：{sanitize_markdown(label)}" if zh else f"Mode: {sanitize_markdown(label)}"
    return f"模式：{reply.mode}" if zh else f"Mode: {reply.mode}"


# ------------------------------------------------------------------ one-time notices


def notify_once(state: dict[str, Any], notice: str | None) -> str:
    """A notice for the status area, shown once per conversation: the Markdown to append to
    the status line the first time `notice` is given, '' afterwards (and for no notice).

    The chat handler calls it with, e.g., the "the local model is too slow to finish in time"
    notice; `state` is the conversation state, which remembers what was shown.
    """
    if not notice or not isinstance(state, dict):
        return ""
    shown = state.setdefault("notified", [])
    if notice in shown:
        return ""
    shown.append(notice)
    return f"\n\n⚠ {sanitize_markdown(server_wording(notice))}"


def slow_model_notice(status: dict[str, Any] | None, language: str | None) -> str | None:
    """The one-time notice when the local model's last answer ran past its deadline
    (`llm_status()["too_slow"]`, with `timeout_s`), else None."""
    if not isinstance(status, dict) or not status.get("too_slow"):
        return None
    seconds = status.get("timeout_s")
    limit = f"{seconds:.0f}" if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) else None
    if is_en(language):
        within = f" within {limit} s" if limit else " in time"
        return f"The local model is too slow on this server to finish an answer{within}; answers come from the knowledge base."
    within = f" {limit} 秒內" if limit else "時限內"
    return f"伺服器上的語言模型太慢，無法在{within}寫完回答；先用知識庫回答。"
