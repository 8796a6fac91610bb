"""Reading requirements out of questions: phrasings, mentions, robustness.

Every test runs against the shipped catalog, so an alias that goes missing from
knowledge/catalog.yaml shows up here as a failing mention.
"""

from __future__ import annotations

import json
import re
import time
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.constraints import Constraints, parse_constraints
from assistant.knowledge import STRENGTH_TAGS, Catalog, load_catalog
from assistant.mentions import unique
from assistant.text import normalize

CATALOG_PATH = Path(__file__).parents[1] / "knowledge" / "catalog.yaml"


@lru_cache(maxsize=1)
def _load() -> Catalog:
    return load_catalog(CATALOG_PATH)


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return _load()


def parse(question: str) -> Constraints:
    return parse_constraints(question, _load())


def find_mentions(text: str, cat: Catalog) -> tuple[list[str], list[str], list[str]]:
    """(model ids, family ids, closed names) the catalog's alias index finds in `text`, in text order."""
    found = cat.mentions(normalize(text))
    return (
        unique(m.target for m in found if m.kind == "model"),
        unique(m.target for m in found if m.kind == "family"),
        unique(m.target for m in found if m.kind == "closed"),
    )


# ---------------------------------------------------------------- phrasings
#
# Each case lists only the fields it is about. List fields hold items that must be
# present; a key prefixed "no_" lists items that must be absent; "assumed" lists assumption
# keys (knowledge/messages `assume.*`) that must be among the assumptions; scalars must be equal.

