"""Answer wording as templates: `knowledge/messages/<language>.yaml`.

Every sentence the assistant writes is a template with named slots, one file per language
(zh-TW, en), so wording can be read and changed without reading code, and an English answer
can never contain a Chinese sentence by accident. Renderers build `Message(key, slots)`
values; tests assert the key and the slots, not the sentence.

Templates use `str.format` syntax: ``"可以：{name} 採 {licence} 授權，可商用。"``. Both languages
must define the same keys with the same slots (checked by `check_messages` and a test).
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

MESSAGES_DIR = Path(__file__).resolve().parent.parent / "knowledge" / "messages"
LANGUAGES = ("zh-TW", "en")


class MessageError(KeyError):
    """An unknown template key, or a slot the template needs that was not given."""


def _flatten(data: Any, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}{key}." if not isinstance(value, str) else f"{prefix}{key}"))
    elif isinstance(data, str):
        out[prefix.rstrip(".")] = data
    elif data is None:
        pass
    else:
        raise MessageError(f"{prefix}: a template is a string")
    return out


def slot_names(template: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


class _Slots(dict):
    def __missing__(self, key: str) -> str:
        raise MessageError(f"missing slot {key!r}")


class Messages:
    """The templates of every language in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._by_language: dict[str, dict[str, str]] = {}
        for language in LANGUAGES:
            path = folder / f"{language}.yaml"
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except (OSError, yaml.YAMLError) as exc:
                raise MessageError(f"{path}: {exc}") from exc
            self._by_language[language] = _flatten(data)

    def template(self, key: str, language: str) -> str:
        table = self._by_language["en" if language == "en" else "zh-TW"]
        try:
            return table[key]
        except KeyError:
            raise MessageError(f"no template {key!r} for {language}") from None

    def say(self, key: str, language: str, **slots: Any) -> str:
        """The template `key` in `language`, filled with `slots` (every slot it names is required)."""
        template = self.template(key, language)
        return template.format_map(_Slots({k: "" if v is None else v for k, v in slots.items()}))

    def keys(self, language: str = "zh-TW") -> list[str]:
        return sorted(self._by_language[language])

    def has(self, key: str) -> bool:
        return key in self._by_language["zh-TW"]

    def problems(self) -> list[str]:
        """Keys missing in one language, or with different slots across languages."""
        zh, en = self._by_language["zh-TW"], self._by_language["en"]
        out = [f"{k}: only in zh-TW" for k in sorted(set(zh) - set(en))]
        out += [f"{k}: only in en" for k in sorted(set(en) - set(zh))]
        def neutral(names: frozenset[str]) -> frozenset[str]:
            # A slot may come in a language's own form ({country_zh} / {country_en}).
            return frozenset(n.removesuffix("_zh").removesuffix("_en") for n in names)

        for key in sorted(set(zh) & set(en)):
            if neutral(slot_names(zh[key])) != neutral(slot_names(en[key])):
                out.append(f"{key}: slots differ ({sorted(slot_names(zh[key]))} vs {sorted(slot_names(en[key]))})")
        return out


@lru_cache(maxsize=4)
def load_messages(folder: Path = MESSAGES_DIR) -> Messages:
    return Messages(folder)


def messages() -> Messages:
    """The project's templates (`knowledge/messages`)."""
    return load_messages(MESSAGES_DIR)


def say(key: str, language: str, **slots: Any) -> str:
    return messages().say(key, language, **slots)


@dataclass(frozen=True)
class Message:
    """One sentence of an answer: a template key and its slots."""

    key: str
    slots: dict[str, Any] = field(default_factory=dict)

    def text(self, language: str) -> str:
        return say(self.key, language, **self.slots)


def join(items: list[str], language: str) -> str:
    """A list in running text: 「A、B、C」 or "A, B and C"."""
    items = [i for i in items if i]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    if language != "en":
        return say("list.joiner", language).join(items)
    if len(items) == 2:
        return say("list.pair", language, first=items[0], second=items[1])
    return say("list.many", language, head=", ".join(items[:-1]), last=items[-1])
