"""The shipped knowledge validates, covers the article, and matches what the article states."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.knowledge import CatalogError, load_article, load_catalog

from .conftest import KNOWLEDGE

SEED = Path(__file__).resolve().parent / "fixtures" / "seed-article.txt"  # the source article, as given
FAMILY_SECTIONS = [
    "DeepSeek", "Cohere", "Qwen", "Mistral", "Kimi", "Llama", "GPT-OSS", "GLM",
    "Falcon", "Gemma", "Phi", "SmolLM", "LFM2", "Granite", "StableLM", "Grok",
]
CHROME = ["閱讀時間", "分享你的想法", "avatar-img", "你可能也想看", "Thumbnail", "追蹤感興趣的內容",
          "TypeScript", "MongoDB", "Word Embedding", "移幣的沙龍", "會員"]
# Labels of links the page lost; they carry no sentence of the article.
LINK_LABELS = ["Englishversion:", "Llama4introductioninEnglish:"]


def test_catalog_validates(catalog):
    assert len([f for f in catalog.families if f.article_section]) == 16  # the article's; parts add makers it predates
    assert len(catalog.models) >= 45


def test_every_article_family_section_has_catalog_entries(catalog):
    article = load_article(KNOWLEDGE / "article.md")
    titles = {s.title for s in article.sections}
    for section in FAMILY_SECTIONS:
        assert section in titles, f"article has no section {section}"
        families = [f for f in catalog.families if f.article_section == section]
        assert families, f"no catalog family for section {section}"
        assert any(catalog.models_of(f.id) for f in families), f"no models for {section}"


def test_every_model_points_at_a_real_section(catalog):
    """A model the article covers names a real section; releases the article predates name none."""
    titles = {s.title for s in load_article(KNOWLEDGE / "article.md").sections}
    for model in catalog.models:
        if model.article_section is None:
            assert model.verdict == "neutral", model.id
            continue
        assert model.article_section in titles, (model.id, model.article_section)


def test_named_models_from_the_brief_are_present(catalog):
    for model_id in ["deepseek-r1", "deepseek-v3", "r1-1776", "aya-101", "command-a", "command-r", "qwen3",
                     "qwen3-coder-480b", "qwq-32b", "devstral", "magistral", "pixtral", "ministral", "codestral",
                     "kimi-k2", "llama-4-maverick", "llama-4-scout", "llama-4-behemoth", "breeze", "nemotron",
                     "gpt-oss-120b", "gpt-oss-20b", "glm-4.5", "glm-4.5-air", "falcon-3", "falcon-h1", "gemma-2",
                     "gemma-3", "phi-3", "phi-3.5", "phi-4", "smollm2", "smollm3", "smolvlm", "lfm2",
                     "granite-3.3", "granite-4.0", "stablelm", "stable-code", "grok-1"]:
        assert model_id in catalog.by_id, model_id


def test_releases_users_name_directly_are_their_own_entries(catalog):
    # Issue 13: names users ask about resolve to their own entry, never the family flagship.
    for model_id in ["phi-4-mini", "phi-4-multimodal", "phi-4-reasoning", "codestral-mamba", "qwen2.5",
                     "deepseek-r1-distill-llama", "gemma-3n", "deepseek-v3.1", "kimi-k2-0905", "glm-4.6"]:
        assert model_id in catalog.by_id, model_id
        assert catalog.resolve(catalog.by_id[model_id].name) == (model_id, None)


@pytest.mark.parametrize(
    "model_id, field, expected",
    [
        ("deepseek-r1", "licence.id", "MIT"),
        ("deepseek-v3", "context_tokens", 131072),
        ("llama-4-maverick", "experts", 128),
        ("llama-4-maverick", "params_total_b", 400),
        ("llama-4-maverick", "params_active_b", 17),
        ("llama-4-scout", "params_total_b", 109),
        ("llama-4-scout", "experts", 16),
        ("glm-4.5", "params_total_b", 355),
        ("glm-4.5", "licence.id", "MIT"),
        ("phi-4", "params_total_b", 14.7),
        ("phi-4", "licence.id", "MIT"),
        ("grok-1", "params_total_b", 314),
        ("grok-1", "verdict", "not-recommended"),
        ("stablelm", "verdict", "not-recommended"),
        ("gemma-2", "verdict", "not-recommended"),
        ("command-a", "commercial_use", "no"),
        ("command-r", "commercial_use", "no"),
        ("ministral", "commercial_use", "no"),
        ("mistral-7b", "licence.id", "Apache-2.0"),
        ("smollm2", "licence.id", "Apache-2.0"),
        ("phi-4-mini", "params_total_b", 3.8),
        ("phi-4-mini", "context_native", 131072),
        ("phi-4-mini", "licence.id", "MIT"),
        ("phi-4-multimodal", "params_total_b", 5.6),
        ("codestral-mamba", "licence.id", "Apache-2.0"),
        ("deepseek-v3.1", "licence.id", "MIT"),
        ("qwen3", "context_native", 32768),
        ("qwen3", "context_extended", 131072),
        ("qwq-32b", "context_extended_method", "YaRN"),
        ("llama-3", "released", "2024-04-18"),
        ("falcon-3", "licence.name", "TII Falcon-LLM License 2.0"),
        ("deepseek-r1-distill-qwen", "params_total_b", 32.8),
    ],
)
def test_facts_the_article_states(catalog, model_id, field, expected):
    value = catalog.by_id[model_id]
    for part in field.split("."):
        value = getattr(value, part)
    assert value == expected


def test_article_numbers_that_differ_from_model_cards_are_recorded(catalog):
    r1 = catalog.by_id["deepseek-r1"]
    assert r1.params_total_b == 671
    assert any("685" in c.article_says for c in r1.article_claims)
    llama3 = catalog.by_id["llama-3"]
    assert any("406" in c.article_says for c in llama3.article_claims)


def test_every_model_names_its_sources_and_date(catalog):
    for model in catalog.models:
        assert {"size", "licence", "context"} <= set(model.sources), model.id
        assert model.as_of.year >= 2025


def test_catalog_zh_text_is_traditional(catalog):
    from assistant.chinese import simplified_chars

    for model in catalog.models:
        texts = [model.summary_zh, model.verdict_reason, model.languages.chinese_note, *model.weaknesses,
                 model.commercial_conditions, *(c.note for c in model.article_claims)]
        texts += [v.commercial_conditions for v in model.variants] + [v.summary_zh or "" for v in model.variants]
        for text in texts:
            assert not simplified_chars(text), (model.id, text, simplified_chars(text))


def test_article_keeps_the_text_and_drops_the_chrome():
    article = (KNOWLEDGE / "article.md").read_text(encoding="utf-8")
    for junk in CHROME:
        assert junk not in article, junk
    parsed = load_article(KNOWLEDGE / "article.md")
    assert parsed.meta["source_file"] == "000_04d75ac66ba80848.txt"
    assert parsed.meta["language"] == "zh-TW"
    assert "ingested" in parsed.meta and parsed.title
    squashed = re.sub(r"\s+", "", article)
    body = SEED.read_text(encoding="utf-8").split("留言")[0]
    missing = []
    for line in body.splitlines():
        line = re.sub(r"\s+", "", line.lstrip("#").strip().lstrip("•").strip())
        if len(line) > 8 and not any(j in line for j in CHROME) and line not in LINK_LABELS and line not in squashed:
            missing.append(line)
    assert not missing, missing[:5]


def test_broken_catalog_fails_loudly(tmp_path: Path):
    bad = tmp_path / "catalog.yaml"
    bad.write_text("schema_version: 1\nas_of: 2026-01-01\nfamilies: []\nmodels:\n  - id: x\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="catalog.yaml"):
        load_catalog(bad)
    with pytest.raises(CatalogError, match="not found"):
        load_catalog(tmp_path / "missing.yaml")