CASES: list[tuple[str, dict[str, object]]] = [
    # Commercial use needed: stated as a requirement, in any script, with typos.
    (
        "公司產品要用、要能商用，手上只有 16GB 的筆電，想找會寫程式的",
        {"commercial_required": True, "memory_gb": 16.0, "memory_kind": "ram", "device": "laptop", "tasks": ["coding"],
         "assumptions_empty": True},
    ),
    ("16G内存的笔记本能跑什么模型", {"memory_gb": 16.0, "memory_kind": "ram", "device": "laptop"}),
    ("我要商用，只有16G内存的笔记本电脑", {"commercial_required": True, "memory_gb": 16.0, "memory_kind": "ram", "device": "laptop"}),
    ("商業用的模型有哪些？", {"commercial_required": True}),
    ("要能商用的，推薦一下", {"commercial_required": True}),
    ("哪些模型可以商用？", {"commercial_required": True}),
    ("I need a model for comercial use", {"commercial_required": True}),
    ("commerical use, small model please", {"commercial_required": True}),
    ("我要 commercial use 的 coding model", {"commercial_required": True, "tasks": ["coding"]}),
    ("Which models allow commercial use?", {"commercial_required": True}),
    ("commercial use is a must", {"commercial_required": True}),
    ("我想做商業產品，有什麼模型", {"commercial_required": True}),
    ("Llama 3 跟 Qwen3 哪個可以商用？", {"commercial_required": True, "mentioned_models": ["llama-3", "qwen3"]}),
    ("能不能商用？我要做公司產品", {"commercial_required": True}),
    ("我要商用，Qwen3 行嗎", {"commercial_required": True, "mentioned_models": ["qwen3"]}),
    ("公司要用，不能是中國的，也不要 Llama",
     {"commercial_required": True, "avoid_countries": ["CN"], "avoid_families": ["llama"]}),
    ("有没有适合写代码的模型？不要超过14B，要能商用", {"commercial_required": True, "max_params_b": 14.0, "tasks": ["coding"]}),
    # Asked about a named model: a fact question, not a requirement.
    ("Cohere Command 可以商用嗎？", {"commercial_required": False}),
    ("Qwen3 能商用嗎", {"commercial_required": False, "mentioned_models": ["qwen3"]}),
    ("Can I use Llama 3 commercially?", {"commercial_required": False, "mentioned_models": ["llama-3"]}),
    ("Can Qwen3 be used commercially?", {"commercial_required": False, "mentioned_models": ["qwen3"]}),
    ("Is Gemma 3 OK for commercial use?", {"commercial_required": False, "mentioned_models": ["gemma-3"]}),
    # Not needed.
    ("非商用也可以，研究用", {"commercial_required": False, "noncommercial_ok": True}),
    ("不需要商用，個人玩玩", {"commercial_required": False, "noncommercial_ok": True}),
    ("純研究，不商用", {"commercial_required": False, "noncommercial_ok": True}),
    ("non-commercial research is fine", {"commercial_required": False, "noncommercial_ok": True}),
    ("商業用途不需要，只是學校作業", {"commercial_required": False}),
    ("it doesn't need to be commercial, just a hobby", {"commercial_required": False}),
    ("商用不重要，能跑就好", {"commercial_required": False}),
    # Licences wanted.
    ("Which models have an MIT licence?", {"licence_ids": ["MIT"]}),
    ("要 apache 2 授權的", {"licence_ids": ["Apache-2.0"]}),
    ("Apache授權、可商用", {"licence_ids": ["Apache-2.0"], "commercial_required": True}),
    ("只要 MIT 或 Apache 的", {"licence_ids": ["MIT", "Apache-2.0"], "avoid_licences": []}),
    ("想要商用又是 Apache 2.0、可以拿來微調的基礎模型", {"commercial_required": True, "licence_ids": ["Apache-2.0"],
                                                "tasks": ["fine-tuning-base"]}),
    ("我只要真開源的模型", {"open_source_only": True}),
    ("fully open weights, OSI licence only", {"open_source_only": True}),
    ("submit a limit", {"no_licence_ids": ["MIT"]}),
    # Licences avoided: named inside an avoidance, they filter out rather than in.
    ("不要 GPL 授權的模型", {"avoid_licences": ["GPL-3.0"], "licence_ids": []}),
    ("不能用 CC-BY-NC 的", {"avoid_licences": ["CC-BY-NC-4.0"], "licence_ids": []}),
    # Memory sizes and kinds.
    ("best model for coding on a 4090", {"memory_gb": 24.0, "memory_kind": "vram", "tasks": ["coding"]}),
    ("RTX 3060 12GB 能跑什麼", {"memory_gb": 12.0, "memory_kind": "vram"}),
    ("顯卡 12G，想做 RAG", {"memory_gb": 12.0, "memory_kind": "vram", "tasks": ["rag"]}),
    ("24GB VRAM 和 64GB RAM", {"memory_gb": 24.0, "memory_kind": "vram"}),
    ("24G 顯存夠嗎", {"memory_gb": 24.0, "memory_kind": "vram"}),
    ("a 24GB GPU", {"memory_gb": 24.0, "memory_kind": "vram", "gpu_count": 1}),
    ("what fits my 24GB graphics card?", {"memory_gb": 24.0, "memory_kind": "vram"}),
    ("我有一張 24GB 的顯示卡", {"memory_gb": 24.0, "memory_kind": "vram", "gpu_count": 1}),
    ("32GB 的 Mac 跑得動哪個？", {"memory_gb": 32.0, "memory_kind": "unified"}),
    ("MacBook Pro M3 36GB", {"memory_gb": 36.0, "memory_kind": "unified", "device": "laptop"}),
    ("我用 Mac mini 16G", {"memory_gb": 16.0, "memory_kind": "unified", "device": "desktop"}),
    ("我有 16 GiB RAM", {"memory_gb": 16.0, "memory_kind": "ram"}),
    ("16 gb is all I have", {"memory_gb": 16.0, "assumed": ["assume.size_is_ram"]}),
    ("8GB 記憶體", {"memory_gb": 8.0, "memory_kind": "ram"}),
    ("32g 記憶體", {"memory_gb": 32.0, "memory_kind": "ram"}),
    ("512MB RAM 的小板子", {"memory_gb": 0.5, "memory_kind": "ram"}),
    # GPU counts.
    ("兩張 3090 能跑 70B 嗎", {"memory_gb": 48.0, "memory_kind": "vram", "gpu_count": 2, "assumed": ["assume.multi_gpu_split"]}),
    ("2x 4090 workstation", {"memory_gb": 48.0, "memory_kind": "vram", "device": "desktop", "gpu_count": 2}),
    ("我有三張 4090", {"memory_gb": 72.0, "gpu_count": 3, "hardware_name": "RTX 4090"}),
    ("two RTX 4090 cards", {"memory_gb": 48.0, "gpu_count": 2}),
    ("a box with two 4090s", {"memory_gb": 48.0, "memory_kind": "vram", "gpu_count": 2}),
    ("4x A100 server", {"memory_gb": 320.0, "gpu_count": 4, "device": "server"}),
    ("兩張 24GB 的卡", {"memory_gb": 48.0, "memory_kind": "vram", "gpu_count": 2, "assumed": ["assume.cards_summed"]}),
    ("公司伺服器有 A100", {"memory_gb": 80.0, "memory_kind": "vram", "device": "server"}),
    ("4090 筆電", {"memory_gb": 16.0, "memory_kind": "vram", "device": "laptop", "assumed": ["assume.laptop_gpus_vram"]}),
    # CPU only.
    ("沒有顯卡，只有 CPU 和 32GB 記憶體", {"cpu_only": True, "memory_gb": 32.0, "memory_kind": "ram"}),
    ("CPU only, 16GB", {"cpu_only": True, "memory_gb": 16.0, "memory_kind": "ram"}),
    ("no GPU at all, just a laptop", {"cpu_only": True, "device": "laptop", "memory_gb": 16.0}),
    # Devices named without memory: the default is an assumption.
    ("筆電就好", {"device": "laptop", "memory_gb": 16.0, "memory_kind": "ram", "assumed": ["assume.device_ram"]}),
    ("a laptop, nothing fancy", {"device": "laptop", "memory_gb": 16.0, "assumed": ["assume.device_ram"]}),
    ("手上只有 8GB 記憶體的舊筆電，哪些模型能跑？", {"device": "laptop", "memory_gb": 8.0, "memory_kind": "ram",
                                           "assumptions_empty": True}),
    ("I have a laptop with 8 GB RAM and want a model for math",
     {"device": "laptop", "memory_gb": 8.0, "memory_kind": "ram", "tasks": ["math"]}),
    # The phone's assumed memory bounds the size; no separate parameter cap is assumed.
    ("用手機跑模型", {"device": "phone", "memory_gb": 8.0, "max_params_b": None, "tasks": ["edge"],
                "assumed": ["assume.device_ram"], "no_assumed": ["assume.device_size"]}),
    ("我的 iPhone 能跑什麼", {"device": "phone", "memory_gb": 8.0, "assumed": ["assume.device_ram"]}),
    ("under 2B for a phone", {"device": "phone", "max_params_b": 2.0, "memory_gb": 8.0, "no_assumed": ["assume.device_size"]}),
    ("智慧手錶能跑 LLM 嗎", {"device": "edge", "memory_gb": 2.0, "assumed": ["assume.wearable", "assume.wearable_size"]}),
    ("穿戴裝置用的模型", {"device": "edge", "memory_gb": 2.0}),
    ("樹莓派 5 可以跑什麼", {"device": "edge", "cpu_only": True, "memory_gb": 8.0, "assumed": ["assume.raspberry"]}),
    ("raspberry pi edge device", {"device": "edge", "tasks": ["edge"]}),
    # Mac chips, with and without a memory size.
    ("M3 Max 64GB", {"memory_gb": 64.0, "memory_kind": "unified", "bandwidth_gbs": 400.0, "assumptions_empty": True}),
    ("M4 Pro 48GB 的 MacBook", {"memory_gb": 48.0, "memory_kind": "unified", "device": "laptop"}),
    ("M2 Ultra 192GB Mac Studio", {"memory_gb": 192.0, "memory_kind": "unified", "device": "desktop"}),
    ("MacBook Air M2", {"memory_gb": 16.0, "memory_kind": "unified", "hardware_name": "M2", "assumed": ["assume.chip_memory"]}),
    # Parameter counts and ranges.
    ("15B 以下的模型", {"max_params_b": 15.0, "min_params_b": None}),
    ("小於 7B", {"max_params_b": 7.0}),
    ("參數不超過 3B", {"max_params_b": 3.0}),
    ("<= 8b please", {"max_params_b": 8.0}),
    ("1B 以內", {"max_params_b": 1.0}),
    ("小於 500M", {"max_params_b": 0.5}),
    ("幾百M 的小模型", {"max_params_b": 1.0, "assumed": ["assume.hundreds_of_millions"]}),
    ("at most 500M parameters", {"max_params_b": 0.5}),
    ("至少 30B", {"min_params_b": 30.0, "max_params_b": None}),
    ("70B 以上的大模型", {"min_params_b": 70.0}),
    ("bigger than 10B", {"min_params_b": 10.0}),
    ("7B 到 14B 之間", {"min_params_b": 7.0, "max_params_b": 14.0}),
    ("3B 到 8B", {"min_params_b": 3.0, "max_params_b": 8.0}),
    ("something in the 20-40B range", {"min_params_b": 20.0, "max_params_b": 40.0}),
    ("between 20 and 40B parameters", {"min_params_b": 20.0, "max_params_b": 40.0}),
    # Context length, and "the longest".
    ("需要 128k 上下文", {"min_context_tokens": 128_000, "tasks": ["long-context"]}),
    ("至少 100k context", {"min_context_tokens": 100_000}),
    ("32k 上下文就夠", {"min_context_tokens": 32_000, "no_tasks": ["long-context"]}),
    ("要能讀 200k token", {"min_context_tokens": 200_000}),
    ("1M context window", {"min_context_tokens": 1_000_000, "max_params_b": None}),
    ("要讀整本書", {"min_context_tokens": 128_000, "tasks": ["long-context"], "assumed": ["assume.whole_book"]}),
    ("最長上下文的模型", {"longest_context": True, "min_context_tokens": None, "tasks": ["long-context"]}),
    ("context as long as possible", {"longest_context": True}),
    # Numbers that are not memory.
    ("128k 上下文的 14.7B 模型，2025 年發布", {"memory_gb": None, "min_context_tokens": 128_000, "max_params_b": None}),
    ("1T 參數的 Kimi K2", {"memory_gb": None, "mentioned_models": ["kimi-k2"]}),
    # Unknown hardware adds nothing.
    ("我有一台烤麵包機", {"memory_gb": None, "device": None, "hard": False}),
    ("Commodore 64 跑得動嗎", {"memory_gb": None, "hard": False}),
    ("TPU v9 跑得動嗎", {"memory_gb": None, "hard": False}),
    # Countries and makers to avoid; preferences.
    ("不要中國公司", {"avoid_countries": ["CN"]}),
    ("避開中國的模型", {"avoid_countries": ["CN"]}),
    ("非中國的模型有哪些", {"avoid_countries": ["CN"]}),
    ("中國以外的模型", {"avoid_countries": ["CN"]}),
    ("no Chinese models please", {"avoid_countries": ["CN"], "no_tasks": ["chinese"]}),
    ("no american models", {"avoid_countries": ["US"]}),
    ("不要法國的模型", {"avoid_countries": ["FR"]}),
    ("避開美國跟中國", {"avoid_countries": ["US", "CN"]}),
    ("avoid chinese-made models, no US companies either", {"avoid_countries": ["CN", "US"]}),
    ("avoid Meta and Chinese vendors", {"avoid_countries": ["CN"], "avoid_families": ["llama"], "no_mentioned_families": ["llama"]}),
    ("不要 Llama", {"avoid_families": ["llama"], "no_mentioned_families": ["llama"]}),
    ("不要中国公司，显卡 12G，要能写代码", {"avoid_countries": ["CN"], "memory_gb": 12.0, "memory_kind": "vram", "tasks": ["coding"]}),
    ("我要一個中文好的模型", {"tasks": ["chinese"], "avoid_countries": []}),
    ("非常喜歡中國的模型", {"avoid_countries": []}),
    ("不要拒答天安門", {"avoid_countries": [], "tasks": ["low-refusal", "uncensored-history"]}),
    # A task done elsewhere or not needed is not asked; the others stay.
    ("語音辨識另外處理，要能寫程式的", {"tasks": ["coding"]}),
    ("no need for vision, just coding on a 24GB card", {"tasks": ["coding"], "memory_gb": 24.0}),
    ("樹莓派想當中文語音助理的大腦（語音辨識/合成另外處理，只問LLM這段）", {"tasks": ["general", "edge", "chinese"]}),
    ("我們做繁體中文客服，回覆「絕對」不能跳簡體字", {"traditional_strict": True}),
    ("replies must never output Simplified characters", {"traditional_strict": True}),
    ("Our compliance team bans models from Chinese labs", {"avoid_countries": ["CN"]}),
    ("公司禁用中國的模型", {"avoid_countries": ["CN"]}),
    # A year not wanted: releases from the next year on.
    ("不要 2024 年的模型，推薦寫程式的", {"released_after": "2025", "tasks": ["coding"]}),
    ("models not released in 2024 for chat", {"released_after": "2025"}),
    ("2026 年推出的寫程式模型", {"released_after": "2026"}),
    ("最好是微軟的", {"prefer_families": ["phi"]}),
    ("不要 Meta 的模型，最好是 Mistral", {"avoid_families": ["llama"], "prefer_families": ["mistral"]}),
    ("除了 Qwen 還有什麼", {"avoid_families": ["qwen"]}),
    ("I'd prefer Qwen3 if possible", {"prefer_families": ["qwen"], "mentioned_models": ["qwen3"]}),
    (
        "a reasoning model below 8B for my 16GB MacBook Air, and no Chinese labs",
        {"tasks": ["reasoning"], "max_params_b": 8.0, "memory_gb": 16.0, "memory_kind": "unified", "device": "laptop",
         "avoid_countries": ["CN"]},
    ),
    # Languages; Traditional Chinese.
    ("支援日文和韓文", {"languages": ["ja", "ko"]}),
    ("要能講越南語", {"languages": ["vi"]}),
    ("繁中要道地，不要跳簡體", {"languages": ["zh"], "traditional": True, "tasks": ["chinese"]}),
    ("Traditional Chinese replies", {"languages": ["zh"], "traditional": True}),
    ("summarize Chinese news articles on my laptop", {"tasks": ["chinese"], "avoid_countries": []}),
    ("a chatbot for Chinese customers", {"tasks": ["chinese"], "avoid_countries": []}),
    ("avoid Chinese labs, need vision", {"avoid_countries": ["CN"], "no_tasks": ["chinese"], "tasks": ["vision"]}),
    # Tasks.
    ("看圖做 OCR", {"tasks": ["vision"]}),
    ("需要數學推理", {"tasks": ["math", "reasoning"]}),
    ("推理速度要快", {"no_tasks": ["reasoning"]}),
    ("function calling 跟 agent", {"tasks": ["tool-use"]}),
    ("翻譯用的多語言模型", {"tasks": ["multilingual"]}),
    ("繁體中文要好", {"tasks": ["chinese"]}),
    ("想微調一個基礎模型", {"tasks": ["fine-tuning-base"]}),
    ("uncensored model that won't refuse", {"tasks": ["low-refusal"]}),
    ("聊天歷史要保存", {"no_tasks": ["uncensored-history"]}),
    ("公司內部知識庫 RAG", {"tasks": ["rag"]}),
    # Quantisation.
    ("Q4 量化", {"quant": "Q4_K_M"}),
    ("跑 q8", {"quant": "Q8_0"}),
    ("8-bit 量化", {"quant": "Q8_0"}),
    ("FP16 full quality", {"quant": "F16"}),
    ("4-bit is fine", {"quant": "Q4_K_M"}),
    ("q5_k_s gguf", {"quant": "Q5_K_S"}),
    ("gguf Q5_K_M", {"quant": "Q5_K_M"}),
    ("Q6_K 量化", {"quant": "Q6_K"}),
    ("IQ3_XS 也可以", {"quant": "IQ3_XS"}),
    ("q4_0", {"quant": "Q4_0"}),
]


