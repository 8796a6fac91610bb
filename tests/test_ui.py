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
    return ui.message_text(chat[-1]["content"])


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
    chat, textbox, cards, why_not, sources, status, state = steps[-1]
    assert textbox == ""
    assert [m["role"] for m in chat] == ["user", "assistant"]
    answer = last_answer(chat)
    assert "▍" not in answer and is_traditional_only(answer)
    assert cards.count('class="rec-card"') >= 3
    assert "可商用" in cards and "16 GB RAM 可跑" in cards and "本機" not in cards
    assert "不可商用" not in cards  # the user asked for commercial use
    assert "<li>" in why_not and "放不下" in why_not
    assert "[1]" in sources and "<details" in sources and 'id="src-a1-1"' in sources
    assert "grounded" in status and len(state["sources"]) == 1


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
    chat, _box, cards, _why, sources, status, _state = drain(
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
            assert_inert(ui.message_text(message["content"]))


def test_a_failing_assistant_leaves_a_friendly_message(fake_assistant):
    class Broken(ScriptedAssistant):
        def ask_stream(self, *args, **kwargs):
            raise RuntimeError("boom /secret/path")
            yield  # pragma: no cover

    chat = drain(ui.respond(Broken(fake_assistant), SMALL_MACHINE, "Phi 4?", [], "grounded", "auto"))[-1][0]
    assert "發生錯誤" in last_answer(chat) and "secret" not in last_answer(chat)


def test_clear_conversation_empties_chat_and_panels():
    chat, textbox, cards, why_not, sources, status, state = ui.clear_conversation("zh-TW")
    assert chat == [] and textbox == "" and "panel-empty" in cards and "panel-empty" in sources
    assert state == ui.new_conversation()


# ------------------------------------------------------------------ cards and badges


def test_fit_badge_names_the_budget_and_the_rule_not_this_machine(catalog):
    phi4, kimi = catalog.by_id["phi-4"], catalog.by_id["kimi-k2"]
    assert "16 GB RAM 可跑" in ui.fit_badge(phi4, SMALL_MACHINE)
    assert "16 GB RAM 放不下" in ui.fit_badge(kimi, SMALL_MACHINE)
    assert "24 GB VRAM 放不下" in ui.fit_badge(kimi, {"memory_gb": 24.0, "kind": "vram"})
    assert ui.fit_badge(phi4, {}) == "" and ui.fit_badge(phi4, None) == ""  # no stated hardware: no badge
    assert "fits 16 GB RAM" in ui.fit_badge(phi4, SMALL_MACHINE, "en")
    badge = ui.fit_badge(phi4, SMALL_MACHINE)
    # The tooltip is the budget rule the engine judged by (RAM less what the OS keeps).
    assert "本機" not in badge and re.search(r'title="假設：[^"]*系統記憶體', badge)
    assert "顯存" not in badge


def test_commercial_badges(catalog):
    assert "可商用" in ui.commercial_badge(catalog.by_id["phi-4"])
    assert "有條件" in ui.commercial_badge(catalog.by_id["gemma-3"])
    assert "不可商用" in ui.commercial_badge(catalog.by_id["command-a"])


def test_recommendation_cards_show_the_capability_figure_and_its_source(fake_assistant):
    reply = fake_assistant.grounded("我要商用、只有 16GB 筆電，想跑能寫程式的模型，選哪個？")
    cards = ui.render_cards(reply, fake_assistant.catalog, {"memory_gb": 16.0, "kind": "ram", "origin": "conversation"})
    lines = re.findall(r'<div class="rec-cap">(.*?)</div>', cards)
    assert len(lines) == len(reply.recommendations) >= 3
    for rec, line in zip(reply.recommendations, lines, strict=True):
        assert line.startswith("能力：")
        if rec.capability:
            figure = rec.capability["figure"]
            name, source = re.match(r"^(.*\S)\s+\(([^()]*)\)$", figure).groups()
            assert f"{name}（{source}）" in html_unescape(line)  # the figure with its source, full-width brackets
    english = ui.render_cards(fake_assistant.grounded("Best coding model for a 16GB laptop, commercial use?"),
                              fake_assistant.catalog, None, "en")
    assert re.search(r'<div class="rec-cap">capability: ', english)


def test_a_recommendation_without_a_figure_says_so():
    class Rec:
        capability = None

    assert ui.capability_line(Rec(), "zh-TW") == "能力：沒有測得的數據"
    assert ui.capability_line(Rec(), "en") == "capability: no measured figure"
    Rec.capability = {"task": "coding", "figure": "LiveCodeBench 63.5 (Qwen3 tech report, 2025-05)", "fallback": None}
    assert ui.capability_line(Rec(), "zh-TW") == "能力：LiveCodeBench 63.5（Qwen3 tech report, 2025-05）"
    assert ui.capability_line(Rec(), "en") == "capability: LiveCodeBench 63.5 (Qwen3 tech report, 2025-05)"


def html_unescape(text: str) -> str:
    import html

    return html.unescape(text)


# ------------------------------------------------------------------ one-time notices


def test_a_notice_is_shown_once_per_conversation():
    state = ui.new_conversation()
    first = ui.notify_once(state, "伺服器上的語言模型太慢")
    assert "伺服器上的語言模型太慢" in first and first.lstrip().startswith("⚠")
    assert ui.notify_once(state, "伺服器上的語言模型太慢") == ""
    assert ui.notify_once(state, None) == "" and ui.notify_once(state, "") == ""
    assert ui.slow_model_notice({"too_slow": False}, "zh-TW") is None
    assert "120 秒" in ui.slow_model_notice({"too_slow": True, "timeout_s": 120}, "zh-TW")
    assert "120 s" in ui.slow_model_notice({"too_slow": True, "timeout_s": 120}, "en")


def test_the_status_line_says_a_slow_model_once(fake_assistant):
    class Slow(ScriptedAssistant):
        def llm_status(self):
            return {"available": True, "model": "m.gguf", "too_slow": True, "timeout_s": 90}

    reply = fake_assistant.grounded("Phi 4 有多大？")
    slow = Slow(fake_assistant, reply=reply)
    first = drain(ui.respond(slow, None, "Phi 4 有多大？", [], "llm", "zh-TW"))[-1]
    assert "90 秒" in first[5]
    second = drain(ui.respond(slow, None, "Phi 4 有多大？", first[0], "llm", "zh-TW", first[6]))[-1]
    assert "90 秒" not in second[5] and "模式" in second[5]


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
    english = ui.settings_markdown(assistant, "en")
    assert "base model" in english and not re.search(r"[\u4e00-\u9fff]", english)
    assistant.available = True
    assert "語言模型可用" in ui.settings_markdown(assistant)
    assert ui.mode_choices(assistant)[1] == ui.MODE_LLM


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
    assert options["ssr_mode"] is False and options["enable_monitoring"] is False
    assert options["mcp_server"] is True  # api.py's four tools only, behind the same sign-in (tests/test_mcp.py)
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
    assert {fn.api_name for fn in demo.fns.values() if fn.api_name} >= {"chat", "compare", "hardware"}


def test_a_full_queue_says_busy_in_chinese(fake_assistant, settings):
    demo = ui.build_ui(fake_assistant, settings, machine=SMALL_MACHINE)

    async def full(*args, **kwargs):
        return False, "Queue is full. Max size is 8 and size is 8.", "queue_full"

    demo._queue.push = full
    ui.friendly_queue_full(demo)
    success, detail, state = asyncio.run(demo._queue.push(None, None, None))
    assert not success and state == "queue_full" and "忙碌中" in detail


def test_the_package_is_split_and_imports_neither_server_nor_gradio_for_the_cli():
    import subprocess
    import sys

    code = "import sys, assistant.cli; print('gradio' in sys.modules, 'assistant.ui' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
    code = "import sys, assistant.ui, assistant.ui.assets; print('assistant.server' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False"]
    folder = Path(ui.__file__).parent
    sizes = {path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in folder.glob("*.py")}
    assert {"chat.py", "catalog.py", "compare.py", "hardware.py", "settings.py", "assets.py"} <= set(sizes)
    assert max(sizes.values()) <= 600, sizes
    assets = (folder / "assets.py").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(?:import|from)\s", assets, re.M)  # a leaf


