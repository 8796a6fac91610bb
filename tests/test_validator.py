"""The validator's mechanisms, one at a time (issue 20, item 3).

Each case states a grounded answer by hand (so these tests do not depend on how the
answer engine words its answers) and checks an LLM answer against it and the catalog.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import yaml

from assistant.llm.validate import Grounding, convert_answer, validate


def check(catalog, question, grounded, answer, history=(), kind=None, subjects=(), language=None, attributes=(), intent=""):
    """Validate `answer`; the question counts as asked in the answer's language unless
    `language` says otherwise (so one Chinese question serves English answers too)."""
    if language is None:
        language = "zh-TW" if re.search(r"[\u4e00-\u9fff]", answer) else "en"
    grounding = Grounding(question=question, grounded=grounded, history=list(history), answer_kind=kind,
                          subjects=list(subjects), language=language, attributes=list(attributes), intent=intent)
    return validate(convert_answer(answer), grounding, catalog)


def subject(model_id, variant=None):
    return SimpleNamespace(kind="model", id=model_id, name=model_id, variant=variant)


QWEN_3B = ("Qwen2.5-3B 可以商用嗎？", "不行：Qwen2.5-3B 採 Qwen Research License（Qwen-Research）授權，不可商用。[1]")
GEMMA = ("Gemma 3 可以商用嗎？", "有條件可以：Gemma 3 採 Gemma Terms of Use（Gemma）授權，可商用，但須遵守 Gemma 禁止使用政策。[1]")
COMMAND_A = ("Command A 可以商用嗎？", "不行：Command A 採 CC-BY-NC-4.0 授權，不可商用。[1]")
PHI = ("Phi-4 有多大？", "Phi-4 參數量 14.7B，稠密架構；上下文 16k token；MIT，可商用。[1]")
LLAMA_31 = ("Llama 3.1 8B 的上下文多長？", "Llama 3.1 8B 的上下文長度是 128k token。[1]")
QWEN3 = ("Qwen3-8B 的上下文多長？", "Qwen3-8B 的原生上下文長度是 32k token，以 YaRN 可延伸到 128k。[1]")


# ------------------------------------------------------------------ claims about the size named


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("可以，Qwen2.5-3B 採 Apache 2.0，可商用 [1]。", False),
        ("Qwen2.5-3B 跟家族其他尺寸一樣可以商用。", False),
        ("不行，Qwen2.5-3B 用的是 Qwen Research License，不能商用 [1]。", True),
        ("No. Qwen2.5-3B is under the Qwen Research License, so it cannot be used commercially [1].", True),
    ],
)
def test_a_size_is_checked_against_its_own_licence(catalog, answer, ok):
    question, grounded = QWEN_3B
    assert check(catalog, question, grounded, answer, kind="yes_no").ok is ok


def test_a_bare_size_names_a_sibling_size(catalog):
    grounded = "Qwen2.5 依尺寸授權不同：3B 不可商用，72B 採 Qwen License，其餘 Apache 2.0 可商用。[1]"
    question = "Qwen2.5 哪些尺寸可以商用？"
    assert check(catalog, question, grounded, "Qwen2.5-7B 採 Apache 2.0 可以商用；但 3B 不能商用 [1]。").ok
    assert not check(catalog, question, grounded, "Qwen2.5-7B 採 Apache 2.0 可以商用；3B 也可以商用 [1]。").ok


# ------------------------------------------------------------------ sizes and magnitudes


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("Phi-4 有 147 億參數 [1]。", True),
        ("Phi-4 約 14B 參數 [1]。", True),
        ("Phi-4 有數百億參數 [1]。", False),
        ("Phi-4 has hundreds of billions of parameters [1].", False),
        ("Phi-4 有 140B 參數 [1]。", False),
        ("Phi-4 是 MoE 模型，參數量 14.7B [1]。", False),
    ],
)
def test_sizes_are_compared_with_their_magnitude(catalog, answer, ok):
    question, grounded = PHI
    assert check(catalog, question, grounded, answer, kind="number").ok is ok


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("Kimi K2 總參數約 1T，每次啟動 32B [1]。", True),
        ("Kimi K2 每次啟動 32B 參數 [1]。", True),
        ("Kimi K2 has 32B parameters in total [1].", False),
        ("Kimi K2 每次啟動 1T 參數 [1]。", False),
    ],
)
def test_active_and_total_parameters_are_told_apart(catalog, answer, ok):
    grounded = "Kimi K2 參數量 1T，每次啟動 32B，384 個專家，混合專家 (MoE) 架構。[1]"
    assert check(catalog, "Kimi K2 有多大？", grounded, answer, kind="number").ok is ok


# ------------------------------------------------------------------ numbers with units


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("Llama 3.1 8B 的上下文是 128k [1]。", True),
        ("Llama 3.1 8B 的上下文是 128K token [1]。", True),
        ("Llama 3.1 8B 的上下文是 131,072 token [1]。", True),
        ("Llama 3.1 8B supports a 131072-token context [1].", True),
        ("Llama 3.1 8B 的上下文是 1M token [1]。", False),
        ("Llama 3.1 8B 的上下文是 32k [1]。", False),
    ],
)
def test_context_lengths_compare_with_units(catalog, answer, ok):
    question, grounded = LLAMA_31
    assert check(catalog, question, grounded, answer, kind="number").ok is ok


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("Qwen3-8B 原生 32k，用 YaRN 可以延伸到 128k [1]。", True),
        ("Qwen3-8B 原生就支援 128k，不需要擴展 [1]。", False),
    ],
)
def test_native_context_is_the_native_window(catalog, answer, ok):
    question, grounded = QWEN3
    assert check(catalog, question, grounded, answer, kind="number").ok is ok


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("Gemma 3 支援 140 種語言 [1]。", True),
        ("Gemma 3 supports over 100 languages [1].", True),
        ("Gemma 3 支援 200 種語言 [1]。", False),
        ("Gemma 3 在 MMLU 拿到 78.6 分 [1]。", False),
    ],
)
def test_counts_and_scores_the_facts_do_not_hold_fail(catalog, answer, ok):
    grounded = "Gemma 3 支援 140 種語言，有條件商用。[1]"
    assert check(catalog, "Gemma 3 支援多少語言？", grounded, answer).ok is ok


def test_a_score_the_facts_hold_passes(catalog):
    grounded = "Phi-4 在 MMLU 的成績是 84.8。[1]"
    assert check(catalog, "Phi-4 的 MMLU 分數？", grounded, "Phi-4 的 MMLU 是 84.8 分 [1]。").ok


# ------------------------------------------------------------------ verdicts in paraphrase


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("放心拿去賺錢，Command A 沒問題。", False),
        ("Sure, you can ship Command A in your paid product.", False),
        ("Absolutely, Command A is fine for your startup's product.", False),
        ("可以，Command A 商用 OK。", False),
        ("不行，Command A 只能做研究，不能放進產品 [1]。", True),
        ("No — Command A is for research only; you would need a separate licence from Cohere to sell with it [1].", True),
    ],
)
def test_verdict_flips_are_caught_in_paraphrase(catalog, answer, ok):
    question, grounded = COMMAND_A
    assert check(catalog, question, grounded, answer, kind="yes_no").ok is ok


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("可以，Gemma 3 商用完全沒有限制。", False),
        ("Yes — Gemma 3 comes with no strings attached.", False),
        ("可以，但 Gemma 3 須遵守 Gemma 禁止使用政策 [1]。", True),
        ("Yes, with conditions: Gemma 3 may be used commercially under the Gemma terms [1].", True),
    ],
)
def test_no_restrictions_is_false_for_a_conditional_licence(catalog, answer, ok):
    question, grounded = GEMMA
    assert check(catalog, question, grounded, answer, kind="yes_no").ok is ok


# ------------------------------------------------------------------ pronouns and the subject in play

HISTORY = [{"role": "user", "content": "Command A 是誰做的？"}, {"role": "assistant", "content": "Command A 由 Cohere 推出。[1]"}]


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("可以，它採 Apache 2.0 [1]。", False),
        ("它可以商用 [1]。", False),
        ("不行，它是 CC-BY-NC-4.0，只能非商業使用 [1]。", True),
        ("No, it is non-commercial (CC-BY-NC-4.0) [1].", True),
    ],
)
def test_a_pronoun_claim_is_checked_against_the_subject_in_play(catalog, answer, ok):
    grounded = COMMAND_A[1]
    assert check(catalog, "那它可以商用嗎？", grounded, answer, history=HISTORY, kind="yes_no").ok is ok


def test_a_later_sentence_keeps_the_subject_in_play(catalog):
    question, grounded = PHI
    assert not check(catalog, question, grounded, "Phi-4 參數量 14.7B [1]。它的上下文有 128k [1]。").ok
    assert check(catalog, question, grounded, "Phi-4 參數量 14.7B [1]。它的上下文是 16k [1]。").ok


# ------------------------------------------------------------------ names


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("Phi-4 Pro 參數更多 [1]。", False),
        ("另外還有更快的 Phi-4-Turbo [1]。", False),
        ("最新的是 Phi 5，參數 14.7B [1]。", False),
        ("Phi-4 參數量 14.7B，稠密架構 [1]。", True),
        ("Phi-4（microsoft/phi-4）參數量 14.7B [1]。", True),
    ],
)
def test_invented_model_and_variant_names_fail(catalog, answer, ok):
    question, grounded = PHI
    assert check(catalog, question, grounded, answer).ok is ok


def test_a_size_name_off_by_a_point_is_invented(catalog):
    grounded = "SmolLM2 有 135M、360M、1.7B 三種尺寸。[1]"
    assert not check(catalog, "SmolLM2 有哪些尺寸？", grounded, "SmolLM2 有 135M、360M，還有 SmolLM2-17B [1]。").ok
    assert check(catalog, "SmolLM2 有哪些尺寸？", grounded, "最大的是 SmolLM2-1.7B [1]。").ok


def test_a_model_the_catalog_does_not_know_is_not_checked_as_a_known_one(catalog):
    grounded = "Pixtral 12B 採 Apache 2.0 授權，可商用。[1]"
    answer = "可以，Pixtral 12B 是 Apache 2.0；較大的 Pixtral Large 則不能商用 [1]。"
    assert check(catalog, "Pixtral 12B 能商用嗎？", grounded, answer, kind="yes_no").ok


def test_an_unrelated_model_fails_but_a_sibling_passes(catalog):
    question, grounded = PHI
    assert not check(catalog, question, grounded, "也可以考慮 Kimi K2 [1]。").ok
    assert check(catalog, question, grounded, "Phi-4 參數量 14.7B [1]；更小的 Phi-4-mini 只有 3.8B [1]。").ok


# ------------------------------------------------------------------ makers, countries, inputs, languages


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("Gemma 3 由 Google 推出 [1]。", True),
        ("Gemma 3 是 Meta 推出的 [1]。", False),
        ("Gemma 3 is made by Microsoft [1].", False),
        ("Qwen3 is a Japanese model [1].", False),
        ("Qwen3 是中國阿里巴巴的模型 [1]。", True),
    ],
)
def test_makers_and_countries(catalog, answer, ok):
    grounded = "Gemma 3 由美國的 Google 推出；Qwen3 由中國的阿里巴巴推出。[1]"
    assert check(catalog, "Gemma 3 和 Qwen3 是誰做的？", grounded, answer).ok is ok


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("Phi-4 可以看圖 [1]。", False),
        ("Phi-4 supports Chinese [1].", False),
        ("Phi-4 只吃文字，不能看圖 [1]。", True),
        ("Gemma 3 可以看圖 [1]。", True),
    ],
)
def test_inputs_and_languages(catalog, answer, ok):
    grounded = "Phi-4 只收文字；Gemma 3 可收圖片。[1]"
    assert check(catalog, "Phi-4 和 Gemma 3 能看圖嗎？", grounded, answer).ok is ok


# ------------------------------------------------------------------ form


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("Phi-4 參數量 14.7B，而且", False),
        ("Phi-4 has 14.7B parameters and", False),
        ("Phi-4 參數量 14.7B [1]", True),
        ("Phi-4 參數量 14.7B [1]。\n- 稠密架構", True),
        ("Phi-4 有多大？", False),
        ("- [1]", False),
        ("我不知道。", False),
        ("這是一個很好的問題，我們來看看 [1]。", False),
    ],
)
def test_complete_sentences_and_real_answers(catalog, answer, ok):
    question, grounded = PHI
    assert check(catalog, question, grounded, answer).ok is ok


def test_a_copied_worked_example_header_is_the_prompt_repeated(catalog):
    """Seen on SmolLM2-135M: it began its answer with the example's header."""
    question, grounded = PHI
    answer = "範例（虛構模型，只示範格式）：\nPhi-4 參數量 14.7B [1]。"
    assert any("system prompt" in p for p in check(catalog, question, grounded, answer).problems)


