"""Gradio's queue as this app runs it: bounded, a busy message in Chinese and English
(a full queue answers a chat request at once through a hidden busy event), its own
concurrency group for the chat, and less polling and per-session work than Gradio's defaults."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ..config import Settings
from .clean import clean_text, clean_value
from .history import _take_trim_marker

if TYPE_CHECKING:
    import gradio as gr



BUSY_ZH = "忙碌中，請稍後再試。"
BUSY_EN = "The assistant is busy; please try again shortly."
BUSY_MESSAGE = f"{BUSY_ZH}（{BUSY_EN}）"

# Concurrency groups: the chat's grounded work runs many at a time; only the language model
# is one at a time, and that is enforced by `ModelSlot` inside the handler, so a grounded
# question never waits in line behind an LLM answer.
CHAT_CONCURRENCY_ID = "chat"
BUSY_CONCURRENCY_ID = "busy"  # the hidden event a chat request is routed to when the queue is full


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

    from ..chinese import detect_language  # noqa: PLC0415

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
