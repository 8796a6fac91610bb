"""Building the index: `staleness` says why a rebuild is due, `build_index` writes a new index
beside the old one and switches to it only when it is complete (embedded: a staging folder,
renames, the manifest last; Chroma server: a new generation collection, then the pointer)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from ..config import Settings
from ..embeddings import ChromaEmbeddingFunction, Embedder
from ..knowledge import load_catalog
from ..lexical import jieba_subset, tokenize
from ..text import sentences
from .chroma import open_client, reset_client_cache
from .chunks import Chunk, build_chunks
from .errors import ChromaUnavailable, DiskFull, IndexError_, IndexLocked
from .files import (
    INDEX_SCHEMA,
    SEARCH_FILES,
    chromadb_version,
    content_hash,
    file_record,
    read_manifest,
    search_files_problem,
    store_problem,
)
from .lock import acquire_writer


def staleness(settings: Settings, embedder: Embedder) -> str | None:
    """Why the index must be rebuilt, or None when it is current.

    Raises:
        ChromaUnavailable: the Chroma server cannot be reached.
    """
    manifest = read_manifest(settings)
    if manifest is None:
        if settings.chroma_url:
            return f"no index on the Chroma server {settings.chroma_url} yet"
        return "no index yet" if not settings.data_dir.exists() else "index manifest missing or unreadable"
    if not manifest.get("complete"):
        return "previous build did not finish"
    if manifest.get("schema") != INDEX_SCHEMA:
        return f"index schema {manifest.get('schema')} is older than {INDEX_SCHEMA}"
    if manifest.get("embedder") != embedder.name or manifest.get("dimension") != embedder.dimension:
        return f"embedder changed ({manifest.get('embedder')} -> {embedder.name})"
    if manifest.get("chromadb") != chromadb_version():
        return f"index built by chromadb {manifest.get('chromadb')}"
    if not settings.chroma_url:
        if not all((settings.data_dir / name).exists() for name in SEARCH_FILES) or not settings.index_dir.exists():
            return "index files missing"
        problem = search_files_problem(settings, manifest)
        if problem:
            return f"index file damaged: {problem}"
        problem = store_problem(settings, int(manifest.get("chunks", -1) or 0))  # type: ignore[call-overload]
        if problem:
            return f"index store unreadable: {problem}"
    if manifest.get("hash") != content_hash(settings, embedder.name):
        return "knowledge/ or settings changed"
    return None


Progress = Callable[[int, int], None]


@dataclass
class BuildReport:
    rebuilt: bool
    reason: str
    chunks: int
    seconds: float


def disk_full(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) says the disk or a quota is full."""
    import errno  # noqa: PLC0415

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            return True
        text = str(exc).lower()
        if "no space left" in text or "disk is full" in text or "database or disk is full" in text:
            return True
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return False


def _disk_full_error(settings: Settings, had_index: bool) -> DiskFull:
    where = settings.chroma_url or str(settings.data_dir)
    if had_index:
        return DiskFull(
            f"磁碟空間不足，新的索引沒有寫完（{where}）；舊的索引原封不動，仍可繼續回答，請釋出空間後再執行 "
            f"`python -m assistant index`。Not enough disk space to write the new index in {where}: the previous "
            "index is untouched and keeps answering; free some space and run `python -m assistant index` again."
        )
    return DiskFull(
        f"磁碟空間不足，無法建立索引（{where}）；請釋出空間後再執行 `python -m assistant index`。"
        f"Not enough disk space to build the index in {where}; free some space and run `python -m assistant index`."
    )


