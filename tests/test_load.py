"""Load: 20 concurrent gradio_client users against a live server (RELIABILITY.md item 39).

Each user asks 3 grounded questions (60 requests) with the shipped defaults and the real
bundled embedder. Every request must be answered (none refused as busy, none failing or
hanging), the server's CPU time per grounded answer (from the server process's own CPU
counters over the run) must stay under CPU_MS_PER_ANSWER_BOUND, the CPU time of a user
connecting (measured on its own: paid once per user, not per question) under
CPU_MS_PER_CONNECTION_BOUND, and its peak RSS under
PEAK_RSS_BOUND_MB. A second scenario puts a slow OpenAI-compatible endpoint (10 s per
answer) behind the app: LLM users queue for it while grounded users stay fast.

The figures are printed for RELIABILITY.md:

    .venv/bin/python -m pytest -q -s tests/test_load.py
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psutil
import pytest

from .test_server import AppProcess

pytestmark = pytest.mark.slow

USERS = 20
QUESTIONS_PER_USER = 3
REQUEST_BOUND_S = 120.0
PEAK_RSS_BOUND_MB = 1536.0
CPU_MS_PER_ANSWER_BOUND = 50.0  # the goal, for a grounded answer
CPU_MS_PER_CONNECTION_BOUND = 100.0  # a user opening the app: page config and API info, once per user
SLOW_LLM_S = 10.0
GROUNDED_UNDER_SLOW_LLM_BOUND_S = 5.0  # far below one slow LLM answer
QUESTIONS = [
    "Phi 4 有多大？",
    "我要商用、只有 16GB 筆電，想跑能寫程式的模型，選哪個？",
    "Cohere Command 可以商用嗎？",
    "Which models have an MIT licence?",
    "手機上能跑什麼模型？",
    "不要中國公司、要能看圖的模型",
]


class PeakRSS:
    """Samples the RSS of a process and its children in a background thread."""

    def __init__(self, pid: int, interval_s: float = 0.05) -> None:
        self.process = psutil.Process(pid)
        self.interval_s = interval_s
        self.peak_bytes = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _rss(self) -> int:
        total = self.process.memory_info().rss
        for child in self.process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak_bytes = max(self.peak_bytes, self._rss())
                self.samples += 1
            except psutil.Error:
                return
            self._stop.wait(self.interval_s)

    def __enter__(self) -> PeakRSS:
        self.peak_bytes = self._rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


@pytest.fixture(scope="module")
def loaded_server(tmp_path_factory):
    # The shipped defaults (queue size, concurrency) and the real bundled embedder.
    app = AppProcess(tmp_path_factory.mktemp("load-server"), ASSISTANT_EMBEDDER="use-m3")
    app.wait_until_warm()  # measure answers, not start-up
    yield app
    app.stop()


def ask(client, question: str, mode: str = "grounded") -> tuple[str, float, str]:
    """One request: (outcome, seconds, detail)."""
    from gradio_client.exceptions import AppError
    from gradio_client.utils import QueueError

    started = time.perf_counter()
    job = client.submit(question, [], mode, "auto", api_name="/chat")
    try:
        chat, *_rest, status = job.result(timeout=REQUEST_BOUND_S)
    except QueueError as exc:
        return "busy", time.perf_counter() - started, str(exc)
    except (TimeoutError, FutureTimeout):
        job.cancel()
        return "hung", time.perf_counter() - started, question
    except AppError as exc:
        detail = str(exc)
        return ("busy" if "忙碌中" in detail else "error"), time.perf_counter() - started, detail
    elapsed = time.perf_counter() - started
    answer = chat[-1]["content"][0]["text"] if chat and isinstance(chat[-1].get("content"), list) else ""
    return ("answered" if len(answer) > 20 else "empty"), elapsed, f"{status} | {answer[:80]}"


def connect(url: str):
    """One user opening the app: gradio_client fetches the page config and the API info."""
    from gradio_client import Client

    return Client(url, verbose=False)


def ask_in_turn(client, user: int, mode: str = "grounded", questions: int = QUESTIONS_PER_USER) -> list[tuple[str, float, str]]:
    """`questions` questions in a row from one connected user."""
    return [ask(client, QUESTIONS[(user + n) % len(QUESTIONS)], mode) for n in range(questions)]


def one_user(url: str, user: int, mode: str = "grounded", questions: int = QUESTIONS_PER_USER) -> list[tuple[str, float, str]]:
    """Connect, then ask `questions` questions in a row."""
    return ask_in_turn(connect(url), user, mode, questions)


def summary(results: list[tuple[str, float, str]]) -> tuple[dict[str, int], float, float, float]:
    outcomes = {kind: sum(1 for k, _, _ in results if k == kind) for kind in ("answered", "busy", "hung", "error", "empty")}
    latencies = sorted(s for k, s, _ in results if k == "answered")
    p50 = statistics.median(latencies) if latencies else float("nan")
    p95 = latencies[min(len(latencies) - 1, int(round(0.95 * (len(latencies) - 1))))] if latencies else float("nan")
    return outcomes, p50, p95, max((s for _, s, _ in results), default=0.0)


def test_twenty_concurrent_users_are_all_answered_cheaply(loaded_server):
    pid = loaded_server.proc.pid
    started = time.perf_counter()
    cpu_start = cpu_seconds(pid)
    with PeakRSS(pid) as rss:
        idle_mb = rss.peak_bytes / 2**20
        with ThreadPoolExecutor(max_workers=USERS) as pool:
            # All 20 open the app at once, then all ask at once: what each costs is measured
            # on its own (a connection is paid once per user, an answer once per question).
            clients = list(pool.map(lambda _: connect(loaded_server.url), range(USERS), timeout=REQUEST_BOUND_S))
            cpu_connected = cpu_seconds(pid)
            futures = [pool.submit(ask_in_turn, clients[user], user) for user in range(USERS)]
            results = [r for f in futures for r in f.result(timeout=QUESTIONS_PER_USER * REQUEST_BOUND_S + 60)]
    cpu_end = cpu_seconds(pid)
    cpu_ms_per_connection = (cpu_connected - cpu_start) * 1000 / USERS
    cpu_ms_per_answer = (cpu_end - cpu_connected) * 1000 / len(results)
    cpu_ms_all_in = (cpu_end - cpu_start) * 1000 / len(results)
    wall_s = time.perf_counter() - started
    peak_mb = rss.peak_bytes / 2**20
    outcomes, p50, p95, slowest = summary(results)
    print(
        f"\n[load] {USERS} users x {QUESTIONS_PER_USER} grounded questions (use-m3, shipped defaults): "
        f"answered={outcomes['answered']} busy={outcomes['busy']} hung={outcomes['hung']} "
        f"error={outcomes['error']} empty={outcomes['empty']}; latency p50={p50:.2f}s p95={p95:.2f}s "
        f"max={slowest:.2f}s; server CPU {cpu_ms_per_answer:.1f} ms per answer, "
        f"{cpu_ms_per_connection:.1f} ms per user connecting, {cpu_ms_all_in:.1f} ms per answer all in; "
        f"server RSS idle={idle_mb:.0f} MB peak={peak_mb:.0f} MB ({rss.samples} samples); wall={wall_s:.1f}s"
    )

    assert len(results) == USERS * QUESTIONS_PER_USER
    problems = [(k, round(s, 1), d) for k, s, d in results if k != "answered"]
    assert problems == [], problems  # 60/60 answered: nobody refused, nothing failed or hung
    assert cpu_ms_per_answer <= CPU_MS_PER_ANSWER_BOUND
    assert cpu_ms_per_connection <= CPU_MS_PER_CONNECTION_BOUND
    assert slowest <= REQUEST_BOUND_S
    assert peak_mb < PEAK_RSS_BOUND_MB
    assert rss.samples > 10  # the sampler really watched the run
    assert loaded_server.proc.poll() is None


# ------------------------------------------------------------------ a slow LLM endpoint


class SlowEndpoint(BaseHTTPRequestHandler):
    """An OpenAI-compatible stub that takes SLOW_LLM_S per answer and records concurrency."""

    active = 0
    peak = 0
    answered = 0
    lock = threading.Lock()

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):  # noqa: N802 (http.server's name)
        payload = json.dumps({"object": "list", "data": [{"id": "slow-model", "object": "model"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if "completions" not in self.path:  # /tokenize and the like: this stub has none
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        cls = type(self)
        with cls.lock:
            cls.active += 1
            cls.peak = max(cls.peak, cls.active)
        try:
            time.sleep(SLOW_LLM_S)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in ["Phi-4 ", "有 14.7B ", "參數 [1]。"]:
                chunk = {"choices": [{"delta": {"content": piece}}]}
                self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        finally:
            with cls.lock:
                cls.active -= 1
                cls.answered += 1


@pytest.fixture(scope="module")
def slow_llm_server(tmp_path_factory):
    handler = type("Slow", (SlowEndpoint,), {"active": 0, "peak": 0, "answered": 0, "lock": threading.Lock()})
    endpoint = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    endpoint.daemon_threads = True
    threading.Thread(target=endpoint.serve_forever, daemon=True).start()
    app = AppProcess(
        tmp_path_factory.mktemp("slow-llm-server"),
        ASSISTANT_LLM_URL=f"http://127.0.0.1:{endpoint.server_address[1]}/v1",
        ASSISTANT_LLM_TIMEOUT_S="60",
    )
    yield app, handler
    app.stop()
    endpoint.shutdown()
    endpoint.server_close()


def test_grounded_users_stay_fast_while_llm_users_queue_for_a_slow_endpoint(slow_llm_server):
    app, endpoint = slow_llm_server
    llm_users, grounded_users = 3, 20
    with ThreadPoolExecutor(max_workers=llm_users + grounded_users) as pool:
        llm = [pool.submit(one_user, app.url, user, "llm", 1) for user in range(llm_users)]
        time.sleep(1.0)  # the LLM users are in line first
        started = time.perf_counter()
        grounded = [pool.submit(one_user, app.url, user, "grounded", 1) for user in range(grounded_users)]
        grounded_results = [r for f in grounded for r in f.result(timeout=REQUEST_BOUND_S)]
        grounded_done_s = time.perf_counter() - started
        llm_results = [r for f in llm for r in f.result(timeout=REQUEST_BOUND_S * 2)]
    outcomes, p50, p95, slowest = summary(grounded_results)
    llm_latencies = sorted(s for _, s, _ in llm_results)
    print(
        f"\n[load, slow LLM {SLOW_LLM_S:.0f}s] {grounded_users} grounded users during {llm_users} LLM users: "
        f"grounded answered={outcomes['answered']} p50={p50:.2f}s p95={p95:.2f}s max={slowest:.2f}s "
        f"(all done {grounded_done_s:.1f}s after they asked); LLM latencies "
        f"{', '.join(f'{s:.1f}s' for s in llm_latencies)}; endpoint peak concurrency {endpoint.peak}, "
        f"answers {endpoint.answered}"
    )
    assert [k for k, _, _ in grounded_results] == ["answered"] * grounded_users, grounded_results
    assert slowest < GROUNDED_UNDER_SLOW_LLM_BOUND_S  # nobody waited for an LLM answer (10 s each)
    assert [k for k, _, _ in llm_results] == ["answered"] * llm_users, llm_results
    # LLM users queued for the one model: one at a time, so the last waited for the others.
    assert endpoint.peak == 1
    assert endpoint.answered == llm_users
    assert llm_latencies[-1] >= llm_users * SLOW_LLM_S - 1.0