def test_settings_fixture_is_isolated(settings):
    assert isinstance(settings, Settings) and settings.embedder == "fake-64"


# ------------------------------------------------------------------ issue 10: the conversation UI


class PlannedReply:
    """A reply stand-in with a `plan`, as the planner will attach one."""

    def __init__(self, memory_gb, memory_kind, constraints=None):
        self.plan = {"memory_gb": memory_gb, "memory_kind": memory_kind}
        self.constraints = constraints


def test_each_answer_links_its_own_citations_and_keeps_its_sources(fake_assistant):
    scripted = ScriptedAssistant(fake_assistant)
    first = drain(ui.respond(fake_assistant, None, "Phi 4 有多大？", [], "grounded", "zh-TW", None))[-1]
    chat, state = first[0], first[6]
    assert "[\\[1\\]](#src-a1-1)" in last_answer(chat)
    second = drain(ui.respond(fake_assistant, None, "Gemma 3 可以商用嗎？", chat, "grounded", "zh-TW", state))[-1]
    chat, sources, state = second[0], second[4], second[6]
    assert "](#src-a2-1)" in last_answer(chat) and "](#src-a1-1)" in ui.message_text(chat[1]["content"])
    # Both answers' passages are in the panel, each under its own ids.
    assert 'id="src-a1-1"' in sources and 'id="src-a2-1"' in sources and len(state["sources"]) == 2
    assert "Phi" in sources.split('id="src-a1"')[1]
    # The history sent back to the assistant has plain [n], not the link syntax.
    drain(ui.respond(scripted, None, "那它呢？", chat, "grounded", "zh-TW", state))
    history = scripted.calls[0]["history"]
    assert "[1]" in history[1]["content"] and "#src-a" not in history[1]["content"]
    # Clearing the chat starts the numbering again.
    assert ui.conversation(state, [])["sources"] == []


