"""Shortlists (`assistant.answer.recommend`): task-fitness rules from the catalog's
`request_rules`/`weakness_tags`, no padding, relevant exclusions."""

from __future__ import annotations

import pytest

from assistant.answer.recommend import build_shortlist, relevant_exclusions, requests_of
from assistant.constraints import parse_constraints
from assistant.knowledge import load_catalog

from .conftest import KNOWLEDGE

TRADITIONAL_SERVICE_ZH = "我要用繁體中文做客服，推薦哪個模型？"
TRADITIONAL_SERVICE_EN = "I need a Traditional Chinese customer-service bot, which model?"
RULED_OUT_FOR_TRADITIONAL = {"simplified-drift", "no-chinese"}


@pytest.fixture(scope="module")
def cat():
    return load_catalog(KNOWLEDGE / "catalog.yaml")


def shortlist(cat, question, zh=True, mentioned=None):
    return build_shortlist(cat, parse_constraints(question, cat), question, zh, mentioned=mentioned)


@pytest.mark.parametrize(
    ("question", "zh"), [(TRADITIONAL_SERVICE_ZH, True), (TRADITIONAL_SERVICE_EN, False)]
)
def test_traditional_service_never_recommends_drifting_or_non_chinese_models(cat, question, zh):
    result = shortlist(cat, question, zh)
    assert result.recommendations
    for rec in result.recommendations:
        assert not RULED_OUT_FOR_TRADITIONAL & set(rec.model.weakness_tags), rec.model.id


@pytest.mark.parametrize(
    ("question", "zh"), [(TRADITIONAL_SERVICE_ZH, True), (TRADITIONAL_SERVICE_EN, False)]
)
def test_traditional_service_excludes_with_the_catalogs_reason(cat, question, zh):
    excluded = {e.model.id: e for e in shortlist(cat, question, zh).excluded}
    drift = excluded["qwen3"]
    assert "simplified-drift" in drift.model.weakness_tags
    label = cat.weakness_labels["simplified-drift"]
    assert drift.reason == (f"Qwen3：{label.zh}" if zh else f"Qwen3: {label.en}")
    assert drift.constraint == "task:traditional-chinese"
    no_chinese_label = cat.weakness_labels["no-chinese"]
    assert (no_chinese_label.zh if zh else no_chinese_label.en) in excluded["smollm2"].reason


def test_requests_of_adds_traditional_and_low_latency(cat):
    question = "低延遲的繁體中文客服模型"
    requests = requests_of(question, parse_constraints(question, cat))
    assert {"chinese", "traditional-chinese", "low-latency"} <= set(requests)
    assert len(requests) == len(set(requests))


def test_requests_of_plain_coding_question(cat):
    question = "我只有 16GB 筆電，推薦寫程式的模型"
    assert requests_of(question, parse_constraints(question, cat)) == ["coding"]


@pytest.mark.parametrize(
    "question",
    [
        "我只有 16GB 筆電，推薦寫程式的模型",
        "I have 8GB RAM, best coding model?",
        "我只有 4GB 記憶體，推薦寫程式的模型",
    ],
)
def test_coding_shortlist_lists_only_coding_models(cat, question):
    result = shortlist(cat, question, zh=not question.startswith("I "))
    assert result.recommendations
    for rec in result.recommendations:
        assert "coding" in rec.model.strengths, rec.model.id


def test_no_padding_when_few_models_fit(cat):
    result = shortlist(cat, "我只有 4GB 記憶體，推薦寫程式的模型")
    assert 0 < len(result.recommendations) < 5
    assert all(rec.fit is not None and rec.fit.fits for rec in result.recommendations)


def test_general_request_fills_up_to_five_from_different_families(cat):
    result = shortlist(cat, "我只有 8GB 筆電，推薦模型")
    families = [rec.model.family for rec in result.recommendations]
    assert len(families) == 5
    assert len(set(families)) == 5


def test_why_not_lists_the_named_model_first(cat):
    result = shortlist(cat, "我只有 16GB 筆電，推薦寫程式的模型", mentioned=["deepseek-v3"])
    assert result.excluded[0].model.id == "deepseek-v3"
    assert result.excluded[0].constraint == "memory"


def test_why_not_leaves_out_obviously_too_big_models(cat):
    c = parse_constraints("我只有 16GB 筆電，推薦寫程式的模型", cat)
    result = build_shortlist(cat, c, "我只有 16GB 筆電，推薦寫程式的模型", True)
    assert result.excluded
    for exclusion in result.excluded:
        smallest = min(v.params_total_b for v in exclusion.model.sizes)
        assert smallest * 0.6 <= c.memory_gb * 4, exclusion.model.id
    assert "kimi-k2" not in {e.model.id for e in result.excluded}


def test_relevant_exclusions_keeps_one_per_family(cat):
    c = parse_constraints("我要用繁體中文做客服，推薦哪個模型？", cat)
    result = build_shortlist(cat, c, "我要用繁體中文做客服，推薦哪個模型？", True)
    again = relevant_exclusions(result.excluded, c, result.specialist_tasks, [])
    families = [e.model.family for e in again]
    assert len(families) == len(set(families))
    assert len(again) <= 5
