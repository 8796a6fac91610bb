"""Answer-first rendering (`assistant.answer.render`): the first sentence answers, as a template
key and slots (`Reply.lead`), for every intent; the answer text starts with that sentence.

Asserts the lead's key and slots, not wording (wording lives in knowledge/messages).
Catalog only (`compose()` with empty retrieval).
"""

from __future__ import annotations

import pytest

from assistant.answer.citations import Citations
from assistant.answer.context import Context
from assistant.answer.render import RENDERERS, render
from assistant.answer.types import INTENTS
from assistant.compose import plan_question
from assistant.messages import Message, say

from .conftest import answer, fired_rule


@pytest.fixture(scope="module")
def ask(shared_catalog, shared_chunks):
    def ask(question, *history, sentences=None):  # type: ignore[no-untyped-def]
        reply = answer(shared_catalog, shared_chunks, question, history, sentences=sentences)
        assert reply.lead is not None, question
        return reply

    return ask


def lead_text(reply) -> str:  # type: ignore[no-untyped-def]
    return Message(reply.lead["key"], reply.lead["slots"]).text(reply.language)


# ---------------------------------------------------------------- every intent has a renderer and a lead


def test_every_intent_has_a_renderer():
    assert set(RENDERERS) == set(INTENTS)


LEADS = [
    ("Phi-4 可以拿來做商業產品嗎", "fact", "fact.commercial.yes"),
    ("Codestral 能不能商用", "fact", "fact.commercial.no"),
    ("Gemma 3 做產品可以商用嗎？", "fact", "fact.commercial.conditional"),
    ("Is Codestral OK for a commercial product?", "fact", "fact.commercial.no"),
    ("What licence is Gemma 3 under?", "fact", "fact.licence"),
    ("Llama 系列可以商用嗎？", "fact", "family.commercial_all.conditional"),
    ("Are the GPT-OSS models free for commercial use?", "fact", "family.commercial_all.yes"),
    ("Mistral 的模型都能商用嗎", "fact", "family.commercial_mixed"),
    ("Gemma 是 Meta 做的對吧？", "false_premise", "premise.vendor"),
    ("Phi-4 是 Apache 授權的吧？", "false_premise", "premise.licence"),
    ("哪個模型最小？", "rank", "rank.lead.params_total.asc"),
    ("Which model reads the longest context?", "rank", "rank.lead.context.desc"),
    ("最近有什麼新模型？", "newest", "newest.lead"),
    ("哪些模型是 MIT 授權？", "list", "list.lead"),
    ("Which is better for math, Qwen3 or Phi-4?", "compare", "compare.verdict"),
    ("推薦一個模型給我", "recommend", "recommend.top"),
    ("現在最強的開源模型是哪個", "recommend", "recommend.strongest"),
    ("明天要帶傘嗎", "out_of_scope", "scope.out"),
    ("哈囉", "scope", "scope.help"),
    ("🤖🤖❓", "nonsense", "scope.nonsense"),
    ("GPT-4o 可以自己部署嗎？", "closed", "closed.lead"),
    ("Can Qwen3-8B run on 8GB of VRAM?", "fit", "fit.placement.fits"),
    ("gpt-oss-120b 需要多少記憶體？", "fit", "fit.needs"),
    ("Can the Gemma family run on an 8GB GPU?", "fit", "fit.family_all"),
]


@pytest.mark.parametrize(("question", "route", "key"), LEADS, ids=[q for q, _r, _k in LEADS])
def test_the_lead_for_each_kind_of_question(ask, question, route, key):
    reply = ask(question)
    assert reply.route == route
    assert reply.lead["key"] == key
    assert reply.answer.startswith(lead_text(reply)), "the first sentence is the lead"


# ---------------------------------------------------------------- facts: the verdict and its slots


@pytest.mark.parametrize(
    ("question", "model_id"),
    [("Phi-4 可以拿來做商業產品嗎", "phi-4"), ("Codestral 能不能商用", "codestral"), ("Is Qwen3 fine for commercial use?", "qwen3")],
)
def test_a_commercial_answer_carries_the_catalogs_licence(ask, shared_catalog, question, model_id):
    reply = ask(question)
    model = shared_catalog.by_id[model_id]
    assert reply.lead["key"] == f"fact.commercial.{model.commercial_use}"
    assert reply.lead["slots"]["id"] == model.licence.id
    assert reply.plan.answer_kind == "yes_no"


