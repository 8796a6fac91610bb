"""End to end in a real Chromium (Debian `chromium`, driven by Playwright).

Waits are on selectors and page state, never on network idle. Screenshots of every tab go
to test-artifacts/ (git-ignored); the chat tab is also saved as docs/screenshot-chat.png
for the README.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from .conftest import ROOT, free_port

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


def start(assistant, machine=MACHINE):
    from assistant import server, ui

    settings = assistant.settings.model_copy(update={"port": free_port()})
    demo = ui.build_ui(assistant, settings, machine=machine)
    server.serve(demo, settings, prevent_thread_lock=True, quiet=True)
    return demo, f"http://127.0.0.1:{settings.port}/"


def launch_chromium():
    """A headless Debian Chromium driven by Playwright (a generator: yields the browser)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def serve_app(assistant):
    """The app on a free port (a generator: yields its URL)."""
    demo, url = start(assistant)
    yield url
    demo.close()


def open_page(browser, url, **options):
    """A page of the app in a new context (a generator: yields the page, then checks for script errors)."""
    options = {"viewport": {"width": 1400, "height": 1000}, **options}
    context = browser.new_context(locale="zh-TW", accept_downloads=True, **options)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_selector("#question textarea")
    yield page
    context.close()
    assert errors == []


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


@pytest.fixture(scope="module")
def app_url(real_assistant):
    yield from serve_app(real_assistant)


@pytest.fixture
def page(browser, app_url):
    yield from open_page(browser, app_url)


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
    page.wait_for_selector(f"#sources details.source[id^='src-a{before + 1}-']")
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
    # A grounded answer arrives in one update (it is ready at once; the server sends only
    # the last state), so the bubble shows the answer without a half-drawn step.
    assert states and "Phi-4" in states[-1], states
    assert "Phi-4" in answer and "14.7B" in answer and "[1]" in answer
    assert is_traditional_only(answer)
    sources = page.locator("#sources details.source")
    assert sources.count() >= 1
    summary = sources.first.locator("summary").inner_text()
    assert re.match(r"\[1\] \S", summary)
    sources.first.locator("summary").click()
    assert sources.first.locator(".src-text").is_visible()
    assert "Phi-4" in page.inner_text("#cards")

    # A follow-up: the summary [1] of the first answer is still there under its own group.
    follow_up = ask(page, "那它可以商用嗎？")
    assert "Phi-4" in follow_up and ("MIT" in follow_up or "可商用" in follow_up)
    assert bot_messages(page).count() == 2

    page.click("#clear")
    page.wait_for_function("document.querySelectorAll(\"#chatbot [data-testid='bot']\").length === 0")

    answer = ask(page, "我要商用、只有 16GB 筆電，想跑能寫程式的模型，選哪個？")
    assert is_traditional_only(answer)
    cards = page.locator("#cards .rec-card")
    assert cards.count() >= 3
    assert "可商用" in cards.first.inner_text() and "16 GB RAM 可跑" in cards.first.inner_text()
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
    # Codestral 22B (MNPL) is filtered out; Codestral Mamba 7B (Apache-2.0) stays.
    assert "Codestral 22B" not in text and "DeepSeek-R1" in text
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
    assert "Phi-4" in table and "Gemma 3" in table and "原文評價" in table and "16 GB RAM" in table
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
    page.wait_for_selector("#hw-plot .fitchart .fc-bar")
    page.wait_for_function("document.querySelector('#hw-table').innerText.includes('✓')")
    assert "Phi-4" in page.inner_text("#hw-table") and "放置方式" in page.inner_text("#hw-table")
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
        for details in page.locator("#sources details.source").all():
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


# ------------------------------------------------------------------ issue 10: the conversation UI

CJK = re.compile(r"[\u4e00-\u9fff]")


def FIELD(elem_id: str) -> str:  # noqa: N802
    """JS for a text field's input element (Gradio draws a one-line Textbox as input or textarea)."""
    return f"document.querySelector('#{elem_id} input, #{elem_id} textarea')"


