"""The Gradio web UI: chat with citations, catalog explorer, compare and export, hardware fit.

One module per tab, with the shared parts as leaves:

- `common`: escaping, inert Markdown, the page language and every label in both languages;
- `assets`: CSS, the `<head>` snippet and the page scripts (strings, no imports);
- `render`: citations, sources, the conversation's hardware, fit badges (the answer engine's
  placements), catalog facts shown the same way on every tab;
- `panels`: the chat's model cards, "why not" list, sources, status line and one-time notices;
- `chat`, `settings`, `catalog`, `compare`, `hardware` (+ `fitchart`): each tab's functions
  and layout; `page.build_ui` puts the tabs together and wires the events between them.

The functions take plain values and return plain values, so tests need no browser. Everything
rendered is built from escaped text: nothing from the model, the catalog or a retrieved passage
can inject HTML, script, a `javascript:` link or a remote image.

Importing this package never imports `assistant.server`; `build_ui` imports the serving helpers
it wires when it runs. `serve`, `launch_options` and the other serving names stay reachable
here (`ui.serve`) through a lazy attribute. Only `app.py`, `webapp.py` and the tests import
this package; the CLI never pays for gradio.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from ..config import PROJECT_ROOT, Settings  # noqa: E402, F401  (PROJECT_ROOT: tests read it here)
from ..hardware import detect_machine  # noqa: E402, F401  (tests replace it here)
from .assets import CATALOG_JS, CITATION_JS, COUNTER_JS, CSS, ENTRY_JS, HEAD, LOAD_JS, READ_FROM_START_JS  # noqa: E402, F401
from .catalog import (  # noqa: E402, F401
    CATALOG_COLUMNS,
    CATALOG_HEADERS,
    catalog_models,
    catalog_rows,
    model_by_name,
    render_catalog_table,
    render_entry,
    vendor_choices,
    vendor_names,
)
from .chat import (  # noqa: E402, F401
    EXAMPLES,
    answer_language,
    clear_conversation,
    conversation,
    history_from_chat,
    message_text,
    new_conversation,
    respond,
)
from .common import TEXT, esc, sanitize_markdown, t  # noqa: E402, F401
from .compare import compare_html, compare_markdown, export_comparison  # noqa: E402, F401
from .fitchart import chart_html, fit_rows, make_machine, table_rows  # noqa: E402, F401
from .hardware import (  # noqa: E402, F401
    detect_this_machine,
    hardware_note,
    hardware_presets,
    hardware_result,
    preset_by_name,
    preset_choices,
    resolve_hardware,
)
from .page import build_ui  # noqa: E402, F401
from .panels import (  # noqa: E402, F401
    answer_markdown,
    capability_line,
    mode_label,
    notify_once,
    render_cards,
    render_exclusions,
    render_sources,
    slow_model_notice,
)
from .render import (  # noqa: E402, F401
    commercial_badge,
    fit_badge,
    hardware_label,
    link_citations,
    machine_hardware,
    render_source_groups,
    reply_hardware,
    separate_lists,
    unlink_citations,
)
from .settings import LANGUAGES, MODE_GROUNDED, MODE_LLM, llm_status, mode_choices, settings_markdown  # noqa: E402, F401

# The page's look, as `server.launch_options` / `webapp.build_page` read it.
_CSS = CSS
_HEAD = HEAD

# Serving lives in server.py; these names stay reachable as `ui.<name>` without importing the
# server when the package is imported (the server never imports the page).
_SERVER_NAMES = frozenset({
    "BUSY_MESSAGE", "BUSY_ZH", "ModelSlot", "SameOriginWrites", "blocked_paths", "busy_event_options", "busy_reply",
    "chat_event_options", "configure_queue", "export_folder", "friendly_queue_full", "guarded_chat", "is_loopback",
    "launch_options", "parse_auth", "serve", "trusted_hosts",
})


def __getattr__(name: str) -> Any:
    if name in _SERVER_NAMES:
        from .. import server  # noqa: PLC0415

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
