"""Any OpenAI-compatible HTTP endpoint (llama.cpp's server, `python -m llama_cpp.server`,
vLLM, Ollama), streamed as server-sent events over the standard library's urllib."""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any

from .common import (
    RAW_STOPS,
    BackendUnavailable,
    GenerationError,
    GenerationStats,
    GenerationTimeout,
    Message,
    Sampling,
    StreamIncomplete,
    _completion_tokens,
    _estimate_tokens,
    normalize_messages,
    render_raw,
)


def _is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
            raise self._timeout(timeout) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (TimeoutError, socket.timeout)):
                raise self._timeout(timeout) from None
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

    def _timeout(self, seconds: float | None = None) -> GenerationTimeout:
        waited = seconds or self.timeout_s  # a 3 s start-up probe says 3 s, not the generation timeout
        return GenerationTimeout(
            f"模型服務 {self.base_url} 在 {waited:g} 秒內沒有回應。",
            f"The model endpoint {self.base_url} did not answer within {waited:g} s.",
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
