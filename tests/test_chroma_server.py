"""Chroma server mode (`ASSISTANT_CHROMA_URL`): a real server from the installed package.

`chroma run --path <tmp> --host 127.0.0.1 --port <free>` is started once for this module.
The embedded mode's retrieval tests run again here unchanged (imported from test_retrieval,
with `settings` pointing at the server); then what only a shared server needs: the manifest
in the collection's metadata, the writer lock across processes, and two app processes on
different ports sharing one index.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from .conftest import KNOWLEDGE, ROOT
from .test_retrieval import (  # noqa: F401  (collected here again, on the Chroma server)
    test_aliases_pull_in_their_family,
    test_k_larger_than_collection_and_empty_query,
    test_odd_input_never_crashes,
    test_real_embedder_retrieval_hit_at_3,
    test_search_returns_passages_with_titles,
    test_simplified_query_retrieves_like_traditional,
)
from .test_server import AppProcess, call_api, decoded, free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        pytest.fail(f"the chroma CLI of the installed chromadb package is missing: {chroma}")
    port = free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen([str(chroma), "run", "--path", str(folder / "db"), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"chroma server did not start:\n{(folder / 'server.log').read_text(errors='replace')}")
        time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def settings(tmp_path, chroma_url):
    """The suite's settings, with the index on the Chroma server (a collection per test)."""
    from assistant.config import Settings

    return Settings(
        data_dir=tmp_path / "data",
        models_dir=tmp_path / "models",
        knowledge_dir=KNOWLEDGE,
        embedder="fake-64",
        chroma_url=chroma_url,
        collection=f"k{uuid.uuid4().hex[:12]}",
    )


@pytest.fixture(scope="module")
def real_assistant(tmp_path_factory, chroma_url):
    from assistant.config import Settings
    from assistant.service import build_assistant

    data = tmp_path_factory.mktemp("real-data")
    settings = Settings(data_dir=data, models_dir=data / "models", knowledge_dir=KNOWLEDGE, embedder="use-m3",
                        chroma_url=chroma_url, collection="real-use-m3")
    assistant = build_assistant(settings)
    assistant.ensure_index()
    return assistant


def test_the_index_lives_on_the_server_with_its_manifest(fake_assistant, settings):
    from assistant.index import INDEX_SCHEMA, open_client, read_manifest, staleness

    manifest = read_manifest(settings)
    assert manifest and manifest["complete"] is True and manifest["schema"] == INDEX_SCHEMA
    metadata = open_client(settings).get_collection(settings.collection).metadata
    assert metadata["hash"] == manifest["hash"] and metadata["embedder"] == "fake-64"
    assert not (settings.data_dir / "index").exists()  # nothing of the index is kept locally
    assert staleness(settings, fake_assistant.embedder) is None
    assert not fake_assistant.ensure_index().rebuilt


def test_staleness_is_checked_against_the_collection_metadata(settings, tmp_path):
    from assistant.embeddings import FakeEmbedder
    from assistant.index import build_index, open_client, staleness

    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    own = settings.model_copy(update={"knowledge_dir": knowledge})
    embedder = FakeEmbedder()
    assert build_index(own, embedder).rebuilt
    assert staleness(own, embedder) is None
    (knowledge / "team-notes.md").write_text("# 團隊筆記\n\n我們的 GPU 伺服器有 80GB 顯存。\n", encoding="utf-8")
    assert "changed" in staleness(own, embedder)
    report = build_index(own, embedder)
    assert report.rebuilt and staleness(own, embedder) is None
    # A build that died half-way leaves `complete: false` in the metadata: rebuilt.
    collection = open_client(own).get_collection(own.collection)
    collection.modify(metadata={**collection.metadata, "complete": False})
    assert "did not finish" in staleness(own, embedder)
    assert build_index(own, embedder).rebuilt


