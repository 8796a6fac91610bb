"""A real Gradio server on a free loopback port: answers, file routes, auth, busy queue."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .conftest import KNOWLEDGE, ROOT, free_port

pytestmark = pytest.mark.slow

STARTUP_TIMEOUT_S = 120


def app_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "GRADIO_"))}
    env.update(
        ASSISTANT_EMBEDDER="fake-64",
        ASSISTANT_DATA_DIR=str(data_dir),
        ASSISTANT_MODELS_DIR=str(data_dir / "models"),
        ASSISTANT_KNOWLEDGE_DIR=str(KNOWLEDGE),
        GRADIO_TEMP_DIR=str(data_dir.parent / "gradio-tmp"),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """GET with the path sent byte for byte (no client-side normalisation of ../ or %2e)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        custom_host = any(k.lower() == "host" for k in (headers or {}))
        conn.putrequest("GET", path, skip_host=custom_host, skip_accept_encoding=True)
        for key, value in (headers or {}).items():
            conn.putheader(key, value)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def post(port: int, path: str, body: object, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class AppProcess:
    def __init__(self, tmp: Path, **env: str) -> None:
        self.port = free_port()
        self.data_dir = tmp / "data"
        self.log = tmp / "app.log"
        self._log_file = self.log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT,
            env=app_env(self.data_dir, **env),
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.proc.returncode}:\n{self.output()}")
            try:
                status, _ = get(self.port, "/gradio_api/info")
                if status in (200, 401, 403):
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"app.py did not start in {STARTUP_TIMEOUT_S}s:\n{self.output()}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def output(self) -> str:
        self._log_file.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_until_warm(self, timeout_s: float = 120.0) -> None:
        """The app answers before its start-up warm-up question is done; a measurement of
        answers (not of start-up) waits for 「暖機完成」."""
        deadline = time.monotonic() + timeout_s
        while "暖機完成" not in self.output():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"app.py did not finish warming up:\n{self.output()}")
            time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log_file.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = AppProcess(tmp_path_factory.mktemp("server"))
    yield app
    app.stop()


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    app = AppProcess(tmp_path_factory.mktemp("auth-server"), ASSISTANT_AUTH="alice:s3cret-pw")
    yield app
    app.stop()


