"""Answer-first rendering (`assistant.answer.render`): the first sentence carries the answer
for each intent, English answers lead with Yes/No/the name, zh answers stay Traditional.

One assistant per module (real chromadb in a temp dir, fake-64 embedder), asked the way
every client asks (`Assistant.grounded`).
"""

from __future__ import annotations

import re

import pytest

from assistant.answer.plan import make_plan
from assistant.chinese import is_traditional_only
from assistant.evaluation import first_sentence

from .conftest import KNOWLEDGE


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    from assistant.config import Settings
    from assistant.service import build_assistant

    data = tmp_path_factory.mktemp("render-data")
    built = build_assistant(
        Settings(data_dir=data, models_dir=data / "models", knowledge_dir=KNOWLEDGE, embedder="fake-64")
    )
    built.ensure_index()
    return built


def lead(assistant, question, route):
    reply = assistant.grounded(question)
    assert reply.route == route, (reply.route, reply.answer[:200])
    if reply.language == "zh-TW":
        assert is_traditional_only(reply.answer), reply.answer
    return first_sentence(reply.answer)


# ---------------------------------------------------------------- fact: licence / commercial use


@pytest.mark.parametrize(
    ("question", "starts", "carries"),
    [
        ("Qwen3 可以商用嗎？", "可以", ["Apache-2.0", "可商用"]),
        ("Codestral 可以商用嗎？", "不行", ["MNPL", "不可商用"]),
        ("Gemma 3 可以商用嗎？", "有條件可以", ["Gemma", "禁止使用政策"]),
        ("Llama 3 可以商用嗎？", "有條件可以", ["7 億"]),
    ],
)
def test_zh_commercial_question_answers_yes_no_with_condition(assistant, question, starts, carries):
    sentence = lead(assistant, question, "fact")
    assert sentence.startswith(starts)
    for text in carries:
        assert text in sentence


@pytest.mark.parametrize(
    ("question", "starts", "carries"),
    [
        ("Is Qwen3 free for commercial use?", "Yes:", "Apache-2.0"),
        ("Can I use Codestral commercially?", "No:", "does not allow commercial use"),
        ("Can I use Gemma 3 commercially?", "Yes, with conditions", "Prohibited Use Policy"),
    ],
)
def test_en_commercial_question_starts_with_yes_or_no(assistant, question, starts, carries):
    sentence = lead(assistant, question, "fact")
    assert sentence.startswith(starts)
    assert carries in sentence


@pytest.mark.parametrize(
    ("question", "starts", "carries"),
    [
        ("Llama 可以商用嗎？", "有條件可以", ["Llama 3", "條件"]),  # every member: conditional
        ("GPT-OSS 可以商用嗎？", "可以", ["gpt-oss-20b", "都可商用"]),  # every member: yes
        ("Mistral 可以商用嗎？", "看型號", ["可商用：", "不可商用："]),  # mixed: which is which
        ("Can I use Gemma commercially?", "Yes, with conditions", ["every Gemma model", "Gemma 3"]),
        ("Can Mistral models be used commercially?", "It depends on the model", ["non-commercial:"]),
    ],
)
def test_a_family_commercial_question_gives_one_verdict_when_its_members_agree(assistant, question, starts, carries):
    sentence = lead(assistant, question, "fact")
    assert sentence.startswith(starts), sentence
    for text in carries:
        assert text in sentence, sentence


def test_licence_question_names_the_licence(assistant):
    sentence = lead(assistant, "What licence does Phi-4 use?", "fact")
    assert sentence.startswith("Phi-4")
    assert "MIT" in sentence


# ---------------------------------------------------------------- fit


def test_zh_fit_says_runs_with_memory(assistant):
    sentence = lead(assistant, "Phi-4 在 24GB 顯卡跑得動嗎？", "fit")
    assert sentence.startswith("跑得動")
    assert "24GB" in sentence
    assert re.search(r"約需 ?[\d.]+ ?GB", sentence)


def test_zh_fit_says_does_not_run_with_memory_needed(assistant):
    sentence = lead(assistant, "Gemma 3 27B 在 16GB 顯卡跑得動嗎？", "fit")
    assert sentence.startswith("跑不動")
    assert "16GB" in sentence and "20GB" in sentence