def _check(result: Constraints, expected: dict[str, object]) -> None:
    data = result.to_dict()
    keys = [a.key for a in result.assumptions]
    for key, want in expected.items():
        if key == "hard":
            assert result.hard is want, f"hard: {data}"
        elif key == "assumptions_empty":
            assert not result.assumptions, keys
        elif key == "assumed":
            assert set(want) <= set(keys), f"assumptions {keys}, want {want}"  # type: ignore[arg-type]
        elif key == "no_assumed":
            assert not set(want) & set(keys), f"assumptions {keys} must not hold {want}"  # type: ignore[arg-type]
        elif key.startswith("no_"):
            field = key[3:]
            present = set(data[field])  # type: ignore[arg-type]
            assert not present & set(want), f"{field}={data[field]} must not hold {want}"  # type: ignore[arg-type]
        elif isinstance(want, list) and want:
            assert set(want) <= set(data[key]), f"{key}={data[key]}, want {want}"  # type: ignore[arg-type]
        else:
            assert data[key] == want, f"{key}={data[key]!r}, want {want!r}"


def test_enough_distinct_phrasings() -> None:
    assert len({q for q, _ in CASES}) == len(CASES) >= 120


@pytest.mark.parametrize(("question", "expected"), CASES, ids=[q[:40] for q, _ in CASES])
def test_phrasing(question: str, expected: dict[str, object]) -> None:
    _check(parse(question), expected)


