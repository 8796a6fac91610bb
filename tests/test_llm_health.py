"""`assistant.llm_health`: one timeout marks a model server down, a background probe revives it.

The live probe (a hung OpenAI-compatible stub, three users at once) is
`test_reliability.py::test_7_a_hung_model_server_is_marked_down_at_once_and_revived_in_the_background`.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant import llm_health
from assistant.server import ModelSlot


@pytest.fixture
def health():
    made: list[llm_health.EndpointHealth] = []

    def make(probe=None, **kwargs):
        item = llm_health.EndpointHealth("http://model.test/v1", probe, **kwargs)
        made.append(item)
        return item

    yield make
    for item in made:
        item.close()
    assert llm_health.down_reason() is None  # nothing leaks into other tests


def test_one_timeout_marks_the_server_down_with_a_reason_in_both_languages(health):
    h = health(timeout_s=60, retry_s=15)
    assert not h.down and h.status_override() is None and not llm_health.any_down()
    h.observe("ok")
    assert not h.down
    h.observe("timeout")
    assert h.down and llm_health.any_down()
    zh, en = h.status_override()
    assert "60 秒內沒有完成回答" in zh and "知識庫" in zh
    assert "within 60 s" in en and "knowledge base" in en
    assert h.reason("en") == en and h.reason("zh-TW") == zh
    assert llm_health.down_reason() == (zh, en)
    h.observe("timeout")  # idempotent
    h.mark_up()
    assert not h.down and llm_health.down_reason() is None


@pytest.mark.parametrize("outcome", ["ok", "invalid", "incomplete", "empty"])
def test_a_finished_answer_marks_it_up_again(health, outcome):
    h = health()
    h.mark_down()
    h.observe(outcome)
    assert not h.down


def test_an_llm_result_is_read_by_its_kind_and_a_timed_out_error_counts(health):
    from types import SimpleNamespace

    h = health()
    h.observe_result(SimpleNamespace(kind="error", reason_en="Server error: 500. Showing the retrieval-based answer."))
    assert not h.down
    h.observe_result(SimpleNamespace(kind="error", reason_en="The endpoint did not answer within 60 s. (timeout) Showing …"))
    assert h.down
    h.observe_result(SimpleNamespace(kind="ok", reason_en=""))
    assert not h.down
    h.observe_result(SimpleNamespace(kind="timeout", reason_en=""))
    assert h.down


@pytest.mark.parametrize("outcome", ["error", "cancelled", "loading"])
def test_other_outcomes_say_nothing_about_a_hang(health, outcome):
    h = health()
    h.observe(outcome)
    assert not h.down
    h.mark_down()
    h.observe(outcome)
    assert h.down


def test_the_background_probe_retries_with_backoff_until_it_answers(health):
    calls: list[float] = []
    answering = threading.Event()

    def probe():
        calls.append(time.monotonic())
        if not answering.is_set():
            raise TimeoutError("still hung")

    h = health(probe, retry_s=0.05, max_retry_s=0.2)
    h.mark_down()
    time.sleep(0.6)
    assert h.down and len(calls) >= 3
    gaps = [b - a for a, b in zip(calls, calls[1:], strict=False)]
    assert gaps[-1] >= gaps[0]  # backing off
    answering.set()
    deadline = time.monotonic() + 3
    while h.down and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not h.down and h.probes >= 1


def test_a_waiting_user_leaves_the_line_when_the_server_is_marked_down(health):
    h = health()
    slot = ModelSlot(max_waiting=4)
    results: list[tuple[bool, float]] = []

    def holder():
        with slot.acquire(give_up=llm_health.any_down) as held:
            assert held
            time.sleep(0.5)
            h.mark_down()  # the first answer timed out
            time.sleep(1.0)  # … and takes a while to wind down

    def waiter():
        started = time.monotonic()
        with slot.acquire(give_up=llm_health.any_down) as held:
            results.append((held, time.monotonic() - started))

    first = threading.Thread(target=holder)
    first.start()
    time.sleep(0.1)
    others = [threading.Thread(target=waiter) for _ in range(2)]
    for thread in others:
        thread.start()
    for thread in [first, *others]:
        thread.join(timeout=10)
    assert [held for held, _ in results] == [False, False]
    assert all(waited < 1.0 for _, waited in results)  # not after the holder's 1.5 s
    assert slot.waiting == 0


def test_without_give_up_the_slot_behaves_as_before():
    slot = ModelSlot(max_waiting=0)
    with slot.acquire() as first:
        assert first
        with slot.acquire() as second:
            assert second is False  # the line is full
    assert slot.waiting == 0


class _Endpoint(BaseHTTPRequestHandler):
    reply: dict | None = None

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        type(self).seen = body
        if type(self).reply is None:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = json.dumps(type(self).reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_completion_probe_asks_for_one_token_and_needs_choices():
    handler = type("E", (_Endpoint,), {"reply": None})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        probe = llm_health.completion_probe(url, "m", "secret", timeout_s=2)
        with pytest.raises(Exception):  # noqa: B017 - 503
            probe()
        handler.reply = {"choices": []}
        with pytest.raises(RuntimeError, match="without choices"):
            probe()
        handler.reply = {"choices": [{"message": {"content": "o"}}]}
        probe()
        assert handler.seen["max_tokens"] == 1 and handler.seen["model"] == "m" and handler.seen["stream"] is False
    finally:
        server.shutdown()
        server.server_close()


def test_a_forgotten_health_leaves_the_registry_and_its_thread_ends():
    import gc

    h = llm_health.EndpointHealth("http://gone.test/v1", lambda: (_ for _ in ()).throw(TimeoutError()), retry_s=0.05)
    h.mark_down()
    thread = h._thread
    assert llm_health.any_down()
    del h
    gc.collect()
    thread.join(timeout=2)
    assert not thread.is_alive() and not llm_health.any_down()
