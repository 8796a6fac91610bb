"""Follow-ups (`assistant.answer.conversation` via `compose`/`plan_question` with `history`):
pronouns, ordinals, inherited attributes, partial names, relative sizes, kept constraints.
"""

from __future__ import annotations

import pytest

from assistant.answer.conversation import MAX_REPLAYED_TURNS, user_turns
from assistant.compose import compose, conversation_state, plan_question
from assistant.config import Settings
from assistant.evaluation import first_sentence
from assistant.index import build_chunks
from assistant.knowledge import load_catalog

from .conftest import KNOWLEDGE

CODING_16GB = "我只有 16GB 筆電，推薦寫程式的模型"


@pytest.fixture(scope="module")
def cat():
    return load_catalog(Settings().catalog_path)


@pytest.fixture(scope="module")
def chunks(cat):
    return {c.id: c for c in build_chunks(Settings(knowledge_dir=KNOWLEDGE), cat)}


def user(*questions):
    return [{"role": "user", "content": q} for q in questions]


def ask(question, cat, chunks, history):
    return compose(question, cat, [], chunks, history=history)


def shortlist(cat, chunks, question, language):
    """The model ids the earlier recommendation showed, in order."""
    return conversation_state(cat, user(question), language, chunks, None).shortlist


def test_pronoun_refers_to_the_previous_model(cat, chunks):
    reply = ask("它可以商用嗎？", cat, chunks, user("Gemma 3 用什麼授權？"))
    assert reply.route == "fact"
    assert reply.mentioned == ["gemma-3"]
    assert "Gemma 3" in first_sentence(reply.answer)
    assert "商用" in first_sentence(reply.answer)


def test_english_it_refers_to_the_previous_model(cat, chunks):
    reply = ask("Can it be used commercially?", cat, chunks, user("What licence does Phi-4 use?"))
    assert reply.mentioned == ["phi-4"]
    assert first_sentence(reply.answer).startswith("Yes")


def test_pronoun_without_history_asks_for_the_name(cat, chunks):
    reply = ask("它可以商用嗎？", cat, chunks, None)
    assert not reply.plan.subjects
    assert any("上文" in n for n in reply.notices)


def test_english_ordinal_picks_from_the_previous_shortlist(cat, chunks):
    before = "I have a 16GB laptop, recommend a model for coding"
    first = shortlist(cat, chunks, before, "en")[0]
    reply = ask("What licence does the first one use?", cat, chunks, user(before))
    assert reply.mentioned == [first]
    assert reply.plan.reference == "ordinal:1"
    lead = first_sentence(reply.answer)
    assert cat.by_id[first].licence.id in lead


def test_chinese_ordinal_picks_the_second_of_the_shortlist(cat, chunks):
    second = shortlist(cat, chunks, CODING_16GB, "zh-TW")[1]
    p = plan_question("第二個用什麼授權？", cat, user(CODING_16GB))
    assert [s.id for s in p.subjects] == [second]
    assert p.reference == "ordinal:2"


def test_ordinal_commercial_question_answers_commercial_use(cat, chunks):
    reply = ask("第二個可以商用嗎？", cat, chunks, user(CODING_16GB))
    assert reply.route == "fact"
    assert "商用" in first_sentence(reply.answer)


def test_na_x_ne_inherits_the_attribute(cat, chunks):
    reply = ask("那 Qwen3 呢？", cat, chunks, user("Gemma 3 用什麼授權？"))
    assert reply.mentioned == ["qwen3"]
    assert reply.plan.attributes == ["licence"]
    assert "Apache" in first_sentence(reply.answer)


def test_partial_name_picks_the_sibling(cat, chunks):
    reply = ask("那 Air 版呢？", cat, chunks, user("GLM-4.5 用什麼授權？"))
    assert reply.mentioned == ["glm-4.5-air"]
    assert first_sentence(reply.answer).startswith("GLM-4.5-Air")
    assert "MIT" in first_sentence(reply.answer)


def test_relative_size_picks_the_smallest_size(cat, chunks):
    p = plan_question("比較小的那個呢？", cat, user("Gemma 3 可以商用嗎？"))
    gemma3 = cat.by_id["gemma-3"]
    smallest = min(gemma3.sizes, key=lambda v: v.params_total_b).name
    assert [(s.id, s.variant) for s in p.subjects] == [("gemma-3", smallest)]
    assert p.attributes == ["commercial"]


