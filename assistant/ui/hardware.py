"""The hardware tab: a machine from a preset (every memory variant: "M3 Max 36/48/64/128GB"), a
typed name ("M3 Max 64GB", "兩張 4090") or the form, then what runs on it (`fitchart`).

Enter in any number field recomputes; a blank bandwidth means the default for the memory
kind (the field says so instead of showing 0); the server's own hardware is read only when
someone presses "detect".
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import gradio as gr

from ..hardware import QUANT_BITS, detect_machine, find_hardware, load_presets, preset_named
from .common import esc, is_en, lang, t
from .compare import memory_kinds
from .fitchart import TABLE_TYPES, chart_html, fit_rows, make_machine, table_headers, table_rows
from .render import hardware_label

if TYPE_CHECKING:
    from ..hardware import Preset
    from ..knowledge import Catalog
    from ..service import Assistant

log = logging.getLogger(__name__)

CONTEXT_CHOICES = [2048, 4096, 8192, 16384, 32768, 65536, 131072]
DEFAULT_BUDGET = {"memory_gb": 16.0, "kind": "ram"}


def hardware_presets() -> list[Preset]:
    """Every preset with each memory variant its own entry (GPUs, Apple chips, DDR systems)."""
    try:
        return list(load_presets(variants=True))
    except Exception as exc:  # a broken presets file must not break the page
        log.warning("hardware presets unavailable: %s", exc)
        return []


def preset_choices(language: str | None = "zh-TW") -> list[tuple[str, str]]:
    """The preset menu: ("M3 Max 64GB (64 GB unified, 400 GB/s)", "M3 Max 64GB"), after "custom"."""
    return [("Custom" if is_en(language) else "自訂", ""), *((p.label, p.name) for p in hardware_presets())]


def preset_by_name(name: str | None) -> Preset | None:
    """The preset (or memory variant) called `name`: a menu value, a chip name, "M3 Max 64GB"."""
    if not name:
        return None
    exact = next((p for p in hardware_presets() if p.name == name), None)
    if exact is not None:
        return exact
    try:
        return preset_named(name)
    except Exception:  # an odd name is just not a preset
        return None


def resolve_hardware(text: str | None) -> dict[str, Any] | None:
    """Hardware named in text: {preset, name, memory_gb (per card), kind, bandwidth_gbs, count},
    or None. "M3 Max 64GB" is that variant, "兩張 4090" two RTX 4090s, "H200" the default size."""
    text = (text or "").strip()
    if not text:
        return None
    preset, count = preset_by_name(text), 1
    if preset is None:
        match = find_hardware(text)
        if match is None:
            return None
        preset, count = match.variant, match.count
    return {"preset": preset, "name": menu_value(preset), "memory_gb": preset.memory_gb, "kind": preset.memory_kind,
            "bandwidth_gbs": preset.bandwidth_gbs, "count": count}


def menu_value(preset: Preset | None) -> str:
    """The preset menu's value for a preset (its variant entry when the menu lists one), or ""."""
    if preset is None:
        return ""
    values = {p.name for p in hardware_presets()}
    for name in (preset.name, f"{preset.chip} {preset.memory_gb:g}GB"):
        if name in values:
            return name
    return ""


def machine_budget(machine: dict[str, Any] | None) -> tuple[float | None, str]:
    """The memory a local model would use here: NVIDIA VRAM when present, else RAM."""
    machine = machine or {}
    vram = machine.get("vram_gb")
    if isinstance(vram, (int, float)) and vram > 0:
        return float(vram), "vram"
    ram = machine.get("ram_gb")
    if isinstance(ram, (int, float)) and ram > 0:
        return float(ram), "ram"
    return None, "ram"


def machine_summary(machine: dict[str, Any] | None, language: str | None = "zh-TW") -> str:
    machine = machine or {}
    zh = not is_en(language)
    ram = machine.get("ram_gb")
    gpus = machine.get("gpus_vram_gb") or []
    ram_text = f"RAM {ram:g} GB" if isinstance(ram, (int, float)) else ("RAM 未知" if zh else "RAM unknown")
    if gpus:
        gpu_text = " + ".join(f"{g:g} GB" for g in gpus)
        return f"{ram_text}；NVIDIA 顯示卡記憶體 {gpu_text}" if zh else f"{ram_text}; NVIDIA VRAM {gpu_text}"
    return f"{ram_text}；未偵測到 NVIDIA 顯示卡" if zh else f"{ram_text}; no NVIDIA GPU detected"


def detect_this_machine(language: str | None = "zh-TW", machine: dict[str, Any] | None = None) -> tuple[float, str, str]:
    """(memory GB, memory kind, a one-line summary) of the computer running the server,
    from psutil and nvidia-smi (or `machine` when given, e.g. in tests)."""
    machine = machine if machine is not None else detect_machine()
    memory, kind = machine_budget(machine)
    return (round(memory, 1) if memory else 16.0), kind, machine_summary(machine, language)


