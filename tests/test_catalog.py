"""Catalog accuracy at the level users ask about: every entry and variant is sourced,
names resolve to the most specific release, variants carry their own facts, and context
is stated as a native and an extended figure."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.knowledge import Catalog, CatalogError, Model, Variant, load_catalog, name_key
from assistant.mentions import unique
from assistant.text import normalize

from .conftest import KNOWLEDGE, answer


def find_mentions(text: str, cat: Catalog) -> tuple[list[str], list[str], list[str]]:
    """(model ids, family ids, closed names) the catalog's alias index finds in `text`, in text order."""
    found = cat.mentions(normalize(text))
    return (
        unique(m.target for m in found if m.kind == "model"),
        unique(m.target for m in found if m.kind == "family"),
        unique(m.target for m in found if m.kind == "closed"),
    )


def find_variant_mentions(text: str, cat: Catalog) -> dict[str, str]:
    """model id -> the variant a name in `text` means, for names that mean one size."""
    return {m.target: m.variant for m in cat.mentions(normalize(text)) if m.kind == "model" and m.variant}

# Aliases two entries may share because they name a group, not one model.
FAMILY_WORDS = {name_key(w) for w in ["cohere command", "command 系列"]}

# name -> (model id, variant name or None). Every release and variant issue 13 names is here.
RESOLUTIONS: list[tuple[str, tuple[str, str | None]]] = [
    ("Phi-4-mini", ("phi-4-mini", None)),
    ("phi 4 mini", ("phi-4-mini", None)),
    ("Phi-4-mini-instruct", ("phi-4-mini", None)),
    ("Phi-4-multimodal", ("phi-4-multimodal", None)),
    ("Phi-4-multimodal-instruct", ("phi-4-multimodal", None)),
    ("Phi-4-reasoning", ("phi-4-reasoning", None)),
    ("Phi-4-reasoning-plus", ("phi-4-reasoning", "Phi-4-reasoning-plus")),
    ("Phi-4-mini-reasoning", ("phi-4-reasoning", "Phi-4-mini-reasoning")),
    ("Phi-4", ("phi-4", None)),
    ("Phi-3.5-MoE", ("phi-3.5", "Phi-3.5-MoE")),
    ("Codestral Mamba", ("codestral-mamba", None)),
    ("Mamba Codestral", ("codestral-mamba", None)),
    ("Codestral", ("codestral", None)),
    ("Codestral 22B", ("codestral", None)),
    ("DeepSeek V3.1", ("deepseek-v3.1", None)),
    ("DeepSeek-V3.1", ("deepseek-v3.1", None)),
    ("DeepSeek-V3", ("deepseek-v3", None)),
    ("DeepSeek-V3-0324", ("deepseek-v3", "DeepSeek-V3-0324")),
    ("DeepSeek-R1", ("deepseek-r1", None)),
    ("DeepSeek-R1-Distill-Qwen-7B", ("deepseek-r1-distill-qwen", "DeepSeek-R1-Distill-Qwen-7B")),
    ("DeepSeek-R1-Distill-Llama-8B", ("deepseek-r1-distill-llama", "DeepSeek-R1-Distill-Llama-8B")),
    ("DeepSeek-R1-Distill-Llama-70B", ("deepseek-r1-distill-llama", "DeepSeek-R1-Distill-Llama-70B")),
    ("R1 distill llama", ("deepseek-r1-distill-llama", None)),
    ("Qwen3", ("qwen3", None)),
    ("Qwen3-0.6B", ("qwen3", "Qwen3-0.6B")),
    ("Qwen3-1.7B", ("qwen3", "Qwen3-1.7B")),
    ("Qwen3-8B", ("qwen3", "Qwen3-8B")),
    ("qwen3 8b", ("qwen3", "Qwen3-8B")),
    ("Qwen3 30B", ("qwen3", "Qwen3-30B-A3B")),
    ("Qwen3-235B-A22B", ("qwen3", "Qwen3-235B-A22B")),
    ("Qwen3-Coder-30B-A3B", ("qwen3-coder-480b", "Qwen3-Coder-30B-A3B")),
    ("QwQ-32B", ("qwq-32b", None)),
    ("Qwen2.5", ("qwen2.5", None)),
    ("Qwen2.5-0.5B", ("qwen2.5", "Qwen2.5-0.5B")),
    ("Qwen2.5-3B", ("qwen2.5", "Qwen2.5-3B")),
    ("Qwen2.5-3B-Instruct", ("qwen2.5", "Qwen2.5-3B")),
    ("Qwen2.5-7B-Instruct", ("qwen2.5", "Qwen2.5-7B")),
    ("Qwen2.5-32B", ("qwen2.5", "Qwen2.5-32B")),
    ("Qwen2.5-72B", ("qwen2.5", "Qwen2.5-72B")),
    ("Gemma 3", ("gemma-3", None)),
    ("Gemma 3 270M", ("gemma-3", "Gemma 3 270M")),
    ("gemma-3-1b-it", ("gemma-3", "Gemma 3 1B")),
    ("Gemma 3 27B", ("gemma-3", "Gemma 3 27B")),
    ("Gemma 3n", ("gemma-3n", None)),
    ("Gemma 3n E2B", ("gemma-3n", "Gemma 3n E2B")),
    ("gemma-3n-E4B-it", ("gemma-3n", "Gemma 3n E4B")),
    ("Llama 3", ("llama-3", None)),
    ("Llama 3 8B", ("llama-3", "Llama 3 8B")),
    ("Meta-Llama-3-70B-Instruct", ("llama-3", "Llama 3 70B")),
    ("Llama 3.1 8B", ("llama-3", "Llama 3.1 8B")),
    ("Llama 3.3 70B", ("llama-3", "Llama 3.3 70B")),
    ("Llama 3.1 405B", ("llama-3", "Llama 3.1 405B")),
    ("Llama 4 Scout", ("llama-4-scout", None)),
    ("Kimi K2", ("kimi-k2", None)),
    ("Kimi K2 0905", ("kimi-k2-0905", None)),
    ("Kimi-K2-Instruct-0905", ("kimi-k2-0905", None)),
    ("GLM-4.5", ("glm-4.5", None)),
    ("GLM 4.5 Air", ("glm-4.5-air", None)),
    ("GLM-4.6", ("glm-4.6", None)),
    ("Falcon3-7B", ("falcon-3", "Falcon3-7B")),
    ("Command R+", ("command-r", "Command R+")),
    ("Command R7B", ("command-r", "Command R7B")),
    ("granite 4.0 tiny", ("granite-4.0", "granite-4.0-h-tiny")),
    # The generic "Nemotron Super" now means Nemotron 3 (NVIDIA-NeMo/Nemotron README);
    # the sized Llama-based name keeps the old entry.
    ("Nemotron Super", ("nemotron-3", "NVIDIA-Nemotron-3-Super-120B-A12B")),
    ("Nemotron Super 49B", ("nemotron", "Llama-3.3-Nemotron-Super-49B-v1")),
    ("Nemotron Nano", ("nemotron-3", "NVIDIA-Nemotron-3-Nano-30B-A3B")),
    ("SmolLM2-360M", ("smollm2", "SmolLM2-360M")),
    ("千问3", ("qwen3", None)),  # Simplified script resolves too
]

