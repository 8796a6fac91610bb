"""Ranking (`assistant.answer.ranking`): hard filters exclude with the constraint named, soft
preferences and caveats only reorder, "only N fit" is the number that passed, and the
answers built on the shortlist (recommendations, "just one", "the strongest", "why not X")
agree with it.

The property test checks every recommendation against the catalog's own fields and a fresh
placement from `hardware.estimate_fit`, not through `ranking.check`, so a bug in the filter
cannot hide behind the same bug in the check.
"""

from __future__ import annotations

from functools import lru_cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.answer.describe import constraint_summary
from assistant.answer.fitting import COMFORTABLE, DEFAULT_CONTEXT, machine_for
from assistant.answer.ranking import (
    Shortlist,
    check,
    default_capabilities,
    ranking_task,
    relevant_exclusions,
    requests_of,
    shortlist,
    supports_language,
    takes_images,
)
from assistant.constraints import Constraints, parse_constraints
from assistant.hardware import estimate_fit
from assistant.knowledge import Catalog, load_catalog
from assistant.messages import say

from .conftest import CJK, KNOWLEDGE, answer, fired_rule


@lru_cache(maxsize=1)
def _catalog() -> Catalog:
    return load_catalog(KNOWLEDGE / "catalog.yaml")


@pytest.fixture(scope="module")
def cat(shared_catalog) -> Catalog:
    return shared_catalog


def ranked(cat: Catalog, c: Constraints, **kwargs) -> Shortlist:  # type: ignore[no-untyped-def]
    return shortlist(cat, c, default_capabilities(), **kwargs)


def ids(recs) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.model.id for r in recs]


# ---------------------------------------------------------------- hard filters name the constraint


HARD = [
    (Constraints(commercial_required=True), "codestral", "commercial"),
    (Constraints(commercial_required=True), "command-a", "commercial"),
    (Constraints(licence_ids=["MIT"]), "gemma-3", "licence"),
    (Constraints(avoid_licences=["Gemma"]), "gemma-3", "licence"),
    (Constraints(open_source_only=True), "llama-3", "licence"),
    (Constraints(avoid_countries=["CN"]), "qwen3", "country"),
    (Constraints(avoid_countries=["CN"]), "r1-1776", "country"),  # a US fine-tune of a Chinese base
    (Constraints(avoid_families=["llama"]), "llama-3", "vendor"),
    (Constraints(languages=["zh"]), "smollm2", "language"),
    (Constraints(tasks=["vision"]), "phi-4", "modality"),
    (Constraints(tasks=["speech"]), "phi-4", "modality"),
    (Constraints(max_params_b=3.0), "phi-4", "size"),
    (Constraints(min_params_b=100.0), "phi-4", "size"),
    (Constraints(min_context_tokens=1_000_000), "phi-4", "context"),
    (Constraints(memory_gb=8.0, memory_kind="ram"), "kimi-k2", "memory"),
    (Constraints(), "llama-4-behemoth", "released"),
]


@pytest.mark.parametrize(("c", "model_id", "constraint"), HARD, ids=[f"{m}-{k}" for _c, m, k in HARD])
def test_a_hard_constraint_excludes_and_names_itself(cat, c, model_id, constraint):
    broken = check(cat.by_id[model_id], c, cat)
    assert broken is not None and broken[0] == constraint
    result = ranked(cat, c, mentioned=[model_id])
    assert model_id not in ids(result.ranked)
    exclusion = next(e for e in result.all_excluded if e.model.id == model_id)
    assert exclusion.constraint == constraint
    assert model_id in ids(e for e in result.excluded), "a model the user named is always explained"
    name = cat.by_id[model_id].name
    zh, en = exclusion.reason.text("zh-TW"), exclusion.reason.text("en")
    assert name in zh and name in en
    assert not CJK.search(en.replace(name, "")), en