def test_clicking_a_citation_opens_the_cited_passage_of_that_answer(page):
    ask(page, "Phi 4 有多大？")
    ask(page, "Gemma 3 可以商用嗎？")
    pages_before = len(page.context.pages)
    url_before = page.url
    # [1] in the *first* answer still works after the second answer replaced the panel.
    citation = bot_messages(page).first.locator("a[href='#src-a1-1']").first  # an answer may cite [1] more than once
    assert citation.inner_text() == "[1]"
    citation.click()
    page.wait_for_function("document.getElementById('src-a1-1') && document.getElementById('src-a1-1').open")
    passage = page.locator("#src-a1-1 .src-text")
    passage.wait_for(state="visible")
    assert "Phi" in page.inner_text("#src-a1-1")
    box = passage.bounding_box()
    assert box and 0 <= box["y"] < page.viewport_size["height"]  # scrolled into view
    assert "cited" in page.get_attribute("#src-a1-1", "class")
    # The second answer's [1] opens its own passage.
    bot_messages(page).last.locator("a[href='#src-a2-1']").first.click()
    page.wait_for_function("document.getElementById('src-a2-1').open")
    assert "Gemma" in page.inner_text("#src-a2-1")
    assert len(page.context.pages) == pages_before and page.url == url_before  # no navigation, no new tab
    screenshot(page, "citation")


def test_after_an_answer_the_chat_shows_its_start(page):
    # Two long answers: the second is taller than the chat box, so "scroll to the bottom"
    # would hide its start.
    ask(page, "我要商用、只有 16GB 筆電，想跑能寫程式的模型，選哪個？")
    ask(page, "不要中國公司、要能看圖的模型")
    page.wait_for_function("""() => {
        const bots = document.querySelectorAll("#chatbot [data-testid='bot']");
        const last = bots[bots.length - 1];
        let box = last.parentElement;
        while (box && !(/(auto|scroll)/.test(getComputedStyle(box).overflowY) && box.scrollHeight > box.clientHeight)) box = box.parentElement;
        if (!box) return false;
        const offset = last.getBoundingClientRect().top - box.getBoundingClientRect().top;
        return offset >= -2 && offset < 60 && box.scrollTop + box.clientHeight < box.scrollHeight - 20;
    }""", timeout=10_000)


def test_fit_follows_the_hardware_stated_in_the_conversation(page):
    ask(page, "一張 RTX 4090 可以跑 gpt-oss-20b 嗎？")
    cards = page.inner_text("#cards")
    assert "24 GB VRAM" in cards and "16 GB RAM" not in cards
    page.click("#tab-compare-button")
    page.wait_for_function("document.querySelector('#compare-memory input').value === '24'")
    assert page.is_checked("#compare-kind input[value='vram']")
    page.click("#compare-button")
    page.wait_for_function("document.querySelector('#comparison').innerText.includes('24 GB VRAM')")
    page.click("#tab-hardware-button")
    page.wait_for_function("document.querySelector('#hw-memory input').value === '24'")
    assert "依對話中的硬體" in page.inner_text("#hw-machine")
    page.wait_for_selector("#hw-plot .fitchart")
    assert "本機" not in page.inner_text("body")
    # Only an explicit click reads the server's hardware (the test server is given 16 GB RAM).
    page.click("#hw-detect")
    page.wait_for_function("document.querySelector('#hw-machine').innerText.includes('執行本服務的電腦')")
    page.wait_for_function("document.querySelector('#hw-memory input').value === '16'")


