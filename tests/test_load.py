"""Load: 20 concurrent gradio_client users against a live server (RELIABILITY.md item 39).

Each user asks 3 questions. Every request must end, within REQUEST_BOUND_S, with an answer
or a clear busy signal (gradio_client's `QueueError`, which it raises for the server's 503
「忙碌中」 reply). The server process's peak RSS is sampled throughout and must stay under
PEAK_RSS_BOUND_MB. The figures are printed for RELIABILITY.md:

    .venv/bin/python -m pytest -q -s tests/test_load.py
"""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import psutil
import pytest

from .test_server import AppProcess

pytestmark = pytest.mark.slow

USERS = 20
QUESTIONS_PER_USER = 3
QUEUE_SIZE = 8  # the shipped default (Settings.queue_size): load is tested as users get it
REQUEST_BOUND_S = 120.0
PEAK_RSS_BOUND_MB = 1536.0
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


@pytest.fixture(scope="module")
def loaded_server(tmp_path_factory):
    app = AppProcess(tmp_path_factory.mktemp("load-server"), ASSISTANT_QUEUE_SIZE=str(QUEUE_SIZE))
    yield app
    app.stop()


def one_user(url: str, user: int) -> list[tuple[str, float, str]]:
    """Ask QUESTIONS_PER_USER questions in a row; (outcome, seconds, detail) per request."""
    from gradio_client import Client
    from gradio_client.exceptions import AppError
    from gradio_client.utils import QueueError

    client = Client(url, verbose=False)
    results: list[tuple[str, float, str]] = []
    for n in range(QUESTIONS_PER_USER):
        question = QUESTIONS[(user + n) % len(QUESTIONS)]
        started = time.perf_counter()
        job = client.submit(question, [], "grounded", "auto", api_name="/chat")
        try:
            chat, *_rest = job.result(timeout=REQUEST_BOUND_S)
        except QueueError as exc:
            results.append(("busy", time.perf_counter() - started, str(exc)))
            continue
        except (TimeoutError, FutureTimeout):
            job.cancel()
            results.append(("hung", time.perf_counter() - started, question))
            continue
        except AppError as exc:
            detail = str(exc)
            kind = "busy" if "忙碌中" in detail else "error"
            results.append((kind, time.perf_counter() - started, detail))
            continue
        elapsed = time.perf_counter() - started
        answer = chat[-1]["content"][0]["text"] if chat and isinstance(chat[-1].get("content"), list) else ""
        results.append(("answered" if len(answer) > 20 else "empty", elapsed, answer[:80]))
    return results


def test_twenty_concurrent_users_are_answered_or_told_busy(loaded_server):
    started = time.perf_counter()
    with PeakRSS(loaded_server.proc.pid) as rss:
        idle_mb = rss.peak_bytes / 2**20
        with ThreadPoolExecutor(max_workers=USERS) as pool:
            futures = [pool.submit(one_user, loaded_server.url, user) for user in range(USERS)]
            # A user can wait at most its three bounded requests plus connecting.
            results = [r for f in futures for r in f.result(timeout=QUESTIONS_PER_USER * REQUEST_BOUND_S + 60)]
    wall_s = time.perf_counter() - started
    peak_mb = rss.peak_bytes / 2**20

    outcomes = {kind: sum(1 for k, _, _ in results if k == kind) for kind in ("answered", "busy", "hung", "error", "empty")}
    latencies = sorted(s for k, s, _ in results if k == "answered")
    p50 = statistics.median(latencies) if latencies else float("nan")
    p95 = latencies[min(len(latencies) - 1, int(round(0.95 * (len(latencies) - 1))))] if latencies else float("nan")
    slowest = max((s for _, s, _ in results), default=0.0)
    print(
        f"\n[load] {USERS} users x {QUESTIONS_PER_USER} questions, queue_size={QUEUE_SIZE}: "
        f"answered={outcomes['answered']} busy={outcomes['busy']} hung={outcomes['hung']} "
        f"error={outcomes['error']} empty={outcomes['empty']}; latency p50={p50:.2f}s p95={p95:.2f}s "
        f"max={slowest:.2f}s; server RSS idle={idle_mb:.0f} MB peak={peak_mb:.0f} MB "
        f"({rss.samples} samples); wall={wall_s:.1f}s"
    )

    assert len(results) == USERS * QUESTIONS_PER_USER
    problems = [(k, round(s, 1), d) for k, s, d in results if k not in ("answered", "busy")]
    assert problems == [], problems
    assert slowest <= REQUEST_BOUND_S
    assert outcomes["answered"] >= USERS  # the queue serves, it does not just turn people away
    assert peak_mb < PEAK_RSS_BOUND_MB
    assert rss.samples > 10  # the sampler really watched the run
    # The server is still healthy afterwards.
    assert loaded_server.proc.poll() is None
    assert one_user(loaded_server.url, 0)[0][0] == "answered"
