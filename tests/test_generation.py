"""Generators: the fake, the OpenAI-compatible HTTP adapter, and llama.cpp in process."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.llm.backends import (
    BackendUnavailable,
    ContextOverflow,
    FakeGenerator,
    GenerationTimeout,
    LlamaCppGenerator,
    OpenAICompatibleGenerator,
    Sampling,
    complete,
    normalize_messages,
    render_raw,
)

from .conftest import free_port, llama_cpp_server

ROOT = Path(__file__).resolve().parents[1]
MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant. Answer briefly."},
    {"role": "user", "content": "The capital of France is"},
]


# ------------------------------------------------------------------ fake generator


def test_fake_generator_scripts_and_records():
    fake = FakeGenerator()
    fake.enqueue(["Hello", ", ", "world"])
    fake.enqueue(RuntimeError("boom"))
    assert complete(fake, MESSAGES, 16) == "Hello, world"
    with pytest.raises(RuntimeError, match="boom"):
        complete(fake, MESSAGES, 16)
    assert complete(fake, MESSAGES, 16) == fake.default
    assert len(fake.history) == 3
    assert fake.history[0].messages == MESSAGES and fake.history[0].max_tokens == 16
    assert fake.history[0].output == "Hello, world"


def test_fake_generator_honours_cancel_and_context():
    fake = FakeGenerator(n_ctx=200)
    fake.enqueue(["a", "b", "c", "d"])
    cancel = threading.Event()
    seen = []
    for piece in fake.stream(MESSAGES, 8, cancel=cancel):
        seen.append(piece)
        cancel.set()
    assert seen == ["a"] and fake.history[0].cancelled
    with pytest.raises(ContextOverflow):
        list(fake.stream([{"role": "user", "content": "x" * 300}], 8))


def test_normalize_messages_makes_roles_alternate():
    messages = [
        {"role": "system", "content": "rules"},
        {"role": "assistant", "content": "earlier answer"},
        {"role": "user", "content": "q1"},
        {"role": "user", "content": "q2"},
    ]
    out = normalize_messages(messages)
    assert [m["role"] for m in out] == ["system", "user", "assistant", "user"]
    assert out[-1]["content"] == "q1\n\nq2"
    merged = normalize_messages(messages, merge_system=True)
    assert merged[0]["role"] == "user" and merged[0]["content"].startswith("rules")
    assert render_raw(MESSAGES).endswith("Assistant:")


# ------------------------------------------------------------------ HTTP adapter, stub server


class _Stub(BaseHTTPRequestHandler):
    """A scripted OpenAI-compatible server.

    `mode`: ok, hang, hang-all, error, length (finish_reason "length"), no-done (the
    stream ends without [DONE]), drop (the connection closes mid-stream after a partial
    event). `props_n_ctx` / `meta_n_ctx`: what `/props` and `/v1/models` report.
    `tokenize`: serve llama_cpp.server's `/extras/tokenize` (one token per character).
    """

    mode = "ok"
    bodies: list[dict] = []
    props_n_ctx: int | None = None
    meta_n_ctx: int | None = None
    tokenize = False

    def log_message(self, *args):  # quiet
        pass

    def _json(self, status, data):
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        if self.mode == "hang-all":
            time.sleep(5)
        if self.path == "/props":
            if self.props_n_ctx is None:
                return self._json(404, {"error": "not found"})
            return self._json(200, {"default_generation_settings": {"n_ctx": self.props_n_ctx}})
        model = {"id": "stub-model"}
        if self.meta_n_ctx is not None:
            model["meta"] = {"n_ctx": self.meta_n_ctx}
        self._json(200, {"data": [model]})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path.endswith("tokenize"):
            if self.tokenize and self.path == "/extras/tokenize":
                return self._json(200, {"tokens": list(range(len(body["input"])))})
            return self._json(404, {"error": "not found"})
        type(self).bodies.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        if self.mode in ("hang", "hang-all"):
            time.sleep(5)
            return
        if self.mode == "error":
            payload = b'{"error": {"message": "model overloaded"}}'
            self.send_response(503)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in ["Phi-4 ", "有 14.7B ", "参数[1]。"]:
            chunk = {"choices": [{"delta": {"content": piece}}]} if self.path.endswith("/chat/completions") else {"choices": [{"text": piece}]}
            self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
            self.wfile.flush()
        if self.mode == "drop":
            self.wfile.write(b'data: {"choices": [{"delta": {"con')  # the server died mid-event
            self.wfile.flush()
            self.close_connection = True
            return
        if self.mode == "no-done":
            return
        finish = "length" if self.mode == "length" else "stop"
        self.wfile.write(f'data: {{"choices": [{{"delta": {{}}, "finish_reason": "{finish}"}}]}}\n\n'.encode())
        self.wfile.write(b"data: [DONE]\n\n")


@pytest.fixture
def stub_server():
    handler = type("Handler", (_Stub,), {"mode": "ok", "bodies": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()
    server.server_close()


def test_http_adapter_streams_chat_sse(stub_server):
    server, handler = stub_server
    url = f"http://127.0.0.1:{server.server_port}"
    generator = OpenAICompatibleGenerator(url, api_key="secret", timeout_s=5)
    pieces = list(generator.stream(MESSAGES, 32, stop=["\n\n"]))
    assert pieces == ["Phi-4 ", "有 14.7B ", "参数[1]。"]
    sent = handler.bodies[-1]
    assert sent["path"] == "/v1/chat/completions" and sent["model"] == "stub-model"
    assert sent["stream"] is True and sent["max_tokens"] == 32 and sent["stop"] == ["\n\n"]
    assert sent["auth"] == "Bearer secret"
    raw = OpenAICompatibleGenerator(url + "/v1", model="m", timeout_s=5, raw=True)
    assert "".join(raw.stream(MESSAGES, 8)) == "Phi-4 有 14.7B 参数[1]。"
    assert handler.bodies[-1]["path"] == "/v1/completions" and "prompt" in handler.bodies[-1]


def test_http_adapter_closed_port_is_a_clear_message():
    port = free_port()
    generator = OpenAICompatibleGenerator(f"http://127.0.0.1:{port}", model="m", timeout_s=2)
    with pytest.raises(BackendUnavailable) as caught:
        list(generator.stream(MESSAGES, 8))
    assert f"127.0.0.1:{port}" in caught.value.message_en and "ASSISTANT_LLM_URL" in caught.value.message_en
    assert "無法連線" in caught.value.message_zh


def test_http_adapter_timeout_and_http_errors(stub_server):
    server, handler = stub_server
    url = f"http://127.0.0.1:{server.server_port}"
    handler.mode = "hang"
    start = time.monotonic()
    with pytest.raises(GenerationTimeout) as caught:
        list(OpenAICompatibleGenerator(url, model="m", timeout_s=0.5).stream(MESSAGES, 8))
    assert time.monotonic() - start < 4 and "0.5" in caught.value.message_en
    handler.mode = "error"
    with pytest.raises(BackendUnavailable, match="503"):
        list(OpenAICompatibleGenerator(url, model="m", timeout_s=2).stream(MESSAGES, 8))


def _drain(generator, max_tokens=32):
    """All pieces and the stream's return value (its GenerationStats)."""
    stream = generator.stream(MESSAGES, max_tokens)
    pieces = []
    while True:
        try:
            pieces.append(next(stream))
        except StopIteration as done:
            return pieces, done.value


