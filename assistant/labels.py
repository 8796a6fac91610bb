"""Display labels for catalog facts, in the user's language.

A leaf for every module that shows a fact: numbers formatted one way (`format_params`,
`format_context`), and labels for commercial use, architecture, countries, tasks, languages
and memory kinds, taken from the vocabulary (names) and the message templates (wording).
"""

from __future__ import annotations

from .knowledge import Model, Variant
from .messages import join, say
from .vocabulary import vocabulary


def format_params(billions: float) -> str:
    """14.7 -> '14.7B', 0.135 -> '135M', 1000 -> '1T'."""
    if billions >= 1000:
        return f"{billions / 1000:g}T"
    if billions < 1:
        return f"{round(billions * 1000, 1):g}M"
    return f"{round(billions, 2):g}B"


def format_context(tokens: int | None, language: str = "zh-TW") -> str:
    """131072 -> '128k', 1048576 -> '1M', 32000 -> '32k'."""
    if not tokens:
        return say("label.not_stated", language)
    if tokens >= 1_000_000:
        millions = tokens / 1_048_576 if tokens % 1_048_576 == 0 else tokens / 1_000_000
        return f"{round(millions, 1):g}M"
    return f"{round(tokens / 1024)}k" if tokens % 1000 else f"{tokens // 1000}k"


def commercial_label(value: str, language: str) -> str:
    """可商用／有條件商用／不可商用 ("commercial OK" …)."""
    return say(f"label.commercial.{value}", language)


def architecture_label(value: str, language: str) -> str:
    return say(f"label.architecture.{value}", language)


def memory_kind_label(kind: str | None, language: str) -> str:
    return say(f"label.memory.{kind or 'ram'}", language)


def country_label(code: str, language: str) -> str:
    term = vocabulary().term("countries", code)
    return term.label(language) if term else code


def task_label(task: str, language: str) -> str:
    term = vocabulary().term("tasks", task)
    if term:
        return term.label(language)
    extra = vocabulary().table("tasks.capability_labels").get(task)
    return (extra.get("en") if language == "en" else extra.get("zh")) if extra else task


def tasks_label(tasks: list[str], language: str) -> str:
    return join([task_label(t, language) for t in tasks], language)


def language_label(code: str, language: str) -> str:
    term = vocabulary().term("languages", code)
    return term.label(language) if term else code


def device_label(device: str, language: str) -> str:
    term = vocabulary().term("devices", device)
    return term.label(language) if term else device


def params_text(model: Model, variant: Variant | None = None) -> str:
    """'8B', or '30B (3B active)' style numbers without words: total, with active for MoE."""
    target = variant or model
    total = format_params(target.params_total_b)
    active = target.params_active_b
    return f"{total}/{format_params(active)}" if active else total


def licence_name(model: Model, language: str) -> str:
    return say("label.licence", language, name=model.licence.name, id=model.licence.id)
