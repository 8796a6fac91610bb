"""Chunk the knowledge base and keep a persistent chromadb index of it.

The index lives under `settings.data_dir`:

- `index/`           chromadb PersistentClient files
- `chunks.json`      the same chunks as plain JSON (BM25 and citations read these)
- `bm25.json`        each chunk's BM25 tokens, so a new process does not re-tokenise the corpus
- `embeddings.npy`   the chunk embeddings (float32, chunk order), read by memory map for the
                     dense channel, so answering a question never has to open chromadb
- `manifest.json`    content hash, embedder, dimension, schema and a `complete` flag
- `index.lock`       single-writer lock

A build writes the manifest with `complete: false` first and flips it last, so a
build killed half-way is detected as broken and rebuilt on the next start.
Nothing is ever written into `knowledge/`.

With `settings.chroma_url` the index lives in a Chroma server instead: the manifest is the
collection's metadata, each chunk's text and BM25 tokens are its record's metadata, and the
writer lock is a lock collection that only one process can create (see `server_writer_lock`).
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
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .config import Settings
from .embeddings import ChromaEmbeddingFunction, Embedder
from .knowledge import Catalog, Model, catalog_files, load_article, load_catalog, parse_markdown
from .text import sentences

# Bump when chunking or metadata change shape: an index from an older schema is rebuilt.
INDEX_SCHEMA = 5
USER_DOC_SUFFIXES = (".md", ".txt")
RESERVED_FILES = {"article.md", "catalog.yaml", "README.md"}


class IndexError_(RuntimeError):
    """The index could not be built or opened."""


class IndexLocked(IndexError_):
    """Another process is writing the index."""


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
    """The index's manifest: `manifest.json`, or the collection's metadata on a Chroma server."""
    if settings.chroma_url:
        return server_manifest(settings)
    try:
        data = json.loads(settings.manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
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
    """Why the index must be rebuilt, or None when it is current."""
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
        problem = store_problem(settings, int(manifest.get("chunks", -1) or 0))  # type: ignore[call-overload]
        if problem:
            return f"index store unreadable: {problem}"
    if manifest.get("hash") != content_hash(settings, embedder.name):
        return "knowledge/ or settings changed"
    return None


SEARCH_FILES = ("chunks.json", "bm25.json", "embeddings.npy", "jieba.marshal")


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


# ------------------------------------------------------------------ chroma


def open_client(settings: Settings):  # -> chromadb.ClientAPI
    """A PersistentClient (or an HttpClient for `settings.chroma_url`) with telemetry off.
    Lazy import: `import assistant` stays light."""
    import chromadb  # noqa: PLC0415
    from chromadb.config import Settings as ChromaSettings  # noqa: PLC0415

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
                settings=ChromaSettings(anonymized_telemetry=False),
            )
        except Exception as exc:
            raise IndexError_(f"cannot reach the Chroma server at {settings.chroma_url}: {exc}") from exc
        _http_clients[settings.chroma_url] = client
        return client
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(
        path=str(settings.index_dir),
        settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True),
    )


_http_clients: dict[str, object] = {}  # one HttpClient per Chroma server URL


def reset_client_cache() -> None:
    """Forget cached chromadb systems, e.g. after the data directory was deleted underneath us
    (reusing them gives 'attempt to write a readonly database')."""
    _http_clients.clear()
    if "chromadb" not in sys.modules:
        return
    from chromadb.api.client import SharedSystemClient  # noqa: PLC0415

    SharedSystemClient.clear_system_cache()


def get_collection(client, settings: Settings, embedder: Embedder):
    return client.get_collection(
        name=settings.collection, embedding_function=ChromaEmbeddingFunction(embedder)
    )


Progress = Callable[[int, int], None]


@dataclass
class BuildReport:
    rebuilt: bool
    reason: str
    chunks: int
    seconds: float


def build_index(
    settings: Settings,
    embedder: Embedder,
    *,
    force: bool = False,
    progress: Progress | None = None,
    batch_size: int = 32,
) -> BuildReport:
    """Rebuild the index when stale (or forced); a no-op when current.

    Raises:
        IndexLocked: another process (on this machine, or anywhere for a Chroma server) is writing it.
    """
    started = time.perf_counter()
    reason = "forced" if force else staleness(settings, embedder)
    if reason is None:
        manifest = read_manifest(settings) or {}
        return BuildReport(False, "index is up to date", int(manifest.get("chunks", 0) or 0), time.perf_counter() - started)  # type: ignore[call-overload]
    lock = server_writer_lock(settings) if settings.chroma_url else writer_lock(settings)
    with lock:
        # Re-check under the lock: another writer may have just finished the same build.
        if not force and staleness(settings, embedder) is None:
            manifest = read_manifest(settings) or {}
            return BuildReport(False, "index is up to date", int(manifest.get("chunks", 0) or 0), time.perf_counter() - started)  # type: ignore[call-overload]
        from .retrieval import jieba_subset, tokenize  # noqa: PLC0415 (retrieval imports this module)

        catalog = load_catalog(settings.catalog_path)
        chunks = build_chunks(settings, catalog)
        digest = content_hash(settings, embedder.name)
        manifest = {
            "schema": INDEX_SCHEMA,
            "hash": digest,
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
            return BuildReport(True, reason, len(chunks), time.perf_counter() - started)
        import numpy as np  # noqa: PLC0415

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        _write_json_atomic(settings.manifest_path, manifest)
        reset_client_cache()
        if settings.index_dir.exists():
            shutil.rmtree(settings.index_dir)
        client = open_client(settings)
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
        _write_json_atomic(settings.data_dir / "chunks.json", [asdict(c) for c in chunks])
        _write_json_atomic(
            settings.data_dir / "bm25.json", {"tokens": tokens, "sentences": sentence_tokens(chunks)}
        )
        import marshal  # noqa: PLC0415

        tmp = settings.data_dir / "jieba.marshal.tmp"
        tmp.write_bytes(marshal.dumps(jieba_subset([c.search_text() for c in chunks])))
        os.replace(tmp, settings.data_dir / "jieba.marshal")
        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(chunks), embedder.dimension)
        tmp = settings.data_dir / "embeddings.tmp.npy"
        np.save(tmp, matrix)
        os.replace(tmp, settings.data_dir / "embeddings.npy")
        manifest.update(complete=True, finished_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        _write_json_atomic(settings.manifest_path, manifest)
    return BuildReport(True, reason, len(chunks), time.perf_counter() - started)


def sentence_tokens(chunks: list[Chunk]) -> dict[str, list[str]]:
    """Tokens of the article sentences the answer composer scores for quoting, computed
    once at build time so a new process does not tokenize them again for its first answer."""
    from .retrieval import tokenize  # noqa: PLC0415

    found = {s for chunk in chunks if chunk.source == "article" for s in sentences(chunk.text, min_chars=6, max_chars=240)}
    return {sentence: tokenize(sentence, full_dictionary=True) for sentence in sorted(found)}


def load_search_data(settings: Settings) -> tuple[list[Chunk], list[list[str]], object, dict[str, list[str]]]:
    """(chunks, BM25 tokens per chunk, embedding matrix memory-mapped, pre-tokenized
    sentences) from the embedded index."""
    import numpy as np  # noqa: PLC0415

    chunks = load_chunks(settings)
    saved = json.loads((settings.data_dir / "bm25.json").read_text(encoding="utf-8"))
    tokens = saved["tokens"]
    matrix = np.load(settings.data_dir / "embeddings.npy", mmap_mode="r")
    if len(tokens) != len(chunks) or matrix.shape[0] != len(chunks):
        raise IndexError_("index files disagree on the number of chunks")
    return chunks, tokens, matrix, dict(saved.get("sentences") or {})


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


def server_manifest(settings: Settings) -> dict[str, object] | None:
    """The manifest kept in the server collection's metadata; None when there is none."""
    try:
        collection = open_client(settings).get_collection(name=settings.collection)
    except IndexError_:
        raise
    except Exception:
        return None
    metadata = dict(collection.metadata or {})
    return metadata if "hash" in metadata else None


def _build_on_server(
    settings: Settings,
    embedder: Embedder,
    chunks: list[Chunk],
    tokens: list[list[str]],
    manifest: dict[str, object],
    progress: Progress | None,
    batch_size: int,
) -> None:
    client = open_client(settings)
    with contextlib.suppress(Exception):
        client.delete_collection(name=settings.collection)
    collection = client.create_collection(
        name=settings.collection,
        embedding_function=ChromaEmbeddingFunction(embedder),
        metadata={"hnsw:space": "cosine", **manifest},  # type: ignore[dict-item]
    )
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
    manifest.update(complete=True, finished_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    collection.modify(metadata={k: v for k, v in manifest.items()})  # type: ignore[misc]


def load_server_data(settings: Settings, embedder: Embedder):  # -> (chunks, tokens, collection)
    """(chunks, BM25 tokens per chunk, the collection) from a Chroma server index."""
    collection = get_collection(open_client(settings), settings, embedder)
    records = collection.get(include=["metadatas"])  # type: ignore[list-item]
    rows = sorted(zip(records["ids"], records["metadatas"] or [], strict=True), key=lambda r: int(r[1]["order"]))  # type: ignore[arg-type]
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
