"""`python -m assistant eval`: run a question file and score it exactly as
`eval/public/README.md` (a copy of the team's shared eval README) says.

Scoring, in short: answers and keywords are lower-cased with white space, '-' and '_'
removed; a hit needs one `any` keyword and one keyword of every `all_of_groups` group in
the answer text plus the recommended model names; a `none_top` keyword in the first three
recommendations' names or ids is a violation; zh answers must contain no Simplified
character (OpenCC s2tw, minus the Traditional characters it also rewrites); retrieval
hit@3 looks for an `any` keyword in the first three sources' text.

Multi-turn questions (`turns`) are asked in order, each with the earlier questions and
the assistant's answers as history; only the last answer is scored. `first_sentence_any`
needs a keyword in the answer's first sentence (answer first); a `none_any` keyword
anywhere in the answer is a violation.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .chinese import is_traditional_only

KINDS = {
    "fact", "constraint", "negative", "injection", "lookup", "rank", "followup", "why_not", "fit",
    "compare", "out_of_scope", "unknown_model", "false_premise", "list",
}


class QuestionFileError(ValueError):
    pass


def normalise(text: str) -> str:
    return re.sub(r"[\s\-_]+", "", text.lower())


@dataclass(frozen=True)
class Question:
    """One row of a question file (`eval/public/README.md`).

    A row asks one question (`q`) or a conversation (`turns`, user messages in order; the
    last is scored). Rows of the judged sets (`eval/judged/`) also carry what a reader
    judges against: `expected`, `must_mention`, `must_not`, `first_sentence`.
    """

    id: str
    q: str
    kind: str
    any: list[str]
    all_of_groups: list[list[str]]
    none_top: list[str]
    traditional_only: bool
    lang: str
    turns: tuple[str, ...] = ()
    first_sentence_any: tuple[str, ...] = ()
    none_any: tuple[str, ...] = ()
    expected: str = ""
    must_mention: tuple[str, ...] = ()
    must_not: tuple[str, ...] = ()
    first_sentence: str = ""

    @property
    def asked(self) -> list[str]:
        """Every user message in order; the last one is scored."""
        return list(self.turns) if self.turns else [self.q]

    @property
    def opening(self) -> str:
        """The first message: a question that can be asked with no history."""
        return self.asked[0]


def _text(row: dict[str, Any], key: str, default: str = "") -> str:
    value = row.get(key, default)
    if not isinstance(value, str):
        raise TypeError(f"{key!r} must be a string, got {type(value).__name__}")
    return value


def _texts(row: dict[str, Any], key: str) -> tuple[str, ...]:
    value = row.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{key!r} must be a list of strings")
    return tuple(value)


def parse_question(row: Any) -> Question:
    """One question row -> Question; raises ValueError, KeyError or TypeError saying what is wrong.

    A row has `q` (a non-empty string) or `turns` (a non-empty list of non-empty strings);
    with both, `turns` is the conversation and its last message must be `q`.
    """
    if not isinstance(row, dict):
        raise TypeError(f"a question line is a JSON object, got {type(row).__name__}")
    if "id" not in row or not isinstance(row["id"], (str, int)) or isinstance(row["id"], bool):
        raise KeyError("id")
    turns = _texts(row, "turns")
    if "turns" in row and (not turns or not all(t.strip() for t in turns)):
        raise ValueError("'turns' must list at least one non-empty message")
    if "q" in row:
        q = _text(row, "q")
        if not q.strip():
            raise ValueError("'q' is empty")
        if turns and q != turns[-1]:
            raise ValueError("a row with both 'q' and 'turns' must end its turns with q")
    elif turns:
        q = turns[-1]
    else:
        raise KeyError("q or turns")
    groups = row.get("all_of_groups", [])
    if not isinstance(groups, list) or not all(
        isinstance(g, list) and all(isinstance(k, str) for k in g) for g in groups
    ):
        raise TypeError("'all_of_groups' must be a list of lists of strings")
    traditional = row.get("traditional_only", False)
    if not isinstance(traditional, bool):
        raise TypeError("'traditional_only' must be true or false")
    return Question(
        id=str(row["id"]),
        q=q,
        kind=_text(row, "kind", "fact"),
        any=list(_texts(row, "any")),
        all_of_groups=[list(g) for g in groups],
        none_top=list(_texts(row, "none_top")),
        traditional_only=traditional,
        lang=_text(row, "lang", "zh-TW"),
        turns=turns,
        first_sentence_any=_texts(row, "first_sentence_any"),
        none_any=_texts(row, "none_any"),
        expected=_text(row, "expected"),
        must_mention=_texts(row, "must_mention"),
        must_not=_texts(row, "must_not"),
        first_sentence=_text(row, "first_sentence"),
    )


def load_questions(path: Path) -> list[Question]:
    """Every question of a JSONL file; blank lines are skipped.

    Raises:
        QuestionFileError: the file cannot be read, or a line is not a valid question
            (the message names the file and line).
    """
    questions: list[Question] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionFileError(f"cannot read {path}: {exc}") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            questions.append(parse_question(json.loads(line)))
        except (ValueError, KeyError, TypeError) as exc:
            raise QuestionFileError(f"{path}:{n}: not a valid question line: {exc}") from exc
    return questions


def opening_questions(questions: list[Question]) -> list[str]:
    """The questions that can be asked with no history: each row's `q`, or the first
    message of its `turns` (a later turn such as 「那它呢？」 needs the conversation)."""
    return [question.opening for question in questions]


_EMPHASIS = re.compile(r"\*\*|__|(?<![\w*])\*(?!\s)|(?<!\s)\*(?![\w*])|`")
_SENTENCE_END = re.compile(r"[。！？]|[.?!](?=[ \n])")


def first_sentence(answer: str) -> str:
    """The answer up to the first 。！？ (or `. `/`? `/`! `), or its first line, whichever
    is shorter; Markdown emphasis ignored."""
    text = _EMPHASIS.sub("", answer).strip()
    line = text.split("\n", 1)[0]
    match = _SENTENCE_END.search(text)
    sentence = text[: match.end()] if match else text
    return line if len(line) < len(sentence) else sentence


def score_hit(question: Question, answer: str, recommendation_names: list[str]) -> bool:
    haystack = normalise(answer + " " + " ".join(recommendation_names))
    if question.any and not any(normalise(k) in haystack for k in question.any):
        return False
    if question.first_sentence_any:
        head = normalise(first_sentence(answer))
        if not any(normalise(k) in head for k in question.first_sentence_any):
            return False
    return all(any(normalise(k) in haystack for k in group) for group in question.all_of_groups)


def score_violation(question: Question, recommendations: list[dict[str, Any]], answer: str = "") -> list[str]:
    top = recommendations[:3]
    fields = [normalise(str(r.get(key, ""))) for r in top for key in ("name", "id")]
    found = [k for k in question.none_top if any(normalise(k) in f for f in fields)]
    text = normalise(answer)
    return found + [k for k in question.none_any if normalise(k) in text]


def score_retrieval(question: Question, sources: list[dict[str, Any]]) -> bool:
    text = normalise(" ".join(str(s.get("text", "")) for s in sources[:3]))
    return any(normalise(k) in text for k in question.any)


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def run_eval(assistant: Any, questions: list[Question], use_llm: bool = False) -> dict[str, Any]:
    """Answer every question and return `{"summary": ..., "results": [...]}`."""
    results: list[dict[str, Any]] = []
    # Warm up once so the timings measure a warm assistant, as a user sees after start-up.
    started = time.perf_counter()
    assistant.retriever.warm()
    warm_ms = (time.perf_counter() - started) * 1000
    for question in questions:
        history: list[dict[str, str]] = []
        for earlier in question.asked[:-1]:
            previous = assistant.ask(earlier, history=history, use_llm=use_llm)
            history += [{"role": "user", "content": earlier}, {"role": "assistant", "content": previous.answer}]
        t0 = time.perf_counter()
        sources = [p.to_dict() for p in assistant.search(question.q, 5)]
        retrieval_ms = (time.perf_counter() - t0) * 1000
        t1 = time.perf_counter()
        reply = assistant.ask(question.q, history=history, use_llm=use_llm)
        answer_ms = (time.perf_counter() - t1) * 1000
        used = [p.to_dict() for p in getattr(reply, "sources", None) or []]
        if history or question.kind in ("rank", "list", "lookup"):
            # A follow-up ("那它的授權呢？") is retrieved with the subjects it resolved to, and
            # a catalog query or a sentence lookup cites the passages of what it names: score
            # the passages the answer actually used.
            sources = used or sources
        recs = reply.recommendations_dicts()
        names = [r["name"] for r in recs]
        zh = question.lang != "en"
        results.append(
            {
                "id": question.id,
                "kind": question.kind,
                "question": " → ".join(question.asked),
                "answer": reply.answer,
                "first_sentence": first_sentence(reply.answer),
                "plan": reply.plan.to_dict() if getattr(reply, "plan", None) is not None else None,
                "mode": reply.mode,
                "recommendations": recs,
                "sources": sources,
                "hit": score_hit(question, reply.answer, names),
                "retrieval_hit3": score_retrieval(question, sources),
                "violations": score_violation(question, recs, reply.answer),
                "traditional_only": is_traditional_only(reply.answer) if zh else None,
                "timings_ms": {"retrieval": round(retrieval_ms, 2), "answer": round(answer_ms, 2)},
            }
        )
    return {"summary": summarise(results, warm_ms), "results": results}


def summarise(results: list[dict[str, Any]], warm_ms: float = 0.0) -> dict[str, Any]:
    n = len(results) or 1
    retrieval = [r["timings_ms"]["retrieval"] for r in results]
    answers = [r["timings_ms"]["answer"] for r in results]
    zh = [r for r in results if r["traditional_only"] is not None]
    by_kind: dict[str, dict[str, int]] = {}
    for r in results:
        entry = by_kind.setdefault(r["kind"], {"n": 0, "hit": 0})
        entry["n"] += 1
        entry["hit"] += int(r["hit"])
    return {
        "questions": len(results),
        "answer_hit_rate": round(sum(r["hit"] for r in results) / n, 4),
        "retrieval_hit_at_3": round(sum(r["retrieval_hit3"] for r in results) / n, 4),
        "constraint_violations": sum(len(r["violations"]) for r in results),
        "traditional_only_rate": round(sum(bool(r["traditional_only"]) for r in zh) / (len(zh) or 1), 4),
        "by_kind": by_kind,
        "retrieval_ms": {"p50": round(percentile(retrieval, 50), 2), "p95": round(percentile(retrieval, 95), 2)},
        "answer_ms": {"p50": round(percentile(answers, 50), 2), "p95": round(percentile(answers, 95), 2)},
        "warmup_ms": round(warm_ms, 1),
        "mean_answer_ms": round(statistics.fmean(answers), 2) if answers else 0.0,
        "misses": [r["id"] for r in results if not r["hit"]],
        "retrieval_misses": [r["id"] for r in results if not r["retrieval_hit3"]],
    }
