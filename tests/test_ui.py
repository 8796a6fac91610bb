"""UI handlers called directly: no server, no browser."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

gr = pytest.importorskip("gradio")

from assistant import ui  # noqa: E402
from assistant.chinese import is_traditional_only  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.retrieval import Passage  # noqa: E402
from assistant.service import Event  # noqa: E402

EVIL = (
    '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
    "![tracker](https://evil.example/pixel.png) [click](javascript:alert(1)) "
    "[data](data:text/html;base64,PHNjcmlwdD4=) [obfuscated](jav&#x61;script:alert(1)) "
    '<a href="javascript:alert(3)">x</a> [ok](https://example.org/page) **bold**\n'
    "[ref]: javascript:alert(4)\n"
)
SMALL_MACHINE = {"ram_gb": 16.0, "vram_gb": None, "gpus_vram_gb": [], "ram_source": "test"}


def drain(generator):
    return list(generator)


def last_answer(chat):
    return ui._message_text(chat[-1]["content"])


class ScriptedAssistant:
    """Wraps a real assistant but streams a scripted answer; records the calls."""

    def __init__(self, real, deltas=(), reply=None):
        self.real = real
        self.catalog = real.catalog
        self.settings = real.settings
        self.retriever = real.retriever
        self.deltas = list(deltas)
        self.reply = reply
        self.calls = []

    def ask_stream(self, question, history=None, use_llm=True, language=None):
        self.calls.append({"question": question, "history": history, "use_llm": use_llm, "language": language})
        for text in self.deltas:
            yield Event("delta", text)
        if self.reply is not None:
            yield Event("final", self.reply.answer, self.reply)


# ------------------------------------------------------------------ sanitizing


def assert_inert(text: str) -> None:
    lowered = text.lower()
    assert "<script" not in lowered and "<img" not in lowered and "<a " not in lowered
    assert "](javascript:" not in lowered and "](data:" not in lowered
    assert not re.search(r"javascript\s*:", lowered), text
    assert "evil.example/pixel.png" not in lowered


def test_sanitize_markdown_makes_html_images_and_script_links_inert():
    out = ui.sanitize_markdown(EVIL)
    assert_inert(out)
    assert "&lt;script&gt;" in out  # shown as text, not dropped silently
    assert "〔圖片未載入：tracker〕" in out
    assert "[ok](https://example.org/page)" in out  # safe links survive
    assert "**bold**" in out
    assert "click" in out and "obfuscated" in out


@pytest.mark.parametrize(
    "payload",
    ["JaVaScRiPt:alert(1)", "[x](  javascript:alert(1))", "[x](<javascript:alert(1)>)", "<JAVASCRIPT:alert(1)>",
     "[x]( vbscript:msgbox)", "![](//evil.example/a.png)", "\x00<scr\x00ipt>", "&#60;script&#62;"],
)
def test_sanitize_markdown_variants(payload):
    out = ui.sanitize_markdown(payload)
    assert_inert(out)
    assert "vbscript:" not in out.lower()
    assert "<" not in out and ">" not in out


def test_side_panels_escape_passages_and_reasons(fake_assistant):
    reply = fake_assistant.grounded("Phi 4 有多大？")
    reply.sources.append(Passage(id="user:evil", source="user", title="<b>t</b>", text=EVIL, score=0.0))
    reply.excluded.clear()
    sources = ui.render_sources(reply)
    assert "<script" not in sources and "<img" not in sources and "&lt;script&gt;" in sources
    assert "&lt;b&gt;t&lt;/b&gt;" in sources
    reply.answer = EVIL
    assert_inert(ui.answer_markdown(reply))


# ------------------------------------------------------------------ chat handler


def test_respond_streams_a_traditional_answer_with_cards_and_sources(fake_assistant):
    steps = drain(ui.respond(fake_assistant, SMALL_MACHINE, "我要商用、只有 16GB 筆電，想跑能寫程式的模型，選哪個？", [], "grounded", "auto"))
    assert len(steps) >= 3  # placeholder, streamed lines, final
    assert steps[0][0][-1]["content"] == "正在查資料…"
    chat, textbox, cards, why_not, sources, status = steps[-1]
    assert textbox == ""
    assert [m["role"] for m in chat] == ["user", "assistant"]
    answer = last_answer(chat)
    assert "▍" not in answer and is_traditional_only(answer)
    assert cards.count('class="rec-card"') >= 3
    assert "可商用" in cards and "本機可跑" in cards
    assert "不可商用" not in cards  # the user asked for commercial use
    assert "<li>" in why_not and "放不下" in why_not
    assert "[1]" in sources and "<details" in sources
    assert "grounded" in status


def test_respond_follow_up_uses_the_conversation(fake_assistant):
    first = drain(ui.respond(fake_assistant, SMALL_MACHINE, "Phi 4 有多大？", [], "grounded", "zh-TW"))[-1][0]
    assert "14.7B" in last_answer(first)
    second = drain(ui.respond(fake_assistant, SMALL_MACHINE, "那它可以商用嗎？", first, "grounded", "zh-TW"))[-1]
    answer = last_answer(second[0])
    assert "Phi-4" in answer and "MIT" in answer and "可商用" in answer
    assert len(second[0]) == 4
    assert "Phi-4" in second[2]  # the card for the model the answer is about


def test_respond_passes_history_mode_and_language(fake_assistant):
    scripted = ScriptedAssistant(fake_assistant, deltas=["好"], reply=fake_assistant.grounded("Phi 4 有多大？"))
    chat = [
        {"role": "user", "content": [{"type": "text", "text": "Phi 4 有多大？"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "14.7B"}, {"type": "file", "file": {"path": "/etc/passwd"}}]},
    ]
    drain(ui.respond(scripted, SMALL_MACHINE, "那它可以商用嗎？", chat, "llm", "en"))
    call = scripted.calls[0]
    assert call["history"] == [{"role": "user", "content": "Phi 4 有多大？"}, {"role": "assistant", "content": "14.7B"}]
    assert call["use_llm"] is True and call["language"] == "en"
    drain(ui.respond(scripted, SMALL_MACHINE, "Phi 4", [], "grounded", "auto"))
    assert scripted.calls[1]["use_llm"] is False and scripted.calls[1]["language"] is None


def test_english_setting_answers_in_english(fake_assistant):
    chat, _box, cards, _why, sources, status = drain(
        ui.respond(fake_assistant, SMALL_MACHINE, "Which models have an MIT licence?", [], "grounded", "en")
    )[-1]
    answer = last_answer(chat)
    assert "MIT" in answer and not re.search(r"[\u4e00-\u9fff]{4,}", answer.split("(Catalog")[0])
    assert "commercial OK" in cards and "Mode: grounded" in status


@pytest.mark.parametrize("question", ["", "   ", "\n\t", None])
def test_empty_question_gets_a_friendly_message_and_no_model_call(fake_assistant, question):
    scripted = ScriptedAssistant(fake_assistant)
    steps = drain(ui.respond(scripted, SMALL_MACHINE, question, [], "grounded", "auto"))
    assert scripted.calls == []
    assert len(steps) == 1 and steps[0][0] == [] and "請先輸入問題" in steps[0][5]


def test_streamed_model_output_is_sanitized_at_every_step(fake_assistant):
    reply = fake_assistant.grounded("Phi 4 有多大？")
    reply.answer = EVIL
    scripted = ScriptedAssistant(fake_assistant, deltas=["<script>", "alert(1)</script>", "![x](https://evil.example/pixel.png)"], reply=reply)
    for chat, *_ in drain(ui.respond(scripted, SMALL_MACHINE, "<img src=x onerror=alert(1)>", [], "grounded", "auto")):
        for message in chat:
            assert_inert(ui._message_text(message["content"]))


def test_a_failing_assistant_leaves_a_friendly_message(fake_assistant):
    class Broken(ScriptedAssistant):
        def ask_stream(self, *args, **kwargs):
            raise RuntimeError("boom /secret/path")
            yield  # pragma: no cover

    chat = drain(ui.respond(Broken(fake_assistant), SMALL_MACHINE, "Phi 4?", [], "grounded", "auto"))[-1][0]
    assert "發生錯誤" in last_answer(chat) and "secret" not in last_answer(chat)


def test_clear_conversation_empties_chat_and_panels():
    chat, textbox, cards, why_not, sources, status = ui.clear_conversation("zh-TW")
    assert chat == [] and textbox == "" and "panel-empty" in cards and "panel-empty" in sources


# ------------------------------------------------------------------ cards and badges


def test_fit_badge_uses_the_machine_memory(catalog):
    phi4, kimi = catalog.by_id["phi-4"], catalog.by_id["kimi-k2"]
    assert "本機可跑" in ui.fit_badge(phi4, SMALL_MACHINE)
    assert "本機放不下" in ui.fit_badge(kimi, SMALL_MACHINE)
    assert "VRAM 24" in ui.fit_badge(kimi, {"ram_gb": 64.0, "vram_gb": 24.0})
    assert "未知" in ui.fit_badge(phi4, {})
    assert "fits this machine" in ui.fit_badge(phi4, SMALL_MACHINE, "en")


def test_commercial_badges(catalog):
    assert "可商用" in ui.commercial_badge(catalog.by_id["phi-4"])
    assert "有條件" in ui.commercial_badge(catalog.by_id["gemma-3"])
    assert "不可商用" in ui.commercial_badge(catalog.by_id["command-a"])


# ------------------------------------------------------------------ settings panel


def test_settings_without_an_llm_layer_say_grounded_only(fake_assistant):
    text = ui.settings_markdown(ScriptedAssistant(fake_assistant))
    assert "grounded mode only" in text
    choices, default = ui.mode_choices(ScriptedAssistant(fake_assistant))
    assert default == ui.MODE_GROUNDED and "目前無法使用" in choices[0][0]


def test_settings_show_why_the_llm_is_unavailable_and_the_models(fake_assistant):
    class WithLLM(ScriptedAssistant):
        available = False

        def llm_status(self):
            return {"available": self.available, "model": "tiny.gguf" if self.available else None, "path": None,
                    "chat_template": False, "reason_zh": "這是基礎模型，沒有對話樣板", "reason_en": "base model, no chat template"}

        def list_models(self):
            return [{"name": "tiny.gguf", "active": True, "chat_template": False}, {"path": "/m/other.gguf"}]

    assistant = WithLLM(fake_assistant)
    text = ui.settings_markdown(assistant)
    assert "基礎模型" in text and "tiny.gguf" in text and "other.gguf" in text and "/m/" not in text
    assert "base model" in ui.settings_markdown(assistant, "en")
    assistant.available = True
    assert "語言模型可用" in ui.settings_markdown(assistant)
    assert ui.mode_choices(assistant)[1] == ui.MODE_LLM


# ------------------------------------------------------------------ catalog tab


def names(rows):
    return {row[0] for row in rows}


def test_catalog_rows_cover_the_catalog_and_filter(catalog):
    everything = ui.catalog_rows(catalog)
    assert len(everything) == len(catalog.models) and len(everything[0]) == len(ui.CATALOG_HEADERS)
    commercial = names(ui.catalog_rows(catalog, "commercial"))
    assert "Command A" not in commercial and "Codestral 22B" not in commercial and "Gemma 3" in commercial
    assert "Gemma 3" not in names(ui.catalog_rows(catalog, "unconditional"))
    small = names(ui.catalog_rows(catalog, max_size_b=4))
    assert "Qwen3" in small and "Kimi K2" not in small  # a series with a small size stays
    vision = ui.catalog_rows(catalog, tags=["vision"])
    assert vision and all("看圖" in row[10] for row in vision)
    assert names(ui.catalog_rows(catalog, vendors=["Microsoft"])) >= {"Phi-4"}
    assert all(row[2] == "Microsoft" for row in ui.catalog_rows(catalog, vendors=["Microsoft"]))
    context = {row[0]: row[6] for row in everything}
    # As the model cards say it: the native window (Qwen3 reaches 128k only with YaRN, issue 13).
    assert context["Phi-4"] == 16 and context["Qwen3"] == 32


def test_catalog_entry_shows_the_article_passage(fake_assistant):
    model = ui.model_by_name(fake_assistant.catalog, "Phi-4")
    html = ui.render_entry(fake_assistant, model)
    assert "MIT" in html and "原文段落" in html and "Phi 家族" in html
    assert 'class="passage"' in html
    assert "panel-empty" in ui.render_entry(fake_assistant, None)


# ------------------------------------------------------------------ compare tab


def test_compare_side_by_side_and_markdown_export(fake_assistant, tmp_path):
    catalog = fake_assistant.catalog
    html = ui.compare_html(catalog, ["Phi-4", "Gemma 3"], 16, "ram")
    assert "Phi-4" in html and "Gemma 3" in html and "16GB RAM" in html and "原文評價" in html
    assert "panel-empty" in ui.compare_html(catalog, ["Phi-4"])
    path = ui.export_comparison(fake_assistant, ["Phi-4", "Gemma 3", "Qwen3", "Kimi K2"], 16, "ram", "zh-TW", tmp_path)
    assert path is not None and path.parent == tmp_path and path.suffix == ".md"
    text = path.read_text(encoding="utf-8")
    assert "| | Phi-4 | Gemma 3 | Qwen3 |" in text and "Kimi K2" not in text  # at most three
    assert catalog.as_of.isoformat() in text and "## 資料來源" in text and "huggingface.co/microsoft/phi-4" in text
    assert "> " in text  # the article's own words
    assert ui.export_comparison(fake_assistant, ["Phi-4"], 16, "ram", "zh-TW", tmp_path) is None


# ------------------------------------------------------------------ hardware tab


def test_hardware_rows_list_what_fits_first(catalog):
    rows = ui.hardware_rows(catalog, 16, "ram", 4096, "Q4_K_M")
    fits = [r for r in rows if r[5].startswith("✓")]
    assert fits and rows[: len(fits)] == fits
    assert all(r[4] <= 16 for r in fits)
    only = ui.hardware_rows(catalog, 16, "ram", 4096, "Q4_K_M", only_fits=True)
    assert only == fits
    assert all(r[6].startswith("~") for r in fits)


def test_hardware_chart_draws_bars_against_the_budget(catalog):
    figure = ui.hardware_chart(catalog, 16, "ram", 4096, "Q4_K_M")
    ax = figure.axes[0]
    assert len(ax.patches) >= 10
    assert any(list(line.get_xdata()) == [16.0, 16.0] for line in ax.get_lines())
    green = [p for p in ax.patches if p.get_facecolor()[1] > p.get_facecolor()[0]]
    assert green and all(p.get_width() <= 16 for p in green)
    if ui.cjk_font():
        assert "預算" in "".join(t.get_text() for t in ax.texts)


def test_detect_this_machine_returns_a_budget():
    memory, kind, summary = ui.detect_this_machine()
    assert memory > 0 and kind in ("ram", "vram") and "RAM" in summary


# ------------------------------------------------------------------ launch safety


def test_loopback_and_auth_parsing():
    assert ui.is_loopback("127.0.0.1") and ui.is_loopback("localhost") and ui.is_loopback("::1")
    assert not ui.is_loopback("0.0.0.0") and not ui.is_loopback("192.168.1.5") and not ui.is_loopback("example.com")
    assert ui.parse_auth("user:pa:ss") == ("user", "pa:ss")
    assert ui.parse_auth(None) is None
    for bad in ("nopassword", ":pw", "user:"):
        with pytest.raises(ValueError):
            ui.parse_auth(bad)


def test_launch_options_are_private_and_local(fake_assistant, settings, monkeypatch):
    monkeypatch.setenv("GRADIO_SHARE", "True")
    monkeypatch.setenv("GRADIO_ALLOWED_PATHS", "/")
    demo = ui.build_ui(fake_assistant, settings, machine=SMALL_MACHINE)
    options = ui.launch_options(demo, settings)
    assert options["share"] is False and options["server_name"] == "127.0.0.1"
    assert options["allowed_paths"] == [str(demo.export_dir)]
    blocked = options["blocked_paths"]
    for folder in (settings.knowledge_dir, settings.models_dir, settings.data_dir, ui.PROJECT_ROOT):
        assert str(Path(folder).resolve()) in blocked
    assert options["ssr_mode"] is False and options["mcp_server"] is False and options["enable_monitoring"] is False
    with pytest.raises(ValueError, match="ASSISTANT_AUTH"):
        ui.launch_options(demo, settings.model_copy(update={"host": "0.0.0.0"}))
    with_auth = ui.launch_options(demo, settings.model_copy(update={"host": "0.0.0.0", "auth": "a:b"}))
    assert with_auth["auth"] == ("a", "b")


def test_build_ui_has_a_bounded_queue_and_one_model_request_at_a_time(fake_assistant, tmp_path):
    settings = fake_assistant.settings.model_copy(update={"queue_size": 3})
    demo = ui.build_ui(fake_assistant, settings, machine=SMALL_MACHINE)
    assert demo._queue.max_size == 3
    chat = [fn for fn in demo.fns.values() if fn.api_name == "chat"]
    # Grounded answers run side by side in their own group; the model slot is inside the handler
    # (server.guarded_chat), tested live in test_server.py.
    assert chat and chat[0].concurrency_id == "chat" and chat[0].concurrency_limit == settings.chat_concurrency


def test_a_full_queue_says_busy_in_chinese(fake_assistant, settings):
    demo = ui.build_ui(fake_assistant, settings, machine=SMALL_MACHINE)

    async def full(*args, **kwargs):
        return False, "Queue is full. Max size is 8 and size is 8.", "queue_full"

    demo._queue.push = full
    ui.friendly_queue_full(demo)
    success, detail, state = asyncio.run(demo._queue.push(None, None, None))
    assert not success and state == "queue_full" and "忙碌中" in detail


def test_ui_module_is_not_imported_by_the_cli():
    import subprocess
    import sys

    code = "import sys, assistant.cli; print('gradio' in sys.modules, 'assistant.ui' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_settings_fixture_is_isolated(settings):
    assert isinstance(settings, Settings) and settings.embedder == "fake-64"