@pytest.mark.parametrize(
    "c",
    [
        Constraints(commercial_required=True, memory_gb=4.0, memory_kind="ram"),
        Constraints(commercial_required=True, max_params_b=3.5),
        Constraints(licence_ids=["Apache-2.0"], max_params_b=4.0),
    ],
    ids=["commercial-4GB", "commercial-3.5B", "apache-4B"],
)
def test_a_size_with_its_own_licence_is_judged_by_that_licence(cat, c):
    """Qwen2.5-3B is Qwen Research (non-commercial) though the series is mostly Apache-2.0: a request
    that needs commercial use or Apache-2.0 must never be given that size."""
    assert cat.by_id["qwen2.5"].with_variant("Qwen2.5-3B").commercial_use == "no"  # the premise
    for rec in ranked(cat, c, family="qwen").ranked:
        if c.commercial_required:
            assert rec.model.commercial_use != "no", (rec.model.id, rec.variant.name, rec.model.licence.id)
        if c.licence_ids:
            assert rec.model.licence.id.startswith("Apache-2.0"), (rec.model.id, rec.variant.name, rec.model.licence.id)


def test_a_model_passing_every_filter_has_no_reason(cat):
    assert check(cat.by_id["qwen3"], Constraints(commercial_required=True, licence_ids=["Apache-2.0"]), cat) is None


def test_the_traditional_chinese_request_excludes_models_without_chinese(cat):
    c = Constraints(languages=["zh"], traditional=True, tasks=["chinese"])
    result = ranked(cat, c)
    assert "smollm2" not in ids(result.ranked)
    assert all(supports_language(r.model, "zh") is not False for r in result.ranked)


def test_caveats_and_preferences_reorder_but_never_exclude(cat):
    plain = ranked(cat, Constraints(languages=["zh"], tasks=["chinese"]))
    traditional = ranked(cat, Constraints(languages=["zh"], traditional=True, tasks=["chinese"]))
    # Drifting into Simplified is a caution for a Traditional-Chinese request: stated, not a filter.
    assert "simplified-drift" in _catalog().by_id["qwen3"].weakness_tags
    assert "qwen3" in ids(traditional.ranked)
    assert "caveat.weakness" in [m.key for m in traditional.caveats["qwen3"]]
    assert set(ids(traditional.ranked)) == set(ids(plain.ranked))
    preferred = ranked(cat, Constraints(prefer_families=["mistral"]))
    assert preferred.count == ranked(cat, Constraints()).count
    assert set(ids(preferred.ranked)) == set(ids(ranked(cat, Constraints()).ranked))


def test_a_preferred_family_moves_up(cat):
    base = ranked(cat, Constraints(tasks=["coding"]))
    preferred = ranked(cat, Constraints(tasks=["coding"], prefer_families=["mistral"]))
    first_mistral = lambda s: min(s.position(r.model.id) for r in s.ranked if r.model.family == "mistral")  # noqa: E731
    assert first_mistral(preferred) <= first_mistral(base)


def test_an_unlisted_language_is_a_caveat_not_an_exclusion(cat):
    result = ranked(cat, Constraints(languages=["vi"]))
    assert "qwen3" in ids(result.ranked)  # catalog says only "multi": not known either way
    assert "caveat.language_unlisted" in [m.key for m in result.caveats["qwen3"]]


# ---------------------------------------------------------------- the shortlist's shape


def test_count_is_every_model_that_passed_and_position_is_one_based(cat):
    result = ranked(cat, Constraints(memory_gb=16.0, memory_kind="ram", tasks=["coding"]))
    assert result.count == len(result.ranked)
    passing = [m.id for m in cat.models if check(m, Constraints(memory_gb=16.0, memory_kind="ram", tasks=["coding"]), cat) is None]
    assert result.count == len(passing)
    assert {e.model.id for e in result.all_excluded} | set(ids(result.ranked)) == {m.id for m in cat.models}
    first = result.ranked[0].model.id
    assert result.position(first) == 1
    assert result.position("no-such-model") is None
    scores = [r.score for r in result.ranked]
    assert scores == sorted(scores, reverse=True)


def test_the_listed_models_are_the_top_of_the_ranking(cat):
    # "The top 5" must be the top 5: no family quota pushes a stronger model off the list.
    result = ranked(cat, Constraints(memory_gb=24.0, memory_kind="vram", tasks=["coding"]))
    assert len(result.recommendations) == 5
    assert ids(result.recommendations) == ids(result.ranked[:5])
    diverse = ranked(cat, Constraints(memory_gb=24.0, memory_kind="vram", tasks=["coding"]), diverse=True)
    families = [r.model.family for r in diverse.recommendations]
    assert len(set(families)) == len(families)  # the option is still there for callers that want it


