"""llama-cpp-python in process: one `Llama` per process and model, shared by every generator
and guarded by a lock, so concurrent requests queue instead of crashing (llama-cpp-python#1367,
#1995). `llama_cpp` is imported lazily, so `import assistant` stays fast."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .common import (
    RAW_STOPS,
    BackendUnavailable,
    ContextOverflow,
    GenerationStats,
    Message,
    ModelLoading,
    Sampling,
    _completion_tokens,
    normalize_messages,
    render_raw,
)


@dataclass
class _SharedLlama:
    llama: Any
    key: tuple[Any, ...]
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class _Load:
    """A load in progress: waiters block on `done`; `error` is what it raised."""

    started: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class _Registry:
    """One loaded `Llama` per process: loading another model releases the previous one.

    The registry's lock is held only for bookkeeping, never while a model loads, so
    `state()` answers at once during a load and a caller can choose not to wait
    (`get(..., wait=False)` raises `ModelLoading`).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()  # one load at a time
        self._current: _SharedLlama | None = None
        self._loads: dict[tuple[Any, ...], _Load] = {}

    @staticmethod
    def key(path: Path, n_ctx: int, n_threads: int | None, n_gpu_layers: int) -> tuple[Any, ...]:
        return (str(path), n_ctx, n_threads, n_gpu_layers)

    def state(self, key: tuple[Any, ...]) -> str:
        """"loaded", "loading" or "unloaded"; never waits."""
        with self._lock:
            if self._current is not None and self._current.key == key:
                return "loaded"
            return "loading" if key in self._loads else "unloaded"

    def loading_since(self, key: tuple[Any, ...]) -> float | None:
        """`time.monotonic()` when the load of `key` in progress started (None: none)."""
        with self._lock:
            load = self._loads.get(key)
            return load.started if load is not None else None

    def get(
        self, path: Path, n_ctx: int, n_threads: int | None, n_gpu_layers: int, wait: bool = True
    ) -> _SharedLlama:
        key = self.key(path, n_ctx, n_threads, n_gpu_layers)
        while True:
            with self._lock:
                if self._current is not None and self._current.key == key:
                    return self._current
                running = self._loads.get(key)
                if running is None:
                    mine = self._loads[key] = _Load()
            if running is not None:
                if not wait:
                    raise ModelLoading("本機模型仍在載入中。", "The local model is still loading.")
                running.done.wait()
                if running.error is not None:
                    raise running.error
                continue
            try:
                with self._load_lock:
                    with self._lock:
                        previous = self._current
                    if previous is not None:
                        with previous.lock:  # wait for a running generation before dropping it
                            with self._lock:
                                self._current = None
                        del previous
                    shared = _SharedLlama(_load_llama(path, n_ctx, n_threads, n_gpu_layers), key)
                    with self._lock:
                        self._current = shared
                    return shared
            except BaseException as exc:
                mine.error = exc
                raise
            finally:
                with self._lock:
                    self._loads.pop(key, None)
                mine.done.set()

    def release(self) -> None:
        with self._lock:
            current = self._current
        if current is not None:
            with current.lock:
                with self._lock:
                    if self._current is current:
                        self._current = None


LLAMA_REGISTRY = _Registry()
"""The process-wide model slot (a process holds one model in memory at a time)."""


def default_threads() -> int:
    """Physical cores, as llama.cpp recommends: more threads than cores makes every
    token wait for the slowest thread (on a busy 2-core machine: 34 -> 7 tokens/s)."""
    try:
        import psutil  # noqa: PLC0415

        physical = psutil.cpu_count(logical=False)
    except Exception:  # pragma: no cover - psutil is a dependency
        physical = None
    return max(1, physical or (os.cpu_count() or 2) // 2)


def _load_llama(path: Path, n_ctx: int, n_threads: int | None, n_gpu_layers: int) -> Any:
    from ...gguf import ModelFileError, read_gguf_info  # noqa: PLC0415

    try:
        read_gguf_info(path)  # magic bytes and size first: never hand llama.cpp a broken file
    except ModelFileError as exc:
        raise BackendUnavailable(exc.message_zh, exc.message_en) from None
    try:
        import llama_cpp  # noqa: PLC0415
    except ImportError as exc:
        raise BackendUnavailable(
            "沒有安裝 llama-cpp-python：pip install llama-cpp-python",
            f"llama-cpp-python is not installed: pip install llama-cpp-python ({exc})",
        ) from exc
    if n_ctx <= 0:
        raise ValueError("n_ctx must be explicit and positive; 0 would allocate the training context")
    try:
        threads = n_threads or default_threads()
        return llama_cpp.Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=threads,
            n_threads_batch=threads,
            n_gpu_layers=n_gpu_layers,
            verbose=False,
        )
    except Exception as exc:  # llama.cpp raises ValueError/RuntimeError with little detail
        size = path.stat().st_size if path.exists() else 0
        raise BackendUnavailable(
            f"llama.cpp 無法載入模型 {path}（{size} bytes）：{exc}",
            f"llama.cpp could not load {path} ({size} bytes): {exc}",
        ) from exc


