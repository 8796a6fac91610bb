"""Answer-first text for each intent of a `Plan`.

The first sentence answers the question asked: the model's name, yes/no with its
condition, the number with its unit, or "not covered". Reasons and supporting facts come
next; a shortlist only for recommendations. Each renderer returns a `Rendered`, which also
records what was shown (for follow-ups such as 「第二個」).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..constraints import Constraints, normalize
from ..hardware import estimate
from ..index import format_context, format_params
from ..knowledge import Catalog, Model, Variant
from ..retrieval import Passage
from ..selection import (
    COMMERCIAL_BADGE,
    COUNTRY_ZH,
    TASK_ZH,
    Exclusion,
    Recommendation,
    _rank_score,
    takes_images,
)
from .facts import (
    Citations,
    closed_answer,
    constraint_summary,
    context_text,
    family_fact,
    licence_text,
    model_fact,
    quote_article,
    scope_answer,
    size_text,
    vendor_text,
)
from .plan import Plan, Subject, claim_holds, country_filter
from .recommend import build_shortlist, check, fit_for_model, rank_position, requests_of

if TYPE_CHECKING:
    from .conversation import ConversationState
    from .lookup import SentenceIndex


SPEED_NOTE_ZH = "（記憶體為含 KV 快取與執行負擔的估算；速度依已發表的 llama.cpp 實測校正，仍只是估計。）"
SPEED_NOTE_EN = "(Memory includes the KV cache and runtime overhead; speed is calibrated against published llama.cpp runs and is still an estimate.)"


@dataclass
class Rendered:
    text: str
    recommendations: list[Recommendation] = field(default_factory=list)
    excluded: list[Exclusion] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)  # model ids in the order shown
    variants: dict[str, str] = field(default_factory=dict)  # model id -> size shown
    notices: list[str] = field(default_factory=list)


@dataclass
class Context:
    """What every renderer needs besides the plan."""

    catalog: Catalog
    cites: Citations
    retrieved: list[Passage]
    idf: dict[str, float]
    sentences: SentenceIndex | None
    state: ConversationState | None


def _sentence_end(zh: bool) -> str:
    return "。" if zh else "."


def _join(items: list[str], zh: bool) -> str:
    if zh:
        return "、".join(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _model(catalog: Catalog, subject: Subject) -> Model:
    return catalog.by_id[subject.id]


def _variant(model: Model, subject: Subject) -> Variant | None:
    if not subject.variant:
        return None
    return next((v for v in model.sizes if v.name == subject.variant), None)


def facts_model(catalog: Catalog, subject: Subject) -> Model:
    """The model whose facts answer for `subject`: a named size carries its own licence,
    context, modalities and release (「Qwen2.5-3B」 is non-commercial though the series is not)."""
    model = catalog.by_id[subject.id]
    if subject.variant and model.variant(subject.variant) is not None and len(model.sizes) > 1:
        return model.with_variant(subject.variant)
    return model


def _display(model: Model, variant: Variant | None) -> str:
    return variant.name if variant else model.name


# ---------------------------------------------------------------- fact


def _commercial_lead(model: Model, name: str, zh: bool) -> str:
    licence = f"{model.licence.name}（{model.licence.id}）" if zh else f"{model.licence.name} ({model.licence.id})"
    if model.commercial_use == "yes":
        return f"可以：{name} 採 {licence} 授權，可商用。" if zh else f"Yes: {name} is under {licence}, which allows commercial use."
    conditions = (model.commercial_conditions if zh else model.commercial_conditions_en or model.commercial_conditions).rstrip("。. ")
    if model.commercial_use == "conditional":
        return (f"有條件可以：{name} 採 {licence} 授權，{conditions}。" if zh
                else f"Yes, with conditions: {name} is under {licence}; {conditions}.")
    return f"不行：{name} 採 {licence} 授權，不可商用。" if zh else f"No: {name} is under {licence}, which does not allow commercial use."


def _size_lead(model: Model, variant: Variant | None, zh: bool) -> str:
    if variant is not None:
        active = variant.params_active_b
        if zh:
            return f"{variant.name} 有 {format_params(variant.params_total_b)} 參數" + (f"（MoE，每次啟動 {format_params(active)}）" if active else "") + "。"
        return f"{variant.name} has {format_params(variant.params_total_b)} parameters" + (f" (MoE, {format_params(active)} active)" if active else "") + "."
    sizes = sorted(v.params_total_b for v in model.sizes)
    largest = max(model.sizes, key=lambda v: v.params_total_b)
    active = largest.params_active_b or (model.params_active_b if largest.params_total_b == model.params_total_b else None)
    flagship = f"{format_params(largest.params_total_b)}" + (
        (f"（MoE，每次啟動 {format_params(active)}）" if zh else f" (MoE, {format_params(active)} active)") if active else "")
    if len(sizes) > 1:
        if zh:
            return f"{model.name} 有 {format_params(sizes[0])} 到 {flagship} 多種尺寸（{'、'.join(v.name for v in model.sizes)}）。"
        return f"{model.name} comes in sizes from {format_params(sizes[0])} to {flagship} ({', '.join(v.name for v in model.sizes)})."
    return f"{model.name} 有 {flagship} 參數。" if zh else f"{model.name} has {flagship} parameters."


def _context_lead(model: Model, name: str, zh: bool) -> str:
    if not model.context_tokens:
        return f"型錄沒有 {name} 的上下文長度資料。" if zh else f"The catalog has no context length for {name}."
    ctx = context_text(model, zh)
    return f"{name} 的原生上下文長度是 {ctx}。" if zh else f"{name} has a native context window of {ctx}."


def _modality_lead(model: Model, variant: Variant | None, norm: str, zh: bool) -> str:
    mods = (variant.modalities if variant and variant.modalities else None) or model.modalities
    name = _display(model, variant)
    wants_audio = bool(re.search(r"語音|聲音|audio|speech", norm))
    has = any(m in ("audio", "speech") for m in mods) if wants_audio else takes_images(model, variant)
    what = ("語音" if wants_audio else "圖片") if zh else ("audio" if wants_audio else "images")
    shown = "、".join(mods) if zh else ", ".join(mods)
    if has:
        return f"可以：{name} 支援{what}輸入（{shown}）。" if zh else f"Yes: {name} accepts {what} ({shown})."
    return f"不行：{name} 不支援{what}輸入，只支援 {shown}。" if zh else f"No: {name} does not accept {what}; it takes {shown}."


_COUNTRY_EN = {"CN": "China", "US": "the United States", "FR": "France", "CA": "Canada", "AE": "the UAE", "GB": "the UK", "TW": "Taiwan"}


_LEAD_ORDER = ["commercial", "licence", "memory", "size", "experts", "context", "modalities", "vendor", "country",
               "released", "base", "chinese", "weakness", "verdict"]


def asked_in_order(plan: Plan, norm: str) -> list[str]:
    """The attributes a question asks, in the order it asks them (licence and commercial use count once)."""
    from .plan import ATTRIBUTES  # noqa: PLC0415

    found = []
    for name in _LEAD_ORDER:
        if name in plan.attributes:
            match = ATTRIBUTES[name].search(norm)
            found.append((match.start() if match else len(norm), name))
    ordered = [name for _, name in sorted(found)]
    if "commercial" in ordered and "licence" in ordered:
        ordered.remove("licence")
    return ordered


def _fact_lead(plan: Plan, model: Model, variant: Variant | None, catalog: Catalog, norm: str, first: str | None = None) -> str:
    zh = plan.zh
    name = _display(model, variant)
    if first == "commercial":
        return _commercial_lead(model, name, zh)
    if first == "licence":
        badge = COMMERCIAL_BADGE["zh-TW" if zh else "en"][model.commercial_use]
        return (f"{name} 採 {model.licence.name}（{model.licence.id}）授權，{badge}。" if zh
                else f"{name} is under {model.licence.name} ({model.licence.id}): {badge}.")
    if first in ("size", "memory"):
        if variant is None and len(model.sizes) > 1 and re.search(r"最小|最大|smallest|largest|biggest", norm):
            pick = (min if re.search(r"最小|smallest", norm) else max)(model.sizes, key=lambda v: v.params_total_b)
            which = ("最小" if pick.params_total_b == min(v.params_total_b for v in model.sizes) else "最大") if zh else (
                "smallest" if pick.params_total_b == min(v.params_total_b for v in model.sizes) else "largest")
            return (f"{model.name} {which}的是 {pick.name}（{format_params(pick.params_total_b)}）。" if zh
                    else f"The {which} {model.name} is {pick.name} ({format_params(pick.params_total_b)}).")
        return _size_lead(model, variant, zh)
    if first == "experts":
        if model.architecture == "moe":
            active = format_params((variant.params_active_b if variant else None) or model.params_active_b or model.params_total_b)
            experts = (f"，{model.experts} 個專家" if zh else f", {model.experts} experts") if model.experts else ""
            return (f"是，{name} 採混合專家 (MoE) 架構，每次啟動 {active}{experts}。" if zh
                    else f"Yes: {name} is a mixture-of-experts model with {active} active{experts}.")
        arch = {"dense": "稠密 (dense)", "hybrid": "混合"}.get(model.architecture, model.architecture)
        return f"{name} 是{arch}架構，不是 MoE。" if zh else f"{name} is a {model.architecture} model, not MoE."
    if first == "context":
        return _context_lead(model, name, zh)
    if first == "modalities":
        return _modality_lead(model, variant, norm, zh)
    if first == "vendor":
        return (f"{name} {vendor_text(model, catalog, True).strip()}。".replace(" 由", "由") if zh
                else f"{name} is {vendor_text(model, catalog, False)}.")
    if first == "country":
        country = COUNTRY_ZH.get(model.country, model.country)
        return (f"{name} 來自{country}（{model.vendor}）。" if zh
                else f"{name} comes from {_COUNTRY_EN.get(model.country, model.country)} ({model.vendor}).")
    if first == "released" and model.released:
        return f"{name} 於 {model.released} 釋出。" if zh else f"{name} was released on {model.released}."
    if first == "chinese":
        drift = "simplified-drift" in model.weakness_tags
        if re.search(r"簡體|simplified", norm):
            head = ("會，" if drift else "型錄沒有記載它會跳成簡體；") if zh else ("Yes: " if drift else "Not recorded: ")
        else:
            head = ""
        return f"{head}{name}：{model.languages.chinese_note}" if zh else f"{head}{name}: {model.languages.chinese_note}"
    if first == "weakness" and model.weaknesses:
        return (f"{name} 的缺點：{'；'.join(model.weaknesses)}。" if zh
                else f"{name}'s weaknesses (from the article, in Chinese): {'；'.join(model.weaknesses)}.")
    if first == "verdict":
        return (f"原文認為 {name}：{model.verdict_reason}" if zh
                else f"The article's view of {name} ({model.verdict}): {model.verdict_reason_en or model.verdict_reason}")
    if first == "base":
        base = catalog.by_id.get(model.base_model or "")
        if base:
            return f"{name} 是以 {base.name} 為基礎微調的衍生模型。" if zh else f"{name} is fine-tuned from {base.name}."
    summary = model.summary_zh if zh else model.summary_en
    return summary if variant is None else f"{name} 是 {model.name} 的一個尺寸。{summary}" if zh else f"{name} is one size of {model.name}. {summary}"


def _family_lead(plan: Plan, family_id: str, catalog: Catalog) -> str:
    zh = plan.zh
    family = catalog.family_by_id[family_id]
    members = catalog.models_of(family_id)
    if "licence" in plan.attributes and "commercial" not in plan.attributes and members:
        counts: dict[str, int] = {}
        for m in members:
            counts[m.licence.id] = counts.get(m.licence.id, 0) + 1
        common = max(counts, key=lambda k: counts[k])
        others = [f"{k}（{v}）" if zh else f"{k} ({v})" for k, v in counts.items() if k != common]
        if zh:
            return (f"{family.name} 系列大多用 {common} 授權（型錄 {len(members)} 個條目中有 {counts[common]} 個）"
                    + (f"，其餘：{'、'.join(others)}" if others else "") + "。")
        return (f"Most {family.name} models use {common} ({counts[common]} of {len(members)} catalog entries)"
                + (f"; others: {', '.join(others)}" if others else "") + ".")
    if "chinese" in plan.attributes and members:
        notes = list(dict.fromkeys(m.languages.chinese_note for m in members))
        drift = any("simplified-drift" in m.weakness_tags for m in members)
        if zh:
            head = "會，" if drift and "簡體" in plan.question else ""
            return f"{head}{family.name} 系列的中文：{'；'.join(notes[:2])}"
        head = "Yes: " if drift and re.search(r"simplified|簡體", plan.question, re.I) else ""
        return f"{head}{family.name} in Chinese: {'; '.join(notes[:2])}"
    if {"commercial", "licence"} & set(plan.attributes) and members:
        labels = (("yes", "可商用：", "commercial OK: "), ("conditional", "有條件：", "with conditions: "),
                  ("no", "不可商用：", "non-commercial: "))  # fmt: skip
        groups = [(zh_label if zh else en_label, [m.name for m in members if m.commercial_use == value])
                  for value, zh_label, en_label in labels]  # fmt: skip
        parts = [label + ("、" if zh else ", ").join(names) for label, names in groups if names]
        present = tuple(bool(names) for _, names in groups)  # (yes, conditional, no)
        verdicts = {(True, False, False): ("可以", "Yes"), (False, True, False): ("有條件可以", "Yes, with conditions"),
                    (False, False, True): ("不行", "No")}  # fmt: skip
        verdict_zh, verdict_en = verdicts.get(present, ("看型號", "It depends on the model"))
        if sum(present) == 1:  # one verdict for the whole family: say it once
            names = next(names for _, names in groups if names)
            every_zh = {0: "都可商用", 1: "都可商用，但要遵守各自授權的條件", 2: "都不可商用"}[present.index(True)]
            every_en = {0: "may be used commercially", 1: "may be used commercially under its licence's conditions",
                        2: "may not be used commercially"}[present.index(True)]  # fmt: skip
            if zh:
                return f"{verdict_zh}：{family.name} 系列（{'、'.join(names)}）{every_zh}。"
            return f"{verdict_en}: every {family.name} model ({', '.join(names)}) {every_en}."
        if zh:
            return f"{verdict_zh}：{family.name} 系列{'；'.join(parts)}。"
        return f"{verdict_en}: in the {family.name} family, {'; '.join(parts)}."
    if {"vendor", "country"} & set(plan.attributes):
        country = COUNTRY_ZH.get(family.country, family.country)
        return (f"{family.name} 是{country}的 {family.vendor_zh} 推出的模型家族。" if zh
                else f"{family.name} is made by {family.vendor} ({_COUNTRY_EN.get(family.country, family.country)}).")
    if {"size", "memory"} & set(plan.attributes) and members:
        sizes = sorted({v.params_total_b for m in members for v in m.sizes})
        return (f"{family.name} 系列在型錄中從 {format_params(sizes[0])} 到 {format_params(sizes[-1])} 都有。" if zh
                else f"The {family.name} family spans {format_params(sizes[0])} to {format_params(sizes[-1])} in the catalog.")
    return (f"{family.name}（{family.vendor_zh}）：{family.summary_zh}" if zh else f"{family.name} ({family.vendor}): {family.summary_en}")


def render_fact(plan: Plan, ctx: Context) -> Rendered:
    catalog, cites, zh = ctx.catalog, ctx.cites, plan.zh
    norm = normalize(plan.question)
    paragraphs: list[str] = []
    shown: list[str] = []
    variants: dict[str, str] = {}
    aspects = set(plan.attributes)
    confirmed = [cl for cl in plan.claims if claim_holds(cl, catalog)]
    models = [s for s in plan.subjects if s.kind == "model"][:3]
    families = [s for s in plan.subjects if s.kind == "family"][:2]
    leads: list[str] = []
    for subject in models:
        model = facts_model(catalog, subject)
        variant = None
        asked = asked_in_order(plan, norm)[:3] or [None]
        lead = " ".join(dict.fromkeys(_fact_lead(plan, model, variant, catalog, norm, a) for a in asked))
        leads.append(lead + cites.cite(f"catalog:{model.id}"))
        shown.append(model.id)
        if variant:
            variants[model.id] = variant.name
    for subject in families:
        leads.append(_family_lead(plan, subject.id, catalog) + cites.cite(f"catalog:family:{subject.id}"))
    if confirmed and leads:
        if leads[0].startswith(("不行", "No:")):  # 「Codestral 不是不能商用嗎？」: right, it cannot
            leads[0] = "沒錯，" + leads[0] if zh else "Right, no:" + leads[0][3:]
        else:
            leads[0] = ("是的。" if zh else "Yes. ") + leads[0]
    paragraphs.append(" ".join(leads))
    covered = {"commercial", "licence", "size", "memory", "experts", "context", "modalities", "vendor", "country", "released", "base"}
    for subject in models:
        brief = bool(plan.attributes) and set(plan.attributes) <= covered
        paragraphs.append(model_fact(facts_model(catalog, subject), catalog, aspects, cites, zh, brief=brief))
    for subject in families:
        paragraphs.append(family_fact(subject.id, catalog, aspects, plan.constraints.tasks, cites, zh))
        shown += [m.id for m in catalog.models_of(subject.id)]
    closed = [s.id for s in plan.subjects if s.kind == "closed"]
    if closed:
        paragraphs.append(closed_answer(catalog, closed, zh))
    fam_ids = {catalog.by_id[s.id].family for s in models} | {s.id for s in families}
    paragraphs.append(quote_article(plan.question, ctx.retrieved, ctx.idf, fam_ids, cites, zh))
    return Rendered("\n\n".join(p for p in paragraphs if p), shown=shown, variants=variants)


# ---------------------------------------------------------------- false premise


def render_false_premise(plan: Plan, ctx: Context) -> Rendered:
    catalog, zh = ctx.catalog, plan.zh
    wrong = [cl for cl in plan.claims if not claim_holds(cl, catalog)]
    claim = wrong[0]
    subject = next(s for s in plan.subjects if s.id == claim.subject)
    models = [facts_model(catalog, subject)] if subject.kind == "model" else catalog.models_of(subject.id)
    model = models[0]
    name = model.name if subject.kind == "model" else subject.name
    if claim.attribute == "licence":
        if zh:
            actual = "、".join(dict.fromkeys(f"{m.licence.name}（{m.licence.id}）" for m in models))
            lead = f"不是：{name} 的授權是 {actual}，不是 {claim.value}。"
        else:
            actual = ", ".join(dict.fromkeys(f"{m.licence.name} ({m.licence.id})" for m in models))
            lead = f"No: {name} is under {actual}, not {claim.value}."
    elif claim.attribute == "vendor":
        claimed = catalog.family_by_id[claim.value]
        family = catalog.family_by_id[model.family]
        lead = (f"不是：{name} 是 {family.vendor_zh} 推出的，不是 {claimed.vendor_zh}。" if zh
                else f"No: {name} is made by {family.vendor}, not {claimed.vendor}.")
    elif claim.attribute == "country":
        country = COUNTRY_ZH.get(model.country, model.country)
        claimed = COUNTRY_ZH.get(claim.value, claim.value)
        lead = (f"不是：{name} 來自{country}（{model.vendor}），不是{claimed}。" if zh
                else f"No: {name} comes from {_COUNTRY_EN.get(model.country, model.country)} ({model.vendor}), not {_COUNTRY_EN.get(claim.value, claim.value)}.")
    elif claim.attribute == "verdict":
        bad = [m for m in models if m.verdict == "not-recommended"] or [model]
        if zh:
            lead = f"不對：原文並不看好 {name}，{'；'.join(m.verdict_reason.rstrip('。') for m in bad[:2])}。"
        else:
            lead = f"No: the article does not rate {name} highly; {'; '.join((m.verdict_reason_en or m.verdict_reason).rstrip('.') for m in bad[:2])}."
    elif claim.attribute == "released":
        dates = "、".join(dict.fromkeys(f"{m.name} {m.released}" for m in models if m.released)) if zh else ", ".join(
            dict.fromkeys(f"{m.name} on {m.released}" for m in models if m.released))
        lead = (f"不是：{name} 不是 {claim.value} 年釋出的，實際是 {dates}。" if zh
                else f"No: {name} was not released in {claim.value}; it came out {dates}.")
    elif claim.attribute == "size":
        sizes = "、".join(format_params(v.params_total_b) for v in model.sizes) if zh else ", ".join(format_params(v.params_total_b) for v in model.sizes)
        lead = (f"不是：{name} 的參數量是 {sizes}，不是 {format_params(float(claim.value))}。" if zh
                else f"No: {name} has {sizes} parameters, not {format_params(float(claim.value))}.")
    else:  # commercial
        lead = "不對：" + _commercial_lead(model, name, zh).split("：", 1)[-1] if zh else "No — " + _commercial_lead(model, name, zh).split(": ", 1)[-1]
    lead += ctx.cites.cite(f"catalog:{model.id}") if subject.kind == "model" else ctx.cites.cite(f"catalog:family:{subject.id}")
    rest = render_fact(plan, ctx)
    body = rest.text.split("\n\n", 1)[1] if "\n\n" in rest.text else ""
    return Rendered(lead + ("\n\n" + body if body else ""), shown=rest.shown, variants=rest.variants)


# ---------------------------------------------------------------- fit


_KIND_ZH = {"ram": "記憶體 (RAM)", "vram": "顯存 (VRAM)", "unified": "統一記憶體"}
_KIND_EN = {"ram": "RAM", "vram": "VRAM", "unified": "unified memory"}


def _hardware_phrase(c: Constraints, zh: bool) -> str:
    kind = c.memory_kind or "ram"
    return f"{c.memory_gb:g}GB {_KIND_ZH[kind]}" if zh else f"{c.memory_gb:g} GB of {_KIND_EN[kind]}"


def _speed(fit, zh: bool) -> str:
    speed = getattr(fit, "tokens_per_s", None)
    if not speed:
        return ""
    label = getattr(fit, "placement_zh" if zh else "placement", "") or ""
    label = f"，{label}" if label and zh else (f", {label}" if label else "")
    return f"，約 {speed:g} token/s{label}" if zh else f", ~{speed:g} tok/s{label}"


_STORAGE = re.compile(r"空間|存得下|存放|儲存|硬碟|磁碟|下載.{0,4}多大|檔案.{0,4}多大|disk|storage|download size|file size", re.I)
_FULL_SIZE = re.compile(r"滿血|完整版|完整|全尺寸|最大|旗艦|full(?:[- ]size)?|flagship|biggest|largest", re.I)


def _family_fit(plan: Plan, ctx: Context, family_id: str) -> tuple[list[str], list[str]]:
    catalog, zh, c = ctx.catalog, plan.zh, plan.constraints
    members = [m for m in catalog.models_of(family_id) if m.status == "released"]
    if _FULL_SIZE.search(normalize(plan.question)):
        members = [max(members, key=lambda m: m.params_total_b)]
    hw = _hardware_phrase(c, zh)
    fitting, too_big = [], []
    for model in members:
        fit = fit_for_model(model, c)
        if fit:
            fitting.append(f"{fit.variant}（{fit.quant} 約 {fit.required_gb:.1f}GB{_speed(fit, True)}）" if zh
                           else f"{fit.variant} ({fit.quant} ~{fit.required_gb:.1f} GB{_speed(fit, False)})")
        else:
            small = min(model.sizes, key=lambda v: v.params_total_b)
            too_big.append(f"{model.name}（{format_params(small.params_total_b)}）" if zh else f"{model.name} ({format_params(small.params_total_b)})")
    name = catalog.family_by_id[family_id].name
    cite = ctx.cites.cite(f"catalog:family:{family_id}")
    if not fitting:
        lead = (f"跑不動：{name} 的 {'、'.join(too_big)} 在 {hw} 都放不下。{cite}" if zh
                else f"No: {name}'s {', '.join(too_big)} do not fit in {hw}.{cite}")
    elif too_big:
        lead = (f"部分可以：{hw} 可以跑 {'、'.join(fitting)}；{'、'.join(too_big)} 放不下。{cite}" if zh
                else f"Partly: {hw} runs {', '.join(fitting)}; {', '.join(too_big)} do not fit.{cite}")
    else:
        lead = (f"跑得動：{hw} 可以跑 {'、'.join(fitting)}。{cite}" if zh else f"Yes: {hw} runs {', '.join(fitting)}.{cite}")
    return [lead], [m.id for m in members]


def render_fit(plan: Plan, ctx: Context) -> Rendered:
    catalog, zh, c = ctx.catalog, plan.zh, plan.constraints
    lines: list[str] = []
    shown: list[str] = []
    variants: dict[str, str] = {}
    storage = bool(_STORAGE.search(normalize(plan.question)))
    for subject in [s for s in plan.subjects if s.kind == "family"][:2]:
        if c.memory_gb is not None:
            more, ids = _family_fit(plan, ctx, subject.id)
            lines += more
            shown += ids
    for subject in [s for s in plan.subjects if s.kind == "model"][:3]:
        model = _model(catalog, subject)
        variant = _variant(model, subject)
        shown.append(model.id)
        cite = ctx.cites.cite(f"catalog:{model.id}")
        if c.memory_gb is not None:
            restricted = model.model_copy(update={"variants": [variant]}) if variant else model
            fit = fit_for_model(restricted, c)
            hw = _hardware_phrase(c, zh)
            if fit:
                variants[model.id] = fit.variant
                name = fit.variant
                lines.append(
                    f"跑得動：{hw} 可以跑 {name}（{fit.quant} 約需 {fit.required_gb:.1f}GB{_speed(fit, True)}）。{cite}" if zh
                    else f"Yes: {name} fits {hw} ({fit.quant} needs ~{fit.required_gb:.1f} GB{_speed(fit, False)}).{cite}"
                )
                too_big = [v for v in model.sizes if v.params_total_b > next((s.params_total_b for s in model.sizes if s.name == fit.variant), 0)]
                if too_big and not variant:
                    names = _join([v.name for v in too_big], zh)
                    lines.append(f"更大的 {names} 放不下。" if zh else f"The larger {names} do not fit.")
            else:
                target = variant or min(model.sizes, key=lambda v: v.params_total_b)
                need = estimate(target, 10_000, "Q4_K_M", 4096, model_id=model.id, memory_kind=c.memory_kind or "ram")
                name = _display(model, variant)
                what = name if variant or len(model.sizes) == 1 else f"{model.name}（最小的 {target.name} 也）" if zh else f"{model.name} (even its smallest size, {target.name})"
                params = format_params(target.params_total_b)
                lines.append(
                    f"跑不動：{what} 在 {hw} 放不下（{params} 參數，Q4_K_M 約需 {need.required_gb:.0f}GB）。{cite}" if zh
                    else f"No: {what} does not fit in {hw} ({params} parameters; Q4_K_M needs ~{need.required_gb:.0f} GB).{cite}"
                )
                if not c.quant:
                    # A lower quantisation may still fit, at a cost in quality: say so.
                    for low in ("Q3_K_M", "Q2_K"):
                        squeezed = fit_for_model(restricted, replace(c, quant=low))
                        if squeezed:
                            lines.append(
                                f"若降到 {low}（約需 {squeezed.required_gb:.1f}GB{_speed(squeezed, True)}）可以勉強放進 {squeezed.variant}，但品質會明顯下降。" if zh
                                else f"At {low} (~{squeezed.required_gb:.1f} GB{_speed(squeezed, False)}) {squeezed.variant} squeezes in, with a clear loss of quality."
                            )
                            break
        elif storage:
            target = variant or max(model.sizes, key=lambda v: v.params_total_b)
            full = estimate(target, 10_000, "F16", 4096, model_id=model.id)
            q4 = estimate(target, 10_000, "Q4_K_M", 4096, model_id=model.id)
            lines.append(
                f"{target.name} 的原始權重（BF16／F16）約 {full.weights_gb:.0f}GB；量化成 Q4_K_M 約 {q4.weights_gb:.0f}GB。{cite}" if zh
                else f"{target.name}'s original weights (BF16/F16) take about {full.weights_gb:.0f} GB; quantised to Q4_K_M about {q4.weights_gb:.0f} GB.{cite}"
            )
            said = [w for w in model.weaknesses if "GB" in w]
            if said:
                lines.append(f"原文寫：「{said[0]}」。" if zh else f"The article says 「{said[0]}」.")
        else:
            target = variant or max(model.sizes, key=lambda v: v.params_total_b)
            parts = []
            for quant in ("Q4_K_M", "Q8_0", "F16"):
                est = estimate(target, 10_000, quant, 4096, model_id=model.id)
                parts.append(f"{quant} 約 {est.required_gb:.0f}GB" if zh else f"{quant} ~{est.required_gb:.0f} GB")
            sizes_note = ""
            if not variant and len(model.sizes) > 1:
                small = min(model.sizes, key=lambda v: v.params_total_b)
                small_est = estimate(small, 10_000, "Q4_K_M", 4096, model_id=model.id)
                sizes_note = (f"最小的 {small.name} 在 Q4_K_M 約需 {small_est.required_gb:.1f}GB。" if zh
                              else f"The smallest size, {small.name}, needs ~{small_est.required_gb:.1f} GB at Q4_K_M.")
            lines.append(
                (f"{target.name} 約需 {parts[0].split('約 ')[1]} 記憶體（Q4_K_M 量化，含 4k 上下文的 KV 快取）；" + "、".join(parts[1:]) + f"。{cite}") if zh
                else f"{target.name} needs about {parts[0].split('~')[1]} of memory (Q4_K_M, including a 4k-token KV cache); " + ", ".join(parts[1:]) + f".{cite}"
            )
            if sizes_note:
                lines.append(sizes_note)
            for claim in model.article_claims:
                if "GB" in claim.article_says or "空間" in claim.article_says:
                    lines.append(f"原文寫「{claim.article_says}」。" if zh else f"The article says 「{claim.article_says}」.")
    if c.assumptions:
        lines.append(("假設：" if zh else "Assumptions: ") + ("；".join(c.assumptions) if zh else "; ".join(c.assumptions)))
    lines.append(SPEED_NOTE_ZH if zh else SPEED_NOTE_EN)
    families = {catalog.by_id[m].family for m in shown}
    quote = "" if storage else quote_article(plan.question, ctx.retrieved, ctx.idf, families, ctx.cites, zh)
    if quote:
        lines.append(quote)
    return Rendered("\n".join(lines), shown=shown, variants=variants)


# ---------------------------------------------------------------- recommend


def render_recommend(plan: Plan, ctx: Context, family: str | None = None) -> Rendered:
    catalog, zh, c, cites = ctx.catalog, plan.zh, plan.constraints, ctx.cites
    mentioned = [s.id for s in plan.subjects if s.kind == "model"]
    result = build_shortlist(catalog, c, plan.question, zh, limit=5, family=family, mentioned=mentioned)
    recs = result.recommendations
    summary = constraint_summary(c, zh)
    lines: list[str] = []
    if not recs:
        if result.specialist_tasks and not result.task_matches:
            tasks = _join([TASK_ZH.get(t, t) if zh else t for t in result.specialist_tasks], zh)
            lines.append(f"型錄中沒有以{tasks}見長、又符合你條件（{summary}）的模型。" if zh
                         else f"No catalog model tagged for {tasks} meets your conditions ({summary}).")
        else:
            lines.append(f"型錄中沒有符合你條件（{summary}）的模型。" if zh else f"No catalog model meets your conditions ({summary}).")
        lines.append("可以放寬其中一個條件再試，例如記憶體或授權。" if zh else "Try relaxing one condition, such as memory or licence.")
    else:
        top = recs[0]
        why = top.reason
        lines.append((f"建議選 **{top.model.name}**（{top.variant.name}）：{why}。" if zh
                      else f"I suggest **{top.model.name}** ({top.variant.name}): {why}.") + cites.cite(f"catalog:{top.model.id}"))
        if len(recs) == 1:
            lines.append(f"依你的條件（{summary}），型錄中只有這一個模型符合。" if zh else f"For your conditions ({summary}), it is the only catalog model that fits.")
        else:
            few = len(recs) < 5
            if zh:
                head = f"依你的條件（{summary}），" if summary else ""
                lines.append(head + (f"只有 {len(recs)} 個模型符合：" if few else "候選："))
            else:
                head = f"For your conditions ({summary}), " if summary else ""
                lines.append(head + (f"only {len(recs)} models fit:" if few else "candidates:"))
            for n, rec in enumerate(recs, 1):
                cite = cites.cite(f"catalog:{rec.model.id}")
                lines.append(f"{n}. **{rec.model.name}**：{rec.reason}{cite}" if zh else f"{n}. **{rec.model.name}**: {rec.reason}{cite}")
        art = cites.cite(cites.article_for(top.model.family))
        lines.append(f"原文認為 {top.model.name}：{top.model.verdict_reason}{art}" if zh
                     else f"The article on {top.model.name}: {top.model.verdict_reason_en or top.model.verdict_reason}{art}")
    if result.excluded:
        lines.append("\n**不建議／已排除：**" if zh else "\n**Why not:**")
        lines.extend(f"- {e.reason}" for e in result.excluded)
    if c.assumptions:
        lines.append(("\n假設：" if zh else "\nAssumptions: ") + ("；".join(c.assumptions) if zh else "; ".join(c.assumptions)))
    if c.memory_gb is not None and recs:
        lines.append(SPEED_NOTE_ZH if zh else SPEED_NOTE_EN)
    return Rendered(
        "\n".join(lines), recommendations=recs, excluded=result.excluded,
        shown=[r.model.id for r in recs], variants={r.model.id: r.variant.name for r in recs},
    )


# ---------------------------------------------------------------- why not


def _state_constraints(plan: Plan, ctx: Context) -> Constraints:
    c = plan.constraints
    prior = ctx.state.constraints if ctx.state is not None else None
    if prior is None:
        return c
    merged = Constraints(**prior.to_dict())
    for key, value in c.to_dict().items():
        if key.startswith("mentioned_") or value in (None, False, [], ""):
            continue
        setattr(merged, key, value)
    merged.mentioned_models, merged.mentioned_families = c.mentioned_models, c.mentioned_families
    # "Why not Qwen? Isn't it Apache?": a licence the question says a model has is a claim
    # to check, not a new condition on the earlier request.
    claimed = {cl.value.lower() for cl in plan.claims if cl.attribute == "licence"}
    if claimed and merged.licence_ids:
        asked_before = {x.lower() for x in (prior.licence_ids or [])}
        merged.licence_ids = [x for x in merged.licence_ids if x.lower() in asked_before or x.lower() not in claimed]
    return merged


def _member_reasons(models: list[Model], reasons: list[str | None], family: bool, zh: bool) -> str:
    """Why each model was left out, each reason once; in a family, the members it applies
    to are named ("Qwen3、Qwen3-Coder：中文容易跳成簡體；QwQ-32B：24GB 放不下")."""
    grouped: dict[str, list[str]] = {}
    for model, reason in zip(models, reasons, strict=True):
        if reason:
            text = reason.split("：", 1)[-1] if zh else reason.split(": ", 1)[-1]
            grouped.setdefault(text, []).append(model.name)
    items = list(grouped.items())[:3]
    if not family or len(items) == 1:
        return ("；" if zh else "; ").join(text for text, _ in items)
    if zh:
        return "；".join(f"{'、'.join(names)}：{text}" for text, names in items)
    return "; ".join(f"{', '.join(names)}: {text}" for text, names in items)


def _why_ranked_low(model: Model, c: Constraints, zh: bool) -> list[str]:
    """What pulls a model that passed the filters down the ranking (the score's negative parts)."""
    reasons = []
    if model.verdict == "not-recommended":
        reasons.append(f"原文不推薦它（{model.verdict_reason.rstrip('。')}）" if zh
                       else f"the article does not recommend it ({(model.verdict_reason_en or model.verdict_reason).rstrip('.')})")
    if c.tasks and not any(t in model.strengths for t in c.tasks):
        tasks = _join([TASK_ZH.get(t, t) if zh else t for t in c.tasks], zh)
        reasons.append(f"沒有標示{tasks}專長" if zh else f"it is not tagged for {tasks}")
    if model.commercial_use == "conditional":
        reasons.append(f"授權有條件（{model.licence.name}）" if zh else f"its licence has conditions ({model.licence.name})")
    return reasons


def render_why_not(plan: Plan, ctx: Context) -> Rendered:
    catalog, zh = ctx.catalog, plan.zh
    c = _state_constraints(plan, ctx)
    question = " ".join(ctx.state.questions[-1:] if ctx.state else []) + " " + plan.question
    requests = requests_of(question, c)
    subjects = [s for s in plan.subjects if s.kind in ("model", "family")]
    lines: list[str] = []
    shown: list[str] = []
    has_context = ctx.state is not None and ctx.state.constraints is not None
    summary = constraint_summary(c, zh)
    for subject in subjects[:2]:
        models = [catalog.by_id[subject.id]] if subject.kind == "model" else catalog.models_of(subject.id)
        if subject.kind == "model" and subject.variant:
            # "為什麼不推薦 Qwen3 Coder 480B？" asks about that size, not the family's smallest.
            models = [facts_model(catalog, subject)]
        reasons: list[str | None] = []
        passing = []
        for model in models:
            broken = check(model, c, requests, catalog, zh)
            reasons.append(broken[1] if broken else None)
            if not broken:
                passing.append(model)
            shown.append(model.id)
        cite = ctx.cites.cite(f"catalog:{models[0].id}" if subject.kind == "model" else f"catalog:family:{subject.id}")
        if any(reasons) and not passing:
            because = _member_reasons(models, reasons, subject.kind == "family", zh)
            if zh:
                lines.append(f"{subject.name} 沒有被推薦，因為{because}" + (f"（你的條件：{summary}）" if summary else "") + f"。{cite}")
            else:
                lines.append(f"{subject.name} was not recommended because {because}" + (f" (your conditions: {summary})" if summary else "") + f".{cite}")
        elif has_context:
            shortlist = build_shortlist(catalog, c, question, zh, limit=5)
            best_place = min((p for p in (rank_position(m.id, shortlist) for m in passing) if p), default=None)
            ahead = [r.model.name for r in shortlist.ranked[: (best_place or 1) - 1]][:3]
            model = passing[0]
            low = _why_ranked_low(model, c, zh)
            if best_place is not None and best_place <= len(shortlist.recommendations):
                caveat = ""
                if model.commercial_use == "conditional" and model.commercial_conditions:
                    conditions = (model.commercial_conditions if zh else model.commercial_conditions_en or model.commercial_conditions).rstrip("。. ")
                    caveat = f"但要注意授權條件：{conditions}。" if zh else f", but its licence has conditions: {conditions}"
                lines.append(f"{subject.name} 其實有在推薦清單上（第 {best_place} 名）{'，' + caveat if caveat else '。'}{cite}" if zh
                             else f"{subject.name} is on the shortlist (#{best_place}){caveat}.{cite}")
            elif zh:
                because = "；".join(low) if low else f"前面的 {'、'.join(ahead)} 更符合需求"
                lines.append(f"{subject.name} 符合你的硬性條件（{summary}），但排在第 {best_place} 名：{because}。{cite}")
            else:
                because = "; ".join(low) if low else f"{', '.join(ahead)} fit the request better"
                lines.append(f"{subject.name} meets your hard conditions ({summary}) but ranks #{best_place}: {because}.{cite}")
        else:
            model = passing[0] if passing else models[0]
            weak = "；".join(model.weaknesses[:3])
            lines.append(
                f"還沒有提出條件，所以 {subject.name} 沒有被排除；原文提到的缺點：{weak}。{cite}" if zh
                 else f"No conditions were given, so {subject.name} was not excluded; the article's caveats (in Chinese): {weak}.{cite}"
            )
        for model in (passing or models)[:1]:
            art = ctx.cites.cite(ctx.cites.article_for(model.family))
            lines.append(f"原文認為 {model.name}：{model.verdict_reason}{art}" if zh
                         else f"The article on {model.name}: {model.verdict_reason_en or model.verdict_reason}{art}")
    licence_claims = [cl for cl in plan.claims if cl.attribute == "licence" and cl.subject in {s.id for s in subjects}]
    if lines and licence_claims:  # "why not Qwen? isn't it Apache?": answer that part too, first
        claim = licence_claims[0]
        name = next(s.name for s in subjects if s.id == claim.subject)
        members = [catalog.by_id[claim.subject]] if claim.subject in catalog.by_id else catalog.models_of(claim.subject)
        held = [m.name for m in members if m.licence.id.lower().startswith(claim.value.lower())]
        if held:
            lines[0] = (f"{name} 的確有 {claim.value} 授權（{'、'.join(held[:4])}），但" if zh
                        else f"{name} is indeed {claim.value}-licensed ({', '.join(held[:4])}), but ") + lines[0]
        else:
            licences = "、".join(dict.fromkeys(m.licence.id for m in members)) if zh else ", ".join(dict.fromkeys(m.licence.id for m in members))
            lines[0] = (f"{name} 不是 {claim.value} 授權（是 {licences}）；" if zh
                        else f"{name} is not {claim.value}-licensed ({licences}); ") + lines[0]
    return Rendered("\n".join(lines), shown=shown)


# ---------------------------------------------------------------- compare


def render_compare(plan: Plan, ctx: Context) -> Rendered:
    catalog, zh = ctx.catalog, plan.zh
    c = plan.constraints
    subjects = [s for s in plan.subjects if s.kind in ("model", "family")]
    pairs: list[tuple[Model, Variant | None]] = []
    for subject in subjects[:3]:
        if subject.kind == "model":
            model = catalog.by_id[subject.id]
            variant = _variant(model, subject)
            pairs.append((facts_model(catalog, subject), None) if variant else (model, None))
        elif catalog.models_of(subject.id):
            members = catalog.models_of(subject.id)
            pairs.append((max(members, key=lambda m: _rank_score(m, m.sizes[-1], c)[0]), None))
    requests = requests_of(plan.question, c)
    verdicts = []
    for model, variant in pairs:
        broken = check(model, c, requests, catalog, zh)
        sizes = [variant] if variant else model.sizes
        score, matched = _rank_score(model, max(sizes, key=lambda v: v.params_total_b), c)
        verdicts.append((model, variant, broken, score))
    passing = [v for v in verdicts if v[2] is None]
    summary = constraint_summary(c, zh)
    lines: list[str] = []
    if passing:
        best = max(passing, key=lambda v: v[3])
        name = _display(best[0], best[1])
        others = [v for v in verdicts if v is not best]
        because = [broken[1] for _model, _variant, broken, _score in others if broken]
        if zh:
            reason = "；".join(because) if because else ("原文較推薦" if best[0].verdict == "recommended" else "綜合授權、尺寸與強項較合適")
            need = f"以你的需求（{summary}）來說" if summary else "整體來說"
            lines.append(f"選 **{name}**：{need}，{name} 比較合適（{reason}）。")
        else:
            reason = "; ".join(because) if because else ("the article rates it higher" if best[0].verdict == "recommended" else "its licence, size and strengths fit better")
            need = f"for your needs ({summary})" if summary else "overall"
            lines.append(f"Pick **{name}**: {need}, {name} is the better fit ({reason}).")
    else:
        reasons = "；".join(v[2][1] for v in verdicts if v[2]) if zh else "; ".join(v[2][1] for v in verdicts if v[2])
        lines.append(f"兩者都不符合你的條件（{summary}）：{reasons}。" if zh else f"Neither fits your conditions ({summary}): {reasons}.")
    lines.append("比較：" if zh else "Comparison:")
    for model, variant, _broken, _score in verdicts:
        card = ctx.cites.cite(f"catalog:{model.id}")
        art = ctx.cites.cite(ctx.cites.article_for(model.family))
        strengths = "、".join(TASK_ZH.get(t, t) for t in model.strengths) if zh else ", ".join(model.strengths)
        ctx_text = context_text(model, zh)
        fit_text = ""
        if c.memory_gb is not None:
            fit = fit_for_model(model.model_copy(update={"variants": [variant]}) if variant else model, c)
            fit_text = ((f"；{c.memory_gb:g}GB 可跑 {fit.variant}（{fit.quant} 約 {fit.required_gb:.1f}GB）" if fit else f"；{c.memory_gb:g}GB 放不下")
                        if zh else (f"; {fit.variant} fits {c.memory_gb:g} GB ({fit.quant} ~{fit.required_gb:.1f} GB)" if fit else f"; does not fit {c.memory_gb:g} GB"))
        if zh:
            lines.append(f"- **{_display(model, variant)}**（{model.vendor}）：{size_text(model, True)}；上下文 {ctx_text}；{licence_text(model, True)}"
                         f"；強項：{strengths or '通用'}{fit_text}{card}。原文認為：{model.verdict_reason}{art}")
        else:
            lines.append(f"- **{_display(model, variant)}** ({model.vendor}): {size_text(model, False)}; context {ctx_text}; {licence_text(model, False)}"
                         f"; strengths: {strengths or 'general'}{fit_text}{card}. Article: {model.verdict_reason_en or model.verdict_reason}{art}")
    if passing:
        best = max(passing, key=lambda v: v[3])
        lines.append(f"結論：{('依你的需求' if summary else '整體而言')}選 {_display(best[0], best[1])}。" if zh
                     else f"Verdict: {'for your needs' if summary else 'overall'}, pick {_display(best[0], best[1])}.")
    else:
        lines.append("結論：兩者都不適合，建議改問符合條件的推薦。" if zh else "Verdict: neither fits; ask for a recommendation under your conditions instead.")
    return Rendered("\n".join(lines), shown=[m.id for m, _v, _b, _s in verdicts])


# ---------------------------------------------------------------- rank


def _rank_rows(plan: Plan, ctx: Context) -> list[tuple[float | str, Model, Variant | None]]:
    catalog, c = ctx.catalog, plan.constraints
    spec = plan.rank
    assert spec is not None
    family_ids = {s.id for s in plan.subjects if s.kind == "family"}
    model_ids = {s.id for s in plan.subjects if s.kind == "model"}
    requests = requests_of(plan.question, c)
    country = country_filter(normalize(plan.question)) if not c.avoid_countries else None
    rows: list[tuple[float | str, Model, Variant | None]] = []
    for model in catalog.models:
        if model.status != "released":
            continue
        if country and model.country != country:
            continue
        if (family_ids or model_ids) and model.family not in family_ids and model.id not in model_ids:
            continue
        if check(model, c, requests, catalog, plan.zh):
            continue
        if c.tasks and not all(t in model.strengths or (t == "vision" and takes_images(model)) for t in c.tasks):
            continue
        if spec.field in ("params_total", "params_active"):
            for variant in model.sizes:
                if "vision" in c.tasks and not takes_images(model, variant):
                    continue
                active = variant.params_active_b or (model.params_active_b if variant.params_total_b == model.params_total_b else None)
                is_moe = bool(active) and model.architecture == "moe" or bool(variant.params_active_b)
                if spec.moe_only and not is_moe:
                    continue
                if spec.dense_only and is_moe:
                    continue
                value = active if spec.field == "params_active" else variant.params_total_b
                if value:
                    rows.append((value, model, variant if len(model.sizes) > 1 else None))
        else:
            if spec.moe_only and model.architecture != "moe":
                continue
            if spec.dense_only and model.architecture == "moe":
                continue
            value: float | str | None = {
                "experts": model.experts,
                "context": model.context_tokens,
                "released": model.released,
                "languages": model.languages.count,
            }.get(spec.field)
            if value:
                rows.append((value, model, None))
    rows.sort(key=lambda r: (r[0], r[1].name), reverse=not spec.ascending)
    if spec.field == "released" and not spec.ascending:
        rows.sort(key=lambda r: str(r[0]), reverse=True)
    return rows


def _value_text(field_name: str, value: float | str, zh: bool) -> str:
    if field_name in ("params_total", "params_active"):
        return format_params(float(value)) + ("（每次啟動）" if field_name == "params_active" and zh else (" active" if field_name == "params_active" else ""))
    if field_name == "context":
        return f"{format_context(int(value))} token" if zh else f"{format_context(int(value))} tokens"
    if field_name == "experts":
        return f"{value} 個專家" if zh else f"{value} experts"
    if field_name == "languages":
        return f"{value} 種語言" if zh else f"{value} languages"
    return str(value)


_FIELD_ZH = {
    ("params_total", True): "參數最少", ("params_total", False): "參數最多",
    ("params_active", True): "每次啟動參數最少", ("params_active", False): "每次啟動參數最多",
    ("context", True): "上下文最短", ("context", False): "上下文最長",
    ("released", True): "最早釋出", ("released", False): "最新釋出",
    ("languages", True): "支援語言最少", ("languages", False): "支援語言最多",
    ("experts", True): "專家數最少", ("experts", False): "專家數最多",
}
_FIELD_EN = {
    ("params_total", True): "smallest", ("params_total", False): "largest",
    ("params_active", True): "with the fewest active parameters", ("params_active", False): "with the most active parameters",
    ("context", True): "with the shortest context", ("context", False): "with the longest context",
    ("released", True): "released earliest", ("released", False): "released most recently",
    ("languages", True): "supporting the fewest languages", ("languages", False): "supporting the most languages",
    ("experts", True): "with the fewest experts", ("experts", False): "with the most experts",
}


def render_rank(plan: Plan, ctx: Context) -> Rendered:
    zh, spec = plan.zh, plan.rank
    assert spec is not None
    rows = _rank_rows(plan, ctx)
    summary = constraint_summary(plan.constraints, zh)
    scope = ("MoE " if spec.moe_only and zh else "MoE " if spec.moe_only else "")
    if not rows:
        text = (f"型錄中沒有符合條件（{summary or scope.strip() or '全部'}）的模型可以排序。" if zh
                else f"No catalog model matches ({summary or scope.strip() or 'all'}) to rank.")
        return Rendered(text)
    position = min(spec.position, len(rows))
    value, model, variant = rows[position - 1]
    name = _display(model, variant)
    label = name if variant is None else f"{model.name} 的 {name}" if zh else f"{name} ({model.name})"
    named = [s.name for s in plan.subjects if s.kind in ("model", "family")]
    if zh:
        where = f"符合條件（{summary}）的{scope}模型中，" if summary else (f"{'、'.join(named)} 之中，" if named else f"型錄的{scope}模型中，")
    else:
        where = ""
    ties = [r for r in rows if r[0] == value and r[1] is not model]
    if zh:
        phrase = _FIELD_ZH[(spec.field, spec.ascending)] + ("的" if position == 1 else f"的第 {position} 名")
        lead = f"{where}{phrase}是 **{label}**（{_value_text(spec.field, value, True)}）。"
        if ties:
            lead += f"同樣是 {_value_text(spec.field, value, True)} 的還有 {'、'.join(_display(r[1], r[2]) for r in ties[:3])}。"
    else:
        nth = "" if position == 1 else f"#{position} "
        where_en = f" among models matching ({summary})" if summary else (" among MoE models" if spec.moe_only else " in the catalog")
        what = f"{_FIELD_EN[(spec.field, spec.ascending)]} model" if spec.field == "params_total" else f"model {_FIELD_EN[(spec.field, spec.ascending)]}"
        lead = f"The {nth}{what}{where_en} is **{label}** ({_value_text(spec.field, value, False)})."
        if ties:
            lead += f" Tied: {', '.join(_display(r[1], r[2]) for r in ties[:3])}."
    lead += ctx.cites.cite(f"catalog:{model.id}")
    lines = [lead, "排名：" if zh else "Ranking:"]
    shown = []
    variants = {}
    seen_models: set[str] = set()
    for n, (val, m, v) in enumerate(rows[:6], 1):
        lines.append(f"{n}. {_display(m, v)}（{m.name}）：{_value_text(spec.field, val, zh)}" if zh and v else
                     f"{n}. {_display(m, v)}：{_value_text(spec.field, val, zh)}" if zh else
                     f"{n}. {_display(m, v)}: {_value_text(spec.field, val, zh)}")
        if m.id not in seen_models:
            shown.append(m.id)
            seen_models.add(m.id)
            if v:
                variants[m.id] = v.name
    if spec.field in ("context",):
        missing = [m.name for m in ctx.catalog.models if not m.context_tokens]
        if missing:
            lines.append(f"（型錄沒有 {'、'.join(missing[:5])} 的上下文資料，未列入。）" if zh
                         else f"(No context data for {', '.join(missing[:5])}; not ranked.)")
    if spec.field == "released":
        lines.append("（只列已正式釋出的模型；日期依模型卡。）" if zh else "(Released models only; dates from the model cards.)")
    return Rendered("\n".join(lines), shown=shown, variants=variants)


# ---------------------------------------------------------------- list


def render_list(plan: Plan, ctx: Context) -> Rendered:
    catalog, zh, c = ctx.catalog, plan.zh, plan.constraints
    norm = normalize(plan.question)
    country = country_filter(norm) if not c.avoid_countries else None
    family_ids = {s.id for s in plan.subjects if s.kind == "family"}
    requests = requests_of(plan.question, c)
    matches: list[Model] = []
    for model in catalog.models:
        if family_ids and model.family not in family_ids:
            continue
        if country and model.country != country:
            continue
        if check(model, c, requests, catalog, zh):
            continue
        if c.tasks and not any(t in model.strengths or (t == "vision" and takes_images(model)) for t in c.tasks):
            continue
        matches.append(model)
    parts = []
    if country:
        parts.append(COUNTRY_ZH.get(country, country) if zh else _COUNTRY_EN.get(country, country))
    summary = constraint_summary(c, zh)
    if summary:
        parts.append(summary)
    if family_ids:
        parts.append(_join([catalog.family_by_id[f].name for f in family_ids], zh))
    what = "、".join(parts) if zh else ", ".join(parts)
    if not matches:
        text = f"型錄中沒有符合（{what}）的模型。" if zh else f"No catalog model matches ({what})."
        return Rendered(text)
    names = [m.name for m in matches]
    shown_names = _join(names[:12], zh) + ("等" if zh and len(names) > 12 else (" and more" if len(names) > 12 else ""))
    lead = (f"型錄中符合（{what}）的模型有 {len(matches)} 個：{shown_names}。" if zh
            else f"{len(matches)} catalog models match ({what}): {shown_names}.")
    lines = [lead]
    for model in matches[:15]:
        cite = ctx.cites.cite(f"catalog:{model.id}")
        badge = COMMERCIAL_BADGE["zh-TW" if zh else "en"][model.commercial_use]
        span = format_params(min(v.params_total_b for v in model.sizes))
        big = format_params(max(v.params_total_b for v in model.sizes))
        size = span if span == big else f"{span}–{big}"
        lines.append(f"- **{model.name}**（{model.vendor}）：{size}，{model.licence.id}（{badge}）{cite}" if zh
                     else f"- **{model.name}** ({model.vendor}): {size}, {model.licence.id} ({badge}){cite}")
    return Rendered("\n".join(lines), shown=[m.id for m in matches])


# ---------------------------------------------------------------- lookup


_COMPANY_ASKED = re.compile(
    r"哪家|哪間|哪一家|哪個公司|哪間公司|哪個廠商|哪個家族|哪個系列|誰(?:做|出|家|開發|推出)"
    r"|which (?:company|lab|vendor|firm|family|maker)|who (?:made|makes|built|released|develop\w*|trained)|(?<![a-z])who(?![a-z])",
    re.I,
)


def render_lookup(plan: Plan, ctx: Context) -> Rendered:
    catalog, zh = ctx.catalog, plan.zh
    named = frozenset(s.id for s in plan.subjects if s.kind in ("model", "family"))
    hits = ctx.sentences.search(plan.question, k=3, exclude=named) if ctx.sentences is not None else []
    if not hits:
        text = ("知識庫（評比文章與型錄）沒有提到符合這個描述的模型。" if zh
                else "The knowledge base (the article and the catalog) does not say which model that is.")
        text += ("可以換個說法，或直接問某個模型的授權、尺寸、硬體需求。" if zh
                 else " Try rephrasing, or ask about a model's licence, size or hardware needs.")
        return Rendered(text)
    best = hits[0]
    company = bool(_COMPANY_ASKED.search(normalize(plan.question)))
    if best.model_id and not company:
        model = catalog.by_id[best.model_id]
        family = catalog.family_by_id[model.family]
        answer = f"是 **{model.name}**（{family.vendor_zh}）。" if zh else f"**{model.name}** ({family.vendor})."
        shown = [model.id]
    elif best.entity_family or best.family:
        # A company question names the section's family (the sentence's subject) unless the
        # question itself named that family ("DeepSeek 把 R1 蒸餾到哪一家的模型？" → Qwen).
        section_ok = best.family and best.family not in named and company
        family = catalog.family_by_id[best.family if section_ok else (best.entity_family or best.family)]
        answer = (f"是 **{family.name}**（{family.vendor_zh}）。" if zh else f"**{family.name}** ({family.vendor}).")
        shown = [m.id for m in catalog.models_of(family.id)][:3]
    else:
        answer = "原文這樣說：" if zh else "The article says:"
        shown = []
    cite = ctx.cites.cite(best.chunk_id)
    if best.from_article:
        quote = f"原文提到：「{best.quote_zh}」{cite}" if zh else f"The article (in Chinese) says: 「{best.quote_zh}」{cite}"
    else:
        quote = f"根據原文：{best.quote_zh}{cite}" if zh else f"According to the article: {best.quote_en}{cite}"
    lines = [answer, quote]
    for extra in hits[1:3]:
        if extra.family == best.family and extra.from_article and not best.from_article and zh:
            lines.append(f"原文：「{extra.quote_zh}」{ctx.cites.cite(extra.chunk_id)}")
            break
    if shown:
        lines.append(("型錄：" if zh else "Catalog: ") + model_fact(catalog.by_id[shown[0]], catalog, set(), ctx.cites, zh).split("。", 1)[-1].strip()
                     if zh else "Catalog: " + model_fact(catalog.by_id[shown[0]], catalog, set(), ctx.cites, zh))
    return Rendered("\n".join(line for line in lines if line.strip()), shown=shown)


# ---------------------------------------------------------------- scope


def render_unknown(plan: Plan, ctx: Context) -> Rendered:
    catalog, zh = ctx.catalog, plan.zh
    names = [s.name for s in plan.subjects if s.kind == "unknown"]
    # Only a known family's unknown version ("Qwen 7.5") is repeated back; any other word
    # from the question is not echoed (a planted name must never reach an answer).
    family_names = {f.name.lower() for f in catalog.families}
    echo = [n for n in names if n.split(" ")[0].lower() in family_names]
    shown = _join(echo, zh) if echo else ("你問的這個模型" if zh else "The model you asked about")
    families = [catalog.family_by_id[f].name for f in dict.fromkeys(
        f for n in names for f in [fam.id for fam in catalog.families if n.lower().startswith(fam.name.lower())])]
    if zh:
        lines = [f"型錄沒有收錄{' ' + shown if echo else shown}，所以無法回答這個問題；我不會拿別的模型代替。"]
        if families:
            members = "、".join(m.name for f in families for m in catalog.models_of(next(x.id for x in catalog.families if x.name == f)))
            lines.append(f"型錄中的 {'、'.join(families)} 有：{members}。")
        lines.append("知識庫涵蓋這些家族：" + "、".join(f.name for f in catalog.families) + "。")
        known = [s for s in plan.subjects if s.kind == "model"]
        if known:
            lines.append("型錄中有的：" + " ".join(_model(catalog, s).summary_zh + ctx.cites.cite(f"catalog:{s.id}") for s in known[:2]))
    else:
        lines = [f"{shown} is not covered by the catalog, so I cannot answer that; I won't substitute another model."]
        if families:
            members = ", ".join(m.name for f in families for m in catalog.models_of(next(x.id for x in catalog.families if x.name == f)))
            lines.append(f"The catalog's {', '.join(families)} models are: {members}.")
        lines.append("The knowledge base covers these families: " + ", ".join(f.name for f in catalog.families) + ".")
        known = [s for s in plan.subjects if s.kind == "model"]
        if known:
            lines.append("In the catalog: " + " ".join(_model(catalog, s).summary_en + ctx.cites.cite(f"catalog:{s.id}") for s in known[:2]))
    return Rendered("\n".join(lines), shown=[s.id for s in plan.subjects if s.kind == "model"])


def render_out_of_scope(plan: Plan, ctx: Context) -> Rendered:
    zh = plan.zh
    if zh:
        head = "這個問題不在我的範圍內：我只回答開源（開放權重）語言模型的選型，無法推薦硬體或其他產品。"
    else:
        head = "That is outside my scope: I only help choose open-weight language models, not hardware or other products."
    return Rendered(head + "\n" + scope_answer(zh, plan.injection).split("\n", 1)[-1])


def render_closed(plan: Plan, ctx: Context) -> Rendered:
    return Rendered(closed_answer(ctx.catalog, [s.id for s in plan.subjects if s.kind == "closed"], plan.zh))


def render_scope(plan: Plan, ctx: Context) -> Rendered:
    return Rendered(scope_answer(plan.zh, plan.injection))


def render(plan: Plan, ctx: Context) -> Rendered:
    """The answer for a plan; the intent picks the renderer."""
    if plan.intent == "recommend":
        families = [s.id for s in plan.subjects if s.kind == "family"]
        return render_recommend(plan, ctx, family=families[0] if len(families) == 1 else None)
    renderer = {
        "fact": render_fact,
        "false_premise": render_false_premise,
        "fit": render_fit,
        "why_not": render_why_not,
        "compare": render_compare,
        "rank": render_rank,
        "list": render_list,
        "lookup": render_lookup,
        "unknown_model": render_unknown,
        "out_of_scope": render_out_of_scope,
        "closed": render_closed,
    }.get(plan.intent, render_scope)
    return renderer(plan, ctx)