def test_family_and_only_restrict_the_candidates(cat):
    qwen = ranked(cat, Constraints(), family="qwen")
    assert qwen.ranked and {r.model.family for r in qwen.ranked} == {"qwen"}
    two = ranked(cat, Constraints(), only=["phi-4", "gemma-3"])
    assert set(ids(two.ranked)) == {"phi-4", "gemma-3"}


def test_no_model_fits_gives_nothing_and_reasons(cat):
    result = ranked(cat, Constraints(memory_gb=1.0, memory_kind="ram", min_params_b=100.0))
    assert result.recommendations == [] and result.count == 0
    assert result.excluded and all(e.reason.text("en") for e in result.excluded)


def test_a_small_budget_picks_a_smaller_size_than_a_large_one(cat):
    small = next(r for r in ranked(cat, Constraints(memory_gb=8.0, memory_kind="ram"), family="qwen").ranked if r.model.id == "qwen3")
    large = next(r for r in ranked(cat, Constraints(memory_gb=200.0, memory_kind="vram"), family="qwen").ranked if r.model.id == "qwen3")
    assert small.variant.params_total_b < large.variant.params_total_b


# Sizes of image-capable models that are text-only themselves (model cards).
TEXT_ONLY_VARIANTS = {"Gemma 3 270M", "Gemma 3 1B", "Phi-3.5-mini", "Phi-3.5-MoE"}


@pytest.mark.parametrize("memory_gb", [None, 2.0, 4.0])
def test_a_vision_request_recommends_a_size_that_takes_images(cat, memory_gb):
    c = Constraints(tasks=["vision"], memory_gb=memory_gb, memory_kind="ram" if memory_gb else None)
    result = ranked(cat, c, limit=100)
    assert result.ranked
    for rec in result.ranked:
        assert takes_images(rec.model, rec.variant), (rec.model.id, rec.variant.name)
    assert not {r.variant.name for r in result.ranked} & TEXT_ONLY_VARIANTS


# ---------------------------------------------------------------- which exclusions are worth a line


def test_a_named_model_is_explained_first(cat):
    c = Constraints(memory_gb=16.0, memory_kind="ram", tasks=["coding"], mentioned_models=["deepseek-v3"])
    result = ranked(cat, c, mentioned=["deepseek-v3"])
    assert result.excluded[0].model.id == "deepseek-v3"
    assert result.excluded[0].constraint == "memory"


def test_models_obviously_out_of_reach_are_not_listed_unless_named(cat):
    c = Constraints(memory_gb=16.0, memory_kind="ram", tasks=["coding"])
    result = ranked(cat, c)
    assert result.excluded
    for exclusion in result.excluded:
        smallest = min(v.params_total_b for v in exclusion.model.sizes)
        assert exclusion.constraint != "memory" or smallest * 0.6 <= c.memory_gb * 4, exclusion.model.id
    assert "kimi-k2" not in ids(e for e in result.excluded)
    named = ranked(cat, c, mentioned=["kimi-k2"])
    assert "kimi-k2" in ids(e for e in named.excluded)


def test_relevant_exclusions_keep_one_per_family_and_at_most_five(cat):
    c = Constraints(languages=["zh"], traditional=True, tasks=["chinese"], memory_gb=24.0, memory_kind="vram")
    result = ranked(cat, c)
    again = relevant_exclusions(result.all_excluded, c, [])
    families = [e.model.family for e in again]
    assert len(families) == len(set(families)) and len(again) <= 5
    assert all(e.constraint != "released" for e in again)


# ---------------------------------------------------------------- what ranks

def test_ranking_task_follows_the_request():
    assert ranking_task(Constraints(tasks=["coding"])) == "coding"
    assert ranking_task(Constraints(tasks=["math"])) == "math"  # competition maths (AIME), borrowing reasoning when unmeasured
    assert ranking_task(Constraints(languages=["zh"], traditional=True)) == "traditional-chinese"
    assert ranking_task(Constraints(languages=["zh"])) == "chinese"
    assert ranking_task(Constraints(languages=["ja"])) == "multilingual"
    assert ranking_task(Constraints(longest_context=True)) == "long-context"
    assert ranking_task(Constraints()) == "general"


def test_requests_of_adds_the_language_needs(cat):
    question = "低延遲的繁體中文客服模型"
    requests = requests_of(parse_constraints(question, cat))
    assert {"chinese", "traditional-chinese"} <= set(requests)
    assert len(requests) == len(set(requests))