def hardware_note(hardware: dict[str, Any] | None, language: str | None = "zh-TW") -> str:
    """Where the hardware tab's budget came from; never calls the server 本機."""
    zh = not is_en(language)
    if not hardware:
        return ("預設 16 GB RAM。在對話中說出你的硬體（例如「一張 RTX 4090」），這裡會跟著改；"
                "也可以選常見硬體、輸入硬體名稱，或偵測執行本服務的電腦。" if zh else
                "Default 16 GB RAM. State your hardware in the chat (e.g. “one RTX 4090”) and it follows; "
                "or pick a preset, type the hardware's name, or detect the computer running this service.")
    label = hardware_label(hardware, language)
    if hardware.get("origin") == "detected":
        return f"執行本服務的電腦：{label}" if zh else f"The computer running this service: {label}"
    return f"依對話中的硬體：{label}" if zh else f"From the conversation: {label}"


def chosen_note(preset: Preset, count: int, language: str | None) -> str:
    """'你選的硬體：2× RTX 4090（48 GB VRAM）' for a preset picked or named in the form."""
    label = hardware_label({"memory_gb": preset.memory_gb * count, "kind": preset.memory_kind, "name": preset.name,
                            "gpu_count": count if count > 1 else None}, language)
    return f"Your hardware: {label}" if is_en(language) else f"你選的硬體：{label}"


def hardware_result(catalog: Catalog, memory_gb: float, kind: str, context: int = 4096, quant: str = "Q4_K_M",
                    only_runs: bool = False, language: str | None = "zh-TW", preset: str | None = None,
                    bandwidth_gbs: float | None = None, count: int = 1, ram_gb: float | None = None) -> tuple[str, list[list[Any]]]:
    """(chart HTML, table rows) for the hardware form's values."""
    machine = make_machine(memory_gb, kind, bandwidth_gbs, count, ram_gb, preset_by_name(preset))
    rows = fit_rows(catalog, machine, quant, int(context))
    return chart_html(rows, machine, quant, int(context), language), table_rows(rows, language, only_runs)


def _number(value: Any) -> float | None:
    """A positive number from a form field (a number, or text such as "1,008"), else None."""
    if isinstance(value, str):
        try:
            value = float(value.replace(",", "").strip())
        except ValueError:
            return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < float("inf"):
        return float(value)
    return None


def field_text(value: float | None) -> str:
    """A number for a text field that is blank when it means "the default": 1008.0 -> '1008'."""
    return f"{value:g}" if isinstance(value, (int, float)) and value > 0 else ""


# ------------------------------------------------------------------ layout and events


