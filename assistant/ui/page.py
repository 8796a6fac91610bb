"""The page: header, the four tabs (each built by its module), and the events between them
(the chat's hardware flows into the compare and hardware tabs; the language setting relabels
every tab).

Serving helpers (the model slot, the chat's concurrency group, the busy route, the queue) come
from `server.py`, imported when the page is built, never when this package is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gradio as gr

from .assets import CSS, HEAD, LOAD_JS, READ_FROM_START_JS
from .catalog import build_catalog, relabelled_catalog
from .chat import build_chat, clear_conversation, new_conversation, relabel_chat, relabelled_chat, respond
from .common import esc, lang, t
from .compare import build_compare, relabel_compare, relabelled_compare
from .hardware import (
    DEFAULT_BUDGET,
    build_hardware,
    detect_this_machine,
    field_text,
    hardware_note,
    menu_value,
    preset_by_name,
    relabel_hardware,
    relabelled_hardware,
)
from .settings import MODE_GROUNDED, MODE_LLM, relabel_settings, relabelled_settings

if TYPE_CHECKING:
    from ..config import Settings
    from ..service import Assistant

TABS = ("chat", "catalog", "compare", "hardware")


def hardware_fields(hardware: dict[str, Any], language: str | None) -> tuple[Any, ...]:
    """The compare and hardware forms' values for a budget from the conversation or a detection:
    (compare memory, compare kind, memory per card, kind, cards, compare note, hardware note,
    preset, bandwidth)."""
    total, kind = float(hardware["memory_gb"]), hardware["kind"]
    cards = int(hardware.get("gpu_count") or 1) if kind == "vram" else 1
    per_card = round(total / cards, 2)
    preset = None
    if hardware.get("name"):
        preset = preset_by_name(f"{hardware['name']} {per_card:g}GB") or preset_by_name(hardware["name"])
    if preset is not None and (preset.memory_kind != kind or abs(preset.memory_gb - per_card) > 0.01):
        preset = None
    bandwidth = hardware.get("bandwidth_gbs") or (preset.bandwidth_gbs if preset else None)
    note = esc(hardware_note(hardware, language))
    return total, kind, per_card, kind, cards, note, note, menu_value(preset), field_text(bandwidth)


def build_ui(assistant: Assistant, settings: Settings, machine: dict[str, Any] | None = None) -> gr.Blocks:
    """The page, its events wired.

    Fit is judged against the hardware the conversation states; the server's own hardware is
    read only when someone presses "detect" (`machine` replaces that detection in tests). The
    returned Blocks has its queue configured (bounded, one model request at a time) and
    carries `export_dir`, the only folder `serve` lets the server read files from.
    """
    from ..api import register_api  # noqa: PLC0415  (the API endpoints share the page's server)
    from ..server import (  # noqa: PLC0415  (serving helpers; server.py must not be imported with the package)
        ModelSlot,
        busy_event_options,
        busy_reply,
        chat_event_options,
        configure_queue,
        export_folder,
        guarded_chat,
    )

    export_dir = export_folder(settings)
    default_memory, default_kind = DEFAULT_BUDGET["memory_gb"], DEFAULT_BUDGET["kind"]

    with gr.Blocks(title=t("title", "zh-TW"), analytics_enabled=False) as demo:
        state = gr.State(new_conversation())
        header = gr.Markdown(t("header", "zh-TW"), elem_id="header")
        tabs: dict[str, Any] = {}
        with gr.Tabs(elem_id="tabs", overflow_behavior="wrap"):
            with gr.Tab(t("tab.chat", "zh-TW"), id="chat", elem_id="tab-chat") as tabs["chat"]:
                chat = build_chat(assistant, settings.max_question_chars)
            language, mode = chat["settings"]["language"], chat["settings"]["mode"]
            with gr.Tab(t("tab.catalog", "zh-TW"), id="catalog", elem_id="tab-catalog") as tabs["catalog"]:
                catalog = build_catalog(assistant, language)
            with gr.Tab(t("tab.compare", "zh-TW"), id="compare", elem_id="tab-compare") as tabs["compare"]:
                compare = build_compare(assistant, language, export_dir, default_memory, default_kind)
                compare["note"].value = hardware_note(None)
            with gr.Tab(t("tab.hardware", "zh-TW"), id="hardware", elem_id="tab-hardware") as tabs["hardware"]:
                hardware = build_hardware(assistant, language, default_memory, default_kind)

        # -------------------------------------------------------------- chat
        model_slot = ModelSlot(settings.llm_waiting)

        def on_ask(message, chat_value, mode_value, language_value, state_value):
            # server.guarded_chat: one LLM answer at a time (grounded ones never wait for it).
            def respond_in_conversation(*args):
                return respond(*args, state_value)

            yield from guarded_chat(respond_in_conversation, model_slot, MODE_LLM, MODE_GROUNDED,
                                    assistant, None, message, chat_value, mode_value, language_value, status_index=5)

        hardware_outputs = [compare["memory"], compare["kind"], hardware["memory"], hardware["kind"], hardware["count"],
                            compare["note"], hardware["note"], hardware["preset"], hardware["bandwidth"]]

        def sync_hardware(state_value, language_value):
            """The compare and hardware tabs follow the conversation's (or detected) hardware."""
            state_value = state_value if isinstance(state_value, dict) else {}
            budget = state_value.get("hardware") or state_value.get("detected")
            if not budget:
                return tuple(gr.skip() for _ in hardware_outputs)
            return hardware_fields(budget, language_value)

        chat_outputs = [chat["chatbot"], chat["question"], chat["cards"], chat["why_not"], chat["sources"], chat["status"], state]
        chat_inputs = [chat["question"], chat["chatbot"], mode, language, state]
        for trigger, visibility in ((chat["send"].click, {"api_name": "chat"}), (chat["question"].submit, {"api_visibility": "private"})):
            trigger(on_ask, chat_inputs, chat_outputs, **visibility, **chat_event_options(settings)).then(
                sync_hardware, [state, language], hardware_outputs, api_visibility="private", queue=False
            ).then(None, None, None, js=READ_FROM_START_JS)
            trigger(lambda: gr.Accordion(open=False), None, chat["examples_box"], api_visibility="private", queue=False)
        # A chat request that finds the queue full is routed here (server.friendly_queue_full).
        gr.Button(visible=False, elem_id="busy-route").click(busy_reply, chat_inputs, chat_outputs, **busy_event_options())

        def on_clear(language_value, state_value):
            *panels, fresh = clear_conversation(language_value)
            if isinstance(state_value, dict):
                fresh["detected"] = state_value.get("detected")
            return (*panels, fresh)

        chat["clear"].click(on_clear, [language, state], chat_outputs, api_visibility="private", queue=False)

        # -------------------------------------------------------------- language
        relabelled = [header, *(tabs[name] for name in TABS), *relabelled_chat(chat), *relabelled_settings(chat["settings"]),
                      *relabelled_catalog(catalog), *relabelled_compare(compare), *relabelled_hardware(hardware),
                      compare["note"], hardware["note"]]

        def on_language(value, state_value, picked):
            page = lang(value)
            state_value = state_value if isinstance(state_value, dict) else {}
            budget = state_value.get("hardware") or state_value.get("detected")
            note = esc(hardware_note(budget, page))
            return (
                gr.update(value=t("header", page)),
                *(gr.update(label=t(f"tab.{name}", page)) for name in TABS),
                *relabel_chat(chat, value, state_value, settings.max_question_chars),
                *relabel_settings(chat["settings"], assistant, page),
                *catalog["relabel"](page, picked),
                *relabel_compare(compare, page),
                *relabel_hardware(hardware, page),
                note,
                note,
            )

        language.change(on_language, [language, state, catalog["picked"]], relabelled, api_visibility="private", queue=False).then(
            compare["on_compare"], compare["inputs"], compare["outputs"], api_visibility="private", concurrency_limit=4
        ).then(**hardware["compute"])

        demo.load(chat["settings"]["on_refresh"], [language], [chat["settings"]["info"], mode], api_visibility="private",
                  queue=False)
        demo.load(None, None, None, js=LOAD_JS)

        # -------------------------------------------------------------- catalog, compare, hardware
        demo.load(catalog["on_filter"], catalog["filters"], [catalog["table"], catalog["count"]], api_visibility="private",
                  queue=False)
        tabs["compare"].select(compare["on_compare"], compare["inputs"], compare["outputs"], api_visibility="private",
                               concurrency_limit=4)
        tabs["hardware"].select(**hardware["compute"])

        def on_detect(language_value, state_value):
            memory_value, kind_value, summary = detect_this_machine(language_value, machine)
            state_value = dict(state_value) if isinstance(state_value, dict) else new_conversation()
            state_value["detected"] = {"memory_gb": memory_value, "kind": kind_value, "origin": "detected"}
            fields = list(hardware_fields(state_value["detected"], language_value))
            note = esc(f"{'The computer running this service' if lang(language_value) == 'en' else '執行本服務的電腦'}"
                       f"{': ' if lang(language_value) == 'en' else '：'}{summary}")
            fields[5] = fields[6] = note
            return (*fields, state_value)

        hardware["detect"].click(on_detect, [language, state], [*hardware_outputs, state], api_visibility="private",
                                 queue=False).then(**hardware["compute"])
        register_api(demo, assistant)  # /ask, /recommend, /estimate, /catalog_entry: API endpoints and MCP tools (api.py)

    configure_queue(demo, settings)
    demo.export_dir = export_dir  # type: ignore[attr-defined]
    demo.page_css, demo.page_head = CSS, HEAD  # type: ignore[attr-defined]  (server.launch_options reads them)
    return demo
