"""The validator's words: `knowledge/vocabulary/validation.yaml`, loaded and compiled.

A stand-in for the project's vocabulary module (`assistant.vocabulary`) with the same file
format and the same access names (`cues("validation.<group>")`, `terms(kind)`), so that
when that module is available the validator switches by changing `vocabulary()` below to
`from ..vocabulary import vocabulary`.

Format (as in the other vocabulary files): a *cue group* is a list of phrases matched on
`normalize`d text (lower case, Traditional script, one space). A plain phrase matches
literally; a space or '-' inside it also matches the other one or nothing; an ASCII letter
or digit at either end sits on a word boundary. `re:` starts a regular expression whose
quantifiers must be bounded. Literal phrases must already be in normalised form.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

VOCABULARY_FILE = Path(__file__).resolve().parents[2] / "knowledge" / "vocabulary" / "validation.yaml"

_UNBOUNDED = re.compile(r"[*+]|\{\d*,\}")


class VocabularyError(ValueError):
    """The vocabulary file is missing, malformed or holds a phrase that cannot be used."""


def _normalize(text: str) -> str:
    try:
        from ..text import normalize  # type: ignore[import-not-found]  # noqa: PLC0415
    except ImportError:
        from ..constraints import normalize  # noqa: PLC0415
    return normalize(text)


def _literal(phrase: str) -> str:
    prefix = phrase.endswith("*")
    body = phrase[:-1] if prefix else phrase
    pattern = r"[ \-]?".join(re.escape(p) for p in re.split(r"[ \-]", body))
    if body[:1].isascii() and body[:1].isalnum():
        pattern = r"(?<![a-z0-9])" + pattern
    if prefix:
        pattern += r"[a-z0-9]{0,12}"
    if body[-1:].isascii() and body[-1:].isalnum():
        pattern += r"(?![a-z0-9])"
    return pattern


def phrase_pattern(phrase: str, where: str = "") -> str:
    if not isinstance(phrase, str) or not phrase.strip():
        raise VocabularyError(f"{where}: empty phrase")
    if phrase.startswith("re:"):
        pattern = phrase[3:]
        if _UNBOUNDED.search(re.sub(r"\\.", "", pattern)):
            raise VocabularyError(f"{where}: unbounded quantifier in {phrase!r}; use {{0,N}}")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise VocabularyError(f"{where}: bad pattern {phrase!r}: {exc}") from exc
        return pattern
    if _normalize(phrase.rstrip("*")) != phrase.rstrip("*"):
        raise VocabularyError(f"{where}: {phrase!r} is not in normalised form ({_normalize(phrase)!r})")
    return _literal(phrase)


class Cues:
    """A named group of phrases, matched as one pattern on normalised text."""

    def __init__(self, name: str, phrases: list[str]) -> None:
        self.name = name
        self.phrases = tuple(phrases)
        self._pattern = (
            re.compile("|".join(f"(?:{phrase_pattern(p, name)})" for p in phrases)) if phrases else None
        )

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
        return any(m.end() == len(text) for m in self.finditer(text))

    def at_start(self, text: str) -> re.Match[str] | None:
        match = self.search(text)
        return match if match is not None and match.start() == 0 else None


@dataclass(frozen=True)
class Term:
    id: str
    zh: str
    en: str
    cues: Cues
    data: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


class Vocabulary:
    """One vocabulary file, validated and compiled; names are `<file stem>.<group>`."""

    def __init__(self, path: Path) -> None:
        self._cues: dict[str, Cues] = {}
        self._terms: dict[str, list[Term]] = {}
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise VocabularyError(f"{path}: {exc}") from exc
        stem = path.stem
        for name, phrases in (data.get("cues") or {}).items():
            if not isinstance(phrases, list):
                raise VocabularyError(f"{path.name}: cues.{name} is not a list")
            self._cues[f"{stem}.{name}"] = Cues(f"{stem}.{name}", [str(p) for p in phrases])
        for kind, entries in (data.get("terms") or {}).items():
            terms = []
            for entry in entries or []:
                entry = dict(entry)
                term_id = str(entry.pop("id"))
                cues = Cues(f"{kind}:{term_id}", [str(p) for p in entry.pop("cues", []) or []])
                terms.append(Term(term_id, str(entry.pop("zh", term_id)), str(entry.pop("en", term_id)), cues, entry))
            self._terms[kind] = terms

    def cues(self, name: str) -> Cues:
        try:
            return self._cues[name]
        except KeyError:
            raise KeyError(f"no cue group {name!r}") from None

    def terms(self, kind: str) -> list[Term]:
        try:
            return self._terms[kind]
        except KeyError:
            raise KeyError(f"no terms of kind {kind!r}") from None


@lru_cache(maxsize=2)
def load_vocabulary(path: Path = VOCABULARY_FILE) -> Vocabulary:
    return Vocabulary(path)


def vocabulary() -> Vocabulary:
    """The validator's vocabulary (swap for `assistant.vocabulary.vocabulary` once it lands)."""
    return load_vocabulary(VOCABULARY_FILE)
