"""Text generation behind one small Protocol, with three adapters.

- `LlamaCppGenerator`: llama-cpp-python in process (CPU by default, GPU layers by
  `ASSISTANT_N_GPU_LAYERS`). One `Llama` per process and model, shared by every
  generator and guarded by a lock, so concurrent requests queue instead of crashing
  (llama-cpp-python#1367, #1995).
- `OpenAICompatibleGenerator`: any OpenAI-compatible HTTP endpoint (llama.cpp's server,
  `python -m llama_cpp.server`, vLLM, Ollama), streamed as server-sent events over the
  standard library's urllib.
- `FakeGenerator`: scripted output for tests, in the style of simonw/llm's `MockModel`.

`llama_cpp` is imported lazily inside the adapter, so `import assistant` stays fast.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

Message = dict[str, str]


class GenerationError(RuntimeError):
    """Generation failed; `message_zh` / `message_en` say why in words a user can act on."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        self.message_zh = message_zh
        self.message_en = message_en
        super().__init__(f"{message_zh} {message_en}")


class BackendUnavailable(GenerationError):
    """The model cannot be loaded or the endpoint cannot be reached."""


class GenerationTimeout(GenerationError):
    """The backend did not answer in time."""


class ContextOverflow(GenerationError):
    """prompt + max_tokens would exceed n_ctx; raised before the backend is called."""


class StreamIncomplete(GenerationError):
    """The server's stream ended or broke before it said it was done (no `[DONE]`)."""


class ModelLoading(GenerationError):
    """Another request is loading the model right now; answer without it this time."""


@dataclass(frozen=True)
class Sampling:
    """Sampling settings; low temperature because the job is rephrasing given facts."""

    temperature: float = 0.2
    top_p: float = 0.9
    top_k: int = 40
    repeat_penalty: float = 1.1
    seed: int | None = 42


@dataclass
class GenerationStats:
    """What the last `stream` call measured (seconds and token counts)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    ttft_s: float | None = None
    total_s: float = 0.0
    cancelled: bool = False
    finish_reason: str | None = None
    """Why generation ended: "stop" (complete), "length" (cut off by max_tokens or
    n_ctx), or whatever else the backend reported; None when it reported nothing."""
    completion_tokens_estimated: bool = False
    """True when `completion_tokens` is an estimate (a server that reported no usage);
    it counts tokens, never stream chunks, either way."""


@runtime_checkable
class Generator(Protocol):
    """Streams text for chat messages. The one abstract operation is `stream`."""

    name: str
    n_ctx: int

    def stream(
        self,
        messages: Sequence[Message],
        max_tokens: int,
        stop: Sequence[str] = (),
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        """Yield text pieces. Stops at `max_tokens`, a stop sequence, or when `cancel` is set.

        The generator's return value (`StopIteration.value`) is its `GenerationStats`,
        whose `finish_reason` says whether the answer is complete ("stop").
        """
        ...

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens the prompt for `messages` takes (exact where the backend has a tokenizer)."""
        ...


def complete(
    generator: Generator, messages: Sequence[Message], max_tokens: int, stop: Sequence[str] = ()
) -> str:
    """The whole text of one generation; built on `Generator.stream`."""
    return "".join(generator.stream(messages, max_tokens, stop))


def normalize_messages(messages: Sequence[Message], merge_system: bool = False) -> list[Message]:
    """Alternating roles, as strict chat templates (Mistral, Gemma) require.

    Consecutive turns of one role are merged; with `merge_system` the system text is
    moved into the first user turn (for templates that reject a system role).
    """
    out: list[Message] = []
    system = [m["content"] for m in messages if m.get("role") == "system"]
    for message in messages:
        role = message.get("role", "user")
        if role == "system":
            continue
        role = "assistant" if role == "assistant" else "user"
        if out and out[-1]["role"] == role:
            out[-1] = {"role": role, "content": out[-1]["content"] + "\n\n" + message["content"]}
        else:
            out.append({"role": role, "content": message["content"]})
    if out and out[0]["role"] == "assistant":
        out.insert(0, {"role": "user", "content": "（對話開始）"})
    if system:
        text = "\n\n".join(system)
        if merge_system:
            if out:
                out[0] = {"role": "user", "content": text + "\n\n" + out[0]["content"]}
            else:
                out = [{"role": "user", "content": text}]
        else:
            out.insert(0, {"role": "system", "content": text})
    return out


def render_raw(messages: Sequence[Message]) -> str:
    """A plain-text prompt for base models and `/v1/completions` (no chat template)."""
    parts = []
    for message in messages:
        role = message.get("role", "user")
        label = {"system": "", "user": "User: ", "assistant": "Assistant: "}.get(role, "User: ")
        parts.append(f"{label}{message['content']}".strip())
    return "\n\n".join(parts) + "\n\nAssistant:"


