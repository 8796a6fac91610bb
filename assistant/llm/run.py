"""One LLM run: the prompt built inside its deadline, the stream in a worker thread with
cancellation, a hidden draft (only `Progress` ticks leave the run while it writes), how it
ended (`LLMResult`), and validation of a complete answer."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..chinese import StreamConverter
from ..knowledge import Catalog
from .backends import (
    GenerationError,
    GenerationStats,
    GenerationTimeout,
    Generator,
    OpenAICompatibleGenerator,
    StreamIncomplete,
)
from .prompt import Prompt, PromptTooLong
from .validate import Grounding, Validation, validate

if TYPE_CHECKING:
    from ..compose import Reply

log = logging.getLogger("assistant.llm")


# ------------------------------------------------------------------ one run


@dataclass(frozen=True)
class Progress:
    """What a run says while it writes its hidden draft: how many pieces (about one token
    each) so far, and the seconds since it started. Never any text."""

    tokens: int
    elapsed_s: float


@dataclass
class LLMResult:
    """How an LLM answer ended.

    `kind`: ok, invalid (failed validation), incomplete (cut off: `length` finish or
    another non-stop finish), empty, timeout, error (server error, dropped stream, load
    failure), cancelled. Only `invalid` carries validation problems.
    """

    kind: str
    text: str = ""
    validation: Validation | None = None
    reason_zh: str = ""
    reason_en: str = ""
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.kind == "ok"

    def notice(self, language: str) -> str:
        return self.reason_en if language == "en" else self.reason_zh

    def to_dict(self) -> dict[str, Any]:
        """What `ask --json` shows under "llm"."""
        return {
            "outcome": self.kind,
            "finish_reason": self.stats.get("finish_reason"),
            "prompt_tokens": self.stats.get("prompt_tokens"),
            "completion_tokens": self.stats.get("completion_tokens"),
            "max_tokens": self.stats.get("max_tokens"),
            "n_ctx": self.stats.get("n_ctx"),
            "trimmed": self.stats.get("trimmed"),
            "ttft_ms": self.stats.get("ttft_ms"),
            "total_ms": self.stats.get("total_ms"),
            "rejected_text": None if self.ok else (self.text or None),
            "problems": list(self.validation.problems) if self.validation else [],
            "notice_en": self.reason_en or None,
        }


class LLMRun:
    """One answer being generated as a hidden draft. Iterate for `Progress` ticks (never
    text); then read `result` (its `text` is the answer to show when `result.ok`).

    The worker thread builds the prompt (`prepare`, which may load the model and count
    tokens) and runs the stream up to its first piece, while the iterator waits with the
    overall deadline: a model load, waiting for the model's lock (another request is
    generating) or a long prompt evaluation all still time out. The worker then hands the
    suspended stream over and the consumer pulls the remaining tokens itself: no thread
    hand-off per token (on a small CPU that hand-off cost a few percent of generation
    speed), the deadline is checked between tokens. If the consumer stops early (the
    client went away) or the deadline passes, the stream is closed at once, which stops
    the backend and releases the model's lock.

    Args:
        generator: the backend.
        prompt: the prompt, or None when `prepare` builds it inside the deadline.
        reply: the grounded reply (for validation).
        catalog: for validation.
        timeout_s: the overall deadline.
        stop: extra stop strings.
        prepare: builds the prompt (used when `prompt` is None).
        history: the conversation before this question (the validator resolves pronouns with it).
    """

    def __init__(
        self,
        generator: Generator,
        prompt: Prompt | None,
        reply: Reply,
        catalog: Catalog,
        timeout_s: float,
        stop: Sequence[str] = (),
        prepare: Callable[[], Prompt] | None = None,
        history: Sequence[dict[str, str]] | None = None,
    ) -> None:
        if prompt is None and prepare is None:
            raise ValueError("LLMRun needs a prompt or a prepare() that builds one")
        self.generator = generator
        self.prompt = prompt
        self.reply = reply
        self.catalog = catalog
        self.timeout_s = timeout_s
        self.stop = list(stop)
        self.history = [t for t in (history or []) if isinstance(t, dict)]
        self.cancel = threading.Event()
        self.result: LLMResult | None = None
        self.thread: threading.Thread | None = None
        self._prepare = prepare
        self._stream: Iterator[str] | None = None
        self._handoff = threading.Lock()
        self._abandoned = False

    def close(self) -> None:
        """Stop generating (idempotent)."""
        self.cancel.set()

    def _first(self, out: queue.SimpleQueue[tuple[str, Any]]) -> None:
        """Worker: build the prompt, run the stream up to its first piece, hand it over."""
        try:
            if self.prompt is None:
                assert self._prepare is not None
                self.prompt = self._prepare()
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("LLM prompt (%d tokens):\n%s", self.prompt.prompt_tokens, self.prompt.rendered())
            if self.cancel.is_set():
                out.put(("cancelled", None))
                return
            stream = iter(
                self.generator.stream(self.prompt.messages, self.prompt.max_tokens, self.stop, self.cancel)
            )
            self._stream = stream
            while True:
                try:
                    piece = next(stream)
                except StopIteration as finished:
                    out.put(("end", finished.value))
                    return
                if not piece:
                    continue
                with self._handoff:
                    if not self._abandoned:
                        out.put(("piece", piece))
                        return  # the consumer owns the suspended stream now
                close = getattr(stream, "close", None)
                if close is not None:
                    close()  # the consumer already gave up (deadline): stop, release the lock
                return
        except BaseException as exc:  # reported to the consumer, never lost in a thread
            out.put(("error", exc))

    def wait(self) -> LLMResult:
        """Run to the end (or the deadline) and return the result."""
        for _progress in self:
            pass
        assert self.result is not None
        return self.result

    def __iter__(self) -> Iterator[Progress]:
        out: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        start = time.perf_counter()
        deadline = time.monotonic() + self.timeout_s
        self.thread = threading.Thread(target=self._first, args=(out,), name="llm-generate", daemon=True)
        converter = StreamConverter()
        parts: list[str] = []
        ttft: float | None = None
        pieces = 0
        owned = False  # whether this thread owns the stream (after the first piece)
        final: Any = None  # the stream's return value (GenerationStats)
        outcome: tuple[str, Any] = ("cancelled", None)
        self.thread.start()
        try:
            try:
                kind, value = out.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                kind, value = "timeout", None
            if kind == "end":
                final = value
            if kind == "piece":
                owned = True
                stream = self._stream
                assert stream is not None
                ttft = time.perf_counter() - start
                while True:
                    pieces += 1
                    converted = converter.feed(value)
                    if converted:
                        parts.append(converted)
                    yield Progress(pieces, time.perf_counter() - start)  # the draft itself stays here
                    if self.cancel.is_set():
                        break  # close() was called: outcome stays "cancelled"
                    if time.monotonic() > deadline:
                        kind = "timeout"
                        break
                    try:
                        value = next(stream)
                    except StopIteration as finished:
                        final = finished.value
                        kind = "cancelled" if self.cancel.is_set() else "end"
                        break
                    except Exception as exc:
                        kind, value = "error", exc
                        break
            if kind == "end":
                tail = converter.flush()
                if tail:
                    parts.append(tail)
                outcome = ("end", final)
            elif kind in ("timeout", "error"):
                outcome = (kind, value)
        finally:
            if outcome[0] != "end":
                self.cancel.set()
            if not owned:
                with self._handoff:
                    self._abandoned = True
                try:
                    if out.get_nowait()[0] == "piece":
                        owned = True  # handed over just before we gave up
                except queue.Empty:
                    pass
            if owned and self._stream is not None:
                close = getattr(self._stream, "close", None)
                if close is not None:
                    close()  # stops the backend now and releases the model's lock
            self.result = self._finish(outcome, "".join(parts), ttft, pieces, time.perf_counter() - start)

    def _finish(
        self, outcome: tuple[str, Any], text: str, ttft: float | None, pieces: int, total: float
    ) -> LLMResult:
        prompt = self.prompt
        stats: dict[str, Any] = {
            "prompt_tokens": prompt.prompt_tokens if prompt else None,
            "max_tokens": prompt.max_tokens if prompt else None,
            "n_ctx": prompt.n_ctx if prompt else None,
            "pieces": pieces,
            "ttft_ms": None if ttft is None else ttft * 1000,
            "total_ms": total * 1000,
            "trimmed": list(prompt.trimmed) if prompt else [],
            "finish_reason": None,
        }
        kind, value = outcome
        generated = value if isinstance(value, GenerationStats) else None
        if generated is None and kind == "end":
            last = getattr(self.generator, "last", None)
            generated = last if isinstance(last, GenerationStats) else None
        if generated is not None:
            stats["completion_tokens"] = generated.completion_tokens
            stats["finish_reason"] = generated.finish_reason
            count = getattr(self.generator, "count_text", None)
            if generated.completion_tokens_estimated and text and callable(count):
                try:  # the server's own tokenizer, when it has one (else the same estimate)
                    stats["completion_tokens"] = min(int(count(text)), prompt.max_tokens if prompt else 10**9)
                except GenerationError:
                    pass
        if kind == "timeout":
            stats["finish_reason"] = "timeout"
            return LLMResult(
                "timeout",
                text,
                None,
                f"本機模型太慢，{self.timeout_s:g} 秒內寫不完回答（逾時），所以顯示檢索式回答；之後逾時不再提示。",
                f"The local model is too slow to finish an answer within {self.timeout_s:g} s (timeout), "
                "so the retrieval-based answer is shown; later timeouts are not announced again.",
                stats,
            )
        if kind == "error":
            stats["finish_reason"] = "error"
            if isinstance(value, GenerationTimeout):
                zh, en = value.message_zh + "（逾時）", value.message_en + " (timeout)"
            elif isinstance(value, GenerationError) and (
                isinstance(value, (StreamIncomplete, PromptTooLong))
                or not isinstance(self.generator, OpenAICompatibleGenerator)
            ):
                zh, en = value.message_zh, value.message_en
            elif isinstance(value, GenerationError):
                zh, en = f"模型服務出錯：{value.message_zh}", f"Server error: {value.message_en}"
            else:
                zh, en = f"本機模型發生錯誤：{value}", f"The language model failed: {value}"
            return LLMResult(
                "error", text, None, zh + " 改用檢索式回答。", en + " Showing the retrieval-based answer.", stats
            )
        if kind == "cancelled":
            return LLMResult("cancelled", text, None, "已取消。", "Cancelled.", stats)
        finish = stats["finish_reason"]
        if finish not in (None, "stop"):
            if finish == "length":
                zh = "本機模型的回答在長度上限被截斷，不完整，改用檢索式回答。"
                en = "The language model's answer was cut off at its length limit; showing the retrieval-based answer."
            else:
                zh = f"本機模型的回答提前結束（{finish}），不完整，改用檢索式回答。"
                en = f"The language model's answer ended early ({finish}); showing the retrieval-based answer."
            return LLMResult("incomplete", text, None, zh, en, stats)
        if not text.strip():
            return LLMResult(
                "empty",
                text,
                None,
                "本機模型沒有產生任何文字，改用檢索式回答。",
                "The language model returned no text; showing the retrieval-based answer.",
                stats,
            )
        assert prompt is not None
        validation = validate(text, Grounding.from_reply(self.reply, self.history), self.catalog)
        if not validation.ok:
            return LLMResult(
                "invalid",
                text,
                validation,
                "本機模型的回答與型錄事實不符（" + "；".join(validation.problems[:3]) + "），改用檢索式回答。",
                "The language model's answer did not match the catalog ("
                + "; ".join(validation.problems[:3])
                + "); showing the retrieval-based answer.",
                stats,
            )
        return LLMResult("ok", text.strip(), validation, "", "", stats)
