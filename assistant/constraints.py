"""Read the user's hard and soft requirements out of a free-text question.

`parse_constraints` turns "我要商用、只有 16GB 筆電，想跑能寫程式的模型" into a typed
`Constraints` (commercial use, 16 GB RAM, laptop, coding), and `find_mentions` finds
which catalog models, families and closed models a question names.

Design notes:

* The question is normalised first: lone surrogates and control characters dropped,
  NFKC (full-width -> half-width), Simplified -> Traditional
  (`assistant.chinese.to_traditional_query`), lower case, white space collapsed.
  Every keyword below is therefore written once, in Traditional and lower case.
* Names and aliases of models and families are data: they come from the catalog
  (names, ids, aliases, vendors, variant names). Only generic words (商用, 筆電, GPU
  names, task words, countries) live here.
* Alias matching compares "compact" forms with spaces, '-', '_' and '.' removed, so
  "Phi4", "phi-4" and "PHI 4" are one name. The longest match wins ("GLM 4.5 Air" is
  glm-4.5-air, not glm-4.5). ASCII edges of an alias must sit on a word boundary
  ("r1" is not found inside "r1776"); CJK aliases match as substrings.
* Input is cut to `MAX_INPUT_CHARS` before any regex runs, and every quantifier is
  bounded, so parsing is linear in the input and never raises.
* Asking *whether* a named model may be used commercially ("Cohere Command 可以商用嗎？")
  is a fact question, not a requirement: `commercial_required` stays False. "我要商用",
  "要能商用", "哪些模型可以商用？" are requirements.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Literal

from .chinese import to_traditional_query
from .knowledge import STRENGTH_TAGS, Catalog

MAX_INPUT_CHARS = 4000
"""Questions are cut to this many characters before parsing; real questions are far shorter."""

MemoryKind = Literal["ram", "vram", "unified"]
Device = Literal["laptop", "desktop", "phone", "edge", "server"]


@dataclass
class Constraints:
    """What a question asks for. Hard fields filter candidates; `tasks` rank them."""

    commercial_required: bool = False
    noncommercial_ok: bool = False
    licence_ids: list[str] = field(default_factory=list)
    open_source_only: bool = False
    memory_gb: float | None = None
    memory_kind: MemoryKind | None = None
    gpu_count: int | None = None
    hardware_name: str | None = None
    bandwidth_gbs: float | None = None
    ram_gb: float | None = None
    device: Device | None = None
    cpu_only: bool = False
    max_params_b: float | None = None
    min_params_b: float | None = None
    tasks: list[str] = field(default_factory=list)
    min_context_tokens: int | None = None
    avoid_countries: list[str] = field(default_factory=list)
    avoid_families: list[str] = field(default_factory=list)
    prefer_families: list[str] = field(default_factory=list)
    mentioned_models: list[str] = field(default_factory=list)
    mentioned_families: list[str] = field(default_factory=list)
    mentioned_closed: list[str] = field(default_factory=list)
    quant: str | None = None
    assumptions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict of every field."""
        return asdict(self)

    @property
    def hard(self) -> bool:
        """True when any constraint that must filter candidates is set."""
        return bool(
            self.commercial_required
            or self.licence_ids
            or self.open_source_only
            or self.memory_gb is not None
            or self.cpu_only
            or self.max_params_b is not None
            or self.min_params_b is not None
            or self.min_context_tokens is not None
            or self.avoid_countries
            or self.avoid_families
        )


# ---------------------------------------------------------------- normalisation

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SPACES = re.compile(r"\s+")
_SEPARATORS = frozenset(" -_.")


def normalize(text: object) -> str:
    """Cut, clean, NFKC, Simplified -> Traditional, lower-case and collapse white space.

    Never raises; anything that is not a string becomes "" (or its `str`).
    """
    if text is None:
        return ""
    if not isinstance(text, str):
        try:
            text = str(text)
        except Exception:
            return ""
    text = _SURROGATE.sub(" ", text[:MAX_INPUT_CHARS])
    text = _CONTROL.sub(" ", text)
    text = unicodedata.normalize("NFKC", text)[: MAX_INPUT_CHARS * 2]
    text = to_traditional_query(text)
    text = _SURROGATE.sub(" ", text.lower())
    return _SPACES.sub(" ", text).strip()[: MAX_INPUT_CHARS * 2]


def _is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _compact(text: str) -> tuple[str, list[int], list[bool]]:
    """`text` without separators, each kept char's index in `text`, and gap flags.

    gaps[i] is True when a separator stood right before compact char i, so "deepseek r1"
    compacts to "deepseekr1" but "r1" still starts on a word boundary.
    """
    chars: list[str] = []
    index: list[int] = []
    gaps: list[bool] = []
    gap = False
    for position, char in enumerate(text):
        if char in _SEPARATORS:
            gap = True
            continue
        chars.append(char)
        index.append(position)
        gaps.append(gap)
        gap = False
    return "".join(chars), index, gaps


def _compact_key(alias: str) -> str:
    return _compact(normalize(alias))[0]


# ---------------------------------------------------------------- mentions

MentionKind = Literal["model", "family", "closed"]


@dataclass(frozen=True)
class _Alias:
    key: str  # compact, normalised
    kind: MentionKind
    target: str  # model id, family id or closed model name
    variant: str | None = None  # the model's variant this name means, if any


@dataclass(frozen=True)
class Mention:
    """One name found in normalised text: [start, end) indexes into that text.

    `variant` is set when the name is one of the model's variants ("Qwen3-8B" is
    model "qwen3", variant "Qwen3-8B"); `target` is always the model id.
    """

    kind: MentionKind
    target: str
    start: int
    end: int
    variant: str | None = None


