"""Chunk the knowledge base and keep a persistent chromadb index of it.

The index lives under `settings.data_dir`:

- `index/`           chromadb PersistentClient files
- `chunks.json`      the same chunks as plain JSON (BM25 and citations read these)
- `bm25.json`        each chunk's BM25 tokens, so a new process does not re-tokenise the corpus
- `embeddings.npy`   the chunk embeddings (float32, chunk order), read into memory for the
                     dense channel, so answering a question never has to open chromadb
- `manifest.json`    content hash, embedder, dimension, schema, a `complete` flag, and each
                     search file's size and SHA-256
- `index.lock`       single-writer lock

A build writes everything into a staging folder (`.build-*`) next to the index and switches
only when the new index is complete: the search files and `index/` are moved into place, then
the manifest is replaced. Until then the old index stays whole on disk, so a running app keeps
answering from it, a full disk leaves it in place (`DiskFull`), and a build killed half-way
leaves either the old index or files that no longer match the manifest's checksums, which the
next start detects and rebuilds. A first build (no index yet) writes `complete: false` first.
Readers load the search files into memory and check them against the manifest: a file
changed in place on disk is never memory-mapped, so it cannot crash a running process.
Nothing is ever written into `knowledge/`.

With `settings.chroma_url` the index lives in a Chroma server instead: the manifest is the
metadata of the collection named `settings.collection`, which points (`data`) at a generation
collection `<collection>-g<id>` holding each chunk's text and BM25 tokens as record metadata.
A build fills a new generation and then switches the pointer, so apps reading the old one keep
answering; older generations are removed after the switch. The writer lock is a lock
collection that only one process can create (see `server_writer_lock`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .config import Settings
from .embeddings import ChromaEmbeddingFunction, Embedder
from .knowledge import Catalog, Model, catalog_files, load_article, load_catalog, parse_markdown
from .lexical import jieba_subset, tokenize
from .text import sentences

# Bump when chunking or metadata change shape: an index from an older schema is rebuilt.
# 6: the manifest carries each search file's size and SHA-256; a Chroma server index keeps its
# records in a generation collection the manifest names (`data`).
INDEX_SCHEMA = 6
USER_DOC_SUFFIXES = (".md", ".txt")
RESERVED_FILES = {"article.md", "catalog.yaml", "README.md"}


class IndexError_(RuntimeError):
    """The index could not be built or opened."""


class IndexLocked(IndexError_):
    """Another process is writing the index."""


class ChromaUnavailable(IndexError_):
    """The Chroma server (`settings.chroma_url`) cannot be reached right now."""


class IndexFileError(IndexError_):
    """An index file is missing, damaged, or does not match the manifest's checksum."""


class DiskFull(IndexError_):
    """The disk filled up while a new index was written; the previous index was kept."""


@dataclass(frozen=True)
class Chunk:
    id: str
    source: str  # article | catalog | user
    title: str
    text: str
    family: str = ""
    model_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def search_text(self) -> str:
        """What BM25 and the embedder see: the title carries the family name into every chunk."""
        return f"{self.title}\n{self.text}"


# ------------------------------------------------------------------ chunking


def _paragraphs(text: str) -> list[str]:
    blocks = re.split(r"\n\s*\n", text.strip())
    return [b.strip() for b in blocks if b.strip()]


def chunk_text(text: str, target_chars: int) -> list[str]:
    """Greedy paragraph packing: whole paragraphs up to about `target_chars`.

    A paragraph longer than twice the target is split on sentence ends.
    """
    pieces: list[str] = []
    for para in _paragraphs(text):
        if len(para) <= 2 * target_chars:
            pieces.append(para)
            continue
        sentences = re.split(r"(?<=[。！？!?\n])", para)
        buf = ""
        for sentence in sentences:
            if buf and len(buf) + len(sentence) > target_chars:
                pieces.append(buf.strip())
                buf = ""
            buf += sentence
        if buf.strip():
            pieces.append(buf.strip())
    chunks: list[str] = []
    buf = ""
    for piece in pieces:
        if buf and len(buf) + len(piece) > target_chars:
            chunks.append(buf)
            buf = piece
        else:
            buf = f"{buf}\n\n{piece}" if buf else piece
    if buf:
        chunks.append(buf)
    return chunks


def _slug(text: str) -> str:
    slug = re.sub(r"[^0-9a-zA-Z]+", "-", text).strip("-").lower()
    return slug or hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