def test_the_answer_is_in_the_questions_language(catalog):
    grounded = "Phi-4 has 14.7B parameters.[1]"
    assert not check(catalog, "How big is Phi-4?", grounded, "Phi-4 參數量是 14.7B，屬於中型稠密模型 [1]。", language="en").ok
    assert check(catalog, "How big is Phi-4?", grounded, "Phi-4 has 14.7B parameters [1].", language="en").ok
    english = "Phi-4 has 14.7B parameters, a dense model released by Microsoft under the MIT licence [1]."
    assert not check(catalog, "Phi-4 有多大？", PHI[1], english, language="zh-TW").ok


def test_a_recommendation_must_meet_the_questions_requirements(catalog):
    grounded = "建議選 Qwen3（Qwen3-14B）：Apache-2.0（可商用）；強項：寫程式。[1]"
    question = "我要商用、寫程式的模型，推薦哪個？"
    assert not check(catalog, question, grounded, "推薦 Codestral 22B，它是 Mistral 的寫程式模型 [1]。", kind="model").ok
    assert check(catalog, question, grounded, "推薦 Qwen3-14B：Apache 2.0 可商用，擅長寫程式 [1]。", kind="model").ok


def test_simplified_text_is_converted_before_it_is_checked(catalog):
    question, grounded = PHI
    assert check(catalog, question, grounded, "Phi-4 参数量 14.7B，采用 MIT 授权 [1]。").ok


