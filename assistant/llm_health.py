"""Is the language-model server answering? One timeout marks it down; a background probe
brings it back.

A model server that lists its models but never finishes an answer (hung, overloaded, a
stuck GPU) made LLM-mode users wait out the generation timeout one after another: 60, 120,
180 s. With an `EndpointHealth`:

- the first answer that times out marks the server down (`observe("timeout")`);
- while it is down, `status_override()` gives the reason, so the manager reports the model
  unavailable and every user gets the grounded answer at once, with that reason as a notice;
  users already waiting for the model slot leave the line at once (`server.ModelSlot` asks
  `any_down()`);
- a daemon thread probes the server (`probe()`, e.g. `completion_probe`: a one-token answer
  with a short timeout) every `retry_s` seconds, doubling up to `max_retry_s`; the first
  success marks it up again.

Self-contained: the LLM manager creates one per backend, calls `observe_result` with each
run's `LLMResult` and `status_override()` when it reports its status.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Callable

log = logging.getLogger(__name__)

DOWN_ZH = "語言模型服務 {name} 上次在 {timeout:g} 秒內沒有完成回答，已暫停使用（背景每 {retry:g} 秒重試）；這次先用知識庫回答。"
DOWN_EN = (
    "The language-model server {name} did not finish an answer within {timeout:g} s, so it is paused "
    "(retried in the background every {retry:g} s); answering from the knowledge base this time."
)

_registry: weakref.WeakSet[EndpointHealth] = weakref.WeakSet()
_registry_lock = threading.Lock()


class EndpointHealth:
    """Up/down state of one language-model backend, with a background retry while down.

    Args:
        name: how notices name the server (its URL, or the model).
        probe: a callable that returns when the server answers and raises (within its own
            timeout) when it does not; None: no background retry (only `mark_up` revives it).
        timeout_s: the generation timeout, for the notice.
        retry_s: the first wait before probing again; doubles after each failed probe.
        max_retry_s: the longest wait between probes.
    """

    def __init__(
        self,
        name: str,
        probe: Callable[[], object] | None = None,
        *,
        timeout_s: float = 60.0,
        retry_s: float = 15.0,
        max_retry_s: float = 300.0,
    ) -> None:
        self.name = name
        self.probe = probe
        self.timeout_s = timeout_s
        self.retry_s = retry_s
        self.max_retry_s = max_retry_s
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._reason: tuple[str, str] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.probes = 0  # probes made since the server was last marked down (tests, status)
        with _registry_lock:
            _registry.add(self)

    # ---------------------------------------------------------------- state
    @property
    def down(self) -> bool:
        return self._down_since is not None

    def observe(self, outcome: str) -> None:
        """Record how an answer ended (`LLMResult.kind`): "timeout" marks the server down;
        a finished answer ("ok", "invalid", "incomplete", "empty") shows it is up."""
        if outcome == "timeout":
            self.mark_down()
        elif outcome in ("ok", "invalid", "incomplete", "empty"):
            self.mark_up()

    def observe_result(self, result: object) -> None:
        """`observe` for an `LLMResult`: its `kind`, where an "error" whose English reason says
        "(timeout)" (the HTTP client timed out before the run's deadline) counts as a timeout."""
        kind = str(getattr(result, "kind", "") or "")
        if kind == "error" and "(timeout)" in str(getattr(result, "reason_en", "")):
            kind = "timeout"
        self.observe(kind)

    def mark_down(self, reason_zh: str | None = None, reason_en: str | None = None) -> None:
        """Mark the server down (idempotent) and start the background retry."""
        retry = self.retry_s
        zh = reason_zh or DOWN_ZH.format(name=self.name, timeout=self.timeout_s, retry=retry)
        en = reason_en or DOWN_EN.format(name=self.name, timeout=self.timeout_s, retry=retry)
        with self._lock:
            first = self._down_since is None
            self._reason = (zh, en)
            if first:
                self._down_since = time.monotonic()
                self.probes = 0
        if first:
            log.warning("language-model server %s marked down: %s", self.name, en)
            self._start_retry()

    def mark_up(self) -> None:
        with self._lock:
            was_down = self._down_since is not None
            self._down_since = None
            self._reason = None
        if was_down:
            log.warning("language-model server %s answers again", self.name)

    def status_override(self) -> tuple[str, str] | None:
        """(reason_zh, reason_en) while the server is down, else None: the manager reports
        the model unavailable with this reason."""
        with self._lock:
            return self._reason if self._down_since is not None else None

    def reason(self, language: str) -> str:
        override = self.status_override()
        if override is None:
            return ""
        return override[1] if language == "en" else override[0]

    def close(self) -> None:
        """Stop the background retry (the state stays as it is)."""
        self._stop.set()
        with _registry_lock:
            _registry.discard(self)

    # ---------------------------------------------------------------- retry
    def _start_retry(self) -> None:
        if self.probe is None:
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            # The thread holds only a weak reference: a health whose manager is gone (a test's,
            # a replaced one) is collected, leaves the registry, and its thread ends.
            self._thread = threading.Thread(
                target=_retry_loop, args=(weakref.ref(self), self._stop, self.retry_s),
                name=f"llm-health-{self.name}", daemon=True,
            )
            self._thread.start()


def _retry_loop(ref: weakref.ref[EndpointHealth], stop: threading.Event, wait: float) -> None:
    while not stop.wait(wait):
        health = ref()
        if health is None or not health.down:
            return
        health.probes += 1
        try:
            health.probe()  # type: ignore[misc]
        except Exception as exc:
            log.info("language-model server %s still down: %s", health.name, exc)
            wait = min(health.max_retry_s, wait * 2)
            continue
        finally:
            del health
        health = ref()
        if health is not None:
            health.mark_up()
        return


def any_down() -> bool:
    """Whether any backend in this process is marked down (for `server.ModelSlot`)."""
    return down_reason() is not None


def down_reason() -> tuple[str, str] | None:
    """(reason_zh, reason_en) of a backend marked down, or None."""
    with _registry_lock:
        healths = list(_registry)
    for health in healths:
        reason = health.status_override()
        if reason is not None:
            return reason
    return None


def completion_probe(
    base_url: str, model: str | None = None, api_key: str | None = None, timeout_s: float = 15.0
) -> Callable[[], None]:
    """A probe for an OpenAI-compatible server: one chat completion of one token, which a
    server that lists its models but never answers fails (listing models is not enough).

    The returned callable raises on an HTTP error, a timeout, or a reply without choices.
    """
    url = base_url.rstrip("/") + "/chat/completions"
    body: dict[str, object] = {
        "messages": [{"role": "user", "content": "ping"}],
        "max_tokens": 1,
        "temperature": 0,
        "stream": False,
    }
    if model:
        body["model"] = model
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    data = json.dumps(body).encode("utf-8")

    def probe() -> None:
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 (operator's URL)
            payload = json.loads(response.read(65_536).decode("utf-8", "replace"))
        if not isinstance(payload, dict) or not payload.get("choices"):
            raise RuntimeError(f"{url} answered without choices")

    return probe