# Realistic questions -> (model ids find_mentions returns, variants named).
QUESTIONS: list[tuple[str, list[str], dict[str, str]]] = [
    ("Phi-4-mini 可以商用嗎？", ["phi-4-mini"], {}),
    ("Phi-4-mini 可以商用嗎？多大？", ["phi-4-mini"], {}),
    ("phi 4 multimodal 能聽語音嗎", ["phi-4-multimodal"], {}),
    ("Phi-4 跟 Phi-4-mini 差在哪", ["phi-4", "phi-4-mini"], {}),
    ("Codestral Mamba 的授權是什麼？", ["codestral-mamba"], {}),
    ("Codestral 可以商用嗎", ["codestral"], {}),
    ("DeepSeek V3.1 是 MIT 嗎？", ["deepseek-v3.1"], {}),
    ("DeepSeek-V3 跟 DeepSeek V3.1 的授權一樣嗎", ["deepseek-v3", "deepseek-v3.1"], {}),
    ("Qwen3-0.6B 的上下文多長", ["qwen3"], {"qwen3": "Qwen3-0.6B"}),
    ("Qwen2.5-3B 能商用嗎？", ["qwen2.5"], {"qwen2.5": "Qwen2.5-3B"}),
    ("Is Qwen2.5-72B-Instruct OK for a commercial product?", ["qwen2.5"], {"qwen2.5": "Qwen2.5-72B"}),
    ("Qwen3-8B 跟 Gemma 3 1B 哪個適合手機", ["qwen3", "gemma-3"], {"qwen3": "Qwen3-8B", "gemma-3": "Gemma 3 1B"}),
    ("Llama 3 8B 的 context 是多少？", ["llama-3"], {"llama-3": "Llama 3 8B"}),
    ("Llama 3.1 8B 能讀 128k 嗎", ["llama-3"], {"llama-3": "Llama 3.1 8B"}),
    ("DeepSeek-R1-Distill-Llama-8B 授權", ["deepseek-r1-distill-llama"],
     {"deepseek-r1-distill-llama": "DeepSeek-R1-Distill-Llama-8B"}),
    ("Kimi K2 0905 的 context 有多長", ["kimi-k2-0905"], {}),
    ("GLM-4.6 和 GLM-4.5 差在哪", ["glm-4.6", "glm-4.5"], {}),
    ("Gemma 3n E4B 可以在手機上跑嗎", ["gemma-3n"], {"gemma-3n": "Gemma 3n E4B"}),
    ("Qwen3 好用嗎", ["qwen3"], {}),
]


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return load_catalog(KNOWLEDGE / "catalog.yaml")


