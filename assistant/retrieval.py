"""Hybrid retrieval: dense (chromadb) + Chinese-aware BM25, fused with reciprocal-rank
fusion, plus an entity boost for the models and families the query names.

Why these channels (measured on the article's chunks, hit@3 over 52 zh/en questions):
BM25 on jieba tokens 46, char bigrams 43, USE dense 38, MiniLM dense 32; fusing
jieba + bigram + USE gave 48. The catalog documents and alias linking close the rest
of the gap (see `python -m assistant eval`).

The keyword side (normalising, tokenising, BM25) is `lexical`, shared with the index build;
`tokenize` and `BM25` are importable from here too.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from .config import Settings
from .embeddings import Embedder
from .index import (
    Chunk,
    IndexFileError,
    IndexLocked,
    load_server_data,
    read_search_snapshot,
    reset_client_cache,
    writer_busy,
)
from .lexical import BM25, normalise_text, tokenize, use_index_dictionary

log = logging.getLogger(__name__)

RRF_K = 60
# Boosts are in RRF units (1/(60+1) ≈ 0.016 is a first place in one channel).
QUERY_CACHE_SIZE = 512
"""Query embeddings kept per process (a few KB each)."""
BOOST_MODEL = 0.05
BOOST_FAMILY = 0.025



@dataclass(frozen=True)
class Links:
    """What a query names, for the entity boost."""

    models: list[str]  # model ids (and closed-model keys) named
    families: list[str]  # family ids named, directly or through a model
    task_models: list[str]  # models whose strengths match the asked tasks
    avoid_families: list[str]  # families the user asked to avoid: demoted
    hardware: list[str] = field(default_factory=list)  # hardware names ("M2", "RTX 4090"): not words to match models by


Linker = Callable[[str], Links]
BOOST_TASK = 0.012


@dataclass(frozen=True)
class Passage:
    id: str
    source: str
    title: str
    text: str
    score: float
    family: str = ""
    model_id: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "source": self.source,
            "title": self.title,
            "text": self.text,
            "score": round(self.score, 5),
        }


class Retriever(Protocol):
    def search(self, query: str, k: int = 5) -> list[Passage]: ...


def _ranks(scores: list[float], limit: int) -> list[int]:
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    return [i for i in order[:limit] if scores[i] > 0]


# ------------------------------------------------------------------ hybrid


class HybridRetriever:
    """Dense + BM25 + entity boost over the persisted index.

    The index is opened lazily and reopened when it is rebuilt underneath us (the manifest
    changes) or disappears. In the embedded mode nothing here opens chromadb: BM25 reads the
    persisted tokens and the dense channel the persisted embedding matrix (exact cosine over
    every chunk), all read into memory and checked against the manifest. With
    `settings.chroma_url` the chunks and tokens come from the Chroma server and the dense
    channel is the server's query.

    What it keeps answering from:

    - a rebuild by another process: the loaded index, until the new one is complete;
    - a search file changed or cut short in place on disk: the copy in memory (the change is
      noticed within `FILE_CHECK_S`, logged, and the index rebuilt in the background);
    - a Chroma server that is down: keyword search over the loaded chunks (or, at a start
      without the server, over chunks built from knowledge/), with `degraded` set so the
      answer carries a notice; full search resumes when the server answers again.

    `embedder` may be an `Embedder` or a zero-argument callable returning one, so the
    model is loaded only when a question is first embedded.
    """

    SERVER_CHECK_S = 2.0  # on a Chroma server, look for a rebuilt index (or the server) at most this often
    FILE_CHECK_S = 2.0  # look for search files changed in place at most this often
    BUILD_WAIT_S = 300.0  # with nothing loaded yet, wait this long for another process's build

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | Callable[[], Embedder],
        linker: Linker | None = None,
        ensure_index: Callable[..., object] | None = None,
    ) -> None:
        self.settings = settings
        self._embedder_source = embedder
        self._embedder: Embedder | None = None if callable(embedder) and not hasattr(embedder, "embed") else embedder  # type: ignore[assignment]
        self.linker = linker
        self.ensure_index = ensure_index
        self._lock = threading.Lock()
        self._chunks: list[Chunk] = []
        self._bm25: BM25 | None = None
        self._collection = None
        self._matrix = None
        self._loaded_hash: object = None
        self._loaded_manifest: dict[str, object] | None = None
        self._checked_at = 0.0
        self._files_checked_at = 0.0
        self._manifest_stat: tuple[int, int, int] | None = None
        self._file_stats: dict[str, tuple[int, int, int]] = {}
        self._fallback = False  # chunks built from knowledge/ while the Chroma server is down
        self._rebuilding = False
        self._last_note = ""
        self.degraded: str | None = None  # why dense search is off right now (Chroma server down)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._embedder_source()  # type: ignore[operator]
        return self._embedder

    # -- loading
    def _install(self, chunks: list[Chunk], tokens: list[list[str]], matrix: object, collection: object,
                 manifest: dict[str, object] | None) -> None:
        self._chunks = chunks
        self._bm25 = BM25(tokens)
        self._collection = collection
        self._matrix = matrix
        self._loaded_manifest = manifest
        self._loaded_hash = manifest.get("hash") if manifest else None

    def _load(self) -> None:
        if self.settings.chroma_url:
            self._load_from_server()
        else:
            self._load_local()

    def _note(self, message: str) -> None:
        """Log `message` once (not once per question)."""
        if message != self._last_note:
            self._last_note = message
            log.warning("%s", message)

    def _ensure(self, loaded: bool, force: bool = False) -> bool:
        """Build the index now; with an index loaded, a build another process holds (or one
        that fails) is logged and the loaded index keeps answering (returns False)."""
        if self.ensure_index is None:
            if loaded:
                return False
            raise RuntimeError("index missing: run `python -m assistant index`")
        reset_client_cache()
        try:
            self.ensure_index(force=force, wait_s=0.0 if loaded else self.BUILD_WAIT_S)
        except IndexLocked:
            if not loaded:
                raise
            self._note("another process is building the index; answering from the index already loaded")
            return False
        except Exception as exc:
            if not loaded:
                raise
            self._note(f"the index could not be rebuilt ({exc}); answering from the index already loaded")
            return False
        return True

    def _rebuild_in_background(self) -> None:
        if self.ensure_index is None or self._rebuilding:
            return
        self._rebuilding = True

        def run() -> None:
            try:
                self.ensure_index(force=True, wait_s=0.0)  # type: ignore[misc]
            except IndexLocked:
                log.info("another process is already building the index")
            except Exception as exc:
                log.warning("rebuilding the index failed: %s", exc)
            finally:
                self._rebuilding = False

        threading.Thread(target=run, name="index-rebuild", daemon=True).start()

    def _load_local(self) -> None:
        from .index import read_manifest  # noqa: PLC0415

        loaded = self._bm25 is not None
        stat = self._stat_manifest()
        if loaded and stat is not None and stat == self._manifest_stat:
            self._watch_files()
            return  # the same manifest file as the one loaded: nothing to re-read
        manifest = read_manifest(self.settings)
        if not (manifest and manifest.get("complete")) or not self.settings.data_dir.exists():
            if not self._ensure(loaded):
                return
            stat = self._stat_manifest()
            manifest = read_manifest(self.settings)
        try:
            snapshot = read_search_snapshot(self.settings, manifest)
        except IndexFileError as exc:
            if loaded:
                # Mid-switch by another writer, or damaged: keep what we have, look again later.
                self._note(f"the index on disk cannot be read ({exc}); answering from the index already loaded")
                if not writer_busy(self.settings):
                    self._rebuild_in_background()
                return
            log.warning("index unreadable (%s); rebuilding", exc)
            self._ensure(False, force=True)
            stat = self._stat_manifest()
            manifest = read_manifest(self.settings)
            snapshot = read_search_snapshot(self.settings, manifest)
        use_index_dictionary(snapshot.dictionary, snapshot.sentences)
        self._install(snapshot.chunks, snapshot.tokens, snapshot.matrix, None, snapshot.manifest)
        self._file_stats = dict(snapshot.stats)
        self._manifest_stat = stat  # taken before the manifest was read
        self._files_checked_at = time.monotonic()
        self._last_note = ""

    def _watch_files(self) -> None:
        """Notice a search file changed in place (cut short, overwritten, copied over). The
        copy in memory keeps answering; a real change is logged and the index rebuilt."""
        from .index import file_stat, search_files_problem  # noqa: PLC0415

        now = time.monotonic()
        if now - self._files_checked_at < self.FILE_CHECK_S or not self._file_stats:
            return
        self._files_checked_at = now
        current = {name: file_stat(self.settings.data_dir / name) for name in self._file_stats}
        if current == self._file_stats:
            return
        if self._stat_manifest() != self._manifest_stat or writer_busy(self.settings):
            return  # a new index is being switched in: the next question loads it
        problem = search_files_problem(self.settings, self._loaded_manifest or {})
        if problem is None:  # an identical copy: nothing to do
            self._file_stats = {k: v for k, v in current.items() if v is not None}
            return
        self._note(f"index file changed on disk ({problem}); answering from the copy in memory and rebuilding the index")
        self._rebuild_in_background()

    def _load_from_server(self) -> None:
        from .index import ChromaUnavailable, read_manifest  # noqa: PLC0415

        loaded = self._bm25 is not None
        now = time.monotonic()
        if loaded and now - self._checked_at < self.SERVER_CHECK_S:
            return
        self._checked_at = now
        try:
            manifest = read_manifest(self.settings)
            if not (manifest and manifest.get("complete")):
                if loaded:  # keep answering; build (or wait for the writer) in the background
                    self._rebuild_in_background()
                    self._recovered()
                    return
                self._ensure(False)
                manifest = read_manifest(self.settings)
            if (loaded and not self._fallback and manifest and self._loaded_manifest
                    and manifest.get("hash") == self._loaded_hash
                    and manifest.get("data") == self._loaded_manifest.get("data")):
                self._recovered()
                return
            try:
                chunks, tokens, collection = load_server_data(self.settings, self.embedder, manifest)
            except IndexFileError as exc:
                if loaded:
                    self._note(f"the index on the Chroma server cannot be read ({exc}); answering from the index already loaded")
                    return
                log.warning("index unreadable (%s); rebuilding", exc)
                self._ensure(False, force=True)
                manifest = read_manifest(self.settings)
                chunks, tokens, collection = load_server_data(self.settings, self.embedder, manifest)
            self._install(chunks, tokens, None, collection, manifest)
            self._fallback = False
            self._recovered()
        except ChromaUnavailable as exc:
            self._degrade(exc)

    def _degrade(self, exc: BaseException) -> None:
        """The Chroma server is down: keyword search over what we have (or over chunks built
        from knowledge/ when nothing was loaded yet), dense search off, a notice on answers."""
        if self.degraded is None:
            log.warning("the Chroma server cannot be reached (%s); answering with keyword search only until it is back", exc)
        self.degraded = str(exc)
        if self._bm25 is None:
            from .index import build_chunks  # noqa: PLC0415
            from .knowledge import load_catalog  # noqa: PLC0415

            chunks = build_chunks(self.settings, load_catalog(self.settings.catalog_path))
            tokens = [tokenize(c.search_text(), full_dictionary=True) for c in chunks]
            self._install(chunks, tokens, None, None, None)
            self._fallback = True

    def _recovered(self) -> None:
        if self.degraded is not None:
            log.warning("the Chroma server answers again; full search resumes")
        self.degraded = None

    def _stat_manifest(self) -> tuple[int, int, int] | None:
        """The local manifest's (inode, size, mtime): a rebuild replaces the file, so a
        changed stat means "read it again"; None on a Chroma server or when it is missing."""
        if self.settings.chroma_url:
            return None
        try:
            stat = self.settings.manifest_path.stat()
        except OSError:
            return None
        return (stat.st_ino, stat.st_size, stat.st_mtime_ns)

    def warm(self) -> None:
        """Load everything the first question needs: the index, the tokenizer and the embedder."""
        with self._lock:
            self._load()
        tokenize("暖機")
        self.embedder.embed(["暖機 warm-up"])

    @property
    def idf(self) -> dict[str, float]:
        with self._lock:
            self._load()
            assert self._bm25 is not None
            return self._bm25.idf

    @property
    def chunks(self) -> list[Chunk]:
        with self._lock:
            self._load()
            return list(self._chunks)

    def _query_vector(self, text: str) -> list[list[float]]:
        """The query's embedding; popular questions repeat, so recent ones are kept (LRU).
        Users asking the same question at the same moment wait for one embedding of it."""
        cache = self.__dict__.setdefault("_query_cache", OrderedDict())
        pending: dict[str, threading.Event] = self.__dict__.setdefault("_query_pending", {})
        while True:
            with self._lock:
                if text in cache:
                    cache.move_to_end(text)
                    return cache[text]
                running = pending.get(text)
                if running is None:
                    pending[text] = running = threading.Event()
                    break
            running.wait(30)  # another request is embedding this text: use its result
        try:
            vector = self.embedder.embed([text])
            with self._lock:
                cache[text] = vector
                while len(cache) > QUERY_CACHE_SIZE:
                    cache.popitem(last=False)
            return vector
        finally:
            with self._lock:
                pending.pop(text, None)
            running.set()

    def _dense(self, query: str, depth: int, chunks: list[Chunk], matrix, collection) -> list[str]:
        """Chunk ids nearest the query, best first."""
        vector = self._query_vector(normalise_text(query))
        if matrix is not None:
            import numpy as np  # noqa: PLC0415

            scores = np.asarray(matrix) @ np.asarray(vector[0], dtype=np.float32)
            top = np.argsort(-scores, kind="stable")[:depth]
            return [chunks[int(i)].id for i in top]
        result = collection.query(query_embeddings=vector, n_results=depth, include=[])
        return list(result["ids"][0])

    # -- search
    def search(self, query: str, k: int = 5) -> list[Passage]:
        query = query.strip()
        if not query:
            return []
        with self._lock:
            self._load()
            chunks, bm25, collection, matrix = self._chunks, self._bm25, self._collection, self._matrix
            if self.degraded is not None:
                collection = None  # the Chroma server is down: keyword search only
        assert bm25 is not None
        n = len(chunks)
        if n == 0:
            return []
        depth = min(n, max(30, k * 4))
        fused: dict[int, float] = {}

        links = self.linker(query) if self.linker is not None else None
        words = query
        for name in links.hardware if links is not None else []:
            # "MacBook Air M2": the chip, not MiniMax-M2; the words are kept for the dense channel.
            words = re.sub(re.escape(name), " ", words, flags=re.IGNORECASE)
        lexical = _ranks(bm25.scores(tokenize(words)), depth)
        for rank, i in enumerate(lexical):
            fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)

        position = {c.id: i for i, c in enumerate(chunks)}
        dense_ids: list[str] = []
        if matrix is not None or collection is not None:
            try:
                dense_ids = self._dense(query, min(depth, n), chunks, matrix, collection)
            except Exception as exc:  # a broken store must not break answering
                if collection is not None:  # the Chroma server went away between checks
                    with self._lock:
                        self._degrade(exc)
                else:
                    log.warning("dense search failed, using BM25 only: %s", exc)
        for rank, chunk_id in enumerate(dense_ids):
            i = position.get(chunk_id)
            if i is not None:
                fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)

        if links is not None:
            model_set, family_set, task_set = set(links.models), set(links.families), set(links.task_models)
            avoid_set = set(links.avoid_families)
            # When a model is named, its family's article and family passages get the family
            # boost, but its sibling models' catalog entries do not: "Phi 4" must not fill the
            # sources with every Phi release and crowd out everything else.
            named_families = {c.family for c in chunks if c.model_id and c.model_id in model_set}
            for i, chunk in enumerate(chunks):
                boost = 0.0
                if chunk.model_id and chunk.model_id in model_set:
                    boost += BOOST_MODEL
                sibling = chunk.model_id and chunk.model_id not in model_set and chunk.family in named_families
                if chunk.family and chunk.family in family_set and not sibling:
                    boost += BOOST_FAMILY
                if chunk.model_id and chunk.model_id in task_set:
                    boost += BOOST_TASK
                if chunk.family and chunk.family in avoid_set:
                    boost -= BOOST_FAMILY
                if boost:
                    fused[i] = fused.get(i, 0.0) + boost

        ranked = sorted(fused.items(), key=lambda item: -item[1])[:k]
        return [
            Passage(
                id=chunks[i].id,
                source=chunks[i].source,
                title=chunks[i].title,
                text=chunks[i].text,
                score=score,
                family=chunks[i].family,
                model_id=chunks[i].model_id,
            )
            for i, score in ranked
        ]