def article_chunks(path: Path, catalog: Catalog, target_chars: int) -> list[Chunk]:
    article = load_article(path)
    family_of_section = {f.article_section: f.id for f in catalog.families}
    chunks: list[Chunk] = []
    for section in article.sections:
        family = family_of_section.get(section.title, "")
        slug = family or _slug(section.title)
        for n, text in enumerate(chunk_text(section.text, target_chars)):
            chunks.append(
                Chunk(
                    id=f"article:{slug}:{n:02d}",
                    source="article",
                    title=f"原文・{section.title}" if section.title else "原文",
                    text=text,
                    family=family,
                )
            )
    return chunks


_COMMERCIAL_ZH = {"yes": "可商用", "conditional": "有條件商用", "no": "不可商用"}
_VERDICT_ZH = {"recommended": "推薦", "neutral": "中立", "not-recommended": "不推薦"}
_ARCH_ZH = {"dense": "稠密 (dense)", "moe": "混合專家 (MoE)", "hybrid": "混合架構", "ssm": "狀態空間模型 (SSM)"}


def format_params(billions: float) -> str:
    """14.7 -> '14.7B', 0.135 -> '135M', 1000 -> '1T'."""
    if billions >= 1000:
        value = billions / 1000
        return f"{value:g}T"
    if billions < 1:
        return f"{billions * 1000:g}M"
    return f"{billions:g}B"


def format_context(tokens: int | None) -> str:
    if not tokens:
        return "未載明"
    if tokens >= 1_000_000:
        millions = tokens / 1_048_576 if tokens % 1_048_576 == 0 else tokens / 1_000_000
        return f"{round(millions, 1):g}M"
    return f"{round(tokens / 1024)}k" if tokens % 1000 else f"{tokens // 1000}k"


def _context_zh(model: Model) -> str:
    if not model.context_native:
        return "上下文長度：未載明。"
    text = f"上下文長度：原生 {format_context(model.context_native)} token"
    if model.context_extended:
        text += f"，以 {model.context_extended_method} 可延伸到 {format_context(model.context_extended)} token"
    return text + "。"


def _context_en(model: Model) -> str:
    if not model.context_native:
        return "context not stated"
    text = f"context native {format_context(model.context_native)}"
    if model.context_extended:
        text += f", {format_context(model.context_extended)} with {model.context_extended_method}"
    return text


def _variant_line_zh(model: Model, name: str) -> str:
    """One variant's own facts, where they differ from the model's."""
    own = model.with_variant(name)
    parts = [format_params(own.params_total_b)]
    if (own.context_native, own.context_extended) != (model.context_native, model.context_extended):
        parts.append(_context_zh(own).removeprefix("上下文長度：").rstrip("。"))
    if own.licence != model.licence:
        parts.append(f"{own.licence.name}，{_COMMERCIAL_ZH[own.commercial_use]}")
    if own.modalities != model.modalities:
        parts.append("、".join(own.modalities))
    if own.released and own.released != model.released:
        parts.append(f"{own.released} 推出")
    return f"{name}（{'；'.join(parts)}）"


def model_document(model: Model, catalog: Catalog) -> str:
    """A zh-TW fact sheet for one catalog entry, with its English key fields appended.

    Context is stated as the native window plus the extended one with its method, and
    each variant whose facts differ (context, licence, modalities, release) says so.
    """
    family = catalog.family_by_id[model.family]
    size = format_params(model.params_total_b)
    active = f"，每次啟動 {format_params(model.params_active_b)}" if model.params_active_b else ""
    experts = f"，{model.experts} 個專家" if model.experts else ""
    variants = "、".join(_variant_line_zh(model, v.name) for v in model.variants)
    lines = [
        f"{model.name}（{family.name} 家族，{model.vendor}，{family.vendor_zh}）",
        model.summary_zh,
        f"參數量：{size}{active}{experts}；架構：{_ARCH_ZH[model.architecture]}。"
        + (f"可下載尺寸：{variants}。" if variants else ""),
        _context_zh(model),
        f"授權：{model.licence.name}（{model.licence.id}），{_COMMERCIAL_ZH[model.commercial_use]}"
        + (f"：{model.commercial_conditions.rstrip('。')}" if model.commercial_conditions else "")
        + "。",
        f"模態：{'、'.join(model.modalities)}；中文：{model.languages.chinese_note}",
        f"原文評價：{_VERDICT_ZH[model.verdict]}——{model.verdict_reason}",
    ]
    if model.weaknesses:
        lines.append(f"缺點：{'；'.join(model.weaknesses)}")
    if model.aliases:
        lines.append(f"別名：{'、'.join(model.aliases)}")
    for claim in model.article_claims:
        lines.append(f"原文寫 {claim.article_says}（{claim.field}）：{claim.note}")
    lines.append(
        f"EN: {model.name} by {model.vendor} ({model.country}); {model.summary_en} "
        f"Parameters {size} total"
        + (f", {format_params(model.params_active_b)} active" if model.params_active_b else "")
        + f"; {_context_en(model)}; licence {model.licence.name} "
        f"({model.licence.id}); commercial use: {model.commercial_use}; "
        f"strengths: {', '.join(model.strengths) or 'general'}."
    )
    return "\n".join(lines)


