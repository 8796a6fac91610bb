"""What a served answer costs besides the answer: Gradio's per-session configs, its queue's
polling, repeated query embeddings, the index manifest (RELIABILITY.md item 39, issue 10).

Fast unit tests beside the load test (tests/test_load.py), which measures the whole."""

from __future__ import annotations

import threading
import time

import pytest

# ------------------------------------------------------------------ per-session block configs


def _session_blocks():
    import gradio as gr

    with gr.Blocks() as demo:
        box = gr.Textbox(value="hello", label="Question")
        state = gr.State(value={"turns": []})
        gr.Markdown("**bold**")
        button = gr.Button("Ask")
        button.click(lambda text, st: (text.upper(), st), [box, state], [box, state])
    return demo, box, state


def _eager_configs(demo):
    config = demo.default_config
    return {k: config.config_for_block(k, [], v) for k, v in config.blocks.items() if k in demo.blocks}


def test_a_new_session_builds_no_block_config_until_one_is_used(monkeypatch):
    from gradio import state_holder

    from assistant.server import lazy_session_configs

    monkeypatch.setattr(state_holder.SessionState, "__init__", state_holder.SessionState.__init__)
    lazy_session_configs()
    demo, box, state = _session_blocks()
    expected = _eager_configs(demo)
    built: list[int] = []
    config_cls = type(demo.default_config)
    original = config_cls.config_for_block

    def counting(key, *args, **kwargs):
        built.append(key)
        return original(key, *args, **kwargs)

    monkeypatch.setattr(config_cls, "config_for_block", staticmethod(counting))
    session = state_holder.SessionState(demo)
    assert built == []  # nothing built at session start
    assert box._id in session.config_values and len(session.config_values) == len(expected)
    session._update_value_in_config(box._id, "changed")  # what Gradio does after an event
    assert built == [box._id]
    assert session.config_values[box._id]["props"]["value"] == "changed"
    # A deep link still sees every block, the updated value included.
    expected[box._id]["props"]["value"] = "changed"
    assert list(session.components) == [c for c in expected.values() if c]
    # State values still come from the State block, per session.
    assert session[state._id] == {"turns": []} and session[state._id] is not state.value


def test_the_lazy_configs_patch_keeps_every_attribute_of_a_session(monkeypatch):
    from gradio import state_holder

    from assistant.server import lazy_session_configs

    demo, _box, _state = _session_blocks()
    eager = state_holder.SessionState(demo) if not getattr(state_holder.SessionState, "_assistant_lazy_configs", False) else None
    monkeypatch.setattr(state_holder.SessionState, "__init__", state_holder.SessionState.__init__)
    lazy_session_configs()
    lazy_session_configs()  # idempotent
    lazy = state_holder.SessionState(demo)
    if eager is not None:
        assert set(vars(eager)) == set(vars(lazy))
        assert dict(eager.config_values) == dict(lazy.config_values)
    assert lazy.blocks_config is not demo.default_config and lazy.state_data == {} and not lazy.is_closed


# ------------------------------------------------------------------ the queue


def test_the_queue_polls_every_few_ms_not_every_ms_and_summarises_rarely():
    import gradio as gr

    from assistant.config import Settings
    from assistant.server import ANALYTICS_EVERY, QUEUE_POLL_S, configure_queue

    with gr.Blocks() as demo:
        gr.Textbox()
    assert demo._queue.sleep_when_free < QUEUE_POLL_S  # Gradio's own default, 1 ms
    configure_queue(demo, Settings())
    assert demo._queue.sleep_when_free == QUEUE_POLL_S
    assert demo._queue.progress_update_sleep_when_free >= 0.05
    assert demo._queue.ANAYLTICS_CACHE_FREQUENCY == ANALYTICS_EVERY


# ------------------------------------------------------------------ query embeddings


class SlowEmbedder:
    """Counts calls; each takes a while, like the real embedder under load."""

    name = "slow-fake"
    dimension = 4

    def __init__(self, fail_first: bool = False) -> None:
        self.calls: list[str] = []
        self.fail_first = fail_first
        self.lock = threading.Lock()

    def embed(self, texts):
        with self.lock:
            self.calls.extend(texts)
            failing = self.fail_first and len(self.calls) == 1
        time.sleep(0.2)
        if failing:
            raise RuntimeError("embedder hiccup")
        return [[float(len(t)), 1.0, 0.0, 0.0] for t in texts]


def _retriever(settings, embedder):
    from assistant.retrieval import HybridRetriever

    return HybridRetriever(settings, embedder)


def test_users_asking_the_same_question_at_once_share_one_embedding(settings):
    embedder = SlowEmbedder()
    retriever = _retriever(settings, embedder)
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(retriever._query_vector("phi 4 有多大?"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert embedder.calls == ["phi 4 有多大?"]
    assert len(results) == 8 and all(r == results[0] for r in results)
    retriever._query_vector("another question")  # a different text is embedded on its own
    assert embedder.calls == ["phi 4 有多大?", "another question"]


def test_a_failed_embedding_is_retried_by_the_next_waiting_request(settings):
    embedder = SlowEmbedder(fail_first=True)
    retriever = _retriever(settings, embedder)
    outcomes: list[str] = []

    def ask():
        try:
            retriever._query_vector("same")
            outcomes.append("ok")
        except RuntimeError:
            outcomes.append("failed")

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(outcomes) == ["failed", "ok", "ok"]  # only the request that hit the error sees it
    assert embedder.calls == ["same", "same"]


# ------------------------------------------------------------------ the index manifest


def test_the_manifest_is_read_again_only_when_the_index_changes(fake_assistant, monkeypatch):
    import assistant.index as index_module

    retriever = fake_assistant.retriever
    retriever.search("Phi 4 有多大？", 3)
    reads: list[int] = []
    original = index_module.read_manifest
    monkeypatch.setattr(index_module, "read_manifest", lambda s: reads.append(1) or original(s))
    for _ in range(5):
        retriever.search("Gemma 3 可以商用嗎？", 3)
    assert reads == []  # unchanged: a stat, no read
    fake_assistant.ensure_index(force=True)  # a rebuild replaces the manifest
    assert retriever.search("Gemma 3 可以商用嗎？", 3)
    assert len(reads) >= 1


@pytest.mark.parametrize("missing", ["manifest", "data dir"])
def test_a_deleted_index_is_noticed_and_rebuilt(fake_assistant, missing):
    import shutil

    retriever = fake_assistant.retriever
    retriever.search("Phi 4 有多大？", 3)
    if missing == "manifest":
        fake_assistant.settings.manifest_path.unlink()
    else:
        shutil.rmtree(fake_assistant.settings.data_dir)
    assert retriever.search("Phi 4 有多大？", 3)
    assert fake_assistant.settings.manifest_path.exists()
