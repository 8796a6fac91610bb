"""chromadb clients: a PersistentClient on the embedded index, or an HttpClient for a Chroma
server (`settings.chroma_url`) with bounded timeouts; on a server, the manifest kept in the
pointer collection's metadata and the generation collection it names (`load_server_data`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from ..config import Settings
from ..embeddings import ChromaEmbeddingFunction, Embedder
from .chunks import Chunk
from .errors import ChromaUnavailable, IndexError_, IndexFileError


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
