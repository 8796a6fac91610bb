"""What runs on a machine: every catalog size through `hardware.estimate_fit` (the placements
the answers use: fits / tight / os_limit / partial_offload / expert_offload / no_fit), as table
rows and as a bar chart in HTML.

The chart is HTML, not an image: its text is the page's text (readable on a phone, where a
900-pixel image shrank its labels to ~4 px), and bars are placed on a GB log axis. It shows
the largest sizes that run and the nearest that do not (70B on a 64 GB Mac, 235B on an H200),
against a dashed line at the usable memory.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..hardware import DEFAULT_BANDWIDTH_GB_S, Machine, estimate_fit
from ..labels import commercial_label
from .common import esc, is_en, lang
from .render import budget_rule, hardware_label, placement_label

if TYPE_CHECKING:
    from ..hardware.fit import FitResult
    from ..knowledge import Catalog

PLACEMENTS = ("fits", "tight", "os_limit", "expert_offload", "partial_offload", "no_fit")
RUNS = PLACEMENTS[:-1]


def table_headers(language: str | None) -> list[str]:
    if is_en(language):
        return ["Model", "Size", "Params (B)", "Active (B)", "Needs GB", "Placement", "Speed tok/s", "Commercial"]
    return ["模型", "尺寸", "參數 (B)", "啟動 (B)", "需要 GB", "放置方式", "速度 tok/s", "商用"]


TABLE_TYPES = ["str", "str", "number", "number", "number", "str", "str", "str"]


def make_machine(memory_gb: float, kind: str, bandwidth_gbs: float | None = None, count: int = 1,
                 ram_gb: float | None = None, preset: Any = None) -> Machine:
    """A `Machine` from the hardware form: a preset (its speed class and name) when the form still
    shows that preset's memory and kind, else a generic machine of that kind."""
    kind = kind if kind in ("ram", "vram", "unified") else "ram"
    count = max(1, min(16, int(count or 1))) if kind == "vram" else 1
    ram = float(ram_gb) if isinstance(ram_gb, (int, float)) and ram_gb > 0 and kind == "vram" else None
    memory = float(memory_gb)
    if preset is not None and preset.memory_kind == kind:
        sizes = {preset.memory_gb, *(v.memory_gb for v in preset.variants)}
        if any(abs(size - memory) < 0.01 for size in sizes):
            sized = preset if abs(preset.memory_gb - memory) < 0.01 else preset.variant(memory)
            return Machine(memory, kind, float(bandwidth_gbs or sized.bandwidth_gbs), count, sized.platform,
                           sized.speed_class, sized.name, ram, None)
    return Machine(float(memory_gb), kind, float(bandwidth_gbs or DEFAULT_BANDWIDTH_GB_S[kind]), count, "", "", None, ram,
                   None)


def machine_hardware_label(machine: Machine, language: str | None) -> str:
    total = machine.memory_gb * (machine.count if machine.kind == "vram" else 1)
    return hardware_label({"memory_gb": total, "kind": machine.kind, "name": machine.name,
                           "gpu_count": machine.count if machine.count > 1 else None}, language)


def fit_rows(catalog: Catalog, machine: Machine, quant: str = "Q4_K_M", context: int = 4096) -> list[dict[str, Any]]:
    """Every catalog size on `machine`: {model, variant, params_b, active_b, required_gb, placement,
    tokens_per_s, commercial_use, fit}; runnable sizes first (largest first), then the rest
    nearest first."""
    rows = []
    for model in catalog.models:
        for variant in model.sizes:
            facts = model.with_variant(variant.name) if len(model.sizes) > 1 and model.variant(variant.name) else model
            target = facts.sizes[0] if len(model.sizes) > 1 else variant
            fit = estimate_fit(target, machine, quant, int(context), model_id=model.id)
            rows.append({
                "model": model.name, "variant": variant.name, "params_b": variant.params_total_b,
                "active_b": variant.params_active_b or variant.params_total_b, "required_gb": round(fit.required_gb, 1),
                "placement": fit.placement, "runs": fit.runs, "tokens_per_s": fit.tokens_per_s,
                "commercial_use": model.commercial_use, "fit": fit,
            })
    rows.sort(key=lambda r: (not r["runs"], -r["params_b"] if r["runs"] else r["required_gb"], r["required_gb"]))
    return rows


def speed_text(tokens_per_s: float | None) -> str:
    """'~1,600', '~45', '~4.5' (the estimate already has two significant digits)."""
    if not tokens_per_s:
        return "—"
    return f"~{tokens_per_s:,.0f}" if tokens_per_s >= 10 else f"~{tokens_per_s:g}"


def table_rows(rows: list[dict[str, Any]], language: str | None, only_runs: bool = False) -> list[list[Any]]:
    """The hardware table: model, size, parameters, memory needed, placement, speed, commercial use."""
    out = []
    for r in rows:
        if only_runs and not r["runs"]:
            continue
        mark = "✓ " if r["runs"] else "✗ "
        out.append([r["model"], r["variant"], r["params_b"], r["active_b"], r["required_gb"],
                    mark + placement_label(r["placement"], language), speed_text(r["tokens_per_s"]),
                    commercial_label(r["commercial_use"], lang(language))])
    return out


