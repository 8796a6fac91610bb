"""The planner (`assistant.answer.plan`): a question read once into a `Plan` — subjects with
their named size, claims, the request, the answer's kind, and the cues that shape it.

Catalog only (`plan_question`, no index, no sentence lookup).
"""

from __future__ import annotations

import json

import pytest

from assistant.answer.plan import make_plan
from assistant.answer.read import claim_holds, read_question
from assistant.answer.types import Claim
from assistant.compose import plan_question

from .conftest import fired_rule, user_turns


@pytest.fixture(scope="module")
def cat(shared_catalog):
    return shared_catalog


def plan(question, cat, *history):
    return plan_question(question, cat, user_turns(*history) or None)


def model_ids(p):
    return [s.id for s in p.subjects if s.kind == "model"]


# ---------------------------------------------------------------- language and subjects


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("Gemma 3 的授權是哪一種？", "zh-TW"),
        ("Gemma 3 的许可证是哪种？", "zh-TW"),  # Simplified is answered in Traditional
        ("Which licence is Gemma 3 under?", "en"),
        ("Gemma 3 license?", "en"),
    ],
)
def test_language_follows_the_question(question, language, cat):
    assert plan(question, cat).language == language


def test_a_named_size_is_the_variant(cat):
    p = plan("Gemma 3 27B 能不能拿來做產品？", cat)
    assert [(s.kind, s.id, s.variant) for s in p.subjects] == [("model", "gemma-3", "Gemma 3 27B")]


def test_a_model_without_size_has_no_variant(cat):
    assert [(s.id, s.variant) for s in plan("Gemma 3 是哪種授權", cat).subjects] == [("gemma-3", None)]


def test_a_size_joined_to_a_named_model_is_its_sibling(cat):
    p = plan("gpt-oss 20b 跟 120b 差在哪", cat)
    assert model_ids(p) == ["gpt-oss-20b", "gpt-oss-120b"]


def test_a_generation_expands_to_its_released_members(cat):
    p = plan("Llama 4 能不能商用？", cat)
    ids = model_ids(p)
    assert {"llama-4-maverick", "llama-4-scout"} <= set(ids)
    assert all(cat.by_id[i].family == "llama" and i.startswith("llama-4") and cat.by_id[i].status == "released" for i in ids)
    assert not [s for s in p.subjects if s.kind == "family"]


@pytest.mark.parametrize(("question", "name"), [("Qwen 9 能商用嗎", "Qwen 9"), ("How big is Llama 7?", "Llama 7")])
def test_a_known_family_with_an_unknown_version_is_unknown_and_never_substituted(question, name, cat):
    p = plan(question, cat)
    assert p.intent == "unknown_model"
    assert p.unknown_names == [name]
    assert not model_ids(p)


@pytest.mark.parametrize(
    ("question", "name"),
    [("Baichuan2 7B 在 4090 上跑得動嗎", "Baichuan2"), ("what about Yi-34B from 01.AI, is it open?", "Yi-34B")],
)
def test_a_model_shaped_name_the_catalog_lacks_is_unknown(question, name, cat):
    p = plan(question, cat)
    assert p.intent == "unknown_model"
    assert p.unknown_names == [name]


def test_a_name_in_passing_is_not_an_unknown_model(cat):
    p = plan("拿 Amiga 500 跑 LLM 可行嗎", cat)
    assert p.intent != "unknown_model" and p.unknown_names == []


def test_closed_models_named_in_passing_are_recorded(cat):
    p = plan("有沒有開源模型寫程式能跟 Claude 比？", cat)
    assert p.mentions_closed and all("Claude" in name for name in p.mentions_closed)
    assert p.intent == "recommend"


# ---------------------------------------------------------------- claims


@pytest.mark.parametrize(
    ("question", "claim", "holds"),
    [
        ("Phi-4 是 Apache 授權的吧？", ("licence", "Apache-2.0", "phi-4"), False),
        ("Phi-4 用的是 MIT 授權對吧？", ("licence", "MIT", "phi-4"), True),
        ("Gemma is a Meta model, right?", ("vendor", "llama", "gemma"), False),
        ("Gemma 是 Meta 的模型對吧？", ("vendor", "llama", "gemma"), False),
        ("Isn't Gemma 3 released by Alibaba?", ("vendor", "qwen", "gemma-3"), False),
        ("Kimi K2 是美國公司做的對吧？", ("country", "US", "kimi-k2"), False),
        ("Mistral 7B 是法國的模型對吧？", ("country", "FR", "mistral-7b"), True),
        ("DeepSeek-R1 只有 7B 對吧？", ("size", "7", "deepseek-r1"), False),
        ("Gemma 3 不是 2023 年出的嗎？", ("released", "2023", "gemma-3"), False),
        ("Codestral 可以商用對吧？", ("commercial", "yes", "codestral"), False),
        ("Qwen3 不能商用對吧？", ("commercial", "no", "qwen3"), False),
        ("Gemma 2 不是公認很強嗎？", ("verdict", "good", "gemma-2"), False),
        ("Isn't Gemma 2 amazing?", ("verdict", "good", "gemma-2"), False),
    ],
)
def test_claims_are_read_and_checked_against_the_catalog(question, claim, holds, cat):
    p = plan(question, cat)
    found = [(c.attribute, c.value, c.subject) for c in p.claims]
    assert claim in found
    checked = next(c for c in p.claims if (c.attribute, c.value, c.subject) == claim)
    assert claim_holds(checked, cat) is holds
    assert p.intent == ("fact" if holds else "false_premise")
    assert fired_rule(p) == "claim"
    assert p.answer_kind == ("yes_no" if not holds else p.answer_kind)