def catalog_chunks(catalog: Catalog) -> list[Chunk]:
    chunks = [
        Chunk(
            id=f"catalog:{model.id}",
            source="catalog",
            title=f"型錄・{model.name}",
            text=model_document(model, catalog),
            family=model.family,
            model_id=model.id,
        )
        for model in catalog.models
    ]
    for family in catalog.families:
        members = "、".join(m.name for m in catalog.models_of(family.id))
        chunks.append(
            Chunk(
                id=f"catalog:family:{family.id}",
                source="catalog",
                title=f"型錄・{family.name} 家族",
                text=(
                    f"{family.name}（{family.vendor_zh}，{family.vendor}）：{family.summary_zh}\n"
                    f"成員：{members}\nEN: {family.summary_en}"
                ),
                family=family.id,
            )
        )
    for closed in catalog.closed_models:
        chunks.append(
            Chunk(
                id=f"catalog:closed:{_slug(closed.name)}",
                source="catalog",
                title=f"型錄・閉源模型 {closed.name}",
                text=(
                    f"{closed.name}（{closed.vendor}）：閉源模型，權重無法下載，不在開源模型範圍。{closed.note_zh}\n"
                    f"別名：{'、'.join(closed.aliases)}\nEN: {closed.note_en}"
                ),
                model_id=closed_model_key(closed.name),
            )
        )
    return chunks


def closed_model_key(name: str) -> str:
    """The chunk `model_id` of a closed model, so alias linking can boost it."""
    return f"closed:{_slug(name)}"


def user_documents(knowledge_dir: Path) -> list[Path]:
    """Extra documents a user dropped into knowledge/ (any .md/.txt, recursively)."""
    found = []
    for path in sorted(knowledge_dir.rglob("*")):
        if path.is_file() and path.suffix.lower() in USER_DOC_SUFFIXES and path.name not in RESERVED_FILES:
            found.append(path)
    return found


def user_chunks(knowledge_dir: Path, target_chars: int) -> list[Chunk]:
    chunks: list[Chunk] = []
    for path in user_documents(knowledge_dir):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        rel = path.relative_to(knowledge_dir).as_posix()
        doc = parse_markdown(text) if path.suffix.lower() == ".md" else None
        sections = [(s.title, s.text) for s in doc.sections] if doc else [("", text)]
        n = 0
        for title, body in sections:
            for piece in chunk_text(body, target_chars):
                chunks.append(
                    Chunk(
                        id=f"user:{rel}:{n:03d}",
                        source="user",
                        title=f"{rel}・{title}" if title else rel,
                        text=piece,
                    )
                )
                n += 1
    return chunks


def build_chunks(settings: Settings, catalog: Catalog) -> list[Chunk]:
    return (
        article_chunks(settings.article_path, catalog, settings.chunk_chars)
        + catalog_chunks(catalog)
        + user_chunks(settings.knowledge_dir, settings.chunk_chars)
    )


# ------------------------------------------------------------------ hashing / manifest


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


def _write_json_atomic(path: Path, data: object) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


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

    from .embeddings import read_npy_bytes  # noqa: PLC0415

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


# ------------------------------------------------------------------ lock