class _AliasIndex:
    """Every name the catalog knows, in compact form, for one catalog."""

    def __init__(self, catalog: Catalog) -> None:
        entries: dict[tuple[str, str, str], _Alias] = {}

        def add(name: str | None, kind: MentionKind, target: str, variant: str | None = None) -> None:
            if not name:
                return
            key = _compact_key(name)
            ascii_letters = sum(c.isascii() and c.isalpha() for c in key)
            has_cjk = any(not c.isascii() for c in key)
            # A one-letter key ("r", "4") would match everywhere.
            if len(key) < 2 or (not has_cjk and ascii_letters == 0):
                return
            # A model-level name is never demoted to a variant (Catalog.names lists them first).
            entries.setdefault((key, kind, target), _Alias(key, kind, target, variant))

        for family in catalog.families:
            for name in (family.id, family.name, family.vendor, family.vendor_zh, *family.aliases):
                add(name, "family", family.id)
        variant_names = {(m.id, v.name) for m in catalog.models for v in m.variants}
        for name, model_id, variant in catalog.names():
            # "8B" alone must not become an alias; "Qwen3-8B" may. Curated variant
            # aliases are taken as written.
            if (model_id, name) in variant_names and sum(c.isascii() and c.isalpha() for c in _compact_key(name)) < 3:
                continue
            add(name, "model", model_id, variant)
        for closed in catalog.closed_models:
            for name in (closed.name, *closed.aliases):
                add(name, "closed", closed.name)
        self.aliases = sorted(entries.values(), key=lambda a: -len(a.key))

    def find(self, text: str) -> list[Mention]:
        """Mentions in normalised `text`, longest match first, in text order."""
        compact, index, gaps = _compact(text)
        if not compact:
            return []
        candidates: list[tuple[int, int, _Alias]] = []
        for alias in self.aliases:
            start = compact.find(alias.key)
            while start != -1:
                end = start + len(alias.key)
                if _on_boundary(compact, gaps, start, end):
                    candidates.append((start, end, alias))
                start = compact.find(alias.key, start + 1)
        # Longest first; a span that overlaps a longer accepted one is dropped, but
        # several names on the very same span ("Command" for two models) all count.
        candidates.sort(key=lambda c: (-(c[1] - c[0]), c[0]))
        accepted: list[tuple[int, int, _Alias]] = []
        for start, end, alias in candidates:
            if any(
                start < a_end and a_start < end and (start, end) != (a_start, a_end)
                for a_start, a_end, _ in accepted
            ):
                continue
            accepted.append((start, end, alias))
        accepted.sort(key=lambda c: c[0])
        return [
            Mention(alias.kind, alias.target, index[start], index[end - 1] + 1, alias.variant)
            for start, end, alias in accepted
        ]


def _on_boundary(compact: str, gaps: list[bool], start: int, end: int) -> bool:
    """ASCII edges of a match must not run into neighbouring letters or digits."""
    first, last = compact[start], compact[end - 1]
    if _is_word_char(first) and start > 0 and not gaps[start]:
        before = compact[start - 1]
        if _is_word_char(before):
            return False
    if _is_word_char(last) and end < len(compact) and not gaps[end]:
        after = compact[end]
        # "llama3" holds the family "llama": a letter->digit change is a boundary at
        # the end, but "r1" + "776" (digit->digit) or "phi" + "x" is not.
        if _is_word_char(after) and not (last.isalpha() and after.isdigit()):
            return False
    return True


class _ByIdentity:
    """Hashes a catalog by identity: catalogs are frozen but hold unhashable lists."""

    __slots__ = ("catalog",)

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def __hash__(self) -> int:
        return id(self.catalog)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ByIdentity) and other.catalog is self.catalog


@lru_cache(maxsize=8)
def _index_for(key: _ByIdentity) -> _AliasIndex:
    return _AliasIndex(key.catalog)


def _alias_index(catalog: Catalog) -> _AliasIndex:
    """The alias index of `catalog`, built once per catalog object."""
    return _index_for(_ByIdentity(catalog))


def mention_spans(normalised: str, catalog: Catalog) -> list[Mention]:
    """Every catalog name in already-`normalize`d text, with its position (longest match wins)."""
    return _alias_index(catalog).find(normalised)


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(value, None)
    return list(seen)


def find_mentions(text: str, catalog: Catalog) -> tuple[list[str], list[str], list[str]]:
    """Catalog models, families and closed models named in `text`.

    A family counts only when the family itself is named ("Qwen 系列", "微軟"); naming
    a model ("Qwen3 Coder") does not add its family.

    Returns:
        (model ids, family ids, closed model names), each in order of appearance.
    """
    try:
        found = mention_spans(normalize(text), catalog)
    except Exception:
        return [], [], []
    return (
        _unique(m.target for m in found if m.kind == "model"),
        _unique(m.target for m in found if m.kind == "family"),
        _unique(m.target for m in found if m.kind == "closed"),
    )


def find_variant_mentions(text: str, catalog: Catalog) -> dict[str, str]:
    """The variants named in `text`: model id -> variant name, in order of appearance.

    "Qwen3-8B 跟 Gemma 3 1B" gives {"qwen3": "Qwen3-8B", "gemma-3": "Gemma 3 1B"}; a
    model named only as a whole ("Qwen3") is not in the result. `find_mentions` still
    lists every one of these models. Use `catalog.by_id[id].with_variant(name)` for the
    variant's facts.
    """
    try:
        found = mention_spans(normalize(text), catalog)
    except Exception:
        return {}
    result: dict[str, str] = {}
    for mention in found:
        if mention.kind == "model" and mention.variant:
            result.setdefault(mention.target, mention.variant)
    return result


# ---------------------------------------------------------------- shared patterns

_B = r"(?<![a-z0-9])"  # ASCII word start (CJK neighbours count as boundaries)
_E = r"(?![a-z0-9])"
# After "chinese", the words that make it a model's origin, not a language ("Chinese labs").
_CHINESE_ORIGIN_NOUNS = (
    r"(?:models?|vendors?|compan\w{0,5}|labs?|firms?|providers?|makers?|developers?|ai|llms?|origin|ones?"
    r"|made|built|based|government|governments|regulations?|law|laws)(?![a-z0-9])"
)
_NUM = r"(?<![0-9.])(\d{1,5}(?:\.\d{1,3})?)"
_PUNCT = ",.;!?。;:，、？！；：\n"


def _search_all(pattern: re.Pattern[str], text: str) -> list[re.Match[str]]:
    return list(pattern.finditer(text))


# ---------------------------------------------------------------- commercial use