def test_a_named_size_answers_with_that_sizes_own_licence(ask, shared_catalog):
    reply = ask("Qwen2.5-3B 能拿來商用嗎？")
    facts = shared_catalog.by_id["qwen2.5"].with_variant("Qwen2.5-3B")
    assert facts.commercial_use == "no"
    assert reply.lead["key"] == "fact.commercial.no"
    assert reply.lead["slots"]["name"] == "Qwen2.5-3B"


def test_a_size_question_gives_the_catalog_number(ask, shared_catalog):
    reply = ask("Phi-4 的參數量有多少")
    assert reply.lead["key"] == "fact.size"
    assert "14.7B" in reply.lead["slots"]["size"]
    assert shared_catalog.by_id["phi-4"].params_total_b == 14.7


@pytest.mark.parametrize(("question", "extreme"), [("最小的 Qwen3 是多大？", "smallest"), ("Qwen3 最大的尺寸是多少", "largest")])
def test_the_smallest_or_largest_size_of_a_model(ask, shared_catalog, question, extreme):
    reply = ask(question)
    sizes = shared_catalog.by_id["qwen3"].sizes
    pick = (min if extreme == "smallest" else max)(sizes, key=lambda v: v.params_total_b)
    assert reply.lead["key"] == f"fact.size_{extreme}"
    assert reply.lead["slots"]["variant"] == pick.name


@pytest.mark.parametrize(("question", "yes"), [("Phi-4-multimodal 聽得懂語音嗎？", True), ("Can Phi-4 see images?", False)])
def test_a_modality_question_answers_yes_or_no(ask, question, yes):
    reply = ask(question)
    assert reply.lead["key"] == f"fact.modality.{'yes' if yes else 'no'}"


def test_a_true_claim_is_confirmed_first(ask):
    reply = ask("Mistral 7B 是法國的模型對吧？")
    assert reply.route == "fact"
    assert reply.lead["slots"]["prefix"] == say("fact.confirmed", "zh-TW")


@pytest.mark.parametrize(
    ("question", "key", "actual"),
    [
        ("Gemma is made by Meta, right?", "premise.vendor", "Google"),
        ("Kimi K2 是美國公司做的對吧？", "premise.country", None),
        ("DeepSeek-R1 只有 7B 對吧？", "premise.size", None),
        ("Codestral 可以商用對吧？", "premise.commercial_no", None),
    ],
)
def test_a_false_premise_is_corrected_first(ask, question, key, actual):
    reply = ask(question)
    assert reply.route == "false_premise"
    assert reply.lead["key"] == key
    if actual:
        assert reply.lead["slots"]["actual"] == actual


# ---------------------------------------------------------------- fit placements through the answer


def test_a_64gb_mac_and_a_70b_model_at_q4_is_tight_or_needs_the_limit_raised(ask, shared_catalog):
    reply = ask("Can Llama 3.3 70B at Q4 run on a 64GB MacBook Pro?")
    assert fired_rule(reply.plan) == "model_fit"
    assert reply.lead["key"] in ("fit.placement.tight", "fit.placement.os_limit")
    assert reply.lead["slots"]["name"] == "Llama 3.3 70B" and reply.lead["slots"]["quant"] == "Q4_K_M"
    assert float(reply.lead["slots"]["need"]) > float(reply.lead["slots"]["comfortable"])  # not a roomy fit
    assert reply.plan.constraints.memory_kind == "unified"
    # The macOS GPU-memory rule decides the placement, and the answer states it.
    from assistant.answer.fitting import report_fit

    llama = shared_catalog.by_id["llama-3"]
    fit = report_fit(llama, llama.variant("Llama 3.3 70B"), reply.plan.constraints)
    assert fit.budget.rule == "macos" and "budget_macos" in [a.id for a in fit.assumptions]
    slots = {k: (f"{v:g}" if isinstance(v, float) else v) for k, v in next(a for a in fit.assumptions if a.id == "budget_macos").slots.items()}
    rule = say("fit.rule.budget_macos", "en", **{k: slots.get(k, "") for k in ("memory_gb", "usable_gb", "comfortable_gb", "count", "context", "layers")})
    assert rule in reply.answer


