"""Question → typed `Plan`.

One parse step reads a question and the conversation so far into a `Plan`: the intent,
the subjects (catalog models with their named size, families, closed or unknown names),
the constraints, the attribute asked for, rank or list specs, claims to verify, and what
was inherited from earlier turns. Every answer is built from the plan, and `ask --json`
shows it, so a wrong answer can be traced to a wrong parse.

Design notes:

* Names come from the catalog (`constraints.mention_spans`); only generic words live here
  (question words, attribute words, superlatives). A rule never names a model.
* The intent is decided by signals in a fixed order, most specific first: scope, unknown
  or closed subjects, why-not, claims (false premise), compare, fit, rank, fact, list,
  lookup, recommend. Each is a small predicate on the normalised question and the parse.
* Follow-ups: a pronoun (它, that one, it) or ordinal (第二個, the first one) resolves
  against the previous turn's subjects or shortlist; a follow-up without an attribute
  inherits the previous one ("那 Qwen3 呢？"); a follow-up without subjects keeps the
  earlier constraints ("那如果只有 8GB 呢？").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..chinese import to_traditional_query
from ..constraints import COUNTRY_PATTERNS, Constraints, Mention, mention_spans, normalize, parse_constraints
from ..knowledge import Catalog, Model, Variant

if TYPE_CHECKING:
    from .conversation import ConversationState
    from .lookup import Hit

STRONG_LOOKUP = 0.35
"""A which-question whose best article sentence scores this high is answered by lookup,
even when it names another model ("哪個模型只有 355B 卻能略勝 Kimi K2？")."""

INTENTS = (
    "recommend", "fact", "lookup", "rank", "list", "compare", "why_not", "fit",
    "out_of_scope", "unknown_model", "false_premise", "closed", "scope",
)

# ---------------------------------------------------------------- attribute words

ATTRIBUTES: dict[str, re.Pattern[str]] = {
    "licence": re.compile(r"授權|許可|licen[cs]e|開源嗎|真開源|(?<![a-z])mit(?![a-z])|apache|條款", re.I),
    "commercial": re.compile(r"商用|商業|賺錢|營利|commercial|business use|for profit", re.I),
    "size": re.compile(r"多大|多小|大小|尺寸|參數|幾b|多少b|size|parameters?|how (?:big|large|small)|how many params", re.I),
    "context": re.compile(r"上下文|context|token|吞吐|多長|視窗|window", re.I),
    "experts": re.compile(r"專家|expert|moe|架構|architecture|啟動|active", re.I),
    "vendor": re.compile(r"誰做|誰出|誰開發|誰推出|誰家|哪家|哪間|公司|廠商|推出的|開發的|做的|出的|(?<![a-z])who(?![a-z])|which company|vendor|made by|developed by|built by|maker", re.I),
    "country": re.compile(r"哪國|哪個國家|國家|國籍|country|which nation|where .{0,20}from", re.I),
    "verdict": re.compile(r"評價|好用|推薦嗎|值得|表現|怎麼樣|如何|好不好|worth|verdict|good|opinion|how does .{0,30} do", re.I),
    "weakness": re.compile(r"缺點|問題|限制|弱點|weakness|downside|cons\b|drawback|limitation", re.I),
    "chinese": re.compile(r"中文|繁體|簡體|chinese", re.I),
    "base": re.compile(r"基於|衍生|底模|拿.{0,12}微調|微調(?:出來|自|而成|的)|base model|derived|based on|fine-?tuned from", re.I),
    "released": re.compile(r"什麼時候|何時|哪一年|哪年|幾月|釋出|發布|發佈|推出時間|上市|when|release", re.I),
    "memory": re.compile(r"記憶體|顯存|顯卡記憶體|vram|(?<![a-z])ram(?![a-z])|多少 ?gb|幾 ?gb|需要多少空間|空間|硬碟|儲存|how much (?:memory|ram|vram|space|disk)|memory", re.I),
    "speed": re.compile(r"多快|速度|token ?/ ?s|tok/s|tokens? per second|how fast|speed", re.I),
    "modalities": re.compile(r"看圖|圖片|圖像|多模態|視覺|影像|語音|聲音|vision|images?|multimodal|audio|speech", re.I),
}

# ---------------------------------------------------------------- intent signals

_YES_NO = re.compile(
    r"嗎|能不能|可不可以|可不可|是不是|是否|對吧|對嗎|沒錯吧|吧[?？]?$|有沒有|會不會|行不行|跑不跑得動|跑得動嗎"
    r"|^(?:and |so |but |then )?(?:can|could|does|do|is|are|will|would|has|have|may)\b|, right\??$|isn't it|is that right|correct\??$",
    re.I,
)
_CONFIRM = re.compile(
    r"對吧|對嗎|沒錯吧|是吧|吧[?？]?$|right\??$|isn't it|is that right|correct\??$|i heard|聽說|據說|應該是"
    # rhetorical questions and hearsay take the point for granted too: 「X 不是超強嗎」, "isn't X great?"
    r"|不是.{0,12}嗎|大家都說|都說|網路上說|everyone says|people say|^(?:isn't|aren't|wasn't)(?![a-z])",
    re.I,
)
_WHICH = re.compile(
    r"哪(?:個|一個|款|家|間|些|位|種|一款|一家|個模型|個系列|隻)|什麼模型|叫什麼|叫啥|啥模型|什麼名字|名稱是|誰|有沒有(?:什麼|哪)"
    r"|(?<![a-z])(?:which|who|what)(?![a-z])|is there (?:a|an|any)\b|are there any\b",
    re.I,
)
_PLURAL = re.compile(r"哪些|有哪些|列出|全部|所有|幾個|多少個|(?<![a-z])(?:which|what) (?:\w+ )?(?:models|llms|families|ones)\b|\blist\b|\ball\b", re.I)
_RECOMMEND = re.compile(
    r"推薦|建議|選哪|選什麼|挑哪|用哪|用什麼|跑哪|能跑|可以跑|想跑|要跑|適合|該用|該選|選擇"
    r"|recommend|suggest|should i (?:use|pick|choose)|best (?:model|llm|open|option)|good (?:model|option)|options? for|what (?:model|llm) (?:to|should|for)",
    re.I,
)
_COMPARE = re.compile(
    r"比較|比一比|差別|差異|不同|哪個好|哪個比較|相比|對比|還是|或是|二選一|\bvs\.?\b|versus|compare|comparison|difference|better|\bor\b",
    re.I,
)
_WHY_NOT = re.compile(
    r"為什麼(?:沒有|沒|不|不是|不能|不選|不推薦|不建議|排除|沒推薦|沒選)|為何(?:沒有|沒|不)|怎麼(?:沒有|沒|不)(?:推薦|推|選|列|考慮)?"
    r"|why (?:not|no|isn't|wasn't|didn't|don't|did you not|was .{0,30} (?:excluded|left out|not))|what about .{0,30}\?? why",
    re.I,
)
_SUPERLATIVE = re.compile(
    r"最(?:小|大|少|多|新|舊|早|晚|近|長|短|輕|重|迷你|巨大)|第[二三四五2-5](?:小|大|新|多|少)"
    r"|smallest|largest|biggest|fewest|least|most|newest|latest|oldest|earliest|longest|shortest|lightest|tiniest|heaviest|most recent",
    re.I,
)
_RANK_FIELDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("experts", re.compile(r"專家(?:數|數量|個數)|幾個專家|number of experts|most experts|fewest experts", re.I)),
    ("params_active", re.compile(r"啟動|active|每次(?:只)?用", re.I)),
    ("context", re.compile(r"上下文|context|長文|token|視窗|window|輸入", re.I)),
    ("released", re.compile(r"最(?:新|舊|早|晚|近)|新出|釋出|發布|發佈|推出|newest|latest|oldest|earliest|recent|released?", re.I)),
    ("languages", re.compile(r"語言|languages", re.I)),
    ("params_total", re.compile(r"參數|尺寸|大小|體積|最(?:小|大|輕|重|迷你|巨大)|第[二三四五2-5](?:小|大)|small|large|big|tiny|light|heavy|params|parameters|size", re.I)),
)
_ASCENDING = re.compile(r"最(?:小|少|舊|早|短|輕|迷你)|第[二三四五2-5](?:小|少)|smallest|fewest|least|oldest|earliest|shortest|lightest|tiniest", re.I)
_RANK_POSITION = re.compile(r"第([二三四五2-5])")
_MOE_ONLY = re.compile(r"moe|混合專家|多專家|專家模型|mixture[- ]of[- ]experts", re.I)
_DENSE_ONLY = re.compile(r"稠密|dense", re.I)

_PRONOUN = re.compile(
    r"它|牠|他們|它們|這個|那個|這款|那款|這隻|那隻|該模型|此模型|上面(?:那|這)|剛剛(?:那|說的)|前者|後者"
    r"|(?<![a-z])(?:it|its|it's|that one|this one|that model|this model|they|them|those|that|this)(?![a-z])",
    re.I,
)
_ORDINAL = re.compile(
    r"第\s?([一二三四五12345])\s?(?:個|名|款|隻|位|項)?|前者|後者|最後(?:一)?個"
    r"|(?<![a-z])(?:the )?(first|second|third|fourth|fifth|last|1st|2nd|3rd|4th|5th)(?: one| model| pick| option)?(?![a-z])|#([1-5])",
    re.I,
)
_ORDINAL_VALUE = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "first": 1, "second": 2, "third": 3, "fourth": 4,
                  "fifth": 5, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "前者": 1, "後者": 2}
_FOLLOWUP_TAIL = re.compile(r"呢[?？]?\s*$|^(?:那|那麼|那如果|如果|and|what about|how about)\b|^(?:那|如果|那麼)", re.I)

# Domain: words that make a question about language models at all.
_LLM_WORDS = re.compile(
    r"模型|llm|語言模型|開源|開放權重|權重|授權|參數|gguf|量化|推論|微調|上下文|token|聊天機器人|chatbot|ai ?助理|agent|代理人|rag"
    r"|訓練|資料集|測評|評測|benchmark|dataset"
    r"|(?<![a-z])(?:models?|weights|licen[cs]e|open[- ]source|open[- ]weights?|inference|fine[- ]?tun\w*|quantiz\w*|ai)(?![a-z])",
    re.I,
)
_RUN_WORDS = re.compile(r"跑|部署|架設|執行|本地|本機|離線|self[- ]host|run|deploy|locally|on[- ]prem", re.I)
# Out of scope even though a model word may appear: other generative media, and buying advice.
_OTHER_MEDIA = re.compile(
    r"生圖|畫圖|繪圖|文生圖|(?:產生|生成|畫|做)(?:一|幾)?(?:張|個|段|部)?.{0,6}(?:圖片|圖像|照片|插圖|影片|動畫)"
    r"|(?:圖片|圖像|影片)生成|剪影片|配樂|作曲|音樂生成"
    r"|text[- ]to[- ](?:image|video)|image generat\w*|video generat\w*|generate (?:images|pictures|videos)|diffusion model|midjourney|stable diffusion",
    re.I,
)
_BUY_HARDWARE = re.compile(
    r"(?:推薦|買|選|挑|入手)(?:一|哪)?(?:台|張|支|款|個|部)?.{0,8}(?:筆電|電腦|顯卡|手機|平板|主機|螢幕|滑鼠|鍵盤|相機|耳機|cpu|gpu)"
    r"|(?:which|what|recommend\w*|best|buy) (?:a |an )?(?:\w+ ){0,3}(?:laptop|computer|graphics card|gpu|phone|pc|monitor|camera)s?(?: to buy| should i buy)?",
    re.I,
)

# A name-shaped token that may be a model the catalog does not hold.
_NAME_TOKEN = re.compile(r"(?<![A-Za-z0-9])([A-Z][A-Za-z]*[A-Z0-9][A-Za-z0-9]*|[A-Za-z]{2,}[- ]?\d+(?:\.\d+)?[A-Za-z]?|[A-Z][a-z]{2,})(?![A-Za-z0-9])")
_NOT_A_MODEL = frozenset(
    """gpu gpus cpu cpus npu ram vram gb gib mb tb api apis llm llms ai moe rag mit apache bsd gpl agpl lgpl osi
    cc rtx gtx mac macbook mini pro max ultra air imac ios android linux windows cuda rocm metal apple nvidia amd intel
    ddr ddr4 ddr5 lpddr5 ssd nvme ok the which what who how is are can could does do will would should i my we our a an
    and or but if for with without on in of to from by at as it its this that these those yes no not please thanks
    hi hello model models licence license commercial open source weights weight chinese english traditional simplified
    taiwan china france canada usa us uk uae eu json yaml gguf q4 q5 q6 q8 q2 q3 f16 bf16 fp16 int4 int8 mxfp4 k m s
    token tokens context laptop desktop phone server raspberry pi jetson orin coding code vision reasoning agent agents
    tool tools use run running best good better small smallest big biggest large largest new newest latest old oldest
    compare versus vs between also any some all more most less least much many why when where there here then than
    ollama vllm lm studio llamacpp llama.cpp transformers huggingface hugging face hub pytorch torch onnx tensorrt
    tell me about know heard say said called named made built trained released company vendor family series version
    note gpt claude gemini sonnet opus haiku perplexity openai meta google microsoft ibm""".split()
)


@dataclass
class Subject:
    """A thing the question is about."""

    kind: str  # "model" | "family" | "closed" | "unknown"
    id: str  # model id, family id, closed-model name, or the unknown name as written
    name: str
    variant: str | None = None  # the size named ("Gemma 3 27B" → "Gemma 3 27B")


@dataclass
class Claim:
    """Something the question takes for granted, to be checked ("Gemma 3 是 MIT 授權對吧？")."""

    attribute: str  # licence | vendor | country | size | commercial
    value: str
    subject: str  # model or family id


@dataclass
class RankSpec:
    field: str  # params_total | params_active | context | released | languages
    ascending: bool
    position: int = 1
    moe_only: bool = False
    dense_only: bool = False


@dataclass
class Plan:
    """A question, parsed. `to_dict()` is what `ask --json` shows under `plan`."""

    question: str
    intent: str
    language: str
    subjects: list[Subject] = field(default_factory=list)
    constraints: Constraints = field(default_factory=Constraints)
    attributes: list[str] = field(default_factory=list)
    rank: RankSpec | None = None
    claims: list[Claim] = field(default_factory=list)
    reference: str | None = None  # "pronoun" | "ordinal:N" | "new-subject" | "constraints"
    inherited: list[str] = field(default_factory=list)
    hardware_stated: bool = False
    injection: bool = False
    hardware_in_question: bool = False  # hardware stated in this question, not inherited
    reason: str = ""  # why this intent (one short phrase, for debugging)
    lookup: dict[str, Any] | None = None  # the best article sentence for a which-question

    @property
    def zh(self) -> bool:
        return self.language != "en"

    def models(self) -> list[Subject]:
        return [s for s in self.subjects if s.kind == "model"]

    def families(self) -> list[Subject]:
        return [s for s in self.subjects if s.kind == "family"]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["constraints"] = {k: v for k, v in self.constraints.to_dict().items() if v not in (None, False, [], "")}
        return data


# ---------------------------------------------------------------- helpers


def attributes_of(norm: str) -> list[str]:
    return [name for name, pattern in ATTRIBUTES.items() if pattern.search(norm)]


def variant_named(model: Model, text_after: str) -> Variant | None:
    """The size named right after a model's name ("Gemma 3 27B", "qwen3 30b-a3b")."""
    match = re.match(r"\s?[-_ ]?(\d{1,4}(?:\.\d{1,2})?)\s?([bm])(?![a-z])", text_after)
    if not match or len(model.sizes) < 2:
        return None
    value = float(match.group(1)) / (1000 if match.group(2) == "m" else 1)
    best = min(model.sizes, key=lambda v: abs(v.params_total_b - value))
    return best if abs(best.params_total_b - value) <= max(0.15 * value, 0.06) else None