_COMMERCIAL = re.compile(
    r"商用|商業|營利|盈利|賺錢|公司(?:的)?(?:產品|專案|內部|服務)|公司(?:要|想|會)?(?:拿來)?(?:使用|用)|產品上線|上線販售|商品化"
    r"|(?:公司|團隊|新創)(?:要|想)?(?:做|開發|推出)(?:產品|服務|app)|做產品|產品化"
    rf"|{_B}(?:non[- ]?)?(?:commercial(?:ly)?|comercial(?:ly)?|commerical(?:ly)?|commerce){_E}"
    rf"|{_B}for[- ]profit{_E}|{_B}business use{_E}"
    rf"|{_B}for (?:my |our |a )?(?:company|business|startup|product){_E}"
    rf"|{_B}(?:in|for) production{_E}|{_B}production use{_E}"
)
_NONCOMMERCIAL = re.compile(
    r"研究用|研究用途|學術|純研究|只做研究|非營利|個人(?:使用|用途|用|玩)|自己玩|自用|玩玩"
    rf"|{_B}non[- ]?commercial|{_B}not commercial|{_B}no commercial"
    rf"|{_B}research(?: only| use| purposes?)?{_E}|{_B}personal (?:use|project)s?{_E}"
    rf"|{_B}hobby{_E}|{_B}academic{_E}"
)
_NEGATION_BEFORE = re.compile(
    r"(?:非|不|不要|無需|不需要?|不用|不必|免|沒有要|沒要|不在乎|不在意|不管|無所謂|不計較|non[- ]?|not |no "
    r"|(?:don't|do not|doesn't|does not) (?:care|matter)(?: about)? (?:the )?)$"
)
# A-not-A questions are not negations: 能不能商用, 可不可以商用.
_A_NOT_A = re.compile("能不能|可不可以|可不可|是不是|行不行|會不會|要不要|准不准|允不允許")
_QUESTION_AFTER = re.compile(r"^.{0,4}?(?:嗎|麼|么|\?|與否|吧)")
_QUESTION_BEFORE = re.compile(r"(?:是否|可否|能否|Q+).{0,3}$")
_SEEKING = re.compile(
    r"推薦|哪個|哪一個|哪些|哪款|哪家|選哪|選擇|建議|適合|有什麼模型|有沒有|比較好|替代|其他"
    rf"|{_B}(?:which|what|recommend\w*|best|suggest\w*|should i|options?|alternatives?|list|any){_E}"
)
_EN_YES_NO = re.compile(r"^(?:can|could|may|is|are|does|do|am|will|would)\b")


def _commercial(text: str, has_mentions: bool) -> tuple[bool, bool]:
    """(commercial_required, noncommercial_ok).

    "我要商用" is a requirement. "可以商用嗎？" about a named model with no request for
    a recommendation is a fact question, so it sets nothing; the same words without a
    named model ("哪些可以商用？") still filter.
    """
    masked = _A_NOT_A.sub(lambda m: "Q" * len(m.group()), text)
    stated = asked = False
    noncommercial = bool(_NONCOMMERCIAL.search(text))
    for match in _COMMERCIAL.finditer(text):
        if match.group().startswith("non"):
            noncommercial = True
            continue
        if text[match.end() : match.end() + 3].lstrip("上的").startswith("限制"):
            # 不要商用限制 / 沒有商用限制: a wish for *no restrictions*, i.e. commercial use.
            stated = True
            continue
        if _NEGATION_BEFORE.search(masked[max(0, match.start() - 24) : match.start()]):
            noncommercial = True
            continue
        after = text[match.end() : match.end() + 8]
        before = masked[max(0, match.start() - 8) : match.start()]
        if _QUESTION_AFTER.search(after) or _QUESTION_BEFORE.search(before):
            asked = True
        else:
            stated = True
    fact_question = has_mentions and not _SEEKING.search(text)
    english_yes_no = bool(_EN_YES_NO.search(text)) and "?" in text
    if stated:
        required = not (fact_question and english_yes_no)
    else:
        required = asked and not fact_question
    return required, noncommercial and not required


# ---------------------------------------------------------------- licences

_LICENCES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"{_B}mit{_E}"), "MIT"),
    (re.compile(r"apache"), "Apache-2.0"),
    (re.compile(rf"{_B}bsd{_E}"), "BSD-3-Clause"),
    (re.compile(rf"{_B}agpl"), "AGPL-3.0"),
    (re.compile(rf"{_B}lgpl"), "LGPL-3.0"),
    (re.compile(rf"{_B}gpl"), "GPL-3.0"),
    (re.compile(rf"{_B}cc[- ]?by[- ]?nc"), "CC-BY-NC-4.0"),
    (re.compile(rf"{_B}cc[- ]?by(?![- ]?nc)"), "CC-BY-4.0"),
)
_OPEN_SOURCE_ONLY = re.compile(
    r"真(?:正)?(?:的)?開源|完全開源|純開源|百分之百開源|只要開源|osi(?:認證|授權)"
    rf"|{_B}fully open{_E}|{_B}truly open{_E}|{_B}osi{_E}"
    rf"|{_B}open[- ]source licen[cs]e|{_B}open[- ]source only{_E}"
)


def _licences(text: str, catalog: Catalog) -> list[str]:
    known = {_compact_key(m.licence.id): m.licence.id for m in catalog.models}
    found = [licence for pattern, licence in _LICENCES if pattern.search(text)]
    return _unique(known.get(_compact_key(lic), lic) for lic in found)


# ---------------------------------------------------------------- hardware

# Laptop GPUs carry less memory than the desktop cards of the same number.
_LAPTOP_GPU_MEMORY_GB: dict[str, float] = {
    "5090": 24,
    "5080": 16,
    "4090": 16,
    "4080": 12,
    "4070": 8,
    "4060": 8,
    "3080": 16,
    "3070": 8,
    "3060": 6,
}


@lru_cache(maxsize=1)
def _gpu_table() -> tuple[tuple[str, float, re.Pattern[str]], ...]:
    """GPU name -> memory, from the presets in knowledge/hardware.yaml (one table for the project)."""
    from .hardware import _preset_patterns  # noqa: PLC0415

    return tuple(
        (_gpu_key(preset.name), preset.memory_gb, pattern)
        for preset, pattern, _ in _preset_patterns()
        if preset.memory_kind == "vram"
    )


def _gpu_key(name: str) -> str:
    return re.sub(r"^(?:rtx|rx) ", "", name.lower())


@dataclass(frozen=True)
class _Gpu:
    key: str
    memory_gb: float
    count: int
    start: int
    end: int
    name: str = ""
    bandwidth_gbs: float | None = None
    size_stated: bool = False


