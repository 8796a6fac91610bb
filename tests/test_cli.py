"""`python -m assistant …` as a user runs it: real subprocesses, real chromadb in a temp
dir, the fake embedder (except where the default embedder is the point)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

BRIEF = "我要商用、只有 16GB 筆電，想跑能寫程式的模型，選哪個？"
HEAVY = ("gradio", "llama_cpp", "torch")


def _env(data_dir: Path, embedder: str = "fake-64") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_EMBEDDER=embedder,
        ASSISTANT_DATA_DIR=str(data_dir),
        ASSISTANT_MODELS_DIR=str(data_dir / "models"),
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        PYTHONIOENCODING="utf-8",
    )
    return env


def run_cli(
    data_dir: Path, *args: str, embedder: str = "fake-64", timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        cwd=ROOT,
        env=_env(data_dir, embedder),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
    )


def run_json(data_dir: Path, *args: str) -> dict:
    result = run_cli(data_dir, *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """One data dir (index built on first use) for the read-only commands of this module."""
    return tmp_path_factory.mktemp("cli-data")


# ---------------------------------------------------------------- ask


def test_ask_json_prints_the_documented_keys(data_dir):
    out = run_json(data_dir, "ask", BRIEF, "--json", "--no-llm")
    for key in (
        "question",
        "language",
        "answer",
        "recommendations",
        "excluded",
        "constraints",
        "sources",
        "mode",
        "timings_ms",
    ):
        assert key in out, key
    assert out["question"] == BRIEF
    assert out["language"] == "zh-TW"
    assert out["mode"] == "grounded"
    assert out["answer"].strip()
    assert out["recommendations"]
    for rec in out["recommendations"]:
        assert {"id", "name", "reason", "fit"} <= rec.keys()
        assert rec["reason"]
        assert rec["fit"]["required_gb"] <= 16
    assert out["excluded"]
    for exclusion in out["excluded"]:
        assert {"id", "name", "reason"} <= exclusion.keys()
        assert exclusion["reason"]
    assert out["constraints"]["commercial_required"] is True
    assert out["constraints"]["memory_gb"] == 16
    assert "coding" in out["constraints"]["tasks"]
    assert out["sources"]
    for source in out["sources"]:
        assert {"id", "title", "text", "score"} <= source.keys()
        assert isinstance(source["score"], (int, float))
    assert out["timings_ms"] and all(
        isinstance(v, (int, float)) and v >= 0 for v in out["timings_ms"].values()
    )


def test_ask_json_english(data_dir):
    out = run_json(data_dir, "ask", "Which models have an MIT licence?", "--json", "--no-llm")
    assert out["language"] == "en"
    assert out["plan"]["intent"] == "list"  # a listing question lists every match, first sentence first
    assert "Phi-4" in out["answer"].split("\n")[0]


def test_ask_plain_text_prints_answer_and_sources(data_dir):
    result = run_cli(data_dir, "ask", "Phi 4 有多大？", "--no-llm")
    assert result.returncode == 0, result.stderr
    assert "14.7B" in result.stdout
    assert "catalog:phi-4" in result.stdout


@pytest.mark.parametrize("question", ["", "   ", "\t\n"])
def test_ask_empty_question_exits_2_with_a_message(data_dir, question):
    result = run_cli(data_dir, "ask", question, "--no-llm")
    assert result.returncode == 2
    assert "請輸入問題" in result.stderr or "question" in result.stderr.lower()
    assert result.stdout.strip() == ""
    assert "Traceback" not in result.stderr


def test_search_whitespace_exits_2(data_dir):
    result = run_cli(data_dir, "search", "   ")
    assert result.returncode == 2
    assert result.stderr.strip() and "Traceback" not in result.stderr


def test_ask_history_file_resolves_the_followup(data_dir, tmp_path):
    history = tmp_path / "history.json"
    history.write_text(
        json.dumps(
            [
                {"role": "user", "content": "Phi 4 有多大？"},
                {"role": "assistant", "content": "Phi-4 參數量 14.7B。"},
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    out = run_json(data_dir, "ask", "那它可以商用嗎？", "--json", "--no-llm", "--history", str(history))
    assert "Phi-4" in out["answer"]
    assert "MIT" in out["answer"]
    assert out["constraints"]["mentioned_models"] == ["phi-4"]


def test_ask_history_must_be_a_json_list(data_dir, tmp_path):
    bad = tmp_path / "history.json"
    bad.write_text('{"role": "user"}', encoding="utf-8")
    result = run_cli(data_dir, "ask", "Phi 4 有多大？", "--no-llm", "--history", str(bad))
    assert result.returncode != 0
    assert "list" in result.stderr and "Traceback" not in result.stderr


def test_ask_huge_question_is_truncated_with_a_notice(data_dir):
    # ASCII filler: one argv string may hold at most 128 KiB (MAX_ARG_STRLEN), and CJK is 3 bytes.
    question = "Phi 4 有多大？" + " x" * 50_000
    assert len(question) > 100_000
    result = run_cli(data_dir, "ask", question, "--json", "--no-llm")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "100,0" in result.stderr and ("太長" in result.stderr or "too long" in result.stderr)
    out = json.loads(result.stdout)
    assert len(out["question"]) <= 2000
    assert "14.7B" in out["answer"]


def test_ask_odd_characters_do_not_crash(data_dir):
    result = run_cli(data_dir, "ask", "Phi 4\x07 有多大？😀\u202e", "--json", "--no-llm")
    assert result.returncode == 0, result.stderr
    assert "14.7B" in json.loads(result.stdout)["answer"]


# ---------------------------------------------------------------- search


def test_search_json_shape(data_dir):
    out = run_json(data_dir, "search", "Kimi K2", "--json")
    assert out["query"] == "Kimi K2"
    assert out["results"]
    for result in out["results"]:
        assert {"id", "source", "title", "text", "score"} <= result.keys()
        assert result["source"] in {"article", "catalog", "user"}
        assert isinstance(result["score"], (int, float))
        assert result["title"] and result["text"]
    assert any("Kimi" in r["title"] or "Kimi" in r["text"] for r in out["results"][:3])


def test_search_k_limits_results(data_dir):
    out = run_json(data_dir, "search", "Kimi K2", "--json", "-k", "2")
    assert 1 <= len(out["results"]) <= 2


IMPORT_PROBE = """
import runpy, sys
sys.argv = ["assistant", "search", "phi", "--json"]
try:
    runpy.run_module("assistant", run_name="__main__")
