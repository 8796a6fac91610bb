"""Running LLM answers: status, the model, one run with a deadline, and how it ended.

- **Status never waits.** `LLMManager.status()` never loads a model and never waits for a
  load in progress; it reports the model, its context window and the expected wait.
- **Loading never blocks a grounded answer.** `LLMManager.start()` only creates the run.
  The prompt is built (which loads the model and counts its tokens) inside the run's
  worker thread, under the run's deadline. While another request is loading the model,
  `start()` raises `ModelLoading` at once and the caller answers grounded.
- **Execution.** Streaming in a worker thread, with one overall deadline (timeout ->
  grounded answer) and cancellation when the consumer goes away. Requests to the one
  in-process `Llama` queue on its lock.
- **Completeness.** Only a `stop` finish counts. A `length` finish, a stream without
  `[DONE]`, a dropped connection or a timeout ends as the grounded answer, with a notice
  that says which (never as a fact mismatch).
- **A hidden draft.** The model's text never leaves the run while it is written:
  iterating a run yields `Progress` ticks (token count, seconds), not text. Only when the
  answer is complete and passes validation does `run.result.text` hold text to show; the
  caller shows the grounded answer meanwhile and replaces it then.
- **Validation** (`validate.py`) of complete answers, with `Grounding.from_reply`.
- **Too slow, said once.** When a run times out, its notice says so the first time in
  this process only; `LLMStatus.too_slow` stays true until an answer finishes in time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..knowledge import Catalog
from ..llm_health import EndpointHealth, completion_probe
from .backends import (
    BackendUnavailable,
    GenerationError,
    Generator,
    LlamaCppGenerator,
    ModelLoading,
    OpenAICompatibleGenerator,
)
from .prompt import Prompt, PromptTooLong, build_prompt
from .run import LLMResult, LLMRun, Progress

if TYPE_CHECKING:
    from ..compose import Reply
    from ..local_models import ModelEntry

log = logging.getLogger("assistant.llm")

LLM_ROUTES = frozenset({"fact", "compare", "recommend", "fit", "why_not", "rank", "list", "lookup", "false_premise"})
"""Plan intents an LLM may rephrase. Scope, unknown-model and closed-model answers stay
exactly as composed: there is nothing to phrase, and a model must not fill the gap."""

NOTICE_BASE_MODEL_ZH = (
    "目前的本機模型是未經指令微調的基礎模型，改用檢索式回答；可用 `models pull` 下載建議模型"
)
NOTICE_BASE_MODEL_EN = (
    "The local model is a base model without instruction tuning, so the answer is retrieval-based; "
    "download a suggested model with `models pull`"
)

# Speed assumptions for the expected wait before anything was measured: token generation
# is memory-bound (about 16 GB/s on a 4-core laptop: a 3B Q4 of 2 GB gives 8 tok/s) and
# prompt processing is about 7.5x faster (60 tok/s for the same model); reading the file
# at load time goes at about 1 GB/s.
LAPTOP_BANDWIDTH_BYTES_S = 16e9
PROMPT_SPEEDUP = 7.5
LOAD_BYTES_S = 1e9
TYPICAL_PROMPT_TOKENS = 700
TYPICAL_ANSWER_TOKENS = 160


# ------------------------------------------------------------------ status


@dataclass
class LLMStatus:
    """Whether LLM answers are possible right now, and why not.

    `n_ctx`: the context window answers are budgeted against (None: unknown yet).
    `expected_wait_s`: an estimate of how long an answer takes now, including the rest of
    a model load in progress (None: nothing to base it on). `loading`: a load is running.
    `too_slow`: the last answer ran past the deadline `timeout_s` (the UI can say so in its
    status line; the answer's own notice says it only the first time).
    """

    available: bool
    model: str | None
    path: str | None
    chat_template: bool
    reason_zh: str
    reason_en: str
    backend: str | None = None
    n_ctx: int | None = None
    expected_wait_s: float | None = None
    loading: bool = False
    too_slow: bool = False
    timeout_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "available": self.available,
            "model": self.model,
            "path": self.path,
            "chat_template": self.chat_template,
            "reason_zh": self.reason_zh,
            "reason_en": self.reason_en,
            "backend": self.backend,
            "n_ctx": self.n_ctx,
            "expected_wait_s": self.expected_wait_s,
            "loading": self.loading,
            "too_slow": self.too_slow,
            "timeout_s": self.timeout_s,
        }

    def reason(self, language: str) -> str:
        return self.reason_en if language == "en" else self.reason_zh


# ------------------------------------------------------------------ the manager


class LLMManager:
    """Decides whether LLM answers are possible, loads the model lazily, runs answers.

    Args:
        settings: model path, n_ctx, max_tokens, threads, GPU layers, endpoint, timeout.
        catalog: for validation.
        generator: an injected generator (tests, or a caller that built its own);
            it is treated as chat-capable.
        allow_base_model: let a base model (no chat template) answer through a raw
            text prompt. Test and benchmark use only: it is not a setting or a flag,
            because a base model cannot follow instructions.
    """

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        generator: Generator | None = None,
        *,
        allow_base_model: bool = False,
        status_ttl_s: float = 5.0,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.allow_base_model = allow_base_model
        self._injected = generator
        self._generator: Generator | None = generator
        self._generator_key: tuple[Any, ...] | None = None
        self._lock = threading.Lock()
        self._status: tuple[float, LLMStatus, ModelEntry | None] | None = None
        self._status_ttl_s = status_ttl_s
        self._load_errors: dict[str, tuple[str, str]] = {}
        self._speeds: tuple[float, float] | None = None  # measured (prompt tok/s, generation tok/s)
        self._too_slow = False  # the last finished run ran past its deadline
        self._slow_announced = False  # the "too slow" notice was given once in this process
        # A remote endpoint that stops answering is marked down after one timeout and probed in the
        # background; users get the grounded answer at once instead of waiting for each timeout.
        self.health = EndpointHealth(
            settings.llm_url,
            completion_probe(settings.llm_url, str(settings.model) if settings.model else None, settings.llm_api_key,
                             timeout_s=min(15.0, settings.llm_timeout_s)),
            timeout_s=settings.llm_timeout_s,
        ) if settings.llm_url else None

    # -------------------------------------------------------------- status
    def status(self, refresh: bool = False) -> LLMStatus:
        """Whether a chat-capable model is active; never loads a model and never waits for
        a load (an endpoint is probed). `n_ctx` and `expected_wait_s` are filled in."""
        status, entry = self._status_and_entry(refresh)
        status = LLMStatus(**{**status.__dict__})
        status.timeout_s = self.settings.llm_timeout_s
        status.too_slow = self._too_slow
        if status.available and self.health is not None and (down := self.health.status_override()) is not None:
            status.available, status.reason_zh, status.reason_en = False, *down
        if status.available:
            status.n_ctx = self._n_ctx_now(entry)
            status.loading = self._loading()
            status.expected_wait_s = self.expected_wait_s(entry)
        return status

    def _status_and_entry(self, refresh: bool = False) -> tuple[LLMStatus, ModelEntry | None]:
        now = time.monotonic()
        with self._lock:
            cached = self._status
        if not refresh and cached is not None and now - cached[0] < self._status_ttl_s:
            return cached[1], cached[2]
        status, entry = self._compute_status()  # outside the lock: may probe an endpoint
        with self._lock:
            self._status = (now, status, entry)
        return status, entry

    def invalidate(self) -> None:
        with self._lock:
            self._status = None

    def _compute_status(self) -> tuple[LLMStatus, ModelEntry | None]:
        if self._injected is not None:
            name = getattr(self._injected, "name", "injected")
            return LLMStatus(True, name, None, True, "", "", "injected"), None
        if self.settings.llm_url:
            return self._endpoint_status(), None
        from ..local_models import resolve_model  # noqa: PLC0415

        entry = resolve_model(self.settings)
        if entry is None:
            return LLMStatus(
                False,
                None,
                None,
                False,
                "找不到本機模型，改用檢索式回答；可用 `models pull` 下載建議模型。",
                "No local model was found, so answers are retrieval-based; download one with `models pull`.",
                "llama.cpp",
            ), None
        if entry.info is None:
            return LLMStatus(
                False,
                entry.path.name,
                str(entry.path),
                False,
                f"{entry.problem_zh} 改用檢索式回答。",
                f"{entry.problem_en} Answers are retrieval-based.",
                "llama.cpp",
            ), entry
        info = entry.info
        key = str(entry.path)
        with self._lock:
            load_error = self._load_errors.get(key)
        if load_error is not None:
            zh, en = load_error
            return LLMStatus(False, info.display_name, key, info.has_chat_template, zh, en, "llama.cpp"), entry
        if not info.has_chat_template and not self.allow_base_model:
            return LLMStatus(
                False,
                info.display_name,
                key,
                False,
                NOTICE_BASE_MODEL_ZH + "。",
                NOTICE_BASE_MODEL_EN + ".",
                "llama.cpp",
            ), entry
        return LLMStatus(True, info.display_name, key, info.has_chat_template, "", "", "llama.cpp"), entry

    def _endpoint(self, raw: bool = False) -> OpenAICompatibleGenerator:
        s = self.settings
        model = str(s.model) if s.model is not None else None
        explicit = "n_ctx" in s.model_fields_set
        return OpenAICompatibleGenerator(
            s.llm_url or "", s.llm_api_key, model, s.llm_timeout_s, s.n_ctx, raw=raw, n_ctx_explicit=explicit
        )

    def _endpoint_status(self) -> LLMStatus:
        try:
            endpoint = self._endpoint_generator()
        except ValueError as exc:
            return LLMStatus(
                False,
                None,
                None,
                False,
                f"ASSISTANT_LLM_URL 設定有誤：{exc}；改用檢索式回答。",
                f"ASSISTANT_LLM_URL is invalid: {exc}; answers are retrieval-based.",
                "openai",
            )
        try:
            served = endpoint.list_models(timeout=min(3.0, self.settings.llm_timeout_s))
        except GenerationError as exc:
            return LLMStatus(
                False,
                endpoint.model,
                endpoint.base_url,
                False,
                exc.message_zh + " 改用檢索式回答。",
                exc.message_en + " Answers are retrieval-based.",
                "openai",
            )
        model = endpoint.model or (served[0] if served else None)
        return LLMStatus(True, model, endpoint.base_url, True, "", "", "openai")

    def _endpoint_generator(self) -> OpenAICompatibleGenerator:
        key: tuple[Any, ...] = ("openai", self.settings.llm_url, str(self.settings.model))
        with self._lock:
            if self._generator is None or self._generator_key != key:
                self._generator, self._generator_key = self._endpoint(), key
            generator = self._generator
        assert isinstance(generator, OpenAICompatibleGenerator)
        return generator

    def _n_ctx_now(self, entry: ModelEntry | None) -> int | None:
        """The context window without loading anything (the endpoint's, once known)."""
        if self._injected is not None:
            return getattr(self._injected, "n_ctx", None)
        if self.settings.llm_url:
            with self._lock:
                generator = self._generator
            return generator.known_n_ctx() if isinstance(generator, OpenAICompatibleGenerator) else None
        return self.n_ctx_for(entry)

    def _loading(self) -> bool:
        with self._lock:
            generator = self._generator
        state = getattr(generator, "load_state", None)
        return bool(callable(state) and state() == "loading")

    def expected_wait_s(self, entry: ModelEntry | None = None) -> float | None:
        """About how long an answer takes now: the rest of a model load in progress, a
        typical prompt and a typical answer, from measured speeds or (before any answer)
        from the model's size with the laptop assumptions above."""
        speeds = self._speeds
        size = entry.info.size_bytes if entry is not None and entry.info is not None else None
        if speeds is None:
            if not size:
                return None
            generation = LAPTOP_BANDWIDTH_BYTES_S / size
            speeds = (generation * PROMPT_SPEEDUP, generation)
        prompt_speed, generation_speed = speeds
        answer_tokens = min(TYPICAL_ANSWER_TOKENS, self.settings.max_tokens)
        wait = TYPICAL_PROMPT_TOKENS / prompt_speed + answer_tokens / generation_speed
        with self._lock:
            generator = self._generator
        since = getattr(generator, "loading_since", None)
        started = since() if callable(since) else None
        if started is not None and size:
            wait += max(0.0, size / LOAD_BYTES_S - (time.monotonic() - started))
        elif isinstance(generator, LlamaCppGenerator) and generator.load_state() == "unloaded" and size:
            wait += size / LOAD_BYTES_S
        return round(wait, 1)

    def _finished(self, result: LLMResult) -> None:
        """After a run: measured speeds, and the "too slow" state (announced once)."""
        if self.health is not None:
            self.health.observe_result(result)
        self._record_speeds(result)
        if result.kind == "timeout":
            with self._lock:
                self._too_slow = True
                announced, self._slow_announced = self._slow_announced, True
            if announced:
                result.reason_zh = result.reason_en = ""  # said once already; the status line still says it
        elif result.kind in ("ok", "invalid", "incomplete", "empty"):
            with self._lock:
                self._too_slow = False

    def _record_speeds(self, result: LLMResult) -> None:
        stats = result.stats
        prompt_tokens, ttft_ms = stats.get("prompt_tokens"), stats.get("ttft_ms")
        tokens, total_ms = stats.get("completion_tokens") or stats.get("pieces"), stats.get("total_ms")
        if not (prompt_tokens and ttft_ms and tokens and total_ms and tokens > 1 and total_ms > ttft_ms):
            return
        measured = (prompt_tokens / (ttft_ms / 1000), (tokens - 1) / ((total_ms - ttft_ms) / 1000))
        old = self._speeds
        self._speeds = measured if old is None else (0.7 * old[0] + 0.3 * measured[0], 0.7 * old[1] + 0.3 * measured[1])

    # -------------------------------------------------------------- generator
    def generator(self) -> Generator:
        """The generator for the active model, created (not loaded) on first use.

        Raises:
            GenerationError: no usable chat-capable model; the message says why.
        """
        status, entry = self._status_and_entry()
        if not status.available:
            raise BackendUnavailable(status.reason_zh, status.reason_en)
        if self._injected is not None:
            return self._injected
        if self.settings.llm_url:
            return self._endpoint_generator()
        assert entry is not None and entry.info is not None
        from ..local_models import ModelFileError, materialize  # noqa: PLC0415

        try:
            path = materialize(entry, self.settings)  # outside the lock: may reassemble a file
        except ModelFileError as exc:
            with self._lock:
                self._load_errors[str(entry.path)] = (
                    exc.message_zh + " 改用檢索式回答。",
                    exc.message_en + " Answers are retrieval-based.",
                )
                self._status = None
            raise BackendUnavailable(exc.message_zh, exc.message_en) from None
        n_ctx = self.n_ctx_for(entry)
        key = ("llama", str(path), n_ctx, entry.info.has_chat_template)
        with self._lock:
            if self._generator is None or self._generator_key != key:
                self._generator = LlamaCppGenerator(
                    path,
                    n_ctx=n_ctx,
                    n_threads=self.settings.n_threads,
                    n_gpu_layers=self.settings.n_gpu_layers,
                    raw=not entry.info.has_chat_template,
                )
                self._generator_key = key
            return self._generator

    def n_ctx_for(self, entry: ModelEntry | None) -> int:
        """The explicit context window: the setting, capped by what the model was trained on."""
        trained = entry.info.context_length if entry is not None and entry.info is not None else None
        return min(self.settings.n_ctx, trained) if trained else self.settings.n_ctx

    def _record_load_error(self, exc: GenerationError) -> None:
        _status, entry = self._status_and_entry()
        if entry is not None and isinstance(exc, BackendUnavailable) and not self.settings.llm_url:
            with self._lock:
                self._load_errors[str(entry.path)] = (
                    exc.message_zh + " 改用檢索式回答。",
                    exc.message_en + " Answers are retrieval-based.",
                )
                self._status = None

    # -------------------------------------------------------------- answering
    @staticmethod
    def eligible(reply: Reply) -> bool:
        """Whether this reply is one an LLM may rephrase (not closed/scope/injection)."""
        from ..compose import has_injection  # noqa: PLC0415

        return reply.route in LLM_ROUTES and not has_injection(reply.question)

    def start(self, reply: Reply, history: Sequence[dict[str, str]] | None = None) -> LLMRun:
        """Create an answer run for a grounded reply (iterate the run to generate).

        Nothing is loaded or counted here: the run builds its prompt inside its deadline.

        Raises:
            ModelLoading: another request is loading the model right now; answer grounded.
            GenerationError: no usable model.
        """
        generator = self.generator()
        state = getattr(generator, "load_state", None)
        if callable(state) and state() == "loading":
            wait = self.expected_wait_s(self._status_and_entry()[1])
            raise ModelLoading(
                "本機模型仍在載入中" + (f"（約需 {wait:g} 秒）" if wait else "") + "，這次先用檢索式回答。",
                "The local model is still loading" + (f" (about {wait:g} s)" if wait else "")
                + "; this answer is retrieval-based.",
            )
        turns = list(history or [])
        max_tokens = self.settings.max_tokens

        def prepare() -> Prompt:
            try:
                return build_prompt(reply, turns, generator.count_tokens, generator.n_ctx, max_tokens)
            except PromptTooLong:
                raise
            except GenerationError as exc:
                self._record_load_error(exc)
                raise

        return _ManagedRun(
            self, generator, None, reply, self.catalog, self.settings.llm_timeout_s, prepare=prepare, history=turns
        )

    def list_models(self) -> list[dict[str, Any]]:
        """Models the assistant can see (`models list`), for the UI."""
        from ..local_models import discover  # noqa: PLC0415

        return [entry.to_dict() for entry in discover(self.settings)]


class _ManagedRun(LLMRun):
    """A run that reports back to the manager: measured speeds (for `expected_wait_s`) and
    whether it ran past its deadline (the "too slow" notice, given once)."""

    def __init__(self, manager: LLMManager, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._manager = manager

    def __iter__(self) -> Iterator[Progress]:
        try:
            yield from super().__iter__()
        finally:
            if self.result is not None:
                self._manager._finished(self.result)
