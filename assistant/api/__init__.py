"""The assistant's functions as named API endpoints and MCP tools.

Four typed, documented functions, served by the web app:

- `ask(question, history, language)`: the grounded answer (answer text, shortlist, why-not,
  sources, the parsed plan), the same engine as the chat without the local language model;
- `recommend(constraints, limit, language)`: the shortlist for typed constraints, from the
  ranking the answer engine uses (no question text is parsed);
- `estimate(model | params_b, quant, hardware | memory, ...)`: memory need, fit, placement and
  calibrated speed, the `python -m assistant estimate` arithmetic;
- `catalog_entry(name)`: a catalog entry as JSON, with the named size's own facts.

`register_api(demo, assistant)` adds them to the page's `gr.Blocks` (inside its `with` block)
as `/ask`, `/recommend`, `/estimate` and `/catalog_entry`, callable with `gradio_client`
(`Client(url).predict(..., api_name="/ask")`). Launched with `mcp_server=True`, Gradio serves
the same four as MCP tools at `/gradio_api/mcp/` (streamable HTTP; `/gradio_api/mcp/schema`
lists them); the page's own UI endpoints (chat, compare, hardware) stay off the MCP list.

The MCP routes ask for the same `ASSISTANT_AUTH` as the UI (`server.McpAuth`): Gradio's
sign-in protects its own routes only, not the MCP app it mounts. See docs/mcp.md.

Every function returns a JSON-ready dict. Bad input raises `ApiInputError` with a message
that says what to change; through Gradio that message (never a traceback) is what a
`gradio_client` or MCP client sees.

Modules (every name is importable from `assistant.api`): `endpoints` (`AssistantAPI`, the four
functions), `schemas` (their parameter types and input checks, `ApiInputError`) and `register`
(`register_api`, `patch_gradio_mcp`).
"""

from __future__ import annotations

from .endpoints import AssistantAPI, estimate_adapter, shortlist_adapter
from .register import patch_gradio_mcp, register_api
from .schemas import (
    ENDPOINTS,
    MAX_HISTORY_TURNS,
    MAX_LIMIT,
    AnswerLanguage,
    ApiInputError,
    DeviceName,
    HistoryTurn,
    MemoryKindName,
    ReasonLanguage,
    RecommendConstraints,
)