@contextlib.contextmanager
def writer_lock(settings: Settings) -> Iterator[None]:
    """Exclusive, non-blocking: a second writer fails at once instead of corrupting chroma."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    handle = open(settings.lock_path, "a+")  # noqa: SIM115 (held for the block)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IndexLocked(
                f"another process is writing the index in {settings.data_dir}; try again when it finishes"
            ) from exc
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def writer_busy(settings: Settings) -> bool:
    """Whether a writer holds the embedded index's lock right now (never blocks, never creates
    the data folder). Always False on a Chroma server."""
    if settings.chroma_url:
        return False
    try:
        handle = open(settings.lock_path, "rb")  # noqa: SIM115
    except OSError:
        return False
    try:
        fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        handle.close()  # closing releases a lock we took
    return False


@contextlib.contextmanager
def acquire_writer(settings: Settings, wait_s: float = 0.0) -> Iterator[None]:
    """The writer lock for the index (`writer_lock`, or `server_writer_lock` on a Chroma
    server), waiting up to `wait_s` seconds for another writer to finish.

    Raises:
        IndexLocked: still held by another writer after `wait_s`.
    """
    deadline = time.monotonic() + max(0.0, wait_s)
    while True:
        stack = contextlib.ExitStack()
        try:
            stack.enter_context(server_writer_lock(settings) if settings.chroma_url else writer_lock(settings))
        except IndexLocked:
            left = deadline - time.monotonic()
            if left <= 0:
                raise
            time.sleep(min(0.5, left))
            continue
        with stack:
            yield
        return


# ------------------------------------------------------------------ chroma


def _chroma_settings(**extra: object):  # -> chromadb.config.Settings
    from chromadb.config import Settings as ChromaSettings  # noqa: PLC0415

    return ChromaSettings(anonymized_telemetry=False, **extra)  # type: ignore[arg-type]


def open_client(settings: Settings, path: Path | None = None):  # -> chromadb.ClientAPI
    """A PersistentClient on `path` (default `settings.index_dir`), or an HttpClient for
    `settings.chroma_url`, with telemetry off. Lazy import: `import assistant` stays light.

    Raises:
        IndexError_: a malformed `ASSISTANT_CHROMA_URL`.
        ChromaUnavailable: the Chroma server cannot be reached.
    """
    import chromadb  # noqa: PLC0415

    if settings.chroma_url:
        from urllib.parse import urlsplit  # noqa: PLC0415

        url = urlsplit(settings.chroma_url if "://" in settings.chroma_url else f"http://{settings.chroma_url}")
        if url.scheme not in ("http", "https") or not url.hostname:
            raise IndexError_(f"ASSISTANT_CHROMA_URL must look like http://host:port, not {settings.chroma_url!r}")
        cached = _http_clients.get(settings.chroma_url)
        if cached is not None:
            return cached
        try:
            client = chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=_chroma_settings(),
            )
        except Exception as exc:
            raise ChromaUnavailable(f"cannot reach the Chroma server at {settings.chroma_url}: {exc}") from None
        _bound_http_timeouts(client)
        _http_clients[settings.chroma_url] = client
        return client
    folder = path or settings.index_dir
    folder.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(folder), settings=_chroma_settings(allow_reset=True))


_http_clients: dict[str, object] = {}  # one HttpClient per Chroma server URL


def reset_client_cache() -> None:
    """Forget cached chromadb systems, e.g. after the data directory was deleted underneath us
    (reusing them gives 'attempt to write a readonly database')."""
    _http_clients.clear()
    if "chromadb" not in sys.modules:
        return
    from chromadb.api.client import SharedSystemClient  # noqa: PLC0415

    SharedSystemClient.clear_system_cache()


CHROMA_TIMEOUT_S = 30.0  # one request to a Chroma server; chromadb's own client waits forever


def _bound_http_timeouts(client: object) -> None:
    """A hung Chroma server must not hang a question: bound chromadb's HTTP session."""
    try:
        import httpx  # noqa: PLC0415

        session = getattr(getattr(client, "_server", None), "_session", None)
        if session is not None:
            session.timeout = httpx.Timeout(CHROMA_TIMEOUT_S, connect=5.0)
    except Exception:  # a chromadb without this internal: its own behaviour
        pass


def get_collection(client, settings: Settings, embedder: Embedder, name: str | None = None):
    """The index's collection: on a Chroma server the generation the manifest points at."""
    if name is None and settings.chroma_url:
        manifest = server_manifest(settings) or {}
        name = str(manifest.get("data") or settings.collection)
    return client.get_collection(name=name or settings.collection, embedding_function=ChromaEmbeddingFunction(embedder))


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

LOCK_STALE_S = 600.0  # a writer lock older than this belongs to a writer that died


def _lock_name(settings: Settings) -> str:
    return f"{settings.collection}-writer-lock"