def chart_rows(rows: list[dict[str, Any]], runs: int = 24, near: int = 8) -> list[dict[str, Any]]:
    """The bars: the `runs` largest sizes that run and the `near` smallest that do not (the
    near misses), one bar per size name, smallest first."""
    seen: set[str] = set()
    running, missing = [], []
    for r in sorted(rows, key=lambda r: -r["required_gb"]):
        if r["runs"] and r["variant"] not in seen and len(running) < runs:
            seen.add(r["variant"])
            running.append(r)
    for r in sorted(rows, key=lambda r: r["required_gb"]):
        if not r["runs"] and r["variant"] not in seen and len(missing) < near:
            seen.add(r["variant"])
            missing.append(r)
    return sorted(running + missing, key=lambda r: r["required_gb"])


def _ticks(lo: float, hi: float) -> list[float]:
    """Round GB values on the log axis: 1-2-5 steps, thinned to at most six labels."""
    decades = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
    ticks: list[float] = []
    for steps in ((1, 2, 5), (1, 3), (1,)):
        ticks = [s * 10 ** e for e in decades for s in steps if lo <= s * 10 ** e <= hi]
        if len(ticks) <= 6:
            break
    return ticks


def chart_html(rows: list[dict[str, Any]], machine: Machine, quant: str, context: int, language: str | None = "zh-TW") -> str:
    """The bar chart: required memory per size on a GB log axis, coloured by placement, with a
    dashed line at the usable memory and a dotted one at the machine's total."""
    en = is_en(language)
    bars = chart_rows(rows)
    if not bars:
        return ""
    budget = bars[0]["fit"].budget
    usable, total = budget.tight_gb, budget.total_gb
    values = [b["required_gb"] for b in bars]
    lo = max(min(values + [usable]) / 1.6, 0.05)
    hi = max(values + [total]) * 1.3
    span = math.log10(hi) - math.log10(lo)

    def pos(gb: float) -> float:
        return round(max(0.0, min(100.0, (math.log10(max(gb, lo)) - math.log10(lo)) / span * 100)), 2)

    lines = (f'<i class="fc-budget" style="left:{pos(usable)}%"></i>'
             f'<i class="fc-total" style="left:{pos(total)}%"></i>')
    body = []
    for b in bars:
        x = pos(b["required_gb"])
        label = placement_label(b["placement"], language)
        speed = f", ~{b['tokens_per_s']:g} tok/s" if b["tokens_per_s"] else ""
        title = f"{b['model']} · {b['variant']}: {b['required_gb']:g} GB, {label}{speed}"
        inside = " inside" if x > 72 else ""
        body.append(
            f'<div class="fc-row" data-placement="{b["placement"]}" data-required="{b["required_gb"]}" title="{esc(title)}">'
            f'<div class="fc-label">{esc(b["variant"])}</div><div class="fc-track">{lines}'
            f'<span class="fc-bar fc-{b["placement"]}" style="width:{x}%"></span>'
            f'<span class="fc-val{inside}" style="left:{x}%">{b["required_gb"]:g} GB</span></div></div>'
        )
    ticks = "".join(f'<span class="fc-tick" style="left:{pos(t)}%">{t:g} GB</span>' for t in _ticks(lo, hi))
    axis = f'<div class="fc-row fc-axis"><div class="fc-label"></div><div class="fc-track">{ticks}</div></div>'
    present = [p for p in PLACEMENTS if any(b["placement"] == p for b in bars)]
    legend = "".join(f'<span><i class="fc-{p}"></i>{esc(placement_label(p, language))}</span>' for p in present)
    where = machine_hardware_label(machine, language)
    title = (f"{where} · {quant} · context {context:,} tokens: memory each size needs" if en
             else f"{where}・{quant}・上下文 {context:,} token：各尺寸需要的記憶體")
    line = (f"┆ dashed line: usable ~{usable:.1f} GB; dotted line: all of the memory" if en
            else f"┆ 虛線：可用約 {usable:.1f} GB；點線：全部記憶體")
    rule = budget_rule(bars[0]["fit"], language)
    return (
        f'<div class="fitchart" role="figure" aria-label="{esc(title)}" data-usable="{usable:.2f}" data-total="{total:.2f}">'
        f'<div class="fc-title">{esc(title)}</div><div class="fc-legend">{legend}</div>'
        f'<div class="fc-budget-label">{esc(line)}</div>{"".join(body)}{axis}'
        f'<div class="fc-rule">{esc(rule)}</div></div>'
    )


def near_misses(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sizes the chart shows that do not run (for tests and the chart's readers)."""
    return [r for r in chart_rows(rows) if not r["runs"]]


def fit_of(rows: list[dict[str, Any]], variant: str) -> FitResult | None:
    return next((r["fit"] for r in rows if r["variant"] == variant), None)
