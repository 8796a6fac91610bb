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
import json
import logging
import os
import shutil
import tempfile
import threading
import time
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
BUSY_CONCURRENCY_ID = "busy"  # the hidden event a chat request is routed to when the queue is full


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


def guarded_chat(
    respond: Any,
    slot: ModelSlot,
    llm_mode: str,
    grounded_mode: str,
    *args: Any,
    status_index: int = -1,
) -> Iterator[Any]:
    """Run the chat handler `respond(*args)` (args end with mode and language) for the web server.

    `status_index` is where the status line sits in the handler's outputs.

    - Grounded answers are ready in milliseconds: only the last update is sent (one
      re-render of the chat instead of one per step).
    - A language-model answer first takes the `slot`; when the line for it is full, the user
      gets the grounded answer at once with a note in their language, never a refusal.
    - Every string sent back is cleaned of lone surrogates.
    """
    *head, mode, language = args
    if mode != llm_mode:
        last = None
        for update in respond(*head, mode, language):
            last = update
        if last is not None:
            yield clean_value(last)
        return
    with slot.acquire() as held:
        if held:
            yield from clean_stream(respond(*head, mode, language))
            return
    from .chinese import detect_language  # noqa: PLC0415

    message = head[2] if len(head) > 2 and isinstance(head[2], str) else ""
    lang = language if language in ("zh-TW", "en") else detect_language(clean_text(message))
    note = MODEL_BUSY_EN if lang == "en" else MODEL_BUSY_ZH
    last = None
    for update in respond(*head, grounded_mode, language):
        last = update
    if last is not None:
        values = list(last)
        status = values[status_index]
        values[status_index] = f"{note} {status}" if isinstance(status, str) and status else note
        yield clean_value(tuple(values))


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
    """A Gradio cache folder owned by this process, so it never serves another process's files.

    It is `<GRADIO_TEMP_DIR or <tmp>/assistant-gradio-<uid>>/assistant-<pid>`, removed at exit;
    folders of processes that are gone are removed here.
    """
    configured = os.environ.get("GRADIO_TEMP_DIR")
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    base = Path(configured) if configured else Path(tempfile.gettempdir()) / f"assistant-gradio-{uid}"
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    for old in base.glob("assistant-*"):
        pid = old.name.removeprefix("assistant-")
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    folder = base / f"assistant-{os.getpid()}"
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


CACHE_SWEEP_S = 3600  # Gradio's copies of exported files older than this are deleted, hourly
# Gradio's queue loop polls for new events every 1 ms when it is free or full, about 40 ms of
# CPU per second on an idle server; 5 ms costs at most 5 ms of latency and a fifth of that CPU.
QUEUE_POLL_S = 0.02
PROGRESS_POLL_S = 0.05  # progress messages (the chat does not send any) every 50 ms, not 10 ms
# Gradio recomputes its per-endpoint timing summary (a pandas group-by over up to 10,000
# events, shown on the "Use via API" page) after every event; every 50th is enough.
ANALYTICS_EVERY = 50


def configure_queue(demo: gr.Blocks, settings: Settings) -> None:
    """Bounded queue (`settings.queue_size`), a Chinese-and-English busy message, and
    Gradio's cache swept (`delete_cache`: hourly, and all of it at start)."""
    demo.queue(max_size=settings.queue_size, default_concurrency_limit=1)
    demo.delete_cache = (CACHE_SWEEP_S, CACHE_SWEEP_S)
    tune_queue_polling(demo._queue)
    lazy_session_configs()
    friendly_queue_full(demo)


class _LazyConfigValues(dict):  # type: ignore[type-arg]
    """`SessionState.config_values`, each block's entry built on first use.

    Gradio builds the config of every block of the page for every new session (about 25 ms
    of CPU for this UI), though only a deep link reads them all. Reading one key, `in`, or
    setting one behaves as before; iterating fills in the rest first."""

    def __init__(self, blocks_config: Any, keys: list[int]) -> None:
        super().__init__()
        self._blocks_config = blocks_config
        self._pending = set(keys)
        self._fill_lock = threading.Lock()

    def _fill(self, key: Any) -> None:
        with self._fill_lock:
            if key in self._pending:
                self._pending.discard(key)
                if not dict.__contains__(self, key):
                    block = self._blocks_config.blocks[key]
                    dict.__setitem__(self, key, self._blocks_config.config_for_block(key, [], block))

    def _fill_all(self) -> None:
        for key in list(self._pending):
            self._fill(key)

    def __missing__(self, key: Any) -> Any:
        self._fill(key)
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or key in self._pending

    def __setitem__(self, key: Any, value: Any) -> None:
        self._pending.discard(key)
        dict.__setitem__(self, key, value)

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if key in self else default

    def __iter__(self) -> Any:
        self._fill_all()
        return dict.__iter__(self)

    def __len__(self) -> int:
        return dict.__len__(self) + len(self._pending)

    def keys(self) -> Any:
        self._fill_all()
        return dict.keys(self)

    def values(self) -> Any:
        self._fill_all()
        return dict.values(self)

    def items(self) -> Any:
        self._fill_all()
        return dict.items(self)