except SystemExit as exit:
    code = exit.code
else:
    code = 0
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))
sys.stderr.write("HEAVY=" + ",".join(heavy) + " CODE=" + str(code) + "\\n")
"""


@pytest.mark.parametrize("embedder", ["fake-64", pytest.param("use-m3", marks=pytest.mark.slow)])
def test_search_does_not_import_heavy_modules(tmp_path, embedder):
    probe = IMPORT_PROBE.replace("set(HEAVY)", repr(set(HEAVY)))
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=_env(tmp_path / "data", embedder),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )
    line = next(line for line in result.stderr.splitlines() if line.startswith("HEAVY="))
    assert line == "HEAVY= CODE=0", result.stderr[-2000:]
    assert json.loads(result.stdout)["results"], "the search ran for real"


# ---------------------------------------------------------------- index


def test_index_twice_is_a_noop_and_force_rebuilds(tmp_path):
    data = tmp_path / "data"
    first = run_cli(data, "index")
    assert first.returncode == 0, first.stderr
    assert "up to date" not in first.stdout and "已是最新" not in first.stdout
    second = run_cli(data, "index")
    assert second.returncode == 0, second.stderr
    assert "索引已是最新" in second.stdout or "up to date" in second.stdout
    forced = run_cli(data, "index", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "up to date" not in forced.stdout
    assert "Rebuilt" in forced.stdout or "重建" in forced.stdout


def test_deleted_data_dir_is_rebuilt(tmp_path):
    import shutil

    data = tmp_path / "data"
    assert run_cli(data, "index").returncode == 0
    shutil.rmtree(data)
    result = run_cli(data, "search", "Phi 4", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["results"]


# ---------------------------------------------------------------- eval


def _write_questions(path: Path) -> Path:
    rows = [
        {"id": "t1", "kind": "fact", "q": "Phi 4 有多大？", "any": ["14.7b"]},
        {
            "id": "t2",
            "kind": "constraint",
            "q": BRIEF,
            "any": ["phi", "qwen", "granite"],
            "none_top": ["kimi", "command"],
        },
        {"id": "t3", "kind": "fact", "q": "How big is Phi 4?", "any": ["14.7B"], "lang": "en"},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def test_eval_json_summary_and_results(data_dir, tmp_path):
    questions = _write_questions(tmp_path / "q.jsonl")
    out = run_json(data_dir, "eval", "--questions", str(questions), "--json", "--no-llm")
    summary = out["summary"]
    for key in (
        "answer_hit_rate",
        "retrieval_hit_at_3",
        "constraint_violations",
        "traditional_only_rate",
        "retrieval_ms",
        "answer_ms",
    ):
        assert key in summary, key
    assert summary["answer_hit_rate"] == 1.0
    assert summary["constraint_violations"] == 0
    assert summary["traditional_only_rate"] == 1.0
    assert 0.0 <= summary["retrieval_hit_at_3"] <= 1.0
    for timing in ("retrieval_ms", "answer_ms"):
        assert {"p50", "p95"} <= summary[timing].keys()
        assert 0 <= summary[timing]["p50"] <= summary[timing]["p95"]
    assert [r["id"] for r in out["results"]] == ["t1", "t2", "t3"]
    for result in out["results"]:
        for key in ("id", "question", "answer", "recommendations", "sources", "timings_ms"):
            assert key in result, key
        assert result["answer"]
        assert 1 <= len(result["sources"]) <= 5
    assert out["results"][1]["recommendations"], "eval fills recommendations"
    assert out["results"][1]["question"] == BRIEF


def test_eval_plain_text_prints_a_summary(data_dir, tmp_path):
    questions = _write_questions(tmp_path / "q.jsonl")
    result = run_cli(data_dir, "eval", "--questions", str(questions), "--no-llm")
    assert result.returncode == 0, result.stderr
    assert "answer hit" in result.stdout and "100.0%" in result.stdout


def test_eval_malformed_question_file_exits_2_with_the_line_number(data_dir, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "q": "Phi 4?", "any": ["phi"]}\n\n{"id": "b", "q": \n', encoding="utf-8")
    result = run_cli(data_dir, "eval", "--questions", str(bad), "--json", "--no-llm")
    assert result.returncode == 2
    assert f"{bad}:3" in result.stderr
    assert "Traceback" not in result.stderr


def test_eval_question_missing_a_field_exits_2(data_dir, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "any": ["phi"]}\n', encoding="utf-8")
    result = run_cli(data_dir, "eval", "--questions", str(bad), "--json", "--no-llm")
    assert result.returncode == 2
    assert ":1" in result.stderr


def test_eval_missing_question_file_exits_2(data_dir, tmp_path):
    result = run_cli(data_dir, "eval", "--questions", str(tmp_path / "nope.jsonl"), "--json", "--no-llm")
    assert result.returncode == 2
    assert "nope.jsonl" in result.stderr


def test_ask_piped_into_a_reader_that_leaves_early_exits_quietly(data_dir):
    """`ask … | head -1`: the reader closes the pipe; no traceback, exit 0."""
    process = subprocess.Popen([sys.executable, "-m", "assistant", "ask", "Phi-4 可以商用嗎？", "--no-llm"], cwd=ROOT,
                               env=_env(data_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = process.stdout.readline()
    process.stdout.close()
    _, err = process.communicate(timeout=300)
    assert b"Phi-4" in first
    assert process.returncode == 0 and b"Traceback" not in err, err.decode("utf-8", "replace")[-2000:]