def _entries(cat: Catalog):
    """Every model, and every variant as the Model a user sees when naming it."""
    for model in cat.models:
        yield model.id, model
        for variant in model.variants:
            yield f"{model.id}/{variant.name}", model.with_variant(variant.name)


# ---------------------------------------------------------------- sources and facts


def test_every_model_and_variant_has_size_licence_and_context_sources(cat):
    checked = 0
    for label, model in _entries(cat):
        assert model.params_total_b > 0, label
        assert model.licence.name and model.licence.id, label
        missing = {"size", "licence", "context"} - set(model.sources)
        assert not missing, (label, missing)
        assert all(str(text).strip() for text in model.sources.values()), label
        checked += 1
    assert checked > 150  # models and variants both counted


def test_new_entries_are_dated(cat):
    for model_id in ["phi-4-mini", "phi-4-multimodal", "phi-4-reasoning", "codestral-mamba", "qwen2.5",
                     "deepseek-r1-distill-llama", "gemma-3n", "deepseek-v3.1", "kimi-k2-0905", "glm-4.6"]:
        model = cat.by_id[model_id]
        assert model.as_of.isoformat() >= "2026-11-28", model_id
        assert model.released, model_id


def test_no_alias_is_shared_by_two_entries_unless_it_names_a_family(cat):
    owners: dict[str, set[str]] = {}
    for name, model_id, _variant in cat.names():
        owners.setdefault(name_key(name), set()).add(model_id)
    shared = {key: ids for key, ids in owners.items() if len(ids) > 1 and key not in FAMILY_WORDS}
    assert not shared, shared


def test_a_variant_alias_never_repeats_a_model_level_alias(cat):
    for model in cat.models:
        own = {name_key(n) for n in (model.id, model.name, *model.aliases)}
        for variant in model.variants:
            for alias in variant.aliases:
                assert name_key(alias) not in own, (model.id, variant.name, alias)