def _subjects_from(norm: str, mentions: list[Mention], catalog: Catalog) -> list[Subject]:
    subjects: list[Subject] = []
    seen: set[tuple[str, str]] = set()
    for mention in mentions:
        key = (mention.kind, mention.target)
        if key in seen:
            continue
        seen.add(key)
        if mention.kind == "model":
            model = catalog.by_id[mention.target]
            named = model.variant(mention.variant) if getattr(mention, "variant", None) else None
            variant = named or _variant_in_span(model, norm[mention.start : mention.end]) or variant_named(
                model, norm[mention.end : mention.end + 12])
            subjects.append(Subject("model", model.id, model.name, variant.name if variant else None))
        elif mention.kind == "family":
            family = catalog.family_by_id[mention.target]
            version = re.match(r"\s?[-_ ]?(\d{1,2}(?:\.\d{1,2})?)(?![0-9.]*\s?(?:b|m|k|gb|g|t)(?![a-z]))", norm[mention.end : mention.end + 8])
            members = series_members(f"{family.name} {version.group(1)}", catalog) if version else []
            if members:
                # "Llama 4" is a generation: its released members are the subjects.
                subjects += [Subject("model", m.id, m.name) for m in members if (("model", m.id) not in seen)]
                seen |= {("model", m.id) for m in members}
            else:
                subjects.append(Subject("family", mention.target, family.name))
        else:
            subjects.append(Subject("closed", mention.target, mention.target))
    # "GPT-OSS 20B 跟 120B": a bare size joined to a named model is its sibling of that size.
    for match in _SIBLING_SIZE.finditer(norm):
        named = [s for s in subjects if s.kind == "model"]
        if not named:
            break
        value = float(match.group(1)) / (1000 if match.group(2) == "m" else 1)
        family = catalog.by_id[named[0].id].family
        for model in catalog.models_of(family):
            variant = next((v for v in model.sizes if abs(v.params_total_b - value) <= max(0.15 * value, 0.06)), None)
            if variant and not any(s.id == model.id and (s.variant or None) == (variant.name if len(model.sizes) > 1 else None) for s in subjects):
                subjects.append(Subject("model", model.id, model.name, variant.name if len(model.sizes) > 1 else None))
                break
    return subjects