def test_a_64gb_mac_and_a_70b_model_in_chinese(ask):
    reply = ask("64GB 的 Mac Studio 能跑 Llama 3.3 70B 嗎")
    assert fired_rule(reply.plan) == "model_fit"
    assert reply.lead["key"] in ("fit.placement.tight", "fit.placement.os_limit")


@pytest.mark.parametrize("question", ["gpt-oss-20b 在 16GB 記憶體的電腦上跑得動嗎？", "Will gpt-oss-20b run on my 16GB laptop?"])
def test_a_16gb_machine_runs_gpt_oss_20b(ask, question):
    reply = ask(question)
    assert fired_rule(reply.plan) == "model_fit"
    assert reply.lead["key"] in ("fit.placement.fits", "fit.placement.tight")
    assert reply.lead["slots"]["name"] == "gpt-oss-20b"
    assert float(reply.lead["slots"]["need"]) <= 16


@pytest.mark.parametrize("question", ["我的 24GB 顯卡能跑 QwQ-32B Q4_K_M 嗎？", "Can QwQ-32B run at Q4_K_M on a 24GB card?"])
def test_24gb_runs_qwq_32b_at_q4_k_m(ask, question):
    reply = ask(question)
    assert reply.route == "fit"
    assert reply.lead["key"] in ("fit.placement.fits", "fit.placement.tight")
    assert (reply.lead["slots"]["name"], reply.lead["slots"]["quant"]) == ("QwQ-32B", "Q4_K_M")


@pytest.mark.parametrize("question", ["Can Gemma 3 27B run on 8GB of VRAM?", "8GB 顯卡跑得動 Llama 4 Maverick 嗎"])
def test_a_model_that_does_not_fit_says_no_first(ask, question):
    reply = ask(question)
    assert reply.route == "fit"
    assert reply.lead["key"] in ("fit.no_single", "fit.no_smallest", "fit.placement.partial_offload",
                                 "fit.placement.expert_offload", "fit.placement.no_fit")


def test_a_fit_question_with_a_lower_quant_suggestion_renders(ask):
    """A size that only squeezes in at a lower quantisation gets the lower-quant line (not a crash)."""
    reply = ask("Is Ministral 8B good for a phone?")
    assert reply.route == "fit"
    assert reply.lead is not None


# ---------------------------------------------------------------- lists, ranks, the newest


def test_the_smallest_model_is_the_catalogs_smallest(ask, shared_catalog):
    reply = ask("哪個模型最小？")
    smallest = min((v.params_total_b, m.id) for m in shared_catalog.models if m.status == "released" for v in m.sizes)
    assert reply.shown[0] == smallest[1]
    assert reply.lead["slots"]["position"] == 1


def test_the_second_largest_is_second(ask):
    reply = ask("第二大的模型是哪個？")
    assert reply.lead["slots"]["position"] == 2
    assert reply.plan.rank.position == 2


@pytest.mark.parametrize("question", ["最近有什麼新模型？", "What are the latest open-weight releases?", "最新的开源模型有哪些"])
def test_the_newest_answer_names_the_newest_release_and_states_the_coverage(ask, shared_catalog, question):
    from assistant.answer.render_lists import newest_release

    reply = ask(question)
    assert reply.route == "newest"
    newest = newest_release(shared_catalog)
    top = shared_catalog.by_id[reply.shown[0]]
    assert reply.lead["slots"]["date"] == top.released
    assert top.released[:7] == newest[:7]
    coverage = say("catalog.coverage", reply.language, month=newest[:7], checked=shared_catalog.as_of.isoformat())
    assert coverage in reply.answer


def test_a_list_answer_counts_what_it_lists(ask, shared_catalog):
    reply = ask("哪些模型是 MIT 授權？")
    assert reply.lead["slots"]["count"] == len(reply.shown)
    # A model listed for one MIT size (DeepSeek-V3-0324) shows that size's licence.
    def mit(model):
        return model.licence.id.startswith("MIT") or any(
            model.with_variant(v.name).licence.id.startswith("MIT") for v in model.variants)
    assert all(mit(shared_catalog.by_id[i]) for i in reply.shown)
    mit = {m.id for m in shared_catalog.models if m.licence.id == "MIT" and m.status == "released"}
    assert mit <= set(reply.shown)


def test_a_country_list_lists_only_that_country(ask, shared_catalog):
    reply = ask("有哪些模型是韓國做的？")
    assert reply.route == "list" and reply.shown
    assert {shared_catalog.by_id[i].country for i in reply.shown} == {"KR"}