RAW_STOPS = ("\nUser:", "\n\nUser", "\nAssistant:")


# ------------------------------------------------------------------ llama.cpp in process


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
    from ..gguf import ModelFileError, read_gguf_info  # noqa: PLC0415

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


def _completion_tokens(text: str, finish_reason: str | None, max_tokens: int, count: Any) -> int:
    """Tokens generated: all of max_tokens for a `length` finish, else the text's tokens."""
    if finish_reason == "length":
        return max_tokens
    if not text:
        return 0
    try:
        return min(max_tokens, int(count(text)))
    except Exception:  # counting is best effort; never lose an answer over it
        return min(max_tokens, _estimate_tokens(text))


# ------------------------------------------------------------------ OpenAI-compatible HTTP


def _is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _estimate_tokens(text: str) -> int:
    """A deliberately high estimate when no tokenizer is at hand: two tokens per CJK
    character (English-centric byte-level tokenizers such as SmolLM2's take 1.5-3), one
    per three other characters."""
    cjk = sum(1 for ch in text if ord(ch) >= 0x2E80)
    return 2 * cjk + (len(text) - cjk + 2) // 3


UNKNOWN_SERVER_N_CTX = 2048
"""The context window assumed for a server that does not report its own and when
`ASSISTANT_N_CTX` was not set explicitly: the default of `llama_cpp.server` and Ollama."""
MESSAGE_OVERHEAD_TOKENS = 6
"""Role markers a chat template adds per message (ChatML: <|im_start|>role\\n … <|im_end|>\\n)."""