_SIBLING_SIZE = re.compile(r"(?:跟|和|與|還是|或是|或|\bor\b|\bvs\.?|versus|\band\b)\s*(?:the\s)?(\d{1,4}(?:\.\d{1,2})?)\s?([bm])(?![a-z0-9])")


def _compact(text: str) -> str:
    return re.sub(r"[\s\-_.]", "", text.lower())


def _variant_in_span(model: Model, span: str) -> Variant | None:
    """A mention that is itself a size's name ("Qwen3-30B-A3B") picks that size."""
    key = _compact(span)
    for variant in model.variants:
        if _compact(variant.name) == key:
            return variant
    size = re.search(r"(\d{1,4}(?:\.\d{1,2})?)\s?([bm])(?![a-z])", span.lower())
    return variant_named(model, size.group(0)) if size and model.variants else None


def unknown_names(question: str, norm: str, catalog: Catalog, mentions: list[Mention]) -> list[str]:
    """Model-shaped names in the question that the catalog does not hold.

    A known family followed by a version the catalog lacks ("Qwen 7.5", "Llama 9") counts,
    and so does a name-shaped token ("InternLM", "MiniCPM", "Yi-34B") outside every alias.
    """
    found: list[str] = []
    covered = [(m.start, m.end) for m in mentions]
    for mention in mentions:
        if mention.kind != "family":
            continue
        after = norm[mention.end : mention.end + 10]
        version = re.match(r"\s?[-_ ]?(v?\d{1,2}(?:\.\d{1,2})?)(?![0-9.]*\s?(?:b|m|k|gb|g|t|位元|bit)(?![a-z]))", after)
        if version:
            name = f"{catalog.family_by_id[mention.target].name} {version.group(1)}"
            if not series_members(name, catalog):
                found.append(name)
    # Name-shaped tokens: look in the original text, where capitals survive.
    for match in _NAME_TOKEN.finditer(question[:400]):
        token = match.group(1)
        low = token.lower()
        if low in _NOT_A_MODEL or re.fullmatch(r"[a-z]+\d*", low) and low in _NOT_A_MODEL:
            continue
        if re.fullmatch(r"(?:rtx|gtx|rx|m|a|h|l|t|v)\s?-?\d+\w*|\d+\s?gb|q\d\w*|iq\d\w*|ddr\d|lpddr\d\w*|\d+k|gpt[- ]?\d.*|cc.*|apache.*|mit|bsd.*|[a-z]+s", low) and not low.endswith("ss"):
            continue
        position = norm.find(low)
        if position >= 0 and any(s <= position < e for s, e in covered):
            continue
        if any(_compact(token) in _compact(norm[s:e]) or _compact(norm[s:e]) in _compact(token) for s, e in covered):
            continue
        if re.fullmatch(r"[A-Z][a-z]{2,}", token) and match.start() == 0:
            continue  # a sentence's first word ("Which", "Compare")
        if re.fullmatch(r"[A-Z][a-z]{2,}", token) and not re.search(r"[\u4e00-\u9fff]", question):
            continue  # in English prose a capitalised word is usually not a model name
        before = to_traditional_query(question[: match.start()])
        after = to_traditional_query(question[match.end() : match.end() + 12])
        leading = bool(_LEADING_FILLER.fullmatch(before))
        asked_about = bool(_ABOUT_AFTER.match(after))
        if not (leading or asked_about or _COMPARE.search(question)):
            continue  # a name in passing ("用 Commodore 64 跑 LLM") is not the subject
        found.append(token)
    return list(dict.fromkeys(found))


