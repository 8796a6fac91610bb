"""Statements in an answer's sentence, read as claims: commercial use (yes / no / "no
restrictions at all"), licence, architecture (MoE / dense), maker and country, inputs and
languages supported, release status ("still a preview"), and a weakness denied ("never
drifts into Simplified Chinese").

Every phrase is a cue group or a term list of `knowledge/vocabulary/validation.yaml`; this
module only says where a phrase has to stand to be a claim, and about which name.
"""

from __future__ import annotations

from typing import Any

from .facts import Claim, at_end, cues, terms


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def term_matches(kind: str, text: str, start: int, end: int) -> list[tuple[int, int, Any]]:
    """Non-overlapping matches of a term list in text[start:end] (longest first), in order."""
    found: list[tuple[int, int, Any]] = []
    for term in terms(kind):
        for match in term.cues.finditer(text, start, end):
            if match.end() > match.start():
                found.append((match.start(), match.end(), term))
    found.sort(key=lambda f: (-(f[1] - f[0]), f[0]))
    kept: list[tuple[int, int, Any]] = []
    for item in found:
        if not any(overlaps(item[:2], k[:2]) for k in kept):
            kept.append(item)
    return sorted(kept, key=lambda f: f[0])


def _before(text: str, start: int, width: int = 8) -> str:
    return text[max(0, start - width) : start]


def question_after(text: str, end: int) -> bool:
    return bool(cues("question_after").at_start(text[end : end + 4]))


def negated(text: str, start: int) -> bool:
    return at_end("negation_before", _before(text, start, 6)) is not None


def _reported(text: str, start: int) -> bool:
    return at_end("reported_before", _before(text, start, 16)) is not None


def _in_name(span: tuple[int, int], names: list[tuple[int, int, str]]) -> bool:
    return any(s <= span[0] < e for s, e, _k in names)


def statement_claims(
    text: str, start: int, end: int, names: list[tuple[int, int, str]], licence_spans: list[tuple[int, int, Any]],
    about_use: bool = False, asked: frozenset[str] = frozenset(),
) -> list[Claim]:
    """The claims of the sentence text[start:end] that are not numbers."""
    claims = _commercial_claims(text, start, end, licence_spans, about_use)
    for s, e, term in licence_spans:
        if start <= s < e <= end and not question_after(text, e):
            previous = at_end("licence_previous_before", text[max(start, s - 14) : s]) is not None
            denied = at_end("licence_negated_before", text[max(start, s - 16) : s]) is not None
            claims.append(Claim("licence", term, s, e, text[s:e], qualifier="previous" if previous else "negated" if denied else ""))
    for group, value in (("arch_moe", "moe"), ("arch_dense", "dense"), ("arch_hybrid", "hybrid"), ("arch_transformer_only", "transformer")):
        for match in cues(group).finditer(text, start, end):
            if _in_name(match.span(), names) or question_after(text, match.end()):
                continue
            denied = negated(text, match.start())
            if denied and value not in ("moe", "dense"):
                continue  # "not a hybrid": nothing said about what it is
            stated = value if not denied else ("dense" if value == "moe" else "moe")
            claims.append(Claim("arch", stated, *match.span(), match.group()))
    for match in cues("not_released").finditer(text, start, end):
        if not question_after(text, match.end()) and not negated(text, match.start()):
            claims.append(Claim("status", "preview", *match.span(), match.group()))
    claims += _weakness_claims(text, start, end)
    claims += maker_claims(text, start, end, names, asked)
    claims += _support_claims(text, start, end, names)
    return claims


def _commercial_claims(text: str, start: int, end: int, licence_spans: list[tuple[int, int, Any]], about_use: bool) -> list[Claim]:
    claims: list[Claim] = []
    # "no" phrases first (they contain the "yes" words: 不能商用 ⊃ 商用).
    taken: list[tuple[int, int]] = []
    no_matches = list(cues("commercial_no").finditer(text, start, end))
    yes_matches = list(cues("commercial_yes").finditer(text, start, end))
    conditions = [m.span() for m in cues("commercial_conditional").finditer(text, start, end)]
    for match in sorted(no_matches + yes_matches, key=lambda m: (-(m.end() - m.start()), m.start())):
        span = match.span()
        if any(overlaps(span, t) for t in taken) or question_after(text, span[1]) or _reported(text, span[0]):
            continue
        taken.append(span)
        value = "no" if match in no_matches else "yes"
        if value == "yes" and negated(text, span[0]):
            value = "no"
        conditional = any(c_start - 24 <= span[1] and span[0] <= c_end + 24 for c_start, c_end in conditions)
        claims.append(Claim("commercial", value, *span, match.group(), qualifier="conditional" if conditional else ""))
    no_spans = [m.span() for m in no_matches]
    for match in cues("unrestricted").finditer(text, start, end):
        span = match.span()
        if any(overlaps(span, t) for t in no_spans) or negated(text, span[0]) or question_after(text, span[1]):
            continue
        sentence = text[start:end]
        if about_use or claims or cues("use_words").search(sentence) or any(start <= s < end for s, _e, _t in licence_spans):
            claims.append(Claim("unrestricted", True, *span, match.group()))
    return claims