def test_a_plain_question_about_quality_is_not_a_claim(cat):
    p = plan("Gemma 2 好不好用？", cat)
    assert p.intent == "fact" and p.claims == []
    assert p.attributes == ["verdict"]


def test_claim_holds_agrees_with_the_catalog(cat):
    gemma3 = cat.by_id["gemma-3"]
    assert claim_holds(Claim("licence", "MIT", "phi-4"), cat)
    assert not claim_holds(Claim("licence", "MIT", "gemma-3"), cat)
    assert claim_holds(Claim("vendor", "gemma", "gemma-3"), cat)
    assert claim_holds(Claim("country", "FR", "mistral-7b"), cat)
    assert claim_holds(Claim("size", "27", "gemma-3"), cat)
    assert not claim_holds(Claim("size", "50", "gemma-3"), cat)
    assert claim_holds(Claim("released", (gemma3.released or "")[:4], "gemma-3"), cat)
    assert claim_holds(Claim("commercial", "yes", "qwen3"), cat)
    assert not claim_holds(Claim("commercial", "no", "qwen3"), cat)
    assert claim_holds(Claim("commercial", "no", "codestral"), cat)


def test_a_family_claim_checks_every_member(cat):
    assert not claim_holds(Claim("vendor", "llama", "gemma"), cat)
    assert claim_holds(Claim("vendor", "gemma", "gemma"), cat)
    assert claim_holds(Claim("country", "CN", "qwen"), cat)


# ---------------------------------------------------------------- the request


@pytest.mark.parametrize(
    ("question", "memory_gb", "kind"),
    [
        ("手上只有 16GB 的筆電，有推薦的寫程式模型嗎？", 16.0, "ram"),
        ("Will Phi-4 run with 8GB RAM?", 8.0, "ram"),
        ("Phi-4 on a 24GB GPU, ok?", 24.0, "vram"),
        ("Gemma 3 27B 放得進 16GB 顯卡嗎？", 16.0, "vram"),
        ("64GB 的 Mac Studio 能跑 Llama 3.3 70B 嗎", 64.0, "unified"),
    ],
)
def test_hardware_is_carried_in_the_plan(question, memory_gb, kind, cat):
    p = plan(question, cat)
    assert (p.constraints.memory_gb, p.constraints.memory_kind) == (memory_gb, kind)
    assert p.hardware_stated and p.hardware_in_question


def test_a_task_is_carried(cat):
    assert plan("手上只有 16GB 的筆電，有推薦的寫程式模型嗎？", cat).constraints.tasks == ["coding"]


def test_named_models_are_recorded_as_mentioned(cat):
    p = plan("Qwen3 和 Gemma 3 哪個適合寫程式？", cat)
    assert p.constraints.mentioned_models == ["qwen3", "gemma-3"]


# ---------------------------------------------------------------- the answer's shape


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Phi-4 可以拿來商用嗎？", "yes_no"),
        ("Phi-4 的上下文多長", "fact"),
        ("我的 24GB 顯卡能跑 QwQ-32B 嗎？", "yes_no"),
        ("Qwen3 和 Gemma 3 哪個適合寫程式？", "verdict"),
        ("哪些模型是 MIT 授權？", "list"),
        ("參數最多的模型是哪個？", "model"),
        ("推薦一個模型給我", "model"),
        ("明天要帶傘嗎", "not_covered"),
        ("哈囉", "help"),
    ],
)
def test_answer_kind(question, kind, cat):
    assert plan(question, cat).answer_kind == kind


def test_just_one(cat):
    assert plan("直接告訴我一個寫程式的模型就好", cat).just_one
    assert plan("just tell me one model for chat", cat).just_one
    assert not plan("推薦幾個寫程式的模型", cat).just_one


