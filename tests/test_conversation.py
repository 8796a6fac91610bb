"""Follow-ups (`assistant.answer.references`, `assistant.answer.conversation`) through `compose()`
with a history: ordinals pick from what was shown, pronouns pick the subject, 「那 X 呢」
replaces the subject or the hardware and keeps the rest, a new condition keeps the task, a new
attribute is asked of the subject in play, a turn that changes nothing says so, and odd input
in a conversation is answered in the conversation's language.

Catalog only: no index, no embedder.
"""

from __future__ import annotations

import pytest

from assistant.answer.conversation import MAX_REPLAYED_TURNS, ConversationState, user_turns
from assistant.answer.fitting import COMFORTABLE
from assistant.compose import conversation_state, plan_question
from assistant.messages import say

from .conftest import answer, fired_rule
from .conftest import user_turns as history_of

CODING_24GB = "我有一張 24GB 顯卡，想找寫程式的模型"
CODING_24GB_EN = "a coding model for my 24GB GPU"


@pytest.fixture(scope="module")
def ask(shared_catalog, shared_chunks):
    def ask(question, *history):  # type: ignore[no-untyped-def]
        return answer(shared_catalog, shared_chunks, question, history)

    return ask


@pytest.fixture(scope="module")
def shown(shared_catalog, shared_chunks):
    """The model ids an earlier answer showed, in order (what ordinals pick from)."""

    def shown(*history: str) -> list[str]:
        state = conversation_state(shared_catalog, history_of(*history), "zh-TW", shared_chunks, None)
        return state.shown

    return shown


# ---------------------------------------------------------------- ordinals pick from what was shown


@pytest.mark.parametrize(
    ("question", "n"),
    [("第三個可以商用嗎？", 3), ("第一個的授權是什麼", 1), ("What licence does the second one have?", 2), ("what about the third one?", 3)],
)
def test_an_ordinal_picks_from_the_list_shown(ask, shown, shared_catalog, question, n):
    listed = shown(CODING_24GB)
    assert len(listed) >= 3
    reply = ask(question, CODING_24GB)
    assert reply.plan.reference == f"ordinal:{n}"
    assert [s.id for s in reply.plan.models()] == [listed[n - 1]]
    assert reply.route == "fact" and fired_rule(reply.plan) == "model_fact"
    assert reply.lead["slots"]["name"].startswith(shared_catalog.by_id[listed[n - 1]].name.split(" ")[0])


def test_the_last_one_is_the_last_shown(ask, shown):
    listed = shown(CODING_24GB_EN)
    reply = ask("how about the last one?", CODING_24GB_EN)
    assert reply.plan.reference == f"ordinal:{len(listed)}"
    assert reply.mentioned[0] == listed[-1]


def test_an_ordinal_names_the_size_that_was_shown(ask, shared_catalog):
    top = ask(CODING_24GB).recommendations[0]
    assert len(shared_catalog.by_id[top.model.id].sizes) > 1, "the premise: the first pick comes in several sizes"
    reply = ask("第一個可以商用嗎？", CODING_24GB)
    assert reply.plan.models()[0].variant == top.variant.name
    assert reply.lead["key"].startswith("fact.commercial.") and reply.lead["slots"]["name"] == top.variant.name


def test_an_ordinal_after_a_fact_turn_still_picks_from_the_last_list(ask, shown):
    listed = shown(CODING_24GB)
    reply = ask("那第二個呢？", CODING_24GB, "第一個可以商用嗎？")
    assert [s.id for s in reply.plan.models()] == [listed[1]]
    assert reply.plan.attributes == ["commercial"]  # the question asked of #1, now of #2
    assert reply.lead["key"].startswith("fact.commercial.")


def test_an_ordinal_past_the_list_picks_nothing(ask, shown):
    assert len(shown(CODING_24GB)) < 9
    reply = ask("第九個可以商用嗎？", CODING_24GB)
    assert reply.plan.reference != "ordinal:9"
    assert not reply.plan.models()


# ---------------------------------------------------------------- pronouns


