"""The manifest and the search files of the index: what the manifest records (content hash,
schema, embedder, each search file's size and SHA-256), and reading the search files into
memory, checked against it (`read_search_snapshot`)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..knowledge import catalog_files
from .chroma import server_manifest
from .chunks import Chunk, user_documents
from .errors import IndexFileError

# Bump when chunking or metadata change shape: an index from an older schema is rebuilt.
# 6: the manifest carries each search file's size and SHA-256; a Chroma server index keeps its
# records in a generation collection the manifest names (`data`).
INDEX_SCHEMA = 6


def content_hash(settings: Settings, embedder_name: str) -> str:
    digest = hashlib.sha256()
    digest.update(f"schema={INDEX_SCHEMA};embedder={embedder_name};chunk={settings.chunk_chars}".encode())
    files = [settings.article_path, *catalog_files(settings.catalog_path), *user_documents(settings.knowledge_dir)]
    for path in files:
        digest.update(path.relative_to(settings.knowledge_dir).as_posix().encode())
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"<missing>")
    return digest.hexdigest()


def chromadb_version() -> str:
    from importlib.metadata import version  # noqa: PLC0415

    try:
        return version("chromadb")
    except Exception:
        return "unknown"


def read_manifest(settings: Settings) -> dict[str, object] | None:
    """The index's manifest: `manifest.json`, or the pointer collection's metadata on a Chroma
    server (None when there is none).

    Raises:
        ChromaUnavailable: the Chroma server cannot be reached (not the same as "no index").
    """
    if settings.chroma_url:
        return server_manifest(settings)
    try:
        data = json.loads(settings.manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def store_problem(settings: Settings, chunks: int) -> str | None:
    """Why the embedded store's `chroma.sqlite3` is unusable (not SQLite, damaged, wrong
    record count), or None. Cheap: the standard sqlite3 module, no chromadb import."""
    import sqlite3  # noqa: PLC0415

    path = settings.index_dir / "chroma.sqlite3"
    try:
        with open(path, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                return f"{path} is not a SQLite database"
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check = connection.execute("PRAGMA quick_check").fetchone()
            if not check or check[0] != "ok":
                return f"{path} is damaged ({check[0] if check else 'no answer'})"
            count = connection.execute("SELECT count(*) FROM embeddings").fetchone()[0]
        finally:
            connection.close()
    except (OSError, sqlite3.Error) as exc:
        return f"{path} cannot be read ({exc})"
    if count != chunks:
        return f"{path} holds {count} records, the manifest {chunks}"
    return None


SEARCH_FILES = ("chunks.json", "bm25.json", "embeddings.npy", "jieba.marshal")


def file_record(data: bytes) -> dict[str, object]:
    """What the manifest keeps of one search file: its size and SHA-256."""
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _check_file(name: str, data: bytes, manifest: dict[str, object] | None) -> None:
    """Raise IndexFileError when `data` is not the file the manifest describes."""
    files = manifest.get("files") if manifest else None
    expected = files.get(name) if isinstance(files, dict) else None
    if not isinstance(expected, dict):
        return  # an index from before checksums: the shape checks still apply
    if len(data) != expected.get("size"):
        raise IndexFileError(f"{name} is {len(data)} bytes, the manifest says {expected.get('size')}: it was cut short or changed")
    if hashlib.sha256(data).hexdigest() != expected.get("sha256"):
        raise IndexFileError(f"{name} does not match its checksum in the manifest: it was changed or damaged")


def search_files_problem(settings: Settings, manifest: dict[str, object]) -> str | None:
    """Why the search files do not match the manifest (size, checksum), or None."""
    for name in SEARCH_FILES:
        try:
            _check_file(name, (settings.data_dir / name).read_bytes(), manifest)
        except OSError as exc:
            return f"{name} cannot be read ({exc.strerror or exc})"
        except IndexFileError as exc:
            return str(exc)
    return None


FileStat = tuple[int, int, int]  # (inode, size, mtime_ns)


def file_stat(path: Path) -> FileStat | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


@dataclass
class SearchSnapshot:
    """Everything the embedded index gives a retriever, read into memory and checked."""

    chunks: list[Chunk]
    tokens: list[list[str]]
    matrix: object  # numpy float32 (chunks x dimension), in memory
    sentences: dict[str, list[str]]
    dictionary: dict[str, object] | None
    manifest: dict[str, object] | None
    stats: dict[str, FileStat]  # what each file looked like when it was read


def read_search_snapshot(settings: Settings, manifest: dict[str, object] | None = None) -> SearchSnapshot:
    """Read the embedded index's search files into memory and check them: each file against
    the manifest's size and SHA-256, the embedding matrix's shape and values, and the chunk
    counts against each other. Nothing stays memory-mapped, so a file changed in place later
    cannot crash the process.

    Raises:
        IndexFileError: a file is missing, damaged or does not match the manifest.
    """
    import marshal  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415

    from ..embeddings import read_npy_bytes  # noqa: PLC0415

    manifest = manifest if manifest is not None else read_manifest(settings)
    raw: dict[str, bytes] = {}
    stats: dict[str, FileStat] = {}
    for name in SEARCH_FILES:
        path = settings.data_dir / name
        try:
            with open(path, "rb") as handle:
                stat = os.fstat(handle.fileno())
                data = handle.read()
        except OSError as exc:
            raise IndexFileError(f"{name} cannot be read ({exc.strerror or exc})") from None
        _check_file(name, data, manifest)
        raw[name] = data
        stats[name] = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    try:
        chunks = [Chunk(**item) for item in json.loads(raw["chunks.json"])]
        saved = json.loads(raw["bm25.json"])
        tokens = saved["tokens"]
        matrix = read_npy_bytes(raw["embeddings.npy"])
        dictionary = marshal.loads(raw["jieba.marshal"])
    except (ValueError, TypeError, KeyError, EOFError, RecursionError) as exc:
        raise IndexFileError(f"an index file cannot be parsed ({type(exc).__name__}: {str(exc)[:200]})") from None
    if not isinstance(dictionary, dict) or "freq" not in dictionary:
        dictionary = None
    dimension = manifest.get("dimension") if manifest else None
    if matrix.ndim != 2 or matrix.shape[0] != len(chunks) or len(tokens) != len(chunks):
        raise IndexFileError(
            f"index files disagree: {len(chunks)} chunks, {len(tokens)} token lists, embeddings {tuple(matrix.shape)}"
        )
    if isinstance(dimension, int) and matrix.shape[1] != dimension:
        raise IndexFileError(f"embeddings.npy has dimension {matrix.shape[1]}, the manifest {dimension}")
    if matrix.dtype != np.float32 or not bool(np.isfinite(matrix).all()):
        raise IndexFileError("embeddings.npy holds values that are not finite float32 numbers")
    return SearchSnapshot(chunks, tokens, matrix, dict(saved.get("sentences") or {}), dictionary, manifest, stats)


def load_search_data(settings: Settings) -> tuple[list[Chunk], list[list[str]], object, dict[str, list[str]]]:
    """(chunks, BM25 tokens per chunk, embedding matrix in memory, pre-tokenized sentences)
    from the embedded index, checked against the manifest (see `read_search_snapshot`)."""
    snapshot = read_search_snapshot(settings)
    return snapshot.chunks, snapshot.tokens, snapshot.matrix, snapshot.sentences


def load_index_dictionary(settings: Settings) -> dict[str, object] | None:
    """The jieba dictionary subset saved with the embedded index (None when absent)."""
    import marshal  # noqa: PLC0415

    try:
        data = marshal.loads((settings.data_dir / "jieba.marshal").read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return data if isinstance(data, dict) and "freq" in data else None


def load_chunks(settings: Settings) -> list[Chunk]:
    data = json.loads((settings.data_dir / "chunks.json").read_text(encoding="utf-8"))
    return [Chunk(**item) for item in data]
