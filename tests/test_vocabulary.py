"""The vocabulary as data (`assistant.vocabulary`, `knowledge/vocabulary/*.yaml`): loading,
validation at load time, and what a phrase matches.

The shipped files are checked by loading them; the validation rules are checked on small
vocabularies written to a temp folder, so a bad phrase form is proven to be rejected.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from assistant.answer.read import FLAG_CUES
from assistant.text import normalize
from assistant.vocabulary import VOCABULARY_DIR, Cues, Vocabulary, VocabularyError, phrase_pattern, vocabulary


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(tmp_path: Path, text: str, name: str = "sample.yaml") -> Vocabulary:
    write(tmp_path / "vocab", name, text)
    return Vocabulary(tmp_path / "vocab")


# ---------------------------------------------------------------- the shipped vocabulary


def test_the_shipped_vocabulary_loads_and_holds_every_kind_the_engine_reads():
    v = vocabulary()
    assert v.folder == VOCABULARY_DIR
    for kind in ("tasks", "languages", "countries", "licences", "devices", "rank_fields", "quant_words"):
        assert v.terms(kind), kind
    assert len(v.cue_names()) > 50


def test_every_flag_the_reader_sets_has_its_cue_group():
    v = vocabulary()
    for flag, group in FLAG_CUES.items():
        assert isinstance(v.cues(group), Cues), (flag, group)
        assert v.cues(group).phrases, f"{group} is empty"


def test_every_literal_phrase_in_the_shipped_files_is_in_normalised_form():
    """The loader enforces it; this re-checks every phrase so a loader that stopped checking is caught."""
    v = vocabulary()
    groups = [v.cues(name) for name in v.cue_names()] + [t.cues for kind in v.term_kinds() for t in v.terms(kind)]
    literal = [p for g in groups for p in g.phrases if not p.startswith("re:")]
    assert len(literal) > 300
    for phrase in literal:
        body = phrase.rstrip("*")
        assert normalize(body) == body, phrase


def test_terms_have_both_labels_and_unique_ids():
    v = vocabulary()
    for kind in v.term_kinds():
        ids = [t.id for t in v.terms(kind)]
        assert len(ids) == len(set(ids)), kind
        for term in v.terms(kind):
            assert term.label("zh-TW") and term.label("en"), (kind, term.id)


def test_word_lists_are_normalised():
    words = vocabulary().words("stopwords.not_a_model")
    assert "gpu" in words and "apache" in words
    assert all(normalize(w) == w for w in words)


@pytest.mark.parametrize(
    ("getter", "name"),
    [("cues", "intent.no_such_group"), ("terms", "no_such_kind"), ("words", "stopwords.nope"), ("table", "devices.nope")],
)
def test_an_unknown_name_is_a_key_error(getter, name):
    with pytest.raises(KeyError):
        getattr(vocabulary(), getter)(name)


def test_term_lookup_by_id():
    v = vocabulary()
    assert v.term("countries", "CN") is not None
    assert v.term("countries", "XX") is None
    assert v.term("tasks", "coding").label("en") != v.term("tasks", "coding").label("zh-TW")


# ---------------------------------------------------------------- validation at load


def test_a_small_valid_vocabulary_loads(tmp_path):
    v = load(tmp_path, """
        cues:
          greet: [hello, 你好, "re:h[ae]y{1,3}"]
          nested:
            inner: [deep]
        terms:
          pets:
            - id: cat
              zh: 貓
              en: cat
              cues: [cat, kitty, 貓咪]
              legs: 4
        words:
          fillers: um uh
        tables:
          sizes: {small: 1, big: 2}
        """)
    assert v.cues("sample.greet")("hey there")
    assert v.cues("sample.nested.inner")("so deep")
    cat = v.term("pets", "cat")
    assert cat is not None and cat.get("legs") == 4 and cat.cues("我的貓咪")
    assert v.words("sample.fillers") == frozenset({"um", "uh"})
    assert v.table("sample.sizes") == {"small": 1, "big": 2}


@pytest.mark.parametrize(
    "phrase",
    [
        "Laptop",  # upper case
        "内存",  # Simplified: the normalised form is 內存
        "ｇｐｕ",  # full-width: NFKC makes it gpu
        "two  spaces",  # white space collapses to one
        "Translat*",  # the prefix form is checked too
    ],
)
def test_a_phrase_not_in_normalised_form_is_rejected(tmp_path, phrase):
    with pytest.raises(VocabularyError, match="normalised form"):
        load(tmp_path, f'cues:\n  bad: ["{phrase}"]\n')


@pytest.mark.parametrize(
    "pattern",
    ["re:a+b", "re:.*嗎", "re:x{2,}", "re:(?:ab)+", "re:不是.{3,}嗎", "re:[0-9]*gb"],
)
def test_an_unbounded_regular_expression_is_rejected(tmp_path, pattern):
    with pytest.raises(VocabularyError, match="unbounded"):
        load(tmp_path, f'cues:\n  bad: ["{pattern}"]\n')


@pytest.mark.parametrize("pattern", ["re:c\\\\+\\\\+", "re:a{0,4}b", "re:x{2}", "re:不是.{0,12}嗎", "re:\\\\d{1,3}k"])
def test_a_bounded_or_escaped_regular_expression_is_accepted(tmp_path, pattern):
    v = load(tmp_path, f'cues:\n  ok: ["{pattern}"]\n')
    assert v.cues("sample.ok").phrases


def test_an_escaped_plus_matches_literally(tmp_path):
    v = load(tmp_path, 'cues:\n  cpp: ["re:c\\\\+\\\\+"]\n')
    assert v.cues("sample.cpp")("i write c++ daily")
    assert not v.cues("sample.cpp")("i write cc daily")


def test_a_regular_expression_that_does_not_compile_is_rejected(tmp_path):
    with pytest.raises(VocabularyError, match="bad pattern"):
        load(tmp_path, 'cues:\n  bad: ["re:(ab"]\n')


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('cues:\n  bad: [""]\n', "empty phrase"),
        ("cues:\n  bad: just a string\n", "list of phrases"),
        ("cues: [a, b]\n", "mapping"),
        ("colours:\n  red: [red]\n", "unknown section"),
        ("terms:\n  pets:\n    - zh: 貓\n", "needs an id"),
        ("tables:\n  sizes: [1, 2]\n", "table is a mapping"),
        ("- just\n- a list\n", "mapping at the top"),
        ("cues: {bad: [unclosed\n", "not valid YAML"),
    ],
)
def test_malformed_files_are_rejected_with_the_reason(tmp_path, text, match):
    with pytest.raises(VocabularyError, match=match):
        load(tmp_path, text)


def test_an_empty_folder_is_rejected(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(VocabularyError, match="no vocabulary files"):
        Vocabulary(tmp_path / "empty")


def test_the_error_names_the_file_and_group(tmp_path):
    with pytest.raises(VocabularyError, match=r"sample\.yaml:cues|sample\.bad"):
        load(tmp_path, 'cues:\n  bad: ["Laptop"]\n')


# ---------------------------------------------------------------- what a phrase matches


def cue(*phrases: str) -> Cues:
    return Cues("test", list(phrases))


@pytest.mark.parametrize("text", ["tool use", "tool-use", "tooluse", "need tool use here"])
def test_a_space_in_a_phrase_also_matches_a_hyphen_or_nothing(text):
    assert cue("tool use")(text)


@pytest.mark.parametrize("text", ["submit the form", "commitment", "admit it"])
def test_ascii_edges_sit_on_word_boundaries(text):
    assert not cue("mit")(text)


def test_ascii_word_is_found_between_cjk_and_punctuation():
    assert cue("mit")("要 mit 授權")
    assert cue("mit")("要mit授權")
    assert cue("mit")("(mit)")


def test_cjk_phrases_match_anywhere():
    assert cue("商用")("我要做商用產品")


def test_a_star_matches_continuations_of_the_last_word_only():
    c = cue("translat*")
    assert c("translation") and c("translating") and c("translate")
    assert not c("retranslate")


def test_an_empty_group_never_matches():
    c = cue()
    assert not c("anything") and c.search("x") is None and list(c.finditer("x")) == []


def test_at_start_and_at_end():
    c = cue("不要", "please")
    assert c.at_start("please help") is not None
    assert c.at_start("help please") is None
    assert c.at_end("我說不要")
    assert not c.at_end("不要了")


def test_phrase_pattern_is_the_same_mechanism_for_a_single_phrase():
    import re

    assert re.search(phrase_pattern("long context"), "a long-context model")
    with pytest.raises(VocabularyError):
        phrase_pattern("   ")


# ---------------------------------------------------------------- Simplified and Traditional need one entry


@pytest.mark.parametrize(
    ("group", "simplified", "traditional"),
    [
        ("intent.recommend", "推荐一个", "推薦一個"),
        ("scope.llm_words", "语言模型", "語言模型"),
        ("devices.vram", "显存", "顯存"),
    ],
)
def test_one_traditional_entry_matches_simplified_input_after_normalising(group, simplified, traditional):
    c = vocabulary().cues(group)
    assert c(normalize(simplified)) and c(normalize(traditional))