class _SessionBlocks:
    """What `SessionState.__init__` reads of the app's Blocks, with no blocks to configure."""

    def __init__(self, blocks: Any) -> None:
        self._blocks = blocks
        self.blocks: dict[int, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._blocks, name)


def lazy_session_configs() -> None:
    """New sessions build block configs on first use (see `_LazyConfigValues`). Idempotent."""
    from gradio import state_holder  # noqa: PLC0415

    cls = state_holder.SessionState
    if getattr(cls, "_assistant_lazy_configs", False):
        return
    original = cls.__init__

    def __init__(self: Any, blocks: Any) -> None:
        original(self, _SessionBlocks(blocks))  # everything as before, no configs built yet
        keys = [k for k in self.blocks_config.blocks if k in blocks.blocks]
        self.config_values = _LazyConfigValues(self.blocks_config, keys)

    cls.__init__ = __init__  # type: ignore[method-assign]
    cls._assistant_lazy_configs = True  # type: ignore[attr-defined]


def tune_queue_polling(queue: Any) -> None:
    """Poll less often and summarise less often: see QUEUE_POLL_S and ANALYTICS_EVERY."""
    queue.ANAYLTICS_CACHE_FREQUENCY = max(int(getattr(queue, "ANAYLTICS_CACHE_FREQUENCY", 1)), ANALYTICS_EVERY)
    queue.sleep_when_free = max(float(getattr(queue, "sleep_when_free", 0.0)), QUEUE_POLL_S)
    queue.progress_update_sleep_when_free = max(
        float(getattr(queue, "progress_update_sleep_when_free", 0.0)), PROGRESS_POLL_S
    )


