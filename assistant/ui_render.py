"""Rendering helpers for the web UI that need no gradio: citation links, list spacing,
localised source passages, the conversation's hardware and the catalog table.

Everything returned as HTML is built from escaped text (`esc`); Markdown goes through
`ui.sanitize_markdown` before these helpers add their own, fixed, links.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from .hardware import USABLE_FRACTION
from .index import format_context, format_params
from .labels import commercial_label, task_label

if TYPE_CHECKING:
    from .knowledge import Catalog, Model

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def esc(value: object) -> str:
    """Escape any value for HTML text or attribute context."""
    return html.escape(_CONTROL.sub("", str(value)), quote=True)


def is_en(language: str | None) -> bool:
    return language == "en"


def server_wording(text: str) -> str:
    """Say 伺服器 where a message says 本機: the page may be open on another computer,
    and the model and memory it means are the server's."""
    return text.replace("本機模型", "伺服器上的模型").replace("本機", "伺服器")


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
    return text or SOURCE_KIND["en" if is_en(language) else "zh-TW"].get(source, source)


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
    out = "\n".join(lines)
    return re.sub(r"。{2,}", "。", out)


def render_source_groups(groups: list[list[dict[str, str]]], language: str | None) -> str:
    """Every answer's sources, newest first; only the newest group starts open.

    Each source has the id `src-a{answer}-{n}`, the target of `[n]` in that answer.
    """
    en = is_en(language)
    heading = f'<h4 class="panel-title">{"Sources" if en else "引用來源"}</h4>'
    if not any(groups):
        empty = "Passages the answer cites are listed here." if en else "回答引用的段落會列在這裡。"
        return f'{heading}<div class="panel-empty">{empty}</div>'
    kinds = SOURCE_KIND["en" if en else "zh-TW"]
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
        label = (f"Answer {answer_no}: {len(sources)} sources" if en else f"第 {answer_no} 則回答的來源（{len(sources)}）")
        is_open = " open" if answer_no == latest else ""
        parts.append(
            f'<details class="src-group" id="{source_anchor(answer_no)}" data-answer="{answer_no}"{is_open}>'
            f'<summary class="src-group-title">{esc(label)}</summary>{"".join(items)}</details>'
        )
    return f'{heading}<div class="src">{"".join(parts)}</div>'


# ------------------------------------------------------------------ hardware in the conversation

KIND_LABEL = {
    "zh-TW": {"ram": "RAM", "vram": "VRAM", "unified": "統一記憶體"},
    "en": {"ram": "RAM", "vram": "VRAM", "unified": "unified memory"},
}


def _field(source: Any, name: str) -> Any:
    if source is None:
        return None
    if isinstance(source, dict):
        return source.get(name)
    return getattr(source, name, None)


