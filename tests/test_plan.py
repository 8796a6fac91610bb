"""The planner (`assistant.answer.plan`): question → intent, subjects, claims, constraints.

Real catalog, no sentence lookup (`lookup=None`) unless the lookup is the point.
"""

from __future__ import annotations

import json

import pytest

from assistant.answer.plan import Claim, claim_holds, make_plan
from assistant.compose import plan_question
from assistant.config import Settings
from assistant.knowledge import load_catalog


@pytest.fixture(scope="module")
def cat():
    return load_catalog(Settings().catalog_path)


def plan(question, cat, history=None):
    return plan_question(question, cat, history)


def model_ids(p):
    return [s.id for s in p.subjects if s.kind == "model"]


INTENTS = [
    ("我只有 16GB 筆電，推薦哪個模型寫程式？", "recommend"),
    ("What model should I use for coding on a 16GB laptop?", "recommend"),
    ("Gemma 3 用什麼授權？", "fact"),
    ("What licence does Gemma 3 use?", "fact"),
    ("Llama 3 可以商用嗎？", "fact"),
    ("哪個模型號稱會講雙關語？", "lookup"),
    ("Which model is known for puns?", "lookup"),
    ("最小的模型是哪個？", "rank"),
    ("What is the smallest model in the catalog?", "rank"),
    ("上下文最長的模型是哪個？", "rank"),
    ("有哪些中國的模型？", "list"),
    ("Which models are Apache-2.0 licensed?", "list"),
    ("Qwen3 跟 Llama 3 哪個比較好？", "compare"),
    ("Compare Gemma 3 and Phi-4.", "compare"),
    ("為什麼沒有推薦 Qwen3？", "why_not"),
    ("Why not DeepSeek-V3?", "why_not"),
    ("Gemma 3 27B 在 16GB 顯卡跑得動嗎？", "fit"),
    ("Can Phi-4 run on 8GB RAM?", "fit"),
    ("今天天氣如何？", "out_of_scope"),
    ("What's the weather tomorrow?", "out_of_scope"),
    ("Recommend a laptop to buy", "out_of_scope"),
    ("Qwen 7.5 可以商用嗎？", "unknown_model"),
    ("Is Qwen 7.5 open source?", "unknown_model"),
    ("Gemma 3 是 MIT 授權對吧？", "false_premise"),
    ("Gemma is made by Meta, right?", "false_premise"),
    ("GPT-4o 可以下載嗎？", "closed"),
    ("Is Claude open-weight?", "closed"),
]


@pytest.mark.parametrize(("question", "intent"), INTENTS)
def test_intent_of_representative_questions(question, intent, cat):
    assert plan(question, cat).intent == intent


def test_image_generation_request_is_out_of_scope(cat):
    assert plan("幫我生成一張貓的圖片", cat).intent == "out_of_scope"


def test_language_follows_the_question(cat):
    assert plan("Gemma 3 用什麼授權？", cat).language == "zh-TW"
    assert plan("What licence does Gemma 3 use?", cat).language == "en"


def test_named_size_is_the_variant(cat):
    p = plan("Gemma 3 27B 可以商用嗎？", cat)
    assert [(s.kind, s.id, s.variant) for s in p.subjects] == [("model", "gemma-3", "Gemma 3 27B")]


def test_model_without_size_has_no_variant(cat):
    p = plan("Gemma 3 用什麼授權？", cat)
    assert [(s.id, s.variant) for s in p.subjects] == [("gemma-3", None)]


def test_generation_expands_to_its_released_members(cat):
    p = plan("Llama 4 可以商用嗎？", cat)
    ids = model_ids(p)
    assert set(ids) >= {"llama-4-maverick", "llama-4-scout"}
    assert all(cat.by_id[i].family == "llama" and i.startswith("llama-4") for i in ids)
    assert not [s for s in p.subjects if s.kind == "family"]


def test_family_with_unknown_version_is_unknown(cat):
    p = plan("Qwen 7.5 可以商用嗎？", cat)
    unknown = [s for s in p.subjects if s.kind == "unknown"]
    assert [s.name for s in unknown] == ["Qwen 7.5"]
    assert not model_ids(p)  # never substituted by a real Qwen model


@pytest.mark.parametrize(
    ("question", "claim", "holds"),
    [
        ("Gemma 3 是 MIT 授權對吧？", ("licence", "MIT", "gemma-3"), False),
        ("Gemma 3 是 Apache 授權對吧？", ("licence", "Apache-2.0", "gemma-3"), False),
        ("Gemma is made by Meta, right?", ("vendor", "llama", "gemma"), False),
        ("Mistral 7B 是中國的模型對吧？", ("country", "CN", "mistral-7b"), False),
        ("Gemma 3 只有 2B 對吧？", ("size", "2", "gemma-3"), False),
        ("Qwen3 是 2023 年釋出的對吧？", ("released", "2023", "qwen3"), False),
        ("DeepSeek-R1 超強對吧？", ("verdict", "good", "deepseek-r1"), True),
    ],
)
def test_claims_are_parsed_and_checked(question, claim, holds, cat):
    p = plan(question, cat)
    assert claim in [(c.attribute, c.value, c.subject) for c in p.claims]
    found = next(c for c in p.claims if (c.attribute, c.value, c.subject) == claim)
    assert claim_holds(found, cat) is holds
    assert p.intent == ("fact" if holds else "false_premise")


