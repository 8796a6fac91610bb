"""Embedders: the fake for speed, the real bundled ones for truth (offline)."""

from __future__ import annotations

import math

import pytest

from assistant.embeddings import (
    ChromaEmbeddingFunction,
    EmbedderError,
    FakeEmbedder,
    SentenceTransformerEmbedder,
    make_embedder,
)


def _cos(a, b):
    return sum(x * y for x, y in zip(a, b, strict=False))


def test_fake_embedder_is_deterministic_and_normalised():
    one, two = FakeEmbedder(32), FakeEmbedder(32)
    assert one.embed(["Phi-4 授權"]) == two.embed(["Phi-4 授權"])
    vector = one.embed(["任何文字"])[0]
    assert len(vector) == 32 and math.isclose(sum(v * v for v in vector), 1.0, rel_tol=1e-6)
    assert make_embedder("fake-16").dimension == 16


def test_chroma_adapter_calls_our_embedder():
    function = ChromaEmbeddingFunction(FakeEmbedder(8))
    vectors = function(["a", "b"])
    assert len(vectors) == 2 and len(vectors[0]) == 8
    assert function.get_config() == {"embedder": "fake-8"}


def test_folder_without_sentence_transformers_config_fails_loudly(tmp_path):
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(EmbedderError, match="modules.json"):
        SentenceTransformerEmbedder(str(tmp_path))


@pytest.mark.slow
def test_bundled_multilingual_use_embedder_works_offline():
    embedder = make_embedder("use-m3")
    assert embedder.dimension == 512
    zh, en, other = embedder.embed(["這個模型可以商用嗎", "Can this model be used commercially", "今天天氣很好"])
    assert len(zh) == 512
    assert _cos(zh, en) > _cos(zh, other)


@pytest.mark.slow
def test_bundled_minilm_loads_from_the_package_offline():
    embedder = make_embedder("minilm")
    assert embedder.name == "minilm" and embedder.dimension == 384
    a, b, c = embedder.embed(["open model licence", "licence of an open-weight model", "chocolate cake recipe"])
    assert _cos(a, b) > _cos(a, c)


def test_unknown_sentence_transformers_model_gives_a_clear_error():
    with pytest.raises(EmbedderError):
        make_embedder("/nonexistent/model/path")
