"""What one request can write to the log is bounded: long records cut and repeats dropped
(`install_log_guard`), and stdout/stderr rate-limited (`install_output_guard`)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from .clean import clean_text


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