_COUNT_WORDS = {
    "兩": 2,
    "二": 2,
    "雙": 2,
    "三": 3,
    "四": 4,
    "八": 8,
    "dual": 2,
    "two": 2,
    "double": 2,
    "three": 3,
    "four": 4,
    "quad": 4,
    "eight": 8,
}
_COUNT_BEFORE_SIZE = re.compile(
    r"(?:(?<![0-9])([1-8])\s?(?:x|×|\*|張|片|塊)|(兩|二|雙|三|四|八|dual|two|three|four|quad|eight)\s?(?:張|片|塊|x)?)"
    r"\s?(?:的\s?)?$"
)


def _gpus(text: str) -> list[_Gpu]:
    """GPUs named in the text with their count: 「兩張 4090」, "2x 3090", "3060 12GB"."""
    from .hardware import find_all_hardware  # noqa: PLC0415

    return [
        _Gpu(_gpu_key(m.preset.name), m.memory_gb, m.count, m.start, m.end, m.preset.name,
             m.preset.bandwidth_gbs, m.size_stated)
        for m in find_all_hardware(text)
        if m.preset.memory_kind == "vram"
    ]


def _named_hardware(text: str, kind: str) -> list:
    from .hardware import find_all_hardware  # noqa: PLC0415

    return [m for m in find_all_hardware(text) if m.preset.memory_kind == kind]


_MEMORY = re.compile(_NUM + r"\s?(gib|gb|gig|g|吉)(?![a-z])")
_MEMORY_MB = re.compile(_NUM + r"\s?(mb|mib)(?![a-z])")
_VRAM_WORDS = re.compile(
    r"vram|顯存|顯卡|顯示卡|視訊記憶體|獨顯|gpu|cuda|nvidia|rtx|gtx|radeon|geforce|video memory"
    r"|的卡|張卡|(?<![a-z])(?:graphics )?cards?(?![a-z])"
)
_RAM_WORDS = re.compile(r"ram|記憶體|內存|memory|ddr|系統記憶體")
_UNIFIED_WORDS = re.compile(r"統一記憶體|unified")
_MAC = re.compile(
    rf"{_B}(?:macbook(?: air| pro)?|mac ?mini|mac ?studio|mac ?pro|imac|mac|apple silicon|apple){_E}"
    rf"|{_B}m[1-5](?: (?:pro|max|ultra))?{_E}|蘋果電腦"
)
_CPU_ONLY = re.compile(
    r"(?:沒有|沒|無|不用|不靠)(?:獨立)?(?:顯卡|gpu|獨顯|顯示卡)|只有 ?cpu|純 ?cpu|只用 ?cpu|只靠 ?cpu|內顯|集顯|核顯"
    rf"|{_B}cpu[- ]?only{_E}|{_B}only (?:a |the |my )?cpu{_E}"
    rf"|{_B}no (?:dedicated |discrete )?gpu|{_B}without (?:a )?(?:dedicated |discrete )?gpu"
    rf"|{_B}integrated graphics{_E}"
)

_DEVICES: tuple[tuple[Device, re.Pattern[str]], ...] = (
    ("laptop", re.compile(rf"筆電|筆記型電腦|筆記本|{_B}(?:laptop|notebook|macbook)s?{_E}")),
    ("phone", re.compile(rf"手機|{_B}(?:phone|iphone|android|smartphone|mobile)s?{_E}")),
    (
        "edge",
        re.compile(
            r"手錶|手表|穿戴|邊緣裝置|邊緣設備|邊緣運算|樹莓派|嵌入式|微控制器|物聯網|端側"
            rf"|{_B}(?:edge(?: device)?|raspberry ?pi|jetson|iot|arduino|smart ?watch|watch|wearable|embedded)s?{_E}"
        ),
    ),
    (
        "server",
        re.compile(
            rf"伺服器|服務器|機房|資料中心|叢集|集群|{_B}(?:servers?|data ?center|cluster|on-prem){_E}"
        ),
    ),
    (
        "desktop",
        re.compile(
            rf"桌機|桌上型|桌電|台式機|台式電腦|工作站|{_B}(?:desktop|pc|workstation|mac ?mini|mac ?studio|imac){_E}"
        ),
    ),
)
_WEARABLE = re.compile(rf"手錶|手表|穿戴|{_B}(?:smart ?watch|watch|wearable)s?{_E}")
_RASPBERRY = re.compile(rf"樹莓派|{_B}raspberry ?pi{_E}")


def _memory_kind_near(text: str, start: int, end: int) -> MemoryKind | None:
    """The memory kind named right after a size ("24GB VRAM") or right before it."""
    after = text[end : end + 10]
    before = text[max(0, start - 10) : start]
    gpu_names = [p for _, _, p in _gpu_table()]

    def kind_of(window: str, nearest_last: bool) -> MemoryKind | None:
        hits: list[tuple[int, MemoryKind]] = []
        for pattern, kind in ((_VRAM_WORDS, "vram"), (_RAM_WORDS, "ram"), (_UNIFIED_WORDS, "unified")):
            for m in pattern.finditer(window):
                hits.append((m.start(), kind))  # type: ignore[arg-type]
        for pattern in gpu_names:
            for m in pattern.finditer(window):
                hits.append((m.start(), "vram"))
        if not hits:
            return None
        hits.sort()
        return hits[-1][1] if nearest_last else hits[0][1]

    return kind_of(after, nearest_last=False) or kind_of(before, nearest_last=True)


# ---------------------------------------------------------------- sizes and context

