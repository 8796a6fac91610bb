"""The web page handed to the server: `build_page(assistant, settings)`.

`ui.py` builds the Gradio page and `server.py` serves it. The server must not import the
page (that made a cycle: ui -> server -> ui), so this module, which may import both, builds
the page and hangs its look on it (`page_css`, `page_head`) for `server.launch_options`.
`app.py` and the tests start the web app through here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import gradio as gr

    from .config import Settings
    from .service import Assistant


def build_page(assistant: Assistant, settings: Settings, machine: dict[str, Any] | None = None) -> gr.Blocks:
    """`ui.build_ui(...)`: the page, with its CSS and head attached for the server's launcher."""
    from . import ui  # noqa: PLC0415

    return ui.build_ui(assistant, settings, machine=machine)  # it hangs page_css / page_head on the Blocks


def launch(demo: gr.Blocks, settings: Settings, **kwargs: Any) -> Any:
    """`server.serve(demo, settings, **kwargs)`."""
    from .server import serve  # noqa: PLC0415

    return serve(demo, settings, **kwargs)