class OpenAICompatibleGenerator:
    """Streams from an OpenAI-compatible server: `/v1/chat/completions`, or
    `/v1/completions` with `raw=True` (base models without a chat template).

    The context window is read from the server when it reports one (llama.cpp's `/props`,
    `meta.n_ctx`/`max_model_len` in `/v1/models`); otherwise `n_ctx` is used when it was
    set explicitly, else `UNKNOWN_SERVER_N_CTX`. Tokens are counted with the server's own
    tokenizer where it offers one (`/extras/tokenize` on llama_cpp.server, `/tokenize`
    on llama.cpp's server), else with a deliberately high estimate.

    Args:
        base_url: e.g. ``http://127.0.0.1:8080`` or ``http://127.0.0.1:8080/v1``.
        api_key: sent as a bearer token when given.
        model: the served model's name; default: the first one `/v1/models` lists.
        timeout_s: connect/read timeout for each network operation.
        n_ctx: the configured context window.
        raw: plain-text prompts through `/v1/completions`.
        sampling: temperature and friends.
        n_ctx_explicit: whether `n_ctx` was set by the user (else it is only an upper bound).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        model: str | None = None,
        timeout_s: float = 60.0,
        n_ctx: int = 4096,
        raw: bool = False,
        sampling: Sampling | None = None,
        n_ctx_explicit: bool = True,
    ) -> None:
        parsed = urllib.parse.urlsplit(base_url.strip())
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"llm_url must be an http(s) URL, got {base_url!r}")
        path = parsed.path.rstrip("/")
        if not path.endswith("/v1"):
            path += "/v1"
        self.base_url = urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, path, "", ""))
        self.root_url = urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, path[: -len("/v1")], "", ""))
        self.api_key = api_key
        self.model = model
        self.timeout_s = timeout_s
        self.configured_n_ctx = n_ctx
        self.n_ctx_explicit = n_ctx_explicit
        self.raw = raw
        self.sampling = sampling or Sampling()
        self.name = model or parsed.netloc
        self.last = GenerationStats()
        self._server_n_ctx: int | None = None
        self._probed = False
        self._tokenizer: str | None = None  # the tokenize route that works, "" for none
        self._probe_lock = threading.Lock()
        # Loopback endpoints never go through an HTTP proxy from the environment.
        handlers: list[Any] = [urllib.request.ProxyHandler({})] if _is_loopback_host(parsed.hostname) else []
        self._opener = urllib.request.build_opener(*handlers)

    # -------------------------------------------------------------- plumbing
    def _request(
        self, path: str, body: dict[str, Any] | None, timeout: float, root: bool = False, stream: bool = True
    ) -> Any:
        headers = {"Accept": "text/event-stream" if body is not None and stream else "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode("utf-8")
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(
            (self.root_url if root else self.base_url) + path,
            data=data,
            headers=headers,
            method="POST" if body is not None else "GET",
        )
        try:
            return self._opener.open(request, timeout=timeout)
        except urllib.error.HTTPError as exc:
            detail = exc.read(500).decode("utf-8", "replace") if exc.fp else ""
            raise BackendUnavailable(
                f"模型服務 {self.base_url} 回應錯誤 HTTP {exc.code}：{detail[:200]}",
                f"The endpoint {self.base_url} answered HTTP {exc.code}: {detail[:200]}",
            ) from None
        except TimeoutError:
            raise self._timeout() from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (TimeoutError, socket.timeout)):
                raise self._timeout() from None
            raise self._down(exc.reason) from None
        except (OSError, http.client.HTTPException) as exc:
            raise self._down(exc) from None

    def _json(self, path: str, body: dict[str, Any] | None = None, timeout: float | None = None, root: bool = False) -> Any:
        with self._request(path, body, timeout or self.timeout_s, root=root, stream=False) as response:
            try:
                return json.loads(response.read().decode("utf-8"))
            except ValueError:
                raise BackendUnavailable(
                    f"{self.base_url}{path} 回傳的不是 JSON。", f"{self.base_url}{path} did not return JSON."
                ) from None

    def _down(self, reason: object) -> BackendUnavailable:
        return BackendUnavailable(
            f"無法連線到模型服務 {self.base_url}（{reason}）；請確認服務已啟動、位址與連接埠正確（ASSISTANT_LLM_URL）。",
            f"Cannot reach the model endpoint {self.base_url} ({reason}); check that the server is running and "
            "ASSISTANT_LLM_URL is right.",
        )

    def _timeout(self) -> GenerationTimeout:
        return GenerationTimeout(
            f"模型服務 {self.base_url} 在 {self.timeout_s:g} 秒內沒有回應。",
            f"The model endpoint {self.base_url} did not answer within {self.timeout_s:g} s.",
        )

    def list_models(self, timeout: float | None = None) -> list[str]:
        """Model ids the server serves (also a liveness probe); notes a reported n_ctx.

        Raises:
            BackendUnavailable / GenerationTimeout: down, refusing, or too slow.
        """
        try:
            payload = self._json("/models", timeout=timeout or self.timeout_s)
        except BackendUnavailable as exc:
            if "JSON" in exc.message_en:
                raise BackendUnavailable(
                    f"{self.base_url}/models 回傳的不是 JSON；這不像 OpenAI 相容的服務。",
                    f"{self.base_url}/models did not return JSON; this does not look like an OpenAI-compatible server.",
                ) from None
            raise
        models = [m for m in payload.get("data", []) if isinstance(m, dict) and m.get("id")] if isinstance(
            payload, dict
        ) else []
        for entry in models:
            if self.model and entry.get("id") != self.model:
                continue
            meta = entry.get("meta") if isinstance(entry.get("meta"), dict) else {}
            for value in (meta.get("n_ctx"), entry.get("max_model_len"), entry.get("context_length")):
                if isinstance(value, int) and value > 0:
                    self._server_n_ctx = value
                    break
            break
        return [str(m.get("id")) for m in models]

    def _probe(self) -> None:
        """Ask the server once for its context window and a tokenizer route."""
        with self._probe_lock:
            if self._probed:
                return
            self._probed = True
            timeout = min(3.0, self.timeout_s)
            try:
                props = self._json("/props", timeout=timeout, root=True)
                settings = props.get("default_generation_settings", {}) if isinstance(props, dict) else {}
                value = settings.get("n_ctx") if isinstance(settings, dict) else None
                value = value or (props.get("n_ctx") if isinstance(props, dict) else None)
                if isinstance(value, int) and value > 0:
                    self._server_n_ctx = value
            except GenerationError:
                pass
            if self._server_n_ctx is None:
                try:
                    self.list_models(timeout)
                except GenerationError:
                    pass

    def known_n_ctx(self) -> int:
        """The context window as known now, without a request."""
        if self._server_n_ctx:
            return self._server_n_ctx
        return self.configured_n_ctx if self.n_ctx_explicit else min(self.configured_n_ctx, UNKNOWN_SERVER_N_CTX)

    @property
    def n_ctx(self) -> int:
        """The server's context window when it reports it, else the conservative budget."""
        self._probe()
        return self.known_n_ctx()

    def _model_name(self) -> str:
        if not self.model:
            served = self.list_models()
            if not served:
                raise BackendUnavailable(
                    f"模型服務 {self.base_url} 沒有列出任何模型。",
                    f"The endpoint {self.base_url} lists no models.",
                )
            self.model = served[0]
            self.name = self.model
        return self.model

    def _server_tokens(self, text: str) -> int | None:
        """Token count from the server's tokenizer, or None when it offers none."""
        routes = [self._tokenizer] if self._tokenizer else ["/extras/tokenize", "/tokenize"]
        if self._tokenizer == "":
            return None
        for route in routes:
            try:
                if route == "/extras/tokenize":
                    payload = self._json(route, {"input": text, "model": self.model}, min(5.0, self.timeout_s), root=True)
                else:
                    payload = self._json(route, {"content": text}, min(5.0, self.timeout_s), root=True)
            except GenerationError:
                continue
            tokens = payload.get("tokens") if isinstance(payload, dict) else None
            if isinstance(tokens, list):
                self._tokenizer = route
                return len(tokens)
        self._tokenizer = ""
        return None

    def count_tokens(self, messages: Sequence[Message]) -> int:
        if self.raw:
            text = render_raw(normalize_messages(messages))
            counted = self._server_tokens(text)
            return (counted if counted is not None else _estimate_tokens(text)) + 4
        contents = [m["content"] for m in normalize_messages(messages)]
        counted = self._server_tokens("\n".join(contents))
        if counted is None:
            counted = sum(_estimate_tokens(c) for c in contents)
        return counted + MESSAGE_OVERHEAD_TOKENS * len(contents) + 4

    def count_text(self, text: str) -> int:
        counted = self._server_tokens(text)
        return counted if counted is not None else _estimate_tokens(text)

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
        s = self.sampling
        body: dict[str, Any] = {
            "model": self._model_name(),
            "max_tokens": max_tokens,
            "stream": True,
            "temperature": s.temperature,
            "top_p": s.top_p,
        }
        if s.seed is not None:
            body["seed"] = s.seed
        if self.raw:
            body["prompt"] = render_raw(normalize_messages(messages))
            body["stop"] = [*RAW_STOPS, *stop][:4]  # OpenAI allows at most four
            path = "/completions"
        else:
            body["messages"] = normalize_messages(messages)
            if stop:
                body["stop"] = list(stop)[:4]
            path = "/chat/completions"
        stats = GenerationStats()
        self.last = stats
        start = time.perf_counter()
        response = self._request(path, body, self.timeout_s)
        produced: list[str] = []
        try:
            for piece in self._events(response, stats):
                if stats.ttft_s is None:
                    stats.ttft_s = time.perf_counter() - start
                produced.append(piece)
                yield piece
                if cancel is not None and cancel.is_set():
                    stats.cancelled = True
                    return stats
        except TimeoutError:
            raise self._timeout() from None
        except (OSError, http.client.HTTPException) as exc:
            raise StreamIncomplete(
                f"模型服務 {self.base_url} 的連線在回答中途中斷（{exc}），回答不完整。",
                f"The connection to {self.base_url} broke off mid-answer ({exc}); the answer is incomplete.",
            ) from None
        finally:
            response.close()  # closing the connection is how a client cancels
            stats.total_s = time.perf_counter() - start
            if not stats.completion_tokens:  # the server's usage, when it sent one, wins
                # No request here (the stream is done; a tokenize call would be one more
                # round trip on every answer): a high estimate, marked as one. `LLMRun`
                # recounts the answer with the server's tokenizer.
                stats.completion_tokens = _completion_tokens(
                    "".join(produced), stats.finish_reason, max_tokens, _estimate_tokens
                )
                stats.completion_tokens_estimated = stats.finish_reason != "length"
        return stats

    def _events(self, response: Any, stats: GenerationStats) -> Iterator[str]:
        """Text pieces from an SSE stream (``data: {...}`` lines, ``data: [DONE]``).

        Records the finish reason in `stats`. A stream that ends without ``[DONE]``
        raises `StreamIncomplete`: the server died or the connection dropped.
        """
        for raw_line in response:
            line = raw_line.decode("utf-8", "replace").strip()
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                return
            try:
                event = json.loads(data)
            except ValueError:
                continue
            if isinstance(event, dict) and event.get("error"):
                error = event["error"]
                text = error.get("message") if isinstance(error, dict) else str(error)
                raise BackendUnavailable(
                    f"模型服務回報錯誤：{text}", f"The endpoint reported an error: {text}"
                )
            for choice in event.get("choices") or []:
                if choice.get("finish_reason"):
                    stats.finish_reason = str(choice["finish_reason"])
                delta = choice.get("delta") or {}
                piece = delta.get("content") if isinstance(delta, dict) else None
                if piece is None:
                    piece = choice.get("text")
                if piece:
                    yield piece
            usage = event.get("usage") if isinstance(event, dict) else None
            if isinstance(usage, dict) and isinstance(usage.get("prompt_tokens"), int):
                stats.prompt_tokens = usage["prompt_tokens"]
            if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
                stats.completion_tokens = usage["completion_tokens"]
        raise StreamIncomplete(
            f"模型服務 {self.base_url} 的串流沒有正常結束（缺少 [DONE]，伺服器可能出錯或中斷），回答不完整。",
            f"The stream from {self.base_url} ended without [DONE] (a server error or a dropped connection); "
            "the answer is incomplete.",
        )


# ------------------------------------------------------------------ fake


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
