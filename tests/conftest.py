"""Shared fixtures.

- Every test runs with its data directory in tmp_path and no ASSISTANT_* variables from the
  developer's shell, so no test touches the user's files.
- Outbound network is blocked for the whole session (loopback allowed): the suite proves
  the assistant works offline.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"
PUBLIC_EVAL = ROOT / "eval" / "public" / "questions.jsonl"  # the public set, kept in the repository
SHARED_EVAL = PUBLIC_EVAL  # the name older tests import

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"


class OutboundNetworkBlocked(RuntimeError):
    pass


def _is_loopback(address: object) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
    elif isinstance(address, (str, bytes)):
        return True  # AF_UNIX path
    else:
        return False
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guarded_connect(self, address):  # type: ignore[no-untyped-def]
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
        raise OutboundNetworkBlocked(f"test tried to reach {address!r}; the suite runs offline")
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):  # type: ignore[no-untyped-def]
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
        raise OutboundNetworkBlocked(f"test tried to reach {address!r}; the suite runs offline")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def offline_guard():
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    for key in list(os.environ):
        if key.startswith("ASSISTANT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ASSISTANT_MODELS_DIR", str(tmp_path / "models"))
    yield


@pytest.fixture
def settings(tmp_path):
    from assistant.config import Settings

    return Settings(
        data_dir=tmp_path / "data",
        models_dir=tmp_path / "models",
        knowledge_dir=KNOWLEDGE,
        embedder="fake-64",
    )


@pytest.fixture
def catalog():
    from assistant.knowledge import load_catalog

    return load_catalog(KNOWLEDGE / "catalog.yaml")


@pytest.fixture(scope="session")
def shared_catalog():
    """The shipped catalog, loaded once per session (catalogs are never mutated by the engine)."""
    from assistant.knowledge import load_catalog

    return load_catalog(KNOWLEDGE / "catalog.yaml")


@pytest.fixture(scope="session")
def shared_chunks(shared_catalog):
    """The knowledge base's chunks by id (article + catalog), for citations; no index, no embedder."""
    from assistant.config import Settings
    from assistant.index import build_chunks

    return {c.id: c for c in build_chunks(Settings(knowledge_dir=KNOWLEDGE), shared_catalog)}


@pytest.fixture(scope="session")
def shared_sentences(shared_catalog, shared_chunks):
    """The article's sentence index, lexical signal only (no embedder): for lookup questions."""
    from assistant.answer.lookup import SentenceIndex

    return SentenceIndex(shared_catalog, list(shared_chunks.values()), None)


@pytest.fixture(scope="module")
def indexed_assistant(tmp_path_factory):
    """Real chromadb + the deterministic fake-64 embedder, built once per module: the service path
    (`Assistant.grounded`) with retrieval, sources and citations."""
    from assistant.config import Settings
    from assistant.service import build_assistant

    data = tmp_path_factory.mktemp("indexed-data")
    built = build_assistant(Settings(data_dir=data, models_dir=data / "models", knowledge_dir=KNOWLEDGE, embedder="fake-64"))
    built.ensure_index()
    return built


# ---------------------------------------------------------------- asking the answer engine (no index)

CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def user_turns(*questions: str) -> list[dict[str, str]]:
    """A history of user turns (the engine replays user turns only)."""
    return [{"role": "user", "content": q} for q in questions]


def fired_rule(plan) -> str | None:  # type: ignore[no-untyped-def]
    """The name of the intent rule that decided the plan (the trace's fired step)."""
    fired = [step.rule for step in plan.trace if step.fired]
    return fired[0] if fired else None


def answer(catalog, chunks, question: str, history=(), sentences=None, language: str | None = None):  # type: ignore[no-untyped-def]
    """`compose()` with empty retrieval: what a user reads, from the catalog alone.

    `history` is a sequence of earlier user questions, oldest first."""
    from assistant.compose import compose

    return compose(question, catalog, [], chunks, history=user_turns(*history) or None, sentences=sentences, language=language)


def outside_quotes(text: str) -> str:
    """`text` without quoted article text (「…」), which may stay Chinese in an English answer."""
    return re.sub("「[^」]*」", "", text)