def test_http_adapter_reports_the_finish_reason(stub_server):
    server, handler = stub_server
    url = f"http://127.0.0.1:{server.server_port}"
    pieces, stats = _drain(OpenAICompatibleGenerator(url, model="m", timeout_s=5))
    assert "".join(pieces) == "Phi-4 有 14.7B 参数[1]。" and stats.finish_reason == "stop"
    handler.mode = "length"
    _pieces, stats = _drain(OpenAICompatibleGenerator(url, model="m", timeout_s=5))
    assert stats.finish_reason == "length"


@pytest.mark.parametrize("mode", ["no-done", "drop"])
def test_http_stream_without_done_is_incomplete_not_finished(stub_server, mode):
    from assistant.llm.backends import StreamIncomplete

    server, handler = stub_server
    handler.mode = mode
    generator = OpenAICompatibleGenerator(f"http://127.0.0.1:{server.server_port}", model="m", timeout_s=5)
    seen = []
    with pytest.raises(StreamIncomplete) as caught:
        for piece in generator.stream(MESSAGES, 32):
            seen.append(piece)
    assert seen  # text had arrived: it must still not count as an answer
    assert "[DONE]" in caught.value.message_en or "broke off" in caught.value.message_en


def test_http_n_ctx_comes_from_the_server_or_stays_conservative(stub_server):
    from assistant.llm.backends import UNKNOWN_SERVER_N_CTX

    server, handler = stub_server
    url = f"http://127.0.0.1:{server.server_port}"
    # Nothing reported and n_ctx not set by the user: budget for the smallest common default.
    assert OpenAICompatibleGenerator(url, n_ctx=4096, n_ctx_explicit=False).n_ctx == UNKNOWN_SERVER_N_CTX == 2048
    assert OpenAICompatibleGenerator(url, n_ctx=4096, n_ctx_explicit=True).n_ctx == 4096
    handler.meta_n_ctx = 1536  # llama.cpp's server: /v1/models data[].meta
    assert OpenAICompatibleGenerator(url, n_ctx=8192).n_ctx == 1536
    handler.props_n_ctx = 1024  # llama.cpp's server: /props default_generation_settings.n_ctx
    assert OpenAICompatibleGenerator(url, n_ctx=8192).n_ctx == 1024