_CONTEXT_CUE = re.compile(r"token|上下文|context|ctx|視窗|窗口|長度|window|長文")
_PARAMS = re.compile(_NUM + r"\s?(b|bn|billion|m|million|t|trillion|億)(?![a-z])")
_MAX_BEFORE = re.compile(
    r"(?:小於|少於|低於|不超過|不要超過|別超過|不大於|最多|頂多|至多|不到|以內的|"
    r"under|below|less than|smaller than|fewer than|at most|up to|max(?:imum)?|no (?:more|bigger|larger) than|"
    r"not (?:more|bigger|larger) than|within|sub|<=|<|≤|≦)[\s\-:]{0,2}$"
)
_MIN_BEFORE = re.compile(
    r"(?:至少|大於|多於|超過|高於|起碼|最少|"
    r"at least|more than|bigger than|larger than|greater than|over|above|min(?:imum)?|>=|>|≥|≧)[\s\-:]{0,2}$"
)
_MAX_AFTER = re.compile(
    r"^\s?(?:的)?(?:參數|參數量|parameters|params|模型|model|models)?\s?"
    r"(?:以下|以內|之內|內|或更小|或以下|或更少|or (?:smaller|less|fewer|below|under)|and (?:below|under|smaller)|max)"
)
_MIN_AFTER = re.compile(
    r"^\s?(?:的)?(?:參數|參數量|parameters|params|模型|model|models)?\s?"
    r"(?:以上|起跳|或更大|或以上|或更多|or (?:more|larger|bigger|above|greater)|and (?:above|up)|\+|plus)"
)
_RANGE = re.compile(
    r"(?<![a-z0-9.])(\d{1,4}(?:\.\d{1,3})?)\s?(b|m)?\s?(?:到|至|~|-|–|to)\s?(\d{1,4}(?:\.\d{1,3})?)\s?(b|m)(?![a-z])"
)
_HUNDREDS_OF_MILLIONS = re.compile(
    r"[幾數]百 ?m|[幾數]百萬參數|hundreds? of millions|sub[- ]?1b|under a billion"
)
_CONTEXT = re.compile(_NUM + r"\s?(k|m|萬)(?![a-z])")
_TOKENS_PLAIN = re.compile(r"(?<![0-9.,])(\d{1,3}(?:,\d{3}){1,2}|\d{4,7})\s?tokens?")
_NOT_CONTEXT = re.compile(r"螢幕|影片|視訊|video|display|screen|resolution|解析度|monitor|畫質")
_WHOLE_BOOK = re.compile(
    r"整本書|一整本書|一本書|整份文件|整份合約|整個程式庫|整個 ?codebase"
    rf"|{_B}(?:whole|entire|full) (?:book|novel|codebase|repo|repository){_E}"
)


def _scale_params(value: float, unit: str) -> float:
    if unit in ("m", "million"):
        return value / 1000
    if unit in ("t", "trillion"):
        return value * 1000
    if unit == "億":
        return value / 10
    return value


def _params(text: str) -> tuple[float | None, float | None, list[str]]:
    """(max_params_b, min_params_b, assumptions)."""
    maxima: list[float] = []
    minima: list[float] = []
    notes: list[str] = []
    ranged: list[tuple[int, int]] = []
    for match in _RANGE.finditer(text):
        low_unit = match.group(2) or match.group(4)
        low = _scale_params(float(match.group(1)), low_unit)
        high = _scale_params(float(match.group(3)), match.group(4))
        if 0 < low < high:
            minima.append(low)
            maxima.append(high)
            ranged.append((match.start(), match.end()))
    for match in _PARAMS.finditer(text):
        if any(s <= match.start() < e for s, e in ranged):
            continue
        unit = match.group(2)
        if unit in ("m", "million") and _CONTEXT_CUE.search(
            text[max(0, match.start() - 8) : match.end() + 12]
        ):
            continue  # "1M context" is a context length
        value = _scale_params(float(match.group(1)), unit)
        if value <= 0:
            continue
        before = text[max(0, match.start() - 14) : match.start()]
        after = text[match.end() : match.end() + 16]
        if _MAX_BEFORE.search(before) or _MAX_AFTER.search(after):
            maxima.append(value)
        elif _MIN_BEFORE.search(before) or _MIN_AFTER.search(after):
            minima.append(value)
    if not maxima and _HUNDREDS_OF_MILLIONS.search(text):
        maxima.append(1.0)
        notes.append("「幾百M」視為 1B 以下的模型")
    return (min(maxima) if maxima else None, max(minima) if minima else None, notes)


def _context(text: str) -> int | None:
    found: list[int] = []
    for match in _CONTEXT.finditer(text):
        unit = match.group(2)
        value = float(match.group(1))
        window = text[max(0, match.start() - 10) : match.end() + 14]
        if unit == "k":
            if _NOT_CONTEXT.search(window) or value < 1:
                continue
            found.append(int(value * 1000))
        elif _CONTEXT_CUE.search(window):
            found.append(int(value * (1_000_000 if unit == "m" else 10_000)))
    for match in _TOKENS_PLAIN.finditer(text):
        found.append(int(match.group(1).replace(",", "")))
    found = [f for f in found if 0 < f <= 100_000_000]
    return max(found) if found else None


# ---------------------------------------------------------------- tasks

_TASKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "coding",
        re.compile(
            r"寫程式|程式|編程|代碼|寫code|開發|軟體開發|程式設計|除錯|補全"
            rf"|{_B}(?:code|coding|coder|programming|program|programmer|developer|debug(?:ging)?|copilot|software engineering){_E}"
        ),
    ),
    (
        "reasoning",
        re.compile(
            r"(?<!本地)(?<!本機)推理(?!速度|引擎|成本|框架|服務|伺服器|效能|加速|卡|端|時間|延遲|部署|api)"
            r"|思考|邏輯|思維鏈"
            rf"|{_B}(?:reasoning|reason|logic|chain[- ]of[- ]thought|cot){_E}|(?<!i )(?<!i don't )(?<![a-z]){_B}think(?:ing)?{_E}"
        ),
    ),
    (
        "vision",
        re.compile(
            r"看圖|圖片|圖像|影像|多模態|視覺|圖表|截圖|照片|看懂圖|辨識圖"
            rf"|{_B}(?:ocr|vision|images?|photos?|visual|vlm|multimodal|multi-modal|screenshots?|pictures?){_E}"
        ),
    ),
    (
        "long-context",
        re.compile(
            r"長文|長上下文|長篇|超長|讀整本書|整本書|大量文件"
            rf"|{_B}long[- ](?:context|document|documents|text|texts|input){_E}"
        ),
    ),
    (
        "multilingual",
        re.compile(
            r"多語言|多國語言|多語種|多種語言|翻譯|各國語言|外語|多語"
            rf"|{_B}(?:multilingual|multi-lingual|translat\w{{0,6}}|many languages|languages){_E}"
        ),
    ),
    (
        "chinese",
        re.compile(
            r"中文|繁體|繁中|正體|台灣|臺灣|國語|華語|漢語|簡體"
            rf"|{_B}(?:in|into|to|speaks?|writes?|reads?|understands?|traditional|simplified|good|strong|native|fluent) chinese{_E}"
            rf"|{_B}chinese[ -](?:language|text|writing|output|support|ability|quality|answers?|repl(?:y|ies)|documents?){_E}"
            # "Chinese news articles", "Chinese customers", "Chinese-speaking users": the language,
            # unless the next word makes it the origin ("Chinese models", "Chinese labs", below).
            rf"|{_B}chinese(?=[ -][a-z])(?![ -]{_CHINESE_ORIGIN_NOUNS})"
            rf"|{_B}(?:mandarin|cantonese){_E}"
        ),
    ),
    (
        "tool-use",
        re.compile(
            r"工具使用|工具呼叫|呼叫工具|調用工具|使用工具|代理人|智能體|智慧體|ai ?代理"
            rf"|{_B}(?:tool[- ]use|tool[- ]calling|tool calls?|function[- ]calling|function calls?|agents?|agentic|mcp){_E}"
        ),
    ),
    (
        "low-refusal",
        re.compile(
            r"拒答|不要拒絕|不會拒絕|少拒絕|限制少|少限制|沒有限制|不審查|沒有審查|無審查|審查少|少審查|去審查|不被審查|沒被審查"
            rf"|{_B}(?:uncensored|censor\w{{0,5}}|abliterated|no refusals?|fewer refusals|refuses? less|won't refuse){_E}"
        ),
    ),
    (
        "uncensored-history",
        re.compile(
            r"政治|(?<!對話)(?<!聊天)歷史(?!對話|紀錄|記錄|訊息)|天安門|六四|6 ?4 ?事件|西藏|新疆|台獨|敏感(?:話題|議題|問題)"
            rf"|{_B}(?:tiananmen|tibet|xinjiang|political|politics|historical){_E}"
            rf"|(?<!chat )(?<!conversation ){_B}history{_E}"
        ),
    ),
    (
        "edge",
        re.compile(
            r"邊緣|端側|裝置上|離線|嵌入式|物聯網"
            rf"|{_B}(?:on-device|on device|edge|offline|embedded|iot){_E}"
        ),
    ),
    (
        "rag",
        re.compile(
            r"知識庫|檢索|文件問答|向量資料庫|搜尋文件"
            rf"|{_B}(?:rag|retrieval|knowledge base|vector (?:db|database|store)){_E}"
        ),
    ),
    (
        "math",
        re.compile(
            r"數學|算數|算術|解題|奧數|微積分"
            rf"|{_B}(?:math|maths|mathematics|mathematical|arithmetic|calculus|aime|gsm8k){_E}"
        ),
    ),
    (
        "fine-tuning-base",
        re.compile(
            r"微調|基礎模型|基座模型|預訓練|繼續訓練"
            rf"|{_B}(?:fine[- ]?tun\w{{0,4}}|finetun\w{{0,4}}|base model|lora|qlora|continued pre-?training){_E}"
        ),
    ),
    (
        "speech",
        re.compile(
            r"語音|聲音|語音辨識|說話"
            rf"|{_B}(?:speech|voice|asr|tts|transcri\w{{0,6}}|audio){_E}"
        ),
    ),
    (
        "efficiency",
        re.compile(
            r"省電|省資源|速度要?快|低延遲|輕量"
            rf"|{_B}(?:efficient|efficiency|low latency|latency|lightweight){_E}"
        ),
    ),
)


def _tasks(text: str) -> list[str]:
    hits: list[tuple[int, str]] = []
    for tag, pattern in _TASKS:
        match = pattern.search(text)
        if match and tag in STRENGTH_TAGS:
            hits.append((match.start(), tag))
    return [tag for _, tag in sorted(hits)]


# ---------------------------------------------------------------- countries, avoid, prefer

_COUNTRIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "CN",
        re.compile(
            rf"中國|大陸|中資|陸資|中共|國產|{_B}(?:china|prc){_E}"
            rf"|{_B}chinese(?=[ -]{_CHINESE_ORIGIN_NOUNS}|$|[{re.escape(_PUNCT)}])"
        ),
    ),
    (
        "US",
        re.compile(
            rf"美國|美系|美資|{_B}(?:american|usa|u\.s\.a?\.?){_E}"
            rf"|{_B}us(?=[- ](?:based|made|compan|vendor|model|lab|firm|provider|big tech))"
        ),
    ),
    ("FR", re.compile(rf"法國|{_B}(?:french|france){_E}")),
    ("AE", re.compile(rf"阿聯|阿拉伯聯合大公國|{_B}(?:uae|emirati|emirates){_E}")),
    ("CA", re.compile(rf"加拿大|{_B}(?:canadian|canada){_E}")),
    ("JP", re.compile(rf"日本|{_B}(?:japanese|japan){_E}")),
    ("KR", re.compile(rf"韓國|{_B}(?:korean|korea){_E}")),
    ("DE", re.compile(rf"德國|{_B}(?:german|germany){_E}")),
    ("GB", re.compile(rf"英國|{_B}(?:british|uk){_E}")),
    ("TW", re.compile(rf"台灣|臺灣|{_B}(?:taiwanese|taiwan){_E}")),
)
COUNTRY_PATTERNS = _COUNTRIES
"""(ISO code, pattern) for the country words a question may use; shared with the planner."""

_AVOID_TRIGGER = re.compile(
    r"不要用|不要|不想要|不想用|避開|避免|排除|別用|不用|不考慮|不能用|不能是|不接受|(?<!是)不是|拒用|除了|非(?!常)"
    rf"|{_B}(?:avoid(?:ing)?|no|not|exclude|excluding|without|except|don't want|do not want|don't use|do not use|"
    rf"other than|anything but|stay away from|steer clear of|ban|non)\b"
)
_CLAUSE_END = re.compile(
    rf"[{re.escape(_PUNCT)}]|但|而且|並且|需要|要能|{_B}(?:but|however|need|want|must){_E}"
)
_AVOID_SUFFIX = re.compile(
    r"^.{0,10}?(?:以外|之外|除外|(?:不要|不行|不考慮|免談|排除)(?=\s?(?:[,.;!?。、]|$|的?(?:喔|哦|啦|了))))"
)
_NOT_AN_AVOIDANCE = re.compile(r"^\s?(?:要)?(?:審查|拒答|拒絕|censor)")
# "why not Qwen?", 「為什麼不用 Qwen」: a question about a model, not a wish to avoid it.
_WHY_BEFORE = re.compile(rf"(?:為什麼|為何|怎麼|幹嘛|{_B}why|{_B}how come)\s?$")
_PREFER_TRIGGER = re.compile(
    r"最好是|最好用|最好|偏好|優先|比較想用|喜歡|希望是|傾向|想用"
    rf"|{_B}(?:prefer(?:ably|red|s)?|ideally|i like|favou?r(?:ing)?){_E}"
)