# ------------------------------------------------------------------ issue 20: mechanisms found on the v2/v3 label sets


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("GLM-4.6 跟 GLM-4.5 一樣是 128k。", False),
        ("GLM-4.6 is the same as GLM-4.5: 128k tokens.", False),
        ("GLM-4.6 的上下文從 GLM-4.5 的 128k 加長到 200k [1]。", True),
        ("GLM-4.6 的上下文是 200k [1]。", True),
    ],
)
def test_the_same_as_another_model_is_said_of_the_subject_too(catalog, answer, ok):
    grounded = "GLM-4.6 的上下文長度是 200k token。[1]"
    assert check(catalog, "GLM-4.6 上下文多長？", grounded, answer, subjects=[subject("glm-4.6")]).ok is ok


def test_a_claim_after_both_names_is_said_of_each(catalog):
    grounded = "Qwen3.6：尺寸 27B–35B（Qwen3.6-27B、Qwen3.6-35B-A3B）。[1]"
    question = "Qwen3.6 的兩個尺寸都是 MoE 嗎？"
    assert not check(catalog, question, grounded, "Qwen3.6 的 27B 和 35B-A3B 都是 MoE。").ok
    assert check(catalog, question, grounded, "只有 Qwen3.6 的 35B-A3B 是 MoE [1]。").ok


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("MiniMax-M2 是 MIT，可以商用；M2.5 是修改版 MIT [1]。", True),
        ("MiniMax-M2 是 MIT；M2.5 也是標準 MIT，沒有任何額外條件。", False),
        ("MiniMax 有 M2、M2.5，還有更小的 M2.5-Mini。", False),
    ],
)
def test_partial_names_of_a_family_in_play_are_names(catalog, answer, ok):
    grounded = "MiniMax-M2 採 MIT License 授權，可商用；MiniMax-M2.5 採 Modified MIT License，有條件商用。[1]"
    assert check(catalog, "MiniMax 哪一版可以商用？", grounded, answer).ok is ok


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("Kimi K2.5 was released on 2026-01-27 [1].", True),
        ("Kimi K2.5 came out in January 2026.", True),
        ("Kimi K2.5 was released in July 2025.", False),
        ("Kimi K2.5 於 2025 年 7 月釋出。", False),
    ],
)
def test_release_dates_compare_to_the_month(catalog, answer, ok):
    grounded = "Kimi K2.5 was released on 2026-01-27.[1]"
    assert check(catalog, "When did Kimi K2.5 come out?", grounded, answer, subjects=[subject("kimi-k2.5")],
                 attributes=["released"]).ok is ok