def test_the_checker_is_not_vacuous() -> None:
    with pytest.raises(AssertionError):
        _check(parse("不要中國公司"), {"avoid_countries": ["US"]})
    with pytest.raises(AssertionError):
        _check(parse("筆電就好"), {"assumed": ["assume.raspberry"]})
    with pytest.raises(AssertionError):
        _check(parse("Q4 量化"), {"quant": "Q8_0"})


def test_plain_question_sets_no_hard_constraint() -> None:
    result = parse("DeepSeek R1 跟 V3 的授權差在哪裡？")
    assert not result.hard
    assert result.mentioned_models == ["deepseek-r1", "deepseek-v3"]


def test_hard_and_to_dict() -> None:
    result = parse("我要商用、只有 16GB 筆電")
    assert result.hard
    assert json.loads(json.dumps(result.to_dict()))["memory_gb"] == 16.0
    assert not Constraints().hard
    assert Constraints(avoid_countries=["CN"]).hard


def test_assumptions_read_in_both_languages() -> None:
    from assistant.chinese import is_traditional_only

    result = parse("under 2B for a phone, laptop too, 整本書, 幾百M")
    assert {a.key for a in result.assumptions} >= {"assume.device_ram", "assume.whole_book"}
    for zh in result.assumption_texts("zh-TW"):
        assert is_traditional_only(zh), zh
    for en in result.assumption_texts("en"):
        assert not re.search("[\u4e00-\u9fff]", en), en
    assert all(a["key"].startswith("assume.") for a in result.to_dict()["assumptions"])