def build_hardware(assistant: Assistant, language_input: Any, default_memory: float, default_kind: str) -> dict[str, Any]:
    """The hardware tab's components and events (call inside its `gr.Tab`)."""
    catalog = assistant.catalog
    with gr.Row():
        preset = gr.Dropdown(preset_choices(), value="", label=t("hw.preset", "zh-TW"), elem_id="hw-preset", scale=2)
        name = gr.Textbox(label=t("hw.name", "zh-TW"), placeholder=t("hw.name_placeholder", "zh-TW"), max_length=80,
                          elem_id="hw-name", scale=2)
    with gr.Row():
        memory = gr.Number(value=default_memory, label=t("hw.memory", "zh-TW"), minimum=0.5, maximum=4096, elem_id="hw-memory")
        kind = gr.Radio(memory_kinds("zh-TW"), value=default_kind, label=t("hw.kind", "zh-TW"), elem_id="hw-kind")
        count = gr.Number(value=1, label=t("hw.count", "zh-TW"), minimum=1, maximum=16, precision=0, elem_id="hw-count",
                          min_width=100)
    with gr.Row():
        # Text fields, so that blank (the default) shows as blank: Gradio's Number draws None as 0.
        bandwidth = gr.Textbox(value="", label=t("hw.bandwidth", "zh-TW"), placeholder=t("hw.bandwidth_placeholder", "zh-TW"),
                               max_length=12, elem_id="hw-bandwidth")
        ram = gr.Textbox(value="", label=t("hw.ram", "zh-TW"), placeholder=t("hw.ram_placeholder", "zh-TW"), max_length=12,
                         elem_id="hw-ram")
        context = gr.Dropdown(CONTEXT_CHOICES, value=4096, label=t("hw.context", "zh-TW"), elem_id="hw-context")
        quant = gr.Dropdown(list(QUANT_BITS), value="Q4_K_M", label=t("hw.quant", "zh-TW"), elem_id="hw-quant")
    with gr.Row():
        only = gr.Checkbox(value=False, label=t("hw.only", "zh-TW"), elem_id="hw-only")
        button = gr.Button(t("hw.button", "zh-TW"), variant="primary", elem_id="hw-button")
        detect = gr.Button(t("hw.detect", "zh-TW"), elem_id="hw-detect")
    note = gr.Markdown(esc(hardware_note(None)), elem_id="hw-machine")
    chart = gr.HTML("", elem_id="hw-plot", js_on_load=None)
    table = gr.Dataframe(headers=table_headers("zh-TW"), datatype=TABLE_TYPES, interactive=False, wrap=True, max_height=480,
                         elem_id="hw-table", label=t("hw.table", "zh-TW"))

    def on_hardware(memory_value: Any, kind_value: str, context_value: Any, quant_value: str, only_value: bool,
                    language_value: str, preset_value: str | None = None, bandwidth_value: Any = None,
                    count_value: Any = 1, ram_value: Any = None) -> tuple[str, Any]:
        import pandas as pd  # noqa: PLC0415  (gradio depends on pandas)

        page = lang(language_value)
        memory_gb = _number(memory_value)
        if memory_gb is None:
            raise gr.Error(t("hw.memory_error", page))
        for text in (bandwidth_value, ram_value):
            if isinstance(text, str) and text.strip() and _number(text) is None:
                gr.Warning(t("hw.not_a_number", page, text=text.strip()[:12]))
        html, rows = hardware_result(catalog, memory_gb, kind_value, int(context_value or 4096), quant_value or "Q4_K_M",
                                     bool(only_value), page, preset_value or None, _number(bandwidth_value),
                                     int(_number(count_value) or 1), _number(ram_value))
        return html, pd.DataFrame(rows, columns=table_headers(page))

    def on_preset(preset_value: str | None, language_value: str) -> tuple[Any, ...]:
        chosen = preset_by_name(preset_value)
        if chosen is None:
            return (gr.skip(),) * 5
        return (chosen.memory_gb, chosen.memory_kind, field_text(chosen.bandwidth_gbs), 1,
                esc(chosen_note(chosen, 1, language_value)))

    def on_name(text: str, language_value: str) -> tuple[Any, ...]:
        found = resolve_hardware(text)
        if found is None:
            gr.Warning(t("hw.unknown", lang(language_value), name=(text or "").strip()[:40]))
            return (gr.skip(),) * 6
        return (found["name"], found["memory_gb"], found["kind"], field_text(found["bandwidth_gbs"]), found["count"],
                esc(chosen_note(found["preset"], found["count"], language_value)))

    inputs = [memory, kind, context, quant, only, language_input, preset, bandwidth, count, ram]
    outputs = [chart, table]
    compute = {"fn": on_hardware, "inputs": inputs, "outputs": outputs, "api_visibility": "private", "concurrency_limit": 2}
    button.click(on_hardware, inputs, outputs, api_name="hardware", concurrency_limit=2)
    for field in (memory, bandwidth, count, ram):  # Enter recomputes
        field.submit(**compute)
    for control in (kind, context, quant, only):
        control.input(**compute)
    preset.input(on_preset, [preset, language_input], [memory, kind, bandwidth, count, note], api_visibility="private",
                 queue=False).then(**compute)
    name.submit(on_name, [name, language_input], [preset, memory, kind, bandwidth, count, note], api_visibility="private",
                queue=False).then(**compute)
    return {"preset": preset, "name": name, "memory": memory, "kind": kind, "count": count, "bandwidth": bandwidth, "ram": ram,
            "context": context, "quant": quant, "only": only, "button": button, "detect": detect, "note": note,
            "chart": chart, "table": table, "compute": compute}


def relabel_hardware(parts: dict[str, Any], language: str) -> list[Any]:
    return [
        gr.update(choices=preset_choices(language), label=t("hw.preset", language)),
        gr.update(label=t("hw.name", language), placeholder=t("hw.name_placeholder", language)),
        gr.update(label=t("hw.memory", language)),
        gr.update(choices=memory_kinds(language), label=t("hw.kind", language)),
        gr.update(label=t("hw.count", language)),
        gr.update(label=t("hw.bandwidth", language), placeholder=t("hw.bandwidth_placeholder", language)),
        gr.update(label=t("hw.ram", language), placeholder=t("hw.ram_placeholder", language)),
        gr.update(label=t("hw.context", language)),
        gr.update(label=t("hw.quant", language)),
        gr.update(label=t("hw.only", language)),
        gr.update(value=t("hw.button", language)),
        gr.update(value=t("hw.detect", language)),
        gr.update(label=t("hw.table", language)),
    ]


def relabelled_hardware(parts: dict[str, Any]) -> list[Any]:
    return [parts[k] for k in ("preset", "name", "memory", "kind", "count", "bandwidth", "ram", "context", "quant", "only",
                               "button", "detect", "table")]