def series_members(name: str, catalog: Catalog) -> list[Model]:
    """Catalog models whose names start with a family name plus version ("Llama 4" → Maverick, Scout…)."""
    key = _compact(name)
    return [m for m in catalog.models if _compact(m.name).startswith(key) and m.status == "released"] or [
        m for m in catalog.models if _compact(m.name).startswith(key)
    ]


_LEADING_FILLER = re.compile(
    r"\s*(?:請問|想問|問一下|我想知道|聽說|據說|那|那麼|所以|and|so|is|are|does|do|can|could|what about|how about|how does|how is|tell me about|what is|what's"
    r"|(?:any |your )?thoughts on|opinions? (?:on|of)|what do you think (?:of|about)|have you heard of|do you know)?\s*",
    re.I,
)
_ABOUT_AFTER = re.compile(
    r"\s*(?:[\d.]+\s*[bmk]?\s*)?(?:可以|能|是|有|的|支援|採|多大|授權|商用|開源|模型|怎麼樣|如何|好用|開源|一張|要多少|需要"
    r"|is|are|has|have|license|licence|under|open|commercial|good|better|vs|or|from|by|和|跟|還是)",
    re.I,
)


_SUBJECT_SLOT = re.compile(
    r"^(?:請問|想問|問一下|我想知道|聽說|那)?\s*([\u4e00-\u9fff]{2,4})\s*(?:模型)?(?:可以|能不能|能|是|有|的|支援|跑|多大|採用|用)"
)
_GENERIC_SUBJECTS = frozenset(
    "開源 模型 哪個 哪些 什麼 這個 那個 它們 我們 你們 如果 現在 目前 筆電 電腦 手機 顯卡 中文 英文 程式 大家 一般 "
    "商用 公司 本機 本地 這台 哪家 哪一 小型 大型 語言 推理 哪款 有沒 有哪 請問 為什 怎麼 這些 那些 最新 最小 最大".split()
)


def unknown_subject_slot(norm: str) -> str | None:
    """A CJK name in the subject slot of a fact-shaped question ("百川可以商用嗎？")."""
    match = _SUBJECT_SLOT.search(norm)
    if not match:
        return None
    name = match.group(1)
    if name in _GENERIC_SUBJECTS or name[:2] in _GENERIC_SUBJECTS or len(norm) > 30:
        return None
    if re.search(r"[我你妳他她它這那哪誰什怎要想用跑做買選找請幫]", name):
        return None
    return name


# ---------------------------------------------------------------- claims

