"""The compare tab: 2–3 models side by side (a table that scrolls sideways on a phone) and the
same comparison as a Markdown download.

The table and the download are rebuilt whenever the selection, the memory budget or the
language changes, so 「下載 Markdown」 always exports what is on screen (not the comparison of
the last press of 「比較」).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from ..labels import country_label, format_params
from .catalog import article_passages, model_by_name
from .common import empty, esc, is_en, lang, t
from .render import (
    ARCH_TEXT,
    best_fit,
    commercial_badge,
    commercial_text,
    context_text,
    fit_text,
    hardware_label,
    params_text,
    strengths_text,
    verdict_text,
    weaknesses_text,
)

if TYPE_CHECKING:
    from ..knowledge import Catalog, Model
    from ..service import Assistant

DEFAULT_PICK = ["Phi-4", "Gemma 3"]


def memory_kinds(language: str | None) -> list[tuple[str, str]]:
    if is_en(language):
        return [("RAM (CPU)", "ram"), ("VRAM (discrete GPU)", "vram"), ("Unified memory (Apple M series)", "unified")]
    return [("RAM（CPU）", "ram"), ("顯示卡記憶體 VRAM（獨立顯示卡）", "vram"), ("統一記憶體（Apple M 系列）", "unified")]


def _fit_label(memory_gb: float | None, kind: str, language: str | None) -> str:
    if not memory_gb:
        return "Memory" if is_en(language) else "記憶體"
    where = hardware_label({"memory_gb": float(memory_gb), "kind": kind}, language)
    return f"Runs on {where}?" if is_en(language) else f"{where} 跑得動嗎"


def _compare_fields(model: Model, family_name: str, memory_gb: float | None, kind: str, language: str | None) -> list[tuple[str, str]]:
    en = is_en(language)
    if memory_gb:
        fit = best_fit(model, {"memory_gb": float(memory_gb), "kind": kind})
        fit_cell = fit_text(fit, language) if fit else ("does not fit" if en else "放不下")
    else:
        fit_cell = "—"
    country = model.country if en else country_label(model.country, "zh-TW")
    return [
        ("Vendor" if en else "廠商", f"{model.vendor} ({country})" if en else f"{model.vendor}（{country}）"),
        ("Family" if en else "家族", family_name),
        ("Parameters" if en else "參數", params_text(model.params_total_b, model.params_active_b, language)),
        ("Sizes" if en else "可下載尺寸", ", ".join(format_params(v.params_total_b) for v in model.sizes)),
        ("Architecture" if en else "架構", ARCH_TEXT.get(model.architecture, model.architecture)),
        ("Context" if en else "上下文", context_text(model.context_tokens, language)),
        ("Licence" if en else "授權", f"{model.licence.name} ({model.licence.id})"),
        ("Commercial use" if en else "商用", commercial_text(model, language)),
        ("Modalities" if en else "模態", ", ".join(model.modalities)),
        (_fit_label(memory_gb, kind, language), fit_cell),
        ("Strengths" if en else "強項", strengths_text(model, language) or "—"),
        ("Weaknesses" if en else "缺點", weaknesses_text(model, language)),
        ("Article's verdict" if en else "原文評價", verdict_text(model, language)),
        ("As of" if en else "資料日期", model.as_of.isoformat()),
    ]


def selected_models(catalog: Catalog, names: list[str] | None) -> list[Model]:
    models = [m for m in (model_by_name(catalog, n) for n in (names or [])) if m is not None]
    unique = {m.id: m for m in models}
    return list(unique.values())[:3]


def compare_html(catalog: Catalog, names: list[str] | None, memory_gb: float | None = None, kind: str = "ram",
                 language: str | None = "zh-TW") -> str:
    """Two or three models side by side, as an escaped HTML table in a box that scrolls
    sideways when the screen is narrower than the table."""
    models = selected_models(catalog, names)
    if len(models) < 2:
        return empty("Pick 2–3 models to compare." if is_en(language) else "請選 2–3 個模型來比較。")
    columns = [_compare_fields(m, catalog.family_by_id[m.family].name, memory_gb, kind, language) for m in models]
    head = "<tr><th></th>" + "".join(f"<th>{esc(m.name)} {commercial_badge(m, language)}</th>" for m in models) + "</tr>"
    body = "".join(
        f"<tr><th>{esc(label)}</th>" + "".join(f"<td>{esc(col[i][1])}</td>" for col in columns) + "</tr>"
        for i, (label, _) in enumerate(columns[0])
    )
    names_attr = esc("|".join(m.name for m in models))
    return f'<div class="cmp cmp-wrap" data-models="{names_attr}"><table>{head}{body}</table></div>'


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def compare_markdown(catalog: Catalog, names: list[str] | None, memory_gb: float | None = None, kind: str = "ram",
                     language: str | None = "zh-TW", passages: dict[str, list[str]] | None = None) -> str:
    """The comparison as a Markdown document with its sources and as-of date."""
    en = is_en(language)
    models = selected_models(catalog, names)
    if len(models) < 2:
        return ""
    columns = [_compare_fields(m, catalog.family_by_id[m.family].name, memory_gb, kind, language) for m in models]
    title = " vs ".join(m.name for m in models)
    lines = [
        f"# Model comparison: {title}" if en else f"# 模型比較：{title}",
        "",
        (f"Catalog facts as of {catalog.as_of.isoformat()}; “the article” is the comparison article in the knowledge base." if en
         else f"型錄資料截至 {catalog.as_of.isoformat()}；「原文」指知識庫收錄的評比文章。"),
        "",
        "| | " + " | ".join(_md_cell(m.name) for m in models) + " |",
        "|---|" + "---|" * len(models),
    ]
    for i, (label, _) in enumerate(columns[0]):
        lines.append(f"| {_md_cell(label)} | " + " | ".join(_md_cell(col[i][1]) for col in columns) + " |")
    lines += ["", f"## {'What the article says' if en else '原文怎麼說'}", ""]
    for model in models:
        lines.append(f"- **{model.name}**: {verdict_text(model, language)}" if en else f"- **{model.name}**：{verdict_text(model, language)}")
        for text in (passages or {}).get(model.id, [])[:2]:
            lines.append(f"  > {' '.join(text.split())}")
    lines += ["", f"## {'Sources' if en else '資料來源'}", ""]
    for model in models:
        lines.append(f"- **{model.name}** (as of {model.as_of.isoformat()})" if en else f"- **{model.name}**（as of {model.as_of.isoformat()}）")
        for group, source in model.sources.items():
            lines.append(f"  - {group}: {source}")
        section = catalog.family_by_id[model.family].article_section or ("not in the article" if en else "原文未提及")
        lines.append(f"  - {'article section' if en else '原文章節'}: {section}")
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


# ------------------------------------------------------------------ layout and events


def build_compare(assistant: Assistant, language_input: Any, export_dir: Path, default_memory: float,
                  default_kind: str) -> dict[str, Any]:
    """The compare tab's components and events (call inside its `gr.Tab`)."""
    catalog = assistant.catalog
    names = [m.name for m in catalog.models]
    with gr.Row():
        picked = gr.Dropdown(names, value=DEFAULT_PICK if set(DEFAULT_PICK) <= set(names) else None, multiselect=True,
                             max_choices=3, label=t("compare.pick", "zh-TW"), elem_id="compare-models", scale=3)
        memory = gr.Number(value=default_memory, label=t("compare.memory", "zh-TW"), minimum=0.5, maximum=4096,
                           elem_id="compare-memory", scale=1)
        kind = gr.Radio(memory_kinds("zh-TW"), value=default_kind, label=t("compare.kind", "zh-TW"), elem_id="compare-kind",
                        scale=2)
    note = gr.Markdown("", elem_id="compare-hardware")
    with gr.Row():
        button = gr.Button(t("compare.button", "zh-TW"), variant="primary", elem_id="compare-button")
        download = gr.DownloadButton(t("compare.download", "zh-TW"), visible=False, elem_id="compare-download")
    comparison = gr.HTML(compare_html(catalog, None), elem_id="comparison", js_on_load=None)

    def on_compare(picked_names: list[str] | None, memory_value: Any, kind_value: str, language_value: str) -> tuple[str, Any]:
        page = lang(language_value)
        memory_gb = float(memory_value) if isinstance(memory_value, (int, float)) and memory_value > 0 else None
        table_html = compare_html(catalog, picked_names, memory_gb, kind_value, page)
        path = export_comparison(assistant, picked_names, memory_gb, kind_value, page, export_dir)
        if path is None:
            return table_html, gr.update(visible=False, value=None)
        return table_html, gr.update(visible=True, value=str(path), label=t("compare.download", page))

    inputs, outputs = [picked, memory, kind, language_input], [comparison, download]
    button.click(on_compare, inputs, outputs, api_name="compare", concurrency_limit=4)
    # What is on screen is what downloads: a new selection rebuilds both at once.
    for control in (picked, kind):
        control.change(on_compare, inputs, outputs, api_visibility="private", concurrency_limit=4, trigger_mode="always_last")
    memory.change(on_compare, inputs, outputs, api_visibility="private", concurrency_limit=4, trigger_mode="always_last")
    return {"picked": picked, "memory": memory, "kind": kind, "note": note, "button": button, "download": download,
            "comparison": comparison, "inputs": inputs, "outputs": outputs, "on_compare": on_compare}


def relabel_compare(parts: dict[str, Any], language: str) -> list[Any]:
    return [
        gr.update(label=t("compare.pick", language)),
        gr.update(label=t("compare.memory", language)),
        gr.update(choices=memory_kinds(language), label=t("compare.kind", language)),
        gr.update(value=t("compare.button", language)),
    ]


def relabelled_compare(parts: dict[str, Any]) -> list[Any]:
    return [parts["picked"], parts["memory"], parts["kind"], parts["button"]]