def test_the_writer_lock_holds_across_processes(settings):
    from assistant.embeddings import FakeEmbedder
    from assistant.index import IndexLocked, build_index, open_client, server_writer_lock

    env_settings = {f"ASSISTANT_{k.upper()}": str(v) for k, v in settings.model_dump().items() if v is not None}
    env = {**{k: v for k, v in __import__("os").environ.items() if not k.startswith("ASSISTANT_")},
           **env_settings, "PYTHONPATH": str(ROOT)}
    with server_writer_lock(settings):
        # Another process (it could be on another machine) cannot build meanwhile.
        done = subprocess.run([sys.executable, "-m", "assistant", "index", "--force"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode != 0 and "another process" in (done.stderr + done.stdout)
        with pytest.raises(IndexLocked):
            build_index(settings, FakeEmbedder(), force=True)
    # Released: a build goes through, and leaves no lock behind.
    assert build_index(settings, FakeEmbedder(), force=True).rebuilt
    names = [c.name for c in open_client(settings).list_collections()]
    assert f"{settings.collection}-writer-lock" not in names
    # A lock left by a writer that died long ago is taken over.
    open_client(settings).create_collection(f"{settings.collection}-writer-lock",
                                            metadata={"owner": "dead:1", "since": time.time() - 3600})
    assert build_index(settings, FakeEmbedder(), force=True).rebuilt


def test_two_app_processes_on_different_ports_share_one_server(chroma_url, tmp_path):
    collection = f"shared{uuid.uuid4().hex[:8]}"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = AppProcess(tmp_path / "a", ASSISTANT_CHROMA_URL=chroma_url, ASSISTANT_COLLECTION=collection)
    try:
        second = AppProcess(tmp_path / "b", ASSISTANT_CHROMA_URL=chroma_url, ASSISTANT_COLLECTION=collection)
        try:
            assert "索引已重建" in first.output()
            assert "索引已是最新" in second.output() and "建立索引" not in second.output()  # built once, shared
            assert first.port != second.port
            for app in (first, second):
                status, body = call_api(app.port, "chat", ["Phi 4 有多大？", [], "grounded", "auto"])
                assert status == 200 and "Phi-4" in decoded(body) and "14.7B" in decoded(body)
                assert not (app.data_dir / "index").exists()
        finally:
            second.stop()
    finally:
        first.stop()


def test_a_bad_chroma_url_is_a_clear_error(tmp_path):
    from assistant.config import Settings
    from assistant.index import IndexError_, open_client

    with pytest.raises(IndexError_, match="ASSISTANT_CHROMA_URL"):
        open_client(Settings(data_dir=tmp_path, chroma_url="ftp://nowhere"))


def test_a_rebuild_fills_a_new_generation_and_switches_the_pointer(settings):
    """Readers of the previous generation keep it until the next build; older ones go."""
    from assistant.embeddings import FakeEmbedder
    from assistant.index import build_index, load_server_data, open_client, read_manifest

    embedder = FakeEmbedder()
    build_index(settings, embedder)
    first = read_manifest(settings)["data"]
    chunks, _tokens, collection = load_server_data(settings, embedder)  # an app reading the first generation
    build_index(settings, embedder, force=True)
    second = read_manifest(settings)["data"]
    assert second != first and collection.count() == len(chunks)  # still readable after the switch
    build_index(settings, embedder, force=True)
    third = read_manifest(settings)["data"]
    names = {c.name for c in open_client(settings).list_collections() if c.name.startswith(settings.collection)}
    assert names == {settings.collection, second, third}
    assert open_client(settings).get_collection(settings.collection).count() == 0  # the pointer holds no records


def test_a_chroma_server_that_is_down_degrades_to_keyword_search_with_a_notice(tmp_path):
    from assistant.config import Settings
    from assistant.embeddings import FakeEmbedder
    from assistant.service import build_assistant

    settings = Settings(data_dir=tmp_path / "data", knowledge_dir=KNOWLEDGE, embedder="fake-64",
                        chroma_url=f"http://127.0.0.1:{free_port()}")
    assistant = build_assistant(settings, embedder=FakeEmbedder())
    results = assistant.search("Phi 4 有多大？", 3)
    assert results and results[0].family == "phi" and assistant.retriever.degraded
    zh = assistant.grounded("Phi 4 有多大？")
    en = assistant.grounded("How big is Phi 4?")
    assert "14.7B" in zh.answer and any("關鍵字檢索" in n for n in zh.notices)
    assert any("keyword search" in n for n in en.notices)
