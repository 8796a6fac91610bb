"""Shared fixtures.

- Every test runs with its data directory in tmp_path and no ASSISTANT_* variables from the
  developer's shell, so no test touches the user's files.
- Outbound network is blocked for the whole session (loopback allowed): the suite proves
  the assistant works offline.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"
SHARED_EVAL = ROOT.parent / "shared" / "eval" / "questions.jsonl"

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
