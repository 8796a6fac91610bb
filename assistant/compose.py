"""Routing and grounded answers (no language model needed).

A question is routed to one of:

- `closed`     a closed model (GPT-4o, Claude, Gemini …): say so, never invent;
- `compare`    two or more named models/families with comparison words;
- `fact`       named models or families: answer from catalog fields + passages;
- `recommend`  constraints or "which model" wording: the shortlist with reasons and "why not";
- `scope`      nothing in scope: a polite scope statement with example questions.

Every number comes from the catalog; every model name comes from the catalog; the
article's opinions are attributed to the article (「原文認為…」); catalog facts carry the
catalog's as-of date; citations `[n]` index into `Reply.sources`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .chinese import detect_language, to_traditional_query
from .constraints import Constraints, find_mentions, parse_constraints
from .index import Chunk, format_context, format_params
from .knowledge import Catalog, Model
from .retrieval import Passage
from .selection import COMMERCIAL_BADGE, COUNTRY_ZH, TASK_ZH, Exclusion, Recommendation, shortlist

EXAMPLES_ZH = [
    "我要商用、只有 16GB 筆電，想跑能寫程式的模型，選哪個？",
    "Cohere Command 可以商用嗎？",
    "Phi 4 和 Gemma 3 比較",
    "手機上能跑什麼模型？",
    "不要中國公司、要 Apache 2.0 的模型有哪些？",
    "RTX 4090 可以跑 gpt-oss-20b 嗎？",
]
EXAMPLES_EN = [
    "Which models have an MIT licence?",
    "Best coding model for a 24GB GPU, commercial use?",
    "Compare Llama 4 Scout and Maverick",
]

_COMPARE = re.compile(r"比較|比一比|差別|差異|不同|哪個好|哪個比較|相比|對比|\bvs\.?\b|versus|compare|comparison|difference|better than", re.I)
_RECOMMEND = re.compile(
    r"推薦|建議|選哪|選什麼|挑哪|哪個模型|哪些模型|哪一個|哪款|什麼模型|用什麼|跑哪|能跑|可以跑|想跑|要跑|跑得動|適合|有哪些|有什麼|"
    r"which (?:model|llm|one)s?|what (?:model|llm)s?|recommend|suggest|should i (?:use|pick|choose)|best (?:model|llm|open)|"
    r"which .* (?:have|has|support|fit|run)|models? (?:with|that|for|under)|options? for",
    re.I,
)
_LLM_WORDS = re.compile(r"模型|llm|語言模型|開源|權重|授權|model|weights|licen[cs]e|參數|gguf|量化|推論|微調", re.I)
_INJECTION = re.compile(
    r"忽略.{0,12}(指示|指令|規則|設定|提示)|無視.{0,8}(指示|規則)|ignore (?:all |any |the )?(?:previous |prior |above )?(?:instructions|rules|prompts?)|"
    r"disregard .{0,20}instructions|system prompt|系統提示|提示詞|你的規則|your (?:rules|instructions)|reveal|越獄|jailbreak|"
    r"(?:用|以|請用)?(?:简体|簡體)(?:中文)?(?:回答|回覆|輸出)|(?:answer|reply|respond) in simplified",
    re.I,
)
_YES_NO = re.compile(r"嗎|能不能|可不可以|可以嗎|是否|[?？]|^(?:can|could|does|is|will|would)\b", re.I)
_WHICH = re.compile(r"哪|which|what (?:model|llm)|recommend|推薦|建議", re.I)
_PRONOUN = re.compile(r"它|他們|它們|牠|這個模型|那個模型|這款|那款|這個|那個|^那|^那麼|\bit\b|\bits\b|\bthat model\b|\bthis model\b|\bthey\b|what about", re.I)

# Which catalog facts a fact question asks about.
_ASPECTS: dict[str, re.Pattern[str]] = {
    "licence": re.compile(r"授權|許可|licen[cs]e|開源嗎|真開源|mit|apache", re.I),
    "commercial": re.compile(r"商用|商業|賺錢|commercial", re.I),
    "size": re.compile(r"多大|大小|尺寸|參數|幾b|多少b|size|parameters?|how (?:big|large)|最小|最大", re.I),
    "context": re.compile(r"上下文|context|token|吞吐|長文|多長", re.I),
    "experts": re.compile(r"專家|expert|moe|架構|architecture|啟動|active", re.I),
    "vendor": re.compile(r"誰做|誰出|哪家|哪間|公司|廠商|推出|開發|who (?:makes|made|built|develops)|which company|vendor|國家|country", re.I),
    "verdict": re.compile(r"評價|好用|推薦嗎|值得|表現|怎麼樣|如何|好不好|worth|verdict|good|opinion", re.I),
    "weakness": re.compile(r"缺點|問題|限制|weakness|downside|cons\b|drawback", re.I),
    "chinese": re.compile(r"中文|繁體|簡體|chinese", re.I),
    "base": re.compile(r"微調|基於|衍生|base model|fine-?tun|derived", re.I),
    "released": re.compile(r"什麼時候|何時|哪一年|釋出|發布|發佈|when|release", re.I),
}


@dataclass
class Reply:
    question: str
    language: str
    answer: str
    route: str
    constraints: Constraints
    recommendations: list[Recommendation] = field(default_factory=list)
    excluded: list[Exclusion] = field(default_factory=list)
    sources: list[Passage] = field(default_factory=list)
    mode: str = "grounded"
    notices: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    validation: dict[str, Any] | None = None
    mentioned: list[str] = field(default_factory=list)
    grounded_answer: str = ""

    def recommendations_dicts(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self.recommendations]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "question": self.question,
            "language": self.language,
            "answer": self.answer,
            "route": self.route,
            "recommendations": self.recommendations_dicts(),
            "excluded": [e.to_dict() for e in self.excluded],
            "constraints": self.constraints.to_dict(),
            "sources": [p.to_dict() for p in self.sources],
            "mode": self.mode,
            "notices": self.notices,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }
        if self.validation is not None:
            data["validation"] = self.validation
        return data


def answer_language(question: str) -> str:
    """zh-TW when the question reads as Chinese (function words decide mixed cases)."""
    if re.search(r"[的嗎呢哪什麼怎是有要我你可能會跑用比較推薦哪个什么吗]", question):
        return "zh-TW"
    return detect_language(question)


def has_injection(question: str) -> bool:
    return bool(_INJECTION.search(question))


# ------------------------------------------------------------------ citations


class Citations:
    """Assigns [n] to passages in first-cited order; `sources` is that list."""

    def __init__(self, chunks: dict[str, Chunk], retrieved: list[Passage]) -> None:
        self._chunks = chunks
        self._retrieved = retrieved
        self.sources: list[Passage] = []
        self._number: dict[str, int] = {}

    def cite(self, chunk_id: str | None) -> str:
        if not chunk_id:
            return ""
        if chunk_id not in self._number:
            passage = next((p for p in self._retrieved if p.id == chunk_id), None)
            if passage is None:
                chunk = self._chunks.get(chunk_id)
                if chunk is None:
                    return ""
                passage = Passage(chunk.id, chunk.source, chunk.title, chunk.text, 0.0, chunk.family, chunk.model_id)
            self.sources.append(passage)
            self._number[chunk_id] = len(self.sources)
        return f"[{self._number[chunk_id]}]"

    def article_for(self, family: str) -> str | None:
        """The best retrieved article passage of a family, else its first article chunk."""
        for passage in self._retrieved:
            if passage.source == "article" and passage.family == family:
                return passage.id
        for chunk_id, chunk in self._chunks.items():
            if chunk.source == "article" and chunk.family == family:
                return chunk_id
        return None

    def article_chunks(self) -> list[Chunk]:
        return [c for c in self._chunks.values() if c.source == "article"]

    def fill(self, k: int) -> None:
        """Add the remaining top passages (uncited) so readers can check the context."""
        for passage in self._retrieved:
            if len(self.sources) >= k:
                break
            if passage.id not in self._number:
                self.sources.append(passage)
                self._number[passage.id] = len(self.sources)


# ------------------------------------------------------------------ facts


def _size_text(model: Model, zh: bool) -> str:
    total = format_params(model.params_total_b)
    sizes = [v.params_total_b for v in model.variants]
    if len(sizes) > 1:
        lo, hi = format_params(min(sizes)), format_params(max(sizes))
        names = "、".join(v.name for v in model.variants) if zh else ", ".join(v.name for v in model.variants)
        span = f"{lo}–{hi}"
        text = f"尺寸 {span}（{names}）" if zh else f"sizes {span} ({names})"
    else:
        text = f"參數量 {total}" if zh else f"{total} parameters"
    if model.params_active_b:
        text += f"，每次啟動 {format_params(model.params_active_b)}" if zh else f", {format_params(model.params_active_b)} active"
    if model.experts:
        text += f"，{model.experts} 個專家" if zh else f", {model.experts} experts"
    arch = {"dense": "稠密架構", "moe": "混合專家 (MoE) 架構", "hybrid": "混合架構"} if zh else {"dense": "dense", "moe": "mixture-of-experts", "hybrid": "hybrid"}
    return f"{text}，{arch[model.architecture]}" if zh else f"{text}, {arch[model.architecture]}"


def _licence_text(model: Model, zh: bool) -> str:
    badge = COMMERCIAL_BADGE["zh-TW" if zh else "en"][model.commercial_use]
    text = f"授權 {model.licence.name}（{model.licence.id}），{badge}" if zh else f"licence {model.licence.name} ({model.licence.id}), {badge}"
    if model.commercial_conditions and model.commercial_use != "yes":
        conditions = (model.commercial_conditions if zh else model.commercial_conditions_en or model.commercial_conditions).rstrip("。. ")
        text += f"：{conditions}" if zh else f" ({conditions})"
    return text


def _vendor_text(model: Model, catalog: Catalog, zh: bool) -> str:
    family = catalog.family_by_id[model.family]
    if not zh:
        return f"made by {model.vendor} ({model.country})"
    vendor = model.vendor
    if model.vendor == family.vendor and re.search(r"[\u4e00-\u9fff]", family.vendor_zh):
        vendor = family.vendor_zh if "（" in family.vendor_zh else f"{family.vendor_zh}（{family.vendor}）"
    country = COUNTRY_ZH.get(model.country, model.country)
    where = "" if country in vendor else f"{country}的"
    return f"由{where} {vendor} 推出"


def model_fact(model: Model, catalog: Catalog, aspects: set[str], cites: Citations, zh: bool) -> str:
    """One paragraph about a model; the asked aspects come first, the rest stay brief."""
    card = cites.cite(f"catalog:{model.id}")
    article = cites.cite(cites.article_for(model.family))
    parts: list[str] = []
    head = f"**{model.name}**"
    base = catalog.by_id.get(model.base_model or "")
    if zh:
        lead = f"{head}{_vendor_text(model, catalog, True)}"
        if base:
            lead += f"，是以 {base.name} 為基礎微調的衍生模型"
        parts.append(lead + "。")
    else:
        lead = f"{head} is {_vendor_text(model, catalog, False)}"
        if base:
            lead += f", a derivative fine-tuned from {base.name}"
        parts.append(lead + ".")
    order = ["licence", "commercial", "size", "experts", "context", "vendor", "chinese", "weakness", "verdict", "released", "base"]
    asked = [a for a in order if a in aspects]
    facts: list[str] = []
    size_said = bool({"size", "experts"} & aspects)
    if {"licence", "commercial"} & aspects:
        facts.append(_licence_text(model, zh))
    if {"size", "experts"} & aspects:
        facts.append(_size_text(model, zh))
        for claim in model.article_claims:
            if claim.field.startswith("params") or claim.field in ("variants", "size"):
                facts.append(f"原文寫「{claim.article_says}」，型錄採用模型卡數字（{claim.note}）" if zh else f"the article says {claim.article_says}; the catalog follows the model card ({claim.note})")
    if "context" in aspects:
        ctx = format_context(model.context_tokens)
        facts.append(f"上下文長度 {ctx} token" if zh else f"context window {ctx} tokens")
    if "released" in aspects and model.released:
        facts.append(f"釋出時間 {model.released}" if zh else f"released {model.released}")
    if "chinese" in aspects:
        facts.append(f"中文：{model.languages.chinese_note}" if zh else f"Chinese: {model.languages.chinese_note}")
    if not asked or asked == ["vendor"] or asked == ["base"]:
        # A general question: the summary plus the key numbers.
        summary = model.summary_zh if zh else model.summary_en
        facts = [summary.rstrip("。.")] + [_size_text(model, zh), _licence_text(model, zh)]
        if model.context_tokens:
            facts.append(f"上下文 {format_context(model.context_tokens)}" if zh else f"context {format_context(model.context_tokens)}")
    elif not size_said and "licence" not in aspects and "commercial" not in aspects:
        facts.append(_size_text(model, zh))
    if facts:
        sep = "；" if zh else "; "
        sentence = sep.join(facts)
        if not zh:
            sentence = sentence[:1].upper() + sentence[1:]
        parts.append(sentence + ("。" if zh else ".") + card)
    if "weakness" in aspects and model.weaknesses:
        parts.append(("缺點：" + "；".join(model.weaknesses) + "。" if zh else "Weaknesses (from the article, in Chinese): " + "；".join(model.weaknesses) + ".") + article)
    if "verdict" in aspects or not asked or "weakness" in aspects:
        parts.append((f"原文認為：{model.verdict_reason}" if zh else f"The article's view ({model.verdict}): {model.verdict_reason_en or model.verdict_reason}") + article)
    return " ".join(p for p in parts if p)


def family_fact(family_id: str, catalog: Catalog, aspects: set[str], tasks: list[str], cites: Citations, zh: bool) -> str:
    family = catalog.family_by_id[family_id]
    members = catalog.models_of(family_id)
    if tasks:
        matching = [m for m in members if any(t in m.strengths for t in tasks)]
        if matching:
            members = matching + [m for m in members if m not in matching]
    article = cites.cite(cites.article_for(family_id))
    card = cites.cite(f"catalog:family:{family_id}")
    lines = []
    if zh:
        lines.append(f"**{family.name}**（{family.vendor_zh}）：{family.summary_zh}{card}{article}")
    else:
        lines.append(f"**{family.name}** ({family.vendor}): {family.summary_en}{card}{article}")
    if tasks:
        task_names = "、".join(TASK_ZH.get(t, t) for t in tasks) if zh else ", ".join(tasks)
        hits = [m for m in members if any(t in m.strengths for t in tasks)]
        if hits:
            names = "、".join(m.name for m in hits) if zh else ", ".join(m.name for m in hits)
            lines.append(f"{family.name} 中以{task_names}見長的是：{names}。" if zh else f"In {family.name}, the {task_names} models are: {names}.")
    if "chinese" in aspects:
        notes = list(dict.fromkeys(m.languages.chinese_note for m in members))
        lines.append(("中文表現：" + "；".join(notes[:3])) if zh else ("Chinese output: " + "; ".join(notes[:3])))
    if "weakness" in aspects:
        weak = list(dict.fromkeys(w for m in members for w in m.weaknesses))
        if weak:
            lines.append(("缺點：" + "；".join(weak[:6]) + "。") if zh else ("Weaknesses (from the article): " + "；".join(weak[:6]) + "."))
    licences: dict[str, int] = {}
    for m in members:
        licences[m.licence.id] = licences.get(m.licence.id, 0) + 1
    if {"licence", "commercial"} & aspects and licences:
        common = max(licences, key=lambda k: licences[k])
        if zh:
            lines.append(f"授權：{len(members)} 個型錄條目中有 {licences[common]} 個用 {common}" + ("，其餘：" + "、".join(f"{k}（{v}）" for k, v in licences.items() if k != common) if len(licences) > 1 else "") + "。")
        else:
            lines.append(f"Licences: {licences[common]} of {len(members)} catalog entries use {common}" + ("; others: " + ", ".join(f"{k} ({v})" for k, v in licences.items() if k != common) if len(licences) > 1 else "") + ".")
    bullet = []
    for m in members[:8]:
        cite = cites.cite(f"catalog:{m.id}")
        sizes = [v.params_total_b for v in m.variants] or [m.params_total_b]
        span = format_params(min(sizes)) if len(sizes) == 1 else f"{format_params(min(sizes))}–{format_params(max(sizes))}"
        badge = COMMERCIAL_BADGE["zh-TW" if zh else "en"][m.commercial_use]
        bullet.append(f"- {m.name}：{span}，{m.licence.id}（{badge}）{cite}" if zh else f"- {m.name}: {span}, {m.licence.id} ({badge}){cite}")
    lines.append(("成員：" if zh else "Members:") + "\n" + "\n".join(bullet))
    return "\n".join(lines)


_NAMING = re.compile(r"命名|名字|名稱|取名|叫「|諧音|就是花崗|= ?[a-z]|\+ ?mistral|意思", re.I)


RARE_IDF = 2.5


def _is_name_like(token: str) -> bool:
    """A product or term name ("openmath", "r1-1776"), not an everyday Chinese word."""
    return len(token) >= 3 and token.isascii() and any(ch.isalpha() for ch in token)


@lru_cache(maxsize=4096)
def _sentence_tokens(sentence: str) -> frozenset[str]:
    from .retrieval import tokenize  # noqa: PLC0415

    return frozenset(tokenize(sentence))


def article_sentences(passages: list[Passage]) -> list[tuple[Passage, str]]:
    out = []
    for passage in passages:
        if passage.source != "article":
            continue
        for sentence in re.split(r"(?<=[。！？!?])|\n+", passage.text):
            sentence = sentence.strip().lstrip("-> ").strip()
            if 8 <= len(sentence) <= 220:
                out.append((passage, sentence))
    return out


def best_article_sentence(
    question: str,
    passages: list[Passage],
    idf: dict[str, float],
    families: set[str],
    naming: bool = False,
) -> tuple[str, str] | None:
    """The article sentence that best answers the question, as (passage id, sentence).

    Only the curated article is quoted (never a user document), so a dropped-in file can
    never put words into an answer. Score: the summed IDF of query tokens the sentence
    shares (a rare term such as "OpenMath" finds its sentence anywhere in the article),
    favouring the families the question names; a question about a name ("這名字是什麼意思")
    favours sentences that explain names.
    """
    query = frozenset(_sentence_tokens(question))
    candidates = article_sentences(passages)
    # Words the named families' own sections already contain: a sentence from another
    # section is only worth quoting for a rare term those sections lack ("OpenMath").
    home: set[str] = set()
    for passage, sentence in candidates:
        if passage.family in families:
            home |= _sentence_tokens(sentence)
    scored: list[tuple[float, str, str]] = []
    for passage, sentence in candidates:
        shared = query & _sentence_tokens(sentence)
        if families and passage.family not in families:
            if not any(_is_name_like(t) and idf.get(t, 0.0) >= RARE_IDF and t not in home for t in shared):
                continue
        score = sum(idf.get(t, 0.0) for t in shared) / (1 + len(sentence) / 200)
        if passage.family in families:
            score *= 1.3
            if naming and _NAMING.search(sentence):
                score += 6.0
        scored.append((score, passage.id, sentence))
    if not scored:
        return None
    scored.sort(key=lambda item: -item[0])
    best = scored[0]
    runner_up = scored[1][0] if len(scored) > 1 else 0.0
    # A strong match, or a clearly distinctive one (a rare term only this sentence has).
    if best[0] >= 6.0 or (best[0] >= 4.0 and best[0] >= 1.8 * runner_up):
        return best[1], best[2]
    return None


# ------------------------------------------------------------------ routes


def _constraint_summary(c: Constraints, zh: bool) -> str:
    parts: list[str] = []
    if c.commercial_required:
        parts.append("可商用" if zh else "commercial use")
    if c.licence_ids:
        parts.append(("授權 " if zh else "licence ") + "/".join(c.licence_ids))
    if c.open_source_only:
        parts.append("真開源授權" if zh else "OSI-style licence")
    if c.memory_gb is not None:
        kind = {"ram": "RAM", "vram": "VRAM", "unified": "統一記憶體" if zh else "unified memory"}.get(c.memory_kind or "ram", "RAM")
        parts.append(f"{c.memory_gb:g}GB {kind}")
    if c.device:
        parts.append({"laptop": "筆電", "desktop": "桌機", "phone": "手機", "edge": "邊緣裝置", "server": "伺服器"}[c.device] if zh else c.device)
    if c.cpu_only:
        parts.append("只用 CPU" if zh else "CPU only")
    if c.max_params_b is not None:
        parts.append(f"≤ {format_params(c.max_params_b)}")
    if c.min_params_b is not None:
        parts.append(f"≥ {format_params(c.min_params_b)}")
    if c.min_context_tokens:
        parts.append(("上下文 ≥ " if zh else "context ≥ ") + format_context(c.min_context_tokens))
    if c.tasks:
        parts.append("、".join(TASK_ZH.get(t, t) for t in c.tasks) if zh else ", ".join(c.tasks))
    if c.avoid_countries:
        parts.append(("避開" + "、".join(COUNTRY_ZH.get(x, x) for x in c.avoid_countries) + "公司") if zh else "avoid " + ", ".join(c.avoid_countries))
    if c.avoid_families:
        parts.append(("避開 " if zh else "avoid ") + ", ".join(c.avoid_families))
    return "、".join(parts) if zh else ", ".join(parts)


def recommend_answer(catalog: Catalog, c: Constraints, cites: Citations, zh: bool, family: str | None = None,
                     limit: int = 5, listing: bool = False) -> tuple[str, list[Recommendation], list[Exclusion]]:
    lang = "zh-TW" if zh else "en"
    recs, excluded = shortlist(catalog, c, lang, limit=limit, family=family, diverse=not listing)
    if listing:
        excluded = excluded[:3]
    summary = _constraint_summary(c, zh)
    lines: list[str] = []
    if not recs:
        lines.append(
            f"依你的條件（{summary}），型錄中沒有符合的模型。" if zh else f"No catalog model meets your conditions ({summary})."
        )
        lines.append("可以放寬其中一個條件再試，例如記憶體或授權。" if zh else "Try relaxing one condition, such as memory or licence.")
    else:
        if listing:
            intro = f"型錄中符合條件（{summary}）的模型：" if zh else f"Catalog models that match ({summary}):"
        elif zh:
            intro = f"依你的條件（{summary}），建議：" if summary else "建議："
        else:
            intro = f"For your conditions ({summary}), I suggest:" if summary else "Suggestions:"
        lines.append(intro)
        for n, rec in enumerate(recs, 1):
            cite = cites.cite(f"catalog:{rec.model.id}")
            lines.append(f"{n}. **{rec.model.name}**：{rec.reason}{cite}" if zh else f"{n}. **{rec.model.name}**: {rec.reason}{cite}")
        if c.tasks and not any(r.matched_tasks for r in recs):
            wanted = [e.model.name for e in excluded if any(t in e.model.strengths for t in c.tasks)]
            task_names = "、".join(TASK_ZH.get(t, t) for t in c.tasks) if zh else ", ".join(c.tasks)
            if zh:
                lines.append(f"注意：型錄中標示「{task_names}」專長的模型在你的條件下都不適用" + (f"（例如 {'、'.join(wanted[:3])}）" if wanted else "") + "，以上是符合條件的通用模型。")
            else:
                lines.append(f"Note: no catalog model tagged for {task_names} meets your conditions" + (f" (e.g. {', '.join(wanted[:3])})" if wanted else "") + "; the list above are general models that do.")
        top = recs[0].model
        art = cites.cite(cites.article_for(top.family))
        lines.append(f"原文認為 {top.name}：{top.verdict_reason}{art}" if zh else f"The article on {top.name}: {top.verdict_reason_en or top.verdict_reason}{art}")
    if excluded:
        lines.append("\n**不建議／已排除：**" if zh else "\n**Why not:**")
        lines.extend(f"- {e.reason}" for e in excluded)
    if c.assumptions:
        lines.append(("假設：" if zh else "Assumptions: ") + ("；".join(c.assumptions) if zh else "; ".join(c.assumptions)))
    if c.memory_gb is not None and recs:
        lines.append("（記憶體為含 KV 快取與執行負擔的估算；速度以記憶體頻寬估算，只代表數量級。）" if zh else "(Memory includes KV cache and runtime overhead; speed is an order-of-magnitude estimate from memory bandwidth.)")
    return "\n".join(lines), recs, excluded


def compare_answer(catalog: Catalog, model_ids: list[str], aspects: set[str], c: Constraints, cites: Citations, zh: bool) -> str:
    models = [catalog.by_id[i] for i in model_ids][:3]
    lines = [("比較：" if zh else "Comparison:")]
    for m in models:
        card = cites.cite(f"catalog:{m.id}")
        art = cites.cite(cites.article_for(m.family))
        strengths = "、".join(TASK_ZH.get(t, t) for t in m.strengths) if zh else ", ".join(m.strengths)
        ctx = format_context(m.context_tokens)
        if zh:
            lines.append(
                f"- **{m.name}**（{m.vendor}）：{_size_text(m, True)}；上下文 {ctx}；{_licence_text(m, True)}；"
                f"強項：{strengths or '通用'}{card}。原文認為：{m.verdict_reason}{art}"
            )
        else:
            lines.append(
                f"- **{m.name}** ({m.vendor}): {_size_text(m, False)}; context {ctx}; {_licence_text(m, False)}; "
                f"strengths: {strengths or 'general'}{card}. Article: {m.verdict_reason_en or m.verdict_reason}{art}"
            )
    if len(models) >= 2:
        lines.append(_compare_summary(models, zh))
    return "\n".join(lines)


def _compare_summary(models: list[Model], zh: bool) -> str:
    smallest = min(models, key=lambda m: m.params_total_b)
    open_ones = [m.name for m in models if m.commercial_use == "yes"]
    licences = {m.licence.id for m in models}
    bits = []
    if zh:
        bits.append(f"體積最小的是 {smallest.name}（{format_params(smallest.params_total_b)}）")
        if len(licences) > 1:
            bits.append("授權不同：" + "、".join(f"{m.name} 用 {m.licence.id}" for m in models))
        if open_ones and len(open_ones) < len(models):
            bits.append("可直接商用的是 " + "、".join(open_ones))
        recommended = [m.name for m in models if m.verdict == "recommended"]
        if recommended:
            bits.append("原文較推薦 " + "、".join(recommended))
        return "重點：" + "；".join(bits) + "。"
    bits.append(f"smallest is {smallest.name} ({format_params(smallest.params_total_b)})")
    if len(licences) > 1:
        bits.append("licences differ: " + ", ".join(f"{m.name} uses {m.licence.id}" for m in models))
    if open_ones and len(open_ones) < len(models):
        bits.append("free for commercial use: " + ", ".join(open_ones))
    return "In short: " + "; ".join(bits) + "."


def closed_answer(catalog: Catalog, names: list[str], zh: bool) -> str:
    lines = []
    for name in names:
        closed = next((c for c in catalog.closed_models if c.name == name), None)
        if closed is None:
            continue
        if zh:
            lines.append(f"{closed.name}（{closed.vendor}）是閉源模型：權重無法下載，也不在本知識庫的開源模型範圍內。{closed.note_zh}")
        else:
            lines.append(f"{closed.name} ({closed.vendor}) is a closed model: its weights cannot be downloaded, and it is outside this knowledge base of open-weight models. {closed.note_en}")
    lines.append("如果需要可自行架設的替代方案，可以問我「可商用、寫程式、能在 24GB 顯卡跑的開源模型」這類問題。" if zh else "For a self-hosted alternative, ask e.g. “open model for coding on a 24GB GPU, commercial use”.")
    return "\n".join(lines)


def scope_answer(zh: bool, injection: bool = False) -> str:
    if zh:
        head = "我不能透露或更改自己的規則；" if injection else ""
        return (
            f"{head}這個問題不在我的範圍內。我是開源語言模型的選型助手，根據知識庫回答開源模型的授權、尺寸、硬體需求與適合的任務。"
            "可以試著問：\n" + "\n".join(f"- {q}" for q in EXAMPLES_ZH)
        )
    head = "I can't reveal or change my rules. " if injection else ""
    return (
        f"{head}That is outside my scope. I help choose open-weight language models (licences, sizes, hardware fit, tasks), "
        "answering from a knowledge base. Try:\n" + "\n".join(f"- {q}" for q in EXAMPLES_EN)
    )


# ------------------------------------------------------------------ follow-ups


def resolve_followup(question: str, history: list[dict[str, str]], catalog: Catalog) -> tuple[list[str], list[str], Constraints | None]:
    """Mentions (and constraints) a follow-up inherits from earlier user turns.

    "那它可以商用嗎？" after "Phi 4 有多大？" resolves 它 to Phi 4; "那 8GB 呢？" after a
    recommendation question keeps its other constraints.
    """
    user_turns = [t["content"] for t in history if t.get("role") == "user" and isinstance(t.get("content"), str)]
    if not user_turns:
        return [], [], None
    short = len(question) <= 30
    for previous in reversed(user_turns[-6:]):
        models, families, _closed = find_mentions(previous, catalog)
        if models or families:
            if _PRONOUN.search(question) or short:
                return models, families, None
            break
    if short:
        for previous in reversed(user_turns[-6:]):
            prior = parse_constraints(previous, catalog)
            if prior.hard or prior.tasks:
                return [], [], prior
    return [], [], None


def merge_constraints(prior: Constraints, current: Constraints) -> Constraints:
    merged = Constraints(**{**prior.to_dict()})
    for key, value in current.to_dict().items():
        if value in (None, False, [], ""):
            continue
        setattr(merged, key, value)
    return merged


# ------------------------------------------------------------------ entry point


def compose(
    question: str,
    catalog: Catalog,
    retrieved: list[Passage],
    chunks: dict[str, Chunk],
    history: list[dict[str, str]] | None = None,
    language: str | None = None,
    k: int = 5,
    idf: dict[str, float] | None = None,
) -> Reply:
    """Build the grounded reply for a cleaned question.

    Args:
        idf: the lexical index's IDF table, used to pick the article sentence to quote.
    """
    zh_lang = language or answer_language(question)
    zh = zh_lang != "en"
    notices: list[str] = []
    injection = has_injection(question)
    if injection:
        notices.append(
            "已忽略要求更改規則或改用簡體的指示；本助手一律依知識庫以繁體中文回答。" if zh else "Instructions to change my rules were ignored; answers stay grounded in the knowledge base."
        )
    norm = to_traditional_query(question).lower()
    c = parse_constraints(question, catalog)
    inherited_models, inherited_families, prior = resolve_followup(question, history or [], catalog)
    if not (c.mentioned_models or c.mentioned_families or c.mentioned_closed):
        if inherited_models or inherited_families:
            c.mentioned_models, c.mentioned_families = inherited_models, inherited_families
        elif prior is not None:
            c = merge_constraints(prior, c)
    cites = Citations(chunks, retrieved)
    aspects = {name for name, pattern in _ASPECTS.items() if pattern.search(norm)}
    models = [m for m in c.mentioned_models if m in catalog.by_id]
    # A family named only through one of its models is not a separate subject.
    families = [f for f in c.mentioned_families if f in catalog.family_by_id and not any(catalog.by_id[m].family == f for m in models)]
    recs: list[Recommendation] = []
    excluded: list[Exclusion] = []
    wants_recommendation = bool(_RECOMMEND.search(norm))
    if c.mentioned_closed and not models and not families:
        route, text = "closed", closed_answer(catalog, c.mentioned_closed, zh)
    elif len(models) + len(families) >= 2 and _COMPARE.search(norm) and models:
        route = "compare"
        ids = models + [catalog.models_of(f)[0].id for f in families if catalog.models_of(f)]
        text = compare_answer(catalog, ids, aspects, c, cites, zh)
    elif models and (
        not (wants_recommendation and (c.hard or c.tasks) and not aspects)
        or (_YES_NO.search(norm) and not _WHICH.search(norm))
    ):
        route = "fact"
        paragraphs = [model_fact(catalog.by_id[m], catalog, aspects, cites, zh) for m in models[:3]]
        paragraphs += [family_fact(f, catalog, aspects, c.tasks, cites, zh) for f in families[:1]]
        if c.memory_gb is not None:
            # "Can my 4090 run X?": the fit is the answer, so it comes first.
            paragraphs.insert(0, _fit_paragraph([catalog.by_id[m] for m in models[:3]], c, zh))
        if c.mentioned_closed:
            paragraphs.append(closed_answer(catalog, c.mentioned_closed, zh))
        paragraphs.append(_quote(question, retrieved, idf, {catalog.by_id[m].family for m in models} | set(families), cites, zh))
        text = "\n\n".join(p for p in paragraphs if p)
    elif families and not (c.hard and wants_recommendation and len(families) > 1):
        route = "fact"
        text = "\n\n".join(family_fact(f, catalog, aspects, c.tasks, cites, zh) for f in families[:2])
        quote = _quote(question, retrieved, idf, set(families), cites, zh)
        if quote:
            text += "\n\n" + quote
        if c.hard:
            more, recs, excluded = recommend_answer(catalog, c, cites, zh, family=families[0])
            text += "\n\n" + more
    elif c.hard or c.tasks or wants_recommendation:
        route = "recommend"
        if _PRONOUN.search(norm) and not history:
            notices.append("沒有上文可判斷「它」指哪個模型，先依問題中的條件列出候選；可以直接寫出模型名稱再問一次。" if zh else "There is no earlier question to tell which model “it” means, so here are candidates for the stated conditions; ask again with the model's name.")
        listing = bool(re.search(r"有哪些|哪些|which models|list", norm, re.I)) and (c.licence_ids or c.open_source_only)
        text, recs, excluded = recommend_answer(catalog, c, cites, zh, limit=15 if listing else 5, listing=bool(listing))
    elif _LLM_WORDS.search(norm) and not injection:
        route = "recommend"
        text, recs, excluded = recommend_answer(catalog, c, cites, zh)
    else:
        route, text = "scope", scope_answer(zh, injection)
    if route not in ("scope", "closed"):
        text += (f"\n\n（型錄資料截至 {catalog.as_of.isoformat()}；「原文」指知識庫收錄的評比文章。）" if zh else f"\n\n(Catalog facts as of {catalog.as_of.isoformat()}; “the article” is the comparison article in the knowledge base.)")
        cites.fill(k)
    return Reply(
        question=question,
        language="zh-TW" if zh else "en",
        answer=text,
        route=route,
        constraints=c,
        recommendations=recs,
        excluded=excluded,
        sources=cites.sources,
        notices=notices,
        mentioned=models,
        grounded_answer=text,
    )


def _quote(question: str, retrieved: list[Passage], idf: dict[str, float] | None, families: set[str], cites: Citations, zh: bool) -> str:
    # Every article passage is a candidate, not only the retrieved ones: the article is
    # small, and a fact mentioned in passing in another family's section still counts.
    passages = retrieved + [
        Passage(c.id, c.source, c.title, c.text, 0.0, c.family, c.model_id)
        for c in cites.article_chunks()
        if c.id not in {p.id for p in retrieved}
    ]
    naming = bool(_ASPECT_NAMING.search(to_traditional_query(question)))
    found = best_article_sentence(question, passages, idf or {}, families, naming)
    if not found:
        return ""
    passage_id, sentence = found
    cite = cites.cite(passage_id)
    return f"原文提到：「{sentence}」{cite}" if zh else f"The article (in Chinese) says: 「{sentence}」{cite}"


_ASPECT_NAMING = re.compile(r"名字|命名|名稱|意思|為什麼叫|由來|取名|what does .{0,40} mean|name mean|why .{0,30} called", re.I)


def _fit_paragraph(models: list[Model], c: Constraints, zh: bool) -> str:
    from .selection import _fit_for, _sizes_within  # noqa: PLC0415

    lines = []
    for model in models:
        fit = _fit_for(model, _sizes_within(model, c) or model.sizes, c)
        mem = f"{c.memory_gb:g}GB"
        if fit:
            speed = f"，約 {fit.tokens_per_s:g} token/s" if zh and fit.tokens_per_s else (f", ~{fit.tokens_per_s:g} tok/s" if fit.tokens_per_s else "")
            lines.append(f"{model.name}：{mem} 可以跑 {fit.variant}（{fit.quant} 約需 {fit.required_gb:.1f}GB{speed}）。" if zh else f"{model.name}: {fit.variant} fits {mem} ({fit.quant}, ~{fit.required_gb:.1f} GB{speed}).")
        else:
            lines.append(f"{model.name}：{mem} 放不下（約 {format_params(model.params_total_b)} 參數）。" if zh else f"{model.name}: does not fit {mem} (about {format_params(model.params_total_b)} parameters).")
    return "\n".join(lines)
