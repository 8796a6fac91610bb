"""Issue 21's probes, re-run against the live app on loopback, each one bounded.

Each test repeats one probe that found a defect (numbered as in the issue) and asserts the
bound the fix promises; run with `-s` to see the figures (RELIABILITY.md, "Issue 21 probes"):

1. 150 requests carrying ~1 MiB of chat history: server memory growth < 100 MB;
2. every file that used to be memory-mapped (the index's `embeddings.npy`, the embedder's
   cached weights) copied over, cut short, or overwritten with random bytes in place: the
   server keeps answering, notices, and rebuilds; a restart repairs the cache;
3. a malformed history (`[{}] × 30000`, 117 KB) writes < 10 KB of log;
4. no upload route: 40 uploads without signing in write nothing;
5. 40 questions while `python -m assistant index --force` rebuilds the index the app
   serves: 0 errors;
6. the same with a Chroma server, and a Chroma kill and restart: 0 error replies (keyword
   search with a notice meanwhile); the app starts without Chroma;
7. a hung model server is marked down after one timeout and retried in the background;
   users waiting for it get the grounded answer at once;
8. rotating `X-Forwarded-For` still reaches 429; `X-Forwarded-Host` is not reflected;
   CORS only for the app's own origin;
9. a full disk during `index --force` keeps the old index and prints one sentence;
10. the minor items: 100,000-deep JSON, an unknown API name, a deep `--history` file,
   `ASSISTANT_AUTH=" : "`, plain-string history content.

The tests run in file order (the real-embedder app answers the rebuild probe before its
files are damaged).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import pytest

from .conftest import KNOWLEDGE, ROOT, free_port
from .test_server import AppProcess, app_env, call_api, decoded, events, get, post

pytestmark = pytest.mark.slow

ERROR_REPLY = ("抱歉，這次回答時發生錯誤", "Sorry, something went wrong")


def rss_mb(pid: int) -> float:
    import psutil

    return psutil.Process(pid).memory_info().rss / 2**20


def answer_of(body: str) -> tuple[str, str]:
    """(the last assistant message, the status line) of a chat event stream ('' when none)."""
    complete = [data for event, data in events(body) if event == "complete"]
    if not complete:
        return "", ""
    chat, status = complete[-1][0], complete[-1][5]
    content = chat[-1]["content"] if chat else ""
    text = content[0]["text"] if isinstance(content, list) and content else str(content)
    return text, status if isinstance(status, str) else ""


def ask(port: int, question: str = "Phi 4 有多大？", history: list | None = None) -> tuple[bool, str, str]:
    """(answered without error, answer, status) for one grounded chat question."""
    try:
        status, body = call_api(port, "chat", [question, history or [], "grounded", "auto"], timeout_s=60)
    except OSError as exc:
        return False, f"connection failed: {exc}", ""
    answer, line = answer_of(body)
    kinds = [event for event, _ in events(body)]
    ok = status == 200 and "error" not in kinds and bool(answer) and not any(e in answer for e in ERROR_REPLY)
    return ok, answer, line


def cli(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=timeout)


def wait_for(predicate, timeout_s: float, step_s: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step_s)
    return predicate()


# ------------------------------------------------------------------ one app for the cheap probes


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    server = AppProcess(tmp_path_factory.mktemp("reliability-app"))
    server.wait_until_warm()
    yield server
    server.stop()


def test_1_large_histories_keep_server_memory_bounded(app):
    """150 chat requests, each carrying 8,000 well-formed turns (just under 1 MiB): each is
    answered with a notice that the history was trimmed, and the server grows < 100 MB."""
    history = [{"role": "user" if i % 2 == 0 else "assistant",
                "content": [{"type": "text", "text": f"turn {i:05d} " + "x" * 50}]} for i in range(8000)]
    body = json.dumps({"data": ["Phi 4 有多大？", history, "grounded", "auto"]})
    assert 900_000 < len(body.encode()) < 1_048_576

    def one(_: int) -> tuple[bool, str]:
        status, raw = post(app.port, "/gradio_api/call/chat", json.loads(body))
        if status != 200:
            return False, raw.decode()[:200]
        event_id = json.loads(raw)["event_id"]
        conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=120)
        try:
            conn.request("GET", f"/gradio_api/call/chat/{event_id}")
            stream = conn.getresponse().read().decode("utf-8", "replace")
        finally:
            conn.close()
        answer, line = answer_of(stream)
        return "Phi-4" in answer and "只保留最近" in line, line

    time.sleep(1.0)
    before = rss_mb(app.proc.pid)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(one, range(150)))
    seconds = time.perf_counter() - started
    time.sleep(2.0)
    after = rss_mb(app.proc.pid)
    print(f"\n[memory] 150 requests × 8,000 turns ({len(body) / 2**20:.2f} MiB each) in {seconds:.1f} s: "
          f"RSS {before:.0f} → {after:.0f} MB (+{after - before:.1f} MB); answered {sum(ok for ok, _ in results)}/150; "
          f"status: {results[-1][1][:60]}")
    assert all(ok for ok, _ in results), [line for ok, line in results if not ok][:3]
    assert after - before < 100


def test_3_a_malformed_history_writes_one_short_log_line(app):
    """`[{}] × 30000` (117 KB) made Gradio print one validation traceback per turn (9.2 MB).
    Now: a 422 with a one-line reason, and < 10 KB of log. A second shape that passes the
    history check but fails inside Gradio (a mode value of 30,000 items) is bounded too."""
    shapes = {
        "[{}] × 30000": ["Phi 4 有多大？", [{}] * 30000, "grounded", "auto"],
        "a 30,000-item mode value": ["Phi 4 有多大？", [], ["grounded"] * 30000, "auto"],
    }
    for name, data in shapes.items():
        before = app.log.stat().st_size
        status, body = post(app.port, "/gradio_api/call/chat", {"data": data})
        if status == 200:
            event_id = json.loads(body)["event_id"]
            get(app.port, f"/gradio_api/call/chat/{event_id}")
        time.sleep(0.5)
        grown = app.log.stat().st_size - before
        print(f"\n[log] {name} ({len(json.dumps(data)) / 1024:.0f} KB): HTTP {status}, {grown} bytes of log")
        assert grown < 10_000, (name, grown, app.output()[-1500:])
        if name.startswith("[{}]"):
            assert status == 422 and b"message 1 of 30000" in body
    assert ask(app.port)[0]  # still answering


def test_4_no_upload_route_without_a_file_component(app):
    cache = app.data_dir.parent / "gradio-tmp"
    files_before = sum(1 for p in cache.rglob("*") if p.is_file()) if cache.exists() else 0
    started = time.perf_counter()
    statuses = []
    for n in range(40):
        conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
        try:
            boundary = "----probe"
            payload = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"f{n}.bin\"\r\n"
                       f"Content-Type: application/octet-stream\r\n\r\n").encode() + os.urandom(1_000_000) + \
                f"\r\n--{boundary}--\r\n".encode()
            conn.request("POST", "/gradio_api/upload", body=payload,
                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
        finally:
            conn.close()
    files_after = sum(1 for p in cache.rglob("*") if p.is_file()) if cache.exists() else 0
    print(f"\n[uploads] 40 × 1 MB POST /gradio_api/upload in {time.perf_counter() - started:.2f} s: "
          f"statuses {sorted(set(statuses))}, files in the Gradio cache {files_before} → {files_after}")
    assert set(statuses) == {404} and files_after == files_before
    assert get(app.port, "/gradio_api/deep_link?session_hash=abcdefgh")[0] == 404


def test_10_minor_inputs_get_clear_4xx_answers(app):
    deep = "[" * 100_000 + "]" * 100_000
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
    try:
        conn.request("POST", "/gradio_api/call/chat", body='{"data": ' + deep + "}",
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        deep_status, deep_body = response.status, response.read()
    finally:
        conn.close()
    unknown_status, unknown_body = post(app.port, "/gradio_api/call/no_such_api", {"data": []})
    plain = ask(app.port, "那它可以商用嗎？",
                [{"role": "user", "content": "Phi 4 有多大？"}, {"role": "assistant", "content": "Phi-4 有 14.7B 參數。"}])
    print(f"\n[minor] 100,000-deep JSON: {deep_status}; unknown API name: {unknown_status}; "
          f"plain-string history answered: {plain[0]}")
    assert deep_status == 422 and b"nested deeper" in deep_body
    assert unknown_status == 404 and b"no_such_api" in unknown_body and b"/gradio_api/info" in unknown_body
    assert plain[0] and "MIT" in plain[1]


def test_10_minor_cli_and_settings_exit_2(tmp_path):
    history = tmp_path / "history.json"
    history.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_DATA_DIR=str(tmp_path / "data"), ASSISTANT_EMBEDDER="fake-64", ASSISTANT_KNOWLEDGE_DIR=str(KNOWLEDGE))
    results = {}
    for name, content in {"100,000-deep": "[" * 100_000 + "]" * 100_000, "not JSON": "[", "a turn without content": "[{}]",
                          "not a list": '{"role": "user"}'}.items():
        history.write_text(content, encoding="utf-8")
        done = cli(env, "ask", "Phi 4 有多大？", "--no-llm", "--history", str(history), timeout=120)
        results[name] = done.returncode
        assert done.returncode == 2 and "Traceback" not in done.stderr and done.stderr.count("\n") == 1, (name, done.stderr)
    refused = subprocess.run([sys.executable, "app.py", "--port", str(free_port())], cwd=ROOT, capture_output=True,
                             text=True, timeout=120, env=app_env(tmp_path / "data2", ASSISTANT_AUTH=" : "))
    print(f"\n[minor] --history exit codes {results}; ASSISTANT_AUTH=' : ' exit {refused.returncode}")
    assert refused.returncode == 2 and "user:password" in refused.stderr


# ------------------------------------------------------------------ the real embedder: rebuilds and in-place changes


@pytest.fixture(scope="module")
def real_app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reliability-real")
    server = AppProcess(tmp, ASSISTANT_EMBEDDER="use-m3")
    server.wait_until_warm()
    server.tmp = tmp  # type: ignore[attr-defined]
    yield server
    server.stop()


def _asking(port: int, stop: threading.Event, results: list, pause_s: float = 0.05) -> None:
    questions = ["Phi 4 有多大？", "Gemma 3 可以商用嗎？", "Which models fit in 16 GB?", "Qwen3 的授權是什麼？"]
    n = 0
    while not stop.is_set():
        ok, answer, _ = ask(port, questions[n % len(questions)])
        results.append((time.monotonic(), ok, answer))
        n += 1
        time.sleep(pause_s)


def test_5_questions_during_index_force_get_no_errors(real_app):
    """`python -m assistant index --force` on the data directory the app serves (the README's
    flow) while two users keep asking: every question is answered, before, during and after
    the switch to the new index."""
    env = app_env(real_app.data_dir, ASSISTANT_EMBEDDER="use-m3")
    manifest_before = (real_app.data_dir / "manifest.json").read_bytes()
    stop, results = threading.Event(), []
    askers = [threading.Thread(target=_asking, args=(real_app.port, stop, results)) for _ in range(2)]
    for thread in askers:
        thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    build = subprocess.Popen([sys.executable, "-m", "assistant", "index", "--force"], cwd=ROOT,
                             env={**env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = build.communicate(timeout=300)
    finally:
        finished = time.monotonic()
        # Keep asking until the app has loaded the new index and then some.
        time.sleep(3.0)
        stop.set()
        for thread in askers:
            thread.join(timeout=120)
    during = [r for r in results if started <= r[0] <= finished]
    errors = [r for r in results if not r[1]]
    print(f"\n[rebuild] index --force took {finished - started:.1f} s (exit {build.returncode}); "
          f"{len(during)} questions during it, {len(results)} in all, {len(errors)} errors")
    assert build.returncode == 0, err
    assert (real_app.data_dir / "manifest.json").read_bytes() != manifest_before  # switched to the new index
    assert len(during) >= 40, "the build finished before 40 questions were asked: too fast to measure"
    assert errors == [], errors[:3]


def _damage(path: Path, how: str, backup: Path | None = None) -> None:
    if how == "truncate":
        os.truncate(path, min(100, path.stat().st_size))
    elif how == "random":
        size = path.stat().st_size
        with open(path, "r+b") as handle:  # in place: same inode, same size
            handle.seek(min(128, size // 2))
            handle.write(os.urandom(max(1, min(4096, size - min(128, size // 2)))))
    elif how == "copy":
        assert backup is not None
        with open(path, "r+b") as handle:  # what `cp backup file` does: truncate, then write
            handle.truncate(0)
            handle.write(backup.read_bytes())


def test_2_in_place_changes_to_mapped_files_never_kill_the_server(real_app):
    """Every file that used to be memory-mapped (`embeddings.npy` and the embedder's cached
    weights), cut short, overwritten with random bytes in place, or copied over with an
    identical backup, with a question after each: the server answers every one (the copies
    in memory are used), notices the changed index file, rebuilds it, and logs it; a restart
    finds the damaged embedder cache, says so and rewrites it."""
    data = real_app.data_dir
    cache = next((data / "cache").glob("use-m3-*"))
    weights = sorted(cache.glob("*.npy"))
    targets = [data / "embeddings.npy", *weights]
    backups = {p: p.read_bytes() for p in targets}
    answered, asked = 0, 0
    for how in ("copy", "truncate", "random"):
        for path in targets:
            if how == "copy":
                scratch = real_app.tmp / "backup.bin"  # type: ignore[attr-defined]
                scratch.write_bytes(backups[path])
                _damage(path, "copy", scratch)
            else:
                _damage(path, how)
        for question in ("Phi 4 有多大？", "Which models fit in 16 GB?"):
            ok, answer, _ = ask(real_app.port, question)
            asked += 1
            answered += ok
            assert real_app.proc.poll() is None, f"the server died after '{how}': exit {real_app.proc.returncode}"
            assert ok, (how, answer)
    # The index file changed on disk: the next question (2 s on) notices it, logs it, and
    # starts a rebuild in the background; answers keep coming from memory meanwhile.
    manifest = (data / "manifest.json").read_bytes()
    assert wait_for(lambda: ask(real_app.port)[0] and "index file changed on disk" in real_app.output(), 30, 0.5)
    assert wait_for(lambda: ask(real_app.port)[0] and (data / "manifest.json").read_bytes() != manifest, 180, 0.5)
    from assistant.config import Settings
    from assistant.index import search_files_problem

    settings = Settings(data_dir=data, knowledge_dir=KNOWLEDGE, embedder="use-m3")
    assert wait_for(lambda: search_files_problem(settings, json.loads(settings.manifest_path.read_text("utf-8"))) is None, 30)
    ok, answer, _ = ask(real_app.port)
    assert ok and "14.7B" in answer
    print(f"\n[in place] {len(targets)} files (embeddings.npy + {len(weights)} cached weight arrays) copied over, "
          f"cut to 100 bytes, overwritten with random bytes: {answered}/{asked} questions answered, server alive; "
          "index rebuilt in the background")
    # A restart: the embedder cache is damaged on disk (cut short, then random bytes): found and rewritten.
    real_app.stop()
    restarted = AppProcess(real_app.tmp, ASSISTANT_EMBEDDER="use-m3")  # type: ignore[attr-defined]
    try:
        restarted.wait_until_warm()
        assert "embedder cache" in restarted.output() and "damaged" in restarted.output()
        ok, answer, _ = ask(restarted.port)
        assert ok and "14.7B" in answer
        assert not any("damaged" in line for line in restarted.output().splitlines()[-5:])
    finally:
        restarted.stop()


# ------------------------------------------------------------------ Chroma server


class ChromaProcess:
    """`chroma run` on a fixed loopback port and folder, so it can be killed and restarted."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder, self.port = folder, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        chroma = Path(sys.executable).parent / "chroma"
        log = (self.folder / "chroma.log").open("ab")
        self.proc = subprocess.Popen([str(chroma), "run", "--path", str(self.folder / "db"), "--host", "127.0.0.1",
                                      "--port", str(self.port)], stdout=log, stderr=subprocess.STDOUT)
        log.close()

        def up() -> bool:
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2) as response:
                    return response.status == 200
            except OSError:
                return False

        if not wait_for(up, 60, 0.3):
            self.kill()
            pytest.fail(f"chroma did not start: {(self.folder / 'chroma.log').read_text(errors='replace')[-2000:]}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)


def test_6_chroma_rebuild_kill_and_restart_give_no_error_replies(tmp_path):
    """With `ASSISTANT_CHROMA_URL`: questions keep coming while (a) `index --force` rebuilds the
    index on the server, (b) the Chroma server is killed, (c) it is started again. No reply is
    an error; during the outage answers carry the keyword-search notice; after the restart
    they do not."""
    chroma = ChromaProcess(tmp_path / "chroma-folder")
    (tmp_path / "chroma-folder").mkdir()
    (tmp_path / "app").mkdir()
    chroma.start()
    try:
        app = AppProcess(tmp_path / "app", ASSISTANT_CHROMA_URL=chroma.url, ASSISTANT_COLLECTION="probe")
    except BaseException:
        chroma.kill()
        raise
    stop, results = threading.Event(), []
    asker = threading.Thread(target=_asking, args=(app.port, stop, results, 0.1))
    try:
        app.wait_until_warm()
        asker.start()
        time.sleep(1.0)
        env = app_env(app.data_dir, ASSISTANT_CHROMA_URL=chroma.url, ASSISTANT_COLLECTION="probe")
        build_started = time.monotonic()
        rebuilt = cli(env, "index", "--force")
        build_done = time.monotonic()
        assert rebuilt.returncode == 0, rebuilt.stderr
        time.sleep(3.0)  # the app picks up the new generation (it looks every 2 s)
        chroma.kill()
        killed = time.monotonic()
        time.sleep(6.0)
        chroma.start()
        restarted = time.monotonic()
        time.sleep(6.0)
    finally:
        stop.set()
        if asker.is_alive():
            asker.join(timeout=120)
        app.stop()
        chroma.kill()

    def notice(answer: str) -> bool:
        return "關鍵字檢索" in answer or "keyword search" in answer

    errors = [r for r in results if not r[1]]
    during_build = [r for r in results if build_started <= r[0] <= build_done]
    outage = [r for r in results if killed + 0.5 <= r[0] <= restarted]
    after = [r for r in results if r[0] >= restarted + 3.0]
    print(f"\n[chroma] {len(results)} questions: {len(during_build)} during index --force on the server, "
          f"{len(outage)} while Chroma was down ({sum(notice(r[2]) for r in outage)} with the keyword-search notice), "
          f"{len(after)} after the restart; {len(errors)} error replies")
    assert errors == [], errors[:3]
    assert during_build and outage and after
    assert all(r[1] for r in outage)
    assert not any(notice(r[2]) for r in after[-3:])


def test_6_the_app_starts_and_answers_while_chroma_is_down(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    app = AppProcess(tmp_path, ASSISTANT_CHROMA_URL=dead)
    try:
        app.wait_until_warm()
        assert "Chroma 伺服器連不上" in app.output()
        status, body = call_api(app.port, "chat", ["Phi 4 有多大？", [], "grounded", "auto"])
        assert status == 200 and "Phi-4" in decoded(body) and "關鍵字檢索" in decoded(body)
    finally:
        app.stop()
    env = app_env(tmp_path / "cli-data", ASSISTANT_CHROMA_URL=dead)
    asked = cli(env, "ask", "Phi 4 有多大？", "--no-llm", timeout=120)
    index = cli(env, "index", timeout=120)
    print(f"\n[chroma down] app started and answered; `ask` exit {asked.returncode}; `index` exit {index.returncode}: "
          f"{index.stderr.strip()[:120]}")
    assert asked.returncode == 0 and "Phi-4" in asked.stdout and "關鍵字檢索" in asked.stdout, asked.stderr
    assert index.returncode == 1 and "Traceback" not in index.stderr and "Chroma" in index.stderr


# ------------------------------------------------------------------ a hung model server


class HungEndpoint(BaseHTTPRequestHandler):
    """Lists its model; completions hang (up to `hang_s`) until `answering` is set."""

    answering = threading.Event()
    hang_s = 20.0

    def log_message(self, *args):
        pass

    def _json(self, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        self._json({"object": "list", "data": [{"id": "hung-model", "object": "model"}]})

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not type(self).answering.wait(type(self).hang_s):
            return
        self._json({"choices": [{"message": {"role": "assistant", "content": "ok"}, "finish_reason": "length"}]})


def test_7_a_hung_model_server_is_marked_down_at_once_and_revived_in_the_background():
    from assistant import llm_health
    from assistant.server import ModelSlot, guarded_chat

    handler = type("Hung", (HungEndpoint,), {"answering": threading.Event(), "hang_s": 20.0})
    endpoint = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    endpoint.daemon_threads = True
    threading.Thread(target=endpoint.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{endpoint.server_address[1]}/v1"
    health = llm_health.EndpointHealth(url, llm_health.completion_probe(url, "hung-model", timeout_s=0.5),
                                       timeout_s=1.0, retry_s=0.3, max_retry_s=0.6)
    slot = ModelSlot(max_waiting=8)
    timeout_s = 1.0

    def respond(assistant, machine, message, chat, mode, language):
        if mode == "llm":  # what a run on the hung server does: time out, then the manager observes it
            try:
                llm_health.completion_probe(url, "hung-model", timeout_s=timeout_s)()
                health.observe("ok")
            except Exception:
                health.observe("timeout")
            yield (chat, "", None, None, None, "llm timed out")
        else:
            yield (chat, "", None, None, None, "grounded")

    def user(n: int) -> tuple[float, str]:
        started = time.perf_counter()
        *_, last = guarded_chat(respond, slot, "llm", "grounded", object(), None, f"Phi 4 {n}", [], "llm", "zh-TW",
                                status_index=5)
        return time.perf_counter() - started, last[5]

    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            waits = list(pool.map(user, range(3)))
        assert health.down
        after_s, after_status = user(3)  # marked down: answered at once, with the reason
        handler.answering.set()  # the server recovers: the background probe notices
        revived = wait_for(lambda: not health.down, 10, 0.1)
    finally:
        health.close()
        endpoint.shutdown()
        endpoint.server_close()
    seconds = sorted(w for w, _ in waits)
    print(f"\n[hung LLM] three users at once: {', '.join(f'{s:.1f}' for s in seconds)} s (before: 60, 120, 180 s "
          f"with a 60 s timeout; here the timeout is {timeout_s:g} s); the next user {after_s:.2f} s; "
          f"revived by the background probe: {revived} after {health.probes} probes")
    assert seconds[-1] < 2 * timeout_s + 0.8  # the ones waiting did not each wait out a timeout
    assert sum("grounded" in status or "暫停" in status for _, status in waits) >= 2
    assert after_s < 0.5 and "暫停" in after_status
    assert revived
    assert llm_health.down_reason() is None


# ------------------------------------------------------------------ proxy headers, CORS


def _login(port: int, password: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/login", body=urlencode({"username": "alice", "password": password}),
                     headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
        response = conn.getresponse()
        response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()


def test_8_rotating_x_forwarded_for_still_reaches_429_and_nothing_else_is_forwarded(tmp_path):
    app = AppProcess(tmp_path, ASSISTANT_AUTH="alice:s3cret-pw", ASSISTANT_LOGIN_BACKOFF_S="30")
    try:
        app.wait_until_warm()
        statuses = [_login(app.port, "wrong", {"X-Forwarded-For": f"10.0.{n // 250}.{n % 250 + 1}"})[0] for n in range(20)]
        other = http.client.HTTPConnection("127.0.0.1", app.port, timeout=10)
        other.request("GET", "/gradio_api/token", headers={"Origin": "http://localhost:9999"})
        response = other.getresponse()
        response.read()
        cors = {k.lower(): v for k, v in response.getheaders()}.get("access-control-allow-origin")
        other.close()
    finally:
        app.stop()
    print(f"\n[proxy] 20 wrong sign-ins with a new X-Forwarded-For each: {statuses.count(400)} × 400, "
          f"{statuses.count(429)} × 429; CORS for a page on http://localhost:9999 reading /gradio_api/token: {cors}")
    assert statuses[:3] == [400, 400, 400] and statuses.count(429) == 17
    assert cors is None


def test_8_x_forwarded_host_is_not_reflected(app):
    """Without auth, POST /login redirects to the app's root URL, which Gradio builds from
    `X-Forwarded-Host` when present: it pointed at https://evil.example."""
    status, headers = _login(app.port, "x", {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"})
    print(f"\n[proxy] POST /login with X-Forwarded-Host: evil.example → {status} {headers.get('location')}")
    assert status == 302 and headers["location"].startswith(f"http://127.0.0.1:{app.port}")
    assert "evil" not in headers["location"]


def test_8_a_named_proxy_is_believed(tmp_path):
    """The control: with ASSISTANT_TRUSTED_PROXIES=127.0.0.1 the forwarded address is the client."""
    app = AppProcess(tmp_path, ASSISTANT_AUTH="alice:s3cret-pw", ASSISTANT_LOGIN_BACKOFF_S="30",
                     ASSISTANT_TRUSTED_PROXIES="127.0.0.1")
    try:
        app.wait_until_warm()
        statuses = [_login(app.port, "wrong", {"X-Forwarded-For": f"10.1.0.{n + 1}"})[0] for n in range(6)]
    finally:
        app.stop()
    assert statuses == [400] * 6  # six different clients behind the proxy, one failure each


# ------------------------------------------------------------------ a full disk


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip()[:100]}); needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


def test_9_a_full_disk_keeps_the_old_index_and_says_so_in_one_sentence(small_disk):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_DATA_DIR=str(small_disk / "data"), ASSISTANT_EMBEDDER="fake-64",
               ASSISTANT_KNOWLEDGE_DIR=str(KNOWLEDGE))
    assert cli(env, "index").returncode == 0
    manifest = (small_disk / "data" / "manifest.json").read_bytes()
    free = shutil.disk_usage(small_disk).free
    (small_disk / "filler").write_bytes(b"\0" * (free - 200_000))
    forced = cli(env, "index", "--force")
    asked = cli(env, "ask", "Phi 4 有多大？", "--no-llm")
    print(f"\n[disk full] index --force exit {forced.returncode}: {forced.stderr.strip()[:160]}…; "
          f"old manifest kept: {(small_disk / 'data' / 'manifest.json').read_bytes() == manifest}; ask exit {asked.returncode}")
    assert forced.returncode == 1 and "Traceback" not in forced.stderr
    assert forced.stderr.strip().count("\n") == 0 and "磁碟空間不足" in forced.stderr and "previous index" in forced.stderr
    assert (small_disk / "data" / "manifest.json").read_bytes() == manifest
    assert not list((small_disk / "data").glob(".build-*"))
    assert asked.returncode == 0 and "14.7B" in asked.stdout
    with contextlib.suppress(OSError):
        (small_disk / "filler").unlink()