def test_a_measured_model_ranks_above_an_unmeasured_one(cat):
    result = ranked(cat, Constraints(tasks=["coding"]))
    measured = [r.capability is not None for r in result.ranked]
    assert True in measured and False in measured
    assert measured == sorted(measured, reverse=True), "every measured model first"
    for rec in result.ranked:
        assert (rec.capability is None) == bool(rec.capability_reason)


# ---------------------------------------------------------------- property: no recommendation breaks a hard constraint

SIZE_SLACK = 0.05


def _violations(rec, c: Constraints, cat: Catalog) -> list[str]:  # type: ignore[no-untyped-def]
    """Every stated hard constraint this recommendation breaks, read from catalog fields."""
    model, variant, fit = rec.model, rec.variant, rec.fit
    own = cat.by_id[model.id]
    broken: list[str] = []
    if model.status != "released":
        broken.append(f"status {model.status}")
    if c.commercial_required and model.commercial_use == "no":
        broken.append("commercial use forbidden")
    if c.licence_ids and not any(model.licence.id.lower().startswith(x.lower()) for x in c.licence_ids):
        broken.append(f"licence {model.licence.id} not in {c.licence_ids}")
    if c.open_source_only and not model.licence.open_source:
        broken.append(f"licence {model.licence.id} is not open source")
    if model.country in c.avoid_countries:
        broken.append(f"country {model.country} avoided")
    base = cat.by_id.get(model.base_model or "")
    if base is not None and base.country in c.avoid_countries:
        broken.append(f"base model from {base.country}")
    if model.family in c.avoid_families:
        broken.append(f"family {model.family} avoided")
    if "vision" in c.tasks and not takes_images(own, variant):
        broken.append(f"{variant.name} takes no images")
    if variant.name not in {v.name for v in own.sizes}:
        broken.append(f"variant {variant.name} is not a size of {model.id}")
    if c.max_params_b is not None and variant.params_total_b > c.max_params_b * (1 + SIZE_SLACK):
        broken.append(f"{variant.name} {variant.params_total_b}B > {c.max_params_b}B")
    if c.min_params_b is not None and variant.params_total_b < c.min_params_b * (1 - SIZE_SLACK):
        broken.append(f"{variant.name} {variant.params_total_b}B < {c.min_params_b}B")
    if c.min_context_tokens is not None and (own.context_max or 0) < c.min_context_tokens:
        broken.append(f"context {own.context_max} < {c.min_context_tokens}")
    if c.memory_gb is not None:
        if fit is None:
            broken.append("no fit estimate under a memory budget")
        else:
            if fit.variant != variant.name:
                broken.append(f"fit is for {fit.variant}, recommendation names {variant.name}")
            if fit.placement not in COMFORTABLE:
                broken.append(f"placement {fit.placement}")
            # The KV cache is sized for the stated context when the request states one (up to 128k).
            context = c.min_context_tokens if c.min_context_tokens and c.min_context_tokens <= 131072 else None
            fresh = estimate_fit(variant, machine_for(c), fit.quant, context, model_id=model.id)
            if fresh.placement not in COMFORTABLE:
                broken.append(f"fresh estimate: {variant.name} {fit.quant} is {fresh.placement} on {c.memory_gb}GB")
    return broken


def _sometimes(draw, strategy, empty, one_in: int = 3):  # type: ignore[no-untyped-def]
    return draw(strategy) if draw(st.integers(0, one_in - 1)) == 0 else empty


