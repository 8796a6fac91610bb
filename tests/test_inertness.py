"""Hostile text from the knowledge base and from the user stays inert in a real browser
(RELIABILITY.md item 11).

test_browser.py checks a scripted hostile *answer*. Here the payloads travel the real path:
a planted user document and a planted catalog copy (Phi-4's summary, verdict and
weaknesses carry them) are indexed, retrieved and rendered by the real assistant, in the
chat bubble, the sources panel, the model cards, the catalog table and entry, and the
compare table. The questions carry the payloads too.

Proof, per page: no dialog opens, the payloads' `window.__pwned` flag stays unset, a
MutationObserver sees no script/iframe/object/embed, no `on*` attribute, no `javascript:`
link and no off-site image appear in the output panels, no request leaves loopback, and the
payload is visible as text.
"""

from __future__ import annotations

import re
import shutil
from urllib.parse import urlsplit

import pytest
import yaml

from .conftest import KNOWLEDGE
from .test_browser import CHROMIUM, CHROMIUM_ARGS, MACHINE, start

pytestmark = pytest.mark.browser

ANSWER_TIMEOUT_MS = 60_000

# The four forms the checklist names, each also in a variant that would set a flag if it ran.
PAYLOAD = (
    "<img src=x onerror=alert(1)> <img src=x onerror=\"window.__pwned='img'\"> "
    "<script>alert(1)</script> <script>window.__pwned='script'</script> "
    "[click](javascript:alert(1)) [go](javascript:window.__pwned='link') "
    "![x](http://evil.example/x.png) ![y](//evil.example/y.png)"
)
USER_DOC = f"# Phi 4 商用筆記\n\nPhi 4 商用筆記：Phi 4 可以商用，MIT 授權，筆電可跑。{PAYLOAD}\n"
QUESTION = f"筆記說 Phi 4 可以商用嗎？ {PAYLOAD}"
OUTPUT_PANELS = "#chatbot, #sources, #cards, #why-not, #status, #catalog-table, #catalog-entry, #comparison"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

WATCH = """(panels) => {
    window.__suspicious = [];
    const bad = (el) => {
        if (!(el instanceof Element) || !el.closest(panels)) return null;
        const tag = el.tagName.toLowerCase();
        if (["script", "iframe", "object", "embed", "frame"].includes(tag)) return tag;
        for (const a of el.attributes) {
            if (a.name.toLowerCase().startsWith("on")) return `${tag}[${a.name}]`;
            if (["href", "src", "xlink:href", "action", "formaction"].includes(a.name.toLowerCase())
                && /^\\s*(javascript|vbscript|data):/i.test(a.value)) return `${tag}[${a.name}=${a.value}]`;
        }
        if (tag === "img" && el.src && !el.src.startsWith(location.origin) && !el.src.startsWith("data:image/svg"))
            return `img[src=${el.src}]`;
        return null;
    };
    const scan = (root) => {
        const found = bad(root);
        if (found) window.__suspicious.push(found);
        if (root.querySelectorAll) for (const el of root.querySelectorAll("*")) {
            const f = bad(el);
            if (f) window.__suspicious.push(f);
        }
    };
    scan(document.body);
    new MutationObserver((muts) => {
        for (const m of muts) {
            if (m.type === "attributes") scan(m.target);
            for (const n of m.addedNodes) scan(n);
        }
    }).observe(document.body, {subtree: true, childList: true, attributes: true});
}"""


@pytest.fixture(scope="module")
def hostile_knowledge(tmp_path_factory):
    """A copy of knowledge/ with a planted user document and a poisoned Phi-4 catalog entry."""
    knowledge = tmp_path_factory.mktemp("hostile") / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    raw = yaml.safe_load((knowledge / "catalog.yaml").read_text(encoding="utf-8"))
    phi4 = next(m for m in raw["models"] if m["id"] == "phi-4")
    for key in ("summary_zh", "summary_en", "verdict_reason", "verdict_reason_en"):
        phi4[key] = f"{PAYLOAD} {phi4[key]}"
    phi4["weaknesses"] = [*phi4["weaknesses"], PAYLOAD]
    (knowledge / "catalog.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (knowledge / "xss-notes.md").write_text(USER_DOC, encoding="utf-8")
    return knowledge


@pytest.fixture(scope="module")
def hostile_url(hostile_knowledge, tmp_path_factory):
    from assistant.config import Settings
    from assistant.service import build_assistant

    data = tmp_path_factory.mktemp("hostile-data")
    # top_k 8: enough room for the planted user document beside the Phi passages.
    settings = Settings(data_dir=data / "data", models_dir=data / "models", knowledge_dir=hostile_knowledge,
                        embedder="fake-64", top_k=8)
    assistant = build_assistant(settings)
    assistant.ensure_index()
    assert "window.__pwned" in assistant.catalog.by_id["phi-4"].summary_zh  # the poison really loaded
    demo, url = start(assistant, MACHINE)
    yield url
    demo.close()


@pytest.fixture(scope="module")
def chromium():
    if not __import__("pathlib").Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, hostile_url):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-TW")
    page = context.new_page()
    page.set_default_timeout(30_000)
    dialogs: list[str] = []
    outside: list[str] = []
    errors: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def watch(request) -> None:
        if urlsplit(request.url).hostname not in LOCAL_HOSTS and not request.url.startswith(("data:", "blob:")):
            outside.append(request.url)

    page.on("request", watch)
    # Belt and braces: nothing may leave the machine even if a request is attempted.
    context.route(lambda url: urlsplit(url).hostname not in LOCAL_HOSTS and not url.startswith(("data:", "blob:")),
                  lambda route: route.abort())
    page.goto(hostile_url)
    page.wait_for_selector("#question textarea")
    page.evaluate(WATCH, OUTPUT_PANELS)
    yield page
    pwned = page.evaluate("window.__pwned")
    suspicious = page.evaluate("window.__suspicious")
    context.close()
    assert dialogs == [], dialogs
    assert pwned is None, pwned
    assert suspicious == [], suspicious
    assert outside == [], outside
    assert errors == [], errors