def test_resolution_list_is_long_enough_and_covers_the_issue():
    assert len(RESOLUTIONS) >= 40
    targets = {expected for _name, expected in RESOLUTIONS}
    for expected in [("phi-4-mini", None), ("phi-4-multimodal", None), ("phi-4-reasoning", None),
                     ("codestral-mamba", None), ("deepseek-v3.1", None), ("kimi-k2-0905", None),
                     ("glm-4.6", None), ("gemma-3n", None), ("qwen3", "Qwen3-0.6B"), ("qwen2.5", "Qwen2.5-3B"),
                     ("qwen2.5", "Qwen2.5-72B"), ("deepseek-r1-distill-llama", "DeepSeek-R1-Distill-Llama-8B"),
                     ("deepseek-r1-distill-llama", "DeepSeek-R1-Distill-Llama-70B"), ("llama-3", "Llama 3 8B"),
                     ("gemma-3", "Gemma 3 1B"), ("gemma-3", "Gemma 3 270M")]:
        assert expected in targets, expected


@pytest.mark.parametrize("name, expected", RESOLUTIONS, ids=[n for n, _ in RESOLUTIONS])
def test_resolve_names_the_most_specific_entry(cat, name, expected):
    assert cat.resolve(name) == expected


@pytest.mark.parametrize("name, expected", RESOLUTIONS, ids=[n for n, _ in RESOLUTIONS])
def test_mention_finding_agrees_with_resolve(cat, name, expected):
    model_id, variant = expected
    models, _families, _closed = find_mentions(f"請問 {name} 怎麼樣？", cat)
    assert models == [model_id], (name, models)
    assert find_variant_mentions(f"請問 {name} 怎麼樣？", cat) == ({model_id: variant} if variant else {})


@pytest.mark.parametrize("question, models, variants", QUESTIONS, ids=[q for q, _, _ in QUESTIONS])
def test_realistic_questions_find_the_release_they_name(cat, question, models, variants):
    assert find_mentions(question, cat)[0] == models
    assert find_variant_mentions(question, cat) == variants


@pytest.mark.parametrize(
    "name, expected",
    [
        ("Mamba-Codestral-7B-v0.1", ("codestral-mamba", None)),
        ("Qwen/Qwen3-8B-GGUF", ("qwen3", "Qwen3-8B")),
        ("microsoft/Phi-4-mini-instruct", ("phi-4-mini", None)),
        ("bartowski/microsoft_Phi-4-mini-instruct-GGUF", ("phi-4-mini", None)),
        ("Qwen2.5-3B-Instruct-GGUF", ("qwen2.5", "Qwen2.5-3B")),
        ("deepseek-ai/DeepSeek-V3.1-Terminus", ("deepseek-v3.1-terminus", None)),
    ],
)
def test_resolve_reads_repository_and_file_style_names(cat, name, expected):
    assert cat.resolve(name) == expected


def test_resolve_refuses_unknown_and_group_names(cat):
    assert cat.resolve("Phi-45") is None  # "phi4" does not run into a following digit
    assert cat.resolve("Phi-4 vs Qwen3") is None  # two models are not one name
    assert cat.resolve("GPT-5") is None
    assert cat.resolve("") is None
    assert cat.resolve("Cohere Command") is None  # names two entries: a family word
    assert cat.model_for("no such model") is None


def test_mentions_carry_their_span_and_the_size_named(cat):
    text = normalize("Phi-4-mini 跟 Qwen3-8B")
    found = cat.mentions(text)
    assert [(m.kind, m.target, m.variant) for m in found] == [("model", "phi-4-mini", None), ("model", "qwen3", "Qwen3-8B")]
    assert [text[m.start : m.end] for m in found] == ["phi-4-mini", "qwen3-8b"]
    assert find_mentions("Phi-4-mini 跟 Qwen3-8B", cat) == (["phi-4-mini", "qwen3"], [], [])


# ---------------------------------------------------------------- variants carry their own facts


def test_phi_4_mini_is_not_phi_4(cat):
    mini = cat.model_for("Phi-4-mini")
    assert (mini.params_total_b, mini.context_native, mini.licence.id, mini.commercial_use) == (
        3.8, 131072, "MIT", "yes")
    multimodal = cat.model_for("Phi-4-multimodal")
    assert multimodal.params_total_b == 5.6 and set(multimodal.modalities) == {"text", "image", "audio"}
    assert multimodal.licence.id == "MIT"
    phi4 = cat.model_for("Phi-4")
    assert (phi4.params_total_b, phi4.context_native) == (14.7, 16384)