def _weakness_claims(text: str, start: int, end: int) -> list[Claim]:
    """A weakness the answer denies: 「完全不會跳成簡體」, "never drifts into Simplified"."""
    claims: list[Claim] = []
    for s, e, term in term_matches("claimed_weaknesses", text, start, end):
        if at_end("weakness_denied_before", text[max(start, s - 10) : s]) and not question_after(text, e):
            claims.append(Claim("weakness", term.id, s, e, text[s:e], qualifier="negated"))
    return claims


def maker_claims(text: str, start: int, end: int, names: list[tuple[int, int, str]], asked: frozenset[str] = frozenset()) -> list[Claim]:
    """Vendor and country claims: only in the shapes that state one ("X 由 Google 推出",
    "Google 的 X", "X is made by Meta", "中國的模型", "a French company"), or anywhere when
    the question asks who makes it. A maker's name that is also a family alias ("Meta",
    "微軟") is the maker here, not a subject."""
    claims: list[Claim] = []
    in_sentence = [n for n in names if start <= n[0] < end]
    for kind, kinds in (("vendor", "claimed_vendors"), ("country", "claimed_countries")):
        for s, e, term in term_matches(kinds, text, start, end):
            if any(overlaps((s, e), n[:2]) and n[1] - n[0] > e - s for n in in_sentence if n[2] == "model"):
                continue  # "Mistral" inside "Mistral Small 3.1" is the name, not the maker
            spans = [n[:2] for n in in_sentence if not overlaps((s, e), n[:2])]
            before_names = [n for n in spans if n[1] <= s]
            after_names = [n for n in spans if n[0] >= e]
            link: int | None = None
            between_before = text[before_names[-1][1] : s] if before_names else ""
            if after_names and cues("vendor_before_name").search(text[e : after_names[0][0]]):
                link = after_names[0][0]  # 「Google 的 Gemma」
            elif before_names and cues("vendor_after_name").search(between_before):
                link = before_names[-1][0]  # 「Gemma 由 Google 推出」
            elif kind == "vendor" and before_names and len(between_before) <= 20 and cues("released_after_vendor").at_start(text[e:end]):
                link = before_names[-1][0]  # 「Phi-4 是美國微軟推出的」
            elif kind == "country":
                noun = cues("country_noun").at_start(text[e:end])
                if noun is not None and after_names and after_names[0][0] - e <= 12:
                    link = after_names[0][0]
                elif before_names and cues("country_before").search(between_before) and len(between_before) <= 16:
                    link = before_names[-1][0]
                elif noun is not None and before_names:
                    link = before_names[-1][0]
            if link is None and kind in asked:
                link = -1  # the question asks who makes it: a maker named is the answer, about the subject
            if link is not None and not question_after(text, e) and not negated(text, s):
                claims.append(Claim(kind, term, s, e, text[s:e], link=link))
    return claims


def _support_claims(text: str, start: int, end: int, names: list[tuple[int, int, str]]) -> list[Claim]:
    """"It supports images / Chinese" (or not): a modality or language named right after a
    support verb, or followed by "isn't one of them"."""
    claims: list[Claim] = []
    for kind, kinds in (("modality", "claimed_modalities"), ("language_support", "claimed_languages")):
        for s, e, term in term_matches(kinds, text, start, end):
            if any(overlaps((s, e), n[:2]) for n in names):
                continue
            clause_before = text[max(start, s - 14) : s]
            if cues("support_negated_after").at_start(text[e:end]) or at_end("support_negated", clause_before):
                claims.append(Claim(kind, term.id, s, e, text[s:e], qualifier="negated"))
            elif at_end("support_before", clause_before) and not question_after(text, e):
                claims.append(Claim(kind, term.id, s, e, text[s:e]))
    return claims
