"""Checks an LLM answer for meaning, claim by claim, against the catalog.

What the validator needs (`Grounding`, so that it is easy to wire to any answer engine):
the question, the conversation history, the grounded answer's text, the `Catalog`, and
optionally the plan's subjects, answer kind, attributes asked, intent and constraints (and
the number of citable sources, and the text of untrusted user documents).
`Grounding.from_reply` builds it from a `Reply`.

Checks (each failure is one short English sentence in `Validation.problems`):

- **Form** (`form.py`). Not empty; ends on a complete sentence; is an answer (not the
  question echoed back, not a bare list marker); in the question's language; no prompt
  labels or rules repeated.
- **Names** (`names.py`). Every catalog model or family named is in the facts, the
  question, the conversation, related to them, or (for a recommendation) meets the
  question's requirements; invented sizes, editions and versions of real models fail.
- **Claims** (`claims.py` reads them — `numbers.py`, `statements.py`, `tails.py` —,
  `check.py` checks them): commercial use, "no restrictions", licence, parameters,
  context, experts, languages, memory, speed, scores, release date and status,
  architecture, maker and country, inputs, weaknesses, and counts, each against the size
  or model it names, pronouns against the subject in play.
- **The answer comes first** (`lead.py`): the verdict, the attribute asked, the model.
- **Citations.** Every [n] exists; a literal [n] or [m] fails.

Errors of the backend are never validation problems: the run reports them separately.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..knowledge import Catalog
from ..text import has_cjk, normalize
from .check import CheckContext, check_claims
from .claims import read_answer, sentences
from .facts import (
    CITATION,
    PLACEHOLDER,
    Claim,
    Entity,
    Facts,
    compact,
    contexts_of,
    number_key,
    numbers_in,
    params_of,
)
from .form import form_problems, regurgitation_problems
from .grounding import Grounding, Validation, asks, families_in_play, subject_entities
from .lead import answer_key, coverage_problems
from .names import names_problems

if TYPE_CHECKING:
    from ..compose import Reply

__all__ = [
    "Grounding", "Validation", "answer_key", "convert_answer", "load_labels", "validate", "validate_answer",
    "validator_report",
]


def validate(answer: str, grounding: Grounding, catalog: Catalog) -> Validation:
    """Check an LLM answer (already converted to zh-TW) against the grounded facts.

    Returns:
        `Validation(ok, problems)`; problems are short English sentences naming the
        model, the claim, the number or the citation at fault.
    """
    if not answer or not answer.strip():
        return Validation(False, ["empty answer"])
    language = grounding.language or ("zh-TW" if has_cjk(grounding.question) else "en")
    subjects = subject_entities(grounding, catalog)
    about_use = asks("commercial", grounding.question) or asks("licence", grounding.question)
    reading = read_answer(answer, catalog, subjects, about_use, families_in_play(grounding, catalog), grounding.attributes)
    facts = Facts(catalog)
    problems = form_problems(answer, grounding, language)
    problems += regurgitation_problems(answer)
    problems += names_problems(answer, reading, grounding, catalog, facts)
    problems += coverage_problems(answer, reading, grounding, catalog, facts)

    known_text = normalize(grounding.known_text())
    known = numbers_in(known_text)
    compact_known = compact(known_text)
    text = reading.text

    def copied(start: int, end: int) -> bool:
        """Whether the claim stands in the facts with the words before it (a wider window when
        only digits and dates precede it: 「2026-05）；2025-06 釋出」)."""
        for width in (8, 16, 32):
            window = compact(text[max(0, start - width) : end])
            if sum(1 for ch in window if not (ch.isdigit() or ch in ".,")) >= 3:
                return window in compact_known
        return False

    def other_values(claim: Claim, kind: str) -> list[float]:
        """Values of the other names in the claim's sentence: those before it (a comparison:
        「GLM-4.6 的上下文從 GLM-4.5 的 128k 加長到 200k」), or any of them when the facts
        state the number (a list: "355B 參數量，略勝 1T 的 Kimi K2")."""
        stated = number_key(claim.value) in known
        values: list[float] = []
        for s_start, s_end in sentences(text):
            if not s_start <= claim.start < s_end:
                continue
            for m in reading.mentions:
                if not (s_start <= m.start < s_end and m.kind == "model") or not (stated or m.end <= claim.start):
                    continue  # other models only: a family name (often the maker's) is no other subject
                if claim.subject is not None and m.target == claim.subject.id:
                    continue  # the subject itself (or another size of it): not an "other" name
                for model in facts.of(Entity("model", m.target, getattr(m, "variant", None))):
                    values += params_of(model)[0] + params_of(model)[1] if kind == "params" else contexts_of(model)
        return values

    problems += check_claims(reading.claims, CheckContext(catalog, facts, known, copied, other_values, known_text))
    for placeholder in dict.fromkeys(PLACEHOLDER.findall(answer)):
        problems.append(f"cites a placeholder {placeholder} instead of a source number")
    limit = grounding.source_count
    if limit is None:
        limit = max([int(n) for n in CITATION.findall(grounding.grounded)] or [0])
    for number in dict.fromkeys(CITATION.findall(answer)):
        if not 1 <= int(number) <= limit:
            problems.append(f"cites [{number}], but there are only {limit} sources")
    return Validation(not problems, list(dict.fromkeys(problems)))


def validate_answer(
    text: str, reply: Reply, catalog: Catalog, history: Sequence[dict[str, str]] | None = None
) -> Validation:
    """`validate` with the grounding taken from a grounded `Reply`."""
    return validate(text, Grounding.from_reply(reply, history), catalog)


def convert_answer(text: str) -> str:
    """The zh-TW conversion the live path applies to a model's stream, on a whole text."""
    from ..chinese import StreamConverter  # noqa: PLC0415

    converter = StreamConverter()
    return converter.feed(text) + converter.flush()