def test_qwen25_licence_differs_per_size(cat):
    three = cat.model_for("Qwen2.5-3B")
    assert three.licence.id == "Qwen-Research" and three.commercial_use == "no"
    assert "非商業" in three.commercial_conditions and "non-commercial" in three.commercial_conditions_en
    seventy_two = cat.model_for("Qwen2.5-72B")
    assert seventy_two.licence.id == "Qwen" and seventy_two.commercial_use == "conditional"
    assert "1 億" in seventy_two.commercial_conditions
    seven = cat.model_for("Qwen2.5-7B")
    assert seven.licence.id == "Apache-2.0" and seven.commercial_use == "yes"
    assert seven.commercial_conditions == ""
    series = cat.by_id["qwen2.5"]
    assert series.commercial_use == "conditional"  # the series answer never claims every size is Apache
    assert "3B" in series.commercial_conditions and "72B" in series.commercial_conditions


def test_codestral_mamba_is_apache_and_codestral_is_not(cat):
    mamba = cat.model_for("Codestral Mamba")
    assert (mamba.licence.id, mamba.commercial_use, mamba.params_total_b) == ("Apache-2.0", "yes", 7.3)
    assert "Mamba" in mamba.verdict_reason  # the article's Mamba sentence is about this model
    codestral = cat.by_id["codestral"]
    assert codestral.commercial_use == "no"
    assert "Codestral Mamba" in codestral.verdict_reason
    assert any("Codestral Mamba" in claim.note for claim in codestral.article_claims)


def test_deepseek_v31_is_mit_and_v3_original_is_not(cat):
    assert cat.model_for("DeepSeek V3.1").licence.id == "MIT"
    assert cat.by_id["deepseek-v3"].licence.id == "DeepSeek-Model-License"
    assert cat.model_for("DeepSeek-V3-0324").licence.id == "MIT"
    assert cat.by_id["deepseek-v3.1"].verdict == "neutral"
    assert cat.by_id["deepseek-v3.1"].verdict_reason.startswith("原文未提及")


def test_r1_distill_sizes_and_llama_licence(cat):
    sizes = [v.params_total_b for v in cat.by_id["deepseek-r1-distill-qwen"].variants]
    assert sizes == [1.78, 7.62, 14.8, 32.8]
    eight = cat.model_for("DeepSeek-R1-Distill-Llama-8B")
    seventy = cat.model_for("DeepSeek-R1-Distill-Llama-70B")
    assert eight.commercial_use == seventy.commercial_use == "conditional"
    assert "Llama 3.1" in eight.licence.name and "Llama 3.3" in seventy.licence.name
    assert "7 億" in eight.commercial_conditions


def test_with_variant_replaces_facts_and_keeps_the_id(cat):
    qwen3 = cat.by_id["qwen3"]
    small = qwen3.with_variant("Qwen3-0.6B")
    assert small.id == "qwen3" and small.name == "Qwen3-0.6B" and small.kind == "model"
    assert small.params_total_b == 0.6 and small.params_active_b is None and small.architecture == "dense"
    assert [v.name for v in small.sizes] == ["Qwen3-0.6B"]
    assert small.experts is None
    moe = qwen3.with_variant("qwen3 30b")  # an alias of the variant works too
    assert (moe.name, moe.params_active_b, moe.architecture) == ("Qwen3-30B-A3B", 3.3, "moe")
    assert small.sources["context"] != qwen3.sources["context"]  # the variant's own source
    with pytest.raises(KeyError, match="no variant"):
        qwen3.with_variant("Qwen3-9000B")


def test_variant_overrides_release_date_and_licence(cat):
    llama3 = cat.model_for("Llama 3 8B")
    assert llama3.released == "2024-04-18" and llama3.licence.name == "Meta Llama 3 Community License"
    llama31 = cat.model_for("Llama 3.1 8B")
    assert llama31.released == "2024-07-23" and llama31.licence.name == "Llama 3.x Community License"


# ---------------------------------------------------------------- native vs extended context