def reply_hardware(reply: Any, previous: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The memory budget the conversation states: {memory_gb, kind, origin}, or `previous`.

    Read from the reply's plan when it has one, else its constraints (the planner keeps
    them across turns); a reply that states no hardware keeps the earlier budget.
    """
    plan = getattr(reply, "plan", None)
    for source in (plan, _field(plan, "constraints"), getattr(reply, "constraints", None)):
        memory = _field(source, "memory_gb")
        if isinstance(memory, (int, float)) and not isinstance(memory, bool) and memory > 0:
            kind = _field(source, "memory_kind")
            if kind not in USABLE_FRACTION:
                kind = "ram"
            hardware: dict[str, Any] = {"memory_gb": float(memory), "kind": kind, "origin": "conversation"}
            name = _field(source, "hardware_name")
            if isinstance(name, str) and name:
                hardware["name"] = name
            count = _field(source, "gpu_count")
            if isinstance(count, int) and not isinstance(count, bool) and count > 1:
                hardware["gpu_count"] = count
            bandwidth = _field(source, "bandwidth_gbs")
            if isinstance(bandwidth, (int, float)) and not isinstance(bandwidth, bool) and bandwidth > 0:
                hardware["bandwidth_gbs"] = float(bandwidth)
            return hardware
    return previous


def machine_hardware(machine: dict[str, Any] | None, origin: str = "detected") -> dict[str, Any] | None:
    """A detected machine (`detect_machine()` dict) as a budget: NVIDIA VRAM when present, else RAM."""
    machine = machine or {}
    if "memory_gb" in machine:
        memory = machine.get("memory_gb")
        kind = machine.get("kind") or "ram"
        if isinstance(memory, (int, float)) and memory > 0:
            return {**machine, "memory_gb": float(memory), "kind": kind, "origin": machine.get("origin", origin)}
        return None
    vram = machine.get("vram_gb")
    if isinstance(vram, (int, float)) and vram > 0:
        return {"memory_gb": float(vram), "kind": "vram", "origin": origin}
    ram = machine.get("ram_gb")
    if isinstance(ram, (int, float)) and ram > 0:
        return {"memory_gb": float(ram), "kind": "ram", "origin": origin}
    return None


def hardware_label(hardware: dict[str, Any] | None, language: str | None) -> str:
    """'16 GB RAM', '24 GB VRAM', '36 GB 統一記憶體'."""
    if not hardware:
        return ""
    kinds = KIND_LABEL["en" if is_en(language) else "zh-TW"]
    memory = f"{hardware['memory_gb']:g} GB {kinds.get(hardware.get('kind', 'ram'), hardware.get('kind', 'ram'))}"
    name = hardware.get("name")
    if not name:
        return memory
    count = hardware.get("gpu_count")
    name = f"{count}× {name}" if isinstance(count, int) and count > 1 else name
    return f"{name}（{memory}）" if not is_en(language) else f"{name} ({memory})"


def usable_rule(kind: str, language: str | None) -> str:
    """'可用預算取 RAM 的 75 %' / 'usable budget: 75 % of RAM'."""
    fraction = round(USABLE_FRACTION.get(kind, USABLE_FRACTION["ram"]) * 100)
    label = KIND_LABEL["en" if is_en(language) else "zh-TW"].get(kind, kind)
    return f"usable budget = {fraction} % of {label}" if is_en(language) else f"可用預算＝{label} 的 {fraction} %"


# ------------------------------------------------------------------ catalog table

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
_VERDICT = {
    "zh-TW": {"recommended": "推薦", "neutral": "中立", "not-recommended": "不推薦"},
    "en": {"recommended": "recommended", "neutral": "neutral", "not-recommended": "not recommended"},
}
_ARCH = {"dense": "dense", "moe": "MoE", "hybrid": "hybrid", "ssm": "SSM"}


def size_range(model: Model) -> str:
    """'0.6B–235B' for a series, '14.7B' for one size."""
    sizes = sorted(v.params_total_b for v in model.sizes)
    if len(sizes) == 1 or sizes[0] == sizes[-1]:
        return format_params(sizes[0])
    return f"{format_params(sizes[0])}–{format_params(sizes[-1])}"


def catalog_cells(model: Model, catalog: Catalog, language: str | None) -> list[tuple[str, str, float | str]]:
    """(key, text, sort key) for each column of one model's row."""
    en = is_en(language)
    lang = "en" if en else "zh-TW"
    smallest = min(v.params_total_b for v in model.sizes)
    active = model.params_active_b
    strengths = ", ".join(model.strengths) if en else "、".join(task_label(t, "zh-TW") for t in model.strengths)
    return [
        ("name", model.name, model.name.lower()),
        ("family", catalog.family_by_id[model.family].name, catalog.family_by_id[model.family].name.lower()),
        ("vendor", model.vendor, model.vendor.lower()),
        ("sizes", size_range(model), smallest),
        ("active", format_params(active) if active else "—", active or model.params_total_b),
        ("arch", _ARCH[model.architecture], model.architecture),
        ("context", format_context(model.context_tokens) if model.context_tokens else ("not stated" if en else "未載明"),
         model.context_tokens or 0),
        ("licence", model.licence.id, model.licence.id.lower()),
        ("commercial", commercial_label(model.commercial_use, lang), {"yes": 0, "conditional": 1, "no": 2}[model.commercial_use]),
        ("modalities", ", ".join(model.modalities), ", ".join(model.modalities)),
        ("strengths", strengths, strengths),
        ("verdict", _VERDICT[lang][model.verdict], {"recommended": 0, "neutral": 1, "not-recommended": 2}[model.verdict]),
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
        empty = "No model matches these filters." if en else "沒有符合篩選條件的模型。"
        return f'<div class="panel-empty">{empty}</div>'
    hint = ("Click a column header to sort, a row to see the entry." if en
            else "點欄位標題排序，點一列看詳細資料。")
    return (
        f'<div class="catalog-wrap"><div class="catalog-hint">{hint}</div>'
        f'<table class="catalog"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
    )


# Runs once when the catalog component mounts: sort on header click, pick on row click.
CATALOG_JS = """
const sortBy = (th) => {
  const table = th.closest('table');
  const body = table.tBodies[0];
  const index = Array.from(th.parentNode.children).indexOf(th);
  const numeric = th.dataset.type === 'num';
  const dir = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
  table.querySelectorAll('th').forEach((h) => h.setAttribute('aria-sort', 'none'));
  th.setAttribute('aria-sort', dir);
  const key = (row) => { const v = row.children[index].dataset.sort; return numeric ? parseFloat(v) : v; };
  const rows = Array.from(body.rows);
  rows.sort((a, b) => { const x = key(a), y = key(b); const c = numeric ? x - y : String(x).localeCompare(String(y));
                        return dir === 'ascending' ? c : -c; });
  rows.forEach((r) => body.appendChild(r));
};
const pick = (row) => {
  element.querySelectorAll('tr.picked').forEach((r) => r.classList.remove('picked'));
  row.classList.add('picked');
  trigger('click', {model: row.dataset.model});
};
element.addEventListener('click', (event) => {
  const th = event.target.closest('th[data-key]');
  if (th) { sortBy(th); return; }
  const row = event.target.closest('tr[data-model]');
  if (row) pick(row);
});
element.addEventListener('keydown', (event) => {
  const row = event.target.closest && event.target.closest('tr[data-model]');
  if (row && (event.key === 'Enter' || event.key === ' ')) { event.preventDefault(); pick(row); }
});
"""

# Runs once when the sources panel mounts: a click on `[n]` in any answer opens that
# answer's passage n in the panel (Open WebUI's citation chips open the cited passage too).
CITATION_JS = """
if (!window.__citationsWired) {
  window.__citationsWired = true;
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a[href^="#src-a"]');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const id = link.getAttribute('href').slice(1);
    const target = document.getElementById(id);
    if (!target) return;
    const group = target.closest('details.src-group');
    if (group) group.open = true;
    target.open = true;
    document.querySelectorAll('#sources details.source.cited').forEach((d) => d.classList.remove('cited'));
    target.classList.add('cited');
    target.scrollIntoView({block: 'center', behavior: 'instant'});
  }, true);
}
"""
