"""The endpoints on the page's Gradio server: `register_api` adds them as named API endpoints,
and `patch_gradio_mcp` makes Gradio's MCP server list only them and return their results as
JSON. An endpoint's bad input reaches the client as its message, never a traceback."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .endpoints import AssistantAPI
from .schemas import ENDPOINTS, ApiInputError

if TYPE_CHECKING:
    import gradio as gr

    from ..service import Assistant

log = logging.getLogger(__name__)



_TOOL_ERROR: type | None = None


def _tool_error(message: str) -> Exception:
    """A `gr.Error` whose text is the message itself (Gradio's own `str()` adds quotes,
    which MCP clients would show)."""
    global _TOOL_ERROR
    if _TOOL_ERROR is None:
        import gradio as gr  # noqa: PLC0415

        class ToolError(gr.Error):
            def __str__(self) -> str:
                return str(self.message)

        _TOOL_ERROR = ToolError
    return _TOOL_ERROR(message, print_exception=False)  # a bad input is no server fault: no traceback in the log


def _endpoint(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """`fn` with its name, signature, type hints and docstring (Gradio builds the API and MCP
    schemas from them); bad input becomes a clear message, anything else a short one."""
    import inspect  # noqa: PLC0415

    from ..server.clean import clean_value  # noqa: PLC0415

    @functools.wraps(fn)
    def endpoint(*args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return clean_value(fn(*args, **kwargs))
        except ApiInputError as exc:
            raise _tool_error(str(exc)) from None
        except Exception as exc:
            log.exception("%s failed", getattr(fn, "__name__", "endpoint"))
            raise _tool_error(f"internal error in {getattr(fn, '__name__', 'endpoint')} ({type(exc).__name__}); "
                              "the server log has the details") from None

    # Evaluated annotations: Gradio reads the return type from the signature, as written.
    endpoint.__signature__ = inspect.signature(fn, eval_str=True)  # type: ignore[attr-defined]
    return endpoint


def register_api(demo: gr.Blocks, assistant: Assistant) -> AssistantAPI:
    """Add `/ask`, `/recommend`, `/estimate` and `/catalog_entry` to `demo`.

    Call it inside `with gr.Blocks(...) as demo:`. The endpoints skip the queue: they
    answer in milliseconds and need no language model, and an MCP tool call then runs them
    in the server itself (a queued one would loop back over HTTP without the caller's sign-in).
    Marks `demo` so its MCP server lists these four only.
    """
    import gradio as gr  # noqa: PLC0415

    api = AssistantAPI(assistant)
    for name in ENDPOINTS:
        gr.api(_endpoint(getattr(api, name)), api_name=name, queue=False, concurrency_limit=None)
    demo._assistant_mcp_tools = frozenset(ENDPOINTS)  # type: ignore[attr-defined]
    demo._assistant_api = api  # type: ignore[attr-defined]
    patch_gradio_mcp()
    return api


def patch_gradio_mcp() -> bool:
    """Gradio's MCP server, for Blocks marked by `register_api` only (idempotent):

    - lists and calls only the marked endpoints as tools (the UI's chat, compare and hardware
      events take UI state and return HTML and plots: they stay gradio_client endpoints);
    - returns a dict result as JSON text (Gradio writes `str(dict)`, a Python repr).

    Returns False when Gradio's MCP module is not there (then no MCP server runs either).
    """
    try:
        from gradio import mcp as gradio_mcp  # noqa: PLC0415
    except ImportError:
        return False
    cls = gradio_mcp.GradioMCPServer
    if getattr(cls, "_assistant_patched", False):
        return True
    original_tools = cls.get_tool_to_endpoint
    original_output = cls.postprocess_output_data

    def get_tool_to_endpoint(self: Any) -> dict[str, str]:
        tools = original_tools(self)
        allowed = getattr(self.blocks, "_assistant_mcp_tools", None)
        if allowed is None:
            return tools
        return {tool: endpoint for tool, endpoint in tools.items() if endpoint.lstrip("/") in allowed}

    def postprocess_output_data(self: Any, data: Any, root_url: str) -> Any:
        if getattr(self.blocks, "_assistant_mcp_tools", None) is not None and isinstance(data, list):
            data = [json.dumps(d, ensure_ascii=False) if isinstance(d, dict) else d for d in data]
        return original_output(self, data, root_url)

    cls.get_tool_to_endpoint = get_tool_to_endpoint  # type: ignore[method-assign]
    cls.postprocess_output_data = postprocess_output_data  # type: ignore[method-assign]
    cls._assistant_patched = True  # type: ignore[attr-defined]
    return True