def build_index(
    settings: Settings,
    embedder: Embedder,
    *,
    force: bool = False,
    progress: Progress | None = None,
    batch_size: int = 32,
    wait_s: float = 0.0,
) -> BuildReport:
    """Rebuild the index when stale (or forced); a no-op when current.

    The new index is written next to the old one and switched to only when complete (see the
    module docstring), so readers keep the old index until then.

    Args:
        wait_s: how long to wait for another writer to finish before giving up.

    Raises:
        IndexLocked: another process (on this machine, or anywhere for a Chroma server) is writing it.
        DiskFull: the disk filled up; the previous index was kept.
        ChromaUnavailable: the Chroma server cannot be reached.
    """
    started = time.perf_counter()
    reason = "forced" if force else staleness(settings, embedder)
    if reason is None:
        manifest = read_manifest(settings) or {}
        return BuildReport(False, "index is up to date", int(manifest.get("chunks", 0) or 0), time.perf_counter() - started)  # type: ignore[call-overload]
    with acquire_writer(settings, wait_s):
        # Re-check under the lock: another writer may have just finished the same build.
        if not force and staleness(settings, embedder) is None:
            manifest = read_manifest(settings) or {}
            return BuildReport(False, "index is up to date", int(manifest.get("chunks", 0) or 0), time.perf_counter() - started)  # type: ignore[call-overload]
        previous = read_manifest(settings)
        had_index = bool(previous and previous.get("complete"))
        try:
            chunks = _build(settings, embedder, progress, batch_size, had_index)
        except (IndexLocked, ChromaUnavailable, DiskFull):
            raise
        except Exception as exc:
            # chromadb reports a full disk as e.g. "Error in compaction: Failed to apply logs to
            # the metadata segment": ask the file system too.
            if disk_full(exc) or (not settings.chroma_url and _space_left(settings.data_dir) < LOW_SPACE_BYTES):
                raise _disk_full_error(settings, had_index) from None
            raise
    return BuildReport(True, reason, chunks, time.perf_counter() - started)


LOW_SPACE_BYTES = 8 << 20  # a build that fails with less free space than this failed for want of it


def _space_left(path: Path) -> int:
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return 1 << 62


def _build(settings: Settings, embedder: Embedder, progress: Progress | None, batch_size: int, had_index: bool) -> int:
    catalog = load_catalog(settings.catalog_path)
    chunks = build_chunks(settings, catalog)
    manifest: dict[str, object] = {
        "schema": INDEX_SCHEMA,
        "hash": content_hash(settings, embedder.name),
        "embedder": embedder.name,
        "dimension": embedder.dimension,
        "chromadb": chromadb_version(),
        "chunks": len(chunks),
        "complete": False,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    tokens = [tokenize(c.search_text(), full_dictionary=True) for c in chunks]
    if settings.chroma_url:
        _build_on_server(settings, embedder, chunks, tokens, manifest, progress, batch_size)
        return len(chunks)
    import marshal  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415

    data = settings.data_dir
    data.mkdir(parents=True, exist_ok=True)
    for old in data.glob(".build-*"):  # left by a build that died (we hold the lock)
        shutil.rmtree(old, ignore_errors=True)
    for old in data.glob(".old-index-*"):
        shutil.rmtree(old, ignore_errors=True)
    if not had_index:
        # Nothing to protect: mark the build as running, so a build killed now is detected.
        _write_json_atomic(settings.manifest_path, manifest)
    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=data))
    retired: Path | None = None
    try:
        client = open_client(settings, staging / "index")
        collection = client.create_collection(
            name=settings.collection,
            embedding_function=ChromaEmbeddingFunction(embedder),
            metadata={
                "hnsw:space": "cosine",
                "embedder": embedder.name,
                "dimension": embedder.dimension,
                "schema": INDEX_SCHEMA,
            },
        )
        vectors: list[list[float]] = []
        for start in range(0, len(chunks), batch_size):
            batch = chunks[start : start + batch_size]
            embeddings = embedder.embed([c.search_text() for c in batch])
            vectors.extend(embeddings)
            collection.add(
                ids=[c.id for c in batch],
                documents=[c.search_text() for c in batch],
                embeddings=embeddings,  # type: ignore[arg-type]
                metadatas=[
                    {"source": c.source, "title": c.title, "family": c.family, "model_id": c.model_id}
                    for c in batch
                ],
            )
            if progress:
                progress(min(start + batch_size, len(chunks)), len(chunks))
        del collection, client
        reset_client_cache()  # let go of the staging store before it moves
        import io  # noqa: PLC0415

        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(chunks), embedder.dimension)
        npy = io.BytesIO()
        np.save(npy, matrix)
        contents = {
            "chunks.json": json.dumps([asdict(c) for c in chunks], ensure_ascii=False, indent=1).encode("utf-8"),
            "bm25.json": json.dumps(
                {"tokens": tokens, "sentences": sentence_tokens(chunks)}, ensure_ascii=False, indent=1
            ).encode("utf-8"),
            "embeddings.npy": npy.getvalue(),
            "jieba.marshal": marshal.dumps(jieba_subset([c.search_text() for c in chunks])),
        }
        for name, content in contents.items():
            _write_synced(staging / name, content)
        manifest.update(
            complete=True,
            finished_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            files={name: file_record(content) for name, content in contents.items()},
        )
        _write_synced(staging / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
        # Everything is on disk: switch. Renames need no space; the manifest goes last, so a
        # reader sees the old index (its manifest) or the new one, and a crash in between
        # leaves files that fail the old manifest's checksums (rebuilt at the next start).
        for name in SEARCH_FILES:
            os.replace(staging / name, data / name)
        if settings.index_dir.exists():
            retired = data / f".old-index-{uuid.uuid4().hex[:8]}"
            os.rename(settings.index_dir, retired)
        os.rename(staging / "index", settings.index_dir)
        os.replace(staging / "manifest.json", settings.manifest_path)
        reset_client_cache()  # a cached client of the old index/ must not be reused
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)
    return len(chunks)


