"""UI tab functions called directly: catalog, compare, hardware fit, the page's language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

gr = pytest.importorskip("gradio")

from assistant import ui  # noqa: E402
from assistant.ui import catalog as ui_catalog  # noqa: E402
from assistant.ui import fitchart as ui_fitchart  # noqa: E402

SMALL_MACHINE = {"ram_gb": 16.0, "vram_gb": None, "gpus_vram_gb": [], "ram_source": "test"}


def drain(generator):
    return list(generator)


def last_answer(chat):
    return ui.message_text(chat[-1]["content"])


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


def test_vendor_filter_lists_a_vendor_once_with_its_partner_releases(catalog):
    choices = ui.vendor_choices(catalog)
    assert "Mistral AI" in choices and not any("(with" in c for c in choices)
    assert len(choices) == len(set(choices)) < len({m.vendor for m in catalog.models})
    partner = [m.name for m in catalog.models if m.vendor.startswith("Mistral AI (with")]
    mistral = names(ui.catalog_rows(catalog, vendors=["Mistral AI"]))
    assert partner and set(partner) <= mistral
    assert {m.name for m in catalog.models if m.vendor == "Mistral AI"} <= mistral


def test_catalog_entry_shows_the_article_passage_and_marks_a_pick(fake_assistant):
    model = ui.model_by_name(fake_assistant.catalog, "Phi-4")
    html = ui.render_entry(fake_assistant, model)
    assert "MIT" in html and "原文段落" in html and "Phi 家族" in html
    assert 'class="passage"' in html and "data-pick" not in html
    picked = ui.render_entry(fake_assistant, model, "zh-TW", pick="7")
    assert 'data-pick="7"' in picked and 'tabindex="-1"' in picked  # the page scrolls to it and highlights it
    assert "panel-empty" in ui.render_entry(fake_assistant, None)


def test_catalog_sorts_a_series_by_its_smallest_size(fake_assistant):
    catalog = fake_assistant.catalog
    rows = {row[0]: row for row in ui.catalog_rows(catalog)}
    qwen3 = ui.model_by_name(catalog, "Qwen3")
    assert rows["Qwen3"][3] == min(v.params_total_b for v in qwen3.sizes) < 10
    html = ui.render_catalog_table(catalog.models, catalog, "zh-TW")
    row = re.search(r'<tr data-model="Qwen3".*?</tr>', html, re.S).group(0)
    size = re.search(r'class="col-sizes[^"]*" data-label="[^"]*" data-sort="([^"]*)">([^<]*)<', row)
    assert float(size.group(1)) < 10 and "–" in size.group(2) and "235B" in size.group(2)
    assert html.count("<th data-key=") == len(ui_catalog.CATALOG_COLUMNS) and 'data-type="num"' in html
    english = ui.render_catalog_table(catalog.models, catalog, "en")
    assert ">Sizes<" in english and "可下載尺寸" not in english


# ------------------------------------------------------------------ compare tab


def test_compare_side_by_side_and_markdown_export(fake_assistant, tmp_path):
    catalog = fake_assistant.catalog
    html = ui.compare_html(catalog, ["Phi-4", "Gemma 3"], 16, "ram")
    assert "Phi-4" in html and "Gemma 3" in html and "16 GB RAM" in html and "原文評價" in html
    assert 'class="cmp cmp-wrap"' in html  # scrolls sideways on a phone
    assert "panel-empty" in ui.compare_html(catalog, ["Phi-4"])
    path = ui.export_comparison(fake_assistant, ["Phi-4", "Gemma 3", "Qwen3", "Kimi K2"], 16, "ram", "zh-TW", tmp_path)
    assert path is not None and path.parent == tmp_path and path.suffix == ".md"
    text = path.read_text(encoding="utf-8")
    assert "| | Phi-4 | Gemma 3 | Qwen3 |" in text and "Kimi K2" not in text  # at most three
    assert catalog.as_of.isoformat() in text and "## 資料來源" in text and "huggingface.co/microsoft/phi-4" in text
    assert "> " in text  # the article's own words
    assert ui.export_comparison(fake_assistant, ["Phi-4"], 16, "ram", "zh-TW", tmp_path) is None
    english = ui.compare_markdown(catalog, ["Phi-4", "Gemma 3"], 16, "ram", "en")
    assert english.startswith("# Model comparison: Phi-4 vs Gemma 3") and "原文" not in english


def test_a_new_selection_rebuilds_the_export_without_pressing_compare(fake_assistant, settings):
    demo = ui.build_ui(fake_assistant, settings, machine=SMALL_MACHINE)
    try:
        ids = {block.elem_id: block._id for block in demo.blocks.values() if getattr(block, "elem_id", None)}
        download, picked = ids["compare-download"], ids["compare-models"]
        rebuilders = [fn for fn in demo.fns.values()
                      if any(t[0] is not None and t[0] == picked and t[1] == "change" for t in fn.targets)]
        assert rebuilders and any(download in [o._id for o in fn.outputs] for fn in rebuilders)
    finally:
        demo.close()


# ------------------------------------------------------------------ hardware tab


def test_hardware_rows_use_the_fit_placements_with_a_placement_column(catalog):
    chart, rows = ui.hardware_result(catalog, 24, "vram", preset="RTX 4090")
    headers = ui_fitchart.table_headers("zh-TW")
    assert headers[5] == "放置方式" and ui_fitchart.table_headers("en")[5] == "Placement"
    runs = [r for r in rows if r[5].startswith("✓")]
    assert runs and rows[: len(runs)] == runs  # what runs first, largest first
    assert {r[5] for r in runs} <= {"✓ 放得下", "✓ 很緊但放得下"}
    assert all(r[5] == "✗ 放不下" for r in rows[len(runs):])
    _, english = ui.hardware_result(catalog, 24, "vram", language="en", preset="RTX 4090")
    assert {r[5] for r in english} <= {"✓ fits", "✓ fits tightly", "✗ does not fit"}
    only = ui.hardware_result(catalog, 24, "vram", only_runs=True, preset="RTX 4090")[1]
    assert only == runs


def test_small_models_get_speeds_that_differ_by_size(catalog):
    _, rows = ui.hardware_result(catalog, 24, "vram", preset="RTX 4090")
    small = {r[1]: r[6] for r in rows if r[2] <= 3 and r[5].startswith("✓")}
    assert len(small) > 10 and len(set(small.values())) >= 5, small  # not ~200 tok/s for every ≤3B model


def test_offload_placements_need_the_system_ram(catalog):
    _, without = ui.hardware_result(catalog, 24, "vram", preset="RTX 4090")
    _, with_ram = ui.hardware_result(catalog, 24, "vram", preset="RTX 4090", ram_gb=128)
    assert not any("卸載" in r[5] for r in without)
    assert any(r[5] in ("✓ 要部分卸載", "✓ 要專家卸載") for r in with_ram)


@pytest.mark.parametrize(("preset", "memory", "kind", "near"), [("M3 Max 64GB", 64, "unified", "120b"),
                                                                ("H200", 141, "vram", "253B")])
def test_the_chart_shows_the_near_misses_of_big_machines(catalog, preset, memory, kind, near):
    machine = ui.make_machine(memory, kind, preset=ui.preset_by_name(preset))
    rows = ui.fit_rows(catalog, machine)
    chart = ui.chart_html(rows, machine, "Q4_K_M", 4096)
    bars = re.findall(r'<div class="fc-row" data-placement="([a-z_]+)" data-required="([0-9.]+)"[^>]*>'
                      r'<div class="fc-label">([^<]*)</div>', chart)
    missing = [b for b in bars if b[0] == "no_fit"]
    assert missing and any(near.lower() in b[2].lower() for b in missing), missing
    assert any(b[0] != "no_fit" for b in bars)
    usable = float(re.search(r'data-usable="([0-9.]+)"', chart).group(1))
    for placement, required, _ in bars:  # what fits is left of the usable line, what does not is right of it
        assert (float(required) <= usable + 0.06) == (placement in ("fits", "tight")) or placement == "os_limit"
    # A GB log axis with the usable budget as a dashed line in every row.
    ticks = re.findall(r'<span class="fc-tick" style="left:[0-9.]+%">([^<]*)</span>', chart)
    assert len(ticks) >= 2 and all(t.endswith(" GB") for t in ticks)
    assert chart.count('class="fc-budget"') == len(bars) + 0
    assert "假設" in chart  # the budget rule, in the engine's words


def test_chip_and_memory_names_are_understood(catalog):
    m3 = ui.resolve_hardware("M3 Max 64GB")
    assert (m3["name"], m3["memory_gb"], m3["kind"], m3["bandwidth_gbs"]) == ("M3 Max 64GB", 64, "unified", 400)
    assert ui.resolve_hardware("M3 Max 36GB")["bandwidth_gbs"] == 300  # the 30-core GPU variant
    two = ui.resolve_hardware("兩張 RTX 4090")
    assert (two["name"], two["count"], two["memory_gb"]) == ("RTX 4090", 2, 24)
    assert ui.resolve_hardware("a toaster") is None and ui.resolve_hardware("") is None
    menu = [value for _, value in ui.preset_choices()]
    for variant in ("M3 Max 36GB", "M3 Max 48GB", "M3 Max 64GB", "M3 Max 128GB", "M4 Pro 24GB", "M4 Pro 48GB"):
        assert variant in menu, variant
    one = ui.make_machine(24, "vram", preset=ui.preset_by_name("RTX 4090"))
    pair = ui.make_machine(24, "vram", count=2, preset=ui.preset_by_name("RTX 4090"))
    assert pair.count == 2 and one.name == pair.name == "RTX 4090"
    custom = ui.make_machine(20, "vram", preset=ui.preset_by_name("RTX 4090"))  # edited memory: no longer that card
    assert custom.name is None and custom.bandwidth_gbs > 0


def test_hardware_fields_enter_recomputes_and_blank_bandwidth_is_a_placeholder(fake_assistant, settings):
    demo = ui.build_ui(fake_assistant, settings, machine=SMALL_MACHINE)
    try:
        by_id = {block.elem_id: block for block in demo.blocks.values() if getattr(block, "elem_id", None)}
        bandwidth = by_id["hw-bandwidth"]
        assert bandwidth.value == "" and bandwidth.placeholder  # blank, with "blank = default"
        table = by_id["hw-table"]
        for field in ("hw-memory", "hw-bandwidth", "hw-count", "hw-ram", "hw-name"):
            submits = [fn for fn in demo.fns.values() if any(t[0] == by_id[field]._id and t[1] == "submit" for t in fn.targets)]
            assert submits, field
        chains = [fn for fn in demo.fns.values() if table._id in [o._id for o in fn.outputs]]
        assert chains
    finally:
        demo.close()


def test_detect_this_machine_returns_a_budget():
    memory, kind, summary = ui.detect_this_machine()
    assert memory > 0 and kind in ("ram", "vram") and "RAM" in summary
    assert ui.detect_this_machine(machine={"ram_gb": 64.0, "vram_gb": 24.0, "gpus_vram_gb": [24.0]})[:2] == (24.0, "vram")


# ------------------------------------------------------------------ language


def test_english_labels_are_english_and_chinese_labels_use_taiwan_wording():
    cjk = re.compile(r"[\u4e00-\u9fff]")
    bilingual = {"title", "settings", "language"}  # the way back to the other language stays readable
    for key, (zh_text, en_text) in ui.TEXT.items():
        assert zh_text and en_text, key
        if key not in bilingual:
            assert not cjk.search(en_text), (key, en_text)
        for word in ("顯存", "内存", "程序", "软件", "視頻"):
            assert word not in zh_text, (key, word)
    assert not any(cjk.search(e) for e in ui.EXAMPLES["en"])
    assert len(ui.EXAMPLES["en"]) == len(ui.EXAMPLES["zh-TW"])


def test_no_ui_text_says_xian_cun():
    folder = Path(ui.__file__).parent
    for path in folder.glob("*.py"):
        assert "顯存" not in path.read_text(encoding="utf-8"), path.name


@pytest.mark.parametrize("question", ["😀😀", "<script>", "asdkjh qwe zxcv"])
def test_nonsense_on_the_chinese_page_is_answered_in_chinese(fake_assistant, question):
    final = drain(ui.respond(fake_assistant, None, question, [], "grounded", "auto"))[-1]
    answer = last_answer(final[0])
    assert re.search(r"[\u4e00-\u9fff]{4,}", answer), answer
    assert final[6]["language"] == "zh-TW"
    english = drain(ui.respond(fake_assistant, None, question, [], "grounded", "en"))[-1]
    assert not re.search(r"[\u4e00-\u9fff]", last_answer(english[0]).split("(Catalog")[0])


def test_nonsense_after_an_english_question_stays_english(fake_assistant):
    first = drain(ui.respond(fake_assistant, None, "How big is Phi 4?", [], "grounded", "auto"))[-1]
    second = drain(ui.respond(fake_assistant, None, "asdkjh qwe", first[0], "grounded", "auto", first[6]))[-1]
    assert not re.search(r"[\u4e00-\u9fff]{2,}", last_answer(second[0]))
    # A real English question on the Chinese page is still answered in English.
    plain = drain(ui.respond(fake_assistant, None, "Which models have an MIT licence?", [], "grounded", "auto"))[-1]
    assert plain[6]["language"] == "en"


def test_it_in_an_english_question_gets_no_false_no_earlier_question_note(fake_assistant):
    final = drain(ui.respond(fake_assistant, None, "Phi-4 looks nice; can I use it commercially?", [], "grounded", "auto"))[-1]
    answer = last_answer(final[0])
    assert "no earlier question" not in answer and "Phi-4" in answer


def test_english_answers_have_english_assumption_lines(fake_assistant):
    final = drain(ui.respond(fake_assistant, None, "Can a 64GB Mac run Llama 3.3 70B?", [], "grounded", "en"))[-1]
    assumptions = [line for line in last_answer(final[0]).splitlines() if line.startswith("Assumption")]
    assert assumptions and not any(re.search(r"[\u4e00-\u9fff]", line) for line in assumptions)


def test_hardware_presets_fill_memory_kind_and_bandwidth(catalog):
    choices = dict((value, label) for label, value in ui.preset_choices())
    assert "" in choices and "RTX 4090" in choices and "24 GB VRAM" in choices["RTX 4090"]
    preset = ui.preset_by_name("RTX 4090")
    assert (preset.memory_gb, preset.memory_kind, preset.bandwidth_gbs) == (24, "vram", 1008)
    assert any(p.memory_kind == "unified" for p in ui.hardware_presets())  # Apple chips
    assert any(p.memory_kind == "ram" for p in ui.hardware_presets())  # DDR systems
    slow = ui.hardware_result(catalog, 24, "vram", only_runs=True, language="en", bandwidth_gbs=100)[1]
    fast = ui.hardware_result(catalog, 24, "vram", only_runs=True, language="en", preset="RTX 4090")[1]
    speed = lambda rows: {(r[0], r[1]): r[6] for r in rows}  # noqa: E731
    assert speed(slow) != speed(fast)  # the bandwidth reaches the speed column
