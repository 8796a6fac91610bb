"""The words the assistant understands, loaded from `knowledge/vocabulary/*.yaml`.

Vocabulary is data: cue phrases for intents and attributes, tasks, languages, countries,
licence names, commercial-use phrasing, devices and hardware words, and stop words per
purpose. Python keeps the mechanisms that use them (`assistant.understanding`); a new way to
say something is a line in a YAML file, not a branch in code.

A *cue group* is a list of phrases, compiled into one pattern that runs on `normalize`d
text (lower case, Traditional script, one space):

* a plain phrase matches literally; a space or '-' inside it also matches the other one or
  nothing ("tool use" finds "tool-use" and "tooluse"); an ASCII letter or digit at either end
  must sit on a word boundary ("mit" is not found in "submit"); CJK matches anywhere;
* a phrase ending in `*` matches any continuation of its last word ("translat*");
* `re:` starts a regular expression, for the few cues that need one ("re:不是.{0,12}嗎").
  Every quantifier in it must be bounded (checked at load), so matching stays linear.

Every literal phrase must already be in normalised form (checked at load), so no entry is
ever needed twice for Simplified and Traditional input.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .text import normalize

VOCABULARY_DIR = Path(__file__).resolve().parent.parent / "knowledge" / "vocabulary"

_UNBOUNDED = re.compile(r"[*+]|\{\d*,\}")


class VocabularyError(ValueError):
    """A vocabulary file is missing, malformed or holds a phrase that cannot be used."""


def _literal(phrase: str) -> str:
    prefix = phrase.endswith("*")
    body = phrase[:-1] if prefix else phrase
    parts = re.split(r"[ \-]", body)
    pattern = r"[ \-]?".join(re.escape(p) for p in parts)
    if body[:1].isascii() and body[:1].isalnum():
        pattern = r"(?<![a-z0-9])" + pattern
    if prefix:
        pattern += r"[a-z0-9]{0,12}"
    if body[-1:].isascii() and body[-1:].isalnum():
        pattern += r"(?![a-z0-9])"
    return pattern


def phrase_pattern(phrase: str, where: str = "") -> str:
    """The regular expression for one vocabulary phrase (see the module docstring)."""
    if not isinstance(phrase, str) or not phrase.strip():
        raise VocabularyError(f"{where}: empty phrase")
    if phrase.startswith("re:"):
        pattern = phrase[3:]
        stripped = re.sub(r"\\.", "", pattern)
        if _UNBOUNDED.search(stripped):
            raise VocabularyError(f"{where}: unbounded quantifier in {phrase!r}; use {{0,N}}")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise VocabularyError(f"{where}: bad pattern {phrase!r}: {exc}") from exc
        return pattern
    if normalize(phrase.rstrip("*")) != phrase.rstrip("*"):
        raise VocabularyError(
            f"{where}: {phrase!r} is not in normalised form ({normalize(phrase.rstrip('*'))!r}): write it lower-case, Traditional"
        )
    return _literal(phrase)


class Cues:
    """A named group of phrases, matched as one pattern on normalised text."""

    def __init__(self, name: str, phrases: list[str]) -> None:
        self.name = name
        self.phrases = tuple(phrases)
        if not phrases:
            self._pattern: re.Pattern[str] | None = None
        else:
            self._pattern = re.compile("|".join(f"(?:{phrase_pattern(p, name)})" for p in phrases))

    def search(self, text: str, pos: int = 0, endpos: int | None = None) -> re.Match[str] | None:
        if self._pattern is None:
            return None
        return self._pattern.search(text, pos, len(text) if endpos is None else endpos)

    def finditer(self, text: str, pos: int = 0, endpos: int | None = None) -> Iterator[re.Match[str]]:
        if self._pattern is None:
            return iter(())
        return self._pattern.finditer(text, pos, len(text) if endpos is None else endpos)

    def __call__(self, text: str) -> bool:
        return self.search(text) is not None

    def at_end(self, text: str) -> bool:
        """Whether a phrase ends exactly at the end of `text` ("…不要" before a name)."""
        return any(m.end() == len(text) for m in self.finditer(text))

    def at_start(self, text: str) -> re.Match[str] | None:
        match = self.search(text)
        return match if match is not None and match.start() == 0 else None

    def __repr__(self) -> str:
        return f"Cues({self.name!r}, {len(self.phrases)} phrases)"


@dataclass(frozen=True)
class Term:
    """An entry with an id, display names and the phrases that name it (a task, a language,
    a country, a licence, a device)."""

    id: str
    zh: str
    en: str
    cues: Cues
    data: dict[str, Any] = field(default_factory=dict)

    def label(self, language: str) -> str:
        return self.en if language == "en" else self.zh

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


class Vocabulary:
    """Every vocabulary file of one folder, validated and compiled."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._cues: dict[str, Cues] = {}
        self._terms: dict[str, list[Term]] = {}
        self._words: dict[str, frozenset[str]] = {}
        self._tables: dict[str, dict[str, Any]] = {}
        files = sorted(folder.glob("*.yaml"))
        if not files:
            raise VocabularyError(f"no vocabulary files in {folder}")
        for path in files:
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                raise VocabularyError(f"{path.name}: not valid YAML: {exc}") from exc
            if not isinstance(data, dict):
                raise VocabularyError(f"{path.name}: expected a mapping at the top")
            self._load(path.stem, data)

    def _load(self, stem: str, data: dict[str, Any]) -> None:
        for section, body in data.items():
            where = f"{stem}.yaml:{section}"
            if section == "cues":
                self._load_cues(stem, body, where)
            elif section == "terms":
                for kind, entries in (body or {}).items():
                    self._terms[kind] = [self._term(kind, e, f"{where}.{kind}") for e in entries or []]
            elif section == "words":
                for name, words in (body or {}).items():
                    self._words[f"{stem}.{name}"] = frozenset(normalize(w) for w in _as_words(words))
            elif section == "tables":
                for name, table in (body or {}).items():
                    if not isinstance(table, dict):
                        raise VocabularyError(f"{where}.{name}: a table is a mapping")
                    self._tables[f"{stem}.{name}"] = table
            else:
                raise VocabularyError(f"{where}: unknown section (cues, terms, words, tables)")

    def _load_cues(self, stem: str, body: Any, where: str, prefix: str = "") -> None:
        if not isinstance(body, dict):
            raise VocabularyError(f"{where}: cues are a mapping of name -> phrases")
        for name, phrases in body.items():
            full = f"{stem}.{prefix}{name}"
            if isinstance(phrases, dict):
                self._load_cues(stem, phrases, f"{where}.{name}", prefix=f"{prefix}{name}.")
                continue
            if not isinstance(phrases, list):
                raise VocabularyError(f"{where}.{name}: a cue group is a list of phrases")
            self._cues[full] = Cues(full, [str(p) for p in phrases])

    @staticmethod
    def _term(kind: str, entry: Any, where: str) -> Term:
        if not isinstance(entry, dict) or "id" not in entry:
            raise VocabularyError(f"{where}: each entry needs an id")
        data = dict(entry)
        term_id = str(data.pop("id"))
        zh = str(data.pop("zh", term_id))
        en = str(data.pop("en", term_id))
        cues = Cues(f"{kind}:{term_id}", [str(p) for p in data.pop("cues", []) or []])
        return Term(term_id, zh, en, cues, data)

    # ------------------------------------------------------------ access

    def cues(self, name: str) -> Cues:
        """The cue group `file.group` (e.g. "intent.which"). Raises KeyError for an unknown name."""
        try:
            return self._cues[name]
        except KeyError:
            raise KeyError(f"no cue group {name!r} in {self.folder}") from None

    def terms(self, kind: str) -> list[Term]:
        """The entries of one kind (tasks, languages, countries, licences, devices …), in file order."""
        try:
            return self._terms[kind]
        except KeyError:
            raise KeyError(f"no terms of kind {kind!r} in {self.folder}") from None

    def term(self, kind: str, term_id: str) -> Term | None:
        return next((t for t in self.terms(kind) if t.id == term_id), None)

    def words(self, name: str) -> frozenset[str]:
        """A stop-word or word list `file.name` (normalised)."""
        try:
            return self._words[name]
        except KeyError:
            raise KeyError(f"no word list {name!r} in {self.folder}") from None

    def table(self, name: str) -> dict[str, Any]:
        try:
            return self._tables[name]
        except KeyError:
            raise KeyError(f"no table {name!r} in {self.folder}") from None

    def cue_names(self) -> list[str]:
        return sorted(self._cues)

    def term_kinds(self) -> list[str]:
        return sorted(self._terms)


def _as_words(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split()
    return [str(v) for v in value or []]


@lru_cache(maxsize=4)
def load_vocabulary(folder: Path = VOCABULARY_DIR) -> Vocabulary:
    """The vocabulary in `folder`, loaded once per process."""
    return Vocabulary(folder)


def vocabulary() -> Vocabulary:
    """The project's vocabulary (`knowledge/vocabulary`)."""
    return load_vocabulary(VOCABULARY_DIR)
