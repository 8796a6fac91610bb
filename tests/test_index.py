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
