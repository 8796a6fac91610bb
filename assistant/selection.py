"""The grounded selection engine: hard filters, ranking, and "why not".

`check_model` names the first hard constraint a model breaks (commercial use, licence,
memory, size, context, vendor or country avoidance, vision when asked); `_rank_score`
orders the models that pass. `assistant.answer.recommend` builds shortlists on these, so
no recommendation breaks a stated hard constraint. Everything it says comes from catalog
fields.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .constraints import Constraints
from .hardware import FitEstimate, best_variant, estimate, fits_any_quant
from .index import format_context, format_params
from .knowledge import Catalog, Model, Variant

DEFAULT_CONTEXT = 4096

COMMERCIAL_BADGE = {
    "zh-TW": {"yes": "可商用", "conditional": "有條件商用", "no": "不可商用"},
    "en": {"yes": "commercial OK", "conditional": "commercial with conditions", "no": "non-commercial"},
}
TASK_ZH = {
    "coding": "寫程式",
    "reasoning": "推理",
    "vision": "看圖（多模態）",
    "long-context": "長文本",
    "multilingual": "多語言",
    "chinese": "中文",
    "edge": "邊緣裝置",
    "tool-use": "工具使用／代理人",
    "low-refusal": "少拒答",
    "uncensored-history": "政治歷史議題不迴避",
    "general": "通用",
    "efficiency": "推論效率",
    "fine-tuning-base": "適合微調",
    "rag": "RAG／檢索",
    "speech": "語音",
    "math": "數學",
}
COUNTRY_ZH = {"CN": "中國", "US": "美國", "FR": "法國", "CA": "加拿大", "AE": "阿聯酋", "TW": "台灣"}
_VERDICT_SCORE = {"recommended": 2.0, "neutral": 0.0, "not-recommended": -4.0}
_OPENNESS_SCORE = {"yes": 1.0, "conditional": 0.3, "no": -0.5}


@dataclass
class Recommendation:
    model: Model
    variant: Variant
    score: float
    reason: str
    fit: FitEstimate | None = None
    matched_tasks: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.model.id,
            "name": self.model.name,
            "variant": self.variant.name,
            "reason": self.reason,
            "fit": self.fit.to_dict() if self.fit else None,
            "vendor": self.model.vendor,
            "params_total_b": self.variant.params_total_b,
            "params_active_b": self.variant.params_active_b,
            "context_tokens": self.model.context_tokens,
            "licence": self.model.licence.id,
            "commercial_use": self.model.commercial_use,
            "verdict": self.model.verdict,
        }


@dataclass
class Exclusion:
    model: Model
    reason: str
    constraint: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.model.id, "name": self.model.name, "reason": self.reason, "constraint": self.constraint}


def takes_images(model: Model, variant: Variant | None = None) -> bool:
    modalities = (variant.modalities if variant and variant.modalities else None) or model.modalities
    return any(m in ("image", "vision", "video") for m in modalities)


def _sizes_within(model: Model, c: Constraints) -> list[Variant]:
    sizes = model.sizes
    if "vision" in c.tasks:
        sizes = [v for v in sizes if takes_images(model, v)]
    if c.max_params_b is not None:
        sizes = [v for v in sizes if v.params_total_b <= c.max_params_b * 1.05]
    if c.min_params_b is not None:
        sizes = [v for v in sizes if v.params_total_b >= c.min_params_b * 0.95]
    return sizes


_FIT_CACHE: dict[tuple, FitEstimate | None] = {}
_FIT_CACHE_SIZE = 4096


def _fit_for(model: Model, sizes: list[Variant], c: Constraints) -> FitEstimate | None:
    """Best-fitting size under the memory budget (quant from the question or the best that fits).

    Memoised on everything the estimate reads: the filter and the ranking ask the same
    question for every model, and a web server asks it again for every user."""
    assert c.memory_gb is not None
    key = (
        model.id, model.architecture,
        tuple((v.name, v.params_total_b, v.params_active_b, v.n_layers, v.n_kv_heads, v.head_dim) for v in sizes),
        c.memory_gb, c.memory_kind, c.quant, c.min_context_tokens, c.gpu_count, c.hardware_name, c.bandwidth_gbs, c.ram_gb,
    )
    if key in _FIT_CACHE:
        return _FIT_CACHE[key]
    if len(_FIT_CACHE) >= _FIT_CACHE_SIZE:
        _FIT_CACHE.clear()
    _FIT_CACHE[key] = result = _fit_uncached(model, sizes, c)
    return result


def _fit_uncached(model: Model, sizes: list[Variant], c: Constraints) -> FitEstimate | None:
    assert c.memory_gb is not None
    kind = c.memory_kind or "ram"
    context = max(c.min_context_tokens or DEFAULT_CONTEXT, DEFAULT_CONTEXT) if c.min_context_tokens and c.min_context_tokens <= 32768 else DEFAULT_CONTEXT
    restricted = model.model_copy(update={"variants": sizes})
    hardware = {
        "gpu_count": c.gpu_count or 1,
        "hardware_name": c.hardware_name,
        "bandwidth_gb_s": None if c.hardware_name else c.bandwidth_gbs,
        "ram_gb": c.ram_gb if kind == "vram" else None,
    }
    if c.quant:
        return best_variant(restricted, c.memory_gb, c.quant, context, kind, **hardware)
    return fits_any_quant(restricted, c.memory_gb, context, kind, **hardware)


def check_model(
    model: Model, c: Constraints, lang: str = "zh-TW", catalog: Catalog | None = None
) -> tuple[str, str] | None:
    """Return (constraint, reason) for the first hard constraint the model breaks, else None."""
    zh = lang != "en"
    size = format_params(model.params_total_b)
    if model.status != "released":
        return ("released", f"{model.name}：尚未正式釋出（{model.status}）" if zh else f"{model.name}: not released yet ({model.status})")
    if model.family in c.avoid_families:
        return ("vendor", f"{model.name}：你要求避開 {model.vendor}" if zh else f"{model.name}: you asked to avoid {model.vendor}")
    if model.country in c.avoid_countries:
        country = COUNTRY_ZH.get(model.country, model.country)
        return ("country", f"{model.name}：{model.vendor} 是{country}公司" if zh else f"{model.name}: {model.vendor} is based in {model.country}")
    base = catalog.by_id.get(model.base_model or "") if catalog else None
    if base is not None and base.country in c.avoid_countries:
        # A derivative carries its base model's origin (R1-1776 is DeepSeek-R1 underneath).
        country = COUNTRY_ZH.get(base.country, base.country)
        return ("country", f"{model.name}：以{country}公司的 {base.name} 為基礎" if zh else f"{model.name}: built on {base.name} from {base.country}")
    if c.commercial_required and model.commercial_use == "no":
        return ("commercial", f"{model.name}：{model.licence.name} 不可商用" if zh else f"{model.name}: {model.licence.name} forbids commercial use")
    if c.licence_ids and model.licence.id not in c.licence_ids:
        want = "/".join(c.licence_ids)
        return ("licence", f"{model.name}：授權是 {model.licence.id}，不是 {want}" if zh else f"{model.name}: licence is {model.licence.id}, not {want}")
    if c.open_source_only and not model.licence.open_source:
        return ("licence", f"{model.name}：{model.licence.name} 不是真開源授權" if zh else f"{model.name}: {model.licence.name} is not an OSI-style open licence")
    if "vision" in c.tasks and not any(takes_images(model, v) for v in model.sizes):
        return ("vision", f"{model.name}：不支援看圖" if zh else f"{model.name}: no image input")
    sizes = _sizes_within(model, c)
    if not sizes:
        bound = []
        if c.max_params_b is not None:
            bound.append(f"≤ {format_params(c.max_params_b)}")
        if c.min_params_b is not None:
            bound.append(f"≥ {format_params(c.min_params_b)}")
        return ("size", f"{model.name}：約 {size} 參數，不在 {' '.join(bound)} 範圍" if zh else f"{model.name}: about {size} parameters, outside {' '.join(bound)}")
    if c.min_context_tokens and (model.context_max or 0) < c.min_context_tokens:
        have = format_context(model.context_max)
        need = format_context(c.min_context_tokens)
        return ("context", f"{model.name}：上下文 {have}，不到 {need}" if zh else f"{model.name}: context {have}, below {need}")
    if c.memory_gb is not None and _fit_for(model, sizes, c) is None:
        smallest = min(sizes, key=lambda v: v.params_total_b)
        small = format_params(smallest.params_total_b)
        mem = f"{c.memory_gb:g}GB"
        if zh:
            what = f"約 {size} 參數" if len(model.sizes) == 1 else f"最小也有 {small}"
            return ("memory", f"{model.name}：{what}，{mem} 放不下")
        what = f"about {size} parameters" if len(model.sizes) == 1 else f"smallest size is {small}"
        return ("memory", f"{model.name}: {what}; does not fit {mem}")
    return None


def _task_score(model: Model, tasks: list[str]) -> tuple[float, list[str]]:
    matched = [t for t in tasks if t in model.strengths]
    score = 4.5 * len(matched)
    if tasks and not matched:
        score -= 1.0
    return score, matched


SPECIALIST_TAGS = {"vision", "coding", "speech", "math"}


def _rank_score(model: Model, variant: Variant, c: Constraints) -> tuple[float, list[str]]:
    score, matched = _task_score(model, c.tasks)
    primary = model.strengths[0] if model.strengths else ""
    if primary in c.tasks:
        score += 1.0  # a specialist for exactly this task
    elif primary in SPECIALIST_TAGS:
        score -= 1.5  # a specialist for something else
    score += _VERDICT_SCORE[model.verdict]
    score += _OPENNESS_SCORE[model.commercial_use]
    if model.family in c.prefer_families or model.family in c.mentioned_families:
        score += 2.0
    if model.kind == "derivative" and not matched:
        score -= 1.0
    if c.memory_gb is not None or c.max_params_b is not None:
        # Within a budget, the bigger model that still fits is usually the more capable one.
        score += 0.6 * math.log10(max(variant.params_total_b, 0.1) * 10)
    elif c.device in ("laptop", "phone", "edge"):
        score += 1.0 if "edge" in model.strengths or "efficiency" in model.strengths else 0.0
    if "chinese" in c.tasks and "簡體" in model.languages.chinese_note:
        score -= 1.0
    if {"low-refusal", "uncensored-history"} & set(c.tasks) and any(
        word in w for w in model.weaknesses for word in ("拒答", "擋過頭", "屏蔽", "迴避", "回避")
    ):
        score -= 3.0
    return score, matched


def _reason(model: Model, variant: Variant, matched: list[str], fit: FitEstimate | None, lang: str, as_of: str) -> str:
    zh = lang != "en"
    size = format_params(variant.params_total_b)
    label = variant.name if size.lower() in variant.name.lower().replace(" ", "") else f"{variant.name} {size}"
    active = f"（每次啟動 {format_params(variant.params_active_b)}）" if variant.params_active_b and zh else (
        f" ({format_params(variant.params_active_b)} active)" if variant.params_active_b else "")
    badge = COMMERCIAL_BADGE["zh-TW" if zh else "en"][model.commercial_use]
    if zh:
        parts = [f"{label}{active}", f"{model.licence.id}（{badge}）"]
        if matched:
            parts.append("強項：" + "、".join(TASK_ZH.get(t, t) for t in matched))
        if fit:
            speed = f"，約 {fit.tokens_per_s:g} token/s" if fit.tokens_per_s else ""
            parts.append(f"{fit.quant} 約需 {fit.required_gb:.1f}GB{speed}")
        if model.verdict == "recommended":
            parts.append("原文推薦")
        return "；".join(parts)
    parts = [f"{label}{active}", f"{model.licence.id} ({badge})"]
    if matched:
        parts.append("strengths: " + ", ".join(matched))
    if fit:
        speed = f", ~{fit.tokens_per_s:g} tok/s" if fit.tokens_per_s else ""
        parts.append(f"{fit.quant} needs ~{fit.required_gb:.1f} GB{speed}")
    if model.verdict == "recommended":
        parts.append("recommended by the article")
    return "; ".join(parts)


def fit_table(
    catalog: Catalog, memory_gb: float, quant: str, context: int, memory_kind: str = "ram", **hardware: Any
) -> list[dict[str, Any]]:
    """Every catalog size with its memory estimate, for the hardware tab.

    `hardware` (hardware_name, gpu_count, bandwidth_gb_s, ram_gb, ...) goes to `hardware.estimate`.
    """
    rows = []
    for model in catalog.models:
        for variant in model.sizes:
            est = estimate(variant, memory_gb, quant, context, model_id=model.id, memory_kind=memory_kind,  # type: ignore[arg-type]
                           **hardware)
            rows.append(
                {
                    "model": model.name,
                    "variant": variant.name,
                    "params_b": variant.params_total_b,
                    "active_b": variant.params_active_b or variant.params_total_b,
                    "required_gb": round(est.required_gb, 1),
                    "fits": est.fits,
                    "tokens_per_s": est.tokens_per_s,
                    "placement": est.placement,
                    "placement_zh": est.placement_zh,
                    "commercial_use": model.commercial_use,
                }
            )
    return rows
