"""Index build, staleness, locking and fault recovery, on real chromadb in tmp_path."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from assistant.config import Settings
from assistant.embeddings import FakeEmbedder
from assistant.index import (
    INDEX_SCHEMA,
    IndexLocked,
    build_index,
    chunk_text,
    get_collection,
    open_client,
    read_manifest,
    staleness,
    writer_lock,
)

from .conftest import KNOWLEDGE


def _tree_digest(path):
    digest = hashlib.sha256()
    for file in sorted(path.rglob("*")):
        if file.is_file():
            digest.update(str(file.relative_to(path)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def own_knowledge(tmp_path):
    """A private copy of knowledge/ that tests may add documents to."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


def test_build_then_noop_then_force(settings):
    embedder = FakeEmbedder()
    first = build_index(settings, embedder)
    assert first.rebuilt and first.chunks > 60
    manifest = read_manifest(settings)
    assert manifest["complete"] is True and manifest["schema"] == INDEX_SCHEMA
    second = build_index(settings, embedder)
    assert not second.rebuilt and "up to date" in second.reason
    assert build_index(settings, embedder, force=True).rebuilt


def test_collection_records_embedder_name_and_dimension(settings):
    embedder = FakeEmbedder(32)
    build_index(settings, embedder)
    collection = get_collection(open_client(settings), settings, embedder)
    assert collection.metadata["embedder"] == "fake-32"
    assert collection.metadata["dimension"] == 32
    assert collection.count() == read_manifest(settings)["chunks"]


def test_embedder_change_triggers_rebuild(settings):
    build_index(settings, FakeEmbedder(64))
    reason = staleness(settings, FakeEmbedder(32))
    assert reason and "embedder" in reason
    assert build_index(settings, FakeEmbedder(32)).rebuilt


def test_older_schema_is_rebuilt(settings):
    build_index(settings, FakeEmbedder())
    manifest = read_manifest(settings)
    manifest["schema"] = INDEX_SCHEMA - 1
    settings.manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    assert "schema" in staleness(settings, FakeEmbedder())
    assert build_index(settings, FakeEmbedder()).rebuilt


def test_interrupted_build_is_detected(settings):
    build_index(settings, FakeEmbedder())
    manifest = read_manifest(settings)
    manifest["complete"] = False
    settings.manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    assert staleness(settings, FakeEmbedder()) == "previous build did not finish"


def test_corrupt_manifest_and_deleted_dir_rebuild(settings):
    build_index(settings, FakeEmbedder())
    settings.manifest_path.write_text("{not json", encoding="utf-8")
    assert build_index(settings, FakeEmbedder()).rebuilt
    shutil.rmtree(settings.data_dir)
    assert staleness(settings, FakeEmbedder()) == "no index yet"
    assert build_index(settings, FakeEmbedder()).rebuilt


def test_second_writer_is_locked_out(settings):
    with writer_lock(settings):
        with pytest.raises(IndexLocked, match="another process"):
            build_index(settings, FakeEmbedder(), force=True)


def test_user_documents_are_picked_up_and_knowledge_is_never_written(tmp_path, own_knowledge):
    settings = Settings(data_dir=tmp_path / "d", knowledge_dir=own_knowledge, embedder="fake-64")
    embedder = FakeEmbedder()
    build_index(settings, embedder)
    before = _tree_digest(own_knowledge)
    (own_knowledge / "notes").mkdir()
    (own_knowledge / "notes" / "inhouse.md").write_text(
        "# 內部筆記\n\n我們團隊的 Zebra-7B 模型跑在 RTX 4090 上。\n", encoding="utf-8"
    )
    assert "changed" in staleness(settings, embedder)
    report = build_index(settings, embedder)
    assert report.rebuilt
    from assistant.service import build_assistant

    assistant = build_assistant(settings, embedder=embedder)
    results = assistant.search("Zebra-7B", 3)
    assert results[0].source == "user" and "Zebra" in results[0].text
    # Our own build wrote nothing into knowledge/: only the test's file changed it.
    (own_knowledge / "notes" / "inhouse.md").unlink()
    (own_knowledge / "notes").rmdir()
    assert _tree_digest(own_knowledge) == before


