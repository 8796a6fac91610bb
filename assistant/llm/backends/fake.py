"""A scripted generator for tests, in the style of simonw/llm's `MockModel`."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .common import ContextOverflow, GenerationStats, Message


@dataclass
class FakeCall:
    """One recorded `FakeGenerator.stream` call."""

    messages: list[Message]
    max_tokens: int
    stop: list[str]
    output: str = ""
    cancelled: bool = False


class FakeGenerator:
    """A scripted generator for unit tests (like simonw/llm's `MockModel`).

    `enqueue(["Hello", " world"])` scripts the pieces of the next call; an exception
    instance is raised instead; `finish_reason` is what the call reports at the end
    ("length" for an answer cut off by max_tokens). With nothing queued, the call yields
    ``default`` and finishes with "stop".
    `history` records every call (messages, max_tokens, output, whether cancelled).
    Tokens are counted as one per character, so budgets are easy to reason about.
    """

    def __init__(
        self, n_ctx: int = 4096, delay_s: float = 0.0, default: str = "（無回答）", name: str = "fake"
    ) -> None:
        self.name = name
        self.n_ctx = n_ctx
        self.delay_s = delay_s
        self.default = default
        self.history: list[FakeCall] = []
        self.last = GenerationStats()
        self._queue: deque[tuple[list[str] | BaseException, str]] = deque()
        self._lock = threading.Lock()

    def enqueue(self, pieces: str | list[str] | BaseException, finish_reason: str = "stop") -> None:
        self._queue.append(([pieces] if isinstance(pieces, str) else pieces, finish_reason))

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return sum(len(m["content"]) + 4 for m in messages)

    def count_text(self, text: str) -> int:
        return len(text)

    def stream(
        self,
        messages: Sequence[Message],
        max_tokens: int,
        stop: Sequence[str] = (),
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        call = FakeCall([dict(m) for m in messages], max_tokens, list(stop))
        self.history.append(call)
        prompt_tokens = self.count_tokens(messages)
        if prompt_tokens + max_tokens > self.n_ctx:
            raise ContextOverflow(
                "提示超過上下文。", f"prompt {prompt_tokens} + {max_tokens} > n_ctx {self.n_ctx}"
            )
        with self._lock:
            script, finish_reason = self._queue.popleft() if self._queue else ([self.default], "stop")
        if isinstance(script, BaseException):
            raise script
        stats = GenerationStats(prompt_tokens=prompt_tokens)
        self.last = stats
        start = time.perf_counter()
        finished = False
        try:
            for piece in script:
                if cancel is not None and cancel.is_set():
                    return stats
                if self.delay_s:
                    time.sleep(self.delay_s)
                if stats.ttft_s is None:
                    stats.ttft_s = time.perf_counter() - start
                call.output += piece
                stats.completion_tokens += 1
                yield piece
            finished = True
            stats.finish_reason = finish_reason
        finally:
            # Stopped by `cancel` or closed early by the consumer: both are a cancellation.
            call.cancelled = stats.cancelled = not finished
            stats.total_s = time.perf_counter() - start
        return stats