# ---------------------------------------------------------------- recommendations and comparisons


def test_a_recommendation_leads_with_the_first_pick(ask):
    reply = ask("手上只有 16GB 的筆電，有推薦的寫程式模型嗎？")
    assert reply.route == "recommend"
    assert reply.lead["slots"]["name"].startswith(reply.recommendations[0].model.name)
    assert reply.shown == [r.model.id for r in reply.recommendations]


def test_a_comparison_leads_with_the_pick_it_ranks_first(ask):
    reply = ask("Which is better for math, Qwen3 or Phi-4?")
    assert reply.shown == ["qwen3", "phi-4"]
    assert reply.lead["slots"]["name"].startswith("Qwen3")


def test_a_comparison_verdict_does_not_quote_figures_that_contradict_it(ask):
    """The verdict says the winner leads the other "(A vs B)": on a shared benchmark A must not be lower."""
    import re

    reply = ask("Compare Phi-4 and Llama 3 for chat")
    winner = next(r for r in reply.recommendations if reply.lead["slots"]["name"].startswith(r.model.name.split(" ")[0]))
    other = next(r for r in reply.recommendations if r is not winner)
    because = reply.lead["slots"]["because"]
    number = lambda label: float(re.search(r"(\d+(?:\.\d+)?) \(", label).group(1))  # noqa: E731
    for bench, label in winner.capability["figures"].items():
        theirs = other.capability["figures"].get(bench)
        if theirs and label in because and theirs in because:
            assert number(label) >= number(theirs), (bench, label, theirs)


def test_a_which_question_naming_one_model_recommends_its_sizes(ask):
    """「Qwen3 哪一個適合…」 is a recommendation within Qwen3, not across the catalog."""
    reply = ask("Qwen3 哪一個適合在 12GB 顯卡上寫程式？")
    assert fired_rule(reply.plan) == "which_model_for_task"
    assert reply.recommendations
    assert {r.model.id for r in reply.recommendations} == {"qwen3"}


def test_a_family_request_recommends_within_the_family(ask):
    reply = ask("我要商用，推薦一個 Mistral 的模型")
    assert reply.recommendations and {r.model.family for r in reply.recommendations} == {"mistral"}
    assert all(r.model.commercial_use != "no" for r in reply.recommendations)


def test_a_closed_model_named_as_the_benchmark_gets_open_recommendations(ask):
    reply = ask("有沒有跟 GPT-4o 差不多但可以商用的開源模型？")
    assert reply.route == "recommend" and reply.recommendations
    assert all(r.model.commercial_use != "no" for r in reply.recommendations)


# ---------------------------------------------------------------- not covered


@pytest.mark.parametrize(("question", "name"), [("Qwen 9 能商用嗎", "Qwen 9"), ("How big is Llama 7?", "Llama 7")])
def test_an_unknown_release_of_a_known_family_is_named_back(ask, question, name):
    reply = ask(question)
    assert reply.route == "unknown_model"
    assert reply.lead["key"] == "unknown.named"
    assert name in reply.lead["slots"]["names"]
    assert reply.recommendations == []


def test_an_unknown_name_outside_the_catalogs_families_is_not_echoed(ask):
    reply = ask("what about Yi-34B from 01.AI, is it open?")
    assert reply.route == "unknown_model"
    assert reply.lead["key"] == "unknown.anonymous"
    assert "Yi-34B" not in reply.answer


@pytest.mark.parametrize("question", ["明天要帶傘嗎", "GPT-4o 可以自己部署嗎？", "哈囉"])
def test_answers_outside_the_catalog_have_no_catalog_footer(ask, shared_catalog, question):
    reply = ask(question)
    assert shared_catalog.as_of.isoformat() not in reply.answer
    assert reply.recommendations == [] and reply.shown == []


def test_catalog_answers_end_with_the_as_of_date(ask, shared_catalog):
    assert shared_catalog.as_of.isoformat() in ask("Phi-4 的參數量有多少").answer


# ---------------------------------------------------------------- render() directly


def test_render_returns_the_lead_and_every_part(shared_catalog, shared_chunks):
    plan = plan_question("Phi-4 上下文多長、可以商用嗎？", shared_catalog)
    rendered = render(plan, Context(shared_catalog, Citations(shared_chunks, []), [], {}, None, None))
    assert rendered.lead is not None and rendered.lead.key == "fact.context"
    assert [p.key for p in rendered.parts[:2]] == ["fact.context", "fact.commercial.yes"]
    assert rendered.shown == ["phi-4"]
    assert rendered.footer