@pytest.mark.parametrize(
    ("question", "starts"),
    [("Can Phi-4 run on a 24GB GPU?", "Yes"), ("Can Gemma 3 27B run on 8GB of VRAM?", "No")],
)
def test_en_fit_starts_with_yes_or_no(assistant, question, starts):
    sentence = lead(assistant, question, "fit")
    assert sentence.startswith(starts)
    assert "GB" in sentence


# ---------------------------------------------------------------- rank


def test_zh_rank_names_the_model_and_value(assistant):
    sentence = lead(assistant, "最小的模型是哪個？", "rank")
    assert "SmolLM2-135M" in sentence
    assert "135M" in sentence.replace("SmolLM2-135M", "")


def test_en_rank_names_the_model_and_value(assistant):
    sentence = lead(assistant, "Which model has the longest context?", "rank")
    assert "Llama 4 Scout" in sentence
    assert "10M" in sentence


# ---------------------------------------------------------------- unknown, false premise, compare, scope


def test_unknown_model_is_not_in_the_catalog(assistant):
    sentence = lead(assistant, "Qwen 7.5 可以商用嗎？", "unknown_model")
    assert "未收錄" in sentence or "沒有收錄" in sentence
    assert "Qwen 7.5" in sentence


def test_en_unknown_model_is_not_covered(assistant):
    sentence = lead(assistant, "Is Qwen 7.5 open source?", "unknown_model")
    assert sentence.startswith("Qwen 7.5")
    assert "not covered" in sentence


@pytest.mark.parametrize(
    ("question", "carries"),
    [("Gemma 3 是 MIT 授權對吧？", "Gemma Terms of Use"), ("Gemma 是 Meta 做的對吧？", "Google")],
)
def test_zh_false_premise_starts_with_no(assistant, question, carries):
    sentence = lead(assistant, question, "false_premise")
    assert sentence.startswith("不是")
    assert carries in sentence


def test_en_false_premise_starts_with_no(assistant):
    sentence = lead(assistant, "Gemma is made by Meta, right?", "false_premise")
    assert sentence.startswith("No")
    assert "Google" in sentence


def test_zh_compare_leads_with_the_pick(assistant):
    sentence = lead(assistant, "Gemma 3 跟 Phi-4 哪個適合 16GB 筆電？", "compare")
    assert sentence.startswith("選 Phi-4")


def test_en_compare_leads_with_the_pick(assistant):
    sentence = lead(assistant, "Compare Qwen3 and Llama 3", "compare")
    assert sentence.startswith("Pick Qwen3")


def test_en_which_is_better_question_is_a_compare(assistant):
    plan = make_plan(
        "Which is better, Qwen3 or Llama 3?", assistant.catalog, None, "en", False, assistant.sentences.search
    )
    assert plan.intent == "compare"
    assert first_sentence(assistant.grounded("Which is better, Qwen3 or Llama 3?").answer).startswith(
        ("Pick Qwen3", "Pick Llama 3")
    )


@pytest.mark.parametrize(
    ("question", "carries"),
    [
        ("推薦我一台筆電", "不在我的範圍內"),
        ("今天天氣如何？", "不在我的範圍內"),
        ("Recommend a laptop to buy", "outside my scope"),
    ],
)
def test_out_of_scope_says_so_first(assistant, question, carries):
    assert carries in lead(assistant, question, "out_of_scope")


def test_closed_model_says_weights_are_not_downloadable(assistant):
    sentence = lead(assistant, "GPT-4o 可以下載嗎？", "closed")
    assert "閉源" in sentence


@pytest.mark.parametrize(
    "question",
    [
        "我要用繁體中文做客服，推薦哪個模型？",
        "我只有 16GB 筆電，推薦寫程式的模型",
        "Qwen3 跟 Llama 3 哪個比較好？",
        "為什麼沒有推薦 DeepSeek-V3？",
    ],
)
def test_zh_answers_are_traditional_only(assistant, question):
    assert is_traditional_only(assistant.grounded(question).answer)


def test_recommendation_leads_with_the_pick(assistant):
    reply = assistant.grounded("我只有 16GB 筆電，推薦寫程式的模型")
    assert reply.route == "recommend"
    assert first_sentence(reply.answer).startswith(f"建議選 {reply.recommendations[0].model.name}")
