"""Sentence-level lookup (`assistant.answer.lookup.SentenceIndex`) over the real article
chunks and the catalog's bilingual `notable` traits."""

from __future__ import annotations

import pytest

from assistant.answer.lookup import MIN_SCORE, SentenceIndex, split_sentences

from .conftest import answer


class SameVectorEmbedder:
    """Says every text is identical: the dense signal alone can never pick a sentence."""

    def embed(self, texts):
        return [[1.0, 0.0, 0.0] for _ in texts]


@pytest.fixture(scope="module")
def cat(shared_catalog):
    return shared_catalog


@pytest.fixture(scope="module")
def chunks(shared_chunks):
    return list(shared_chunks.values())


@pytest.fixture(scope="module")
def index(shared_sentences):
    return shared_sentences


def test_finds_the_mistral_privacy_sentence(index):
    hits = index.search("哪個模型下載前必須同意隱私條款？")
    assert hits
    assert "隱私條款" in hits[0].text
    assert hits[0].entity_family == "mistral"
    assert hits[0].score >= MIN_SCORE


def test_article_sentence_is_marked_as_from_the_article(index):
    hit = index.search("哪個模型下載前必須同意隱私條款？")[0]
    assert hit.from_article
    assert hit.chunk_id.startswith("article:")


def test_english_question_matches_through_the_notable_trait(index):
    hits = index.search("Which model family is the pioneer of open models?")
    assert hits
    assert hits[0].entity_family == "llama"
    assert not hits[0].from_article  # matched the catalog's English paraphrase
    assert "pioneer" in hits[0].quote_en
    assert hits[0].quote_zh and hits[0].quote_zh != hits[0].quote_en


def test_english_puns_trait_points_to_mistral(index):
    hits = index.search("Which model is known for puns?")
    assert hits and hits[0].entity_family == "mistral"


@pytest.mark.parametrize("question", ["今天晚餐吃什麼好？", "What's the weather in Paris tomorrow?"])
def test_off_topic_question_finds_nothing(index, question):
    assert index.search(question) == []


def test_dense_similarity_alone_never_answers(cat, chunks):
    index = SentenceIndex(cat, chunks, SameVectorEmbedder())
    assert index.search("What's the weather in Paris tomorrow?") == []
    # …while a real match still clears the threshold with the dense signal added.
    assert index.search("哪個模型下載前必須同意隱私條款？")


def test_every_hit_clears_the_threshold(index):
    for hit in index.search("哪家公司是加拿大公司？", k=5):
        assert hit.score >= MIN_SCORE
    assert index.search("哪家公司是加拿大公司？", min_score=1.01) == []


def test_named_models_are_excluded_when_picking_the_entity(index):
    question = "哪個模型是 Mistral Small 3.1 微調出來的推理模型？"
    hits = index.search(question, exclude=frozenset({"mistral-small-3.1", "mistral"}))
    assert hits
    assert hits[0].model_id == "magistral"
    assert all(h.model_id != "mistral-small-3.1" for h in hits)


def test_split_sentences_drops_fragments():
    parts = split_sentences("短。這是一個夠長的句子。\n- 另一行也夠長喔！")
    assert parts == ["這是一個夠長的句子。", "另一行也夠長喔！"]


@pytest.mark.slow
def test_real_embedder_finds_the_privacy_sentence(real_assistant):
    hits = real_assistant.sentences.search("哪個模型下載前必須同意隱私條款？")
    assert hits and "隱私" in hits[0].text and hits[0].entity_family == "mistral"


@pytest.mark.slow
def test_real_embedder_keeps_off_topic_below_threshold(real_assistant):
    assert real_assistant.sentences.search("What's the weather in Paris tomorrow?") == []


def test_a_hyphenated_word_counts_once_not_once_per_piece():
    from assistant.answer.lookup import _word_groups

    groups = _word_groups({"fine-tune", "fine", "tune", "finetune", "perplexity", "qwen2.5", "qwen2", "5", "qwen25"})
    assert sorted(sorted(g) for g in groups) == [
        ["5", "qwen2", "qwen2.5", "qwen25"], ["fine", "fine-tune", "finetune", "tune"], ["perplexity"],
    ]


def test_a_rare_name_outweighs_a_common_hyphenated_word(index):
    # "fine-tune" used to count four times (fine-tune, fine, tune, finetune) and beat "Perplexity".
    hits = index.search("Perplexity did a fine-tune of which open model to remove its censorship?")
    assert hits and "Perplexity" in hits[0].text


def test_words_no_sentence_has_do_not_drown_the_ones_that_match(index, monkeypatch):
    from assistant.answer import lookup

    question = "欸 有沒有哪家模型不用越獄就什麼都肯回答的？（替同事問）"  # casual filler no sentence has
    share = {}
    for weight in (1.0, lookup.UNSEEN_WEIGHT):
        monkeypatch.setattr(lookup, "UNSEEN_WEIGHT", weight)
        monkeypatch.setattr(lookup, "MIN_LEXICAL", 0.0)  # compare the shares, whatever they are
        hits = index.search(question, min_score=0.0)
        assert hits and "越獄" in hits[0].text  # the same sentence either way
        share[weight] = hits[0].lexical
    assert lookup.UNSEEN_WEIGHT < 1.0 and share[lookup.UNSEEN_WEIGHT] > share[1.0]


# ---------------------------------------------------------------- lookups in an answer


def test_a_which_question_is_answered_by_the_sentence_that_says_so(shared_catalog, shared_chunks, index):
    reply = answer(shared_catalog, shared_chunks, "下載前得先同意隱私條款的是哪個模型？", sentences=index)
    assert reply.route == "lookup"
    assert reply.lead["key"] == "lookup.family" and reply.lead["slots"]["name"] == "Mistral"
    assert reply.shown and {shared_catalog.by_id[i].family for i in reply.shown} == {"mistral"}
    assert "隱私條款" in reply.answer


def test_a_lookup_naming_another_model_answers_with_the_one_the_sentence_names(shared_catalog, shared_chunks, index):
    reply = answer(shared_catalog, shared_chunks, "Which model did Perplexity uncensor from DeepSeek R1?", sentences=index)
    assert reply.route == "lookup" and reply.plan.lookup["model"] == "r1-1776"
    assert reply.lead["key"] == "lookup.model" and reply.shown == ["r1-1776"]
    assert reply.language == "en"


def test_a_lookup_names_the_models_own_maker(shared_catalog, shared_chunks, index):
    """R1-1776 is Perplexity's (a fine-tune of a DeepSeek model): the lead names its own vendor."""
    reply = answer(shared_catalog, shared_chunks, "Which model did Perplexity uncensor from DeepSeek R1?", sentences=index)
    assert reply.lead["slots"]["vendor"] == shared_catalog.by_id["r1-1776"].vendor


def test_a_which_question_with_nothing_to_quote_says_the_knowledge_base_does_not_say(shared_catalog, shared_chunks, index):
    reply = answer(shared_catalog, shared_chunks, "哪個模型的吉祥物是一隻企鵝？", sentences=index)
    assert reply.route == "lookup"
    assert reply.lead["key"] == "lookup.none"
    assert reply.shown == []