def test_a_count_the_facts_give_with_another_number_fails(catalog):
    grounded = "Kimi K2.6 focuses on agent swarms of up to 300 sub-agents.[1]"
    question = "How many sub-agents can Kimi K2.6 coordinate?"
    assert not check(catalog, question, grounded, "Up to 3,000 sub-agents in a swarm.", subjects=[subject("kimi-k2.6")]).ok
    assert check(catalog, question, grounded, "Up to 300 sub-agents in a swarm [1].", subjects=[subject("kimi-k2.6")]).ok


def test_a_size_the_catalog_states_in_its_own_words_passes_with_its_role(catalog):
    grounded = "LongCat-Flash 是混合專家 (MoE) 架構，每次啟動 27B。[1]"
    question = "LongCat-Flash 每次啟動多少參數？"
    assert check(catalog, question, grounded, "依內容動態啟動約 18.6B～31.3B，平均約 27B [1]。", subjects=[subject("longcat-flash")]).ok
    grounded = "DeepSeek-R1：671B 參數（MoE，每次啟動 37B）。[1]"
    assert not check(catalog, "DeepSeek-R1 參數量多少？", grounded, "DeepSeek-R1 總參數 37B，每次啟動 671B。",
                     subjects=[subject("deepseek-r1")]).ok


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("Gemma 2 由 Google 推出 [1]。\n- 上下文 8k [1]。", False),
        ("Gemma 2 是 Google 的 27B 模型 [1]。", False),
        ("8k [1]。", True),
        ("Gemma 2 的上下文是 8K token [1]。", True),
    ],
)
def test_the_first_sentences_state_the_attribute_asked(catalog, answer, ok):
    grounded = "Gemma 2 的上下文長度是 8k token。[1]"
    assert check(catalog, "Gemma 2 的上下文多長？", grounded, answer, kind="fact", subjects=[subject("gemma-2")],
                 attributes=["context"]).ok is ok


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("美團。", True),
        ("LongCat-Flash 是美團推出的 [1]。", True),
        ("LongCat-Flash 是一個很受歡迎的開放模型！", False),
        ("Samsung Research in South Korea.", False),
    ],
)
def test_a_maker_named_answers_who_makes_it(catalog, answer, ok):
    grounded = "LongCat-Flash 由中國的 美團 推出。[1]"
    assert check(catalog, "LongCat-Flash 是哪家的？", grounded, answer, kind="fact", subjects=[subject("longcat-flash")],
                 attributes=["vendor"], language="zh-TW").ok is ok


