"""Text handling every other module shares: one normaliser, one name key, one sentence splitter.

A leaf module: it imports only `assistant.chinese` (itself a leaf). Everything that reads a
question, a catalog name or an article sentence goes through these functions, so the
planner, the catalog's name resolution, the retriever's entity links and the validator
agree on what a piece of text says.

* `normalize` — the form questions are read in: lone surrogates and control characters
  dropped, NFKC (full-width → half-width), Simplified → Traditional, lower case, white
  space collapsed, cut to `MAX_INPUT_CHARS`. Never raises.
* `compact` — `normalize`d text without the separators " -_.", with a map back to the
  normalised text and a flag per character for "a separator stood before me", so names
  match across spellings ("Qwen3-8B", "qwen3 8b", "QWEN3_8B") and still start on word
  boundaries.
* `name_key` — the compact form names compare in.
* `sentences` — the one sentence splitter (article, catalog notes, answers).
"""

from __future__ import annotations

import re
import unicodedata

from .chinese import to_traditional_query

MAX_INPUT_CHARS = 4000
"""Questions are cut to this many characters before parsing; real questions are far shorter."""

SEPARATORS = frozenset(" -_.")

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SPACES = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[。！？!?])\s*|(?<=[.;；])\s+|\n+")
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_FIRST_END = re.compile(r"[。！？]|[.?!](?=\s|$)")


def normalize(text: object) -> str:
    """Cut, clean, NFKC, Simplified → Traditional, lower-case and collapse white space.

    Never raises; anything that is not a string becomes its `str` (or "").
    """
    if text is None:
        return ""
    if not isinstance(text, str):
        try:
            text = str(text)
        except Exception:
            return ""
    text = _SURROGATE.sub(" ", text[:MAX_INPUT_CHARS])
    text = _CONTROL.sub(" ", text)
    text = unicodedata.normalize("NFKC", text)[: MAX_INPUT_CHARS * 2]
    text = to_traditional_query(text)
    text = _SURROGATE.sub(" ", text.lower())
    return _SPACES.sub(" ", text).strip()[: MAX_INPUT_CHARS * 2]


def compact(text: str) -> tuple[str, list[int], list[bool]]:
    """`text` without separators, each kept character's index in `text`, and gap flags.

    gaps[i] is True when a separator stood right before compact character i, so
    "deepseek r1" compacts to "deepseekr1" but "r1" still starts on a word boundary.
    """
    chars: list[str] = []
    index: list[int] = []
    gaps: list[bool] = []
    gap = False
    for position, char in enumerate(text):
        if char in SEPARATORS:
            gap = True
            continue
        chars.append(char)
        index.append(position)
        gaps.append(gap)
        gap = False
    return "".join(chars), index, gaps


def name_key(name: object) -> str:
    """The form names are compared in: normalised, without spaces, '-', '_' or '.'.

    "Phi-4-mini", "phi 4 mini" and "PHI4MINI" share one key.
    """
    return compact(normalize(name))[0]


def is_word_char(char: str) -> bool:
    """An ASCII letter or digit: the characters an ASCII word boundary sits between."""
    return char.isascii() and char.isalnum()


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def sentences(text: str, min_chars: int = 1, max_chars: int = 400) -> list[str]:
    """The sentences of `text`, in order: split after 。！？!? (and '.'/';' before a space) and at
    line breaks; list markers stripped; pieces shorter than `min_chars` or longer than
    `max_chars` dropped."""
    out = []
    for piece in _SENTENCE_END.split(text or ""):
        piece = piece.strip().lstrip("-*>•· ").strip()
        if min_chars <= len(piece) <= max_chars:
            out.append(piece)
    return out


def first_sentence(text: str) -> str:
    """The first sentence of an answer (Markdown emphasis removed), as the eval reads it."""
    plain = (text or "").replace("**", "").strip()
    line = plain.split("\n", 1)[0]
    match = _FIRST_END.search(line)
    return line[: match.end()] if match else line


def mask_spans(text: str, spans) -> str:  # type: ignore[no-untyped-def]
    """`text` with each (start, end) span blanked to spaces (positions kept), so a matcher no
    longer sees those words: a model's own name, an injection phrase."""
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text
