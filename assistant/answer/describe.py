"""Catalog facts as phrases, in the user's language, through the message templates.

Every number comes from the catalog; every opinion is attributed to the article. These
phrases are the building blocks the renderers put into sentences.
"""

from __future__ import annotations

from ..knowledge import Catalog, Model, Variant
from ..labels import (
    architecture_label,
    commercial_label,
    country_label,
    format_context,
    format_params,
    language_label,
    tasks_label,
)
from ..messages import join, say
from .types import Plan


def display_name(model: Model, variant: Variant | None = None) -> str:
    return variant.name if variant is not None else model.name


def conditions(model: Model, language: str) -> str:
    text = model.commercial_conditions if language != "en" else (model.commercial_conditions_en or model.commercial_conditions)
    return text.rstrip("。. ")


def licence_phrase(model: Model, language: str, with_conditions: bool = True) -> str:
    text = say("describe.licence", language, licence=model.licence.name, id=model.licence.id,
               badge=commercial_label(model.commercial_use, language))
    if with_conditions and model.commercial_use != "yes" and model.commercial_conditions:
        text += say("describe.conditions", language, conditions=conditions(model, language))
    return text


def context_phrase(model: Model, language: str) -> str:
    """Native context, and the extended one with its method ("32k token（以 YaRN 可延伸到 128k）")."""
    if not model.context_native:
        return say("label.not_stated", language)
    native = format_context(model.context_native, language)
    if model.context_extended and model.context_extended != model.context_native:
        return say("describe.context_extended", language, native=native, extended=format_context(model.context_extended, language),
                   method=model.context_extended_method or "")
    return say("describe.context", language, native=native)


def active_phrase(model: Model, variant: Variant | None, language: str) -> str:
    target = variant or model
    active = target.params_active_b
    if variant is None and active is None and model.params_active_b and model.params_total_b == (variant or model).params_total_b:
        active = model.params_active_b
    return say("describe.active", language, active=format_params(active)) if active else ""


def size_phrase(model: Model, language: str, variant: Variant | None = None) -> str:
    """"sizes 0.6B–235B (…)" for a series, "8B parameters (MoE, 3B active)" for one size."""
    if variant is None and len(model.sizes) > 1:
        sizes = sorted(model.sizes, key=lambda v: v.params_total_b)
        return say("describe.sizes", language, low=format_params(sizes[0].params_total_b), high=format_params(sizes[-1].params_total_b),
                   names=join([v.name for v in sizes], language))
    target = variant or model.sizes[0]
    text = say("describe.params", language, params=format_params(target.params_total_b))
    active = target.params_active_b or (model.params_active_b if target.params_total_b == model.params_total_b else None)
    if active:
        text += say("describe.active", language, active=format_params(active))
    return text


def architecture_phrase(model: Model, language: str) -> str:
    text = architecture_label(model.architecture, language)
    if model.architecture == "moe" and model.experts:
        text += say("describe.experts", language, experts=model.experts)
    return text


def vendor_phrase(model: Model, catalog: Catalog, language: str) -> str:
    family = catalog.family_by_id[model.family]
    vendor = family.vendor_zh if language != "en" and model.vendor == family.vendor else model.vendor
    return say("describe.vendor", language, vendor=vendor, country=country_label(model.country, language))


def languages_phrase(model: Model, language: str) -> str:
    codes = [c for c in model.languages.codes if c != "multi"]
    count = model.languages.count
    if count and codes:
        return say("describe.languages_count_list", language, count=count, names=join([language_label(c, language) for c in codes[:8]], language))
    if count:
        return say("describe.languages_count", language, count=count)
    if codes:
        return say("describe.languages_list", language, names=join([language_label(c, language) for c in codes], language))
    return say("describe.languages_multi", language)


def modalities_phrase(model: Model, language: str, variant: Variant | None = None) -> str:
    mods = (variant.modalities if variant and variant.modalities else None) or model.modalities
    return join([say(f"label.modality.{m}", language) if _has_modality_label(m) else m for m in mods], language)


def _has_modality_label(name: str) -> bool:
    return name in ("text", "image", "audio", "video", "speech", "vision")


def verdict_sentence(model: Model, language: str, cite: str = "") -> str:
    reason = model.verdict_reason if language != "en" else (model.verdict_reason_en or model.verdict_reason)
    return say("describe.verdict", language, name=model.name, reason=reason.rstrip("。."), cite=cite)


def summary(model: Model, language: str) -> str:
    return model.summary_zh if language != "en" else model.summary_en


def constraint_summary(plan: Plan, lang: str) -> str:
    """The request in a few words: 「可商用、16GB RAM、寫程式」."""
    c = plan.constraints
    parts: list[str] = []
    if c.commercial_required:
        parts.append(say("summary.commercial", lang))
    if c.noncommercial_ok:
        parts.append(say("summary.noncommercial_ok", lang))
    if c.licence_ids:
        parts.append(say("summary.licence", lang, licences="/".join(c.licence_ids)))
    if c.open_source_only:
        parts.append(say("summary.open_source", lang))
    if c.memory_gb is not None:
        parts.append(say("summary.memory", lang, memory=f"{c.memory_gb:g}", kind=say(f"label.memory.{c.memory_kind or 'ram'}", lang)))
    if c.cpu_only:
        parts.append(say("summary.cpu_only", lang))
    if c.max_params_b is not None:
        parts.append(f"≤ {format_params(c.max_params_b)}")
    if c.min_params_b is not None:
        parts.append(f"≥ {format_params(c.min_params_b)}")
    if c.min_context_tokens:
        parts.append(say("summary.context", lang, context=format_context(c.min_context_tokens, lang)))
    if c.longest_context:
        parts.append(say("summary.longest_context", lang))
    if c.released_after:
        parts.append(say("summary.released_after", lang, year=c.released_after))
    tasks = [t for t in c.tasks if t not in ("chinese",)]
    if tasks:
        parts.append(tasks_label(tasks, lang))
    if c.traditional:
        parts.append(say("summary.traditional", lang))
    elif c.languages:
        parts.append(say("summary.languages", lang, languages=join([language_label(x, lang) for x in c.languages], lang)))
    if c.avoid_countries:
        parts.append(say("summary.avoid", lang, what=join([country_label(x, lang) for x in c.avoid_countries], lang)))
    if c.avoid_families:
        parts.append(say("summary.avoid", lang, what=", ".join(c.avoid_families)))
    return say("list.summary_joiner", lang).join(parts)