@pytest.fixture
def fake_assistant(settings):
    """Real chromadb in tmp_path, deterministic fake embedder: fast."""
    from assistant.service import build_assistant

    assistant = build_assistant(settings)
    assistant.ensure_index()
    return assistant


@pytest.fixture(scope="session")
def real_assistant(tmp_path_factory):
    """Real chromadb + the real bundled multilingual embedder, built once per session."""
    from assistant.config import Settings
    from assistant.service import build_assistant

    data = tmp_path_factory.mktemp("real-data")
    settings = Settings(
        data_dir=data, models_dir=data / "models", knowledge_dir=KNOWLEDGE, embedder="use-m3"
    )
    assistant = build_assistant(settings)
    assistant.ensure_index()
    return assistant


# ---------------------------------------------------------------- local models (issue 4)


@pytest.fixture(scope="session")
def bundled_gguf(tmp_path_factory):
    """The bundled Gemma 3 270M base GGUF, reassembled (and SHA-256 checked) once per session."""
    from assistant.config import Settings
    from assistant.models import ensure_bundled

    data = tmp_path_factory.mktemp("bundled-model")
    return ensure_bundled(Settings(data_dir=data, models_dir=data / "models", knowledge_dir=KNOWLEDGE))


def write_gguf(
    path: Path,
    *,
    name: str = "Tiny Test",
    architecture: str = "llama",
    chat_template: str | None = None,
    context_length: int = 2048,
    file_type: int = 15,
    tensor_elements: int = 64,
) -> Path:
    """Write a small but structurally valid GGUF v3 file (one F32 tensor)."""
    import struct

    def string(text: str) -> bytes:
        raw = text.encode("utf-8")
        return struct.pack("<Q", len(raw)) + raw

    kv = [
        string("general.architecture") + struct.pack("<I", 8) + string(architecture),
        string("general.name") + struct.pack("<I", 8) + string(name),
        string("general.file_type") + struct.pack("<I", 4) + struct.pack("<I", file_type),
        string(f"{architecture}.context_length") + struct.pack("<I", 4) + struct.pack("<I", context_length),
        string("tokenizer.ggml.tokens")
        + struct.pack("<I", 9)
        + struct.pack("<I", 8)
        + struct.pack("<Q", 3)
        + b"".join(string(t) for t in ("<s>", "</s>", "模型")),
        string("tokenizer.ggml.scores") + struct.pack("<I", 9) + struct.pack("<I", 6) + struct.pack("<Q", 3) + struct.pack("<3f", 0, 0, -1),
    ]
    if chat_template is not None:
        kv.append(string("tokenizer.chat_template") + struct.pack("<I", 8) + string(chat_template))
    header = b"GGUF" + struct.pack("<I", 3) + struct.pack("<Q", 1) + struct.pack("<Q", len(kv)) + b"".join(kv)
    tensor = string("token_embd.weight") + struct.pack("<I", 2) + struct.pack("<QQ", tensor_elements // 8, 8)
    tensor += struct.pack("<I", 0) + struct.pack("<Q", 0)
    body = header + tensor
    body += b"\0" * ((-len(body)) % 32)
    body += b"\x01" * (tensor_elements * 4)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return path


@pytest.fixture
def make_gguf():
    """Factory: `make_gguf(path, chat_template=..., ...)` writes a small valid GGUF."""
    return write_gguf


# ---------------------------------------------------------------- servers the tests start


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def llama_cpp_server(model: Path, log_dir: Path, *args: str, start_timeout_s: float = 90) -> Iterator[str]:
    """`python -m llama_cpp.server` for `model` on a free loopback port; yields its URL.

    Logs go to a file, not a pipe: llama.cpp logs enough to fill a pipe and block the server."""
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
               "--port", str(port), *args, "--verbose", "False"]  # fmt: skip
    log_path = log_dir / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + start_timeout_s
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"llama_cpp.server exited: {log_path.read_text(errors='replace')[-2000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"llama_cpp.server did not start in {start_timeout_s:.0f} s: "
                        f"{log_path.read_text(errors='replace')[-2000:]}"
                    )
                try:
                    with urllib.request.urlopen(url + "/v1/models", timeout=1) as response:
                        if response.status == 200:
                            break
                except OSError:
                    time.sleep(0.3)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
