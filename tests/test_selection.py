"""The selection engine: hard filters never broken, known recommendation points, "why not".

The property test checks every recommendation against the catalog's own fields and a
fresh memory estimate, not through `check_model`, so a bug in the filter cannot hide
behind the same bug in the check.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.answer.recommend import build_shortlist
from assistant.constraints import Constraints, parse_constraints
from assistant.hardware import estimate
from assistant.knowledge import Catalog, load_catalog
from assistant.selection import DEFAULT_CONTEXT, check_model

from .conftest import KNOWLEDGE


def shortlist(catalog, c, lang="zh-TW", limit=5, family=None):
    """(recommendations, exclusions) from the answer engine's shortlist."""
    result = build_shortlist(
        catalog, c, "", lang != "en", limit=limit, family=family, diverse=family is None, mentioned=c.mentioned_models
    )
    return result.recommendations, result.excluded


# `shortlist` reads size bounds with a 5 % slack, because catalog variant names carry
# nominal sizes ("Qwen3-8B" is 8.2B, "Phi-3.5-vision" 4.2B): "8B 以下" should keep Qwen3-8B.
SIZE_SLACK = 0.05
IMAGE_MODALITIES = {"image", "vision", "video"}
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@lru_cache(maxsize=1)
def _catalog() -> Catalog:
    return load_catalog(KNOWLEDGE / "catalog.yaml")


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return _catalog()


def _context_for(c: Constraints) -> int:
    # The context the engine sizes the KV cache for: the asked context up to 32k, else 4k.
    if c.min_context_tokens and c.min_context_tokens <= 32768:
        return max(c.min_context_tokens, DEFAULT_CONTEXT)
    return DEFAULT_CONTEXT


def _violations(rec, c: Constraints) -> list[str]:
    """Every stated hard constraint this recommendation breaks, read from catalog fields."""
    model, variant, fit = rec.model, rec.variant, rec.fit
    broken: list[str] = []
    if model.status != "released":
        broken.append(f"status {model.status}")
    if c.commercial_required and model.commercial_use == "no":
        broken.append("commercial use forbidden")
    if c.licence_ids and model.licence.id not in c.licence_ids:
        broken.append(f"licence {model.licence.id} not in {c.licence_ids}")
    if c.open_source_only and not model.licence.open_source:
        broken.append(f"licence {model.licence.id} is not open source")
    if model.country in c.avoid_countries:
        broken.append(f"country {model.country} avoided")
    if model.family in c.avoid_families:
        broken.append(f"family {model.family} avoided")
    if "vision" in c.tasks and not IMAGE_MODALITIES & set(model.modalities):
        broken.append(f"no image input ({model.modalities})")
    if variant not in model.sizes:
        broken.append(f"variant {variant.name} is not a size of {model.id}")
    if c.max_params_b is not None and variant.params_total_b > c.max_params_b * (1 + SIZE_SLACK):
        broken.append(f"{variant.name} {variant.params_total_b}B > {c.max_params_b}B")
    if c.min_params_b is not None and variant.params_total_b < c.min_params_b * (1 - SIZE_SLACK):
        broken.append(f"{variant.name} {variant.params_total_b}B < {c.min_params_b}B")
    # The extended context (YaRN, RoPE scaling) counts; answers state the method.
    if c.min_context_tokens is not None and (model.context_max or 0) < c.min_context_tokens:
        broken.append(f"context {model.context_max} < {c.min_context_tokens}")
    if c.memory_gb is not None:
        if fit is None:
            broken.append("no fit estimate under a memory budget")
        else:
            if fit.variant != variant.name:
                broken.append(f"fit is for {fit.variant}, recommendation names {variant.name}")
            if not fit.fits or fit.required_gb > c.memory_gb:
                broken.append(f"needs {fit.required_gb:.1f}GB of {c.memory_gb}GB")
            if fit.memory_kind != (c.memory_kind or "ram"):
                broken.append(f"fit computed for {fit.memory_kind}, asked {c.memory_kind}")
            fresh = estimate(
                variant, c.memory_gb, fit.quant, _context_for(c), memory_kind=c.memory_kind or "ram"
            )
            if not fresh.fits:
                broken.append(f"fresh estimate: {variant.name} {fit.quant} does not fit {c.memory_gb}GB")
    return broken


def _sometimes(draw, strategy, empty, one_in: int = 3):
    """Draw from `strategy` about once in `one_in` draws, else `empty`: sparse sets keep
    most shortlists non-empty, so the property is checked on real recommendations."""
    return draw(strategy) if draw(st.integers(0, one_in - 1)) == 0 else empty


