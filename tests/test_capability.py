"""knowledge/capabilities.yaml and the capability normalisation in assistant/capability.py."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

import pytest
import yaml

from assistant.capability import (
    FALLBACK_FACTOR,
    FALLBACKS,
    NOT_MEASURED,
    TASK_WEIGHTS,
    TASKS,
    Capabilities,
    load_capabilities,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "knowledge" / "capabilities.yaml"
GENERAL = set(TASK_WEIGHTS["general"])


@pytest.fixture(scope="module")
def caps() -> Capabilities:
    return load_capabilities(DATA)


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "capabilities.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _mini(scores: list[dict], extra_benchmarks: list[dict] | None = None) -> dict:
    """A minimal valid file: the shipped vocabulary, one source, the given scores."""
    shipped = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    return {
        "schema_version": 1,
        "as_of": "2026-12-02",
        "benchmarks": shipped["benchmarks"] + (extra_benchmarks or []),
        "sources": {
            "card": {"cite": "model card: huggingface.co/example/model (table)", "date": "2026-01-01", "kind": "model-card"},
            "other": {"cite": "model card: huggingface.co/example/other (comparison table)", "date": "2026-02-01", "kind": "model-card"},
            "board": {"cite": "leaderboard: example board, read 2026-03-01", "date": "2026-03-01", "kind": "leaderboard"},
        },
        "scores": scores,
    }


# ---------------------------------------------------------------- the shipped file


def test_shipped_file_validates_and_is_broad(caps: Capabilities) -> None:
    with_general = [k for k in caps.keys() if any(f.benchmark in GENERAL for f in caps.figures_for(k))]
    assert len(with_general) >= 60, len(with_general)
    assert len(caps.keys()) >= 60
    coverage = caps.coverage()
    assert set(coverage) == set(TASKS)
    for task in ("general", "coding", "reasoning", "chinese", "multilingual", "tool-use", "instruction-following"):
        assert coverage[task] >= 30, (task, coverage[task])
    for task in ("traditional-chinese", "vision", "long-context"):
        assert coverage[task] >= 1, task


def test_every_figure_has_a_source_a_date_and_a_plausible_value(caps: Capabilities) -> None:
    assert caps.all_figures
    for figure in caps.all_figures:
        assert figure.source and len(figure.source) >= 10, figure
        assert re.match(r"^\d{4}-\d{2}(-\d{2})?$", figure.date), figure
        assert "2023-01" <= figure.date[:7] <= "2026-12", figure
        spec = caps.benchmarks[figure.benchmark]
        assert spec.low <= figure.value <= spec.high, figure
        assert figure.label.startswith(spec.name), figure.label


def test_every_source_is_cited_with_where_it_was_read(caps: Capabilities) -> None:
    used = {f.source_id for f in caps.all_figures}
    assert used == set(caps.data.sources), set(caps.data.sources) ^ used  # no dangling, no unused source
    for source in caps.data.sources.values():
        where = source.cite + " " + (source.mirror or "")
        assert re.search(r"[a-z0-9-]+\.(co|com|ai|org|xyz)\b|arxiv", where), source.cite
        assert source.cite.split(":")[0] in {
            "model card", "model cards", "README", "tech report", "release post", "leaderboard", "community measurement",
        }, source.cite


def test_variants_are_repo_ids_or_plain_names(caps: Capabilities) -> None:
    plain = []
    for key in caps.keys():
        if "/" in key:
            assert re.match(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$", key), key
        else:  # a model whose repo id was not verified: the name only, matched on the part after '/'
            assert re.match(r"^[A-Za-z0-9][\w.\-]+$", key), key
            plain.append(key)
    assert len(plain) <= 12, plain
    assert caps.resolve("deepseek-ai/DeepSeek-V4-Flash") == "DeepSeek-V4-Flash"


def test_spot_checks_of_sourced_figures(caps: Capabilities) -> None:
    def value(variant: str, mode: str, benchmark: str) -> float:
        [figure] = [f for f in caps.figures_for(variant) if f.mode == mode and f.benchmark == benchmark]
        return figure.value

    assert value("Qwen/Qwen3-30B-A3B-Instruct-2507", "non-thinking", "mmlu-pro") == 78.4
    assert value("Qwen/Qwen3-235B-A22B-Thinking-2507", "thinking", "livecodebench") == 74.1
    assert value("deepseek-ai/DeepSeek-R1", "thinking", "aime-2024") == 79.8
    assert value("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "thinking", "gpqa-diamond") == 49.1
    assert value("meta-llama/Llama-3.3-70B-Instruct", "default", "ifeval") == 92.1
    assert value("google/gemma-3-27b-it", "default", "mmlu-pro") == 67.5
    assert value("Qwen/Qwen3-8B", "thinking", "c-eval") == 83.4
    assert value("openai/gpt-oss-120b", "default", "aa-index-v2") == 58
    assert value("moonshotai/Kimi-K2-Thinking", "thinking", "swe-bench-verified") == 71.3


def test_spot_checks_of_2025_26_releases(caps: Capabilities) -> None:
    def value(variant: str, mode: str, benchmark: str) -> float:
        [figure] = [f for f in caps.figures_for(variant) if f.mode == mode and f.benchmark == benchmark]
        return figure.value

    assert value("Qwen/Qwen3.5-2B", "thinking", "mmlu-pro") == 66.5
    assert value("Qwen/Qwen3.5-2B", "non-thinking", "mmlu-pro") == 55.3
    assert value("Qwen/Qwen3.6-27B", "thinking", "aa-index-v4") == 45
    assert value("XiaomiMiMo/MiMo-V2-Flash", "default", "swe-bench-verified") == 73.4
    assert value("Gemma 4 12B", "default", "mmlu-pro") == 77.2
    assert value("DeepSeek-V4-Flash", "non-thinking", "gpqa-diamond") == 71.2
    assert caps.resolve("Kimi K3") == "moonshotai/Kimi-K3"


def test_a_figure_is_never_copied_to_another_size(caps: Capabilities) -> None:
    # Qwen3-30B-A3B (2025-04) and its 2507 Instruct are different weights with different figures.
    old = {f.benchmark: f.value for f in caps.figures_for("Qwen/Qwen3-30B-A3B", "non-thinking")}
    new = {f.benchmark: f.value for f in caps.figures_for("Qwen/Qwen3-30B-A3B-Instruct-2507", "non-thinking")}
    assert old["mmlu-pro"] != new["mmlu-pro"]
    sizes = ["Qwen/Qwen3-0.6B", "Qwen/Qwen3-1.7B", "Qwen/Qwen3-4B", "Qwen/Qwen3-8B", "Qwen/Qwen3-14B", "Qwen/Qwen3-32B"]
    gpqa = [next(f.value for f in caps.figures_for(s, "thinking") if f.benchmark == "gpqa-diamond") for s in sizes]
    assert len(set(gpqa)) == len(gpqa)


# ---------------------------------------------------------------- validation


def test_validation_rejects_a_benchmark_outside_the_vocabulary(tmp_path: Path) -> None:
    data = _mini([{"variant": "a/b", "mode": "default", "source": "card", "figures": {"mmlu-ultra": 50}}])
    with pytest.raises(ValueError, match="not in the vocabulary"):
        load_capabilities(_write(tmp_path, data))


def test_validation_rejects_a_value_out_of_range(tmp_path: Path) -> None:
    data = _mini([{"variant": "a/b", "mode": "default", "source": "card", "figures": {"mmlu-pro": 101}}])
    with pytest.raises(ValueError, match="outside"):
        load_capabilities(_write(tmp_path, data))
    data = _mini([{"variant": "a/b", "mode": "default", "source": "card", "figures": {"lmarena-text": 50}}])
    with pytest.raises(ValueError, match="outside"):
        load_capabilities(_write(tmp_path, data))


def test_validation_rejects_an_unknown_source_and_an_undated_one(tmp_path: Path) -> None:
    data = _mini([{"variant": "a/b", "mode": "default", "source": "nowhere", "figures": {"mmlu-pro": 50}}])
    with pytest.raises(ValueError, match="unknown source"):
        load_capabilities(_write(tmp_path, data))
    data = _mini([{"variant": "a/b", "mode": "default", "source": "card", "figures": {"mmlu-pro": 50}}])
    del data["sources"]["card"]["date"]
    with pytest.raises(ValueError):
        load_capabilities(_write(tmp_path, data))
    data["sources"]["card"]["date"] = "last spring"
    with pytest.raises(ValueError):
        load_capabilities(_write(tmp_path, data))


def test_validation_rejects_a_non_numeric_value_and_a_bad_mode(tmp_path: Path) -> None:
    data = _mini([{"variant": "a/b", "mode": "default", "source": "card", "figures": {"mmlu-pro": "high"}}])
    with pytest.raises(ValueError):
        load_capabilities(_write(tmp_path, data))
    data = _mini([{"variant": "a/b", "mode": "turbo", "source": "card", "figures": {"mmlu-pro": 50}}])
    with pytest.raises(ValueError):
        load_capabilities(_write(tmp_path, data))


# ---------------------------------------------------------------- normalisation


@pytest.mark.parametrize("task", TASKS)
def test_normalisation_is_monotone_and_bounded(caps: Capabilities, task: str) -> None:
    for benchmark in TASK_WEIGHTS[task]:
        if caps.pool_size(benchmark) == 0:
            continue
        spec = caps.benchmarks[benchmark]
        grid = [spec.low + (spec.high - spec.low) * i / 200 for i in range(201)]
        values = [caps.normalise(task, benchmark, x) for x in grid]
        assert all(0.0 < v < 1.0 for v in values), benchmark
        assert all(a <= b for a, b in pairwise(values)), benchmark
        # and on the file's own figures
        figures = sorted((f for f in caps.figures if f.benchmark == benchmark), key=lambda f: f.value)
        own = [caps.normalise(task, benchmark, f.value) for f in figures]
        assert all(a <= b for a, b in pairwise(own)), benchmark


def test_a_higher_figure_never_scores_lower_in_a_synthetic_file(tmp_path: Path) -> None:
    scores = []
    for i, value in enumerate([20, 35, 35, 50, 80]):
        scores.append({"variant": f"org/m{i}", "mode": "default", "source": "card", "figures": {"ifeval": value}})
    caps = load_capabilities(_write(tmp_path, _mini(scores)))
    results = [caps.for_task(f"org/m{i}", "instruction-following") for i in range(5)]
    assert all(r is not None and r.measured for r in results)
    got = [r.score for r in results]
    assert got == sorted(got)
    assert got[1] == got[2]  # equal figures, equal scores
    assert caps.for_task("org/m2", "instruction-following").best_figure.value == 35


def test_single_figure_benchmark_is_neutral(tmp_path: Path) -> None:
    data = _mini([{"variant": "org/only", "mode": "default", "source": "card", "figures": {"tmmlu-plus": 61.0}}])
    caps = load_capabilities(_write(tmp_path, data))
    result = caps.for_task("org/only", "traditional-chinese")
    assert result is not None and result.score == pytest.approx(0.5)


def test_equating_puts_a_small_mmlu_only_model_below_larger_ones(caps: Capabilities) -> None:
    # Llama 3.2 3B reports only MMLU; it must not outrank models measured on harder benchmarks.
    small = caps.for_task("meta-llama/Llama-3.2-3B-Instruct", "general")
    assert small is not None and small.benchmarks == ("mmlu",)
    for bigger in ("google/gemma-3-27b-it", "Qwen/Qwen2.5-14B-Instruct", "meta-llama/Llama-3.1-70B-Instruct"):
        assert caps.for_task(bigger, "general").score > small.score, bigger


# ---------------------------------------------------------------- task scores, modes, fallbacks


def test_strong_models_outrank_small_ones_in_general(caps: Capabilities) -> None:
    def score(key: str) -> float:
        result = caps.for_task(key, "general")
        assert result is not None and result.measured, key
        return result.score

    for strong, weak in [
        ("Qwen/Qwen3.5-397B-A17B", "HuggingFaceTB/SmolLM3-3B"),
        ("moonshotai/Kimi-K2.5", "Qwen/Qwen3-4B"),
        ("Qwen/Qwen3-235B-A22B-Instruct-2507", "Qwen/Qwen3-4B-Instruct-2507"),
        ("Qwen/Qwen3-30B-A3B-Instruct-2507", "Qwen/Qwen2.5-3B-Instruct"),
        ("google/gemma-4-31B-it", "google/gemma-3-27b-it"),
        ("deepseek-ai/DeepSeek-R1-0528", "deepseek-ai/DeepSeek-R1"),
        ("openai/gpt-oss-120b", "openai/gpt-oss-20b"),
    ]:
        assert score(strong) > score(weak), (strong, weak)
    best = [key for key, _ in caps.ranked("general")[:10]]
    assert "HuggingFaceTB/SmolLM3-3B" not in best and "meta-llama/Llama-3.2-1B-Instruct" not in best


def test_scores_are_in_unit_range_and_carry_their_figures(caps: Capabilities) -> None:
    for key in caps.keys():
        for task in TASKS:
            result = caps.for_task(key, task)
            if result is None:
                continue
            assert 0.0 < result.score < 1.0
            assert result.figures and set(result.benchmarks) == {f.benchmark for f in result.figures}
            assert result.quote == result.best_figure.label
            assert re.search(r"\(.+, \d{4}-\d{2}\)$", result.quote), result.quote


def test_best_mode_is_chosen_and_reported(caps: Capabilities) -> None:
    reasoning = caps.for_task("Qwen/Qwen3-8B", "reasoning")
    assert reasoning.mode == "thinking"
    fast = caps.for_task("Qwen/Qwen3-8B", "reasoning", mode="non-thinking")
    assert fast.mode == "non-thinking" and fast.score < reasoning.score
    assert caps.modes("Qwen/Qwen3-8B") == ["thinking", "non-thinking"]
    assert caps.modes("google/gemma-3-27b-it") == ["default"]


def test_default_figures_apply_to_every_mode(caps: Capabilities) -> None:
    # Gemma 4 31B: card figures are 'default', its LMArena score is 'thinking'; both count.
    result = caps.for_task("google/gemma-4-31B-it", "general")
    assert result.mode == "thinking"
    assert {"mmlu-pro", "gpqa-diamond", "lmarena-text"} <= set(result.benchmarks)


def test_fallbacks_are_reported(caps: Capabilities) -> None:
    coding = caps.for_task("meta-llama/Llama-3.2-1B-Instruct", "coding")
    assert coding is not None and coding.fell_back_to == "general" and not coding.measured
    general = caps.for_task("meta-llama/Llama-3.2-1B-Instruct", "general")
    assert coding.score == pytest.approx(general.score * FALLBACK_FACTOR)
    assert coding.basis.startswith("fallback: general")

    trad = caps.for_task("Qwen/Qwen3-8B", "traditional-chinese")
    assert trad.fell_back_to == "chinese" and trad.benchmarks == ("c-eval",)
    assert trad.score == pytest.approx(caps.for_task("Qwen/Qwen3-8B", "chinese").score * FALLBACK_FACTOR)

    # no Chinese figure either: two steps down to general
    trad2 = caps.for_task("meta-llama/Llama-3.3-70B-Instruct", "traditional-chinese")
    assert trad2.fell_back_to == "general"
    assert trad2.score == pytest.approx(caps.for_task("meta-llama/Llama-3.3-70B-Instruct", "general").score * FALLBACK_FACTOR**2)

    measured = caps.for_task("yentinglin/Llama-3-Taiwan-8B-Instruct", "traditional-chinese")
    assert measured.measured and measured.benchmarks == ("tmmlu-plus",)


def test_every_fallback_chain_names_known_tasks() -> None:
    assert set(FALLBACKS) == set(TASKS) == set(TASK_WEIGHTS)
    for task, chain in FALLBACKS.items():
        assert task not in chain and set(chain) <= set(TASKS)
    assert FALLBACKS["vision"] == ()


def test_unmeasured_is_none_with_a_reason(caps: Capabilities) -> None:
    assert caps.for_task("example/never-heard-of-it", "general") is None
    assert caps.missing_reason("example/never-heard-of-it", "general").startswith(NOT_MEASURED)
    # a text model has no vision figure and vision never borrows from text benchmarks
    assert caps.for_task("meta-llama/Llama-3.3-70B-Instruct", "vision") is None
    assert "vision" in caps.missing_reason("meta-llama/Llama-3.3-70B-Instruct", "vision")
    # only a TMMLU+ figure: nothing for general, even after the fallbacks
    assert caps.for_task("yentinglin/Llama-3-Taiwan-8B-Instruct", "general") is None
    assert caps.missing_reason("yentinglin/Llama-3-Taiwan-8B-Instruct", "general").startswith(NOT_MEASURED)
    assert caps.missing_reason("Qwen/Qwen3-8B", "general") is None
    with pytest.raises(ValueError):
        caps.for_task("Qwen/Qwen3-8B", "poetry")


def test_lookup_by_name_forms(caps: Capabilities) -> None:
    key = "Qwen/Qwen3-30B-A3B-Instruct-2507"
    assert caps.resolve(key) == key
    assert caps.resolve("qwen/qwen3-30b-a3b-instruct-2507") == key
    assert caps.resolve("Qwen3-30B-A3B-Instruct-2507") == key
    assert caps.resolve("qwen3 30b a3b instruct 2507") == key
    assert caps.for_task("Qwen3-30B-A3B-Instruct-2507", "general").variant == key


def test_own_publication_wins_over_a_comparison_column(tmp_path: Path) -> None:
    scores = [
        {"variant": "org/m", "mode": "default", "source": "other", "column": "m", "figures": {"mmlu-pro": 60.0}},
        {"variant": "org/m", "mode": "default", "source": "card", "figures": {"mmlu-pro": 55.0}},
        {"variant": "org/m", "mode": "default", "source": "board", "figures": {"gpqa-diamond": 40.0}},
        {"variant": "org/n", "mode": "default", "source": "card", "figures": {"mmlu-pro": 70.0, "gpqa-diamond": 50.0}},
    ]
    caps = load_capabilities(_write(tmp_path, _mini(scores)))
    kept = {f.benchmark: f for f in caps.figures_for("org/m")}
    assert kept["mmlu-pro"].value == 55.0 and kept["mmlu-pro"].own
    assert len(caps.all_figures) == 5 and len(caps.figures) == 4
    result = caps.for_task("org/m", "general")
    assert result.best_figure.benchmark == "mmlu-pro"  # weight 1.0, own publication
    assert "(" in result.quote and "2026-01" in result.quote


def test_ranked_orders_by_score_and_puts_unmeasured_last(caps: Capabilities) -> None:
    keys = ["example/unknown", "Qwen/Qwen3-0.6B", "Qwen/Qwen3.5-397B-A17B", "Qwen/Qwen3-8B"]
    ranked = caps.ranked("general", keys)
    assert [k for k, _ in ranked] == ["Qwen/Qwen3.5-397B-A17B", "Qwen/Qwen3-8B", "Qwen/Qwen3-0.6B", "example/unknown"]
    assert ranked[-1][1] is None
