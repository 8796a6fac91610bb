"""Finding catalog names in text: the alias index.

`AliasIndex` holds every name of every model, variant, family and closed model in compact
form (`assistant.text.compact`) and finds them in normalised text. It knows nothing of the
catalog's types (the catalog builds it from plain `(name, kind, target, variant)` entries),
so this module is a leaf below `assistant.knowledge`.

* Names compare without separators: "Phi4", "phi-4" and "PHI 4" are one name.
* The longest match wins ("GLM 4.5 Air" is glm-4.5-air, not glm-4.5); several names on the
  very same span all count (a family word shared by two models).
* ASCII edges must sit on a word boundary ("r1" is not found inside "r1776"); a letter
  followed by a digit is a boundary at the end ("llama3" holds the family "llama"). CJK
  names match as substrings.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from .text import compact, is_word_char, normalize

MentionKind = Literal["model", "family", "closed"]
SHIELD = "shield"  # a name that is no model ("BFCL v3"): it wins its span and is not reported


@dataclass(frozen=True)
class Alias:
    key: str  # compact, normalised
    kind: MentionKind
    target: str  # model id, family id or closed model name
    variant: str | None = None  # the model's variant this name means, if any


@dataclass(frozen=True)
class Mention:
    """One name found in normalised text: [start, end) indexes into that text.

    `variant` is set when the name is one of the model's variants ("Qwen3-8B" is model
    "qwen3", variant "Qwen3-8B"); `target` is always the model id.
    """

    kind: MentionKind
    target: str
    start: int
    end: int
    variant: str | None = None


def alias_key(name: str) -> str:
    return compact(normalize(name))[0]


class AliasIndex:
    """Every name, in compact form, longest first."""

    def __init__(self, entries: Iterable[tuple[str, MentionKind, str, str | None]], shields: Iterable[str] = ()) -> None:
        """`shields`: names that are not models (benchmarks: "BFCL v3", "AIME 2025"); a model
        alias inside one ("v3") is not a mention there."""
        table: dict[tuple[str, str, str], Alias] = {}
        all_entries = [*entries, *((name, SHIELD, name, None) for name in shields)]
        for name, kind, target, variant in all_entries:
            if not name:
                continue
            key = alias_key(name)
            ascii_letters = sum(c.isascii() and c.isalpha() for c in key)
            has_cjk = any(not c.isascii() for c in key)
            # A one-letter key ("r", "4") would match everywhere.
            if len(key) < 2 or (not has_cjk and ascii_letters == 0):
                continue
            # The first entry for a key and target wins (model-level names come first).
            table.setdefault((key, kind, target), Alias(key, kind, target, variant))  # type: ignore[arg-type]
        self.aliases = sorted(table.values(), key=lambda a: -len(a.key))

    def find(self, text: str, shields: bool = False) -> list[Mention]:
        """Mentions in normalised `text`, in text order (with `shields`, the shield names too,
        as kind "shield": a version fragment inside one is no model either)."""
        squeezed, index, gaps = compact(text)
        if not squeezed:
            return []
        candidates: list[tuple[int, int, Alias]] = []
        for alias in self.aliases:
            start = squeezed.find(alias.key)
            while start != -1:
                end = start + len(alias.key)
                if _on_boundary(squeezed, gaps, start, end):
                    candidates.append((start, end, alias))
                start = squeezed.find(alias.key, start + 1)
        candidates.sort(key=lambda c: (-(c[1] - c[0]), c[0]))
        accepted: list[tuple[int, int, Alias]] = []
        for start, end, alias in candidates:
            if any(start < a_end and a_start < end and (start, end) != (a_start, a_end) for a_start, a_end, _ in accepted):
                continue
            accepted.append((start, end, alias))
        accepted.sort(key=lambda c: c[0])
        return [Mention(a.kind, a.target, index[s], index[e - 1] + 1, a.variant) for s, e, a in accepted if shields or a.kind != SHIELD]


_WORD = re.compile(r"[a-z][a-z]{4,}")
_SHORT_VERSIONED = re.compile(r"(?<![a-z])([a-z]{4})(?=\d)")
TYPO_RATIO = 0.85
"""How close a word must be to a family name to be read as it ("mistal" → mistral, "deepsek" → deepseek)."""


def typo_fixes(text: str, names: Iterable[str], known: Iterable[str], ignore: Iterable[str] = ()) -> list[tuple[int, int, str]]:
    """(start, end, name) for each word of `text` (5+ letters) that is no known name but is one
    letter or two away from exactly one of `names` (family names, lower case): a misspelling."""
    all_names = list(names)
    names = sorted({n for n in all_names if n.isascii() and n.isalpha() and len(n) >= 5})
    known_set = set(known) | set(ignore)
    fixes = []
    for match in _WORD.finditer(text):
        word = match.group(0)
        if word in known_set or word in names:
            continue
        close = [n for n in names if abs(len(n) - len(word)) <= 2 and difflib.SequenceMatcher(None, word, n).ratio() >= TYPO_RATIO]
        if len(close) == 1:
            fixes.append((match.start(), match.end(), close[0]))
    # A four-letter name with its version right after ("quen3" → qwen3, "kimy k2" is not): one letter off.
    short = sorted({n for n in all_names if n.isascii() and n.isalpha() and len(n) == 4})
    for match in _SHORT_VERSIONED.finditer(text):
        word = match.group(1)
        if word in known_set or word in short:
            continue
        close = [n for n in short if sum(a != b for a, b in zip(word, n, strict=True)) == 1]
        if len(close) == 1:
            fixes.append((match.start(1), match.end(1), close[0]))
    return sorted(fixes)


def _on_boundary(squeezed: str, gaps: list[bool], start: int, end: int) -> bool:
    first, last = squeezed[start], squeezed[end - 1]
    if is_word_char(first) and start > 0 and not gaps[start] and is_word_char(squeezed[start - 1]):
        return False
    if is_word_char(last) and end < len(squeezed) and not gaps[end]:
        after = squeezed[end]
        if is_word_char(after) and not (last.isalpha() and after.isdigit()):
            return False
    return True


def unique(values: Iterable[str]) -> list[str]:
    """`values` without repeats, in first-seen order."""
    return list(dict.fromkeys(values))