def test_link_citations_only_links_cited_numbers_in_range():
    text = ui.link_citations("A [1] B [2][3] C [9] [x](https://e.org) [1](https://e.org)", 4, 3)
    assert "[\\[1\\]](#src-a4-1)" in text and "[\\[3\\]](#src-a4-3)" in text
    assert " [9]" in text and "[1](https://e.org)" in text
    assert ui.unlink_citations(text).startswith("A [1] B [2][3] C [9]")


def test_a_list_does_not_swallow_the_paragraph_after_it(fake_assistant):
    from markdown_it import MarkdownIt

    reply = fake_assistant.grounded("我要商用、只有 16GB 筆電，想跑能寫程式的模型，選哪個？")
    reply.answer = "建議：\n1. A\n2. B\n原文認為 A 最好。"  # a paragraph right after a list, as the composer may write it
    rendered = MarkdownIt("commonmark").render(ui.answer_markdown(reply, 1))
    items = re.findall(r"<li>(.*?)</li>", rendered, re.S)
    assert items and not any("原文認為" in item for item in items)
    assert re.search(r"<p>原文認為", rendered)


def test_fit_follows_the_hardware_in_the_conversation_not_the_server(fake_assistant):
    server = {"ram_gb": 512.0, "vram_gb": None, "gpus_vram_gb": []}
    final = drain(ui.respond(fake_assistant, server, "我要商用、只有 16GB 筆電，想跑能寫程式的模型，選哪個？", [], "grounded", "zh-TW"))[-1]
    cards, state = final[2], final[6]
    assert "16 GB RAM 可跑" in cards and "512" not in cards and "本機" not in cards
    assert {k: state["hardware"][k] for k in ("memory_gb", "kind", "origin")} == {"memory_gb": 16.0, "kind": "ram",
                                                                               "origin": "conversation"}
    # A follow-up that states no hardware keeps the conversation's budget.
    follow = drain(ui.respond(fake_assistant, server, "Kimi K2 呢？", final[0], "grounded", "zh-TW", state))[-1]
    assert "16 GB RAM 放不下" in follow[2]
    # Nothing stated and nothing detected: no fit badge at all, and a hint how to get one.
    plain = drain(ui.respond(fake_assistant, None, "Phi 4 可以商用嗎？", [], "grounded", "zh-TW"))[-1][2]
    assert "badge-fit" not in plain and "badge-nofit" not in plain and "說出你的硬體" in plain
    # Only an explicit detection makes the server's hardware count.
    state = ui.new_conversation()
    state["detected"] = {"memory_gb": 24.0, "kind": "vram", "origin": "detected"}
    detected = drain(ui.respond(fake_assistant, None, "Phi 4 可以商用嗎？", [], "grounded", "zh-TW", state))[-1][2]
    assert "24 GB VRAM 可跑" in detected and "伺服器" in detected