@pytest.mark.parametrize(
    "name, native, extended, method",
    [
        ("Qwen3", 32768, 131072, "YaRN"),
        ("Qwen3-8B", 32768, 131072, "YaRN"),
        ("Qwen3-235B-A22B", 32768, 131072, "YaRN"),
        ("Qwen3-0.6B", 32768, None, None),
        ("Qwen3-1.7B", 32768, None, None),
        ("QwQ-32B", 32768, 131072, "YaRN"),
        ("Qwen2.5-72B", 32768, 131072, "YaRN"),
        ("Qwen2.5-3B", 32768, None, None),
        ("Gemma 3 27B", 131072, None, None),
        ("Gemma 3 1B", 32768, None, None),
        ("Gemma 3 270M", 32768, None, None),
        ("Llama 3 8B", 8192, None, None),
        ("Llama 3 70B", 8192, None, None),
        ("Llama 3.1 8B", 131072, None, None),
        ("SmolLM3", 65536, 131072, "YaRN"),
        ("Kimi K2", 131072, None, None),
        ("Kimi K2 0905", 262144, None, None),
        ("GLM-4.6", 200000, None, None),
        ("Phi-4-reasoning", 32768, None, None),
        ("Phi-4-mini-reasoning", 131072, None, None),
    ],
)
def test_context_is_native_plus_extended(cat, name, native, extended, method):
    model = cat.model_for(name)
    assert (model.context_native, model.context_extended, model.context_extended_method) == (
        native, extended, method)
    assert model.context_tokens == native  # the legacy read-only figure is the native one
    assert model.context_max == (extended or native)


def test_context_tokens_is_read_only_and_legacy_input_is_the_native_figure(cat):
    phi4 = cat.by_id["phi-4"]
    with pytest.raises((AttributeError, TypeError, ValueError)):
        phi4.context_tokens = 1  # type: ignore[misc]
    data = phi4.model_dump()
    data.pop("context_native")
    data["context_tokens"] = 4096
    legacy = Model.model_validate(data)
    assert (legacy.context_native, legacy.context_tokens, legacy.context_max) == (4096, 4096, 4096)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"context_extended": 131072}, "needs context_native"),
        ({"context_native": 32768, "context_extended": 131072}, "context_extended_method"),
        ({"context_native": 32768, "context_extended": 16384, "context_extended_method": "YaRN"}, "must exceed"),
        ({"licence": {"id": "MIT", "name": "MIT", "open_source": True}}, "together"),
        ({"licence": {"id": "X", "name": "X", "open_source": False}, "commercial_use": "conditional"},
         "commercial_conditions"),
        ({"params_active_b": 9}, "exceed"),
    ],
)
def test_bad_variant_facts_fail_loudly(fields, message):
    with pytest.raises(ValueError, match=message):
        Variant(name="Broken-3B", params_total_b=3, **fields)


def test_a_catalog_with_a_bad_variant_names_the_file(tmp_path: Path):
    text = (KNOWLEDGE / "catalog.yaml").read_text(encoding="utf-8")
    broken = text.replace(
        "      - {name: Qwen3-4B, params_total_b: 4.0,",
        "      - {name: Qwen3-4B, context_extended: 999999, params_total_b: 4.0,",
    )
    assert broken != text
    path = tmp_path / "catalog.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(CatalogError, match="catalog.yaml"):
        load_catalog(path)


# ---------------------------------------------------------------- licence conditions


def test_llama4_multimodal_eu_restriction_is_stated(cat):
    for model_id in ["llama-4-maverick", "llama-4-scout", "llama-4-behemoth"]:
        model = cat.by_id[model_id]
        assert "歐盟" in model.commercial_conditions, model_id
        assert "European Union" in model.commercial_conditions_en, model_id
        assert "use-policy" in model.sources["licence"], model_id


def test_falcon3_licence_name_is_the_model_card_one(cat):
    falcon3 = cat.by_id["falcon-3"]
    assert falcon3.licence.name == "TII Falcon-LLM License 2.0"
    assert any(c.field == "licence" for c in falcon3.article_claims)