def test_assumed_laptop_memory_names_the_device_and_the_size() -> None:
    result = parse("筆電能跑什麼？")
    assert result.memory_gb == 16.0
    laptop = next(a for a in result.assumptions if a.key == "assume.device_ram")
    assert laptop.slots["gb"] == "16" and laptop.slots["device_en"] == "laptop"


# ---------------------------------------------------------------- mentions


def test_every_model_is_found_by_its_own_name(cat: Catalog) -> None:
    for model in cat.models:
        assert model.id in find_mentions(model.name, cat)[0], model.name


def test_every_family_is_found_by_its_own_name(cat: Catalog) -> None:
    for family in cat.families:
        models, families, _ = find_mentions(family.name, cat)
        assert family.id in families or any(cat.by_id[m].family == family.id for m in models), family.name


def test_every_closed_model_is_found_and_never_as_open(cat: Catalog) -> None:
    for closed in cat.closed_models:
        for name in (closed.name, *closed.aliases):
            models, _, found = find_mentions(name, cat)
            assert closed.name in found, name


@pytest.mark.parametrize(
    ("text", "family"),
    [
        ("千問好用嗎", "qwen"),
        ("通義的模型", "qwen"),
        ("深度求索出的模型", "deepseek"),
        ("微軟的小模型", "phi"),
        ("月之暗面", "kimi"),
        ("Moonshot 出的", "kimi"),
        ("智譜的模型", "glm"),
        ("Zai 的模型", "glm"),
        ("谷歌的開源模型", "gemma"),
        ("Qwen 系列的授權大部分是哪一種？", "qwen"),
        ("Mistral 家的推理模型叫啥名字", "mistral"),
        ("Hugging Face 自己練的小模型", "smollm"),
        ("who is behind the Granite models", "granite"),
        ("Meta 的模型", "llama"),
    ],
)
def test_family_aliases(cat: Catalog, text: str, family: str) -> None:
    models, families, _ = find_mentions(text, cat)
    assert family in families
    assert models == []


