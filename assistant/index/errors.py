"""What goes wrong with the index, as exceptions the CLI and the app tell apart."""

from __future__ import annotations


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