_LICENCE_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<![a-z])mit(?![a-z])"), "MIT"),
    (re.compile(r"apache"), "Apache-2.0"),
    (re.compile(r"cc[- ]?by[- ]?nc"), "CC-BY-NC-4.0"),
    (re.compile(r"(?<![a-z])gpl"), "GPL"),
    (re.compile(r"llama (?:license|licence|授權)"), "Llama"),
)
# Country words: one table for the project (constraints.py), used here for claims and filters.
_COUNTRY_WORDS = [(pattern, code) for code, pattern in COUNTRY_PATTERNS]
_CLAIM_SIZE = re.compile(r"(?:只有|才|有|是|就|僅|only|is|has)\s?(\d{1,4}(?:\.\d{1,2})?)\s?([bm])(?![a-z])")
_VENDOR_VERB = re.compile(r"做的|出的|推出|開發|研發|製作|家的|的模型|的嗎|公司|made by|developed by|built by|from|'s (?:model|llm|family)|by (?:meta|google|microsoft|openai)", re.I)
_PRAISE = re.compile(
    r"超強|很強|最強|很好|超好|表現好|表現很好|厲害|無敵|直接用|就對了|屌打|吊打|碾壓|秒殺|好用|很神|超神|頂尖"
    r"|(?<![a-z])(?:great|the best|amazing|excellent|strong|top|awesome|crush(?:es)?|beats)(?![a-z])",
    re.I,
)
_COMMERCIAL_NO = re.compile(r"不能商用|不可商用|不可以商用|不准商用|禁止商用|非商用|non[- ]?commercial|can't be used commercially|cannot be used commercially|not for commercial", re.I)
_COMMERCIAL_YES = re.compile(r"可以商用|能商用|可商用|允許商用|free for commercial|can be used commercially|commercial use is (?:ok|allowed|fine)", re.I)


def _claims(norm: str, subjects: list[Subject], catalog: Catalog, mentions: list[Mention]) -> list[Claim]:
    """What a yes/no question asserts about its first subject."""
    if not subjects or subjects[0].kind not in ("model", "family"):
        return []
    if not (_CONFIRM.search(norm) or _YES_NO.search(norm)):
        return []
    subject = subjects[0]
    claims: list[Claim] = []
    for pattern, licence in _LICENCE_WORDS:
        if pattern.search(norm) and ATTRIBUTES["licence"].search(norm):
            claims.append(Claim("licence", licence, subject.id))
            break
    other_families = [m.target for m in mentions if m.kind == "family"]
    own_family = catalog.by_id[subject.id].family if subject.kind == "model" else subject.id
    for family in other_families:
        if family != own_family and _VENDOR_VERB.search(norm):
            claims.append(Claim("vendor", family, subject.id))
            break
    for pattern, country in _COUNTRY_WORDS:
        if pattern.search(norm) and (re.search(r"國|的|公司|made|from|compan|model|based", norm)):
            claims.append(Claim("country", country, subject.id))
            break
    if subject.kind == "model" and not subject.variant:
        size = _CLAIM_SIZE.search(norm)
        if size and not re.search(r"gb|記憶體|顯存|vram|ram", norm[size.end() : size.end() + 6]):
            value = float(size.group(1)) / (1000 if size.group(2) == "m" else 1)
            claims.append(Claim("size", f"{value:g}", subject.id))
    if _PRAISE.search(norm) and _CONFIRM.search(norm):
        claims.append(Claim("verdict", "good", subject.id))
    year = re.search(r"(?<!\d)(20[12]\d)(?!\d)", norm)
    if year and ATTRIBUTES["released"].search(norm) or year and re.search(r"開源|推出|出的|問世|open[- ]?sourced|launched", norm):
        claims.append(Claim("released", year.group(1), subject.id))
    if _COMMERCIAL_NO.search(norm) and _CONFIRM.search(norm):
        claims.append(Claim("commercial", "no", subject.id))
    elif _COMMERCIAL_YES.search(norm) and _CONFIRM.search(norm):
        claims.append(Claim("commercial", "yes", subject.id))
    return claims


# ---------------------------------------------------------------- the planner


def _resolve_ordinal(norm: str) -> int | None:
    match = _ORDINAL.search(norm)
    if not match:
        return None
    word = match.group(0)
    if "後者" in word:
        return 2
    if "前者" in word:
        return 1
    if "最後" in word or "last" in word:
        return -1
    for group in match.groups():
        if group:
            value = _ORDINAL_VALUE.get(group.lower()) or (int(group) if group.isdigit() else None)
            if value:
                return value
    return None