def chat_formatter(llama: Any, name: str) -> Any:
    """The model's own chat template as llama-cpp-python's formatter.

    Raises:
        BackendUnavailable: the model has no chat template (a base model).
    """
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter  # noqa: PLC0415

    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        raise BackendUnavailable(
            f"{name} 沒有對話模板（基礎模型），不能用來回答。",
            f"{name} has no chat template (a base model); it cannot write answers.",
        )

    def token_text(token_id: int) -> str:
        return llama._model.token_get_text(token_id) if token_id != -1 else ""

    # llama-cpp-python renders templates in a sandboxed, immutable Jinja environment
    # (the fix for CVE-2024-34359); we never render a template any other way.
    return Jinja2ChatFormatter(
        template=template,
        eos_token=token_text(llama.token_eos()),
        bos_token=token_text(llama.token_bos()),
    )


class TemplateTokenizer:
    """A GGUF's tokenizer and chat template without its weights (llama.cpp `vocab_only`):
    exact prompt token counts for a model in a fraction of a second, e.g. to size prompts
    for `bench` or to count for a remote server that serves the same model.

    Args:
        path: the GGUF file.
        raw: render the plain-text prompt (a base model without a chat template).
    """

    def __init__(self, path: Path, raw: bool = False) -> None:
        import llama_cpp  # noqa: PLC0415

        self.path = Path(path)
        self.raw = raw
        self.llama = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
        self._formatter = None if raw else chat_formatter(self.llama, self.path.name)

    def render(self, messages: Sequence[Message]) -> tuple[str, bool]:
        if self._formatter is None:
            return render_raw(normalize_messages(messages)), True
        result = self._formatter(messages=normalize_messages(messages))
        return result.prompt, not result.added_special

    def tokenize(self, messages: Sequence[Message]) -> list[int]:
        prompt, add_bos = self.render(messages)
        return list(self.llama.tokenize(prompt.encode("utf-8"), add_bos=add_bos, special=True))

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return len(self.tokenize(messages))


