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
