"""Numbers in an answer, read as claims: parameters (total or active, digits with units,
「80 億」, "tens of billions"), context lengths (128k = 131,072 = 128K; 1M ≠ 128k), experts,
languages, memory, speed, scores, release dates (2025, 2025-08-05, July 2025, 2026 年 2 月),
and counts of anything else the facts count ("300 sub-agents").

Words live in `knowledge/vocabulary/validation.yaml`: the units (`number_units`), the words
around a number that say what it counts (`context_after`, `params_after` …) or qualify it
(`approx_before`, `max_before`, `number_negated_before` …), magnitudes and month names.
What stays here is mechanism: where a number is, what is next to it, and what it means.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from ..vocabulary import vocabulary
from .facts import NUMBER, Claim, at_end, cues, terms

_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "兩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile(r"[零一二兩三四五六七八九十百千]{1,6}")
_CLAUSE_MARKS = frozenset("，,；;、。:：(（")
_RANGE_CHARS = frozenset("0123456789,. ~～–-")


def _cn_number(text: str) -> float | None:
    section, digit = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in "十百千":
            section += (digit or 1) * {"十": 10, "百": 100, "千": 1000}[ch]
            digit = 0
        else:
            return None
    return float(section + digit)


def _unit(rest: str) -> tuple[Any, int] | None:
    """The unit right after a number (at most one space between): (term, characters used)."""
    offset = 1 if rest.startswith(" ") else 0
    best: tuple[Any, int] | None = None
    for term in terms("number_units"):
        match = term.cues.search(rest, offset)
        if match is not None and match.start() == offset and match.end() > offset:
            if best is None or match.end() > best[1]:
                best = (term, match.end())
    return best


def _clause_before(text: str, start: int, pos: int, width: int) -> str:
    """The text before `pos` (at most `width` characters), from the last clause mark on."""
    window = text[max(start, pos - width) : pos]
    cut = max((i for i, ch in enumerate(window) if ch in _CLAUSE_MARKS), default=-1)
    return window[cut + 1 :]


def _clause_after(text: str, pos: int, end: int, width: int) -> str:
    """The text after `pos` up to the next clause mark or the next number."""
    window = text[pos : min(end, pos + width)]
    for i, ch in enumerate(window):
        if ch in _CLAUSE_MARKS or (ch.isdigit() and i > 0):
            return window[:i]
    return window


def _role(before: str, after: str) -> str:
    """"active" / "total" from the cue nearest to a number ("每次啟動 32B", "355B 總參數")."""
    best: tuple[int, str] | None = None
    for role, group in (("active", "active_near"), ("total", "total_near")):
        for match in cues(group).finditer(before):
            distance = len(before) - match.end()
            if best is None or distance < best[0]:
                best = (distance, role)
        for match in cues(group).finditer(after):
            if best is None or match.start() < best[0]:
                best = (match.start(), role)
    return best[1] if best else ""


def _in_series(text: str, start: int, n_start: int, span_end: int, end: int) -> bool:
    """One of a list or a range of sizes: 「0.5B、1.5B、3B」, 「2.6B–27B」, "7B or 13B"."""
    rest = text[span_end:end]
    joiner = cues("series_joiner").search(rest)
    if joiner is not None and joiner.start() <= 1 and rest[joiner.end() : joiner.end() + 2].strip()[:1].isdigit():
        return True
    before = text[max(start, n_start - 12) : n_start].rstrip()
    joiner = at_end("series_joiner", before)
    if joiner is None:
        return False
    previous = before[: joiner.start()].rstrip().rstrip("bmkt").rstrip()
    return previous[-1:].isdigit()


def _qualifier(text: str, start: int, n_start: int, span_end: int, end: int, rest: str) -> str:
    before = text[max(start, n_start - 14) : n_start]
    if _in_series(text, start, n_start, span_end, end):
        return "series"
    for qualifier, group in (("previous", "previous_before"), ("max", "max_before"), ("negated", "number_negated_before"),
                             ("more", "more_than_before"), ("approx", "approx_before")):
        if at_end(group, before):
            return qualifier
    after = rest.lstrip(" abcdefghijklmnopqrstuvwxyz萬億")
    if cues("more_than_after").at_start(after):
        return "more"
    return ""


def _native(text: str, n_start: int, n_end: int, start: int, end: int, qualifier: str) -> str:
    """"native" when the words around a context length say it is the native window."""
    if qualifier:
        return qualifier
    window = text[max(start, n_start - 14) : min(end, n_end + 24)]
    return "native" if cues("native_near").search(window) else ""


def _month_day(text: str, pos: int, end: int) -> tuple[int | None, int | None]:
    """The month (and day) written right after a year: 2025-08-05, 2026 年 2 月 16 日."""
    rest = text[pos : min(end, pos + 14)]
    i = 0

    def skip() -> None:
        nonlocal i
        while i < len(rest) and rest[i] == " ":
            i += 1

    def digits() -> int | None:
        nonlocal i
        j = i
        while j < len(rest) and rest[j].isdigit() and j - i < 2:
            j += 1
        if j == i or (j < len(rest) and rest[j].isdigit()):
            return None
        value, i = int(rest[i:j]), j
        return value

    skip()
    if i >= len(rest) or rest[i] not in "年-/":
        return None, None
    i += 1
    skip()
    month = digits()
    if month is None or not 1 <= month <= 12:
        return None, None
    skip()
    marked = i < len(rest) and rest[i] in "月-/"
    i += 1 if marked else 0
    skip()
    day = digits() if marked else None
    return month, (day if day is not None and 1 <= day <= 31 else None)


def _month_before(text: str, start: int, n_start: int) -> int | None:
    """A month name right before a year: "July 2025", "in late January, 2026"."""
    before = text[max(start, n_start - 16) : n_start].rstrip(" ,")
    for term in terms("months"):
        if term.cues.search(before) is not None and any(m.end() == len(before) for m in term.cues.finditer(before)):
            return int(term.id)
    return None


def counted_noun(text: str, pos: int, end: int) -> str:
    """The noun a number counts ("3,000 sub-agents", "300 tool calls", 「2,000 次工具呼叫」):
    a word of at least five letters (or two words), or four CJK characters (a measure word
    and what it measures); else ""."""
    i = pos + (1 if text[pos : pos + 1] == " " else 0)
    j = i
    if i < end and "\u3400" <= text[i] <= "\u9fff":
        while j < end and j - i < 4 and "\u3400" <= text[j] <= "\u9fff":
            j += 1
        return text[i:j] if j - i == 4 else ""
    words = []
    for _ in range(2):
        k = j
        while k < end and k - j < 24 and text[k].isascii() and (text[k].isalpha() or text[k] == "-"):
            k += 1
        word = text[j:k].strip("-")
        if not word:
            break
        words.append(word)
        if len(word) >= 5 or text[k : k + 1] != " ":
            break
        j = k + 1
    ignored = vocabulary_words("count_nouns_ignored")
    if not words or words[0] in ignored or words[0].rstrip("s") in ignored:
        return ""
    noun = " ".join(words)
    return noun.rstrip("s") if len(noun) >= 5 and (len(words) == 2 or len(words[0]) >= 5) else ""


def vocabulary_words(name: str) -> frozenset[str]:
    return vocabulary().words(f"validation.{name}")


def numbers_before(text: str, pos: int) -> list[float]:
    """The numbers written right before `pos` (one, or a range: 「200～300 次」)."""
    i = pos
    while i > 0 and pos - i < 20 and (text[i - 1] in _RANGE_CHARS or text[i - 1] in "到至"):
        i -= 1
    return [float(m.group(1).replace(",", "")) for m in NUMBER.finditer(text[i:pos].replace("到", " ").replace("至", " "))]


def number_claims(text: str, start: int, end: int, names: list[tuple[int, int, str]], asked: frozenset[str] = frozenset()) -> list[Claim]:
    """The number claims of the sentence text[start:end]; `names` are the catalog names in it
    (a number inside a name is part of the name), `asked` the attributes the question asks."""
    claims: list[Claim] = []
    for match in NUMBER.finditer(text, start, end):
        n_start, n_end = match.span()
        if any(s <= n_start < e for s, e, _k in names):
            continue  # part of a name: the 20b in gpt-oss-20b
        raw = match.group(1)
        value = float(raw.replace(",", ""))
        rest = text[n_end : min(end, n_end + 24)]
        if at_end("money_before", text[max(start, n_start - 6) : n_start]):
            continue  # US$10M: money, not parameters
        unit = _unit(rest)
        unit_term, unit_len = unit if unit else (None, 0)
        after_unit = rest[unit_len:]
        span_end = n_end + unit_len
        shown = text[n_start:span_end].strip()
        qualifier = _qualifier(text, start, n_start, span_end, end, rest)
        role = _role(_clause_before(text, start, n_start, 8), _clause_after(text, span_end, end, 20))
        template = Claim("", 0.0, n_start, span_end, shown, qualifier=qualifier, role=role)

        def add(kind: str, number: Any, q: str | None = None, template: Claim = template) -> None:
            claims.append(replace(template, kind=kind, value=number, qualifier=template.qualifier if q is None else q))

        memory = cues("memory_after").at_start(rest)
        if memory is not None:
            if cues("memory_before").search(text[max(start, n_start - 24) : n_start]):
                scale = {"tb": 1000.0, "mb": 0.001}.get(memory.group().strip(), 1.0)
                claims.append(Claim("memory", value * scale, n_start, n_end + memory.end(),
                                    text[n_start : n_end + memory.end()].strip(), qualifier=qualifier))
            continue
        if cues("speed_after").at_start(rest):
            add("speed", value)
            continue
        if unit_term is not None:
            absolute = value * float(unit_term.get("scale", 1))
            if absolute < 1e9 and cues("context_after").at_start(after_unit):
                add("context", absolute, _native(text, n_start, span_end, start, end, qualifier))
            elif unit_term.get("context"):
                add("context", absolute, _native(text, n_start, span_end, start, end, qualifier))
            elif unit_term.get("cue_only"):
                if cues("params_after").at_start(after_unit) or at_end("params_before", text[max(start, n_start - 8) : n_start]):
                    add("params", absolute / 1e9)
            elif not cues("not_params_after").at_start(after_unit):
                add("params", absolute / 1e9)
            continue
        # A bare number: what follows (or precedes) says what it counts.
        if cues("context_after").at_start(rest) and (value >= 1000 or "," in raw):
            add("context", value, _native(text, n_start, span_end, start, end, qualifier))
        elif cues("experts_after").at_start(rest):
            add("experts", value)
        elif cues("languages_after").at_start(rest):
            add("languages", value)
        elif 1990 <= value <= 2099 and "." not in raw and "," not in raw:
            month, day = _month_day(text, n_end, end)
            if month is None:
                month = _month_before(text, start, n_start)
            if month is not None or cues("year_after").at_start(rest) or "released" in asked or cues("released_near").search(
                text, max(start, n_start - 12), min(end, n_end + 14)
            ):
                add("date", (int(value), month, day))
        elif cues("score_after").at_start(rest) or cues("benchmark_names").search(text, max(start, n_start - 16), n_start):
            add("score", value)
        elif "." not in raw:
            noun = counted_noun(text, n_end, end)
            if noun:
                add("count", (value, noun))
    claims += _cn_claims(text, start, end)
    claims += _magnitude_claims(text, start, end)
    for match in cues("context_in_words").finditer(text, start, end):
        claims.append(Claim("context", 1e6, match.start(), match.end(), match.group(),
                            qualifier=_native(text, match.start(), match.end(), start, end, "")))
    return claims


def _cn_claims(text: str, start: int, end: int) -> list[Claim]:
    """Parameters in Chinese numerals: 「八十億參數」, 「一兆個參數」."""
    claims: list[Claim] = []
    for match in _CN_NUMBER.finditer(text, start, end):
        if text[match.start() - 1 : match.start()] in ("數", "幾", "上"):
            continue  # 「數十億」: a magnitude, read below
        unit = _unit(text[match.end() : match.end() + 4])
        if unit is None or float(unit[0].get("scale", 1)) < 1e8:
            continue
        after = text[match.end() + unit[1] : end]
        if not cues("params_after").at_start(after):
            continue
        number = _cn_number(match.group())
        if number is not None:
            span_end = match.end() + unit[1]
            claims.append(Claim("params", number * float(unit[0].get("scale", 1)) / 1e9, match.start(), span_end, text[match.start() : span_end]))
    return claims


def _magnitude_claims(text: str, start: int, end: int) -> list[Claim]:
    """"Tens of billions", 「數百億」: a range of parameter counts."""
    claims: list[Claim] = []
    for term in terms("claimed_magnitudes"):
        for match in term.cues.finditer(text, start, end):
            low, high = float(term.get("low", 0)), float(term.get("high", 0))
            claims.append(Claim("params_range", (low, high), match.start(), match.end(), match.group()))
    return claims