def test_claim_holds_agrees_with_the_catalog(cat):
    gemma3 = cat.by_id["gemma-3"]
    assert claim_holds(Claim("licence", "MIT", "deepseek-r1"), cat)
    assert claim_holds(Claim("vendor", "gemma", "gemma-3"), cat)
    assert claim_holds(Claim("country", "FR", "mistral-7b"), cat)
    assert claim_holds(Claim("size", "27", "gemma-3"), cat)
    assert not claim_holds(Claim("size", "50", "gemma-3"), cat)
    assert claim_holds(Claim("released", (gemma3.released or "")[:4], "gemma-3"), cat)
    assert claim_holds(Claim("commercial", "yes", "qwen3"), cat)
    assert not claim_holds(Claim("commercial", "no", "qwen3"), cat)


def test_family_claim_checks_every_member(cat):
    # Every Gemma model is Google's, so a Meta claim about the family fails and a Google one holds.
    assert not claim_holds(Claim("vendor", "llama", "gemma"), cat)
    assert claim_holds(Claim("vendor", "gemma", "gemma"), cat)


@pytest.mark.parametrize(
    ("question", "memory_gb"),
    [
        ("我只有 16GB 筆電，推薦哪個模型寫程式？", 16.0),
        ("Can Phi-4 run on 8GB RAM?", 8.0),
        ("Can Phi-4 run on a 24GB GPU?", 24.0),
        ("Gemma 3 27B 在 16GB 顯卡跑得動嗎？", 16.0),
    ],
)
def test_hardware_phrases_are_carried_in_constraints(question, memory_gb, cat):
    p = plan(question, cat)
    assert p.constraints.memory_gb == memory_gb
    assert p.hardware_stated


def test_coding_request_carries_the_task(cat):
    assert "coding" in plan("我只有 16GB 筆電，推薦哪個模型寫程式？", cat).constraints.tasks


def test_rank_spec_direction_and_field(cat):
    smallest = plan("最小的模型是哪個？", cat).rank
    longest = plan("上下文最長的模型是哪個？", cat).rank
    assert (smallest.field, smallest.ascending) == ("params_total", True)
    assert (longest.field, longest.ascending) == ("context", False)


@pytest.mark.parametrize(
    "question",
    [
        "Gemma 3 27B 在 16GB 顯卡跑得動嗎？",
        "Gemma 3 是 MIT 授權對吧？",
        "最小的模型是哪個？",
        "Llama 4 可以商用嗎？",
        "Qwen 7.5 可以商用嗎？",
    ],
)
def test_plan_to_dict_is_json_serialisable(question, cat):
    data = plan(question, cat).to_dict()
    restored = json.loads(json.dumps(data, ensure_ascii=False))
    assert restored["intent"] == data["intent"]
    assert restored["question"] == question


def test_make_plan_without_lookup_matches_plan_question(cat):
    p = make_plan("Gemma 3 用什麼授權？", cat, None, "zh-TW", False, None)
    assert (p.intent, model_ids(p), p.attributes) == ("fact", ["gemma-3"], ["licence"])


# ---------------------------------------------------------------- fresh held-out misses (eval/questions-fresh.jsonl)


@pytest.mark.parametrize(
    "question",
    ["Gemma 2 不是超強嗎 大家都說它屌打同級", "Llama 4 不是很好用嗎？", "Isn't Llama 4 great?"],
)
def test_praise_taken_for_granted_is_a_claim_to_check(cat, question):
    p = plan(question, cat)
    assert p.intent == "false_premise"
    assert [c.attribute for c in p.claims] == ["verdict"]


def test_a_plain_question_about_quality_is_not_a_claim(cat):
    p = plan("Gemma 2 好用嗎？", cat)
    assert p.intent == "fact" and p.claims == []


@pytest.mark.parametrize(
    ("question", "name"),
    [("百川 Baichuan2 13B 一張 3090 跑得動嗎", "Baichuan2"), ("thoughts on OLMo 2 from AI2? it's fully open, right?", "Olmo 2")],
)
def test_a_model_name_followed_by_its_size_or_maker_is_an_unknown_model(cat, question, name):
    p = plan(question, cat)
    assert p.intent == "unknown_model"
    assert [s.name for s in p.subjects if s.kind == "unknown"] == [name]


def test_a_name_in_passing_is_still_not_a_model(cat):
    assert plan("用 Commodore 64 跑 LLM 可以嗎", cat).intent != "unknown_model"


@pytest.mark.parametrize(
    ("question", "language", "origin"),
    [
        ("summarize Chinese news articles on my laptop", True, False),
        ("a chatbot for Chinese customers", True, False),
        ("no Chinese models please", False, True),
        ("avoid Chinese labs, need vision", False, True),
    ],
)
def test_chinese_before_a_noun_is_the_language_unless_the_noun_is_a_maker(cat, question, language, origin):
    c = plan(question, cat).constraints
    assert ("chinese" in c.tasks) is language
    assert ("CN" in c.avoid_countries) is origin