def make_plan(
    question: str,
    catalog: Catalog,
    state: ConversationState | None = None,
    language: str = "zh-TW",
    injection: bool = False,
    lookup: Callable[..., list[Hit]] | None = None,
) -> Plan:
    """Parse `question` (already cleaned) in the context of `state` into a `Plan`.

    Args:
        lookup: sentence search over the article (`SentenceIndex.search`); consulted for
            which-questions only.
    """
    norm = normalize(question)
    plan = Plan(question=question, intent="scope", language=language, injection=injection)
    try:
        mentions = mention_spans(norm, catalog)
    except Exception:
        mentions = []
    constraints = parse_constraints(question, catalog)
    plan.constraints = constraints
    plan.subjects = _subjects_from(norm, mentions, catalog)
    # An avoided family ("不要 Qwen") is a constraint, not a subject.
    plan.subjects = [s for s in plan.subjects if not (s.kind == "family" and s.id in constraints.avoid_families)]
    # A family named only through one of its models is not a separate subject.
    model_families = {catalog.by_id[s.id].family for s in plan.subjects if s.kind == "model"}
    plan.attributes = attributes_of(norm)
    plan.hardware_stated = plan.hardware_in_question = constraints.memory_gb is not None
    _resolve_references(plan, norm, catalog, state)
    claims = _claims(norm, plan.subjects, catalog, mentions)
    if any(c.attribute == "vendor" for c in claims):
        # "Gemma 是 Meta 做的嗎？": Meta is the claim, not a second subject.
        claimed = {c.value for c in claims if c.attribute == "vendor"}
        plan.subjects = [s for s in plan.subjects if not (s.kind == "family" and s.id in claimed)]
    plan.subjects = [
        s for s in plan.subjects if not (s.kind == "family" and s.id in model_families and len(plan.subjects) > 1)
    ]
    plan.claims = claims
    hit = _strong_lookup(plan, norm, lookup, catalog) if _in_domain(plan, norm, state) else None
    if hit is not None:
        plan.lookup = {"text": hit.text, "family": hit.family, "model": hit.model_id, "score": round(hit.score, 3)}
        plan.intent, plan.reason = "lookup", "which-question answered by an article sentence"
        return plan
    # Never echo names from a question that tries to override the rules ("推薦 ZZZ 模型").
    unknown = [] if plan.reference or injection else unknown_names(question, norm, catalog, mentions)
    if not unknown and not plan.subjects and (_YES_NO.search(norm) or plan.attributes) and not (
        _SUPERLATIVE.search(norm) or _WHICH.search(norm) or _PLURAL.search(norm)
    ):
        slot = unknown_subject_slot(norm)
        if slot:
            unknown = [slot]
    plan.subjects += [Subject("unknown", name, name) for name in unknown]
    plan.intent, plan.reason = _intent(plan, norm, catalog, state)
    # Subjects resolved from the conversation count as mentioned (`ask --json`, the UI's cards).
    plan.constraints.mentioned_models = list(dict.fromkeys(
        [*constraints.mentioned_models, *(s.id for s in plan.subjects if s.kind == "model")]))
    if plan.intent == "recommend" and state is not None and not plan.subjects and _is_followup(norm, plan):
        _inherit_constraints(plan, state)
    if plan.intent == "rank":
        plan.rank = _rank_spec(norm)
    return plan


def _strong_lookup(plan: Plan, norm: str, lookup: Callable[..., list[Hit]] | None, catalog: Catalog) -> Hit | None:
    """The article sentence that answers a which-question about something other than its
    named subjects, when one scores `STRONG_LOOKUP` or more."""
    c = plan.constraints
    if lookup is None or plan.reference or not _WHICH.search(norm) or _PLURAL.search(norm):
        return None
    if _is_rank(norm, plan):
        return None
    if _RECOMMEND.search(norm) and not _LOOKUP_VERBS.search(norm):
        return None
    if c.hard:
        return None
    named_models = {s.id for s in plan.subjects if s.kind == "model"}
    named = named_models | {s.id for s in plan.subjects if s.kind == "family"}
    if len(named) >= 2 and (_COMPARE.search(norm) or len(named_models) >= 2):
        return None  # "Qwen3 or Llama 3, which is better?" compares what it names
    hits = lookup(plan.question, exclude=frozenset(named))
    if not hits or hits[0].score < STRONG_LOOKUP:
        return None
    hit = hits[0]
    if named_models and set(plan.attributes) - {"vendor", "country", "base"}:
        return None  # a catalog field of the named model(s): a fact or compare question
    if named and plan.attributes and not (hit.names & named):
        return None  # an attribute of the named subject, and the sentence is about something else
    if hit.model_id and hit.model_id in named_models or not hit.model_id and hit.entity_family in {
        catalog.by_id[m].family for m in named_models
    } | named:
        return None  # the sentence is about the model the question names: a fact question
    return hit


def _is_followup(norm: str, plan: Plan) -> bool:
    return bool(_FOLLOWUP_TAIL.search(norm)) or len(norm) <= 24


def _resolve_references(plan: Plan, norm: str, catalog: Catalog, state: ConversationState | None) -> None:
    """Pronouns, ordinals and bare follow-ups take their subjects from the conversation."""
    if state is None or not state.turns:
        return
    has_catalog_subject = any(s.kind in ("model", "family") for s in plan.subjects)
    if not has_catalog_subject:
        _resolve_partial(plan, norm, catalog, state)
    ordinal = _resolve_ordinal(norm)
    if plan.reference:
        pass
    elif ordinal is not None and not has_catalog_subject:
        pool = state.shortlist or [s.id for s in state.subjects if s.kind == "model"]
        if pool:
            index = ordinal - 1 if ordinal > 0 else len(pool) - 1
            if 0 <= index < len(pool):
                model = catalog.by_id[pool[index]]
                variant = state.variants.get(model.id)
                plan.subjects = [Subject("model", model.id, model.name, variant)]
                plan.reference = f"ordinal:{ordinal}"
                plan.inherited.append(f"第 {ordinal} 個 → {model.name}" if plan.zh else f"#{ordinal} → {model.name}")
    elif _PRONOUN.search(norm) and not has_catalog_subject:
        previous = [s for s in state.subjects if s.kind in ("model", "family")]
        if not previous and state.shortlist:
            model = catalog.by_id[state.shortlist[0]]
            previous = [Subject("model", model.id, model.name, state.variants.get(model.id))]
        if previous:
            plan.subjects = previous[:3]
            plan.reference = "pronoun"
            plan.inherited.append("它 → " + "、".join(s.name for s in previous[:3]))
    if plan.reference is None and not has_catalog_subject and plan.hardware_stated and state.intent == "fit" and state.subjects:
        # 「換成 8GB 呢？」 after a can-it-run question: the same models on the new hardware.
        plan.subjects = [s for s in state.subjects if s.kind in ("model", "family")][:3]
        plan.reference = "implicit"
        plan.attributes = plan.attributes or list(state.attributes)
        plan.inherited.append("subject → " + ", ".join(s.name for s in plan.subjects))
    if plan.reference is None and not has_catalog_subject and plan.attributes and state.subjects and (
        _FOLLOWUP_TAIL.search(norm) or len(norm) <= 30
    ) and not (_WHICH.search(norm) or _PLURAL.search(norm) or plan.constraints.hard):
        # "And how many parameters are active?": a bare attribute question continues the subject.
        plan.subjects = [s for s in state.subjects if s.kind in ("model", "family")][:3]
        plan.reference = "implicit"
        plan.inherited.append("subject → " + ", ".join(s.name for s in plan.subjects))
    if plan.reference is None and has_catalog_subject and not plan.attributes and _FOLLOWUP_TAIL.search(norm):
        if state.attributes and state.intent in ("fact", "fit", "false_premise"):
            plan.reference = "new-subject"
    if plan.reference and not plan.attributes:
        plan.attributes = list(state.attributes)
        if state.attributes:
            plan.inherited.append("attribute: " + ", ".join(state.attributes))
    if plan.reference and state.constraints is not None:
        # The earlier hardware and licence needs still hold for "does the second one fit?".
        _merge_into(plan.constraints, state.constraints)
        plan.hardware_stated = plan.hardware_stated or state.constraints.memory_gb is not None