@st.composite
def constraint_sets(draw) -> Constraints:  # type: ignore[no-untyped-def]
    cat = _catalog()
    licence_ids = sorted({m.licence.id for m in cat.models if "/" not in m.licence.id})  # not a series' mixed label
    family_ids = sorted(f.id for f in cat.families)
    memory_gb = _sometimes(draw, st.floats(min_value=1, max_value=200, allow_nan=False), None, 2)
    return Constraints(
        commercial_required=draw(st.booleans()),
        licence_ids=_sometimes(draw, st.lists(st.sampled_from(licence_ids), min_size=1, max_size=3, unique=True), [], 4),
        open_source_only=_sometimes(draw, st.booleans(), False),
        memory_gb=memory_gb,
        memory_kind=draw(st.sampled_from(["ram", "vram", "unified"])) if memory_gb is not None else None,
        max_params_b=_sometimes(draw, st.floats(min_value=0.1, max_value=2000, allow_nan=False), None),
        min_params_b=_sometimes(draw, st.floats(min_value=0.1, max_value=100, allow_nan=False), None, 4),
        min_context_tokens=_sometimes(
            draw, st.sampled_from([2048, 8192, 32768, 65536, 128000, 131072, 262144, 1_000_000]), None),
        avoid_countries=draw(st.lists(st.sampled_from(["CN", "US", "FR"]), max_size=2, unique=True)),
        avoid_families=draw(st.lists(st.sampled_from(family_ids), max_size=4, unique=True)),
        tasks=draw(st.lists(st.sampled_from(["vision", "coding", "reasoning", "long-context", "edge", "tool-use"]),
                            max_size=3, unique=True)),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(c=constraint_sets())
def test_no_recommendation_breaks_a_hard_constraint(c):
    cat = _catalog()
    result = ranked(cat, c)
    for rec in result.ranked:
        assert _violations(rec, c, cat) == [], (rec.model.id, rec.variant.name, c)
    assert not set(ids(result.ranked)) & {e.model.id for e in result.all_excluded}
    assert result.count == len(result.ranked)
    for exclusion in result.excluded:
        assert exclusion.model.name in exclusion.reason.text("zh-TW")


def test_the_property_check_itself_catches_violations(cat):
    """Guard against a vacuous property: a deliberately bad pick is flagged."""
    from assistant.answer.types import Recommendation

    kimi = cat.by_id["kimi-k2"]
    rec = Recommendation(kimi, kimi.sizes[0], 0.0, "x", None)
    broken = _violations(rec, Constraints(memory_gb=16, memory_kind="ram", avoid_countries=["CN"]), cat)
    assert any("country" in b for b in broken) and any("fit" in b for b in broken)
    assert DEFAULT_CONTEXT == 4096


# ---------------------------------------------------------------- answers built on the shortlist


def test_only_n_fit_states_exactly_the_number_that_passed(shared_catalog, shared_chunks):
    question = "只有 4GB 記憶體，要能看圖、要 Apache 授權可以商用的模型"
    reply = answer(shared_catalog, shared_chunks, question)
    assert reply.route == "recommend"
    result = ranked(shared_catalog, reply.plan.constraints)
    sized = ranked(shared_catalog, reply.plan.constraints, per_size=True, limit=10)
    assert 1 < result.count <= 5, result.count
    # A short list is complete and counts what it shows: every fitting size is an entry.
    key = "recommend.only_n_sizes" if sized.count > result.count else "recommend.only_n"
    count = sized.count if sized.count > result.count else result.count
    assert len(reply.recommendations) == count
    summary = constraint_summary(reply.plan, "zh-TW")
    assert say(key, "zh-TW", count=count, summary=summary) in reply.answer
    for wrong in {count - 1, count + 1}:
        assert say(key, "zh-TW", count=wrong, summary=summary) not in reply.answer


def test_only_one_fit_is_said_as_one(shared_catalog, shared_chunks):
    question = "a speech model under 8B that is MIT licensed"
    reply = answer(shared_catalog, shared_chunks, question)
    result = ranked(shared_catalog, reply.plan.constraints)
    assert result.count == 1 and ids(result.ranked) == ["phi-4-multimodal"]
    assert ids(reply.recommendations) == ["phi-4-multimodal"]
    assert reply.lead["key"] == "recommend.top"
    assert say("recommend.sole", "en", summary=constraint_summary(reply.plan, "en")) in reply.answer


@pytest.mark.parametrize("question", ["直接告訴我一個寫程式的模型就好", "just tell me one model for chatting in Japanese"])
def test_just_one_lists_one(shared_catalog, shared_chunks, question):
    reply = answer(shared_catalog, shared_chunks, question)
    assert reply.plan.just_one and reply.route == "recommend"
    assert len(reply.recommendations) == 1
    assert reply.shown == ids(reply.recommendations)
    assert reply.lead["slots"]["name"].startswith(reply.recommendations[0].model.name)


@pytest.mark.parametrize("question", ["現在最強的開源模型是哪個", "what is the most capable open-weight LLM today?", "目前最强的开源大模型"])
def test_the_strongest_question_lists_strong_current_models(shared_catalog, shared_chunks, question):
    reply = answer(shared_catalog, shared_chunks, question)
    assert fired_rule(reply.plan) == "strongest" and reply.plan.strongest
    assert reply.lead["key"] == "recommend.strongest"
    recs = reply.recommendations
    assert len(recs) >= 3
    for rec in recs:
        assert rec.capability is not None, rec.model.id
        assert rec.variant.params_total_b >= 20, (rec.model.id, rec.variant.name)
        assert (rec.model.released or "") >= "2025", rec.model.id
    newest = max(m.released or "" for m in shared_catalog.models)
    assert any((r.model.released or "")[:4] == newest[:4] for r in recs)


def test_the_strongest_is_the_one_measured_strongest(shared_catalog, shared_chunks):
    """"Which is the strongest?" ranks by capability: the first pick is not measured lower than the
    runner-up it is said to lead (licence simplicity must not decide "strongest")."""
    reply = answer(shared_catalog, shared_chunks, "現在最強的開源模型是哪個")
    scores = [r.capability["score"] for r in reply.recommendations]
    assert scores[0] == max(scores), [(r.model.id, r.capability["score"]) for r in reply.recommendations]


CODING_24GB = "我有一張 24GB 顯卡，想找寫程式的模型"


def test_a_why_not_for_a_model_ranked_lower_states_its_place_among_those_that_passed(shared_catalog, shared_chunks):
    first = answer(shared_catalog, shared_chunks, CODING_24GB)
    result = ranked(shared_catalog, first.plan.constraints)
    lower = next(r.model for r in result.ranked[len(first.shown):] if r.model.family not in
                 {shared_catalog.by_id[s].family for s in first.shown} and r.model.id not in first.shown)
    reply = answer(shared_catalog, shared_chunks, f"為什麼沒有推薦 {lower.name}？", [CODING_24GB])
    assert reply.route == "why_not"
    assert reply.lead["key"] in ("why_not.ranked_lower", "why_not.ranked_lower_unmeasured", "why_not.soft_lead")
    assert reply.lead["slots"]["place"] == result.position(lower.id)
    assert reply.lead["slots"]["count"] == result.count


def test_a_why_not_for_an_excluded_model_names_the_failed_constraint(shared_catalog, shared_chunks):
    reply = answer(shared_catalog, shared_chunks, "為什麼沒有推薦 Kimi K2？", [CODING_24GB])
    assert reply.lead["key"] == "why_not.failed"
    broken = check(shared_catalog.by_id["kimi-k2"], reply.plan.constraints, shared_catalog)
    assert broken is not None and broken[0] == "memory"


def test_a_why_not_for_a_listed_model_gives_its_place_in_the_list_shown(shared_catalog, shared_chunks):
    first = answer(shared_catalog, shared_chunks, CODING_24GB)
    second = shared_catalog.by_id[first.shown[1]]
    reply = answer(shared_catalog, shared_chunks, f"why not {second.name}?", [CODING_24GB])
    assert reply.lead["key"] == "why_not.listed"
    assert reply.lead["slots"]["place"] == 2


def test_a_why_not_never_says_listed_for_a_model_the_list_left_out(shared_catalog, shared_chunks):
    """A model that passed but was not shown (it ranked just below the list) was not "listed"."""
    first = answer(shared_catalog, shared_chunks, CODING_24GB)
    result = ranked(shared_catalog, first.plan.constraints)
    hidden = next(r.model for r in result.ranked[5:] if r.model.id not in first.shown)
    reply = answer(shared_catalog, shared_chunks, f"為什麼沒有推薦 {hidden.name}？", [CODING_24GB])
    assert reply.route == "why_not"
    if reply.lead["key"] == "why_not.listed":
        place = reply.lead["slots"]["place"]
        assert first.shown[place - 1] == hidden.id, f"said listed #{place}, but #{place} was {first.shown[place - 1]}"


def test_commercial_use_puts_licences_known_by_name_only_behind_known_terms(shared_catalog):
    """A custom licence whose full terms the knowledge base has not read (licence.terms_unverified) does not lead
    a recommendation for commercial use while models with known terms of similar strength fit."""
    from assistant.constraints import parse_constraints  # noqa: PLC0415

    c = parse_constraints("推薦可以商用的寫程式模型", shared_catalog)
    top = shortlist(shared_catalog, c, default_capabilities(), limit=3).ranked[0]
    assert not top.model.licence.terms_unverified, top.model.name
    assert any(m.licence.terms_unverified for m in shared_catalog.models)