class LlamaCppGenerator:
    """llama-cpp-python in process. The model loads on first use, not at construction.

    Args:
        path: the GGUF file.
        n_ctx: context window (explicit, never 0).
        n_threads: CPU threads (None: llama.cpp's default).
        n_gpu_layers: layers offloaded to the GPU (-1: all).
        raw: format prompts as plain text instead of the model's chat template. Only for
            base models in tests and the benchmark; answers always use a chat template.
        sampling: temperature and friends.
    """

    def __init__(
        self,
        path: Path,
        n_ctx: int,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        raw: bool = False,
        sampling: Sampling | None = None,
        registry: _Registry = LLAMA_REGISTRY,
    ) -> None:
        if n_ctx <= 0:
            raise ValueError("n_ctx must be explicit and positive")
        self.path = Path(path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.n_gpu_layers = n_gpu_layers
        self.raw = raw
        self.sampling = sampling or Sampling()
        self.name = self.path.name
        self.last = GenerationStats()
        self._registry = registry
        self._formatter: Any = None
        self._merge_system = False

    # -------------------------------------------------------------- loading
    def shared(self, wait: bool = True) -> _SharedLlama:
        """The loaded model (loads it, or waits for a load in progress; with `wait=False`
        a load in progress raises `ModelLoading` instead)."""
        return self._registry.get(self.path, self.n_ctx, self.n_threads, self.n_gpu_layers, wait)

    def _key(self) -> tuple[Any, ...]:
        return self._registry.key(self.path, self.n_ctx, self.n_threads, self.n_gpu_layers)

    def load_state(self) -> str:
        """"loaded", "loading" (by any thread) or "unloaded"; never waits."""
        return self._registry.state(self._key())

    def loading_since(self) -> float | None:
        return self._registry.loading_since(self._key())

    @property
    def llama(self) -> Any:
        """The shared `Llama` (loads it on first access)."""
        return self.shared().llama

    def _chat_formatter(self) -> Any:
        if self._formatter is None:
            self._formatter = chat_formatter(self.llama, self.path.name)
        return self._formatter

    # -------------------------------------------------------------- prompt
    def render(self, messages: Sequence[Message]) -> tuple[str, bool, list[str]]:
        """(prompt text, whether to add BOS, extra stop strings) for `messages`."""
        if self.raw:
            return render_raw(normalize_messages(messages, merge_system=False)), True, list(RAW_STOPS)
        formatter = self._chat_formatter()
        try:
            result = formatter(messages=normalize_messages(messages, self._merge_system))
        except Exception:
            # Some templates reject a system role ("roles must alternate"): fold it in.
            self._merge_system = True
            result = formatter(messages=normalize_messages(messages, True))
        stops = [s for s in ([result.stop] if isinstance(result.stop, str) else (result.stop or [])) if s]
        return result.prompt, not result.added_special, stops

    def tokenize(self, messages: Sequence[Message]) -> tuple[list[int], list[str]]:
        prompt, add_bos, stops = self.render(messages)
        tokens = self.llama.tokenize(prompt.encode("utf-8"), add_bos=add_bos, special=True)
        return list(tokens), stops

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return len(self.tokenize(messages)[0])

    def count_text(self, text: str) -> int:
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def completion_kwargs(self) -> dict[str, Any]:
        s = self.sampling
        return {
            "temperature": s.temperature,
            "top_p": s.top_p,
            "top_k": s.top_k,
            "repeat_penalty": s.repeat_penalty,
            "seed": s.seed,
        }

    # -------------------------------------------------------------- generation
    def stream(
        self,
        messages: Sequence[Message],
        max_tokens: int,
        stop: Sequence[str] = (),
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        if max_tokens <= 0:
            raise ValueError("max_tokens must be explicit and positive")
        shared = self.shared()
        tokens, template_stops = self.tokenize(messages)
        if len(tokens) + max_tokens > self.n_ctx:
            raise ContextOverflow(
                f"提示 {len(tokens)} + 生成上限 {max_tokens} 超過上下文 {self.n_ctx} token。",
                f"prompt {len(tokens)} + max_tokens {max_tokens} exceeds n_ctx {self.n_ctx}.",
            )
        stats = GenerationStats(prompt_tokens=len(tokens))
        self.last = stats
        with shared.lock:  # one generation at a time on the shared Llama
            if cancel is not None and cancel.is_set():
                stats.cancelled = True
                return stats
            start = time.perf_counter()
            chunks = shared.llama.create_completion(
                tokens,
                max_tokens=max_tokens,
                stop=[*template_stops, *stop],
                stream=True,
                **self.completion_kwargs(),
            )
            produced: list[str] = []
            try:
                for chunk in chunks:
                    if stats.ttft_s is None:
                        stats.ttft_s = time.perf_counter() - start
                    choice = chunk["choices"][0]
                    text = choice.get("text") or ""
                    if choice.get("finish_reason"):
                        stats.finish_reason = choice["finish_reason"]
                    if text:
                        produced.append(text)
                        yield text
                    if cancel is not None and cancel.is_set():
                        stats.cancelled = True
                        break
            finally:
                chunks.close()  # stops llama.cpp at once when the consumer goes away
                stats.total_s = time.perf_counter() - start
                # Tokens, not stream chunks: a chunk can hold several tokens (a CJK
                # character) or none (the final chunk that only carries the finish reason).
                stats.completion_tokens = _completion_tokens(
                    "".join(produced), stats.finish_reason, max_tokens, self.count_text
                )
        return stats