def chat_event_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for the chat events: their own concurrency group, many at a time."""
    return {"concurrency_limit": settings.chat_concurrency, "concurrency_id": CHAT_CONCURRENCY_ID}


def busy_event_options() -> dict[str, Any]:
    """Keyword arguments for the hidden busy event: answered at once, never queued behind others."""
    return {"concurrency_limit": None, "concurrency_id": BUSY_CONCURRENCY_ID, "api_visibility": "private"}


def busy_reply(message: Any, chat: Any, mode: Any = None, language: Any = None, *state: Any) -> tuple[Any, ...]:
    """The chat's outputs for a request that found the queue full: the question stays in the
    box and the chat says 「忙碌中」 in the user's language (gradio_client shows its own
    English "Queue is full!" for a 503, so a full queue answers through this event instead)."""
    import gradio as gr  # noqa: PLC0415

    from .chinese import detect_language  # noqa: PLC0415

    text = clean_text(message if isinstance(message, str) else "")
    lang = language if language in ("zh-TW", "en") else detect_language(text)
    busy = BUSY_EN if lang == "en" else BUSY_ZH
    history = [m for m in (chat or []) if isinstance(m, dict)]
    shown = [*history, {"role": "user", "content": text[:2000]}, {"role": "assistant", "content": busy}]
    # The conversation state (when the chat carries one) is left as it was.
    return (clean_value(shown), text, gr.skip(), gr.skip(), gr.skip(), busy, *(gr.skip() for _ in state))


def friendly_queue_full(demo: gr.Blocks) -> None:
    """A full queue: a chat request is answered at once by the busy event, in the user's
    language; any other request gets 503 with 「忙碌中，請稍後再試」 instead of Gradio's English."""
    queue = demo._queue
    original = queue.push

    def route() -> tuple[set[int], int | None]:
        chat = {i for i, fn in demo.fns.items() if getattr(fn, "concurrency_id", None) == CHAT_CONCURRENCY_ID}
        busy = [i for i, fn in demo.fns.items() if getattr(fn, "concurrency_id", None) == BUSY_CONCURRENCY_ID]
        return chat, (busy[0] if busy else None)

    async def push(*args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        success, detail, state = await original(*args, **kwargs)
        body = args[0] if args else kwargs.get("body")
        if state == "queue_full" and body is not None:
            chat, busy = route()
            if busy is not None and getattr(body, "fn_index", None) in chat:
                body.fn_index = busy
                body.trigger_id = None
                limit = queue.max_size
                queue.max_size = None  # this one answer goes through at once
                try:
                    return await original(*args, **kwargs)
                finally:
                    queue.max_size = limit
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


class RequestGuard:
    """ASGI middleware for what Gradio's routes do not check themselves.

    - A request body over `max_bytes` is refused with 413 (by `Content-Length`, or while it
      streams in), so a 21 MB JSON body is never parsed.
    - A queue or predict call naming an `fn_index` the app does not have gets 422 with a
      message that says where the API is described, instead of a 500 from deep inside Gradio.
    """

    CALL_PATHS = ("/queue/join", "/run/predict", "/api/predict")

    def __init__(self, app: Any, max_bytes: int, known_functions: Any = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.known_functions = known_functions  # a callable giving the valid fn_index values

    async def _reply(self, scope: Any, receive: Any, send: Any, status: int, message: str) -> None:
        from starlette.responses import JSONResponse  # noqa: PLC0415

        await JSONResponse({"detail": message, "error": message}, status_code=status)(scope, receive, send)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or scope.get("method", "GET").upper() in SameOriginWrites.SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        too_big = f"request body larger than {self.max_bytes} bytes refused"
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            try:
                if int(length) > self.max_bytes:
                    await self._reply(scope, receive, send, 413, too_big)
                    return
            except ValueError:
                await self._reply(scope, receive, send, 400, "bad Content-Length")
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([], message, receive), send)
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await self._reply(scope, receive, send, 413, too_big)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        path = scope.get("path", "")
        if self.known_functions is not None and path.endswith(self.CALL_PATHS):
            problem = self._bad_function(body)
            if problem:
                await self._reply(scope, receive, send, 422, problem)
                return
        await self.app(scope, _replay([body], None, receive), send)

    def _bad_function(self, body: bytes) -> str | None:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return None  # Gradio answers malformed JSON with a 4xx itself
        if not isinstance(data, dict) or "fn_index" not in data:
            return None
        fn_index = data.get("fn_index")
        known = self.known_functions()
        if isinstance(fn_index, bool) or not isinstance(fn_index, int) or fn_index not in known:
            return (
                f"unknown fn_index {str(fn_index)[:40]!r}: this app has no such function; "
                "see /gradio_api/info (or the 'Use via API' page) for the endpoints"
            )
        return None


def _replay(bodies: list[bytes], pending: Any, receive: Any) -> Any:
    """A `receive` that first hands back what was already read, then the real one."""
    queue: list[Any] = [{"type": "http.request", "body": b, "more_body": False} for b in bodies]
    if pending is not None:
        queue.append(pending)

    async def replay() -> Any:
        if queue:
            return queue.pop(0)
        return await receive()

    return replay


class LoginBackoff:
    """ASGI middleware: a per-client backoff on failed sign-ins (`ASSISTANT_AUTH`).

    The first `free` failures from one client address are answered as usual; after that the
    client must wait `first_delay_s` (2 s), then twice that, … (at most `max_delay_s`) before
    the next attempt, and
    an attempt made sooner gets 429 with `Retry-After`. A successful sign-in clears it.
    Behind a reverse proxy every client has the proxy's address: rate-limit there too.
    """

    def __init__(
        self, app: Any, free: int = 3, first_delay_s: float = 2.0, max_delay_s: float = 300.0, max_clients: int = 10_000
    ) -> None:
        self.app = app
        self.free = free
        self.first_delay_s = first_delay_s
        self.max_delay_s = max_delay_s
        self.max_clients = max_clients
        self.failures: dict[str, tuple[int, float]] = {}  # client -> (failures, not before)
        self._lock = threading.Lock()

    def delay(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return float(min(self.max_delay_s, self.first_delay_s * 2 ** (failures - self.free)))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or scope.get("method", "GET").upper() != "POST" or not scope.get(
            "path", ""
        ).rstrip("/").endswith("/login"):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        now = time.monotonic()
        with self._lock:
            count, not_before = self.failures.get(client, (0, 0.0))
        if now < not_before:
            from starlette.responses import JSONResponse  # noqa: PLC0415

            wait = int(not_before - now) + 1
            response = JSONResponse(
                {"detail": f"登入失敗太多次，請 {wait} 秒後再試。Too many failed sign-ins; try again in {wait} s."},
                status_code=429,
                headers={"Retry-After": str(wait)},
            )
            await response(scope, receive, send)
            return
        status: list[int] = []

        async def watch(message: Any) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        await self.app(scope, receive, watch)
        with self._lock:
            if status and status[0] < 300:
                self.failures.pop(client, None)
            elif status and status[0] in (400, 401, 403):
                count += 1
                self.failures[client] = (count, time.monotonic() + self.delay(count))
                if len(self.failures) > self.max_clients:  # forget the oldest entries
                    for key in list(self.failures)[: len(self.failures) - self.max_clients]:
                        self.failures.pop(key, None)


class _LogGuard(logging.Filter):
    """Truncate long log records and drop a repeat of the same record within a second,
    so one malformed request writes one short line, not megabytes."""

    def __init__(self, max_chars: int = 2000) -> None:
        super().__init__()
        self.max_chars = max_chars
        self._last: tuple[str, float] = ("", 0.0)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:
            text = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            text += f" ({type(record.exc_info[1]).__name__}: {str(record.exc_info[1])[:300]})"
            record.exc_info = None
            record.exc_text = None
        if len(text) > self.max_chars:
            text = f"{text[: self.max_chars]}… [{len(text) - self.max_chars} more characters cut]"
        key = text[:300]
        now = time.monotonic()
        if key == self._last[0] and now - self._last[1] < 1.0:
            return False
        self._last = (key, now)
        record.msg, record.args = clean_text(text), None
        return True


def install_log_guard() -> None:
    """Put `_LogGuard` on the root, gradio and uvicorn loggers' handlers (once)."""
    guard = _LogGuard()
    for name in ("", "gradio", "uvicorn", "uvicorn.error", "assistant"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _LogGuard) for f in logger.filters):
            logger.addFilter(guard)
        for handler in logger.handlers:
            if not any(isinstance(f, _LogGuard) for f in handler.filters):
                handler.addFilter(guard)


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
    from .api import McpAuth  # noqa: PLC0415

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
        "mcp_server": True,  # the four tools of api.py at /gradio_api/mcp/, signed in by McpAuth
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
                Middleware(RequestGuard, max_bytes=settings.max_request_bytes, known_functions=lambda: demo.fns),
                Middleware(LoginBackoff, first_delay_s=settings.login_backoff_s),
                Middleware(McpAuth, auth=auth, first_delay_s=settings.login_backoff_s),  # MCP signs in as the UI does
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


def warm_up(settings: Settings, question: str = "Phi 4 有多大？") -> float | None:
    """Ask the running server one grounded question over HTTP, the way a browser or
    gradio_client does, so Gradio's own first-request costs are paid before the first user.
    Returns the seconds it took, or None when it could not (the server still serves)."""
    import http.client  # noqa: PLC0415
    from urllib.parse import urlencode  # noqa: PLC0415

    host = "127.0.0.1" if not is_loopback(settings.host) else settings.host.strip("[]")
    started = time.perf_counter()
    headers = {"Content-Type": "application/json"}
    try:
        auth = parse_auth(settings.auth)
        if auth is not None:
            conn = http.client.HTTPConnection(host, settings.port, timeout=30)
            conn.request("POST", "/login", body=urlencode({"username": auth[0], "password": auth[1]}),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            response = conn.getresponse()
            response.read()
            cookies = [v.split(";", 1)[0] for k, v in response.getheaders() if k.lower() == "set-cookie"]
            conn.close()
            headers["Cookie"] = "; ".join(cookies)
        conn = http.client.HTTPConnection(host, settings.port, timeout=60)
        conn.request("POST", "/gradio_api/call/chat",
                     body=json.dumps({"data": [question, [], "grounded", "auto"]}), headers=headers)
        response = conn.getresponse()
        event_id = json.loads(response.read())["event_id"]
        conn.request("GET", f"/gradio_api/call/chat/{event_id}", headers=headers)
        conn.getresponse().read()
        conn.close()
    except Exception as exc:  # never fatal: the first user just pays for it
        log.warning("warm-up request failed: %s", exc)
        return None
    return time.perf_counter() - started


def serve(demo: gr.Blocks, settings: Settings, *, prevent_thread_lock: bool = False, quiet: bool = False) -> Any:
    """Launch with `launch_options`; returns what `Blocks.launch` returns."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    install_log_guard()
    return demo.launch(prevent_thread_lock=prevent_thread_lock, quiet=quiet, **launch_options(demo, settings))

