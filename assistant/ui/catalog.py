"""The catalog tab: filters, a sortable table (one card per model on a phone) and the entry of
the picked row, which the page scrolls to and highlights (`assets.ENTRY_JS`)."""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING, Any

import gradio as gr

from ..knowledge import STRENGTH_TAGS
from ..labels import commercial_label, country_label, format_params, task_label
from .assets import CATALOG_JS, ENTRY_JS
from .common import empty, esc, is_en, lang, t
from .render import (
    ARCH_TEXT,
    VERDICT_TEXT,
    commercial_badge,
    commercial_text,
    context_text,
    params_text,
    size_range,
    strengths_text,
    verdict_text,
    weaknesses_text,
)

if TYPE_CHECKING:
    from ..knowledge import Catalog, Model
    from ..service import Assistant

log = logging.getLogger(__name__)

CATALOG_HEADERS = [
    "模型 Model", "家族 Family", "廠商 Vendor", "最小尺寸 Smallest (B)", "啟動 Active (B)", "架構 Arch",
    "上下文 Context (k)", "授權 Licence", "商用 Commercial", "模態 Modalities", "強項 Strengths",
    "原文評價 Verdict", "資料日期 As of",
]
SIZE_LIMITS = [0, 1, 4, 8, 16, 32, 72, 125, 400]


def size_filters(language: str | None) -> list[tuple[str, int]]:
    out = [("Any" if is_en(language) else "不限", 0)]
    for limit in SIZE_LIMITS[1:]:
        phone = (" (phone)" if is_en(language) else "（手機）") if limit == 1 else ""
        out.append((f"≤ {limit}B{phone}", limit))
    return out


def commercial_filters(language: str | None) -> list[tuple[str, str]]:
    if is_en(language):
        return [("All", "all"), ("Commercial use (incl. with conditions)", "commercial"), ("Unconditional only", "unconditional")]
    return [("全部", "all"), ("可商用（含有條件）", "commercial"), ("僅無條件可商用", "unconditional")]


def tag_choices(language: str | None) -> list[tuple[str, str]]:
    return [(task_label(tag, lang(language)), tag) for tag in sorted(STRENGTH_TAGS)]


# ------------------------------------------------------------------ vendors

_WITH_PARTNER = re.compile(r"\s*\((?:with|與|和)\s[^)]*\)\s*$", re.I)


def vendor_names(catalog: Catalog) -> dict[str, str]:
    """Each catalog vendor -> the name the vendor filter lists it under.

    A release made with a partner ("Mistral AI (with All Hands AI)") and a vendor's own lab
    ("Cohere For AI") are listed under the vendor ("Mistral AI", "Cohere")."""
    vendors = {m.vendor for m in catalog.models}
    base = {v: _WITH_PARTNER.sub("", v).strip() or v for v in vendors}
    names = set(base.values())
    out = {}
    for vendor, name in base.items():
        parent = next((p for p in sorted(names, key=len) if p != name and name.startswith(p + " ")), None)
        out[vendor] = parent or name
    return out


