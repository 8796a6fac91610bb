"""The settings panel: answer mode, language, and the local model's status.

`settings_markdown` and `mode_choices` are plain functions; `build_settings` lays the panel
out (inside the chat tab's side column) and wires its refresh button.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import sanitize_markdown, server_wording, t

if TYPE_CHECKING:
    from ..service import Assistant

log = logging.getLogger(__name__)

MODE_LLM, MODE_GROUNDED = "llm", "grounded"


def language_choices(language: str | None = "zh-TW") -> list[tuple[str, str]]:
    return [(t("lang.auto", language), "auto"), ("繁體中文", "zh-TW"), ("English", "en")]


LANGUAGES = language_choices()


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
            return {"available": False, "model": None, "reason_zh": f"語言模型狀態讀取失敗：{exc}",
                    "reason_en": f"could not read the model status: {exc}"}
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
            suffix = (f"（{'；'.join(extra)}）" if zh else f" ({'; '.join(extra)})") if extra else ""
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


def build_settings(assistant: Assistant) -> dict[str, Any]:
    """The settings accordion (call inside a layout block). Returns its components."""
    import gradio as gr  # noqa: PLC0415

    choices, default_mode = mode_choices(assistant)
    with gr.Accordion(t("settings", "zh-TW"), open=False, elem_id="settings") as box:
        mode = gr.Radio(choices=choices, value=default_mode, label=t("mode", "zh-TW"), elem_id="mode")
        language = gr.Radio(choices=LANGUAGES, value="auto", label=t("language", "zh-TW"), elem_id="language")
        info = gr.Markdown(settings_markdown(assistant), elem_id="llm-status")
        refresh = gr.Button(t("refresh", "zh-TW"), size="sm", elem_id="refresh")

    def on_refresh(language_value: str) -> tuple[Any, Any]:
        options, default = mode_choices(assistant, language_value)
        return settings_markdown(assistant, language_value), gr.update(choices=options, value=default)

    refresh.click(on_refresh, [language], [info, mode], api_visibility="private", queue=False)
    return {"box": box, "mode": mode, "language": language, "info": info, "refresh": refresh, "on_refresh": on_refresh}


def relabel_settings(parts: dict[str, Any], assistant: Assistant, language: str) -> list[Any]:
    """Updates for the settings panel's labels in `language` (order: box, mode, language, info, refresh)."""
    import gradio as gr  # noqa: PLC0415

    options, _ = mode_choices(assistant, language)
    return [
        gr.update(label=t("settings", language)),
        gr.update(choices=options, label=t("mode", language)),
        gr.update(choices=language_choices(language), label=t("language", language)),
        settings_markdown(assistant, language),
        gr.update(value=t("refresh", language)),
    ]


def relabelled_settings(parts: dict[str, Any]) -> list[Any]:
    return [parts["box"], parts["mode"], parts["language"], parts["info"], parts["refresh"]]
