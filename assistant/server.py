"""Serving the web UI: launch options, the queue, the middleware and sign-in.

`ui.py` builds the page; this module decides how it is served:

- `launch_options(demo, settings)` / `serve(demo, settings)`: local bind, no share link, no
  file routes beyond the app's own export folder, a bounded queue, auth when not on loopback;
- `configure_queue(demo, settings)`: the queue size, the concurrency groups (grounded answers
  never wait behind a language-model answer) and the busy message;
- ASGI middleware: same-origin writes, a request-body size limit (413), a per-client backoff
  on failed sign-ins (429), unknown `fn_index` answered 4xx;
- `ModelSlot`: one language-model answer at a time, a bounded line of LLM users behind it;
- `clean_text` / `clean_value`: every string echoed back is valid UTF-8 (no lone surrogates).
"""

from __future__ import annotations

import atexit
import ipaddress
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    import gradio as gr

log = logging.getLogger(__name__)

BUSY_ZH = "忙碌中，請稍後再試。"
BUSY_EN = "The assistant is busy; please try again shortly."
BUSY_MESSAGE = f"{BUSY_ZH}（{BUSY_EN}）"
MODEL_BUSY_ZH = "本機模型正忙（前面還有人在等），這次先用知識庫回答。"
MODEL_BUSY_EN = "The language model is busy (others are waiting); answering from the knowledge base this time."

# Concurrency groups: the chat's grounded work runs many at a time; only the language model
# is one at a time, and that is enforced by `ModelSlot` inside the handler, so a grounded
# question never waits in line behind an LLM answer.
CHAT_CONCURRENCY_ID = "chat"
TOOLS_CONCURRENCY_ID = "tools"


# ------------------------------------------------------------------ text hygiene


def clean_text(text: str) -> str:
    """`text` with lone surrogates (not encodable as UTF-8) replaced by U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def clean_value(value: Any) -> Any:
    """Every string inside `value` (lists, tuples, dicts) cleaned with `clean_text`."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_value(v) for v in value]
    if isinstance(value, tuple):
        return tuple(clean_value(v) for v in value)
    if isinstance(value, dict):
        return {clean_value(k): clean_value(v) for k, v in value.items()}
    return value


def clean_stream(updates: Iterator[Any]) -> Iterator[Any]:
    """Yield each update with every string cleaned (orjson refuses lone surrogates)."""
    for update in updates:
        yield clean_value(update)


# ------------------------------------------------------------------ the model slot


class ModelSlot:
    """One language-model answer at a time; at most `max_waiting` more wait for it.

    `acquire()` yields True when the caller holds the slot, False when the line is full
    (the caller answers from the knowledge base instead of refusing).
    """

    def __init__(self, max_waiting: int) -> None:
        self.max_waiting = max(0, max_waiting)
        self._lock = threading.Lock()
        self._state = threading.Lock()
        self.waiting = 0

    @contextmanager
    def acquire(self) -> Iterator[bool]:
        with self._state:
            if self.waiting >= self.max_waiting + 1:
                full = True
            else:
                full = False
                self.waiting += 1
        if full:
            yield False
            return
        try:
            with self._lock:
                yield True
        finally:
            with self._state:
                self.waiting -= 1


# ------------------------------------------------------------------ files


def export_folder(settings: Settings) -> Path:
    """The app's one export folder (compare downloads), removed when the process exits.

    It lives under `<tmp>/assistant-exports-<uid>/<pid>`; folders left by processes that
    are gone are removed here, so restarts do not pile them up.
    """
    base = Path(tempfile.gettempdir()) / f"assistant-exports-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
    base.mkdir(mode=0o700, exist_ok=True)
    for old in base.iterdir():
        if old.name.isdigit() and int(old.name) != os.getpid() and not _alive(int(old.name)):
            shutil.rmtree(old, ignore_errors=True)
    folder = base / str(os.getpid())
    folder.mkdir(mode=0o700, exist_ok=True)
    atexit.register(shutil.rmtree, folder, True)
    return folder


def gradio_cache_folder() -> Path:
    """A Gradio cache folder owned by this process, so it never serves another process's files."""
    base = Path(tempfile.gettempdir()) / f"assistant-gradio-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
    base.mkdir(mode=0o700, exist_ok=True)
    for old in base.iterdir():
        if old.name.isdigit() and int(old.name) != os.getpid() and not _alive(int(old.name)):
            shutil.rmtree(old, ignore_errors=True)
    folder = base / str(os.getpid())
    folder.mkdir(mode=0o700, exist_ok=True)
    atexit.register(shutil.rmtree, folder, True)
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


# ------------------------------------------------------------------ the queue


def configure_queue(demo: gr.Blocks, settings: Settings) -> None:
    """Bounded queue (`settings.queue_size`), a Chinese-and-English busy message."""
    demo.queue(max_size=settings.queue_size, default_concurrency_limit=1)
    friendly_queue_full(demo)