def _clause_after(text: str, end: int, limit: int = 40) -> tuple[int, int]:
    window = text[end : end + limit]
    stop = _CLAUSE_END.search(window)
    return end, end + (stop.start() if stop else len(window))


def _avoid_and_prefer(
    text: str, mentions: list[Mention], catalog: Catalog
) -> tuple[list[str], list[str], list[str]]:
    """(avoid_countries, avoid_families, prefer_families)."""
    countries: list[tuple[int, str]] = []
    families: list[tuple[int, str]] = []
    for trigger in _AVOID_TRIGGER.finditer(text):
        if _NOT_AN_AVOIDANCE.search(text[trigger.end() : trigger.end() + 6]):
            continue
        if _WHY_BEFORE.search(text[max(0, trigger.start() - 10) : trigger.start()]):
            continue
        start, end = _clause_after(text, trigger.end())
        clause = text[start:end]
        for code, pattern in _COUNTRIES:
            for match in pattern.finditer(clause):
                # "不要中文" is about language; only the country words count here.
                countries.append((start + match.start(), code))
        for mention in mentions:
            if mention.kind == "family" and start <= mention.start < end:
                families.append((mention.start, mention.target))
    for code, pattern in _COUNTRIES:
        for match in pattern.finditer(text):
            if _AVOID_SUFFIX.search(text[match.end() : match.end() + 24]):
                countries.append((match.start(), code))
    for mention in mentions:
        if mention.kind == "family" and _AVOID_SUFFIX.search(text[mention.end : mention.end + 24]):
            families.append((mention.start, mention.target))

    prefer: list[tuple[int, str]] = []
    for trigger in _PREFER_TRIGGER.finditer(text):
        start, end = _clause_after(text, trigger.end(), limit=24)
        for mention in mentions:
            if not start <= mention.start < end:
                continue
            if mention.kind == "family":
                prefer.append((mention.start, mention.target))
            elif mention.kind == "model" and mention.target in catalog.by_id:
                prefer.append((mention.start, catalog.by_id[mention.target].family))
    avoid_families = _unique(f for _, f in sorted(families))
    return (
        _unique(c for _, c in sorted(countries)),
        avoid_families,
        [f for f in _unique(f for _, f in sorted(prefer)) if f not in avoid_families],
    )


# ---------------------------------------------------------------- quantisation

_QUANT_Q = re.compile(rf"{_B}q([2-8])(?:_?k(?:_?([sml]))?|_?([01]))?{_E}")
_QUANT_DEFAULT = {"2": "Q2_K", "3": "Q3_K_M", "4": "Q4_K_M", "5": "Q5_K_M", "6": "Q6_K", "8": "Q8_0"}
_QUANT_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"{_B}(?:fp16|f16|bf16|16[- ]?bits?){_E}|半精度|16 ?位元"), "F16"),
    (re.compile(rf"{_B}(?:fp32|f32|32[- ]?bits?){_E}|全精度|32 ?位元"), "F32"),
    (re.compile(rf"{_B}(?:int8|8[- ]?bits?){_E}|8 ?位元"), "Q8_0"),
    (re.compile(rf"{_B}(?:int4|4[- ]?bits?){_E}|4 ?位元"), "Q4_K_M"),
)


def _quant(text: str) -> str | None:
    hits: list[tuple[int, str]] = []
    for match in _QUANT_Q.finditer(text):
        bits, size, legacy = match.group(1), match.group(2), match.group(3)
        if size:
            name = f"Q{bits}_K_{size.upper()}"
        elif legacy:
            name = f"Q{bits}_{legacy}"
        elif "k" in match.group(0)[2:]:
            name = f"Q{bits}_K" if bits in "26" else f"Q{bits}_K_M"
        else:
            name = _QUANT_DEFAULT.get(bits, "")
        if name:
            hits.append((match.start(), name))
    for pattern, name in _QUANT_WORDS:
        match = pattern.search(text)
        if match:
            hits.append((match.start(), name))
    return min(hits)[1] if hits else None


# ---------------------------------------------------------------- the parser


def parse_constraints(question: str, catalog: Catalog) -> Constraints:
    """Read the requirements in a zh-TW, Simplified or English question.

    Args:
        question: the user's text, any length and content; never raises.
        catalog: supplies model, family and closed-model names and aliases.

    Returns:
        The `Constraints`, with `assumptions` (zh-TW) for every default taken.
    """
    # The retriever's entity linker and the planner parse the same question: parse it once.
    # Callers may change the result, so each gets its own copy.
    if not isinstance(question, str):
        question = normalize(question)  # None, bytes, numbers: never raises
    return copy.deepcopy(_parse_cached(question, _ByIdentity(catalog)))


@lru_cache(maxsize=256)
def _parse_cached(question: str, key: _ByIdentity) -> Constraints:
    try:
        return _parse(normalize(question), key.catalog)
    except Exception:  # a parse must never break an answer; fall back to nothing known
        return Constraints(assumptions=["無法解析問題中的條件，未套用任何限制"])


def _parse(text: str, catalog: Catalog) -> Constraints:
    result = Constraints()
    if not text:
        return result
    mentions = mention_spans(text, catalog)
    result.mentioned_models = _unique(m.target for m in mentions if m.kind == "model")
    result.mentioned_closed = _unique(m.target for m in mentions if m.kind == "closed")
    families = _unique(m.target for m in mentions if m.kind == "family")

    has_named = bool(result.mentioned_models or families or result.mentioned_closed)
    result.commercial_required, result.noncommercial_ok = _commercial(text, has_named)
    result.licence_ids = _licences(text, catalog)
    result.open_source_only = bool(_OPEN_SOURCE_ONLY.search(text))

    result.avoid_countries, result.avoid_families, result.prefer_families = _avoid_and_prefer(
        text, mentions, catalog
    )
    result.mentioned_families = [f for f in families if f not in result.avoid_families]

    result.max_params_b, result.min_params_b, notes = _params(text)
    result.assumptions.extend(notes)
    result.min_context_tokens = _context(text)
    result.quant = _quant(text)
    result.tasks = _tasks(text)

    _hardware(text, result)

    if result.min_context_tokens is None and _WHOLE_BOOK.search(text):
        result.min_context_tokens = 128_000
        result.assumptions.append("「整本書／整份文件」假設需要約 128k tokens 的上下文")
    extra: list[str] = []
    if result.min_context_tokens is not None and result.min_context_tokens >= 100_000:
        extra.append("long-context")
    if result.device in ("phone", "edge"):
        extra.append("edge")
    result.tasks = _unique([*result.tasks, *(t for t in extra if t in STRENGTH_TAGS)])
    return result