@contextlib.contextmanager
def server_writer_lock(settings: Settings) -> Iterator[None]:
    """Single writer across processes and machines on one Chroma server.

    Creating a collection is atomic on the server (its name is unique), so the lock is a
    collection named `<collection>-writer-lock` that only one writer can create; it records
    who holds it and since when. A lock older than `LOCK_STALE_S` is from a writer that
    died and is taken over.
    """
    client = open_client(settings)
    name = _lock_name(settings)
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    for attempt in range(2):
        try:
            client.create_collection(name=name, metadata={"owner": owner, "since": time.time()})
            break
        except Exception as exc:  # the collection exists: someone else holds the lock
            try:
                held = client.get_collection(name=name).metadata or {}
            except Exception:
                held = {}
            since = float(held.get("since", 0.0) or 0.0)  # type: ignore[arg-type]
            if attempt == 0 and held and time.time() - since > LOCK_STALE_S:
                with contextlib.suppress(Exception):
                    client.delete_collection(name=name)
                continue
            raise IndexLocked(
                f"another process ({held.get('owner', 'unknown')}) is writing the index on the Chroma server "
                f"{settings.chroma_url}; try again when it finishes"
            ) from exc
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            if (client.get_collection(name=name).metadata or {}).get("owner") == owner:
                client.delete_collection(name=name)


def _server_call(settings: Settings, what: str, call: Callable[[], object]) -> object:
    """Run one request to the Chroma server; a connection failure becomes ChromaUnavailable."""
    try:
        return call()
    except (IndexError_, KeyError):
        raise
    except Exception as exc:
        if type(exc).__name__ == "NotFoundError" or "does not exist" in str(exc):
            raise KeyError(what) from None
        raise ChromaUnavailable(f"the Chroma server at {settings.chroma_url} did not answer ({what}): {exc}") from None


def server_manifest(settings: Settings) -> dict[str, object] | None:
    """The manifest kept in the pointer collection's metadata; None when there is none.

    Raises:
        ChromaUnavailable: the server cannot be reached.
    """
    client = open_client(settings)
    try:
        collection = _server_call(settings, "manifest", lambda: client.get_collection(name=settings.collection))
    except KeyError:
        return None
    metadata = dict(collection.metadata or {})  # type: ignore[attr-defined]
    return metadata if "hash" in metadata else None


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


def load_server_data(settings: Settings, embedder: Embedder, manifest: dict[str, object] | None = None):
    """(chunks, BM25 tokens per chunk, the collection) from a Chroma server index: the
    generation the manifest names.

    Raises:
        ChromaUnavailable: the server cannot be reached.
        IndexFileError: the generation is missing or its records are incomplete.
    """
    manifest = manifest if manifest is not None else server_manifest(settings)
    name = str((manifest or {}).get("data") or "")
    if not name:
        raise IndexFileError(f"the manifest on the Chroma server {settings.chroma_url} names no data collection")
    client = open_client(settings)
    try:
        collection = _server_call(settings, "collection", lambda: get_collection(client, settings, embedder, name))
        records = _server_call(settings, "records", lambda: collection.get(include=["metadatas"]))  # type: ignore[attr-defined]
    except KeyError:
        raise IndexFileError(f"the collection {name} is gone from the Chroma server (replaced by a newer build?)") from None
    rows = sorted(zip(records["ids"], records["metadatas"] or [], strict=True), key=lambda r: int(r[1]["order"]))  # type: ignore[index]
    if len(rows) != int((manifest or {}).get("chunks", -1) or -1):  # type: ignore[call-overload]
        raise IndexFileError(f"the collection {name} holds {len(rows)} chunks, the manifest {(manifest or {}).get('chunks')}")
    chunks = [
        Chunk(
            id=chunk_id,
            source=str(meta["source"]),
            title=str(meta["title"]),
            text=str(meta["text"]),
            family=str(meta.get("family", "")),
            model_id=str(meta.get("model_id", "")),
            extra=json.loads(str(meta.get("extra") or "{}")),
        )
        for chunk_id, meta in rows
    ]
    tokens = [json.loads(str(meta["tokens"])) for _id, meta in rows]
    return chunks, tokens, collection


def load_chunks(settings: Settings) -> list[Chunk]:
    data = json.loads((settings.data_dir / "chunks.json").read_text(encoding="utf-8"))
    return [Chunk(**item) for item in data]