_FOLLOWUP_STOP = frozenset("the it its and or is of to in on a an what how about which one ones version model models".split())
_SMALLER = re.compile(r"最小|比較小|較小|小的|小一點|smaller|smallest|the small one|tiniest", re.I)
_LARGER = re.compile(r"最大|比較大|較大|大的|大一點|bigger|biggest|largest|the big one", re.I)
_PARTIAL_TOKEN = re.compile(r"[a-z][a-z0-9.]*|\d+(?:\.\d+)?\s?[bm](?![a-z])")


def _resolve_partial(plan: Plan, norm: str, catalog: Catalog, state: ConversationState) -> None:
    """「那 Air 版呢？」, 「比較小的那個」, "the 8B one": a part of a name, or a relative size,
    picks a model or size among the previous subjects' family."""
    previous = [s for s in state.subjects if s.kind in ("model", "family")]
    if not previous:
        return
    families = {catalog.by_id[s.id].family if s.kind == "model" else s.id for s in previous}
    candidates: list[tuple[Model, Variant | None]] = []
    for model in catalog.models:
        if model.family in families:
            candidates.append((model, None))
            candidates += [(model, v) for v in model.variants]
    tokens = [t.replace(" ", "") for t in _PARTIAL_TOKEN.findall(norm) if t not in _FOLLOWUP_STOP and len(t) >= 2]
    for token in tokens:
        matched = [(m, v) for m, v in candidates if token in _compact(v.name if v else m.name) and token not in _compact(
            catalog.family_by_id[m.family].name)]
        models = {m.id for m, _v in matched}
        if len(models) == 1:
            model, variant = matched[0] if len(matched) == 1 else next(((m, v) for m, v in matched if v is None), matched[0])
            plan.subjects = [Subject("model", model.id, model.name, variant.name if variant else None)]
            plan.reference = "partial-name"
            plan.inherited.append(f"{token} → {variant.name if variant else model.name}")
            return
    smaller, larger = bool(_SMALLER.search(norm)), bool(_LARGER.search(norm))
    if smaller == larger or not (_PRONOUN.search(norm) or _FOLLOWUP_TAIL.search(norm) or re.search(r"版|款|個|one|version|size", norm)):
        return
    models_before = [catalog.by_id[s.id] for s in previous if s.kind == "model"]
    pool = models_before or [m for m in catalog.models if m.family in families]
    sized = [(m, v) for m in pool for v in m.sizes]
    if len(pool) > 1 and not any(s.variant for s in previous):
        sized = [(m, max(m.sizes, key=lambda v: v.params_total_b)) for m in pool]
    pick = min(sized, key=lambda mv: mv[1].params_total_b) if smaller else max(sized, key=lambda mv: mv[1].params_total_b)
    model, variant = pick
    plan.subjects = [Subject("model", model.id, model.name, variant.name if len(model.sizes) > 1 else None)]
    plan.reference = "relative-size"
    plan.inherited.append(("最小 → " if smaller else "最大 → ") + variant.name)


def _merge_into(current: Constraints, prior: Constraints) -> None:
    for key, value in prior.to_dict().items():
        if key.startswith("mentioned_") or key == "assumptions":
            continue
        if getattr(current, key) in (None, False, [], "") and value not in (None, False, [], ""):
            setattr(current, key, value)
    for note in prior.assumptions:
        if note not in current.assumptions:
            current.assumptions.append(note)


def _inherit_constraints(plan: Plan, state: ConversationState) -> None:
    if state.constraints is None:
        return
    before = plan.constraints.to_dict()
    _merge_into(plan.constraints, state.constraints)
    if plan.constraints.to_dict() != before:
        plan.reference = plan.reference or "constraints"
        plan.inherited.append("earlier constraints")
    plan.hardware_stated = plan.constraints.memory_gb is not None


def _in_domain(plan: Plan, norm: str, state: ConversationState | None) -> bool:
    """Whether the question is about language models at all (or continues a conversation that is)."""
    c = plan.constraints
    followup = state is not None and bool(state.turns) and (bool(_FOLLOWUP_TAIL.search(norm)) or len(norm) <= 16)
    return bool(
        plan.subjects or followup or _is_rank(norm, plan) or _LLM_WORDS.search(norm) or c.tasks or c.licence_ids
        or c.commercial_required or c.max_params_b or c.min_context_tokens or plan.reference
        or (_RUN_WORDS.search(norm) and (c.memory_gb is not None or c.device))
        or (c.memory_gb is not None and re.search(r"我有|i have|i've got|只有|my ", norm))
    )