def test_strongest_is_set_only_when_the_strongest_rule_decides(cat):
    assert plan("現在最強的開源模型是哪個", cat).strongest
    assert not plan("Phi-4 是最強的嗎", cat).strongest  # one named model: a fact about it


@pytest.mark.parametrize(
    ("question", "field", "value"),
    [
        ("Gemma 3 27B 下載下來要多少硬碟空間？", "asks_storage", True),
        ("滿血版 DeepSeek 要多少記憶體？", "asks_full_size", True),
        ("最小的 Qwen3 是多大？", "size_extreme", "smallest"),
        ("Qwen3 最大的尺寸是多少", "size_extreme", "largest"),
        ("Phi-4-multimodal 聽得懂語音嗎？", "modality_asked", "audio"),
        ("Can Qwen3-VL understand video?", "modality_asked", "video"),
        ("Gemma 3 看得懂圖片嗎", "modality_asked", "image"),
        ("Granite 這個名字是什麼意思？", "naming", True),
        ("法國有哪些模型？", "country", "FR"),
        ("不要法國的模型", "country", None),  # a country avoided is a filter, not a question about it
    ],
)
def test_cues_that_shape_the_answer(question, field, value, cat):
    assert getattr(plan(question, cat), field) == value


@pytest.mark.parametrize(
    ("question", "spec"),
    [
        ("最小的模型是哪一個", ("params_total", True, 1, False, False)),
        ("第二大的模型是哪個？", ("params_total", False, 2, False, False)),
        ("上下文最長的是哪個模型", ("context", False, 1, False, False)),
        ("啟動參數最少的 MoE 模型？", ("params_active", True, 1, True, False)),
        ("which dense model is the biggest?", ("params_total", False, 1, False, True)),
        ("Which model has the most experts?", ("experts", False, 1, False, False)),
    ],
)
def test_rank_spec(question, spec, cat):
    p = plan(question, cat)
    assert p.intent == "rank"
    r = p.rank
    assert (r.field, r.ascending, r.position, r.moe_only, r.dense_only) == spec


def test_only_rank_plans_carry_a_rank_spec(cat):
    assert plan("Phi-4 的上下文多長", cat).rank is None


@pytest.mark.parametrize(
    "question",
    [
        "Gemma 3 27B 放得進 16GB 顯卡嗎？",
        "Phi-4 是 Apache 授權的吧？",
        "最小的模型是哪一個",
        "Llama 4 能不能商用？",
        "Qwen 9 能商用嗎",
        "有沒有開源模型寫程式能跟 Claude 比？",
    ],
)
def test_plan_to_dict_is_json_serialisable(question, cat):
    p = plan(question, cat)
    data = p.to_dict()
    restored = json.loads(json.dumps(data, ensure_ascii=False))
    assert restored["intent"] == p.intent
    assert restored["question"] == question
    assert restored["trace"][-1]["rule"] == fired_rule(p)
    assert all(v not in (None, False, [], "") for v in restored["constraints"].values())


def test_make_plan_without_lookup_matches_plan_question(cat):
    p = make_plan("Gemma 3 是哪種授權", cat, None, "zh-TW", False, None)
    q = plan("Gemma 3 是哪種授權", cat)
    assert (p.intent, model_ids(p), p.attributes) == (q.intent, model_ids(q), q.attributes) == ("fact", ["gemma-3"], ["licence"])


def test_attributes_come_in_the_order_asked(cat):
    assert plan("Phi-4 上下文多長、可以商用嗎？", cat).attributes == ["context", "commercial"]
    assert plan("Phi-4 可以商用嗎？上下文多長？", cat).attributes == ["commercial", "context"]


def test_the_reading_is_the_only_place_text_is_matched(cat):
    reading = read_question("我有 RTX 4090，推薦可以商用的寫程式模型，不要中國的", cat)
    assert reading.constraints.memory_gb == 24.0
    assert reading.constraints.commercial_required
    assert reading.constraints.avoid_countries == ["CN"]
    assert reading.flag("recommend")


# ---------------------------------------------------------------- follow-up fields


def test_a_follow_up_records_the_hardware_as_inherited_not_asked(cat):
    p = plan("只要 Apache 授權的呢？", cat, "我有一張 24GB 顯卡，想找寫程式的模型")
    assert p.hardware_stated and not p.hardware_in_question
    assert "constraint:licence" in p.changes
    assert p.constraints.tasks == ["coding"] and p.constraints.memory_gb == 24.0
    assert any("licence" in item for item in p.inherited)


def test_asking_for_more_options_is_a_follow_up_of_the_list(cat):
    p = plan("還有別的嗎？", cat, "我有一張 24GB 顯卡，想找寫程式的模型")
    assert p.more and p.reference == "more" and p.intent == "recommend"


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