def vendor_choices(catalog: Catalog) -> list[str]:
    return sorted(set(vendor_names(catalog).values()), key=str.lower)


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
        vendors: keep models from these vendors (as `vendor_choices` lists them).
    """
    names = vendor_names(catalog)
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
        if vendors and names.get(model.vendor, model.vendor) not in vendors and model.vendor not in vendors:
            continue
        kept.append(model)
    return kept


def context_k(tokens: int | None) -> float | None:
    """Context in thousands, as the model cards say it: 131072 -> 128, 32000 -> 32."""
    if not tokens:
        return None
    return round(tokens / 1024, 1) if tokens % 1000 else tokens / 1000


def catalog_rows(catalog: Catalog, commercial: str = "all", max_size_b: float | None = None, tags: list[str] | None = None,
                 vendors: list[str] | None = None, language: str | None = "zh-TW") -> list[list[Any]]:
    """The filtered catalog as plain rows (`CATALOG_HEADERS`); the size is the smallest
    downloadable one, so a series sorts by what people can actually run."""
    return [
        [model.name, catalog.family_by_id[model.family].name, model.vendor, min(v.params_total_b for v in model.sizes),
         model.active_b, ARCH_TEXT[model.architecture], context_k(model.context_tokens), model.licence.id,
         commercial_label(model.commercial_use, lang(language)), ", ".join(model.modalities),
         strengths_text(model, language), verdict_text(model, language), model.as_of.isoformat()]
        for model in catalog_models(catalog, commercial, max_size_b, tags, vendors)
    ]


def model_by_name(catalog: Catalog, name: str | None) -> Model | None:
    if not name:
        return None
    return next((m for m in catalog.models if m.name == name or m.id == name), None)


# ------------------------------------------------------------------ the table

CATALOG_COLUMNS: list[tuple[str, str, str, str]] = [
    # key, zh label, en label, sort type
    ("name", "模型", "Model", "str"),
    ("family", "家族", "Family", "str"),
    ("vendor", "廠商", "Vendor", "str"),
    ("sizes", "可下載尺寸", "Sizes", "num"),
    ("active", "啟動參數", "Active", "num"),
    ("arch", "架構", "Arch", "str"),
    ("context", "上下文", "Context", "num"),
    ("licence", "授權", "Licence", "str"),
    ("commercial", "商用", "Commercial", "str"),
    ("modalities", "模態", "Modalities", "str"),
    ("strengths", "強項", "Strengths", "str"),
    ("verdict", "原文評價", "Verdict", "str"),
    ("as_of", "資料日期", "As of", "str"),
]
# Columns a narrow screen keeps (the rest are in the entry shown on tap).
NARROW_COLUMNS = {"name", "vendor", "sizes", "context", "licence", "commercial"}


def catalog_cells(model: Model, catalog: Catalog, language: str | None) -> list[tuple[str, str, float | str]]:
    """(key, text, sort key) for each column of one model's row."""
    page = lang(language)
    smallest = min(v.params_total_b for v in model.sizes)
    active = model.params_active_b
    strengths = strengths_text(model, language)
    family = catalog.family_by_id[model.family].name
    return [
        ("name", model.name, model.name.lower()),
        ("family", family, family.lower()),
        ("vendor", model.vendor, model.vendor.lower()),
        ("sizes", size_range(model), smallest),
        ("active", format_params(active) if active else "—", active or model.params_total_b),
        ("arch", ARCH_TEXT.get(model.architecture, model.architecture), model.architecture),
        ("context", context_text(model.context_tokens, language), model.context_tokens or 0),
        ("licence", model.licence.id, model.licence.id.lower()),
        ("commercial", commercial_label(model.commercial_use, page), {"yes": 0, "conditional": 1, "no": 2}[model.commercial_use]),
        ("modalities", ", ".join(model.modalities), ", ".join(model.modalities)),
        ("strengths", strengths, strengths),
        ("verdict", VERDICT_TEXT[page][model.verdict], {"recommended": 0, "neutral": 1, "not-recommended": 2}[model.verdict]),
        ("as_of", model.as_of.isoformat(), model.as_of.isoformat()),
    ]


