"""Golden and property tests for assistant.chinese (OpenCC-based zh-TW handling)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.chinese import (
    MAX_SEGMENT,
    StreamConverter,
    detect_language,
    is_mostly_chinese,
    is_traditional_only,
    simplified_chars,
    to_taiwan,
    to_traditional_query,
)

SEED = Path(__file__).resolve().parent / "fixtures" / "seed-article.txt"  # the source article, as given

# A zh-TW paragraph (the Mistral section of the seed article), already Taiwan wording.
MISTRAL_ZH_TW = """再來是我很喜歡的一家公司 - Mistral

相信有在關注開源的人,應該對 Mistral 不陌生

這家法國公司擅長清整資料,用高品質的資料練出精實模型,模型普遍較小卻有大模型的能力,常常勝過他牌兩倍大模型的表現,而且多數都開源,因此也是社群模型的常見基石

Mistral 7B 勝過同期 Meta 的 Llama 2 14B 模型,46B 的 MoE (多專家模型)則匹敵 Llama 3 70B

新的 Mistral small 24B 表現也不錯,微調出程式專長的標竿 Devstral、Mistral 第一個推理模型 Magistral

Mistral 系列同樣不回答有害內容,且模型普遍偏小 (50B 以下)

因為小模型推論較省資源,API 價格相對親民

需注意的是,多數 Mistral 模型雖然是 Apache 2.0 開源,但有部分是 MNPL、MRL 授權,不能商用,記得先看清楚

有趣的一點是,Mistral 很愛用諧音哏命名模型!

  • 視覺模型叫 Pixtral (畫素 Pixel + mistral)
  • 小模型叫 Ministral (Mini + mistral)
  • 多專家 (MoE)模型叫 Mixtral (Mixture + mistral)

他們還有用 Mamba 架構練出程式助手 Codestral,適合處理長文 (正好適合讀寫程式碼)

這麼愛用諧音哏,都懷疑 Mistral 雇用台灣人專職取名

  • 推理模型 QwQ 偶爾會失控輸出亂碼,而且對政治、歷史議題有回避性
