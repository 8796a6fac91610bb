"""The chat handler as the web server runs it: one language-model answer at a time
(`ModelSlot`), a bounded line behind it, the grounded answer at once for everyone else
(`guarded_chat`), and the history capped before the handler sees it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .clean import clean_text, clean_value
from .history import HISTORY_TRIMMED_EN, HISTORY_TRIMMED_ZH, _take_trim_marker, cap_history

MODEL_BUSY_ZH = "本機模型正忙（前面還有人在等），這次先用知識庫回答。"
MODEL_BUSY_EN = "The language model is busy (others are waiting); answering from the knowledge base this time."


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
    from .. import llm_health  # noqa: PLC0415
    from ..chinese import detect_language  # noqa: PLC0415

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
