"""Endurance: 300 sequential questions in one process (RELIABILITY.md item 40).

The first QUESTIONS_PER_PASS questions of the project's eval set (eval/questions.jsonl) are
asked three times over, by the real default stack (chromadb + the bundled multilingual
embedder) in grounded mode. The first pass fills the bounded caches (query vectors, fit
estimates); RSS and the Python heap (tracemalloc) are read after pass two and after pass
three. The same questions again must not take more memory: growth over the third pass must
stay under the bounds, so a leak in our own objects shows up even when the allocator hides
it from RSS.

    .venv/bin/python -m pytest -q -s tests/test_endurance.py
"""

from __future__ import annotations

import gc
import json
import time
import tracemalloc

import psutil
import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow

QUESTIONS_PER_PASS = 100
WARM_UP = 2 * QUESTIONS_PER_PASS
QUESTIONS_TOTAL = 3 * QUESTIONS_PER_PASS
GROWTH_BOUND_MB = 30.0
HEAP_GROWTH_BOUND_MB = 5.0


def eval_questions() -> list[dict]:
    lines = (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def rss_mb() -> float:
    gc.collect()
    return psutil.Process().memory_info().rss / 2**20


def test_the_same_questions_again_take_no_more_memory(real_assistant):
    questions = eval_questions()
    assert len(questions) >= QUESTIONS_PER_PASS
    history: list[dict[str, str]] = []
    timings: list[float] = []
    rss_at: dict[int, float] = {}
    heap_at: dict[int, int] = {}
    tracemalloc.start()
    try:
        for n in range(1, QUESTIONS_TOTAL + 1):
            item = questions[(n - 1) % QUESTIONS_PER_PASS]
            started = time.perf_counter()
            reply = real_assistant.ask(item.get("q") or item["turns"][-1], history, use_llm=False)
            timings.append(time.perf_counter() - started)
            assert reply.answer.strip(), item["id"]
            # Each question carries the previous turn as history (reset every fifth), as a chat would.
            history = [{"role": "user", "content": item.get("q") or item["turns"][-1]}, {"role": "assistant", "content": reply.answer}] if n % 5 else []
            if n in (WARM_UP, QUESTIONS_TOTAL):
                rss_at[n] = rss_mb()
                heap_at[n] = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()

    growth = rss_at[QUESTIONS_TOTAL] - rss_at[WARM_UP]
    heap_growth = (heap_at[QUESTIONS_TOTAL] - heap_at[WARM_UP]) / 2**20
    ordered = sorted(timings)
    print(
        f"\n[endurance] {QUESTIONS_TOTAL} questions (grounded, use-m3 embedder): RSS after q{WARM_UP}="
        f"{rss_at[WARM_UP]:.1f} MB, after q{QUESTIONS_TOTAL}={rss_at[QUESTIONS_TOTAL]:.1f} MB, "
        f"growth={growth:+.1f} MB; Python heap growth={heap_growth:+.2f} MB; per question "
        f"p50={ordered[len(ordered) // 2] * 1000:.0f} ms p95={ordered[int(0.95 * (len(ordered) - 1))] * 1000:.0f} ms; "
        f"total={sum(timings):.1f}s"
    )
    assert growth < GROWTH_BOUND_MB
    assert heap_growth < HEAP_GROWTH_BOUND_MB
