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

The package, by responsibility (everything is importable from `assistant.index`):

- `chunks`  cutting the knowledge base into `Chunk`s, the catalog fact sheets (`model_document`)
- `files`   the manifest (`read_manifest`, `content_hash`) and the search files, read and checked
- `chroma`  chromadb clients (embedded or server) and a server index's manifest and records
- `lock`    the single-writer lock (`acquire_writer`)
- `build`   `staleness` and `build_index`: the staged build and the switch
- `errors`  `IndexError_` and its kinds
"""

from __future__ import annotations

from .build import BuildReport, Progress, build_index, disk_full, sentence_tokens, staleness
from .chroma import get_collection, load_server_data, open_client, reset_client_cache, server_manifest
from .chunks import (
    RESERVED_FILES,
    USER_DOC_SUFFIXES,
    Chunk,
    article_chunks,
    build_chunks,
    catalog_chunks,
    chunk_text,
    closed_model_key,
    format_context,
    format_params,
    model_document,
    user_chunks,
    user_documents,
)
from .errors import ChromaUnavailable, DiskFull, IndexError_, IndexFileError, IndexLocked
from .files import (
    INDEX_SCHEMA,
    SEARCH_FILES,
    FileStat,
    SearchSnapshot,
    chromadb_version,
    content_hash,
    file_record,
    file_stat,
    load_chunks,
    load_index_dictionary,
    load_search_data,
    read_manifest,
    read_search_snapshot,
    search_files_problem,
    store_problem,
)
from .lock import acquire_writer, server_writer_lock, writer_busy, writer_lock