def test_a_pronoun_refers_to_the_previous_model(ask):
    reply = ask("那它的上下文多長？", "GLM-4.5 是哪一家做的？")
    assert reply.plan.reference == "pronoun"
    assert [s.id for s in reply.plan.models()] == ["glm-4.5"]
    assert reply.plan.attributes == ["context"]
    assert (reply.lead["key"], reply.lead["slots"]["name"]) == ("fact.context", "GLM-4.5")


def test_it_refers_to_the_previous_model_in_english(ask):
    reply = ask("is it ok for commercial use?", "Tell me about Phi-4")
    assert reply.mentioned == ["phi-4"]
    assert (reply.lead["key"], reply.lead["slots"]["name"]) == ("fact.commercial.yes", "Phi-4")
    assert reply.language == "en"


def test_a_pronoun_after_a_recommendation_is_the_first_pick(ask, shown):
    listed = shown(CODING_24GB)
    reply = ask("它可以讀多長的上下文？", CODING_24GB)
    assert [s.id for s in reply.plan.models()] == [listed[0]]
    assert reply.lead["key"] in ("fact.context", "fact.context_missing")


@pytest.mark.parametrize("question", ["那它的授權呢？", "它支援中文嗎", "is it any good for coding?"])
def test_a_pronoun_with_no_conversation_invents_no_subject(ask, question):
    reply = ask(question)
    assert reply.plan.subjects == []
    assert reply.constraints.mentioned_models == []
    assert reply.recommendations == [], "answering 'it' with a shortlist pretends to know what 'it' is"
    assert reply.lead["key"] == "notice.no_context", "the first sentence says there is nothing to refer to"
    assert reply.answer.startswith(say("notice.no_context", reply.language))


# ---------------------------------------------------------------- 「那 X 呢」


def test_na_x_ne_replaces_the_subject_and_keeps_the_attribute(ask):
    reply = ask("那 DeepSeek-V3 呢？", "Kimi K2 的授權是什麼？")
    assert reply.plan.reference == "replace" and "subject" in reply.plan.changes
    assert [s.id for s in reply.plan.models()] == ["deepseek-v3"]
    assert reply.plan.attributes == ["licence"]
    assert (reply.lead["key"], reply.lead["slots"]["name"]) == ("fact.licence", "DeepSeek-V3")


def test_what_about_x_in_english_replaces_the_subject(ask):
    reply = ask("what about Gemma 3?", "How long is Qwen3's context?")
    assert [s.id for s in reply.plan.models()] == ["gemma-3"]
    assert reply.plan.attributes == ["context"]
    assert reply.lead["key"] == "fact.context" and reply.lead["slots"]["name"] == "Gemma 3"


def test_na_x_ne_with_new_hardware_replaces_the_hardware_and_keeps_the_task(ask):
    reply = ask("那 16GB 的 Mac 呢？", CODING_24GB)
    assert fired_rule(reply.plan) == "follow_up" and reply.route == "recommend"
    c = reply.constraints
    assert (c.memory_gb, c.memory_kind) == (16.0, "unified")
    assert c.tasks == ["coding"]
    assert reply.plan.changes == ["constraint:hardware"]
    assert reply.recommendations
    for rec in reply.recommendations:
        assert rec.fit is not None and rec.fit.placement in COMFORTABLE and rec.fit.memory_kind == "unified"


def test_less_memory_keeps_the_task(ask):
    reply = ask("換成 8GB 的話呢？", CODING_24GB)
    assert reply.route == "recommend"
    assert reply.constraints.memory_gb == 8.0 and reply.constraints.tasks == ["coding"]
    assert reply.recommendations
    for rec in reply.recommendations:
        assert rec.fit is not None and rec.fit.placement in COMFORTABLE


def test_more_memory_in_english_keeps_the_task(ask):
    reply = ask("and with 64GB?", CODING_24GB_EN)
    assert reply.route == "recommend" and reply.language == "en"
    assert reply.constraints.memory_gb == 64.0 and reply.constraints.tasks == ["coding"]