def render_catalog_table(models: list[Model], catalog: Catalog, language: str | None) -> str:
    """The catalog as a sortable HTML table: a click on a header sorts by that column
    (numbers numerically; sizes by the smallest downloadable size), a click on a row
    shows that entry. Narrow screens get one card per model."""
    en = is_en(language)
    head = "".join(
        f'<th data-key="{key}" data-type="{kind}" aria-sort="none" class="col-{key}'
        f'{" narrow-keep" if key in NARROW_COLUMNS else ""}"><button type="button" class="sort">'
        f'{esc(en_label if en else zh_label)}<span class="sort-mark" aria-hidden="true"></span></button></th>'
        for key, zh_label, en_label, kind in CATALOG_COLUMNS
    )
    labels = {key: (en_label if en else zh_label) for key, zh_label, en_label, _ in CATALOG_COLUMNS}
    rows = []
    for model in models:
        cells = "".join(
            f'<td class="col-{key}{" narrow-keep" if key in NARROW_COLUMNS else ""}" data-label="{esc(labels[key])}" '
            f'data-sort="{esc(sort)}">{esc(text)}</td>'
            for key, text, sort in catalog_cells(model, catalog, language)
        )
        rows.append(f'<tr data-model="{esc(model.name)}" tabindex="0">{cells}</tr>')
    if not rows:
        return empty("No model matches these filters." if en else "沒有符合篩選條件的模型。")
    hint = "Click a column header to sort, a row to see the entry." if en else "點欄位標題排序，點一列看詳細資料。"
    return (
        f'<div class="catalog-wrap"><div class="catalog-hint">{hint}</div>'
        f'<table class="catalog"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
    )


# ------------------------------------------------------------------ the entry


def article_passages(assistant: Assistant, model: Model) -> list[Any]:
    """The article's chunks about a model's family, from the assistant's index."""
    try:
        chunks = assistant.retriever.chunks
    except Exception as exc:  # an index still building must not break the catalog
        log.warning("chunks unavailable: %s", exc)
        return []
    return [c for c in chunks if c.source == "article" and c.family == model.family]


def render_entry(assistant: Assistant, model: Model | None, language: str | None = "zh-TW", pick: str | None = None) -> str:
    """One catalog entry with its article passage, as escaped HTML. `pick` marks an entry
    opened by a click on its row: the page scrolls to it and highlights it."""
    zh = not is_en(language)
    if model is None:
        return empty("點選表格中的一列，查看完整資料與原文段落。" if zh else "Select a row to see the entry and its article passage.")
    catalog = assistant.catalog
    family = catalog.family_by_id[model.family]
    country = country_label(model.country, "zh-TW") if zh else model.country
    experts = (f"；{model.experts} 個專家" if zh else f"; {model.experts} experts") if model.experts else ""
    rows = [
        ("廠商" if zh else "Vendor", f"{model.vendor}（{family.vendor_zh}，{country}）" if zh else f"{model.vendor} ({country})"),
        ("參數" if zh else "Parameters", params_text(model.params_total_b, model.params_active_b, language) + experts),
        ("可下載尺寸" if zh else "Sizes", ("、" if zh else ", ").join(
            f"{v.name}（{format_params(v.params_total_b)}）" if zh else f"{v.name} ({format_params(v.params_total_b)})"
            for v in model.sizes)),
        ("上下文" if zh else "Context", context_text(model.context_tokens, language)),
        ("授權" if zh else "Licence", f"{model.licence.name}（{model.licence.id}）" if zh else f"{model.licence.name} ({model.licence.id})"),
        ("商用" if zh else "Commercial use", commercial_text(model, language)),
        ("模態" if zh else "Modalities", ", ".join(model.modalities)),
        *([("中文", model.languages.chinese_note)] if zh else []),
        ("強項" if zh else "Strengths", strengths_text(model, language)),
        ("缺點" if zh else "Weaknesses", weaknesses_text(model, language)),
        ("原文評價" if zh else "Article's verdict", verdict_text(model, language)),
        ("發布" if zh else "Released", model.released or "—"),
        ("資料日期" if zh else "As of", model.as_of.isoformat()),
    ]
    table = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    sources = "".join(f"<li>{esc(k)}{'：' if zh else ': '}{esc(v)}</li>" for k, v in model.sources.items())
    passage_html = "".join(f'<div class="passage">{esc(c.text)}</div>' for c in article_passages(assistant, model)) or empty(
        "原文沒有這個家族的段落。" if zh else "The article has no passage on this family.")
    summary = model.summary_zh if zh else model.summary_en
    section = family.article_section or ("原文未提及" if zh else "not in the article")
    picked = f' data-pick="{esc(pick)}"' if pick else ""
    return (
        f'<div class="entry cmp" data-model="{esc(model.name)}"{picked}>'
        f'<h3 tabindex="-1">{esc(model.name)} {commercial_badge(model, language)}</h3>'
        f"<p>{esc(summary)}</p><table>{table}</table>"
        f'<h4>{"原文段落：" if zh else "Article passage (Chinese): "}{esc(section)}</h4>{passage_html}'
        f'<h4>{"資料來源" if zh else "Sources"}</h4><ul>{sources}</ul></div>'
    )