def chat_event_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for the chat events: their own concurrency group, many at a time."""
    return {"concurrency_limit": settings.chat_concurrency, "concurrency_id": CHAT_CONCURRENCY_ID}


def friendly_queue_full(demo: gr.Blocks) -> None:
    """Make a full queue answer 「忙碌中，請稍後再試」 instead of gradio's English message."""
    queue = demo._queue
    original = queue.push

    async def push(*args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        success, detail, state = await original(*args, **kwargs)
        if state == "queue_full":
            return success, BUSY_MESSAGE, state
        return success, detail, state

    queue.push = push  # type: ignore[method-assign]


# ------------------------------------------------------------------ launch


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and "localhost"; "0.0.0.0" and names are not loopback."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    """`user:password` -> (user, password); raises ValueError on a malformed value."""
    if auth is None or auth == "":
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise ValueError("ASSISTANT_AUTH must look like user:password (both non-empty)")
    return user, password


def trusted_hosts(host: str) -> list[str]:
    """Host headers the server answers to: local names for a loopback bind, else any (auth guards it)."""
    if is_loopback(host) and ":" not in host:
        return sorted({"127.0.0.1", "localhost", host.strip().lower()})
    return ["*"]


class SameOriginWrites:
    """ASGI middleware: refuse a state-changing request sent by another site's page.

    Gradio's CORS layer only withholds the `Access-Control-Allow-Origin` header, so a
    cross-origin POST (`Origin: https://evil.example`, or `Origin: null` from a sandboxed
    frame or a local file) is still run. A browser always sends `Origin` on a cross-origin
    POST; when it is present it must name this server (scheme http/https and the same
    host:port as the `Host` header), or the request gets 403 (CVE-2024-1727 class).
    Clients that send no `Origin` (gradio_client, curl) are not browsers and pass.
    """

    SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

    def __init__(self, app: Any) -> None:
        self.app = app

    @staticmethod
    def same_origin(origin: str, host: str | None) -> bool:
        from urllib.parse import urlsplit  # noqa: PLC0415

        try:
            parts = urlsplit(origin.strip())
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not parts.netloc or not host:
            return False
        default_port = "443" if parts.scheme == "https" else "80"
        origin_host = parts.netloc.lower()
        host = host.strip().lower()
        if ":" not in origin_host.rsplit("]", 1)[-1]:
            origin_host = f"{origin_host}:{default_port}"
        if ":" not in host.rsplit("]", 1)[-1]:
            host = f"{host}:{default_port}"
        return origin_host == host

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") == "http" and scope.get("method", "GET").upper() not in self.SAFE_METHODS:
            from starlette.datastructures import Headers  # noqa: PLC0415
            from starlette.responses import PlainTextResponse  # noqa: PLC0415

            headers = Headers(scope=scope)
            origin = headers.get("origin")
            if origin is not None and not self.same_origin(origin, headers.get("host")):
                response = PlainTextResponse("cross-origin request refused", status_code=403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def blocked_paths(settings: Settings) -> list[str]:
    """Folders the server must never serve: the project, knowledge, models and data."""
    paths = [PROJECT_ROOT, settings.knowledge_dir, settings.models_dir, settings.data_dir]
    if settings.model is not None:
        paths.append(settings.model.parent)
    return list(dict.fromkeys(str(Path(p).resolve()) for p in paths))


def launch_options(demo: gr.Blocks, settings: Settings) -> dict[str, Any]:
    """The keyword arguments for `Blocks.launch`: private, local, nothing else on disk served.

    Raises:
        ValueError: a non-loopback host without auth, or malformed auth.
    """
    import gradio as gr  # noqa: PLC0415

    from . import ui  # noqa: PLC0415  (the page's look lives with the page)

    auth = parse_auth(settings.auth)
    if not is_loopback(settings.host) and auth is None:
        raise ValueError(
            f"refusing to listen on {settings.host!r} without a password: anyone on the network could use it. "
            "Set ASSISTANT_AUTH=user:password, or use --host 127.0.0.1."
        )
    export_dir = getattr(demo, "export_dir", None) or export_folder(settings)
    from starlette.middleware import Middleware  # noqa: PLC0415
    from starlette.middleware.trustedhost import TrustedHostMiddleware  # noqa: PLC0415

    return {
        "server_name": settings.host,
        "server_port": settings.port,
        "share": False,  # explicit: GRADIO_SHARE and hosted-notebook detection cannot turn it on
        "auth": auth,
        "auth_message": "選型助手：請登入 Please sign in" if auth else None,
        # A non-empty list, so GRADIO_ALLOWED_PATHS from the environment is ignored.
        "allowed_paths": [str(export_dir)],
        "blocked_paths": blocked_paths(settings),
        "max_file_size": "1mb",
        "ssr_mode": False,
        "mcp_server": False,
        "pwa": False,
        "enable_monitoring": False,
        "run_history": False,
        "show_error": False,
        "strict_cors": True,
        "footer_links": ["api"],
        # A page on another site that rebinds its DNS name to 127.0.0.1 sends its own Host
        # header; a local server answers only to local names (CVE-2024-47165 class).
        # Another site's page may POST here too: a request whose Origin is not this server is refused.
        "app_kwargs": {
            "middleware": [
                Middleware(TrustedHostMiddleware, allowed_hosts=trusted_hosts(settings.host)),
                Middleware(SameOriginWrites),
            ]
        },
        "theme": gr.themes.Soft(
            primary_hue="teal",
            # Local fonts only: no request to a font CDN.
            font=["Noto Sans CJK TC", "PingFang TC", "Microsoft JhengHei", "system-ui", "sans-serif"],
            font_mono=["Noto Sans Mono CJK TC", "ui-monospace", "monospace"],
        ),
        "css": ui._CSS,
        "head": ui._HEAD,
    }


def serve(demo: gr.Blocks, settings: Settings, *, prevent_thread_lock: bool = False, quiet: bool = False) -> Any:
    """Launch with `launch_options`; returns what `Blocks.launch` returns."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    return demo.launch(prevent_thread_lock=prevent_thread_lock, quiet=quiet, **launch_options(demo, settings))