def test_a_fit_follow_up_with_other_hardware_refits_the_same_model(ask):
    reply = ask("那 8GB 呢？", "我的 24GB 顯卡能跑 QwQ-32B 嗎？")
    assert reply.route == "fit"
    assert [s.id for s in reply.plan.models()] == ["qwq-32b"]
    assert reply.constraints.memory_gb == 8.0
    assert reply.lead["key"].startswith(("fit.no_", "fit.placement."))


# ---------------------------------------------------------------- a new condition keeps the task


def test_adding_a_licence_condition_keeps_the_task_and_the_hardware(ask):
    reply = ask("只要 Apache 授權的呢？", CODING_24GB)
    assert reply.route == "recommend" and fired_rule(reply.plan) == "follow_up"
    c = reply.constraints
    assert c.licence_ids == ["Apache-2.0"] and c.tasks == ["coding"] and c.memory_gb == 24.0
    assert "constraint:licence" in reply.plan.changes
    assert reply.recommendations
    assert all(r.model.licence.id.startswith("Apache-2.0") for r in reply.recommendations)


def test_adding_commercial_use_in_english_keeps_the_task(ask):
    reply = ask("only ones I can use commercially", CODING_24GB_EN)
    c = reply.constraints
    assert c.commercial_required and c.tasks == ["coding"] and c.memory_gb == 24.0
    assert all(r.model.commercial_use != "no" for r in reply.recommendations)


def test_avoiding_a_country_keeps_the_rest(ask):
    reply = ask("不要中國的呢？", CODING_24GB)
    c = reply.constraints
    assert c.avoid_countries == ["CN"] and c.tasks == ["coding"] and c.memory_gb == 24.0
    assert reply.recommendations and all(r.model.country != "CN" for r in reply.recommendations)


# ---------------------------------------------------------------- a new attribute of the subject in play


def test_a_new_attribute_is_asked_of_the_subject_in_play(ask):
    reply = ask("需要什麼硬體？", "Phi-4 參數量多少")
    assert reply.plan.reference == "implicit" and "attribute" in reply.plan.changes
    assert [s.id for s in reply.plan.models()] == ["phi-4"]
    assert reply.route == "fit" and reply.lead["key"] == "fit.needs" and reply.lead["slots"]["name"] == "Phi-4"


def test_and_its_licence_in_english(ask):
    reply = ask("and the licence?", "How long is Qwen3's context?")
    assert reply.plan.reference == "implicit"
    assert (reply.lead["key"], reply.lead["slots"]["name"], reply.lead["slots"]["id"]) == ("fact.licence", "Qwen3", "Apache-2.0")


# ---------------------------------------------------------------- names and sizes within the family


def test_part_of_a_name_picks_the_sibling(ask):
    reply = ask("Air 的話呢？", "GLM-4.5 用哪種授權")
    assert reply.plan.reference == "partial-name"
    assert reply.mentioned == ["glm-4.5-air"]
    assert (reply.lead["key"], reply.lead["slots"]["name"]) == ("fact.licence", "GLM-4.5-Air")


def test_a_relative_size_picks_the_smallest_size(ask, shared_catalog):
    reply = ask("小一點的呢？", "Gemma 3 能商用嗎")
    smallest = min(shared_catalog.by_id["gemma-3"].sizes, key=lambda v: v.params_total_b).name
    assert reply.plan.reference == "relative-size"
    assert [(s.id, s.variant) for s in reply.plan.subjects] == [("gemma-3", smallest)]
    assert reply.plan.attributes == ["commercial"]
    assert reply.lead["slots"]["name"] == smallest


# ---------------------------------------------------------------- turns that change nothing, odd input


@pytest.mark.parametrize("question", ["然後呢？", "hmm ok", "ok and?"])
def test_a_turn_that_changes_nothing_says_so(ask, shown, shared_catalog, question):
    history = CODING_24GB if question == "然後呢？" else CODING_24GB_EN
    reply = ask(question, history)
    assert reply.route == "no_change" and fired_rule(reply.plan) == "follow_up"
    assert reply.lead["key"] == "followup.no_change_pick"
    assert reply.lead["slots"]["name"].startswith(shared_catalog.by_id[shown(history)[0]].name)  # the first pick (with its size)
    assert reply.recommendations == []