# ------------------------------------------------------------------ labelled sets


def load_labels(path: Any = None) -> list[dict[str, Any]]:
    """Labelled answers (`eval/validator_labels*.jsonl`): each row has the question `q`,
    optional `history`, the `answer` text, `expect` ("pass"/"fail") and a `kind`."""
    from ..config import PROJECT_ROOT  # noqa: PLC0415

    source = Path(path) if path is not None else PROJECT_ROOT / "eval" / "validator_labels.jsonl"
    return [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]


def validator_report(assistant: Any, path: Any = None) -> dict[str, Any]:
    """Precision and recall of the validator on a labelled set, run exactly as the live
    path runs it (the grounded reply for the question and history, the answer converted
    to zh-TW, then `validate`).

    A "positive" is a rejected answer: precision is the share of rejected answers that
    were labelled bad, recall the share of bad answers that were rejected. A row whose
    grounded answer the engine fails to produce is not scored; it is listed under
    `engine_errors`.
    """
    counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    mistakes: list[dict[str, Any]] = []
    contradictions_accepted = 0
    rows = load_labels(path)
    engine_errors: list[dict[str, Any]] = []
    for row in rows:
        history = row.get("history") or []
        try:
            reply = assistant.grounded(row["q"], history)
        except Exception as exc:  # the answer engine failed: not the validator's to score
            engine_errors.append({"id": row.get("id"), "error": f"{type(exc).__name__}: {exc}"})
            continue
        result = validate(convert_answer(row["answer"]), Grounding.from_reply(reply, history), assistant.catalog)
        rejected = not result.ok
        bad = row["expect"] == "fail"
        counts[("t" if rejected == bad else "f") + ("p" if rejected else "n")] += 1
        if bad and not rejected and row.get("kind") == "contradiction":
            contradictions_accepted += 1
        if rejected != bad:
            mistakes.append({"id": row.get("id"), "kind": row.get("kind"), "expect": row["expect"], "problems": result.problems})
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    return {
        "labels": len(rows) - len(engine_errors),
        "engine_errors": engine_errors,
        "precision": round(tp / (tp + fp), 3) if tp + fp else 1.0,
        "recall": round(tp / (tp + fn), 3) if tp + fn else 1.0,
        **counts,
        "contradictions_accepted": contradictions_accepted,
        "mistakes": mistakes,
    }