@pytest.mark.parametrize(
    ("text", "model", "not_models"),
    [
        ("Phi4", "phi-4", ["phi-3", "phi-3.5"]),
        ("phi-4", "phi-4", ["phi-3"]),
        ("PHI 4 好嗎", "phi-4", ["phi-3"]),
        ("用简体回答一下：Phi 4 是哪家做的", "phi-4", ["phi-3"]),
        ("Phi-3.5 mini", "phi-3.5", ["phi-3"]),
        ("glm4.5", "glm-4.5", ["glm-4.5-air"]),
        ("GLM 4.5 的參數量", "glm-4.5", ["glm-4.5-air"]),
        ("GLM 4.5 Air", "glm-4.5-air", ["glm-4.5"]),
        ("Qwen3 Coder 好用嗎", "qwen3-coder-480b", ["qwen3"]),
        ("Llama 4 Maverick 的專家數", "llama-4-maverick", ["llama-3"]),
        ("gpt oss 20b", "gpt-oss-20b", ["gpt-oss-120b"]),
        ("ＧＰＴ－ＯＳＳ－１２０Ｂ", "gpt-oss-120b", ["gpt-oss-20b"]),
        ("R1 好用嗎", "deepseek-r1", []),
        ("DeepSeek R1 和 V3", "deepseek-r1", []),
        ("R1-1776 是什麼", "r1-1776", ["deepseek-r1"]),
        ("DeepSeek R1 Distill Qwen 7B", "deepseek-r1-distill-qwen", ["deepseek-r1"]),
        ("mistral small 夠用嗎", "mistral-small-4", ["mistral-7b", "mistral-small-3.1"]),
        ("Mistral Small 3.1 夠用嗎", "mistral-small-3.1", ["mistral-small-4"]),
        ("Kimi K2 是誰家的", "kimi-k2", []),
        ("Qwen3-8B", "qwen3", []),
        ("llama3 70b", "llama-3", []),
    ],
)
def test_model_mentions(cat: Catalog, text: str, model: str, not_models: list[str]) -> None:
    models, _, _ = find_mentions(text, cat)
    assert model in models
    assert not set(not_models) & set(models), models


def test_named_model_does_not_name_its_family(cat: Catalog) -> None:
    models, families, _ = find_mentions("Qwen3 Coder", cat)
    assert models == ["qwen3-coder-480b"]
    assert families == []