@pytest.mark.parametrize(("history", "language"), [(CODING_24GB_EN, "en"), (CODING_24GB, "zh-TW")])
@pytest.mark.parametrize("question", ["🙂🙂🙂", "!!!", "<div></div>"])
def test_nonsense_in_a_conversation_is_answered_in_its_language(ask, history, language, question):
    reply = ask(question, history)
    assert reply.route == "nonsense"
    assert reply.language == language
    assert reply.lead["key"] == "scope.nonsense"


def test_an_english_follow_up_in_a_chinese_conversation_is_answered_in_english(ask):
    reply = ask("why not Gemma 4?", CODING_24GB)
    assert reply.language == "en" and reply.route == "why_not"


def test_why_not_uses_the_earlier_request(ask):
    reply = ask("為什麼沒有推薦 Qwen3-Coder？", "我只有 16GB 的筆電，想找能寫程式的模型")
    assert reply.route == "why_not"
    assert reply.constraints.memory_gb == 16.0 and reply.constraints.tasks == ["coding"]
    assert reply.lead["slots"]["name"].startswith("Qwen3-Coder")


def test_why_not_a_model_the_language_rules_out_names_the_language(ask):
    reply = ask("why wasn't SmolLM2 recommended?", "I want a model on my laptop to sum up Chinese news")
    assert "chinese" in reply.constraints.tasks
    assert reply.lead["key"] == "why_not.failed"
    assert reply.lead["slots"]["name"] == "SmolLM2"


# ---------------------------------------------------------------- replaying the history


def test_broken_earlier_turns_do_not_break_the_answer(shared_catalog, shared_chunks):
    from assistant.compose import compose

    history = [
        {"role": "user", "content": "\x00\x00"},
        {"role": "assistant"},
        {"role": "user", "content": None},
        "not a turn",
        {"role": "user", "content": "Gemma 3 是哪種授權"},
    ]
    reply = compose("那它能商用嗎？", shared_catalog, [], shared_chunks, history=history)  # type: ignore[arg-type]
    assert reply.mentioned == ["gemma-3"]


def test_a_turn_that_raises_is_skipped(shared_catalog, shared_chunks, monkeypatch):
    import assistant.compose as compose_module

    real = compose_module.make_plan

    def flaky(question, *args, **kwargs):  # type: ignore[no-untyped-def]
        if question == "boom":
            raise RuntimeError("broken turn")
        return real(question, *args, **kwargs)

    monkeypatch.setattr(compose_module, "make_plan", flaky)
    reply = answer(shared_catalog, shared_chunks, "那它能商用嗎？", ("Gemma 3 是哪種授權", "boom"))
    assert reply.mentioned == ["gemma-3"]


def test_only_recent_user_turns_are_replayed():
    history = history_of(*[f"q{n}" for n in range(10)]) + [{"role": "assistant", "content": "a"}]
    assert user_turns(history) == [f"q{n}" for n in range(10 - MAX_REPLAYED_TURNS, 10)]


def test_scope_and_nonsense_turns_leave_the_state_alone(shared_catalog, shared_chunks):
    before = conversation_state(shared_catalog, history_of(CODING_24GB), "zh-TW", shared_chunks, None)
    after = conversation_state(shared_catalog, history_of(CODING_24GB, "🙂🙂", "明天要帶傘嗎"), "zh-TW", shared_chunks, None)
    assert isinstance(after, ConversationState)
    assert after.turns == 3
    assert (after.intent, after.shown, after.constraints.to_dict()) == (before.intent, before.shown, before.constraints.to_dict())


def test_plan_question_and_compose_agree_on_a_follow_up(shared_catalog, ask):
    p = plan_question("只要 Apache 授權的呢？", shared_catalog, history_of(CODING_24GB))
    reply = ask("只要 Apache 授權的呢？", CODING_24GB)
    assert (p.intent, p.reference, p.changes) == (reply.plan.intent, reply.plan.reference, reply.plan.changes)


