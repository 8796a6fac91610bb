"""Sanitise what users type before anything else sees it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field


class EmptyQuestion(ValueError):
    """Nothing usable was asked."""


# C0/C1 controls except tab/newline, bidi overrides/isolates, zero-width chars, tag characters.
_INVISIBLE = re.compile(
    "[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
    "\U000e0000-\U000e007f]"
)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


@dataclass
class CleanQuestion:
    text: str
    notices: list[str] = field(default_factory=list)
    truncated: bool = False


def strip_invisible(text: str) -> str:
    """Remove control, bidi, zero-width and tag characters; replace lone surrogates."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = _ANSI.sub("", text)
    return _INVISIBLE.sub("", text)


def clean_question(raw: str | None, max_chars: int, lang_zh: bool = True) -> CleanQuestion:
    """Normalise a question; truncate it with a notice when it is too long.

    Raises:
        EmptyQuestion: the text is empty or only white space / invisible characters.
    """
    text = strip_invisible(raw or "")
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"[ \t]+", " ", text).strip()
    if not text:
        raise EmptyQuestion("請輸入問題。 / Please type a question.")
    notices: list[str] = []
    truncated = False
    if len(text) > max_chars:
        original = len(text)
        text = text[:max_chars]
        truncated = True
        notices.append(
            f"問題太長（{original:,} 字），只採用前 {max_chars:,} 字。"
            if lang_zh
            else f"The question was too long ({original:,} characters); only the first {max_chars:,} were used."
        )
    return CleanQuestion(text=text, notices=notices, truncated=truncated)
