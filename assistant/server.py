"""Serving the web UI: launch options, the queue, the middleware and sign-in.

`ui.py` builds the page (`webapp.build_page` hands it over with its CSS and head); this
module decides how it is served, and never imports `ui`:

- `launch_options(demo, settings)` / `serve(demo, settings)`: local bind, no share link, no
  file routes beyond the app's own export folder, a bounded queue, auth when not on loopback;
- `configure_queue(demo, settings)`: the queue size, the concurrency groups (grounded answers
  never wait behind a language-model answer) and the busy message;
- ASGI middleware: same-origin writes, a request-body size limit (413), a per-client backoff
  on failed sign-ins (429), unknown `fn_index` or API name answered 4xx, over-nested JSON
  refused (422), chat histories checked and normalised before Gradio sees them (one log line
  for a malformed one), no upload or deep-link routes unless a component needs them, proxy
  headers believed only from `settings.trusted_proxies`, CORS only for the app's own origin;
- `cap_history`: the history a chat request may carry and a session keeps is bounded;
- `ModelSlot`: one language-model answer at a time, a bounded line of LLM users behind it,
  which a model server marked down (`llm_health`) releases at once;
- `install_output_guard` / `install_log_guard`: what one request can write to the log is bounded;
- `clean_text` / `clean_value`: every string echoed back is valid UTF-8 (no lone surrogates).
"""

from __future__ import annotations