# ------------------------------------------------------------------ layout and events


def build_catalog(assistant: Assistant, language_input: Any) -> dict[str, Any]:
    """The catalog tab's components and events (call inside its `gr.Tab`)."""
    catalog = assistant.catalog
    with gr.Row():
        commercial = gr.Radio(commercial_filters("zh-TW"), value="all", label=t("filter.commercial", "zh-TW"),
                              elem_id="filter-commercial")
        max_size = gr.Dropdown(size_filters("zh-TW"), value=0, label=t("filter.size", "zh-TW"), elem_id="filter-size")
    with gr.Row():
        tags = gr.Dropdown(tag_choices("zh-TW"), multiselect=True, label=t("filter.tags", "zh-TW"), elem_id="filter-tags")
        vendor = gr.Dropdown(vendor_choices(catalog), multiselect=True, label=t("filter.vendor", "zh-TW"), elem_id="filter-vendor")
    count = gr.Markdown(t("catalog.count", "zh-TW", count=len(catalog.models), as_of=catalog.as_of.isoformat()),
                        elem_id="catalog-count")
    # Filled when the page loads, not in the page config: the table is the config's largest
    # part, and every API client fetches the config.
    table = gr.HTML("", elem_id="catalog-table", js_on_load=CATALOG_JS)
    entry = gr.HTML(render_entry(assistant, None), elem_id="catalog-entry", js_on_load=ENTRY_JS)
    picked = gr.State(None)  # the model whose entry is shown, redrawn when the language changes

    def on_filter(commercial_value: str, size_value: Any, tag_values: list[str], vendor_values: list[str],
                  language_value: str) -> tuple[str, str]:
        page = lang(language_value)
        models = catalog_models(catalog, commercial_value, float(size_value or 0) or None, tag_values, vendor_values)
        text = t("catalog.match", page, count=len(models), total=len(catalog.models), as_of=catalog.as_of.isoformat())
        return render_catalog_table(models, catalog, page), text

    filters = [commercial, max_size, tags, vendor, language_input]
    for control in filters:
        control.change(on_filter, filters, [table, count], api_visibility="private", concurrency_limit=4)

    def on_pick(language_value: str, evt: gr.EventData) -> tuple[str, str | None]:
        data = getattr(evt, "_data", None)
        name = data.get("model") if isinstance(data, dict) else None
        model = model_by_name(catalog, name if isinstance(name, str) else None)
        return render_entry(assistant, model, lang(language_value), pick=str(time.monotonic_ns())), (model.name if model else None)

    table.click(on_pick, [language_input], [entry, picked], api_visibility="private", concurrency_limit=4)

    def relabel(language: str, picked_name: str | None) -> list[Any]:
        """Updates for the filters' labels and choices and the entry (the table follows via its own event)."""
        return [
            gr.update(choices=commercial_filters(language), label=t("filter.commercial", language)),
            gr.update(choices=size_filters(language), label=t("filter.size", language)),
            gr.update(choices=tag_choices(language), label=t("filter.tags", language)),
            gr.update(label=t("filter.vendor", language)),
            render_entry(assistant, model_by_name(catalog, picked_name), language),
        ]

    return {"commercial": commercial, "max_size": max_size, "tags": tags, "vendor": vendor, "count": count,
            "table": table, "entry": entry, "picked": picked, "filters": filters, "on_filter": on_filter, "relabel": relabel}


def relabelled_catalog(parts: dict[str, Any]) -> list[Any]:
    return [parts["commercial"], parts["max_size"], parts["tags"], parts["vendor"], parts["entry"]]