def ask(page, question: str) -> str:
    page.fill("#question textarea", question)
    page.click("#send")
    page.wait_for_function(
        """() => {
            const bots = document.querySelectorAll("#chatbot [data-testid='bot']");
            if (!bots.length) return false;
            const text = bots[bots.length - 1].innerText;
            return text.length > 20 && !text.includes("▍") && !text.includes("正在查資料");
        }""",
        timeout=ANSWER_TIMEOUT_MS,
    )
    page.wait_for_selector("#sources details")
    return page.locator("#chatbot [data-testid='bot']").last.inner_text()


def test_question_answer_sources_and_cards_show_payloads_as_text(page):
    answer = ask(page, QUESTION)
    assert "Phi-4" in answer
    # The user's own message is shown, as text.
    user_text = page.locator("#chatbot [data-testid='user']").last.inner_text()
    assert "<script>alert(1)</script>" in user_text and "onerror=alert(1)" in user_text
    assert "〔圖片未載入" in user_text  # the remote image became its alt text
    # The planted user document and the poisoned catalog entry are among the sources.
    assert page.locator("#sources details[data-source-id^='user:xss-notes.md']").count() == 1
    assert page.locator("#sources details[data-source-id='catalog:phi-4']").count() == 1
    for details in page.locator("#sources details.source").all():  # each answer's group holds its sources
        details.locator(":scope > summary").click()
    sources = page.inner_text("#sources")
    assert "<script>window.__pwned='script'</script>" in sources
    assert "[go](javascript:window.__pwned='link')" in sources
    assert "![x](http://evil.example/x.png)" in sources
    # The card for the named model shows the poisoned summary as text.
    cards = page.inner_text("#cards")
    assert "Phi-4" in cards and "<img src=x onerror=\"window.__pwned='img'\">" in cards
    for selector in ("#chatbot", "#sources", "#cards"):
        assert page.locator(f"{selector} a[href*='javascript' i], {selector} img[src*='evil' i]").count() == 0


def test_recommendation_cards_and_why_not_stay_inert(page):
    ask(page, f"我要 MIT 授權、16GB 筆電能跑的聊天模型，選哪個？ {PAYLOAD}")  # the poisoned Phi-4 is on the list
    cards = page.locator("#cards .rec-card")
    assert cards.count() >= 3
    assert re.search(r"Phi-4(?!-)", page.inner_text("#cards"))
    assert page.locator("#why-not li").count() >= 1


def test_catalog_table_and_entry_show_payloads_as_text(page):
    page.click("#tab-catalog-button")
    table = page.locator("#catalog-table")
    table.wait_for()
    # The catalog is a plain HTML table: every row, the poisoned entry included, is rendered.
    page.wait_for_function("document.querySelector('#catalog-table').innerText.includes('Phi-4')")
    assert "Phi-4" in table.inner_text()  # the table shows the verdict's label; the entry below shows its text
    table.get_by_text("Phi-4", exact=True).filter(visible=True).first.click()
    page.wait_for_function("document.querySelector('#catalog-entry').innerText.includes('Phi-4')")
    entry = page.inner_text("#catalog-entry")
    assert "<script>window.__pwned='script'</script>" in entry
    assert "![x](http://evil.example/x.png)" in entry


def test_compare_table_shows_payloads_as_text(page):
    page.click("#tab-compare-button")
    page.wait_for_selector("#compare-models")
    page.click("#compare-button")
    page.wait_for_function("document.querySelector('#comparison').innerText.includes('Phi-4')")
    comparison = page.inner_text("#comparison")
    assert "<img src=x onerror=alert(1)>" in comparison and "[click](javascript:alert(1))" in comparison