def test_licence_names_are_not_model_names(catalog):
    grounded = "Yes: Qwen3.8-27B is under Apache License 2.0, which allows commercial use.[1]"
    assert check(catalog, "Is Qwen3.8-27B open for commercial use?", grounded, "Yes — Qwen3.8-27B is released under Apache-2.0.",
                 kind="yes_no").ok


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("Gemma 4 9B 是 Gemma 4 的中型模型。", False),
        ("可以，Qwen3.5-72B 以 Apache 2.0 開源。", False),
        ("Qwen3.5 沒有 72B 這個尺寸；最接近的是 27B [1]。", True),
        ("Ministral 3 最大只到 8B。", False),
        ("Ministral 3 有 3B、8B、22B 三種。", False),
        ("Ministral 3 有 3B、8B、14B 三種 [1]。", True),
    ],
)
def test_sizes_that_do_not_exist_fail(catalog, answer, ok):
    grounded = "Gemma 4、Qwen3.5 與 Ministral 3 的尺寸見型錄。[1]"
    assert check(catalog, "這些模型有哪些尺寸？", grounded, answer).ok is ok


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("還沒，Granite 4.0 目前還在預覽階段。", False),
        ("Qwen3.5 的繁體中文完全不會跳成簡體。", False),
        ("None at all — Kimi K2.5 is plain MIT, so there are no extra conditions.", False),
        ("Kimi K2.5 uses a modified MIT licence: commercial use is allowed, with a display clause above 100 million users [1].", True),
    ],
)
def test_status_weaknesses_and_plain_licences_are_checked(catalog, answer, ok):
    grounded = "Granite 4.0 於 2025-10 釋出；Qwen3.5 的中文容易跳成簡體；Kimi K2.5 採 Modified MIT License。[1]"
    assert check(catalog, "Granite 4.0、Qwen3.5、Kimi K2.5 怎麼樣？", grounded, answer).ok is ok