def _intent(plan: Plan, norm: str, catalog: Catalog, state: ConversationState | None) -> tuple[str, str]:
    c = plan.constraints
    catalog_subjects = [s for s in plan.subjects if s.kind in ("model", "family")]
    models = [s for s in plan.subjects if s.kind == "model"]
    unknown = [s for s in plan.subjects if s.kind == "unknown"]
    closed = [s for s in plan.subjects if s.kind == "closed"]
    in_domain = _in_domain(plan, norm, state)
    if _OTHER_MEDIA.search(norm) and not catalog_subjects and not re.search(r"語言模型|llm|language model|聊天|chat", norm):
        return "out_of_scope", "other generative media"
    if _BUY_HARDWARE.search(norm) and not catalog_subjects and not _LLM_WORDS.search(norm):
        return "out_of_scope", "hardware purchase"
    if not in_domain:
        return ("scope" if plan.injection else "out_of_scope"), "no language-model subject"
    if unknown and not models:
        return "unknown_model", "name not in catalog"
    if unknown and (_COMPARE.search(norm) or _YES_NO.search(norm)):
        return "unknown_model", "one of the names is not in the catalog"
    if closed and not models:
        return "closed", "closed model"
    if _WHY_NOT.search(norm) and catalog_subjects:
        return "why_not", "why-not wording"
    if plan.claims:
        return ("false_premise" if any(not claim_holds(cl, catalog) for cl in plan.claims) else "fact"), "claim to verify"
    if _is_rank(norm, plan):
        return "rank", "superlative over a catalog field"
    if len(catalog_subjects) >= 2 and models and (_COMPARE.search(norm) or _WHICH.search(norm) or _RECOMMEND.search(norm)):
        return "compare", "two or more subjects"
    if catalog_subjects and plan.hardware_stated and not models and (_YES_NO.search(norm) or _RUN_WORDS.search(norm)):
        return "fit", "named family and hardware"
    refit = plan.reference is not None and state is not None and state.intent == "fit"
    # Hardware carried over from earlier turns makes a question about fit only when it asks
    # about running ("第二個跑得動嗎？"), not about another attribute ("第二個可以商用嗎？").
    asks_fit = plan.hardware_in_question or not (set(plan.attributes) - {"memory", "speed"})
    if models and (
        asks_fit and plan.hardware_stated and (_YES_NO.search(norm) or _RUN_WORDS.search(norm) or refit)
        or "memory" in plan.attributes
        or "speed" in plan.attributes
    ):
        return "fit", "named model and hardware or memory"
    if _is_rank(norm, plan):
        return "rank", "superlative over a catalog field"
    if models:
        if _WHICH.search(norm) and (c.tasks or c.hard) and not plan.attributes and not _YES_NO.search(norm):
            return "recommend", "which-question naming a model"
        return "fact", "named model"
    if catalog_subjects:  # families only
        if (c.hard or c.tasks) and _RECOMMEND.search(norm):
            return "recommend", "family with constraints"
        if _PLURAL.search(norm) and (c.tasks or plan.attributes):
            return "list", "members of a family"
        return "fact", "named family"
    listing_filter = bool(
        c.licence_ids or c.open_source_only or c.tasks or c.avoid_countries or _country_filter(norm)
        or (c.commercial_required and not c.memory_gb)
    )
    if _PLURAL.search(norm) and listing_filter and c.memory_gb is None and c.max_params_b is None:
        return "list", "which-models with a filter"
    if _WHICH.search(norm) and _country_filter(norm) and not c.hard and not c.tasks:
        return "list", "which-question about a country"
    if _WHICH.search(norm) and not c.hard and not c.tasks and not _RECOMMEND.search(norm):
        return "lookup", "which-question about a property"
    if _WHICH.search(norm) and not c.hard and c.tasks and _LOOKUP_VERBS.search(norm):
        return "lookup", "which-question about a stated trait"
    if c.hard or c.tasks or _RECOMMEND.search(norm) or _WHICH.search(norm):
        return "recommend", "constraints or which-wording"
    if state is not None and state.turns and _FOLLOWUP_TAIL.search(norm):
        return "recommend", "follow-up"
    return "recommend", "language-model question"


def _is_rank(norm: str, plan: Plan) -> bool:
    """A superlative over a catalog field, across the catalog, a family, or several named models."""
    models = [s for s in plan.subjects if s.kind == "model"]
    return bool(_SUPERLATIVE.search(norm)) and any(p.search(norm) for _, p in _RANK_FIELDS) and len(models) != 1


_LOOKUP_VERBS = re.compile(
    r"叫啥|來著|記得|號稱|據說|被稱為|被譽為|稱為|聞名|出名|有名|以.{1,12}著稱|名字|命名|取名|叫做|叫什麼|那隻|那個|原文|文章|提到|說過"
    r"|known for|said to|called|named|famous|the article|mentioned",
    re.I,
)


def _country_filter(norm: str) -> str | None:
    for pattern, code in _COUNTRY_WORDS:
        if pattern.search(norm):
            return code
    return None


def country_filter(norm: str) -> str | None:
    """The country a listing question asks for ("中國的模型有哪些？")."""
    return _country_filter(norm)


def _rank_spec(norm: str) -> RankSpec:
    field_name = "params_total"
    superlative = _SUPERLATIVE.search(norm)
    window = norm[max(0, superlative.start() - 12) : superlative.end() + 16] if superlative else norm
    for name, pattern in _RANK_FIELDS:
        if pattern.search(window):
            field_name = name
            break
    else:
        for name, pattern in _RANK_FIELDS:
            if pattern.search(norm):
                field_name = name
                break
    position = 1
    match = _RANK_POSITION.search(norm)
    if match:
        position = _ORDINAL_VALUE.get(match.group(1)) or int(match.group(1))
    return RankSpec(
        field=field_name,
        ascending=bool(_ASCENDING.search(norm)),
        position=position,
        moe_only=bool(_MOE_ONLY.search(norm)) or field_name == "params_active",
        dense_only=bool(_DENSE_ONLY.search(norm)),
    )


# ---------------------------------------------------------------- claim checks


def claim_holds(claim: Claim, catalog: Catalog) -> bool:
    """Whether the catalog agrees with a claim about a model or family."""
    models = [catalog.by_id[claim.subject]] if claim.subject in catalog.by_id else catalog.models_of(claim.subject)
    if not models:
        return True
    if claim.attribute == "licence":
        return any(m.licence.id.lower().startswith(claim.value.lower()) for m in models)
    if claim.attribute == "vendor":
        return all(m.family == claim.value for m in models)
    if claim.attribute == "country":
        return all(m.country == claim.value for m in models)
    if claim.attribute == "commercial":
        wanted = claim.value
        return all((m.commercial_use != "no") == (wanted == "yes") for m in models)
    if claim.attribute == "verdict":
        return all(m.verdict != "not-recommended" for m in models)
    if claim.attribute == "released":
        return any((m.released or "").startswith(claim.value) for m in models)
    if claim.attribute == "size":
        value = float(claim.value)
        return any(abs(v.params_total_b - value) <= max(0.1 * value, 0.05) for m in models for v in m.sizes)
    return True