def test_bare_family_name_is_a_family_not_a_model(cat: Catalog) -> None:
    assert find_mentions("Qwen 好嗎", cat) == ([], ["qwen"], [])


def test_cohere_command_question(cat: Catalog) -> None:
    """A fact question: mentions a Command model of the Cohere family, requires nothing."""
    result = parse_constraints("Cohere Command 可以商用嗎？", cat)
    commands = [m for m in result.mentioned_models if m.startswith("command")]
    assert commands
    # The catalog lists "cohere command" as one alias of command-r, so the longest match
    # names the model; the family is the model's family, or named on its own.
    assert "cohere" in result.mentioned_families or all(cat.by_id[m].family == "cohere" for m in commands)
    assert result.commercial_required is False
    assert "cohere" in parse_constraints("Cohere 的模型可以商用嗎？", cat).mentioned_families


def test_short_aliases_need_word_boundaries(cat: Catalog) -> None:
    assert "deepseek-r1" not in find_mentions("r1776", cat)[0]
    assert "deepseek-r1" not in find_mentions("pr1 error", cat)[0]
    assert find_mentions("graphics metadata scouting", cat) == ([], [], [])
    assert "phi" not in find_mentions("philosophy", cat)[1]


def test_gemini_is_closed_not_gemma(cat: Catalog) -> None:
    models, families, closed = find_mentions("Gemini 跟 Gemma 3 比呢", cat)
    assert "Gemini" in closed
    assert models == ["gemma-3"]
    assert "gemma" not in families
    assert find_mentions("Gemini 2.5 Pro", cat)[:2] == ([], [])


@pytest.mark.parametrize(
    ("text", "closed"),
    [("GPT-4o 能不能自己架", "GPT-4o"), ("Claude 好還是 Qwen3 好", "Claude"), ("Grok 3", "Grok")],
)
def test_closed_mentions(cat: Catalog, text: str, closed: str) -> None:
    _, _, found = find_mentions(text, cat)
    assert any(closed in name for name in found), found


def test_grok_3_is_closed_and_grok_1_is_open(cat: Catalog) -> None:
    models, _, closed = find_mentions("Grok 3 跟 Grok-1", cat)
    assert models == ["grok-1"]
    assert len(closed) == 1 and "Grok 3" in closed[0]


# ---------------------------------------------------------------- robustness

_KEYWORDS = [
    "商用",
    "16GB",
    "筆電",
    "4090",
    "以下",
    "15B",
    "128k",
    "不要",
    "中國",
    "Phi 4",
    "r1",
    "GLM 4.5 Air",
    "？",
    "嗎",
    "2x",
    "兩張",
    "Mac",
    "m3",
    "q4",
    "1M",
    "整本書",
    "non-",
    "apache",
    "<=",
    " ",
    "-",
    ".",
    "👩\u200d💻",
    "\ud83d",
    "\udc00",
]
_ANY_CHAR = st.one_of(
    st.characters(),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.characters(max_codepoint=0x1F),
    st.sampled_from(["🙂", "\u200b", "\ufeff", "𠀋", "Ｑ", "４"]),
)
_TEXTS = st.one_of(
    st.text(_ANY_CHAR, max_size=300),
    st.lists(st.one_of(st.sampled_from(_KEYWORDS), st.text(_ANY_CHAR, max_size=4)), max_size=40).map("".join),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_TEXTS)
def test_never_raises_and_stays_well_formed(text: str) -> None:
    cat = _load()
    result = parse_constraints(text, cat)
    assert set(result.tasks) <= STRENGTH_TAGS
    assert set(result.mentioned_models) <= set(cat.by_id)
    assert set(result.mentioned_families) | set(result.avoid_families) <= set(cat.family_by_id)
    assert result.memory_gb is None or result.memory_gb > 0
    assert result.memory_kind in (None, "ram", "vram", "unified")
    json.dumps(result.to_dict(), ensure_ascii=False)
    find_mentions(text, cat)


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01\x02", "\ud800\udfff", "🙂" * 10, None])
def test_degenerate_inputs(text: str) -> None:
    result = parse(text)
    assert not result.hard
    assert result.mentioned_models == []


@pytest.mark.parametrize(
    "text",
    [
        "1" * 100_000,
        "1." * 50_000,
        "16 " * 33_000,
        "不要" * 50_000,
        "Phi 4 " * 20_000,
        "a" * 100_000 + "16GB",
        "商用嗎?" * 20_000,
        "7b-" * 33_000,
        "q" * 100_000,
    ],
)
def test_huge_inputs_are_fast(text: str) -> None:
    start = time.perf_counter()
    parse(text)
    find_mentions(text, _load())
    assert time.perf_counter() - start < 3.0