def call_api(port: int, api_name: str, data: list, headers: dict[str, str] | None = None, timeout_s: float = 60) -> tuple[int, str]:
    """Gradio's REST protocol: POST /gradio_api/call/<name>, then read the event stream."""
    status, body = post(port, f"/gradio_api/call/{api_name}", {"data": data}, headers)
    if status != 200:
        return status, body.decode("utf-8", "replace")
    event_id = json.loads(body)["event_id"]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        conn.request("GET", f"/gradio_api/call/{api_name}/{event_id}", headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def events(body: str) -> list[tuple[str, object]]:
    """(event, decoded data) pairs from a Gradio event stream."""
    out: list[tuple[str, object]] = []
    event = ""
    for line in body.splitlines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            raw = line.split(":", 1)[1].strip()
            try:
                out.append((event, json.loads(raw)))
            except ValueError:
                out.append((event, raw))
    return out


def decoded(body: str) -> str:
    return json.dumps(events(body), ensure_ascii=False)


# ------------------------------------------------------------------ answers


def test_startup_prints_what_it_is_doing(server):
    out = server.output()
    assert "建立索引" in out and "索引已重建" in out and "網頁介面：http://127.0.0.1" in out
    assert "share=True" not in out and "gradio.live" not in out


def test_answers_through_gradio_client_with_a_follow_up(server):
    from gradio_client import Client

    client = Client(server.url, verbose=False)
    from assistant.ui import unlink_citations

    chat, _box, cards, _why, sources, status = client.predict("Phi 4 有多大？", [], "grounded", "auto", api_name="/chat")
    answer = unlink_citations(chat[-1]["content"][0]["text"])  # [n] arrive as links to the sources panel
    assert "Phi-4" in answer and "14.7B" in answer and "[1]" in answer
    assert "Phi-4" in sources and "grounded" in status
    chat, *_ = client.predict("那它可以商用嗎？", chat, "grounded", "auto", api_name="/chat")
    follow_up = chat[-1]["content"][0]["text"]
    assert "Phi-4" in follow_up and "MIT" in follow_up and "可商用" in follow_up


def test_compare_export_is_downloadable(server):
    from gradio_client import Client

    client = Client(server.url, verbose=False)
    html, download = client.predict(["Phi-4", "Gemma 3"], 16, "ram", "zh-TW", api_name="/compare")
    assert "Phi-4" in html and "Gemma 3" in html
    path = download["value"] if isinstance(download, dict) else download
    text = Path(path).read_text(encoding="utf-8")
    from assistant.config import Settings
    from assistant.knowledge import load_catalog

    as_of = load_catalog(Settings().catalog_path).as_of.isoformat()
    assert text.startswith("# 模型比較：Phi-4 vs Gemma 3") and as_of in text


def test_empty_question_through_the_api_is_friendly(server):
    status, body = call_api(server.port, "chat", ["   ", [], "grounded", "auto"])
    kinds = [event for event, _ in events(body)]
    assert status == 200 and "請先輸入問題" in decoded(body) and "error" not in kinds


def test_question_length_is_bounded(server):
    status, body = call_api(server.port, "chat", ["Phi 4 " + "很長" * 5000, [], "grounded", "auto"])
    kinds = [event for event, _ in events(body)]
    assert status == 200 and kinds[-1] == "complete" and "error" not in kinds
    assert "Phi-4" in decoded(body)


# ------------------------------------------------------------------ file routes

TRAVERSALS = [
    "/gradio_api/file=/etc/passwd",
    "/file=/etc/passwd",
    "/gradio_api/file=../../../../../../etc/passwd",
    "/gradio_api/file=..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/gradio_api/file=%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/gradio_api/file=%2E%2E%2F%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "/gradio_api/file=%2fetc%2fpasswd",
    "/gradio_api/file=//etc/passwd",
    "/gradio_api/file=/etc/./passwd",
    "/gradio_api/file=/ETC/PASSWD",
    "/GRADIO_API/FILE=/etc/passwd",
    "/gradio_api/File=/etc/passwd",
    "/Gradio_Api/file=/etc/passwd",
    "/gradio_api/file=/proc/self/environ",
    "/static/../../../../../etc/passwd",
    "/assets/../../../../../etc/passwd",
    "/gradio_api/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/gradio_api/file=app.py",
    "/gradio_api/file=./knowledge/catalog.yaml",
    "/gradio_api/file=knowledge/../app.py",
]


def project_paths(server) -> list[str]:
    return [
        f"/gradio_api/file={ROOT / 'app.py'}",
        f"/gradio_api/file={KNOWLEDGE / 'catalog.yaml'}",
        f"/gradio_api/file={KNOWLEDGE / 'article.md'}",
        f"/gradio_api/file={server.data_dir / 'manifest.json'}",
        f"/gradio_api/file={server.data_dir / 'chunks.json'}",
        f"/gradio_api/file={server.data_dir / 'index' / 'chroma.sqlite3'}",
        f"/file={KNOWLEDGE / 'catalog.yaml'}",
    ]


def test_traversal_and_private_paths_are_never_served(server):
    served = []
    for path in TRAVERSALS + project_paths(server):
        status, body = get(server.port, path)
        if status == 200 or b"root:" in body or b"schema_version" in body or b"ASSISTANT_" in body:
            served.append((path, status))
    assert served == []


def test_crafted_file_payload_in_the_chat_value_is_not_served_back(server):
    crafted = [
        {"role": "user", "content": [{"type": "file", "file": {"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}}]},
        {"role": "assistant", "content": {"path": str(KNOWLEDGE / "catalog.yaml"), "meta": {"_type": "gradio.FileData"}}},
    ]
    status, body = call_api(server.port, "chat", ["Phi 4 有多大？", crafted, "grounded", "auto"])
    assert "root:x:" not in body and "schema_version" not in body
    for match in ("/etc/passwd", "catalog.yaml"):
        # If the path is echoed at all it must not be fetchable.
        assert get(server.port, f"/gradio_api/file={match}")[0] != 200


def test_cross_origin_post_is_rejected(server):
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"}):
        allowed = dict(http_headers(server.port, headers)).get("access-control-allow-origin")
        assert allowed in (None, ""), (headers, allowed)
    # DNS rebinding: the attacker's page is "same origin" with itself, so the Host header decides.
    rebound = {"Origin": f"http://evil.example:{server.port}", "Host": f"evil.example:{server.port}"}
    status, _ = post(server.port, "/gradio_api/call/chat", {"data": ["Phi 4", [], "grounded", "auto"]}, rebound)
    assert status == 400
    assert get(server.port, "/", {"Host": "evil.example"})[0] == 400
    assert get(server.port, "/", {"Host": f"localhost:{server.port}"})[0] == 200


def http_headers(port: int, headers: dict[str, str]) -> list[tuple[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("OPTIONS", "/gradio_api/call/chat", headers={**headers, "Access-Control-Request-Method": "POST"})
        response = conn.getresponse()
        response.read()
        return [(k.lower(), v) for k, v in response.getheaders()]
    finally:
        conn.close()


# ------------------------------------------------------------------ launch safety


def run_app(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "app.py", *args],
        cwd=ROOT,
        env=app_env(tmp_path / "data", **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::"])
def test_non_loopback_without_auth_refuses_to_start(tmp_path, host):
    result = run_app(tmp_path, "--host", host, "--port", str(free_port()))
    assert result.returncode == 2
    assert "refusing" in result.stderr and "ASSISTANT_AUTH=user:password" in result.stderr
    assert not (tmp_path / "data").exists()  # refused before doing any work


def test_non_loopback_from_the_environment_is_refused_too(tmp_path):
    result = run_app(tmp_path, "--port", str(free_port()), ASSISTANT_HOST="0.0.0.0")
    assert result.returncode == 2 and "ASSISTANT_AUTH" in result.stderr


def test_malformed_auth_is_refused(tmp_path):
    result = run_app(tmp_path, "--host", "0.0.0.0", "--port", str(free_port()), ASSISTANT_AUTH="no-colon")
    assert result.returncode == 2 and "user:password" in result.stderr


def test_with_auth_unauthenticated_requests_are_refused(auth_server):
    port = auth_server.port
    for path in ("/config", "/gradio_api/info", "/gradio_api/file=/etc/passwd"):
        status, _ = get(port, path)
        assert status in (401, 403), path
    status, _ = post(port, "/gradio_api/call/chat", {"data": ["Phi 4 有多大？", [], "grounded", "auto"]})
    assert status in (401, 403)
    from gradio_client import Client

    with pytest.raises(Exception):  # noqa: B017 - any refusal will do; it must not connect
        Client(auth_server.url, verbose=False)


def test_with_auth_a_signed_in_client_is_answered(auth_server):
    from gradio_client import Client

    client = Client(auth_server.url, auth=("alice", "s3cret-pw"), verbose=False)
    chat, *_ = client.predict("Cohere Command 可以商用嗎？", [], "grounded", "auto", api_name="/chat")
    assert "不可商用" in chat[-1]["content"][0]["text"]


# ------------------------------------------------------------------ busy


class SlowAssistant:
    """A real assistant whose answers take a while; counts answers running at once, per mode."""

    def __init__(self, real, seconds: float) -> None:
        self.real, self.seconds = real, seconds
        self.catalog, self.settings, self.retriever = real.catalog, real.settings, real.retriever
        self.active = {True: 0, False: 0}
        self.max_active = {True: 0, False: 0}
        self._lock = threading.Lock()

    def llm_status(self):
        return {"available": True, "model": "slow"}

    def ask_stream(self, question, history=None, use_llm=True, language=None):
        with self._lock:
            self.active[use_llm] += 1
            self.max_active[use_llm] = max(self.max_active[use_llm], self.active[use_llm])
        try:
            time.sleep(self.seconds)
            yield from self.real.ask_stream(question, history, False, language)
        finally:
            with self._lock:
                self.active[use_llm] -= 1


def test_a_full_queue_answers_busy_in_the_users_language(fake_assistant):
    """Beyond the queue, a chat request is answered at once with 「忙碌中」 (or the English
    sentence for an English question), through the REST API and through gradio_client:
    no 503, which gradio_client would turn into its own English "Queue is full!"."""
    from gradio_client import Client

    from assistant import server, ui

    settings = fake_assistant.settings.model_copy(update={"queue_size": 1, "chat_concurrency": 1, "port": free_port()})
    slow = SlowAssistant(fake_assistant, seconds=6.0)
    demo = ui.build_ui(slow, settings, machine={"ram_gb": 16.0})
    ui.serve(demo, settings, prevent_thread_lock=True, quiet=True)
    try:
        url = f"http://127.0.0.1:{settings.port}/"
        english_client, chinese_client = Client(url, verbose=False), Client(url, verbose=False)
        with ThreadPoolExecutor(max_workers=6) as pool:
            futures = []
            for _ in range(4):  # one answering, one waiting (the queue is then full), two turned away
                futures.append(pool.submit(call_api, settings.port, "chat", ["Phi 4 有多大？", [], "grounded", "auto"]))
                time.sleep(0.3)  # the queue's loop has taken it from the queue, or it waits there
            english = pool.submit(english_client.predict, "How big is Phi 4?", [], "grounded", "auto", api_name="/chat")
            chinese = pool.submit(chinese_client.predict, "Phi 4 有多大？", [], "grounded", "auto", api_name="/chat")
            results = [f.result(timeout=60) for f in futures]  # nobody hangs
            english_reply, chinese_reply = english.result(timeout=60), chinese.result(timeout=60)
        assert all(status == 200 for status, _ in results)
        busy = [body for _, body in results if "忙碌中" in decoded(body)]
        answered = [body for _, body in results if "Phi-4" in decoded(body)]
        assert busy and answered and len(busy) + len(answered) == 4
        assert english_reply[-1] == server.BUSY_EN and "busy" in english_reply[0][-1]["content"][0]["text"]
        assert chinese_reply[-1] == server.BUSY_ZH and "忙碌中" in chinese_reply[0][-1]["content"][0]["text"]
        # Afterwards the server answers normally again.
        status, body = call_api(settings.port, "chat", ["Phi 4 有多大？", [], "grounded", "auto"])
        assert status == 200 and "Phi-4" in decoded(body)
    finally:
        demo.close()


def test_grounded_answers_run_side_by_side_while_llm_answers_go_one_at_a_time(fake_assistant):
    """Grounded requests have their own concurrency group; LLM ones share one model slot."""
    from assistant import ui

    settings = fake_assistant.settings.model_copy(update={"port": free_port()})
    slow = SlowAssistant(fake_assistant, seconds=1.0)
    demo = ui.build_ui(slow, settings, machine={"ram_gb": 16.0})
    ui.serve(demo, settings, prevent_thread_lock=True, quiet=True)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            llm = [pool.submit(call_api, settings.port, "chat", ["Phi 4 有多大？", [], "llm", "auto"]) for _ in range(3)]
            time.sleep(0.3)
            started = time.perf_counter()
            grounded = [pool.submit(call_api, settings.port, "chat", ["Phi 4 有多大？", [], "grounded", "auto"]) for _ in range(4)]
            grounded_results = [f.result(timeout=60) for f in grounded]
            grounded_s = time.perf_counter() - started
            llm_results = [f.result(timeout=60) for f in llm]
        assert all(status == 200 and "Phi-4" in decoded(body) for status, body in grounded_results + llm_results)
        assert slow.max_active[False] >= 2  # grounded answers ran side by side
        assert slow.max_active[True] == 1  # one LLM answer at a time
        assert grounded_s < 2.5  # four 1 s grounded answers did not wait for three 1 s LLM answers
    finally:
        demo.close()


def test_llm_users_beyond_the_line_get_the_grounded_answer_in_their_language(fake_assistant):
    """When the line for the model is full, the answer comes at once from the knowledge base,
    with a note in the user's language: nobody is refused."""
    from assistant import ui

    settings = fake_assistant.settings.model_copy(update={"port": free_port(), "llm_waiting": 0})
    slow = SlowAssistant(fake_assistant, seconds=1.5)
    demo = ui.build_ui(slow, settings, machine={"ram_gb": 16.0})
    ui.serve(demo, settings, prevent_thread_lock=True, quiet=True)
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            first = pool.submit(call_api, settings.port, "chat", ["Phi 4 有多大？", [], "llm", "auto"])
            time.sleep(0.5)
            zh = pool.submit(call_api, settings.port, "chat", ["Phi 4 有多大？", [], "llm", "auto"])
            en = pool.submit(call_api, settings.port, "chat", ["How big is Phi 4?", [], "llm", "auto"])
            results = [f.result(timeout=60) for f in (first, zh, en)]
        assert all(status == 200 for status, _ in results)
        # outputs: chat, question box, cards, why-not, sources, status, conversation state
        statuses = [[data for event, data in events(body) if event == "complete"][-1][5] for _, body in results]
        assert "本機模型正忙" in statuses[1] and "Phi-4" in decoded(results[1][1])
        assert "language model is busy" in statuses[2]
        assert "正忙" not in statuses[0] and "busy" not in statuses[0]
    finally:
        demo.close()


# ------------------------------------------------------------------ issue 21: the pieces, without a server


def test_server_module_does_not_import_the_page():
    """The cycle ui -> server -> ui is cut: the server package never imports ui (webapp hands the page over)."""
    import ast

    imported = set()
    nodes = [node for path in sorted((ROOT / "assistant" / "server").glob("*.py"))
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))]
    assert nodes
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            imported.update(f"{node.module or ''}.{alias.name}".strip(".") for alias in node.names)
            imported.add(node.module or "")
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    assert not any(name in ("ui", ".ui", "assistant.ui") or name.endswith(".ui") for name in imported), imported


def test_cap_history_keeps_the_latest_messages_within_both_caps():
    from assistant.server import cap_history

    chat = [{"role": "user" if i % 2 == 0 else "assistant", "content": [{"type": "text", "text": f"m{i}"}]}
            for i in range(8000)]
    kept, dropped = cap_history(chat, 100, 1 << 20)
    assert len(kept) == 100 and dropped == 7900 and kept[-1] is chat[-1] and kept[0]["role"] == "user"
    big = [{"role": "user", "content": "x" * 10_000}, {"role": "assistant", "content": "y" * 10_000}] * 10
    kept, dropped = cap_history(big, 100, 25_000)
    assert len(kept) == 2 and kept[0]["role"] == "user" and dropped == 18
    assert cap_history(chat[:10], 100, 1 << 20) == (chat[:10], 0)
    assert cap_history(None, 100, 1000) == ([], 0)


def test_the_trim_marker_travels_from_the_middleware_to_the_notice():
    from assistant.server import ModelSlot, RequestGuard, guarded_chat
    from assistant.server.history import _take_trim_marker

    class Fn:
        api_name = "chat"

        def __init__(self):
            import gradio as gr

            self.inputs = [gr.Textbox(render=False), gr.Chatbot(render=False)]

    guard = RequestGuard(None, 1 << 20, known_functions=lambda: {0: Fn()}, history_cap=(10, 1 << 20))
    chat = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"m{i}"} for i in range(30)]
    status, problem, body = guard._check_call("/gradio_api/call/chat", json.dumps({"data": ["q", chat]}).encode())
    assert status == 200 and problem is None
    sent = json.loads(body)["data"][1]
    assert len(sent) == 11 and sent[1]["content"] == [{"type": "text", "text": "m20"}]
    rest, dropped = _take_trim_marker(sent)
    assert dropped == 20 and len(rest) == 10

    class Assistant:
        class settings:  # noqa: N801
            max_history_messages, max_history_bytes = 100, 1 << 20

    seen = []

    def respond(assistant, machine, message, history, mode, language):
        seen.append(history)
        yield (history, "", None, None, None, "模式：依知識庫（grounded）")

    *_, last = guarded_chat(respond, ModelSlot(1), "llm", "grounded", Assistant(), None, "q", sent, "grounded", "zh-TW",
                            status_index=5)
    assert seen[0] == rest and "只保留最近 10 則訊息（較早的 20 則已移除）" in last[5] and "grounded" in last[5]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ([{"role": "user", "content": "plain"}], None),
        ([{"role": "assistant", "content": {"type": "text", "text": "one part"}}], None),
        ([{"role": "user", "content": [{"type": "text", "text": "a"}, "b"], "metadata": None}], None),
        (None, None),
        ([{}], "message 1 of 1 has no role"),
        ([{"role": "user"}], "has no content"),
        (["text"], "is a str"),
        ({"role": "user"}, "not a list"),
        ([{"role": "user", "content": [{"type": "file", "file": {"path": "/etc/passwd"}}]}], "text only"),
        ([{"role": "robot", "content": "x"}], "no role"),
    ],
)
def test_chat_histories_are_normalised_or_refused_in_one_line(value, problem):
    from assistant.server import normalise_chat_history

    history, reason = normalise_chat_history(value)
    if problem is None:
        assert reason is None
        assert all(isinstance(m["content"], list) and all(p["type"] == "text" for p in m["content"]) for m in history)
    else:
        assert history is None and problem in reason and "\n" not in reason


def test_json_depth_is_measured_outside_strings():
    from assistant.server import json_depth_exceeds

    assert json_depth_exceeds(b"[" * 100_000 + b"]" * 100_000)
    assert not json_depth_exceeds(json.dumps({"data": ["[[[[" * 1000, [{"a": [1]}]]}).encode())
    assert not json_depth_exceeds(b'{"a": "\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}')


@pytest.mark.parametrize("auth", [" : ", "user: ", " :pw", " user:pw", "user:pw ", "us\ter:pw"])
def test_blank_or_padded_auth_is_refused(auth):
    from assistant.server import parse_auth

    with pytest.raises(ValueError, match="ASSISTANT_AUTH"):
        parse_auth(auth)


def test_bounded_stream_caps_one_write_and_a_burst():
    import io

    from assistant.server import BoundedStream

    sink = io.StringIO()
    stream = BoundedStream(sink, max_write=100, burst=1000, rate=0.0001)
    stream.write("x" * 9_000_000)
    assert len(sink.getvalue()) < 200 and "more characters cut" in sink.getvalue()
    for _ in range(100):
        stream.write("y" * 50 + "\n")
    assert len(sink.getvalue()) <= 1100


def test_proxy_headers_are_dropped_unless_a_proxy_is_named():
    import asyncio

    from assistant.server import ForwardedHeaders

    seen = {}

    async def app(scope, receive, send):
        seen["headers"] = dict(scope["headers"])

    headers = [(b"x-forwarded-for", b"10.0.0.1"), (b"x-forwarded-host", b"evil.example"), (b"host", b"127.0.0.1:1"),
               (b"x-forwarded-proto", b"https"), (b"forwarded", b"for=10.0.0.2")]
    asyncio.run(ForwardedHeaders(app, "")({"type": "http", "headers": headers}, None, None))
    assert seen["headers"] == {b"host": b"127.0.0.1:1"}
    asyncio.run(ForwardedHeaders(app, "10.0.0.0/8")({"type": "http", "headers": headers}, None, None))
    assert b"x-forwarded-host" not in seen["headers"] and seen["headers"][b"x-forwarded-for"] == b"10.0.0.1"


def test_trusted_proxies_must_be_addresses():
    from assistant.config import Settings

    assert Settings(trusted_proxies="127.0.0.1, 10.0.0.0/8, ::1").trusted_proxies
    with pytest.raises(ValueError, match="trusted_proxies"):
        Settings(trusted_proxies="proxy.example")