def test_chunker_respects_target_and_keeps_text():
    text = "\n\n".join(f"第{i}段。" + "字" * 100 for i in range(10))
    chunks = chunk_text(text, 250)
    assert all(len(c) <= 2 * 250 + 10 for c in chunks)
    assert "".join(chunks).replace("\n", "") == text.replace("\n", "")


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(b"this is not a database" * 100),  # overwritten
        lambda path: path.write_bytes(path.read_bytes()[:4096]),  # cut short
        lambda path: path.write_bytes(b""),  # emptied
    ],
)
def test_a_corrupt_chroma_store_is_found_stale_and_the_report_says_rebuilt(settings, damage):
    """Start-up must not log 「索引已是最新」 for a damaged chroma.sqlite3 and rebuild afterwards."""
    embedder = FakeEmbedder()
    build_index(settings, embedder)
    assert staleness(settings, embedder) is None
    damage(settings.index_dir / "chroma.sqlite3")
    reason = staleness(settings, embedder)
    assert reason is not None and "chroma.sqlite3" in reason
    report = build_index(settings, embedder)
    assert report.rebuilt and "unreadable" in report.reason
    assert staleness(settings, embedder) is None
    collection = get_collection(open_client(settings), settings, embedder)
    assert collection.count() == report.chunks


def test_search_files_are_written_with_the_index(settings):
    """BM25 tokens, the embedding matrix and the jieba subset are persisted, so a new process
    answers without re-tokenising the corpus or opening chromadb."""
    import numpy as np

    from assistant.index import load_index_dictionary, load_search_data
    from assistant.retrieval import tokenize

    embedder = FakeEmbedder()
    report = build_index(settings, embedder)
    chunks, tokens, matrix, sentences = load_search_data(settings)
    assert len(chunks) == len(tokens) == matrix.shape[0] == report.chunks
    assert matrix.shape[1] == embedder.dimension
    assert np.allclose(matrix[0], embedder.embed([chunks[0].search_text()])[0], atol=1e-6)
    assert tokens[0] == tokenize(chunks[0].search_text(), full_dictionary=True)
    assert sentences and all(isinstance(v, list) for v in sentences.values())
    dictionary = load_index_dictionary(settings)
    assert dictionary is not None and 1000 < len(dictionary["freq"]) < 100_000  # a subset of jieba's 350k
    (settings.data_dir / "bm25.json").unlink()
    assert "missing" in staleness(settings, embedder)


# ------------------------------------------------------------------ issue 21: staged builds, checked files


def _files(settings):
    from assistant.index import SEARCH_FILES

    return {name: (settings.data_dir / name).read_bytes() for name in (*SEARCH_FILES, "manifest.json")}


def test_search_files_are_read_into_memory_and_checked_against_the_manifest(settings):
    import os

    import numpy as np

    from assistant.index import IndexFileError, read_search_snapshot

    embedder = FakeEmbedder()
    build_index(settings, embedder)
    manifest = read_manifest(settings)
    assert set(manifest["files"]) == {"chunks.json", "bm25.json", "embeddings.npy", "jieba.marshal"}
    snapshot = read_search_snapshot(settings)
    assert not isinstance(snapshot.matrix, np.memmap) and not isinstance(getattr(snapshot.matrix, "base", None), np.memmap)
    path = settings.data_dir / "embeddings.npy"
    original = path.read_bytes()
    os.truncate(path, 100)  # cut short in place
    with pytest.raises(IndexFileError, match="embeddings.npy"):
        read_search_snapshot(settings)
    assert "damaged" in staleness(settings, embedder)
    with open(path, "r+b") as handle:  # same size, random bytes in place
        handle.truncate(0)
        handle.write(original[:200] + os.urandom(len(original) - 200))
    with pytest.raises(IndexFileError, match="checksum"):
        read_search_snapshot(settings)
    path.write_bytes(original)  # an identical copy is fine
    assert read_search_snapshot(settings).matrix.shape[1] == embedder.dimension
    assert staleness(settings, embedder) is None
    report = build_index(settings, embedder)
    assert not report.rebuilt


def test_a_damaged_file_is_rebuilt_with_the_reason(settings):
    embedder = FakeEmbedder()
    build_index(settings, embedder)
    (settings.data_dir / "bm25.json").write_text("{}", encoding="utf-8")
    report = build_index(settings, embedder)
    assert report.rebuilt and "bm25.json" in report.reason
    assert staleness(settings, embedder) is None


def test_a_failed_build_leaves_the_old_index_whole(settings, monkeypatch):
    import errno

    import assistant.index.build as index_module
    from assistant.index import DiskFull

    embedder = FakeEmbedder()
    build_index(settings, embedder)
    before = _files(settings)

    def full(path, content):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(index_module, "_write_synced", full)
    with pytest.raises(DiskFull, match="previous index is untouched"):
        build_index(settings, embedder, force=True)
    assert _files(settings) == before
    assert not list(settings.data_dir.glob(".build-*"))
    monkeypatch.undo()

    calls = []

    class Exploding(FakeEmbedder):
        def embed(self, texts):
            calls.append(1)
            if len(calls) > 2:
                raise RuntimeError("embedder exploded")
            return super().embed(texts)

    with pytest.raises(RuntimeError, match="exploded"):
        build_index(settings, Exploding(), force=True)
    assert _files(settings) == before and staleness(settings, embedder) is None