def _write_json_atomic(path: Path, data: object) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _write_synced(path: Path, content: bytes) -> None:
    """Write `content` to `path` and flush it to the disk, so ENOSPC shows up here and
    not after the switch."""
    with open(path, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def sentence_tokens(chunks: list[Chunk]) -> dict[str, list[str]]:
    """Tokens of the article sentences the answer composer scores for quoting, computed
    once at build time so a new process does not tokenize them again for its first answer."""
    found = {s for chunk in chunks if chunk.source == "article" for s in sentences(chunk.text, min_chars=6, max_chars=240)}
    return {sentence: tokenize(sentence, full_dictionary=True) for sentence in sorted(found)}


# ------------------------------------------------------------------ Chroma server mode

GENERATION = re.compile(r"-g[0-9a-f]{8}$")


def _build_on_server(
    settings: Settings,
    embedder: Embedder,
    chunks: list[Chunk],
    tokens: list[list[str]],
    manifest: dict[str, object],
    progress: Progress | None,
    batch_size: int,
) -> None:
    """Fill a new generation collection, then point the manifest at it; apps keep reading
    the previous generation until they see the new manifest."""
    client = open_client(settings)
    name = f"{settings.collection}-g{uuid.uuid4().hex[:8]}"
    collection = client.create_collection(
        name=name,
        embedding_function=ChromaEmbeddingFunction(embedder),
        metadata={"hnsw:space": "cosine", "pointer": settings.collection, "embedder": embedder.name,
                  "dimension": embedder.dimension, "schema": INDEX_SCHEMA},
    )
    try:
        for start in range(0, len(chunks), batch_size):
            batch = chunks[start : start + batch_size]
            collection.add(
                ids=[c.id for c in batch],
                documents=[c.search_text() for c in batch],
                embeddings=embedder.embed([c.search_text() for c in batch]),  # type: ignore[arg-type]
                metadatas=[
                    {
                        "order": start + n,
                        "source": c.source,
                        "title": c.title,
                        "family": c.family,
                        "model_id": c.model_id,
                        "text": c.text,
                        "extra": json.dumps(c.extra, ensure_ascii=False),
                        "tokens": json.dumps(tokens[start + n], ensure_ascii=False),
                    }
                    for n, c in enumerate(batch)
                ],
            )
            if progress:
                progress(min(start + batch_size, len(chunks)), len(chunks))
        if collection.count() != len(chunks):
            raise IndexError_(f"the Chroma server holds {collection.count()} of {len(chunks)} chunks after the build")
    except BaseException:
        with contextlib.suppress(Exception):
            client.delete_collection(name=name)
        raise
    manifest.update(complete=True, finished_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"), data=name)
    try:
        pointer = client.get_collection(name=settings.collection)
        if pointer.count() > 0:  # the layout before generations kept the records here
            client.delete_collection(name=settings.collection)
            pointer = None
    except Exception:
        pointer = None
    previous = str((pointer.metadata or {}).get("data") or "") if pointer is not None else ""
    if pointer is None:
        client.create_collection(name=settings.collection, metadata=dict(manifest))  # type: ignore[arg-type]
    else:
        pointer.modify(metadata=dict(manifest))  # type: ignore[arg-type]
    # Remove older generations; keep the one just replaced, which an app may still be reading.
    for other in client.list_collections():
        other_name = getattr(other, "name", str(other))
        if (other_name.startswith(settings.collection) and GENERATION.fullmatch(other_name[len(settings.collection):])
                and other_name not in (name, previous)):
            with contextlib.suppress(Exception):
                client.delete_collection(name=other_name)
