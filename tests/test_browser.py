"""End to end in a real Chromium (Debian `chromium`, driven by Playwright).

Waits are on selectors and page state, never on network idle. Screenshots of every tab go
to test-artifacts/ (git-ignored); the chat tab is also saved as docs/screenshot-chat.png
for the README.
"""

from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"
README_SCREENSHOT = ROOT / "docs" / "screenshot-chat.png"
ANSWER_TIMEOUT_MS = 60_000
MACHINE = {"ram_gb": 16.0, "vram_gb": None, "gpus_vram_gb": [], "ram_source": "test"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(assistant, machine=MACHINE):
    from assistant import ui

    settings = assistant.settings.model_copy(update={"port": free_port()})
    demo = ui.build_ui(assistant, settings, machine=machine)
    ui.serve(demo, settings, prevent_thread_lock=True, quiet=True)
    return demo, f"http://127.0.0.1:{settings.port}/"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def app_url(real_assistant):
    demo, url = start(real_assistant)
    yield url
    demo.close()


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-TW", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(app_url)
    page.wait_for_selector("#question textarea")
    yield page
    context.close()
    assert errors == []


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def bot_messages(page):
    return page.locator("#chatbot [data-testid='bot']")


def ask(page, question: str) -> str:
    """Type a question, send it, wait for the final answer (sources rendered, no cursor)."""
    before = bot_messages(page).count()
    page.fill("#question textarea", question)
    page.click("#send")
    page.wait_for_function(
        """([before]) => {
            const bots = document.querySelectorAll("#chatbot [data-testid='bot']");
            if (bots.length <= before) return false;
            const text = bots[bots.length - 1].innerText;
            return text.length > 20 && !text.includes("▍") && !text.includes("正在查資料");
        }""",
        arg=[before],
        timeout=ANSWER_TIMEOUT_MS,
    )
    page.wait_for_selector("#sources details")
    return bot_messages(page).last.inner_text()


WATCH_STREAM = """() => {
    window.__answerStates = [];
    const record = () => {
        const bots = document.querySelectorAll("#chatbot [data-testid='bot']");
        if (!bots.length) return;
        const text = bots[bots.length - 1].innerText;
        if (text && window.__answerStates[window.__answerStates.length - 1] !== text) window.__answerStates.push(text);
    };
    new MutationObserver(record).observe(document.querySelector("#chatbot"), {subtree: true, childList: true, characterData: true});
}"""


def test_chat_streams_a_traditional_answer_with_sources_and_follows_up(page):
    from assistant.chinese import is_traditional_only

    page.evaluate(WATCH_STREAM)
    answer = ask(page, "Phi 4 有多大？")
    states = page.evaluate("window.__answerStates")
    assert len(states) >= 2, states  # the bubble changed while the answer streamed in
    assert "Phi-4" in answer and "14.7B" in answer and "[1]" in answer
    assert is_traditional_only(answer)
    sources = page.locator("#sources details")
    assert sources.count() >= 1
    summary = sources.first.locator("summary").inner_text()
    assert re.match(r"\[1\] \S", summary)
    sources.first.locator("summary").click()
    assert sources.first.locator(".src-text").is_visible()
    assert "Phi-4" in page.inner_text("#cards")

    follow_up = ask(page, "那它可以商用嗎？")
    assert "Phi-4" in follow_up and ("MIT" in follow_up or "可商用" in follow_up)
    assert bot_messages(page).count() == 2

    page.click("#clear")
    page.wait_for_function("document.querySelectorAll(\"#chatbot [data-testid='bot']\").length === 0")

    answer = ask(page, "我要商用、只有 16GB 筆電，想跑能寫程式的模型，選哪個？")
    assert is_traditional_only(answer)
    cards = page.locator("#cards .rec-card")
    assert cards.count() >= 3
    assert "可商用" in cards.first.inner_text() and "本機可跑" in cards.first.inner_text()
    assert page.locator("#why-not li").count() >= 1
    path = screenshot(page, "chat")
    README_SCREENSHOT.parent.mkdir(exist_ok=True)
    shutil.copyfile(path, README_SCREENSHOT)


def test_examples_fill_the_question(page):
    page.locator("#examples button, #examples td, #examples .gallery-item").filter(has_text="Cohere Command 可以商用嗎").first.click()
    page.wait_for_function("document.querySelector('#question textarea').value.includes('Cohere')")


def test_catalog_filters_to_commercial_use_and_shows_an_entry(page):
    page.click("#tab-catalog-button")
    table = page.locator("#catalog-table")
    table.wait_for()
    page.wait_for_function("document.querySelector('#catalog-table').innerText.includes('Command A')")
    page.click("#filter-commercial label:has-text('可商用（含有條件）')")
    page.wait_for_function("!document.querySelector('#catalog-table').innerText.includes('Command A')")
    assert "符合" in page.inner_text("#catalog-count")
    text = table.inner_text()
    assert "Codestral" not in text and "DeepSeek-R1" in text
    table.get_by_text("DeepSeek-R1", exact=True).first.click()
    page.wait_for_selector("#catalog-entry .passage")
    entry = page.inner_text("#catalog-entry")
    assert "DeepSeek-R1" in entry and "MIT" in entry
    assert page.locator("#catalog-entry .passage").count() >= 1
    screenshot(page, "catalog")


def test_compare_two_models_and_download_markdown(page, tmp_path):
    page.click("#tab-compare-button")
    page.wait_for_selector("#compare-models")
    assert "Phi-4" in page.inner_text("#compare-models") and "Gemma 3" in page.inner_text("#compare-models")
    page.click("#compare-button")
    page.wait_for_selector("#comparison table")
    table = page.inner_text("#comparison")
    assert "Phi-4" in table and "Gemma 3" in table and "原文評價" in table and "16GB RAM" in table
    page.wait_for_selector("#compare-download", state="visible")
    with page.expect_download() as info:
        page.click("#compare-download")
    download = info.value
    assert download.suggested_filename.endswith(".md")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("# 模型比較：Phi-4 vs Gemma 3")
    from assistant.knowledge import load_catalog

    as_of = load_catalog(ROOT / "knowledge" / "catalog.yaml").as_of.isoformat()  # moves with the catalog
    assert f"型錄資料截至 {as_of}" in text and "## 資料來源" in text and "huggingface.co/microsoft/phi-4" in text
    screenshot(page, "compare")


def test_hardware_tab_draws_what_fits(page):
    page.click("#tab-hardware-button")
    page.fill("#hw-memory input", "16")
    page.click("#hw-button")
    page.wait_for_selector("#hw-plot img")
    page.wait_for_function("document.querySelector('#hw-table').innerText.includes('✓')")
    assert "Phi-4" in page.inner_text("#hw-table")
    screenshot(page, "hardware")


# ------------------------------------------------------------------ output is inert

EVIL = (
    "答案 <script>window.__pwned=1;alert(1)</script><img src=x onerror=\"window.__pwned=2\">"
    "<svg onload=\"window.__pwned=3\"></svg> ![t](http://127.0.0.1:9/pixel.png) "
    "[點我](javascript:window.__pwned=4) <a href=\"javascript:window.__pwned=5\">連結</a> "
    "<iframe src=\"javascript:window.__pwned=6\"></iframe> ${window.__pwned=7} {{7*7}}"
)


class EvilAssistant:
    """Streams a hostile answer and hostile passages; the page must render them as text."""

    def __init__(self, real) -> None:
        self.real = real
        self.catalog, self.settings, self.retriever = real.catalog, real.settings, real.retriever

    def ask_stream(self, question, history=None, use_llm=True, language=None):
        from assistant.retrieval import Passage
        from assistant.service import Event

        reply = self.real.grounded("Phi 4 有多大？")
        reply.answer = EVIL
        reply.sources.append(Passage(id="user:evil", source="user", title="<img src=x onerror=window.__pwned=8>", text=EVIL, score=0))
        yield Event("delta", EVIL[:40])
        yield Event("delta", EVIL[40:])
        yield Event("final", EVIL, reply)


def test_model_and_passage_html_is_inert_in_the_browser(browser, fake_assistant):
    demo, url = start(EvilAssistant(fake_assistant))
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(url)
        page.wait_for_selector("#question textarea")
        page.fill("#question textarea", "<img src=x onerror=window.__pwned=9>")
        page.click("#send")
        page.wait_for_selector("#sources details[data-source-id='user:evil']")
        page.wait_for_function("document.querySelector(\"#chatbot [data-testid='bot']\").innerText.includes('答案')")
        for details in page.locator("#sources details").all():
            details.locator("summary").click()
        assert page.evaluate("window.__pwned") is None
        assert dialogs == []
        for selector in ("#chatbot", "#sources", "#cards", "#why-not"):
            assert page.locator(f"{selector} script, {selector} img, {selector} svg[onload], {selector} iframe").count() == 0
        assert page.locator("a[href^='javascript' i]").count() == 0
        assert not [r for r in requests if "pixel.png" in r]
        text = page.inner_text("#chatbot")
        assert "<script>" in text or "&lt;script&gt;" not in text  # shown as text
        assert "window.__pwned=8" in page.inner_text("#sources")
    finally:
        context.close()
        demo.close()