def _hardware(text: str, result: Constraints) -> None:
    """Memory size and kind, named hardware (bandwidth, GPU count), device and CPU-only."""
    device_hits = []
    for device, pattern in _DEVICES:
        match = pattern.search(text)
        if match:
            device_hits.append((match.start(), device))
    result.device = min(device_hits)[1] if device_hits else None
    result.cpu_only = bool(_CPU_ONLY.search(text))
    on_mac = bool(_MAC.search(text))
    gpus = [] if result.cpu_only else _gpus(text)
    chips = _named_hardware(text, "unified")
    ram_kinds = _named_hardware(text, "ram")

    explicit: list[tuple[float, MemoryKind | None, int]] = []
    for pattern, scale in ((_MEMORY, 1.0), (_MEMORY_MB, 1 / 1024)):
        for match in pattern.finditer(text):
            value = float(match.group(1)) * scale
            if 0 < value <= 4096:
                count = _COUNT_BEFORE_SIZE.search(text[max(0, match.start() - 12) : match.start()])
                cards = (int(count.group(1)) if count.group(1) else _COUNT_WORDS[count.group(2)]) if count else 1
                explicit.append((value, _memory_kind_near(text, match.start(), match.end()), cards))

    def settle(kind: MemoryKind | None) -> MemoryKind | None:
        if on_mac and not gpus:
            return "unified"
        if result.cpu_only:
            return "ram"
        return kind

    explicit = [(value, settle(kind), cards) for value, kind, cards in explicit]
    vram = [(value, cards) for value, kind, cards in explicit if kind == "vram"]
    laptop = result.device == "laptop"
    if gpus:
        first = gpus[0]
        if not laptop or first.key not in _LAPTOP_GPU_MEMORY_GB:
            result.hardware_name, result.bandwidth_gbs = first.name, first.bandwidth_gbs
        result.gpu_count = sum(gpu.count for gpu in gpus)
    if vram:
        value, cards = max(vram)
        result.memory_gb, result.memory_kind = value * cards, "vram"
        result.gpu_count = max(result.gpu_count or 1, cards)
        if cards > 1:
            result.assumptions.append(f"{cards} 張 {value:g}GB 顯示卡以顯存共 {value * cards:g}GB 計算")
            result.assumptions.append("多張顯卡以顯存總和計算，模型需切分到多張卡上")
        rams = [v for v, kind, _ in explicit if kind == "ram"]
        if rams:
            result.ram_gb = max(rams)
    elif gpus:
        total = 0.0
        names = []
        for gpu in gpus:
            memory = _LAPTOP_GPU_MEMORY_GB.get(gpu.key, gpu.memory_gb) if laptop else gpu.memory_gb
            total += memory * gpu.count
            names.append(f"{gpu.count} 張 {gpu.key.upper()}" if gpu.count > 1 else gpu.key.upper())
        result.memory_gb, result.memory_kind = total, "vram"
        where = "筆電版 " if laptop else ""
        result.assumptions.append(f"{where}{'、'.join(names)} 以顯存共 {total:g}GB 計算")
        if any(gpu.count > 1 for gpu in gpus) or len(gpus) > 1:
            result.assumptions.append("多張顯卡以顯存總和計算，模型需切分到多張卡上")
        if explicit:
            result.assumptions.append("同時提到系統記憶體，以顯卡顯存為準")
            rams = [v for v, kind, _ in explicit if kind in ("ram", None)]
            if rams:
                result.ram_gb = max(rams)
    elif explicit:
        value, kind, _ = explicit[0]
        if kind is None:
            kind = "ram"
            # "16GB 筆電" is plainly the machine's RAM; say so only when nothing hints at it.
            if result.device is None and not _RASPBERRY.search(text):
                result.assumptions.append(f"未註明 {value:g}GB 是 RAM 還是顯存，假設為系統記憶體 (RAM)")
        result.memory_gb, result.memory_kind = value, kind
        if kind == "vram":
            result.gpu_count = 1
    elif chips:
        chip = chips[0]
        result.memory_gb, result.memory_kind = chip.memory_gb, "unified"
        result.assumptions.append(f"「{chip.preset.name}」未註明記憶體，假設 {chip.memory_gb:g}GB 統一記憶體")
    elif _RASPBERRY.search(text):
        result.memory_gb, result.memory_kind, result.cpu_only = 8.0, "ram", True
        result.assumptions.append("「樹莓派」未註明記憶體，假設 8GB RAM、只用 CPU")
    elif result.device == "edge" and _WEARABLE.search(text):
        result.memory_gb, result.memory_kind = 2.0, "ram"
        result.assumptions.append("「手錶／穿戴裝置」未註明記憶體，假設 2GB")
        if result.max_params_b is None:
            result.max_params_b = 1.0
            result.assumptions.append("穿戴裝置以 1B 以下的模型為限")
    elif result.device == "phone":
        result.memory_gb, result.memory_kind = 8.0, "ram"
        result.assumptions.append("「手機」未註明記憶體，假設 8GB RAM")
        if result.max_params_b is None:
            result.max_params_b = 4.0
            result.assumptions.append("手機上以 4B 以下的模型為限")
    elif result.device == "laptop":
        result.memory_gb = 16.0
        result.memory_kind = "unified" if on_mac else "ram"
        result.assumptions.append(
            "「筆電」未註明記憶體，假設 16GB 統一記憶體" if on_mac else "「筆電」未註明記憶體，假設 16GB RAM"
        )
    if result.memory_kind == "unified" and chips and not gpus:
        result.hardware_name, result.bandwidth_gbs = chips[0].preset.name, chips[0].preset.bandwidth_gbs
    elif result.memory_kind == "ram" and ram_kinds:
        ram = ram_kinds[0].preset
        result.hardware_name, result.bandwidth_gbs = ram.name, ram.bandwidth_gbs
        if ram.name.startswith("Raspberry"):
            result.cpu_only = True
    elif result.memory_kind == "ram" and _RASPBERRY.search(text):
        result.cpu_only = True
    if result.memory_gb is not None:
        result.memory_gb = round(result.memory_gb, 3)