# ---------------------------------------------------------------- derivatives and suitability


def test_derivatives_list_what_is_built_on_the_named_model(ask, shared_catalog):
    reply = ask("Which models are based on Llama 3?")
    assert reply.route == "derivatives" and reply.lead["key"] == "derivatives.lead"
    expected = {m.id for m in shared_catalog.models if "llama-3" in (m.base_model, m.weights_from)}
    assert expected and set(reply.shown) == expected
    assert reply.lead["slots"]["count"] == len(expected)


def test_a_distillation_counts_as_built_on_its_student(ask):
    reply = ask("哪些模型是從 Qwen3 微調來的？")
    assert reply.route == "derivatives"
    assert "deepseek-r1-0528-qwen3-8b" in reply.shown


def test_the_base_of_a_named_model_is_a_fact_not_a_list(ask):
    reply = ask("Devstral 是基於哪個模型？")
    assert reply.route == "fact"
    assert "Mistral Small 3.1" in reply.answer.split("\n")[0]


def test_suitability_places_the_model_among_the_measured_and_names_stronger_ones(ask):
    reply = ask("Is Phi-4 good for coding?")
    assert reply.route == "suitability" and reply.lead["key"].startswith("suit.")
    own, *better = reply.recommendations
    assert own.model.id == "phi-4"
    assert better, "a 'not really' names what to use instead"
    for rec in better:
        assert rec.capability["score"] > own.capability["score"]
        assert rec.variant.params_total_b <= own.variant.params_total_b * 1.2


def test_suitability_for_an_untested_task_reads_the_strength_tags(ask, shared_catalog):
    reply = ask("Qwen3 適合微調嗎")
    assert reply.route == "suitability"
    tagged = "fine-tuning-base" in shared_catalog.by_id["qwen3"].strengths
    assert reply.lead["key"] == ("suit.tagged_only" if tagged else "suit.untagged")


def test_an_only_claim_is_checked_against_everything_that_fits(ask):
    reply = ask("Is Phi-4 the only MIT model that fits 16GB?")
    assert reply.route == "only" and reply.lead["key"] == "only.false"
    assert reply.lead["slots"]["count"] >= 1
    assert all(r.model.licence.id.startswith("MIT") for r in reply.recommendations)


def test_a_true_only_claim_says_yes(ask):
    reply = ask("a speech model under 8B with MIT licence, is Phi-4-multimodal the only one?")
    assert reply.route == "only" and reply.lead["key"] == "only.true"
    assert [r.model.id for r in reply.recommendations] == ["phi-4-multimodal"]


def test_a_drift_question_is_answered_first(ask):
    reply = ask("Falcon 會不會跳成簡體？")
    assert reply.lead["key"] == "family.drift_yes"


def test_a_diff_states_what_changed_fact_by_fact(ask, shared_catalog):
    reply = ask("以前 Ministral 8B 不能商用很麻煩，新的 Ministral 3 8B 授權有改嗎？其他還差在哪")
    assert reply.route == "diff" and reply.lead["key"] == "diff.lead"
    diffs = reply.lead["slots"]["diffs"]
    old = shared_catalog.by_id["ministral"]
    assert old.licence.id in diffs and "Apache-2.0" in diffs


def test_a_release_code_after_a_name_picks_that_release(ask):
    reply = ask("Devstral Small 2 跟之前的 Devstral Small（2507 那版）比，到底升級了什麼？")
    assert reply.route == "diff"
    assert {s.variant or s.name for s in reply.plan.models()} >= {"Devstral-Small-2507"}


@pytest.mark.parametrize(("question", "count"), [("best 3 models for coding on a 24GB GPU", 3), ("推薦三個可以商用的中文模型", 3),
                                                 ("give me two models for chat on a 16GB laptop", 2), ("推薦可以商用的中文模型", 5)])
def test_a_recommendation_lists_as_many_as_asked(ask, question, count):
    import re

    reply = ask(question)
    numbered = [line for line in reply.answer.splitlines() if re.match(r"^\d+\. \*\*", line)]
    assert len(numbered) == count, reply.answer