import atexit
import ipaddress
import json
import logging
import os
import re
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

    `acquire()` yields True when the caller holds the slot, False when the line is full or
    `give_up()` turns true while waiting (a model server marked down: the caller answers
    from the knowledge base instead of waiting behind a request that will time out).
    """

    WAIT_STEP_S = 0.25

    def __init__(self, max_waiting: int) -> None:
        self.max_waiting = max(0, max_waiting)
        self._lock = threading.Lock()
        self._state = threading.Lock()
        self.waiting = 0

    @contextmanager
    def acquire(self, give_up: Any = None) -> Iterator[bool]:
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
            held = False
            while not held:
                held = self._lock.acquire(timeout=self.WAIT_STEP_S if give_up is not None else -1)
                if give_up is not None and give_up():
                    if held:  # the one before us just gave the slot up for the same reason
                        self._lock.release()
                        held = False
                    break
            if not held:
                yield False
                return
            try:
                yield True
            finally:
                self._lock.release()
        finally:
            with self._state:
                self.waiting -= 1


HISTORY_TRIMMED_ZH = "對話太長，只保留最近 {kept} 則訊息（較早的 {dropped} 則已移除）。"
HISTORY_TRIMMED_EN = "The conversation was too long: only the last {kept} messages were kept ({dropped} older ones removed)."


# RequestGuard trims an oversized history before Gradio parses it (a 1 MiB history cost
# Gradio 1.5 s of CPU and tens of MB of transient memory) and tells `guarded_chat` how many
# messages it dropped with this first message, which `guarded_chat` removes again.
TRIM_MARKER = "\u2063assistant-history-trimmed:"


def _trim_marker(dropped: int) -> dict[str, Any]:
    return {"role": "system", "content": [{"type": "text", "text": f"{TRIM_MARKER}{dropped}"}]}


def _take_trim_marker(chat: Any) -> tuple[Any, int]:
    """(chat without RequestGuard's trim marker, the number of messages it says were dropped)."""
    if isinstance(chat, list) and chat and isinstance(chat[0], dict) and chat[0].get("role") == "system":
        content = chat[0].get("content")
        parts = content if isinstance(content, list) else [content]
        text = next((p.get("text") if isinstance(p, dict) else p for p in parts), None)
        if isinstance(text, str) and text.startswith(TRIM_MARKER):
            count = text[len(TRIM_MARKER):]
            return chat[1:], int(count) if count.isdigit() and len(count) < 9 else 0
    return chat, 0


def _message_bytes(message: Any) -> int:
    try:
        return len(json.dumps(message, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass"))
    except (TypeError, ValueError, RecursionError):
        return 1 << 30  # unmeasurable: never kept


def cap_history(chat: Any, max_messages: int, max_bytes: int) -> tuple[list[Any], int]:
    """(the most recent messages of `chat` within `max_messages` and `max_bytes` of JSON,
    how many were dropped). Non-message entries are dropped; the kept part starts with a
    user's message when it can."""
    messages = [m for m in chat if isinstance(m, dict)] if isinstance(chat, list) else []
    kept: list[Any] = []
    size = 0
    for message in reversed(messages):
        size += _message_bytes(message)
        if len(kept) >= max_messages or size > max_bytes:
            break
        kept.append(message)
    kept.reverse()
    while len(kept) < len(messages) and kept and kept[0].get("role") == "assistant":
        kept.pop(0)  # an answer whose question was cut off
    dropped = (len(chat) if isinstance(chat, list) else 0) - len(kept)
    return kept, dropped


def _with_status(update: Any, status_index: int, note: str) -> Any:
    values = list(update)
    status = values[status_index]
    values[status_index] = f"{note} {status}" if isinstance(status, str) and status else note
    return tuple(values)


def _last(updates: Iterator[Any]) -> Any:
    last = None
    for update in updates:
        last = update
    return last


def guarded_chat(
    respond: Any,
    slot: ModelSlot,
    llm_mode: str,
    grounded_mode: str,
    *args: Any,
    status_index: int = -1,
) -> Iterator[Any]:
    """Run the chat handler `respond(*args)` for the web server; args are (assistant,
    machine, message, chat, mode, language). `status_index` is where the status line sits
    in the handler's outputs.

    - The chat history is capped (`cap_history`, the assistant's `settings.max_history_messages`
      and `max_history_bytes`) before the handler sees it, so a session never keeps more; the
      status line says what was dropped.
    - Grounded answers are ready in milliseconds: only the last update is sent (one
      re-render of the chat instead of one per step).
    - A language-model answer first takes the `slot`; when the line for it is full, or the
      model server is marked down (`llm_health`), the user gets the grounded answer at once
      with a note in their language, never a refusal and never a wait for a timeout.
    - Every string sent back is cleaned of lone surrogates.
    """
    from . import llm_health  # noqa: PLC0415
    from .chinese import detect_language  # noqa: PLC0415

    *head, mode, language = args
    message = head[2] if len(head) > 2 and isinstance(head[2], str) else ""
    settings = getattr(head[0], "settings", None) if head else None

    def lang() -> str:
        return language if language in ("zh-TW", "en") else detect_language(clean_text(message[:2000]))

    notes: list[str] = []
    if len(head) > 3:
        head[3], dropped = _take_trim_marker(head[3])
        if settings is not None and isinstance(head[3], list):
            kept, more = cap_history(head[3], settings.max_history_messages, settings.max_history_bytes)
            if more > 0:
                head[3], dropped = kept, dropped + more
        if dropped > 0:
            kept_count = len(head[3]) if isinstance(head[3], list) else 0
            template = HISTORY_TRIMMED_EN if lang() == "en" else HISTORY_TRIMMED_ZH
            notes.append(template.format(kept=kept_count, dropped=dropped))

    def finish(update: Any, extra: str = "") -> Any:
        note = " ".join([*notes, extra]).strip()
        return clean_value(_with_status(update, status_index, note) if note and update is not None else update)

    if mode != llm_mode:
        last = _last(respond(*head, mode, language))
        if last is not None:
            yield finish(last)
        return
    down = llm_health.down_reason()
    if down is None:
        with slot.acquire(give_up=llm_health.any_down) as held:
            if held:
                previous = None  # the last update carries the notes (earlier ones stream as they come)
                for update in respond(*head, mode, language):
                    if previous is not None:
                        yield clean_value(previous)
                    previous = update
                if previous is not None:
                    yield finish(previous)
                return
        down = llm_health.down_reason()
    if down is not None:
        note = down[1] if lang() == "en" else down[0]
    else:
        note = MODEL_BUSY_EN if lang() == "en" else MODEL_BUSY_ZH
    last = _last(respond(*head, grounded_mode, language))
    if last is not None:
        yield finish(last, note)


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
    chat, _dropped = _take_trim_marker(chat)  # RequestGuard's marker is not a message to show
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
    if not sep or not user.strip() or not password.strip():
        raise ValueError("ASSISTANT_AUTH must look like user:password (both non-empty, not only spaces)")
    if user != user.strip() or password != password.strip():
        raise ValueError("ASSISTANT_AUTH must look like user:password, without spaces around the name or the password")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in auth):
        raise ValueError("ASSISTANT_AUTH must not contain control characters")
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


MAX_JSON_DEPTH = 64  # a chat request nests about 6 deep; 100,000 deep made Gradio answer 500
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# Routes that write files or keep state for components this app does not have.
UPLOAD_ROUTES = ("/upload", "/upload_progress", "/process_recording", "/deep_link")
# Components that take files from the user; only they need the upload routes.
UPLOAD_COMPONENTS = frozenset({
    "File", "Files", "UploadButton", "Image", "ImageEditor", "Sketchpad", "Paint", "ImageMask", "Audio", "Video",
    "Model3D", "MultimodalTextbox", "Gallery", "ImageSlider", "SimpleImage", "DeepLinkButton",
})


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text `body` nests arrays/objects deeper than `limit` (strings ignored)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for byte in _JSON_STRING.sub(b'""', body).translate(None, _NOT_BRACKETS):
        if byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def normalise_chat_history(value: Any) -> tuple[Any, str | None]:
    """(the history in Gradio's message format, or a one-line reason it is unusable).

    Accepted: None or a list of {"role": "user"|"assistant"|"system", "content": ...} where
    content is text, a {"type": "text", "text": ...} part, or a list of such parts; plain text
    becomes a text part (Gradio's API accepts only the list form). Files and components are
    refused: this chat takes text only.
    """
    if value is None:
        return [], None
    if not isinstance(value, list):
        return None, f"the chat history is a {type(value).__name__}, not a list of messages"
    out: list[Any] = []
    bad: list[tuple[int, str]] = []
    for n, message in enumerate(value):
        problem = None
        if not isinstance(message, dict):
            problem = f"is a {type(message).__name__}, not a {{role, content}} object"
        elif message.get("role") not in ("user", "assistant", "system"):
            problem = "has no role user/assistant/system"
        else:
            content = message.get("content")
            parts = [content] if isinstance(content, (str, dict)) else content
            if not isinstance(parts, list) or not parts:
                problem = "has no content"
            else:
                text_parts = []
                for part in parts:
                    if isinstance(part, str):
                        text_parts.append({"type": "text", "text": part})
                    elif isinstance(part, dict) and part.get("type", "text") == "text" and isinstance(part.get("text"), str):
                        text_parts.append({"type": "text", "text": part["text"]})
                    else:
                        problem = "has a part that is not text (this chat takes text only)"
                        break
                if problem is None:
                    clean: dict[str, Any] = {"role": message["role"], "content": text_parts}
                    for key in ("metadata", "options"):
                        if isinstance(message.get(key), (dict, list)):
                            clean[key] = message[key]
                    out.append(clean)
        if problem is not None:
            bad.append((n, problem))
    if bad:
        first, why = bad[0]
        return None, (
            f"chat history message {first + 1} of {len(value)} {why}"
            + (f" ({len(bad)} malformed messages)" if len(bad) > 1 else "")
            + '; send a list of {"role": "user" or "assistant", "content": "text"}'
        )
    return out, None


class RequestGuard:
    """ASGI middleware for what Gradio's routes do not check themselves.

    - A request body over `max_bytes` is refused with 413 (by `Content-Length`, or while it
      streams in), so a 21 MB JSON body is never parsed.
    - A queue or predict call naming an `fn_index` or an API name the app does not have gets
      4xx with a message that says where the API is described, instead of a 500 from deep
      inside Gradio; JSON nested deeper than `MAX_JSON_DEPTH` gets 422.
    - A chat history is checked and normalised before Gradio validates it
      (`normalise_chat_history`): plain-text content works, and a malformed history gets 422
      and one short log line instead of a traceback per message. A history over `history_cap`
      is trimmed here already (`cap_history`; `guarded_chat` says so), so Gradio never parses
      thousands of messages.
    - The upload and deep-link routes answer 404 unless a component needs them (`uploads`
      False: this app has no file input).
    """

    CALL_PATHS = ("/queue/join", "/run/predict", "/api/predict")
    NAMED_CALL = re.compile(r"/(?:call(?:/v2)?|run|api)/([^/]+)/?$")

    def __init__(
        self,
        app: Any,
        max_bytes: int,
        known_functions: Any = None,
        uploads: Any = True,
        history_cap: tuple[int, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.known_functions = known_functions  # a callable giving {fn_index: BlockFunction}
        self.uploads = uploads  # bool, or a callable: whether any component takes files
        self.history_cap = history_cap  # (messages, bytes) a chat history is trimmed to, see TRIM_MARKER

    async def _reply(self, scope: Any, receive: Any, send: Any, status: int, message: str) -> None:
        from starlette.responses import JSONResponse  # noqa: PLC0415

        await JSONResponse({"detail": message, "error": message}, status_code=status)(scope, receive, send)

    def _uploads_allowed(self) -> bool:
        return bool(self.uploads() if callable(self.uploads) else self.uploads)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path.rstrip("/").endswith(UPLOAD_ROUTES) and not self._uploads_allowed():
            await self._reply(scope, receive, send, 404, "this app takes no file uploads")
            return
        if scope.get("method", "GET").upper() in SameOriginWrites.SAFE_METHODS:
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
        if path.startswith("/gradio_api/") or path.endswith(self.CALL_PATHS):
            status, problem, checked = self._check_call(path, body)
            if problem:
                log.warning("request to %s refused (%d): %s", path[:80], status, problem[:300])
                await self._reply(scope, receive, send, status, problem)
                return
            if checked is not body:  # normalised: the length changed
                body, scope = checked, dict(scope)
                scope["headers"] = [(k, v) for k, v in scope.get("headers") or [] if k != b"content-length"] + [
                    (b"content-length", str(len(body)).encode())
                ]
        await self.app(scope, _replay([body], None, receive), send)

    def _check_call(self, path: str, body: bytes) -> tuple[int, str | None, bytes]:
        """(status, a reason to refuse or None, the body to pass on)."""
        if not body or body[:1] not in (b"{", b"["):
            return 200, None, body
        if json_depth_exceeds(body):
            return 422, f"request JSON nested deeper than {MAX_JSON_DEPTH} levels refused", body
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return 200, None, body  # Gradio answers malformed JSON with a 4xx itself
        if not isinstance(data, dict) or self.known_functions is None:
            return 200, None, body
        functions = self.known_functions()
        fn = None
        named = self.NAMED_CALL.search(path)
        if named and named.group(1) != "predict":
            name = named.group(1)
            fn = next((f for f in functions.values() if getattr(f, "api_name", None) == name), None)
            if fn is None:
                return 404, (
                    f"unknown API name {name[:40]!r}: this app has no such endpoint; "
                    "see /gradio_api/info (or the 'Use via API' page) for the endpoints"
                ), body
        elif "fn_index" in data:
            fn_index = data.get("fn_index")
            if isinstance(fn_index, bool) or not isinstance(fn_index, int) or fn_index not in functions:
                return 422, (
                    f"unknown fn_index {str(fn_index)[:40]!r}: this app has no such function; "
                    "see /gradio_api/info (or the 'Use via API' page) for the endpoints"
                ), body
            fn = functions[fn_index]
        values = data.get("data")
        if fn is None or not isinstance(values, list):
            return 200, None, body
        changed = False
        for n, block in enumerate(getattr(fn, "inputs", []) or []):
            if type(block).__name__ != "Chatbot" or n >= len(values):
                continue
            history, problem = normalise_chat_history(values[n])
            if problem:
                return 422, problem, body
            if self.history_cap is not None:
                history, earlier = _take_trim_marker(history)
                kept, dropped = cap_history(history, *self.history_cap)
                if dropped or earlier:
                    history = [_trim_marker(dropped + earlier), *kept]
            if history != values[n]:
                values[n], changed = history, True
        if changed:
            body = json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass")
        return 200, None, body


def needs_uploads(demo: Any) -> bool:
    """Whether any component of `demo` that an event reads takes files from the user."""
    for fn in getattr(demo, "fns", {}).values():
        for block in getattr(fn, "inputs", []) or []:
            if type(block).__name__ in UPLOAD_COMPONENTS:
                return True
    return any(type(b).__name__ == "DeepLinkButton" for b in getattr(demo, "blocks", {}).values())


class ForwardedHeaders:
    """ASGI middleware: proxy headers are believed only from the proxies the operator names.

    uvicorn applies `X-Forwarded-For`/`-Proto` only from `FORWARDED_ALLOW_IPS` (set from
    `settings.trusted_proxies` by `serve`, empty by default); this removes them (and
    `Forwarded`, `X-Real-IP`, …) from every request when no proxy is trusted, so nothing
    downstream reads a client's claim about itself. `X-Forwarded-Host` (which Gradio uses to
    build redirect URLs, e.g. after `/login`) is always removed: the `Host` header, checked by
    `TrustedHostMiddleware`, names the server.
    """

    ALWAYS = frozenset({b"x-forwarded-host", b"x-forwarded-server", b"x-original-host", b"x-host"})
    PROXY = frozenset({
        b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-port", b"x-forwarded-prefix", b"x-forwarded-scheme",
        b"x-forwarded-ssl", b"x-real-ip", b"forwarded", b"x-client-ip", b"true-client-ip", b"x-scheme",
    })

    def __init__(self, app: Any, trusted_proxies: str = "") -> None:
        self.app = app
        self.drop = self.ALWAYS | (frozenset() if trusted_proxies.strip() else self.PROXY)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") in ("http", "websocket"):
            headers = scope.get("headers") or []
            if any(k in self.drop for k, _ in headers):
                scope = dict(scope)
                scope["headers"] = [(k, v) for k, v in headers if k not in self.drop]
        await self.app(scope, receive, send)


def own_origin_cors() -> None:
    """Gradio's CORS layer grants credentialed access to any localhost origin on any port when
    the server is local (and to every origin when it is not), so a page on another local port
    could read `/gradio_api/token`. From here on it grants only the app's own origin (same
    scheme host:port as the `Host` header). Idempotent."""
    from gradio import route_utils  # noqa: PLC0415

    cls = route_utils.CustomCORSMiddleware
    if getattr(cls, "_assistant_own_origin", False):
        return

    def is_valid_origin(self: Any, request_headers: Any) -> bool:
        return SameOriginWrites.same_origin(request_headers.get("origin") or "", request_headers.get("host"))

    cls.is_valid_origin = is_valid_origin  # type: ignore[method-assign]
    cls._assistant_own_origin = True  # type: ignore[attr-defined]


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


class BoundedStream:
    """A text stream wrapper that bounds what reaches the log, whatever writes to it
    (Gradio prints a full traceback, with the request's values, for each failed request):

    - one write is cut at `max_write` characters;
    - at most `burst` characters pass at once, refilled at `rate` characters per second;
      beyond that output is dropped, and one line later says how much.
    """

    def __init__(self, stream: Any, max_write: int = 2000, burst: int = 65_536, rate: float = 8192.0) -> None:
        self._stream = stream
        self.max_write = max_write
        self.burst = burst
        self.rate = rate
        self._tokens = float(burst)
        self._stamp = time.monotonic()
        self._dropped = 0
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            text = str(text)
        n = len(text)
        with self._lock:
            now = time.monotonic()
            self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if n > self.max_write:
                text = f"{text[: self.max_write]}… [{n - self.max_write} more characters cut]\n"
            if len(text) > self._tokens:
                self._dropped += len(text)
                return n
            if self._dropped:
                note = f"[log guard: {self._dropped} characters of output dropped]\n"
                self._dropped = 0
                self._stream.write(note)
                self._tokens -= len(note)
            self._tokens -= len(text)
            try:
                self._stream.write(text)
            except (UnicodeEncodeError, ValueError):
                self._stream.write(clean_text(text).encode("utf-8", "replace").decode("utf-8"))
        return n

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def install_output_guard() -> None:
    """Wrap `sys.stdout` and `sys.stderr` in `BoundedStream` (once), before the server starts,
    so log handlers created later write through it too."""
    import sys  # noqa: PLC0415

    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, BoundedStream):
            setattr(sys, name, BoundedStream(stream))


def blocked_paths(settings: Settings) -> list[str]:
    """Folders the server must never serve: the project, knowledge, models and data."""
    paths = [PROJECT_ROOT, settings.knowledge_dir, settings.models_dir, settings.data_dir]
    if settings.model is not None:
        paths.append(settings.model.parent)
    return list(dict.fromkeys(str(Path(p).resolve()) for p in paths))


def page_assets(demo: Any) -> tuple[str | None, str | None]:
    """(css, head) of the page, which `ui.build_ui` hangs on the Blocks (`page_css`,
    `page_head`). This module never imports `ui`."""
    return getattr(demo, "page_css", None), getattr(demo, "page_head", None)


def launch_options(demo: gr.Blocks, settings: Settings) -> dict[str, Any]:
    """The keyword arguments for `Blocks.launch`: private, local, nothing else on disk served.

    Raises:
        ValueError: a non-loopback host without auth, or malformed auth.
    """
    import gradio as gr  # noqa: PLC0415

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

    own_origin_cors()
    css, head = page_assets(demo)
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
        # Sessions kept in memory: each holds at most the capped chat history and its panels.
        "state_session_capacity": settings.session_capacity,
        # A page on another site that rebinds its DNS name to 127.0.0.1 sends its own Host
        # header; a local server answers only to local names (CVE-2024-47165 class).
        # Another site's page may POST here too: a request whose Origin is not this server is refused.
        "app_kwargs": {
            "middleware": [
                Middleware(ForwardedHeaders, trusted_proxies=settings.trusted_proxies),
                Middleware(TrustedHostMiddleware, allowed_hosts=trusted_hosts(settings.host)),
                Middleware(SameOriginWrites),
                Middleware(RequestGuard, max_bytes=settings.max_request_bytes, known_functions=lambda: demo.fns,
                           uploads=lambda: needs_uploads(demo),
                           history_cap=(settings.max_history_messages, settings.max_history_bytes)),
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
        "css": css,
        "head": head,
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
    # uvicorn believes X-Forwarded-For/-Proto only from these addresses (its default is
    # 127.0.0.1, which let any local client pick its own address for the sign-in backoff).
    os.environ["FORWARDED_ALLOW_IPS"] = settings.trusted_proxies.strip()
    install_log_guard()
    return demo.launch(prevent_thread_lock=prevent_thread_lock, quiet=quiet, **launch_options(demo, settings))