# ---------------------------------------------------------------- round-3 mechanisms: requirements, fragments, scope


def _first(reply) -> str:  # type: ignore[no-untyped-def]
    return reply.answer.split("\n")[0]


def test_a_requirement_after_a_recommendation_reruns_it(ask, shared_catalog):
    first = "Which open model is best for really long documents, like a 500-page contract?"
    reply = ask("It has to be OK for commercial use though, we're a small startup.", first)
    assert reply.plan.intent == "recommend" and reply.plan.constraints.commercial_required
    assert "long-context" in reply.plan.constraints.tasks  # the earlier need is kept
    asked = ask("它可以商用嗎？", "推薦一個寫程式的模型")
    assert asked.plan.intent != "recommend"  # a question about the pick stays a question


def test_several_fragments_name_several_sizes(ask):
    reply = ask("26B A4B 跟 31B 差在哪？要跑的話哪個比較快", "gemma 4 出了哪些尺寸啊")
    assert {s.variant for s in reply.plan.subjects} >= {"Gemma 4 26B A4B", "Gemma 4 31B"}, reply.plan.subjects


def test_a_fragment_prefers_the_earlier_subjects_line(ask):
    assert _first(ask("那 mini 呢", "Phi-4 有哪些版本")).startswith("Phi-4-mini")


def test_a_size_word_is_a_relative_size_not_a_fragment(ask):
    assert "Ministral" in _first(ask("and the small one?", "what's mistral's vision model called?"))


def test_constraints_after_a_family_question_stay_in_that_family(ask, shared_catalog):
    reply = ask("我要 MIT 授權、又能丟圖片進去的，最新是哪個", "智譜的 GLM 現在出到第幾版了")
    assert reply.plan.reference == "family-scope"
    lead = _first(reply)
    named = [m for m in shared_catalog.models if m.name in lead]
    assert named and all(m.family == "glm" for m in named), lead


def test_the_two_refers_to_both_earlier_subjects_and_the_freer_licence_leads(ask):
    reply = ask("這兩個哪個授權比較寬鬆？", "Phi-4 跟 Gemma 3 哪個好？")
    assert _first(reply).startswith("授權比較寬鬆的是 **Phi-4**"), _first(reply)
    english = ask("which of the two has the less restrictive license?", "mistal small or gemma3 for a single 24gb card? mostly RAG")
    assert "**Mistral Small 4** has the less restrictive licence" in _first(english), _first(english)


def test_which_licence_is_freer_after_a_comparison(ask):
    reply = ask("那哪个的开源协议更宽松？", "DeepSeek R1 和 V3 有什么区别？")
    assert _first(reply).startswith("授權比較寬鬆的是 **DeepSeek-R1**"), _first(reply)


def test_same_as_compares_the_subject_in_play_with_the_one_named(ask):
    reply = ask("那授權呢 跟 K2 那套 modified MIT 一樣嗎？我要包進公司產品賣", "kimi k3 有開源嗎？多大")
    assert _first(reply).startswith("不一樣") and "Kimi K3" in _first(reply) and "Kimi K2" in _first(reply), _first(reply)
    english = ask("our legal team signed off on Gemma 3 under the Gemma Terms of Use. Gemma 4 - same terms? we ship a paid product")
    assert _first(english).startswith("No, the licences differ"), _first(english)
    assert "licence Gemma" not in english.answer  # the terms they described are no requirement


def test_does_that_change_the_pick_reruns_with_the_new_need(ask):
    reply = ask("Some of our contracts are ~400k tokens and we'd like to paste whole ones in. Does that change the pick?",
                "Need a model for RAG over our internal docs, running on 2x RTX 3090 (48GB). What do you suggest?")
    assert reply.plan.intent == "recommend" and (reply.plan.constraints.min_context_tokens or 0) >= 400_000
    assert reply.plan.constraints.memory_gb == 48