def test_a_year_not_wanted_is_in_the_stated_conditions_and_respected(ask, shared_catalog):
    reply = ask("不要 2024 年的模型，推薦寫程式的")
    assert "2025 年以後釋出" in reply.answer.splitlines()[1]
    listed = [m for m in shared_catalog.models if f"**{m.name}**" in reply.answer.split("不符合條件")[0]]
    assert listed and all((m.released or "") >= "2025" for m in listed), [(m.name, m.released) for m in listed]


@pytest.mark.parametrize(("question", "says", "not_says"), [
    ("qwen3.5 最大那顆旗艦啟動參數多少？", ["17B", "MoE"], ["不是 MoE"]),
    ("Gemma 4 是 MoE 嗎？", ["26B A4B", "3.8B"], []),
    ("Gemma 4 31B 是 MoE 嗎？", ["不是 MoE"], []),
])
def test_moe_answers_follow_each_size(ask, question, says, not_says):
    lead = ask(question).answer.split("\n")[0]
    assert all(s in lead for s in says) and not any(s in lead for s in not_says), lead


def test_a_benchmark_ranking_ranks_every_size(ask):
    reply = ask("16GB 顯卡、用 Q4_K_M 能整個放進去的模型中，BFCL v4 function calling 分數前三名？")
    lines = [line for line in reply.answer.splitlines() if line[:3] in ("1. ", "2. ", "3. ")]
    assert len(lines) == 3 and any("granite-4.2-8b" in line for line in lines), reply.answer  # a second Granite size competes
    assert "只有" not in reply.answer.splitlines()[1]  # a ranking is no "only N" claim


@pytest.mark.parametrize(("question", "says"), [
    ("Qwen3.5-35B-A3B 放得進 4090 嗎？我想開 128k context", ["剛好卡在上限", "上下文最多約"]),
    ("Llama 4 Scout 號稱 10M context，一張 H100 塞得下嗎", ["10M 的上下文放不下"]),
])
def test_fit_answers_say_the_headroom_and_the_context_that_fits(ask, question, says):
    text = ask(question).answer
    assert all(s in text for s in says), text


def test_a_slow_machine_gets_a_usable_quantisation_and_no_edge_tag_bonus(ask):
    reply = ask("best model for a Raspberry Pi 5 (8GB) for English chat, Apache-2.0 only")
    assert "Qwen3.5-4B" in reply.answer.split("\n")[0], reply.answer.split("\n")[0]


@pytest.mark.parametrize("question", ["要怎麼把 Python 2 的程式碼改成 Python 3？", "How do I convert Python 2 code to Python 3?"])
def test_a_coding_how_to_is_out_of_scope(ask, question):
    assert ask(question).route == "out_of_scope"


def test_a_model_shaped_unknown_name_is_not_covered(ask):
    assert ask("Is InternLM 3 good?").route == "unknown_model"


def test_sizes_with_their_own_dates_are_dated_each(ask):
    assert "2026-03-02" in ask("When was Qwen3.5 released?").answer.split("\n")[0]
    newest = ask("TAIDE 現在最新的模型是哪個？").answer.split("\n")[0]
    assert "2602" in newest and "2026-02" in newest, newest


def test_a_size_the_model_lacks_is_not_covered_and_a_named_size_is_read(ask):
    missing = ask("Qwen3.5-14B 的 context 多長？")
    assert missing.route == "unknown_model" and "Qwen3.5 14B" in missing.answer.split("\n")[0]
    assert "128k" in ask("Gemma 4 的 E4B 應該跟 31B 一樣有 256K context 吧？想在手機上讀長文件").answer.split("\n")[0]


def test_the_smallest_size_leads_a_fit_question_about_it(ask):
    reply = ask("qwen3 裡面最迷你的是幾B？想塞進樹莓派玩玩")
    first, second = reply.answer.split("\n")[:2]
    assert "Qwen3-0.6B" in first and "Qwen3-0.6B" in second, reply.answer
    assert "Gemma 3 270M" in ask("what's the smallest Gemma 3 and can it run on a Pi 5?").answer.split("\n")[0]


def test_a_maker_named_before_its_model_is_no_second_subject(ask):
    lead = ask("Mistral 的 Codestral 22B 是 Apache 2.0 协议吧？我们公司想直接拿来商用，没问题吧").answer.split("\n")[0]
    assert lead.startswith("不是") and "MNPL" in lead, lead