def test_catalog_header_click_sorts_and_a_row_opens_its_entry(page):
    page.click("#tab-catalog-button")
    page.wait_for_selector("#catalog-table table.catalog")
    header = page.locator("#catalog-table th[data-key='sizes']")
    assert "⋮" not in page.inner_text("#catalog-table")
    header.click()
    assert header.get_attribute("aria-sort") == "ascending"
    sizes = page.eval_on_selector_all("#catalog-table td.col-sizes", "tds => tds.map(td => parseFloat(td.dataset.sort))")
    assert sizes == sorted(sizes) and len(sizes) > 10
    names = page.eval_on_selector_all("#catalog-table td.col-name", "tds => tds.map(td => td.innerText)")
    assert names.index("Qwen3") < len(names) // 2  # sorted by its smallest size, not 235B
    header.click()
    assert header.get_attribute("aria-sort") == "descending"
    page.locator("#catalog-table th[data-key='name']").click()
    names = page.eval_on_selector_all("#catalog-table td.col-name", "tds => tds.map(td => td.innerText.toLowerCase())")
    assert names == sorted(names, key=str.lower) or names == sorted(names)
    page.locator("#catalog-table tr[data-model='Phi-4']").click()
    page.wait_for_function("document.querySelector('#catalog-entry').innerText.includes('Phi-4')")
    assert "MIT" in page.inner_text("#catalog-entry")


def test_english_mode_is_english_in_the_panels(page):
    page.click("#settings button, #settings .label-wrap")
    page.click("#language label:has-text('English')")
    page.wait_for_function("document.querySelector('#send').innerText.trim() === 'Send'")
    ask(page, "Which models have an MIT licence?")
    for selector in ("#cards", "#why-not"):
        text = page.inner_text(selector)
        assert not re.search(r"[\u4e00-\u9fff]{2,}", text.replace("選型助手", "")), (selector, text)
    sources = page.inner_text("#sources")
    assert "Sources" in sources and "型錄・" not in sources and "原文・" not in sources and "EN:" not in sources
    assert "。。" not in sources
    for details in page.locator("#sources details.source[data-source-id^='catalog:']").all():
        details.locator("summary").click()
        assert not CJK.search(details.locator(".src-text").inner_text())
    screenshot(page, "english")


def test_auto_language_panels_follow_the_question(page):
    ask(page, "Which models have an MIT licence?")
    assert "Sources" in page.inner_text("#sources") and "Recommended" in page.inner_text("#cards")
    ask(page, "Phi 4 可以商用嗎？")
    assert "引用來源" in page.inner_text("#sources")


def test_phone_layout_puts_cards_after_the_answer_and_narrows_the_catalog(browser, app_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-TW", is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(app_url)
        page.wait_for_selector("#question textarea")
        assert page.locator("#examples").first.is_visible()
        ask(page, "我要商用、只有 16GB 筆電，想跑能寫程式的模型，選哪個？")
        page.wait_for_function("!document.querySelector('#examples') || document.querySelector('#examples').offsetParent === null")
        page.wait_for_selector("#cards .fit-basis")  # the cards of this answer are in (a busy machine renders them later)
        top = lambda sel: page.locator(sel).first.bounding_box()["y"]  # noqa: E731
        assert top("#chatbot") < top("#cards") < top("#sources") < top("#examples-box")
        assert top("#cards") < top("#settings")
        screenshot(page, "phone-chat")
        page.click("#tab-catalog-button")
        page.wait_for_selector("#catalog-table table.catalog")
        row = page.locator("#catalog-table tbody tr").first
        visible = row.locator("td").evaluate_all("tds => tds.filter(td => td.offsetParent !== null).length")
        assert 0 < visible <= 6
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400
        screenshot(page, "phone-catalog")
    finally:
        context.close()


def test_hardware_preset_fills_memory_kind_and_bandwidth(page):
    page.click("#tab-hardware-button")
    page.click("#hw-preset input")
    page.click("[role='listbox'] li[aria-label^='RTX 4090 (24 GB VRAM']")
    page.wait_for_function("document.querySelector('#hw-memory input').value === '24'")
    page.wait_for_function(f"{FIELD('hw-bandwidth')}.value === '1008'")
    assert page.is_checked("#hw-kind input[value='vram']")
    page.click("#hw-button")
    page.wait_for_selector("#hw-plot .fitchart")
    page.wait_for_function("document.querySelector('#hw-table').innerText.includes('✓')")
    screenshot(page, "hardware-preset")
