"""What the assistant sends to a model backend: explicit budgets, never the library defaults.
(RELIABILITY.md items 18 and 26.)"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import ValidationError

from assistant.config import Settings
from assistant.generation import OpenAICompatibleGenerator

from .conftest import ROOT


class _Recorder(BaseHTTPRequestHandler):
    bodies: list[dict] = []

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_POST(self):  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length", 0))
        self.bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        chunk = {"choices": [{"delta": {"content": "好"}, "text": "好", "index": 0, "finish_reason": None}]}
        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def do_GET(self):  # noqa: N802
        body = json.dumps({"data": [{"id": "served-model"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def recorder():
    _Recorder.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.bodies
    server.shutdown()


@pytest.mark.parametrize("raw", [False, True], ids=["chat", "completion"])
def test_http_backend_always_sends_an_explicit_max_tokens(recorder, raw):
    url, bodies = recorder
    generator = OpenAICompatibleGenerator(url, model="served-model", timeout_s=5, raw=raw)
    text = "".join(generator.stream([{"role": "user", "content": "hi"}], max_tokens=37))
    assert text == "好"
    assert bodies and bodies[-1]["max_tokens"] == 37
    assert bodies[-1]["stream"] is True


def test_http_backend_refuses_a_missing_budget(recorder):
    url, _bodies = recorder
    generator = OpenAICompatibleGenerator(url, model="served-model", timeout_s=5)
    with pytest.raises(ValueError):
        list(generator.stream([{"role": "user", "content": "hi"}], max_tokens=0))


@pytest.mark.parametrize("n_ctx", [0, -1, 100])
def test_context_window_zero_or_tiny_is_rejected(n_ctx):
    # n_ctx=0 would mean "the model's training context": a huge KV cache.
    with pytest.raises(ValidationError):
        Settings(n_ctx=n_ctx)


def test_context_window_zero_from_the_environment_is_a_clear_cli_error(tmp_path):
    env = {"ASSISTANT_N_CTX": "0", "ASSISTANT_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin",
           "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "assistant", "search", "phi"], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "n_ctx" in out.stderr
