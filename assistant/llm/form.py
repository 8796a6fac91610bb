"""The answer's form: not empty; ends on a complete sentence (not cut mid-sentence); is an
answer (not the question echoed back, not a bare list marker with a citation); in the
question's language; no prompt labels (事實：, Facts:, 型錄・) or rules repeated."""

from __future__ import annotations

import re

from ..text import normalize
from .facts import CITATION, compact, cues, word_chars
from .grounding import Grounding
from .prompt import EXAMPLE_EN, EXAMPLE_ZH, FACT_LABELS, SYSTEM_RULES

_TERMINAL = tuple("。！？.!?…」』)）\"'”’*`～~喔哦唷囉啦呢吧耶呀嘛")
LIST_ITEM = re.compile(r"^\s*(?:[-*•·]|\d{1,2}[.)、]|[（(]?\d{1,2}[）)])\s*")


def _cjk_count(text: str) -> int:
    return sum(1 for ch in text if "\u3400" <= ch <= "\u9fff")


def _without_trailing_citations(line: str) -> str:
    line = line.rstrip()
    while line.endswith("]"):
        start = line.rfind("[")
        if start < 0 or not CITATION.fullmatch(line[start:]):
            break
        line = line[:start].rstrip()
    return line


def form_problems(answer: str, grounding: Grounding, language: str) -> list[str]:
    problems: list[str] = []
    text = answer.strip()
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    # Cut off mid-sentence.
    last = _without_trailing_citations(lines[-1]).rstrip(" *_`") if lines else ""
    last_cited = last != (lines[-1].rstrip(" *_`") if lines else "")
    if last and not last.endswith(_TERMINAL):
        tail = normalize(last[-12:])
        if cues("dangling_end").search(tail) and cues("dangling_end").at_end(tail):
            problems.append("ends mid-sentence (cut off)")
        elif not (LIST_ITEM.match(last) or last_cited or len(lines) > 1 and LIST_ITEM.match(lines[-2] or "")):
            problems.append("ends without finishing its sentence")
    # No answer: the question echoed, a bare marker, a filler line.
    content = CITATION.sub("", text)
    content = "\n".join(LIST_ITEM.sub("", line) for line in content.splitlines())
    content = normalize(content)
    for match in reversed(list(cues("filler").finditer(content))):
        content = content[: match.start()] + content[match.end() :]
    body = compact(content)
    question = compact(normalize(grounding.question))
    if word_chars(body) < 2:
        problems.append("gives no answer (only markers, fillers or citations)")
    elif question and (body == question or (body in question and word_chars(body) >= 4)
                       or (question in body and len(body) <= len(question) * 1.25)):
        problems.append("repeats the question instead of answering it")
    elif question and any(compact(normalize(LIST_ITEM.sub("", line))) == question for line in lines):
        problems.append("repeats the question in the answer")
    # The question's language.
    letters = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    han = _cjk_count(text)
    if language == "en" and han > max(8, 0.5 * letters):
        problems.append("answers an English question in Chinese")
    elif language != "en" and letters > 40 and han < 0.08 * letters:
        problems.append("answers a Chinese question in English")
    return problems


def _rule_sentences() -> list[str]:
    """The rules' sentences and the worked examples' headers: an answer repeating one is
    repeating the prompt."""
    pieces = SYSTEM_RULES.replace(". ", "\n").replace("。", "\n").replace("；", "\n").replace(";", "\n").split("\n")
    pieces += [example.splitlines()[0] for example in (EXAMPLE_ZH, EXAMPLE_EN)]
    keys = []
    for piece in pieces:
        head, dot, rest = piece.strip().partition(".")
        if dot and head.isdigit():
            piece = rest
        if len(compact(piece)) >= 8:
            keys.append(compact(piece))
    return keys


_RULES = _rule_sentences()


def regurgitation_problems(text: str) -> list[str]:
    problems: list[str] = []
    for line in text.splitlines():
        stripped = line.strip().lstrip("-*• ").strip().lstrip("*").strip()
        for label in FACT_LABELS:
            if stripped.startswith(label) or stripped.startswith(label.rstrip(":：") + ":"):
                problems.append(f"repeats the prompt's '{label}' label")
    if "型錄・" in text or "原文・" in text or "Catalog・" in text or "catalog·" in text.lower():
        problems.append("repeats the sources' labels")
    key = compact(text)
    for rule in _RULES:
        if rule[:16] in key:
            problems.append("repeats the system prompt")
            break
    return list(dict.fromkeys(problems))