def test_reply_hardware_reads_the_plan_first_and_keeps_the_previous_budget(fake_assistant):
    reply = fake_assistant.grounded("一張 RTX 4090 可以跑什麼？")
    hardware = ui.reply_hardware(reply)
    assert {k: hardware[k] for k in ("memory_gb", "kind", "origin")} == {"memory_gb": 24.0, "kind": "vram", "origin": "conversation"}
    assert ui.hardware_label(hardware, "zh-TW") in ("24 GB VRAM", "RTX 4090（24 GB VRAM）")
    assert ui.reply_hardware(PlannedReply(36, "unified"))["kind"] == "unified"
    two = ui.reply_hardware(fake_assistant.grounded("兩張 RTX 4090 可以跑什麼？"))
    if two.get("name"):  # the planner names the card: the badge says which hardware it judged
        assert "2× RTX 4090（48 GB VRAM）" in ui.fit_badge(fake_assistant.catalog.by_id["phi-4"], two)
    previous = {"memory_gb": 8.0, "kind": "ram", "origin": "conversation"}
    assert ui.reply_hardware(fake_assistant.grounded("Phi 4 可以商用嗎？"), previous) == previous


def test_conversation_hardware_fills_the_hardware_form(fake_assistant):
    from assistant.ui.page import hardware_fields

    hardware = ui.reply_hardware(fake_assistant.grounded("兩張 RTX 4090 可以跑什麼？"))
    total, kind, per_card, _kind, cards, _note, _note2, preset, bandwidth = hardware_fields(hardware, "zh-TW")
    assert (total, kind, per_card, cards) == (48.0, "vram", 24.0, 2)
    if hardware.get("name"):
        assert preset == "RTX 4090" and bandwidth == "1008"
    mac = hardware_fields({"memory_gb": 64.0, "kind": "unified", "name": "M3 Max", "origin": "conversation"}, "en")
    assert mac[7] == "M3 Max 64GB" and mac[8] == "400" and "From the conversation" in mac[6]


def test_build_ui_never_reads_the_server_hardware_without_a_click(fake_assistant, settings, monkeypatch):
    from assistant.ui import hardware as tab

    def boom():
        raise AssertionError("detect_machine called at build time")

    monkeypatch.setattr(tab, "detect_machine", boom)
    demo = ui.build_ui(fake_assistant, settings)
    config = str(demo.config)
    assert "本機" not in config and "顯存" not in config


def test_english_panels_have_no_chinese_labels_or_dumps(fake_assistant):
    final = drain(ui.respond(fake_assistant, None, "Is Phi-4 good for coding?", [], "grounded", "en"))[-1]
    cards, sources = final[2], final[4]
    assert "Sources" in sources and "引用來源" not in sources
    assert "型錄・" not in sources and "原文・" not in sources and "EN:" not in sources and "。。" not in sources
    catalog_texts = re.findall(r'data-source-id="catalog:[^"]*">.*?<div class="src-text">(.*?)</div>', sources, re.S)
    assert catalog_texts and not any(re.search(r"[\u4e00-\u9fff]", t) for t in catalog_texts)
    assert "Recommended and mentioned models" in cards
    entry = ui.render_entry(fake_assistant, ui.model_by_name(fake_assistant.catalog, "Qwen3"), "en")
    weaknesses = re.search(r"<th>Weaknesses</th><td>(.*?)</td>", entry).group(1)
    assert not re.search(r"[\u4e00-\u9fff]", weaknesses.replace("繁體中文", ""))
    verdict = re.search(r"<th>Article&#x27;s verdict</th><td>(.*?)</td>", entry).group(1)
    assert not re.search(r"[\u4e00-\u9fff]", verdict)
    compare = ui.compare_html(fake_assistant.catalog, ["Phi-4", "Qwen3"], 16, "ram", "en")
    assert "；" not in compare and "（" not in compare


