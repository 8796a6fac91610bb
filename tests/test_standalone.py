"""The project stands alone (issue 20, item 1): nothing reads files outside the repository, and
the eval and bench readers take every row shape of the question format (`q`, `turns`, and the
judged sets' extra fields).

The clone test copies the committed repository into an empty folder (nothing beside it) and runs
the bench's and the eval's question loaders there, in a new process.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.evaluation import QuestionFileError, load_questions, opening_questions

from .conftest import ROOT

OUTSIDE = "sha" + "red"  # the team folder beside the repository (spelled apart so this file passes its own scan)
OUTSIDE_PATTERNS = [
    re.compile(r"\.\./" + OUTSIDE + r"\b"),
    re.compile(r"/work/" + OUTSIDE + r"\b"),
    re.compile(r"parents?\b[^\n]{0,40}?/\s*[\"']" + OUTSIDE + r"[\"']"),
    re.compile(r"\.parent\s*/\s*[\"']" + OUTSIDE + r"[\"']"),
]


def tracked_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"not a git checkout: {exc}")
    return [ROOT / name for name in out.decode().split("\0") if name]


def test_no_code_or_test_reads_outside_the_repository():
    scanned, found = 0, []
    for path in tracked_files():
        rel = path.relative_to(ROOT)
        if rel.parts[0] not in ("assistant", "tests", "tools") and rel.name not in ("Makefile", "app.py", "pyproject.toml"):
            continue
        if path.suffix not in (".py", ".toml", "") or not path.is_file():
            continue
        scanned += 1
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(p.search(line) for p in OUTSIDE_PATTERNS):
                found.append(f"{rel}:{n}: {line.strip()}")
    assert scanned > 50
    assert not found, found


def test_default_question_files_are_in_the_repository():
    from assistant.bench import OWN_QUESTIONS, PUBLIC_QUESTIONS
    from assistant.cli import PUBLIC_EVAL_FILES

    for path in (*PUBLIC_EVAL_FILES, PUBLIC_QUESTIONS, OWN_QUESTIONS):
        assert path.is_file() and ROOT in path.resolve().parents, path
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "PUBLIC_EVAL ?= eval/public" in makefile


# ------------------------------------------------------------------ every row shape


ROWS = [
    {"id": "q1", "kind": "fact", "q": "Phi 4 可以商用嗎？", "any": ["mit"]},
    {"id": "t1", "kind": "followup", "turns": ["推薦一個 16GB 的模型", "那它可以商用嗎？"], "any": ["可"],
     "first_sentence_any": ["可"], "none_any": ["不可"]},
    {"id": "j1", "kind": "constraint", "lang": "en", "q": "RTX 3060 12GB, commercial SaaS. What should I run?",
     "expected": "A 12 GB fit under Apache 2.0.", "must_mention": ["Apache 2.0"], "must_not": ["gpt-oss-120b"],
     "first_sentence": "names one model that fits", "any": ["gemma"], "first_sentence_any": ["gemma"],
     "none_top": ["llama"], "traditional_only": False},
    {"id": "j2", "kind": "followup", "turns": ["Kimi K2 是哪家做的？", "那我想自己架，硬體門檻會很高嗎？"],
     "expected": "Yes, very high.", "must_mention": ["Moonshot"], "must_not": [], "first_sentence": "yes", "any": ["高"],
     "all_of_groups": [["高"], ["gpu", "顯示卡"]]},
]


def write_rows(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n", encoding="utf-8")
    return path


def test_every_row_shape_loads(tmp_path):
    q1, t1, j1, j2 = load_questions(write_rows(tmp_path / "rows.jsonl", ROWS))
    assert (q1.q, q1.turns, q1.asked) == ("Phi 4 可以商用嗎？", (), ["Phi 4 可以商用嗎？"])
    assert t1.q == "那它可以商用嗎？" and t1.asked == ["推薦一個 16GB 的模型", "那它可以商用嗎？"]
    assert t1.opening == "推薦一個 16GB 的模型" and t1.none_any == ("不可",)
    assert (j1.lang, j1.expected, j1.must_mention, j1.must_not, j1.first_sentence) == (
        "en", "A 12 GB fit under Apache 2.0.", ("Apache 2.0",), ("gpt-oss-120b",), "names one model that fits")
    assert j1.none_top == ["llama"] and j1.first_sentence_any == ("gemma",)
    assert j2.turns and j2.all_of_groups == [["高"], ["gpu", "顯示卡"]] and j2.lang == "zh-TW"
    assert opening_questions([q1, t1, j1, j2]) == [
        "Phi 4 可以商用嗎？", "推薦一個 16GB 的模型", "RTX 3060 12GB, commercial SaaS. What should I run?", "Kimi K2 是哪家做的？"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"id": "x", "any": ["a"]}, "q or turns"),
        ({"id": "x", "q": "   "}, "'q' is empty"),
        ({"id": "x", "turns": "一句話"}, "'turns' must be a list of strings"),
        ({"id": "x", "turns": []}, "at least one non-empty message"),
        ({"id": "x", "turns": ["a", ""]}, "at least one non-empty message"),
        ({"id": "x", "q": "b", "turns": ["a", "c"]}, "end its turns with q"),
        ({"id": "x", "q": "a", "any": "mit"}, "'any' must be a list of strings"),
        ({"id": "x", "q": "a", "all_of_groups": ["mit"]}, "all_of_groups"),
        ({"id": "x", "q": "a", "traditional_only": "yes"}, "traditional_only"),
        ({"id": "x", "q": "a", "expected": ["x"]}, "'expected' must be a string"),
        ({"q": "a"}, "id"),
        (["q", "a"], "JSON object"),
    ],
)
def test_a_bad_row_names_its_line(tmp_path, row, message):
    path = write_rows(tmp_path / "bad.jsonl", [ROWS[0], row])
    with pytest.raises(QuestionFileError, match=rf"bad\.jsonl:2: .*{re.escape(message)}"):
        load_questions(path)


def test_the_repositorys_question_files_all_load():
    files = sorted((ROOT / "eval").rglob("*.jsonl"))
    question_files = [p for p in files if "validator_labels" not in p.name]
    assert len(question_files) >= 8
    for path in question_files:
        questions = load_questions(path)
        assert questions and len({q.id for q in questions}) == len(questions), path
        assert all(q.q.strip() and all(t.strip() for t in q.asked) for q in questions), path


def test_bench_reads_conversations_without_a_key_error(tmp_path, monkeypatch):
    """The regression of issue 20: a `turns` row read as if it had `q` (KeyError 'q')."""
    from assistant import bench

    path = write_rows(tmp_path / "turns-only.jsonl", [ROWS[1], ROWS[3]])
    assert bench._public_questions(path) == ["推薦一個 16GB 的模型", "Kimi K2 是哪家做的？"]
    monkeypatch.setattr(bench, "OWN_QUESTIONS", path)
    assert bench._bench_questions(1000)[-2:] == ["推薦一個 16GB 的模型", "Kimi K2 是哪家做的？"]
    monkeypatch.setattr(bench, "OWN_QUESTIONS", tmp_path / "missing.jsonl")
    assert bench._bench_questions(3)  # the examples alone still time grounded answers
    with pytest.raises(QuestionFileError, match="cannot read"):
        bench._public_questions(tmp_path / "missing.jsonl")


# ------------------------------------------------------------------ a clone with nothing beside it


CLONE_SCRIPT = r"""
import json, sys
from pathlib import Path
import assistant
from assistant import bench
from assistant.cli import PUBLIC_EVAL_FILES
from assistant.evaluation import load_questions
root = Path.cwd()
files = sorted(p for p in (root / "eval").rglob("*.jsonl") if "validator_labels" not in p.name)
print(json.dumps({
    "package": str(Path(assistant.__file__).resolve().parent),
    "public": bench._public_questions(),
    "bench": bench._bench_questions(10_000),
    "eval_defaults": [str(p) for p in PUBLIC_EVAL_FILES if p.is_file()],
    "files": {str(p.relative_to(root)): len(load_questions(p)) for p in files},
}, ensure_ascii=False))
"""


def test_a_clone_alone_runs_the_bench_and_eval_loaders(tmp_path):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    alone = tmp_path / "alone"  # the clone's parent holds nothing else: no team folder beside it
    alone.mkdir()
    clone = alone / "repo"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)], check=True, timeout=300,
                   capture_output=True)
    assert sorted(p.name for p in alone.iterdir()) == ["repo"]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(clone), "HOME": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", CLONE_SCRIPT], cwd=clone, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(out["package"]) == (clone / "assistant").resolve()  # the clone's code, not this checkout's
    assert len(out["public"]) >= 20 and all(isinstance(q, str) and q for q in out["public"])
    own = load_questions(ROOT / "eval" / "questions.jsonl")
    assert len(out["bench"]) >= len(own) and any(q.turns and q.opening in out["bench"] for q in own)
    assert len(out["eval_defaults"]) == 2 and all(str(clone) in p for p in out["eval_defaults"])
    assert out["files"]["eval/questions.jsonl"] == len(own)
    assert {"eval/public/questions.jsonl", "eval/public/questions-conversation.jsonl"} <= set(out["files"])
    assert any(name.startswith("eval/judged/") for name in out["files"])