def test_only_the_start_of_a_huge_input_is_read() -> None:
    assert parse("我要商用，" + "嗯" * 10_000 + "4090").memory_gb is None
    assert parse("我要商用，" + "嗯" * 10_000).commercial_required


# ---------------------------------------------------------------- Simplified == Traditional

_ZH_CASES = [q for q, _ in CASES if any("\u4e00" <= c <= "\u9fff" for c in q)]


@pytest.mark.parametrize("question", _ZH_CASES, ids=[q[:30] for q in _ZH_CASES])
def test_simplified_question_parses_the_same(question: str) -> None:
    import opencc

    simplified = opencc.OpenCC("t2s").convert(question)
    assert parse(simplified).to_dict() == parse(question).to_dict(), simplified


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([q for q in _ZH_CASES]), min_size=1, max_size=3).map("，".join))
def test_simplified_combinations_parse_the_same(question: str) -> None:
    import opencc

    simplified = opencc.OpenCC("t2s").convert(question)
    assert parse(simplified).to_dict() == parse(question).to_dict(), simplified


# ---------------------------------------------------------------- named hardware (issue 12)

HARDWARE_CASES = [
    ("4090 能跑什麼", {"hardware_name": "RTX 4090", "bandwidth_gbs": 1008.0, "gpu_count": 1, "memory_gb": 24.0}),
    ("我有一張 4090，Qwen3-30B-A3B 大概多快？", {"hardware_name": "RTX 4090", "gpu_count": 1, "memory_kind": "vram"}),
    ("兩張 4090 可以跑 70B 嗎", {"hardware_name": "RTX 4090", "gpu_count": 2, "memory_gb": 48.0}),
    ("M3 Max 64GB", {"hardware_name": "M3 Max 64GB", "bandwidth_gbs": 400.0, "memory_gb": 64.0, "memory_kind": "unified"}),
    ("Mac mini M4 可以跑什麼", {"hardware_name": "M4", "bandwidth_gbs": 120.0, "memory_gb": 16.0,
                              "memory_kind": "unified"}),
    ("3060 12GB", {"hardware_name": "RTX 3060", "bandwidth_gbs": 360.0, "memory_gb": 12.0, "memory_kind": "vram"}),
    ("一張 24GB 的卡能跑什麼", {"memory_gb": 24.0, "memory_kind": "vram", "gpu_count": 1, "hardware_name": None}),
    ("兩張 24GB 的卡", {"memory_gb": 48.0, "memory_kind": "vram", "gpu_count": 2}),
    ("16GB 的 Mac mini", {"memory_gb": 16.0, "memory_kind": "unified", "hardware_name": None}),
    ("8 GB Raspberry Pi", {"memory_gb": 8.0, "memory_kind": "ram", "cpu_only": True,
                           "hardware_name": "Raspberry Pi 5", "bandwidth_gbs": 17.1}),
    ("4090 加 64GB RAM", {"memory_gb": 24.0, "memory_kind": "vram", "ram_gb": 64.0}),
    ("沒有顯卡，DDR5 32GB 記憶體", {"memory_gb": 32.0, "memory_kind": "ram", "cpu_only": True,
                                "hardware_name": "DDR5-5600 dual-channel", "bandwidth_gbs": 89.6}),
    ("32GB 的筆電", {"hardware_name": None, "bandwidth_gbs": None, "gpu_count": None}),
    ("RTX 5090", {"hardware_name": "RTX 5090", "memory_gb": 32.0, "gpu_count": 1, "memory_kind": "vram"}),
    ("單張 3060", {"hardware_name": "RTX 3060", "memory_gb": 12.0, "gpu_count": 1}),
    ("only a CPU and 64GB of DDR5", {"cpu_only": True, "memory_gb": 64.0, "memory_kind": "ram",
                                     "hardware_name": "DDR5-5600 dual-channel"}),
]


@pytest.mark.parametrize(("question", "expected"), HARDWARE_CASES, ids=[q for q, _ in HARDWARE_CASES])
def test_named_hardware_sets_bandwidth_and_gpu_count(question: str, expected: dict) -> None:
    parsed = parse(question).to_dict()
    for key, value in expected.items():
        assert parsed[key] == value, (key, parsed[key])


def test_chip_without_a_size_states_its_assumed_memory() -> None:
    parsed = parse("Mac mini M4 可以跑什麼")
    chip = next(a for a in parsed.assumptions if a.key == "assume.chip_memory")
    assert chip.slots == {"chip": "M4", "gb": "16"}
