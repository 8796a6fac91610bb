"""A user's business facts (revenue, monthly active users, location) against licence thresholds."""

from __future__ import annotations

import pytest

from assistant.business import Business, findings, licence_terms, read_business, terms_for
from assistant.text import normalize

from .conftest import answer


@pytest.mark.parametrize(("text", "want"), [
    ("公司全球月營收大概 3000 萬美金", Business(revenue_usd_month=30e6)),
    ("公司年營收大概 1500 萬美金", Business(revenue_usd_month=15e6 / 12)),
    ("my company makes $50M a year in revenue", Business(revenue_usd_month=50e6 / 12)),
    ("那如果我們 app 之後月活衝到 1.2 億呢", Business(mau=1.2e8)),
    ("a product with 120M MAU", Business(mau=1.2e8)),
    ("We're a small startup in Berlin", Business(location="DE")),
    ("We're a German company", Business(location="DE")),
    ("我們是英國的新創", Business(location="GB")),
    ("我有 16GB 的筆電，想跑 8B 模型", Business()),
    ("avoid models from Chinese companies", Business()),
])
def test_business_facts_are_read(text, want):
    assert read_business(normalize(text)) == want


def test_every_term_names_a_licence_the_catalog_uses(shared_catalog):
    used = {m.licence.id for m in shared_catalog.models} | {m.with_variant(v.name).licence.id for m in shared_catalog.models for v in m.variants}
    for entry in licence_terms():
        assert entry["licence"] in used, entry["licence"]


def test_thresholds_are_applied_both_ways(shared_catalog):
    lfm = shared_catalog.by_id["lfm2.5"]
    assert terms_for(lfm) is not None
    over = findings(lfm, Business(revenue_usd_month=15e6 / 12))
    under = findings(lfm, Business(revenue_usd_month=5e6 / 12))
    assert [o for o, _m in over] == ["blocked"] and [o for o, _m in under] == ["clear"]
    assert findings(lfm, Business()) == []


def test_a_kimi_user_over_the_user_threshold_must_show_the_name(shared_catalog):
    kimi = shared_catalog.by_id["kimi-k2.5"]
    assert [o for o, _m in findings(kimi, Business(mau=1.2e8))] == ["display"]


def test_a_territory_outside_the_grant_blocks(shared_catalog):
    hunyuan = next(m for m in shared_catalog.models if m.licence.id == "Tencent-Hunyuan-Community")
    assert [o for o, _m in findings(hunyuan, Business(location="DE"))] == ["blocked"]
    assert [o for o, _m in findings(hunyuan, Business(location="TW"))] == ["clear"]


def test_the_answer_applies_the_users_revenue_first(shared_catalog, shared_chunks):
    reply = answer(shared_catalog, shared_chunks, "LFM2.5 1.2B 想塞進硬體產品裡賣，公司年營收大概 1500 萬美金，可以免費商用嗎")
    assert reply.lead["key"] == "terms.revenue_over_needs_licence"


def test_a_blocked_licence_excludes_the_model_from_recommendations(shared_catalog, shared_chunks):
    reply = answer(shared_catalog, shared_chunks, "We're a startup in Berlin, commercial use, 8GB GPU, which small chat model?")
    assert all(r.model.licence.id != "Tencent-Hunyuan-Community" for r in reply.recommendations)


def test_a_follow_up_with_the_users_numbers_stays_on_the_subject(shared_catalog, shared_chunks):
    reply = answer(shared_catalog, shared_chunks, "那如果我們 app 之後月活衝到 1.2 億呢？是要付授權費還是怎樣", ["Kimi K2.5 可以拿來商用嗎？"])
    assert reply.lead["key"] == "terms.mau_over_display"
    assert [s.id for s in reply.plan.models()] == ["kimi-k2.5"]