@st.composite
def constraint_sets(draw) -> Constraints:
    cat = _catalog()
    licence_ids = sorted({m.licence.id for m in cat.models})
    family_ids = sorted(f.id for f in cat.families)
    memory_gb = _sometimes(draw, st.floats(min_value=1, max_value=200, allow_nan=False), None, 2)
    return Constraints(
        commercial_required=draw(st.booleans()),
        licence_ids=_sometimes(
            draw, st.lists(st.sampled_from(licence_ids), min_size=1, max_size=3, unique=True), [], 4
        ),
        open_source_only=_sometimes(draw, st.booleans(), False),
        memory_gb=memory_gb,
        memory_kind=draw(st.sampled_from(["ram", "vram", "unified"])) if memory_gb is not None else None,
        max_params_b=_sometimes(draw, st.floats(min_value=0.1, max_value=2000, allow_nan=False), None),
        min_params_b=_sometimes(draw, st.floats(min_value=0.1, max_value=100, allow_nan=False), None, 4),
        min_context_tokens=_sometimes(
            draw,
            st.sampled_from([2048, 4096, 8192, 16384, 32768, 65536, 128000, 131072, 262144, 1_000_000]),
            None,
        ),
        avoid_countries=draw(st.lists(st.sampled_from(["CN", "US", "FR"]), max_size=2, unique=True)),
        avoid_families=draw(st.lists(st.sampled_from(family_ids), max_size=4, unique=True)),
        tasks=draw(
            st.lists(
                st.sampled_from(
                    ["vision", "coding", "reasoning", "chinese", "long-context", "edge", "tool-use"]
                ),
                max_size=3,
                unique=True,
            )
        ),
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(c=constraint_sets(), lang=st.sampled_from(["zh-TW", "en"]))
def test_no_recommendation_breaks_a_hard_constraint(c, lang):
    recs, excluded = shortlist(_catalog(), c, lang)
    for rec in recs:
        assert _violations(rec, c) == [], (rec.model.id, rec.variant.name, c)
        assert rec.reason.strip(), rec.model.id
    for exclusion in excluded:
        assert exclusion.reason.strip(), exclusion.model.id
        assert exclusion.model.name in exclusion.reason
    recommended = {r.model.id for r in recs}
    assert not recommended & {e.model.id for e in excluded}


def test_the_property_check_itself_catches_violations(cat):
    """Guard against a vacuous property: a deliberately bad pick is flagged."""
    from assistant.selection import Recommendation

    kimi = cat.by_id["kimi-k2"]
    rec = Recommendation(kimi, kimi.sizes[0], 0.0, "x", None)
    broken = _violations(rec, Constraints(memory_gb=16, memory_kind="ram", avoid_countries=["CN"]))
    assert any("country" in b for b in broken) and any("memory" in b for b in broken)


# ---------------------------------------------------------------- known points


def _shortlist(question: str, lang: str = "zh-TW", limit: int = 5):
    cat = _catalog()
    c = parse_constraints(question, cat)
    recs, excluded = shortlist(cat, c, lang, limit=limit)
    return c, recs, excluded


def test_16gb_laptop_excludes_kimi_k2_with_the_reason(cat):
    c = Constraints(memory_gb=16, memory_kind="ram", device="laptop")
    recs, excluded = shortlist(cat, c)
    assert "kimi-k2" not in {r.model.id for r in recs}
    constraint, reason = check_model(cat.by_id["kimi-k2"], c, "zh-TW", cat)
    assert constraint == "memory" and "放不下" in reason and "1T" in reason and "16GB" in reason
    # An obviously-too-big giant is not worth a "why not" line unless the user named it.
    assert "kimi-k2" not in {e.model.id for e in excluded}
    named = Constraints(memory_gb=16, memory_kind="ram", device="laptop", mentioned_models=["kimi-k2"])
    assert "kimi-k2" in {e.model.id for e in shortlist(cat, named)[1]}


def test_16gb_laptop_question_recommends_only_models_that_fit():
    c, recs, excluded = _shortlist("我有一台 16GB 筆電，推薦哪個模型？")
    assert c.memory_gb == 16
    assert recs
    for rec in recs:
        assert rec.fit is not None and rec.fit.fits and rec.fit.required_gb <= 16
    assert not any(e.model.id == "kimi-k2" for e in excluded)  # far beyond 16 GB: not a "why not"


@pytest.mark.parametrize("model_id", ["command-a", "command-r", "codestral", "ministral"])
def test_commercial_requirement_excludes_non_commercial_licences(cat, model_id):
    recs, _ = shortlist(cat, Constraints(commercial_required=True), limit=len(cat.models))
    assert model_id not in {r.model.id for r in recs}
    assert cat.by_id[model_id].commercial_use == "no"  # the premise of this test


def test_commercial_requirement_names_the_licence_in_why_not(cat):
    c = Constraints(commercial_required=True, mentioned_models=["command-a", "codestral"])
    _, excluded = shortlist(cat, c)
    reasons = {e.model.id: e.reason for e in excluded}
    assert "不可商用" in reasons["command-a"] and cat.by_id["command-a"].licence.name in reasons["command-a"]
    assert "不可商用" in reasons["codestral"]


def test_without_commercial_requirement_non_commercial_models_may_be_recommended(cat):
    recs, _ = shortlist(cat, Constraints(), limit=len(cat.models), family="cohere")
    assert {"command-a", "command-r"} <= {r.model.id for r in recs}


def test_avoid_china_excludes_chinese_vendors(cat):
    recs, excluded = shortlist(cat, Constraints(avoid_countries=["CN"]), limit=len(cat.models))
    assert recs, "avoiding one country must leave other models"
    assert all(r.model.country != "CN" for r in recs)
    assert not {r.model.family for r in recs} & {"qwen", "kimi", "glm"}
    assert not {r.model.id for r in recs} & {"deepseek-r1", "deepseek-v3", "deepseek-r1-distill-qwen"}
    for exclusion in excluded:
        if exclusion.model.country == "CN":
            assert "中國" in exclusion.reason


def test_avoid_china_question_end_to_end():
    c, recs, _ = _shortlist("不要中國公司的模型，推薦哪個？", limit=20)
    assert c.avoid_countries == ["CN"]
    assert recs
    assert all(r.model.country != "CN" for r in recs)
    assert not {r.model.family for r in recs} & {"qwen", "kimi", "glm"}


def test_avoid_china_excludes_the_whole_deepseek_family(cat):
    recs, _ = shortlist(cat, Constraints(avoid_countries=["CN"]), limit=len(cat.models))
    assert not {r.model.family for r in recs} & {"qwen", "deepseek", "kimi", "glm"}


def test_vision_requirement_keeps_only_image_models(cat):
    recs, excluded = shortlist(cat, Constraints(tasks=["vision"]), limit=len(cat.models))
    assert recs
    for rec in recs:
        assert "image" in rec.model.modalities, rec.model.id
    text_only = {m.id for m in cat.models if "image" not in m.modalities}
    assert not text_only & {r.model.id for r in recs}
    assert all("看圖" in e.reason for e in excluded if e.constraint == "vision")


# Sizes whose model has image input but which are text-only themselves (model cards:
# Gemma 3 270M and 1B are text-only; Phi-3.5-mini and Phi-3.5-MoE take no images).
TEXT_ONLY_VARIANTS = {"Gemma 3 270M", "Gemma 3 1B", "Phi-3.5-mini", "Phi-3.5-MoE"}


@pytest.mark.parametrize("memory_gb", [None, 2.0, 4.0])
def test_vision_requirement_recommends_a_size_that_takes_images(cat, memory_gb):
    c = Constraints(tasks=["vision"], memory_gb=memory_gb, memory_kind="ram" if memory_gb else None)
    recs, _ = shortlist(cat, c, limit=len(cat.models))
    assert recs
    assert not {r.variant.name for r in recs} & TEXT_ONLY_VARIANTS


def test_rtx_4090_recommends_something_that_fits_24gb_vram():
    c, recs, excluded = _shortlist("我有一張 4090，想跑寫程式的模型")
    assert c.memory_gb == 24 and c.memory_kind == "vram"
    assert recs
    for rec in recs:
        assert rec.fit is not None and rec.fit.fits
        assert rec.fit.required_gb <= 24
        assert rec.fit.memory_kind == "vram"
    # Why-not names coding candidates that miss one condition, not the 600B+ giants.
    assert not {"kimi-k2", "deepseek-r1"} & {e.model.id for e in excluded}
    assert all("coding" in e.model.strengths or e.model.verdict == "recommended" for e in excluded)


def test_small_budget_picks_a_smaller_variant_than_large_budget(cat):
    small, _ = shortlist(cat, Constraints(memory_gb=8, memory_kind="ram"), limit=20, family="qwen")
    large, _ = shortlist(cat, Constraints(memory_gb=200, memory_kind="vram"), limit=20, family="qwen")
    qwen_small = next(r for r in small if r.model.id == "qwen3")
    qwen_large = next(r for r in large if r.model.id == "qwen3")
    assert qwen_small.variant.params_total_b < qwen_large.variant.params_total_b


def test_no_model_fits_gives_empty_shortlist_and_reasons(cat):
    c = Constraints(memory_gb=1, memory_kind="ram", min_params_b=100)
    recs, excluded = shortlist(cat, c)
    assert recs == []
    assert excluded and all(e.reason for e in excluded)


def test_article_verdict_ranks_not_recommended_models_low(cat):
    recs, _ = shortlist(cat, Constraints(), limit=5)
    assert recs
    assert all(r.model.verdict != "not-recommended" for r in recs)


def test_english_lang_gives_english_reasons(cat):
    c = Constraints(commercial_required=True, memory_gb=16, memory_kind="ram", tasks=["coding"])
    recs, excluded = shortlist(cat, c, "en")
    assert recs and excluded
    for rec in recs:
        assert not HAN.search(rec.reason), rec.reason
    for exclusion in excluded:
        assert not HAN.search(exclusion.reason), exclusion.reason
    assert any("forbids commercial use" in e.reason or "does not fit" in e.reason for e in excluded)


def test_zh_reasons_are_chinese_and_cite_catalog_fields(cat):
    c = Constraints(commercial_required=True, memory_gb=16, memory_kind="ram", tasks=["coding"])
    recs, _ = shortlist(cat, c, "zh-TW")
    assert recs
    for rec in recs:
        assert HAN.search(rec.reason)
        assert rec.model.licence.id in rec.reason
        assert rec.fit is not None and rec.fit.quant in rec.reason