def test_lower_memory_follow_up_keeps_the_task(cat, chunks):
    reply = ask("那如果只有 8GB 呢？", cat, chunks, user("我有 24GB 顯卡，推薦寫程式的模型"))
    assert reply.route == "recommend"
    assert reply.constraints.memory_gb == 8.0
    assert "coding" in reply.constraints.tasks
    assert reply.recommendations
    for rec in reply.recommendations:
        assert "coding" in rec.model.strengths
        assert rec.fit is not None and rec.fit.fits


def test_why_not_uses_the_earlier_constraints(cat, chunks):
    reply = ask("為什麼沒有推薦 Qwen3-Coder？", cat, chunks, user(CODING_16GB))
    assert reply.route == "why_not"
    lead = first_sentence(reply.answer)
    assert "Qwen3-Coder" in lead
    assert "16GB" in lead


def test_broken_earlier_turn_does_not_break_the_answer(cat, chunks):
    history = [
        {"role": "user", "content": "\x00\x00"},
        {"role": "assistant"},
        {"role": "user", "content": None},
        "not a turn",
        {"role": "user", "content": "Gemma 3 用什麼授權？"},
    ]
    reply = ask("它可以商用嗎？", cat, chunks, history)
    assert reply.mentioned == ["gemma-3"]


def test_turn_that_raises_is_skipped(cat, chunks, monkeypatch):
    import assistant.compose as compose_module

    real = compose_module.make_plan

    def flaky(question, *args, **kwargs):
        if question == "boom":
            raise RuntimeError("broken turn")
        return real(question, *args, **kwargs)

    monkeypatch.setattr(compose_module, "make_plan", flaky)
    reply = ask("它可以商用嗎？", cat, chunks, user("Gemma 3 用什麼授權？", "boom"))
    assert reply.mentioned == ["gemma-3"]


def test_only_recent_user_turns_are_replayed():
    history = user(*[f"q{n}" for n in range(10)]) + [{"role": "assistant", "content": "a"}]
    assert user_turns(history) == [f"q{n}" for n in range(10 - MAX_REPLAYED_TURNS, 10)]


# ---------------------------------------------------------------- fresh held-out misses (eval/questions-fresh.jsonl)

CHATBOT_24GB = "recommend a model for a commercial Traditional Chinese chatbot that runs on one 24GB GPU"


@pytest.mark.parametrize("question", ["why not Qwen?", "為什麼不用 Qwen？", "why not Qwen? isn't it apache?"])
def test_why_not_x_asks_about_x_and_does_not_avoid_it(cat, chunks, question):
    reply = ask(question, cat, chunks, user(CHATBOT_24GB))
    assert reply.route == "why_not"
    assert "qwen" not in reply.plan.constraints.avoid_families
    assert "Qwen" in first_sentence(reply.answer)


def test_a_licence_the_user_says_a_model_has_is_checked_not_added_to_the_conditions(cat, chunks):
    reply = ask("why not Qwen? isn't it apache?", cat, chunks, user(CHATBOT_24GB))
    lead = first_sentence(reply.answer)
    assert lead.startswith("Qwen is indeed Apache-2.0")
    assert "licence Apache-2.0" not in lead  # the conditions are the earlier request's
    reply = ask("為什麼沒推 Gemma 3？它不是 MIT 嗎", cat, chunks, user(CHATBOT_24GB))
    assert first_sentence(reply.answer).startswith("Gemma 3 不是 MIT 授權")


def test_a_family_left_out_names_each_reason_once_with_its_members(cat, chunks):
    answer = ask("為什麼不用 Qwen？", cat, chunks, user(CHATBOT_24GB)).answer
    lead = first_sentence(answer)
    assert lead.count("簡體") == 1  # three members, one reason, said once
    assert "QwQ-32B：" in lead  # the member left out for another reason is named with it


def test_chinese_as_the_texts_language_rules_out_english_only_models(cat, chunks):
    question = "I want a model on my laptop to summarize Chinese news articles, what do you suggest?"
    reply = ask(question, cat, chunks, None)
    assert "chinese" in reply.plan.constraints.tasks
    assert "smollm2" not in [r.model.id for r in reply.recommendations]
    why = ask("why didn't you recommend SmolLM?", cat, chunks, user(question))
    assert "English" in first_sentence(why.answer)
