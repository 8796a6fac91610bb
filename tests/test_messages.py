"""Answer wording as templates (`assistant.messages`, `knowledge/messages/{zh-TW,en}.yaml`).

Both languages define the same keys with the same slots; a missing slot is an error, never a
silently half-filled sentence; every key the renderers use exists; zh templates are
Traditional with Taiwan wording and English templates are English.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from assistant.chinese import is_traditional_only, simplified_chars
from assistant.messages import (
    LANGUAGES,
    MESSAGES_DIR,
    Message,
    MessageError,
    Messages,
    join,
    messages,
    say,
    slot_names,
)

from .conftest import CJK, ROOT, outside_quotes


def write_pair(folder: Path, zh: str, en: str) -> Messages:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "zh-TW.yaml").write_text(zh, encoding="utf-8")
    (folder / "en.yaml").write_text(en, encoding="utf-8")
    return Messages(folder)


# ---------------------------------------------------------------- the shipped templates


def test_both_languages_have_the_same_keys_and_slots():
    assert messages().problems() == []
    assert messages().keys("zh-TW") == messages().keys("en")
    assert len(messages().keys()) > 200


class _StrictLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key defined twice in one mapping (PyYAML keeps the last)."""


def _no_duplicates(loader, node, deep=False):  # type: ignore[no-untyped-def]
    seen: set[object] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_template_key_is_defined_twice(language):
    """A key written twice silently replaces the first (a whole group of templates can vanish)."""
    yaml.load((MESSAGES_DIR / f"{language}.yaml").read_text(encoding="utf-8"), Loader=_StrictLoader)  # noqa: S506


