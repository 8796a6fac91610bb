"""Serving the web UI: launch options, the queue, the middleware and sign-in.

`ui` builds the page (`webapp.build_page` hands it over with its CSS and head); this
package decides how it is served, and never imports `ui`:

- `launch_options(demo, settings)` / `serve(demo, settings)`: local bind, no share link, no
  file routes beyond the app's own export folder, a bounded queue, auth when not on loopback;
- `configure_queue(demo, settings)`: the queue size, the concurrency groups (grounded answers
  never wait behind a language-model answer) and the busy message;
- ASGI middleware: same-origin writes, a request-body size limit (413), a per-client backoff
  on failed sign-ins (429), unknown `fn_index` or API name answered 4xx, over-nested JSON
  refused (422), chat histories checked and normalised before Gradio sees them (one log line
  for a malformed one), no upload or deep-link routes unless a component needs them, proxy
  headers believed only from `settings.trusted_proxies`, CORS only for the app's own origin;
  the MCP routes signed in as the UI is (`McpAuth`);
- `cap_history`: the history a chat request may carry and a session keeps is bounded;
- `ModelSlot`: one language-model answer at a time, a bounded line of LLM users behind it,
  which a model server marked down (`llm_health`) releases at once;
- `install_output_guard` / `install_log_guard`: what one request can write to the log is bounded;
- `clean_text` / `clean_value`: every string echoed back is valid UTF-8 (no lone surrogates).

Modules (every name is importable from `assistant.server`): `launch`, `queue`, `chat` (the model
slot and `guarded_chat`), `history` (checking and capping chat histories), `middleware`,
`signin` (`parse_auth`, `LoginBackoff`, `McpAuth`), `logs`, `files` (export and cache folders,
blocked paths) and `clean` (text hygiene).
"""

from __future__ import annotations

from .chat import MODEL_BUSY_EN, MODEL_BUSY_ZH, ModelSlot, guarded_chat
from .clean import clean_stream, clean_text, clean_value
from .files import blocked_paths, export_folder, gradio_cache_folder
from .history import HISTORY_TRIMMED_EN, HISTORY_TRIMMED_ZH, TRIM_MARKER, cap_history, normalise_chat_history
from .launch import is_loopback, launch_options, page_assets, serve, trusted_hosts, warm_up
from .logs import BoundedStream, install_log_guard, install_output_guard
from .middleware import (
    MAX_JSON_DEPTH,
    UPLOAD_COMPONENTS,
    UPLOAD_ROUTES,
    ForwardedHeaders,
    RequestGuard,
    SameOriginWrites,
    json_depth_exceeds,
    needs_uploads,
    own_origin_cors,
)
from .queue import (
    ANALYTICS_EVERY,
    BUSY_CONCURRENCY_ID,
    BUSY_EN,
    BUSY_MESSAGE,
    BUSY_ZH,
    CACHE_SWEEP_S,
    CHAT_CONCURRENCY_ID,
    PROGRESS_POLL_S,
    QUEUE_POLL_S,
    busy_event_options,
    busy_reply,
    chat_event_options,
    configure_queue,
    friendly_queue_full,
    lazy_session_configs,
    tune_queue_polling,
)
from .signin import MCP_PATH, ClientBackoff, LoginBackoff, McpAuth, is_mcp_path, parse_auth