def test_a_recommendation_may_name_any_model_that_meets_every_requirement(catalog):
    grounded = "建議選 **Qwen3.5-4B**：在通用對話能力上領先。[1]"
    question = "我只有 8GB 記憶體的舊筆電，能跑哪些模型？"
    ok = check(catalog, question, grounded, "建議先試 Granite 4.0：Q4_K_M 約需 5.0GB [1]。", kind="model", intent="recommend")
    assert ok.ok, ok.problems
    too_big = check(catalog, question, grounded, "建議用 DeepSeek-R1，推理能力最強。", kind="model", intent="recommend")
    assert not too_big.ok


def test_a_commercial_verdict_is_checked_against_the_catalog_when_the_facts_lead_with_none(catalog):
    grounded = "EXAONE 4.0 is LG AI Research's hybrid reasoning model, under the non-commercial EXAONE 1.2 NC licence.[1]"
    question = "Can my company ship a paid product on EXAONE 4.0?"
    assert not check(catalog, question, grounded, "Yes, as long as you credit LG AI Research.", kind="fact",
                     subjects=[subject("exaone-4.0")]).ok
    assert check(catalog, question, grounded, "No: EXAONE 4.0 is licensed for non-commercial use only [1].", kind="fact",
                 subjects=[subject("exaone-4.0")]).ok


def test_an_answer_about_a_model_the_catalog_does_not_have_fails(catalog):
    grounded = "型錄沒有收錄你問的這個模型，所以無法回答這個問題。"
    answer = "適合，V4-Lite 只有 16B，是 V4 系列最小的版本。"
    assert not check(catalog, "DeepSeek-V4-Lite 適合筆電嗎？", grounded, answer, kind="not_covered",
                     subjects=[subject("deepseek-v4")]).ok


def test_regular_expressions_in_the_validator_vocabulary_are_in_normalised_form():
    """`re:` cues are not normalised at load: a Simplified or variant character in one
    never matches (「最大只到」 normalises to 「最大隻到」)."""
    from assistant.text import normalize
    from assistant.vocabulary import VOCABULARY_DIR

    data = yaml.safe_load((VOCABULARY_DIR / "validation.yaml").read_text(encoding="utf-8"))
    bad = []

    def walk(node):
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and node.startswith("re:"):
            bad.extend(run for run in re.findall(r"[\u3400-\u9fff]+", node) if normalize(run) != run)

    walk(data)
    assert bad == []