"""

# zh-TW sentences that s2tw/s2twp would damage: they must come back unchanged.
ZH_TW_UNCHANGED = [
    "這個模型的參數量是 70B,參數越多越吃記憶體。",
    "請先閱讀授權文件,再決定是否商用。",
    "部分模型會屏蔽政治敏感內容。",
    "模型開源、授權寬鬆,推論與推理都能在本地跑。",
    "雜訊會干擾訓練,但若干技巧可以避免人為干涉。",
    "雇用台灣人專職取名,台北的平台很多。",
    "鄰里長說這裡離台北幾公里。",
    "QwQ 對政治議題有回避性,也會占用大量資源。",
    "群組裡的人都在用 Qwen。",
    "他在游泳池邊看岩石。",
]

SIMPLIFIED_SENTENCES = [
    "这个模型的参数量是70B，文件在这里。",
    "数据和网络都很重要，软件需要更新。",
    "他是干部，很能干，房间很干净。",
    "头发后面的面条，发现了问题。",
    "Qwen 的中文很好，但会屏蔽一些词。",
    "我们需要更多内存来运行程序，视频生成也一样。",
]


# --- to_taiwan: the four trap rows of eval/public/README.md ----------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("参数", "參數"),
        ("參數", "參數"),
        ("參數量", "參數量"),
        ("参数量", "參數量"),
        ("文件", "文件"),
        ("屏蔽", "屏蔽"),
        ("这个模型的参数量很大", "這個模型的參數量很大"),
        ("请阅读这份文件", "請閱讀這份文件"),
        ("模型会屏蔽敏感词", "模型會屏蔽敏感詞"),
        ("激活参数只有3B", "啟用參數只有3B"),
    ],
)
def test_trap_rows_keep_domain_terms(text: str, expected: str) -> None:
    result = to_taiwan(text)
    assert result == expected
    assert "引數" not in result
    assert "檔案" not in result
    assert "遮蔽" not in result


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("数据", "資料"),
        ("网络", "網路"),
        ("软件", "軟體"),
        ("这些信息", "這些資訊"),
        ("内存", "記憶體"),
        ("这个程序", "這個程式"),
        ("视频", "影片"),
        ("训练数据很重要", "訓練資料很重要"),
        ("这个程序需要很多内存", "這個程式需要很多記憶體"),
        ("请上传视频", "請上傳影片"),
        ("这些信息来自网络", "這些資訊來自網路"),
        ("文件夹", "資料夾"),
        ("这个模型支持中文", "這個模型支援中文"),
        ("台湾的平台", "台灣的平台"),
    ],
)
def test_useful_taiwan_rewrites(text: str, expected: str) -> None:
    assert to_taiwan(text) == expected


def test_neutral_words_follow_simplified_context() -> None:
    # 信息 and 程序 are spelt the same in both scripts: converted only in Simplified text.
    assert to_taiwan("数据 网络 软件 信息 内存 程序 视频") == "資料 網路 軟體 資訊 記憶體 程式 影片"
    assert to_taiwan("資料 信息 程序") == "資料 信息 程序"
    # Alone, a neutral word is valid zh-TW and is kept (法律程序 is a legal procedure).
    assert to_taiwan("法律程序") == "法律程序"
    assert to_taiwan("信息") == "信息"
    assert to_taiwan("里面") == "里面"  # could be 公里面積; only converted in context


@pytest.mark.parametrize("term", ["模型", "開源", "授權", "推論", "推理", "參數", "文件", "屏蔽"])
def test_domain_terms_unchanged(term: str) -> None:
    assert to_taiwan(term) == term
    assert to_taiwan(f"这个{term}") == f"這個{term}"


# --- to_taiwan: 干/乾/幹, 后/後, 里/裡, 发/髮/發, 面/麵 ------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("干扰", "干擾"),
        ("干净", "乾淨"),
        ("干部", "幹部"),
        ("能干", "能幹"),
        ("干涉", "干涉"),
        ("若干", "若干"),
        ("他是干部，很能干。", "他是幹部，很能幹。"),
        ("这些干扰来自若干因素", "這些干擾來自若干因素"),
        ("后来", "後來"),
        ("然后", "然後"),
        ("皇后", "皇后"),
        ("这里", "這裡"),
        ("那里", "那裡"),
        ("房间里面", "房間裡面"),
        ("几公里", "幾公里"),
        ("头发", "頭髮"),
        ("发现", "發現"),
        ("发布新模型", "釋出新模型"),
        ("面条", "麵條"),
        ("方面", "方面"),
        ("面对问题", "面對問題"),
        ("吃面", "吃麵"),
        ("群组", "群組"),
    ],
)
def test_ambiguous_characters(text: str, expected: str) -> None:
    assert to_taiwan(text) == expected


# --- to_taiwan: already zh-TW, idempotence ---------------------------------------------


@pytest.mark.parametrize("text", ZH_TW_UNCHANGED)
def test_zh_tw_sentences_are_unchanged(text: str) -> None:
    assert to_taiwan(text) == text


def test_mistral_paragraph_is_unchanged() -> None:
    # 雇用, 台灣, 回避 are correct zh-TW that plain s2tw would rewrite (僱用, 臺灣, 迴避).
    assert to_taiwan(MISTRAL_ZH_TW) == MISTRAL_ZH_TW


def test_whole_seed_article_is_unchanged() -> None:
    text = SEED.read_text(encoding="utf-8")
    assert to_taiwan(text) == text


def test_simplified_paragraph_converts_to_traditional_only() -> None:
    from opencc import OpenCC

    simplified = OpenCC("t2s").convert(MISTRAL_ZH_TW)
    assert not is_traditional_only(simplified)
    converted = to_taiwan(simplified)
    assert is_traditional_only(converted)
    assert to_taiwan(converted) == converted
    assert "引數" not in converted
    assert "台灣人" in converted  # s2twp alone would write 臺灣人


@pytest.mark.parametrize("text", SIMPLIFIED_SENTENCES + ZH_TW_UNCHANGED)
def test_idempotent(text: str) -> None:
    once = to_taiwan(text)
    assert to_taiwan(once) == once
    assert is_traditional_only(once)


def test_long_run_without_punctuation_is_still_converted() -> None:
    text = "这个模型的参数量很大" * 10  # 100 characters, no boundary
    assert len(text) > MAX_SEGMENT
    result = to_taiwan(text)
    assert is_traditional_only(result)
    assert "这" not in result


def test_opencc_leftover_simplified_is_converted_again() -> None:
    # s2twp maps 幺 to 么, which is itself Simplified for s2tw (么 -> 麼).
    assert is_traditional_only(to_taiwan("幺"))
    assert to_taiwan(to_taiwan("幺")) == to_taiwan("幺")


# --- simplified_chars / is_traditional_only --------------------------------------------


def test_simplified_chars_follow_eval_rule() -> None:
    assert simplified_chars("这是简体") == ["这", "简", "体"]
    assert simplified_chars("這是繁體") == []
    assert simplified_chars("") == []


@pytest.mark.parametrize("char", list("台岩雇占游里干回"))
def test_traditional_characters_s2tw_rewrites_are_not_simplified(char: str) -> None:
    assert is_traditional_only(char)
    assert is_traditional_only(f"這是{char}")


def test_is_traditional_only() -> None:
    assert is_traditional_only("群組裡的參數量與文件")
    assert is_traditional_only("Hello, world! 123")
    assert not is_traditional_only("这是简体")
    assert not is_traditional_only("大部分是繁體，只有一个字")


# --- to_traditional_query ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("群", "群"),
        ("群组", "群組"),
        ("参数量最大的模型", "參數量最大的模型"),
        ("哪个模型支持中文", "哪個模型支持中文"),
        ("台湾能用的模型", "台灣能用的模型"),
        ("干净的数据", "乾淨的數據"),
        ("這個模型的參數量", "這個模型的參數量"),
        ("雇用台灣人", "雇用台灣人"),
        ("干擾", "干擾"),
        ("Qwen 2.5 7B", "Qwen 2.5 7B"),
        ("", ""),
    ],
)
def test_to_traditional_query(query: str, expected: str) -> None:
    assert to_traditional_query(query) == expected


def test_to_traditional_query_never_uses_s2t_variants() -> None:
    result = to_traditional_query("群体和峰值")
    assert "羣" not in result
    assert "峯" not in result


# --- detect_language / is_mostly_chinese -------------------------------------------------


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("What is Qwen 通義?", "en"),
        ("Phi 4 是谁做的？", "zh-TW"),
        ("Which models have an MIT licence?", "en"),
        ("哪個模型可以商用？", "zh-TW"),
        ("DeepSeek-R1-Distill-Qwen-32B 的授權？", "zh-TW"),
        ("Llama 3.1 70B 和 Qwen2.5 72B 哪個適合寫程式？", "zh-TW"),
        ("RTX 4090 能跑 Llama 3 70B 嗎", "zh-TW"),
        ("Does Llama 3 support 繁體中文?", "en"),
        ("", "en"),
        ("12345", "en"),
    ],
)
def test_detect_language(question: str, language: str) -> None:
    assert detect_language(question) == language
    assert is_mostly_chinese(question) is (language == "zh-TW")


# --- never raises --------------------------------------------------------------------------

NASTY = [
    "",
    "\x00",
    "数\x00据",
    "\x01\x02\x7f\x85\u200b\ufeff",
    "\ud800",
    "数据\ud800参数\udfff",
    "👩\u200d💻 用这个模型 👨\u200d👩\u200d👧",
    "𠀀𠀁𪚥 数据 𠮷",
    "\ue000参数\ue001文件\uf8ff",
    "\U000f0000\U0010ffff",
    "a" * 1000,
    "数" * 1000,
]


@pytest.mark.parametrize("text", NASTY)
def test_never_raises(text: str) -> None:
    converted = to_taiwan(text)
    assert isinstance(converted, str)
    assert "\ud800" not in converted
    simplified_chars(text)
    is_traditional_only(text)
    to_traditional_query(text)
    detect_language(text)
    is_mostly_chinese(text)
    stream = StreamConverter()
    assert "".join(stream.feed(c) for c in text) + stream.flush() == converted


def test_nul_and_controls_are_kept() -> None:
    # OpenCC truncates at NUL, so NUL must never reach it.
    assert to_taiwan("数\x00据") == "數\x00據"
    assert to_taiwan("a\x00b数据") == "a\x00b資料"


def test_lone_surrogate_becomes_replacement_character() -> None:
    assert to_taiwan("\ud800数据") == "\ufffd資料"


def test_private_use_characters_in_input_do_not_collide_with_placeholders() -> None:
    assert to_taiwan("\ue000参数\ue001文件\ue002屏蔽") == "\ue000參數\ue001文件\ue002屏蔽"


def test_import_does_not_load_opencc() -> None:
    code = "import sys, assistant.chinese; print('opencc' in sys.modules)"
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True
    )
    assert result.stdout.strip() == "False"


# --- StreamConverter ------------------------------------------------------------------------


def _stream(chunks: list[str]) -> str:
    converter = StreamConverter()
    return "".join(converter.feed(chunk) for chunk in chunks) + converter.flush()


STREAM_TEXTS = [
    *SIMPLIFIED_SENTENCES,
    *ZH_TW_UNCHANGED[:4],
    "数据 网络 软件 信息 内存 程序 视频",
    "Qwen2.5 的参数量是 72B。它支持 128K 上下文，但会屏蔽一些文件。",
    "这个模型的参数量很大" * 8,
    "第一段。\n\n第二段：这里是干部的信息\n",
]


@pytest.mark.parametrize("text", STREAM_TEXTS)
def test_stream_agrees_at_every_split_point(text: str) -> None:
    whole = to_taiwan(text)
    for cut in range(len(text) + 1):
        assert _stream([text[:cut], text[cut:]]) == whole, cut
    assert _stream(list(text)) == whole


def test_stream_never_splits_a_phrase() -> None:
    converter = StreamConverter()
    assert converter.feed("数") == ""
    assert converter.feed("据") == ""
    assert converter.feed("，") == "資料，"
    assert converter.feed("参") == ""
    assert converter.feed("数") == ""
    assert converter.flush() == "參數"


def test_stream_holds_back_at_most_one_segment() -> None:
    converter = StreamConverter()
    emitted = converter.feed("数" * (MAX_SEGMENT * 3 + 5))
    assert len(emitted) == MAX_SEGMENT * 3
    assert converter.flush() == "數" * 5


def test_stream_can_be_reused_after_flush() -> None:
    converter = StreamConverter()
    converter.feed("数据，")
    converter.flush()
    assert converter.feed("信息。") == "信息。"  # no Simplified context left over


CJK_HEAVY = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("这个模型的参数量文件屏蔽数据网络软件信息内存程序视频干部能干净扰若里后发面")),
        st.sampled_from(list("參數這個開源授權推論推理台灣雇用干擾，。、 \n")),
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.characters(),
    ),
    max_size=120,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(st.text(), CJK_HEAVY), data=st.data())
def test_stream_agrees_with_whole_for_random_chunking(text: str, data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=12)))
    bounds = [0, *cuts, len(text)]
    chunks = [text[start:end] for start, end in zip(bounds, bounds[1:], strict=False)]
    whole = to_taiwan(text)
    assert _stream(chunks) == whole
    assert isinstance(simplified_chars(text), list)
    assert isinstance(to_traditional_query(text), str)
    assert detect_language(text) in ("zh-TW", "en")


@settings(max_examples=300, deadline=None)
@given(text=CJK_HEAVY)
def test_idempotent_on_random_text(text: str) -> None:
    once = to_taiwan(text)
    assert to_taiwan(once) == once