def test_a_failed_first_build_is_marked_incomplete(settings, monkeypatch):
    import assistant.index.build as index_module

    def boom(path, content):
        raise RuntimeError("killed")

    monkeypatch.setattr(index_module, "_write_synced", boom)
    with pytest.raises(RuntimeError):
        build_index(settings, FakeEmbedder())
    assert read_manifest(settings)["complete"] is False
    monkeypatch.undo()
    assert staleness(settings, FakeEmbedder()) == "previous build did not finish"
    assert build_index(settings, FakeEmbedder()).rebuilt


def test_disk_full_is_recognised_in_its_forms():
    import errno

    from assistant.index import disk_full

    assert disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert disk_full(RuntimeError("database or disk is full"))
    wrapped = RuntimeError("compaction failed")
    wrapped.__cause__ = OSError(errno.EDQUOT, "quota")
    assert disk_full(wrapped)
    assert not disk_full(RuntimeError("something else"))


def test_a_writer_may_wait_for_another_to_finish(settings):
    import threading
    import time

    released = threading.Event()

    def hold():
        with writer_lock(settings):
            released.wait(1.0)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.2)
    with pytest.raises(IndexLocked):
        build_index(settings, FakeEmbedder(), force=True)  # no waiting: refused at once
    started = time.monotonic()
    assert build_index(settings, FakeEmbedder(), force=True, wait_s=10).rebuilt
    assert time.monotonic() - started >= 0.5
    holder.join()


def test_the_app_keeps_answering_from_the_loaded_index_while_another_process_builds(fake_assistant):
    """A writer holds the lock and is switching files in: the loaded index answers; when
    the new manifest lands, the next question uses the new index."""
    settings = fake_assistant.settings
    retriever = fake_assistant.retriever
    assert retriever.search("Phi 4 有多大？", 3)
    loaded = retriever._loaded_manifest
    with writer_lock(settings):
        # mid-switch: a search file is already new, the manifest is not
        (settings.data_dir / "chunks.json").write_text("[]", encoding="utf-8")
        retriever._files_checked_at = 0.0
        assert retriever.search("Phi 4 有多大？", 3)[0].family == "phi"
        # the manifest gone too (a first build, or a crash): still the loaded index
        settings.manifest_path.unlink()
        assert retriever.search("Phi 4 有多大？", 3)[0].family == "phi"
        assert retriever._loaded_manifest is loaded
    # the writer is done (here: we build), and the next question switches
    fake_assistant.ensure_index(force=True)
    assert retriever.search("Phi 4 有多大？", 3)[0].family == "phi"
    assert retriever._loaded_manifest is not loaded and staleness(settings, fake_assistant.embedder) is None


def test_a_search_file_damaged_under_a_running_app_is_noticed_and_rebuilt(fake_assistant, caplog):
    import time

    settings = fake_assistant.settings
    retriever = fake_assistant.retriever
    assert retriever.search("Phi 4 有多大？", 3)
    from assistant.index.lock import writer_busy  # noqa: PLC0415

    deadline = time.monotonic() + 60  # a writer still at work is waited for (the check defers to it)
    while (writer_busy(settings) or retriever._rebuilding) and time.monotonic() < deadline:
        time.sleep(0.1)
    manifest = settings.manifest_path.read_bytes()
    (settings.data_dir / "embeddings.npy").write_bytes(b"\x93NUMPY cut short")
    import logging  # noqa: PLC0415

    logger = logging.getLogger("assistant.retrieval")
    records: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    was_disabled, logger.disabled = logger.disabled, False  # a library's logging set-up elsewhere in the run may disable it
    logger.addHandler(handler)
    try:
        for _ in range(20):  # a load still settling on a busy machine defers the check to the next question
            retriever._files_checked_at = 0.0
            assert retriever.search("Phi 4 有多大？", 3)[0].family == "phi"  # from memory
            if "index file changed on disk" in retriever._last_note:
                break
            time.sleep(0.5)
    finally:
        logger.removeHandler(handler)
        logger.disabled = was_disabled
    assert "index file changed on disk" in retriever._last_note and "embeddings.npy" in retriever._last_note
    assert any("index file changed on disk" in r for r in records), records
    deadline = time.monotonic() + 60
    while settings.manifest_path.read_bytes() == manifest and time.monotonic() < deadline:
        time.sleep(0.1)
    while retriever._rebuilding and time.monotonic() < deadline:
        time.sleep(0.1)
    assert staleness(settings, fake_assistant.embedder) is None
    assert retriever.search("Phi 4 有多大？", 3)[0].family == "phi"