def test_model_document_states_native_and_extended_context(cat):
    from assistant.index import model_document

    qwen3 = model_document(cat.by_id["qwen3"], cat)
    assert "原生 32k" in qwen3 and "YaRN" in qwen3 and "128k" in qwen3
    assert "native 32k" in qwen3 and "128k with YaRN" in qwen3
    phi4 = model_document(cat.by_id["phi-4"], cat)
    assert "16k" in phi4 and "YaRN" not in phi4
    qwen25 = model_document(cat.by_id["qwen2.5"], cat)
    assert "Qwen2.5-3B" in qwen25 and "Qwen Research License" in qwen25  # per-size facts are searchable


# ---------------------------------------------------------------- answers a user reads


@pytest.mark.parametrize(
    "question, model_id, variant, key",
    [
        ("Phi-4-mini 可以商用嗎？多大？", "phi-4-mini", None, "fact.commercial.yes"),
        ("Phi-4-mini 能讀多長的上下文？", "phi-4-mini", None, "fact.context"),
        ("Codestral Mamba 能拿來商用嗎？", "codestral-mamba", None, "fact.commercial.yes"),
        ("DeepSeek V3.1 是什麼授權？", "deepseek-v3.1", None, "fact.licence"),
        ("Kimi K2 0905 的 context 有多長", "kimi-k2-0905", None, "fact.context"),
        ("Is Phi-4-multimodal able to take audio?", "phi-4-multimodal", None, "fact.modality.yes"),
        ("Qwen2.5-3B 能商用嗎？", "qwen2.5", "Qwen2.5-3B", "fact.commercial.no"),
        ("Is Qwen2.5-72B-Instruct OK for a commercial product?", "qwen2.5", "Qwen2.5-72B", "fact.commercial.conditional"),
    ],
)
def test_answers_about_a_named_release_state_that_releases_facts(shared_catalog, shared_chunks, question, model_id, variant, key):
    reply = answer(shared_catalog, shared_chunks, question)
    assert reply.route == "fact"
    assert [(s.id, s.variant) for s in reply.plan.models()] == [(model_id, variant)]
    assert reply.lead["key"] == key
    facts = shared_catalog.model_for(variant or shared_catalog.by_id[model_id].name)
    assert reply.lead["slots"]["name"] in (facts.name, variant)
    if "id" in reply.lead["slots"]:
        assert reply.lead["slots"]["id"] == facts.licence.id
    if key == "fact.context":
        from assistant.labels import format_context

        assert format_context(facts.context_native, reply.language) in reply.lead["slots"]["context"]
    assert "14.7B" not in reply.answer or model_id == "phi-4"  # never the family flagship's size


def test_a_benchmark_name_holds_no_model(cat):
    """"BFCL v3" and "AIME 2025" are benchmarks (capabilities.yaml), not DeepSeek-V3; the model
    named on its own still counts, and so does a version fragment the validator reads."""
    from assistant.llm.claims import read_answer  # noqa: PLC0415

    assert "BFCL v3" in cat.other_names
    text = normalize("Granite 4.1 scores BFCL v3 73.7; DeepSeek V3 is 671B.")
    found = [(m.kind, m.target) for m in cat.mentions(text)]
    assert ("model", "deepseek-v3") in found and found.count(("model", "deepseek-v3")) == 1, found
    reading = read_answer("DeepSeek-V4 很強，不過 BFCL v3 73.7 是 Granite 的分數。", cat, [])
    assert not any(m.target == "deepseek-v3" for m in reading.mentions), reading.mentions


@pytest.mark.parametrize(("text", "read"), [("mistal small or gemma3", "mistral small or gemma3"), ("deepsek r1", "deepseek r1"),
                                            ("granit 4", "granite 4"), ("gamma distribution", "gamma distribution"),
                                            ("is quen3 coder good", "is qwen3 coder good"), ("item2 in a list", "item2 in a list"),
                                            ("which model is better", "which model is better")])
def test_a_misspelt_family_name_is_read_and_an_english_word_is_not(cat, text, read):
    fixed, pairs = cat.fix_typos(text, ("gamma",))
    assert fixed == read
    assert bool(pairs) == (text != read)