def test_chinese_sources_drop_the_english_line_and_double_stops():
    passage = {"id": "catalog:x", "source": "catalog", "title": "型錄・X", "text": "X 很好。。\n別名：x\nEN: X is good."}
    zh = ui.render_source_groups([[passage]], "zh-TW")
    assert "X 很好。" in zh and "。。" not in zh and "EN:" not in zh and "別名" not in zh and "型錄・" not in zh
    en = ui.render_source_groups([[passage]], "en")
    assert "X is good." in en and "很好" not in en


def test_auto_language_panels_follow_the_question(fake_assistant):
    english = drain(ui.respond(fake_assistant, None, "Which models have an MIT licence?", [], "grounded", "auto"))[-1]
    assert "Sources" in english[4] and "Recommended and mentioned models" in english[2]
    chinese = drain(ui.respond(fake_assistant, None, "Phi 4 可以商用嗎？", [], "grounded", "auto"))[-1]
    assert "引用來源" in chinese[4] and "推薦與提到的模型" in chinese[2]


class StatusAssistant:
    def __init__(self, real, status):
        self.catalog, self.settings, self.retriever = real.catalog, real.settings, real.retriever
        self._status = status

    def llm_status(self):
        return self._status


def test_llm_status_line_shows_model_context_and_expected_wait(fake_assistant):
    status = {"available": True, "model": "qwen2.5-0.5b-instruct-q4_k_m.gguf", "n_ctx": 4096, "expected_wait_s": 12.4}
    zh = ui.settings_markdown(StatusAssistant(fake_assistant, status), "zh-TW")
    assert "qwen2.5-0.5b" in zh and "上下文 4096 token" in zh and "預計等待約 12 秒" in zh
    en = ui.settings_markdown(StatusAssistant(fake_assistant, status), "en")
    assert "context 4096 tokens" in en and "expected wait ~12 s" in en
    # While an LLM answer is on its way, the status line says how long to expect.
    scripted = StatusAssistant(fake_assistant, status)
    scripted.ask_stream = lambda *a, **k: iter(())
    first = next(ui.respond(scripted, None, "Phi 4?", [], "llm", "zh-TW"))
    assert "預計等待約 12 秒" in first[5]
    # After a model answer, the status line names the model that wrote it.
    reply = fake_assistant.grounded("Phi 4 有多大？")
    reply.mode = "llm"
    assert "qwen2.5-0.5b-instruct" in ui.mode_label(reply, status) and "語言模型" in ui.mode_label(reply, status)
    # Before the LLM layer reports them, the line still works.
    assert "（" not in ui.settings_markdown(StatusAssistant(fake_assistant, {"available": True, "model": "m"}), "zh-TW")


def test_a_rejected_model_answer_never_stays_on_screen(fake_assistant):
    reply = fake_assistant.grounded("Phi 4 有多大？")
    grounded = reply.answer
    reply.notices.append("語言模型的回答提到來源沒有的數字，改用檢索式回答。")

    class Rejecting(ScriptedAssistant):
        def ask_stream(self, question, history=None, use_llm=True, language=None):
            yield Event("status", "正在用本機模型撰寫回答…")
            yield Event("delta", "Phi-4 有 99B 參數，")
            yield Event("replace", grounded)
            yield Event("final", grounded, reply)

    steps = drain(ui.respond(Rejecting(fake_assistant), None, "Phi 4 有多大？", [], "llm", "zh-TW"))
    after_replace = [last_answer(step[0]) for step in steps if "事實檢查" in last_answer(step[0])]
    assert after_replace and all("99B" not in text for text in after_replace)
    final = last_answer(steps[-1][0])
    assert "99B" not in final and "14.7B" in final and "沒有的數字" in final

    class Vanishing(ScriptedAssistant):
        def ask_stream(self, question, history=None, use_llm=True, language=None):
            yield Event("status", "正在用本機模型撰寫回答…")
            yield Event("delta", "Phi-4 有 99B 參數，")

    final = last_answer(drain(ui.respond(Vanishing(fake_assistant), None, "Phi 4 有多大？", [], "llm", "zh-TW"))[-1][0])
    assert "99B" not in final and "中斷" in final