def test_http_tokens_are_counted_by_the_server_when_it_can(stub_server):
    server, handler = stub_server
    url = f"http://127.0.0.1:{server.server_port}"
    text = "請問 Phi-4 可以商用嗎？" * 10
    messages = [{"role": "user", "content": text}]
    estimated = OpenAICompatibleGenerator(url, model="m").count_tokens(messages)
    handler.tokenize = True
    counted = OpenAICompatibleGenerator(url, model="m").count_tokens(messages)
    assert counted == len(text) + 6 + 4  # the server's count plus the template's overhead
    assert estimated > counted  # without a tokenizer the estimate errs high, never low


def test_estimate_is_not_low_for_an_english_centric_tokenizer():
    """SmolLM2's byte-level tokenizer needs 1.5-3 tokens per CJK character; the old
    estimate (one per character) was 41 % low for it."""
    from assistant.llm.backends import _estimate_tokens

    text = "我要商用、只有 16GB 筆電，想跑能寫程式的模型，選哪個？"
    cjk = sum(1 for ch in text if ord(ch) >= 0x2E80)
    assert _estimate_tokens(text) >= 2 * cjk


def test_assistant_with_endpoint_down_stays_grounded(settings, fake_assistant):
    fake_assistant.settings.llm_url = f"http://127.0.0.1:{free_port()}"
    fake_assistant._llm_manager().invalidate()
    status = fake_assistant.llm_status()
    assert status["available"] is False and status["backend"] == "openai"
    assert "127.0.0.1" in status["reason_en"]
    reply = fake_assistant.ask("Phi-4 有多少參數？")
    assert reply.mode == "grounded" and "14.7B" in reply.answer
    assert any("無法連線" in n for n in reply.notices)


def test_assistant_with_endpoint_that_hangs_times_out_to_grounded(fake_assistant, stub_server):
    server, handler = stub_server
    handler.mode = "hang"  # /v1/models answers, generation never does
    fake_assistant.settings.llm_url = f"http://127.0.0.1:{server.server_port}"
    fake_assistant.settings.llm_timeout_s = 0.6
    fake_assistant._llm_manager().invalidate()
    assert fake_assistant.llm_status()["available"] is True
    start = time.monotonic()
    reply = fake_assistant.ask("Phi-4 有多少參數？")
    assert time.monotonic() - start < 4
    assert reply.mode == "grounded" and "14.7B" in reply.answer
    assert reply.validation is None and reply.llm["outcome"] == "timeout"
    assert any("0.6" in n and "逾時" in n for n in reply.notices)


def test_assistant_with_endpoint_streams_converted_llm_answer(fake_assistant, stub_server):
    server, _handler = stub_server
    fake_assistant.settings.llm_url = f"http://127.0.0.1:{server.server_port}"
    fake_assistant._llm_manager().invalidate()
    events = list(fake_assistant.ask_stream("Phi-4 有多少參數？"))
    reply = events[-1].reply
    assert reply.mode == "llm" and reply.validation == {"ok": True, "problems": []}
    assert reply.answer == "Phi-4 有 14.7B 參數[1]。"  # Simplified 参数 streamed in, zh-TW out


# ------------------------------------------------------------------ llama.cpp in process (real)


@pytest.fixture(scope="module")
def raw_llama(bundled_gguf):
    return LlamaCppGenerator(bundled_gguf, n_ctx=1024, n_threads=1, raw=True, sampling=Sampling(temperature=0.0))


@pytest.mark.slow
def test_llama_streams_with_explicit_budget_and_counts_tokens_exactly(raw_llama):
    pieces = list(raw_llama.stream(MESSAGES, max_tokens=12))
    assert len(pieces) >= 2 and "".join(pieces).strip()
    stats = raw_llama.last
    assert 1 <= stats.completion_tokens <= 12  # tokens, never the extra final chunk
    assert stats.prompt_tokens == raw_llama.count_tokens(MESSAGES)
    prompt, _, _ = raw_llama.render(MESSAGES)
    assert stats.prompt_tokens == len(raw_llama.llama.tokenize(prompt.encode(), add_bos=True, special=True))


