"""One writer at a time: a file lock next to the embedded index, or a lock collection on a
Chroma server (`acquire_writer` picks the one that applies and can wait for it)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import time
import uuid
from collections.abc import Iterator

from ..config import Settings
from .chroma import open_client
from .errors import IndexLocked


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
