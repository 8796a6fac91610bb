"""The UI edges of issues 18–21 in a real Chromium, each at desktop (1400×1000) and phone
(390×844) size: what loads in view, the compare download, the catalog entry, the hardware form
and chart, the question's length, nonsense and English pages, capability on the cards, the
one-time slow-model notice. Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import re

import pytest

from .conftest import ROOT
from .test_browser import CJK, FIELD, ask, launch_chromium, open_page, screenshot, serve_app, start

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


@pytest.fixture(scope="module")
def app_url(real_assistant):
    yield from serve_app(real_assistant)


@pytest.fixture
def page(browser, app_url):
    yield from open_page(browser, app_url)


# ------------------------------------------------------------------ issues 18–21: each edge at desktop and phone size

SIZES = {
    "desktop": {"viewport": {"width": 1400, "height": 1000}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}


@pytest.fixture(params=list(SIZES))
def sized(request, browser, app_url):
    """A page at desktop (1400×1000) and at phone (390×844) size."""
    for page in open_page(browser, app_url, **SIZES[request.param]):
        page.size = request.param  # type: ignore[attr-defined]
        yield page


def doc_screenshot(page, name: str) -> None:
    """What the reader sees (the viewport, not the whole page) as docs/screenshot-<name>.png for the README."""
    path = ROOT / "docs" / f"screenshot-{name}.png"
    path.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000


def in_view(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return bool(box) and box["y"] >= -1 and box["y"] + min(box["height"], 40) <= page.viewport_size["height"] + 1


def open_tab(page, name: str) -> None:
    page.click(f"#tab-{name}-button")
    page.wait_for_selector(f"#tab-{name}", state="visible")


def test_loading_keeps_the_title_and_every_tab_in_view(sized):
    page = sized
    page.wait_for_timeout(800)  # the load script has run
    assert page.evaluate("window.scrollY") == 0
    assert in_view(page, "#header") and "選型助手" in page.inner_text("#header")
    for name in ("chat", "catalog", "compare", "hardware"):
        assert page.locator(f"#tab-{name}-button").is_visible() and in_view(page, f"#tab-{name}-button"), name
    assert page.locator("#tabs .overflow-menu").count() == 0 or not page.locator("#tabs .overflow-menu").first.is_visible()
    focused = page.evaluate("!!(document.activeElement && document.activeElement.closest('#question'))")
    assert focused == (page.size == "desktop")  # a phone is not scrolled to the box nor given a keyboard
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_compare_download_is_the_selection_on_screen(sized, tmp_path):
    page = sized
    open_tab(page, "compare")
    page.wait_for_selector("#comparison table")
    page.click("#compare-button")
    page.wait_for_selector("#compare-download", state="visible")
    # Change the models without pressing 比較: the table and the download follow at once.
    page.locator("#compare-models .token", has_text="Gemma 3").locator(".token-remove").click()
    page.wait_for_selector("#compare-download", state="hidden")  # one model: nothing to download
    page.click("#compare-models input")
    page.keyboard.type("Qwen3")
    page.locator("[role='listbox'] li[aria-label='Qwen3']").first.click()
    page.keyboard.press("Escape")
    page.wait_for_function("(document.querySelector('#comparison .cmp-wrap') || {dataset: {}}).dataset.models === 'Phi-4|Qwen3'")
    page.wait_for_selector("#compare-download", state="visible")
    with page.expect_download() as info:
        page.click("#compare-download")
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.read_text(encoding="utf-8").startswith("# 模型比較：Phi-4 vs Qwen3")
    # The table is whole: the page does not scroll sideways, the table's box does.
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    page.evaluate("document.querySelector('#comparison .cmp-wrap').scrollLeft = 10000")
    page.wait_for_timeout(300)
    label = page.locator("#comparison tr th").first.bounding_box()
    last = page.locator("#comparison tr th").nth(2).bounding_box()
    assert last["x"] + last["width"] <= page.viewport_size["width"] + 1
    assert last["x"] >= label["x"] + label["width"] - 2  # not under the sticky labels
    if page.size == "phone":
        page.evaluate("document.querySelector('#comparison .cmp-wrap').scrollLeft = 0")
        page.locator("#comparison").scroll_into_view_if_needed()
        doc_screenshot(page, "phone-compare")
    screenshot(page, f"compare-{page.size}")


def test_a_catalog_row_opens_its_entry_in_view_and_highlighted(sized):
    page = sized
    open_tab(page, "catalog")
    page.wait_for_selector("#catalog-table table.catalog")
    row = page.locator("#catalog-table tr[data-model='Qwen3']")
    row.scroll_into_view_if_needed()
    row.click()
    page.wait_for_selector("#catalog-entry .entry[data-pick][data-model='Qwen3']")
    page.wait_for_function("""() => {
        const entry = document.querySelector('#catalog-entry .entry');
        const top = entry.getBoundingClientRect().top;
        return top >= -2 && top < window.innerHeight * 0.5;
    }""", timeout=10_000)
    assert "flash" in page.get_attribute("#catalog-entry .entry", "class")
    assert page.evaluate("document.activeElement && document.activeElement.closest('#catalog-entry') !== null")
    if page.size == "phone":
        doc_screenshot(page, "phone-catalog-entry")
    screenshot(page, f"catalog-entry-{page.size}")


def test_the_hardware_chart_is_readable_and_shows_near_misses(sized):
    page = sized
    open_tab(page, "hardware")
    page.wait_for_selector("#hw-plot .fitchart .fc-bar")
    # A machine named by chip and memory, then Enter.
    page.fill("#hw-name input, #hw-name textarea", "H200")
    page.press("#hw-name input, #hw-name textarea", "Enter")
    page.wait_for_function("document.querySelector('#hw-plot .fc-title').innerText.includes('H200')")
    assert "你選的硬體：H200" in page.inner_text("#hw-machine")
    assert page.locator("#hw-plot .fc-row[data-placement='no_fit']").count() >= 1  # the near misses (253B…)
    assert page.locator("#hw-plot .fc-row[data-placement='fits']").count() >= 1
    sizes = page.eval_on_selector_all("#hw-plot .fc-label, #hw-plot .fc-val, #hw-plot .fc-tick, #hw-plot .fc-legend",
                                      "els => els.filter(e => e.offsetParent).map(e => parseFloat(getComputedStyle(e).fontSize))")
    assert sizes and min(sizes) >= 11, sizes
    box = page.locator("#hw-plot .fitchart").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"] + 1
    table = page.inner_text("#hw-table")
    assert "放置方式" in table and "✓ 放得下" in table  # (the table is virtual: the misses are further down)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"] + 1
    screenshot(page, f"hardware-{page.size}")
    page.locator("#hw-plot").scroll_into_view_if_needed()
    doc_screenshot(page, f"hardware-{page.size}")


def test_hardware_form_enter_recomputes_and_blank_bandwidth_is_blank(sized):
    page = sized
    open_tab(page, "hardware")
    page.wait_for_selector("#hw-plot .fitchart")
    bandwidth = FIELD("hw-bandwidth")
    assert page.evaluate(f"{bandwidth}.value") == "" and "預設" in page.evaluate(f"{bandwidth}.placeholder")
    page.fill("#hw-memory input", "64")
    page.press("#hw-memory input", "Enter")
    page.wait_for_function("document.querySelector('#hw-plot .fc-title').innerText.includes('64 GB')")
    # Chip plus memory: the variant's memory, kind and bandwidth.
    page.fill("#hw-name input, #hw-name textarea", "M3 Max 36GB")
    page.press("#hw-name input, #hw-name textarea", "Enter")
    page.wait_for_function(f"{bandwidth}.value === '300'")
    assert page.is_checked("#hw-kind input[value='unified']")
    page.wait_for_function("document.querySelector('#hw-plot .fc-title').innerText.includes('M3 Max 36GB')")
    page.click("#hw-preset input")
    assert page.locator("[role='listbox'] li[aria-label^='M4 Pro 48GB']").count() == 1  # memory variants are presets


def test_vendor_filter_lists_a_vendor_once(sized):
    page = sized
    open_tab(page, "catalog")
    page.wait_for_selector("#catalog-table table.catalog")
    page.click("#filter-vendor input")
    options = page.eval_on_selector_all("[role='listbox'] li", "lis => lis.map(li => li.getAttribute('aria-label'))")
    assert "Mistral AI" in options and not any("(with" in (o or "") for o in options)
    page.locator("[role='listbox'] li[aria-label='Mistral AI']").click()
    page.keyboard.press("Escape")
    page.wait_for_function("!document.querySelector('#catalog-table').innerText.includes('Qwen3')")
    vendors = page.eval_on_selector_all("#catalog-table td.col-vendor", "tds => tds.map(td => td.innerText)")
    assert vendors and all(v.startswith("Mistral AI") for v in vendors) and any("(with" in v for v in vendors)


def test_the_question_box_says_when_it_is_full(sized):
    page = sized
    page.fill("#question textarea", "長" * 2500)  # the box keeps 2,000 characters
    assert page.evaluate("document.querySelector('#question textarea').value.length") == 2000
    page.wait_for_selector("#question-counter .counter.at-limit")
    text = page.inner_text("#question-counter")
    assert "2,000 / 2,000" in text and "上限" in text
    assert page.locator("#question-counter .counter").is_visible()
    page.fill("#question textarea", "短")
    page.wait_for_function("!document.querySelector('#question-counter .counter.shown')")


def answer_without_sources(page, question: str) -> str:
    """Send a question whose answer cites nothing; wait until the status line reports its mode."""
    before = page.locator("#chatbot [data-testid='bot']").count()
    page.fill("#question textarea", question)
    page.click("#send")
    page.wait_for_function("""([before]) => {
        const bots = document.querySelectorAll("#chatbot [data-testid='bot']");
        const status = document.querySelector('#status').innerText;
        return bots.length > before && (status.includes('模式') || status.includes('Mode'));
    }""", arg=[before], timeout=60_000)
    return page.locator("#chatbot [data-testid='bot']").last.inner_text()


def test_nonsense_on_the_chinese_page_is_answered_in_chinese(sized):
    page = sized
    for question in ("<script>", "😀😀😀", "asdkjh qwe zxcv"):
        answer = answer_without_sources(page, question)
        assert re.search(r"[\u4e00-\u9fff]{4,}", answer), (question, answer)
    assert page.evaluate("window.__pwned") is None


def test_recommendation_cards_show_capability_with_its_source(sized):
    page = sized
    ask(page, "我要商用、只有 16GB 筆電，想跑能寫程式的模型，選哪個？")
    lines = page.eval_on_selector_all("#cards .rec-card .rec-cap", "els => els.map(e => e.innerText)")
    assert len(lines) >= 3 and all(line.startswith("能力：") for line in lines)
    assert any(re.search(r"（[^）]*\d{4}-\d{2}）", line) or "沒有測得的數據" in line for line in lines)


def test_english_mode_is_english_throughout(sized):
    page = sized
    page.click("#settings button, #settings .label-wrap")
    page.click("#language label:has-text('English')")
    page.wait_for_function("document.querySelector('#send').innerText.trim() === 'Send'")
    page.wait_for_function("document.querySelector('#tab-catalog-button').innerText.trim() === 'Catalog'")
    assert "Which open-weight" in page.inner_text("#header")
    assert page.inner_text("#clear").strip() == "Clear conversation"
    assert not CJK.search(page.get_attribute("#question textarea", "placeholder"))
    examples = page.inner_text("#examples")
    assert "Can an RTX 4090 run gpt-oss-20b?" in examples and not CJK.search(examples)
    for name in ("chat", "catalog", "compare", "hardware"):
        assert not CJK.search(page.inner_text(f"#tab-{name}-button")), name
    answer = ask(page, "Can a 64GB Mac run Llama 3.3 70B?")
    assumptions = [line for line in answer.splitlines() if line.startswith("Assumption")]
    assert assumptions and not any(CJK.search(line) for line in assumptions), answer
    follow = ask(page, "Phi-4 looks nice; can I use it commercially?")
    assert "no earlier question" not in follow
    for name in ("catalog", "compare", "hardware"):
        open_tab(page, name)
        page.wait_for_timeout(1500)
        text = page.inner_text(f"#tab-{name}").replace("繁體中文", "")
        assert not [line for line in text.splitlines() if CJK.search(line)], (name, text[:400])
    assert "顯存" not in page.inner_text("body")
    screenshot(page, f"english-{page.size}")


def test_chinese_tabs_say_xianshika_jiyiti_not_xiancun(page):
    for name in ("chat", "catalog", "compare", "hardware"):
        open_tab(page, name)
        page.wait_for_timeout(800)
        assert "顯存" not in page.inner_text(f"#tab-{name}"), name
    assert "顯示卡記憶體" in page.inner_text("#tab-hardware")


class TooSlowAssistant:
    """Answers like the real assistant, with a local model whose last answer ran out of time."""

    def __init__(self, real) -> None:
        self.real = real
        self.catalog, self.settings, self.retriever = real.catalog, real.settings, real.retriever

    def llm_status(self):
        return {"available": True, "model": "slow.gguf", "too_slow": True, "timeout_s": 60}

    def ask_stream(self, question, history=None, use_llm=True, language=None):
        return self.real.ask_stream(question, history, False, language)


def test_a_too_slow_model_is_said_once(browser, fake_assistant):
    demo, url = start(TooSlowAssistant(fake_assistant))
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-TW")
    try:
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("#question textarea")
        ask(page, "Phi 4 有多大？")
        page.wait_for_function("document.querySelector('#status').innerText.includes('60 秒')")
        ask(page, "那它可以商用嗎？")
        page.wait_for_function("document.querySelector('#status').innerText.includes('模式')")
        assert "60 秒" not in page.inner_text("#status")
    finally:
        context.close()
        demo.close()