@pytest.mark.slow
def test_llama_refuses_an_overflowing_prompt_before_calling_the_model(raw_llama):
    huge = [{"role": "user", "content": "模型 " * 2000}]
    with pytest.raises(ContextOverflow) as caught:
        list(raw_llama.stream(huge, max_tokens=16))
    assert "1024" in caught.value.message_en


@pytest.mark.slow
def test_llama_stop_sequences_and_cancel(raw_llama):
    text = "".join(raw_llama.stream(MESSAGES, max_tokens=24, stop=["\n", " "]))
    assert "\n" not in text.strip() and " " not in text.strip()
    cancel = threading.Event()
    count = 0
    for _piece in raw_llama.stream([{"role": "user", "content": "One, two, three, four,"}], max_tokens=64, cancel=cancel):
        count += 1
        if count == 3:
            cancel.set()
    assert count == 3 and raw_llama.last.cancelled
    assert raw_llama.shared().lock.acquire(timeout=1)  # the lock was released
    raw_llama.shared().lock.release()


@pytest.mark.slow
def test_base_model_cannot_be_used_through_a_chat_template(bundled_gguf):
    chat = LlamaCppGenerator(bundled_gguf, n_ctx=1024, n_threads=1, raw=False)
    with pytest.raises(BackendUnavailable, match="chat template"):
        chat.count_tokens(MESSAGES)


@pytest.mark.slow
def test_concurrent_streams_on_one_llama_are_serialized(raw_llama):
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            results[i] = "".join(raw_llama.stream([{"role": "user", "content": f"Count to {i + 3}:"}], max_tokens=8))
        except BaseException as exc:  # pragma: no cover - the failure being tested for
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and sorted(results) == [0, 1]
    assert all(not t.is_alive() for t in threads)


@pytest.mark.slow
def test_prefix_cache_makes_the_second_question_start_faster(raw_llama):
    from assistant.llm import SYSTEM_RULES

    def ask(question: str) -> float:
        list(raw_llama.stream([{"role": "system", "content": SYSTEM_RULES * 2}, {"role": "user", "content": question}], max_tokens=2))
        assert raw_llama.last.ttft_s is not None
        return raw_llama.last.ttft_s

    raw_llama.llama.reset()  # empty KV cache
    first = ask("Phi-4 有多少參數？")
    second = ask("Qwen3 可以商用嗎？")
    assert second < first * 0.6, (first, second)


# ------------------------------------------------------------------ llama_cpp.server (real HTTP)


@pytest.fixture(scope="module")
def llama_server(bundled_gguf, tmp_path_factory):
    pytest.importorskip("sse_starlette", reason="llama_cpp.server needs llama-cpp-python[server]")
    with llama_cpp_server(bundled_gguf, tmp_path_factory.mktemp("llama-server"), "--n_ctx", "1024",
                          "--n_threads", "1", "--n_threads_batch", "1") as url:
        yield url


@pytest.mark.slow
def test_real_server_raw_completions_stream(llama_server):
    generator = OpenAICompatibleGenerator(llama_server, timeout_s=60, n_ctx=1024, raw=True, sampling=Sampling(temperature=0.0))
    assert generator.list_models()
    pieces = list(generator.stream(MESSAGES, max_tokens=12))
    assert len(pieces) >= 2 and "".join(pieces).strip()
    assert generator.last.completion_tokens <= 12


@pytest.mark.slow
def test_real_server_chat_completions_stream_and_cancel(llama_server):
    generator = OpenAICompatibleGenerator(llama_server, timeout_s=60, n_ctx=1024)
    cancel = threading.Event()
    pieces = []
    for piece in generator.stream(MESSAGES, max_tokens=24, cancel=cancel):
        pieces.append(piece)
        if len(pieces) == 2:
            cancel.set()
    assert len(pieces) == 2 and generator.last.cancelled
    # The server is free again right away: the next request streams normally.
    assert "".join(generator.stream(MESSAGES, max_tokens=6)).strip() or generator.last.completion_tokens >= 1


def test_chat_templates_render_in_a_sandbox():
    """GGUF chat templates are untrusted input (CVE-2024-34359): llama-cpp-python must be
    new enough to render them in an immutable sandbox, and a hostile one must fail."""
    import jinja2.exceptions
    import llama_cpp
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    version = tuple(int(part) for part in llama_cpp.__version__.split(".")[:3])
    assert version >= (0, 2, 72)
    hostile = "{{ ''.__class__.__mro__[1].__subclasses__() }}{% for m in messages %}{{ m.content }}{% endfor %}"
    formatter = Jinja2ChatFormatter(template=hostile, eos_token="</s>", bos_token="<s>")
    with pytest.raises(jinja2.exceptions.SecurityError):
        formatter(messages=MESSAGES)