def _key_uses() -> tuple[list[tuple[str, int, str]], list[tuple[str, int, str]]]:
    """(literal keys, f-string key patterns) passed to say / add / Message in the package."""
    literal: list[tuple[str, int, str]] = []
    patterns: list[tuple[str, int, str]] = []
    for path in sorted((ROOT / "assistant").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
            if name not in ("say", "add", "Message"):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            first = node.args[0]
            options = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
            for arg in options:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    literal.append((where, node.lineno, arg.value))
                elif isinstance(arg, ast.JoinedStr):
                    pattern = "".join(
                        re.escape(v.value) if isinstance(v, ast.Constant) else r"[a-z0-9_-]+" for v in arg.values
                    )
                    patterns.append((where, node.lineno, pattern))
    return literal, patterns


def test_every_literal_key_the_code_uses_exists():
    literal, _ = _key_uses()
    keys = set(messages().keys())
    used = [(where, key) for where, _line, key in literal if re.fullmatch(r"[a-z_]+(?:\.[a-z0-9_-]+)+", key)]
    assert len(used) > 100
    missing = [(where, key) for where, key in used if key not in keys]
    assert missing == []


def test_every_computed_key_the_code_builds_has_a_template():
    """`f"fit.placement.{placement}"` and the like: at least one template must match the shape."""
    _, patterns = _key_uses()
    keys = messages().keys()
    assert patterns
    missing = [(where, pattern) for where, _line, pattern in patterns if not any(re.fullmatch(pattern, k) for k in keys)]
    assert missing == []


@pytest.mark.parametrize("caveat", ["small_loss", "noticeable_loss", "large_loss"])
def test_each_lower_quantisation_caveat_has_a_template(caveat):
    """hardware.fit.LowerQuant.caveat takes these values; the fit renderer says `fit.lower_quant.<caveat>`."""
    assert messages().has(f"fit.lower_quant.{caveat}")
    text = say(f"fit.lower_quant.{caveat}", "en", quant="Q3_K_M", need="9.9", name="X", placement="tight")
    assert "Q3_K_M" in text


@pytest.mark.parametrize("placement", ["fits", "tight", "os_limit", "partial_offload", "expert_offload", "no_fit"])
def test_each_fit_placement_has_a_lead_and_a_word(placement):
    assert messages().has(f"fit.placement.{placement}")
    assert messages().has(f"fit.placement_word.{placement}")


def test_zh_templates_are_traditional_and_use_taiwan_wording():
    mainland = ["內存", "顯存", "視頻", "軟件", "程序", "質量", "默認", "信息", "數據庫"]
    for key in messages().keys("zh-TW"):
        template = messages().template(key, "zh-TW")
        assert is_traditional_only(template), (key, simplified_chars(template))
        for word in mainland:
            assert word not in template, (key, word)


def test_english_templates_contain_no_chinese_outside_quotes():
    for key in messages().keys("en"):
        template = messages().template(key, "en")
        assert not CJK.search(outside_quotes(template)), (key, template)


def test_every_zh_template_slot_is_filled_by_the_same_names_in_english():
    for key in messages().keys():
        zh = {n.removesuffix("_zh").removesuffix("_en") for n in slot_names(messages().template(key, "zh-TW"))}
        en = {n.removesuffix("_zh").removesuffix("_en") for n in slot_names(messages().template(key, "en"))}
        assert zh == en, key


# ---------------------------------------------------------------- filling templates


def test_a_missing_slot_raises():
    with pytest.raises(MessageError, match="missing slot"):
        say("fact.size", "en", prefix="", name="Phi-4")  # no {size}
    with pytest.raises(MessageError):
        Message("fact.size", {"name": "Phi-4"}).text("zh-TW")


def test_an_unknown_key_raises():
    with pytest.raises(MessageError, match="no template"):
        say("fact.no_such_sentence", "en")
    assert not messages().has("fact.no_such_sentence")


def test_slots_fill_and_none_becomes_empty():
    text = say("fact.size", "en", prefix=None, name="Phi-4", size="14.7B")
    assert "Phi-4" in text and "14.7B" in text and "None" not in text


def test_extra_slots_are_ignored():
    assert say("fact.size", "en", prefix="", name="A", size="1B", unused="zzz") == say("fact.size", "en", prefix="", name="A", size="1B")


def test_a_message_renders_in_each_language():
    message = Message("fit.needs", {"name": "Phi-4", "q4": "10", "q8": "17", "f16": "31"})
    zh, en = message.text("zh-TW"), message.text("en")
    assert zh != en
    assert "Phi-4" in zh and "Phi-4" in en
    assert CJK.search(zh) and not CJK.search(en)


def test_any_language_other_than_english_gets_the_zh_templates():
    assert say("scope.help", "zh-TW") == say("scope.help", "zh") == say("scope.help", "ja")


@pytest.mark.parametrize("language", LANGUAGES)
def test_join_keeps_every_item_in_order(language):
    assert join([], language) == ""
    assert join(["A"], language) == "A"
    assert join(["A", "", None], language) == "A"  # type: ignore[list-item]
    for items in (["Alpha", "Beta"], ["Alpha", "Beta", "Gamma", "Delta"]):
        text = join(items, language)
        positions = [text.index(item) for item in items]
        assert positions == sorted(positions), text


def test_join_in_english_has_no_chinese_punctuation():
    assert not CJK.search(join(["A", "B", "C"], "en")) and "、" not in join(["A", "B", "C"], "en")


# ---------------------------------------------------------------- problems() catches a mismatch


def test_problems_reports_a_key_in_one_language_only(tmp_path):
    m = write_pair(tmp_path / "m", "a: 一\nb: 二\n", "a: one\nc: three\n")
    problems = m.problems()
    assert any(p.startswith("b:") and "only in zh-TW" in p for p in problems)
    assert any(p.startswith("c:") and "only in en" in p for p in problems)


def test_problems_reports_different_slots(tmp_path):
    m = write_pair(tmp_path / "m", "greet: '你好 {name}'\n", "greet: 'hello {person}'\n")
    assert any(p.startswith("greet:") and "slots differ" in p for p in m.problems())


def test_a_slot_may_come_in_each_languages_own_form(tmp_path):
    m = write_pair(tmp_path / "m", "from: '來自 {country_zh}'\n", "from: 'from {country_en}'\n")
    assert m.problems() == []


def test_nested_keys_flatten_with_dots(tmp_path):
    m = write_pair(tmp_path / "m", "fit:\n  roomy: '可以'\n", "fit:\n  roomy: 'roomy'\n")
    assert m.keys() == ["fit.roomy"] and m.has("fit.roomy")


def test_a_template_that_is_not_a_string_is_rejected(tmp_path):
    with pytest.raises(MessageError):
        write_pair(tmp_path / "m", "a: [1, 2]\n", "a: one\n")


def test_a_missing_language_file_is_an_error(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "zh-TW.yaml").write_text("a: 一\n", encoding="utf-8")
    with pytest.raises(MessageError):
        Messages(folder)
