"""Catalog and article facts as sentences, with citations.

Helpers every renderer shares: `Citations` numbers the passages an answer cites; the
`*_text` functions turn catalog fields into zh-TW or English phrases; `model_fact` and
`family_fact` describe one subject; `quote_article` finds the article sentence that
answers a question. Every number comes from the catalog, every opinion is attributed to
the article (「原文認為…」).
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..chinese import to_traditional_query
from ..constraints import Constraints
from ..index import Chunk, format_context, format_params
from ..knowledge import Catalog, Model
from ..retrieval import Passage
from ..selection import COMMERCIAL_BADGE, COUNTRY_ZH, TASK_ZH

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


def size_text(model: Model, zh: bool) -> str:
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


def licence_text(model: Model, zh: bool) -> str:
    badge = COMMERCIAL_BADGE["zh-TW" if zh else "en"][model.commercial_use]
    text = f"授權 {model.licence.name}（{model.licence.id}），{badge}" if zh else f"licence {model.licence.name} ({model.licence.id}), {badge}"
    if model.commercial_conditions and model.commercial_use != "yes":
        conditions = (model.commercial_conditions if zh else model.commercial_conditions_en or model.commercial_conditions).rstrip("。. ")
        text += f"：{conditions}" if zh else f" ({conditions})"
    return text


def vendor_text(model: Model, catalog: Catalog, zh: bool) -> str:
    family = catalog.family_by_id[model.family]
    if not zh:
        return f"made by {model.vendor} ({model.country})"
    vendor = model.vendor
    if model.vendor == family.vendor and re.search(r"[\u4e00-\u9fff]", family.vendor_zh):
        vendor = family.vendor_zh if "（" in family.vendor_zh else f"{family.vendor_zh}（{family.vendor}）"
    country = COUNTRY_ZH.get(model.country, model.country)
    where = "" if country in vendor else f"{country}的"
    return f"由{where} {vendor} 推出"


def context_text(model: Model, zh: bool) -> str:
    """Native context, and the extended one with its method ("32k（以 YaRN 可延伸到 128k）")."""
    native = format_context(model.context_tokens)
    if model.context_extended and model.context_extended != model.context_tokens:
        extended = format_context(model.context_extended)
        method = model.context_extended_method or ""
        return f"{native} token（以 {method} 可延伸到 {extended}）" if zh else f"{native} tokens ({extended} with {method})"
    return f"{native} token" if zh else f"{native} tokens"


def model_fact(model: Model, catalog: Catalog, aspects: set[str], cites: Citations, zh: bool, brief: bool = False) -> str:
    """One paragraph about a model; the asked aspects come first, the rest stay brief.

    Args:
        brief: only who makes it and the article's view (the answer's first sentence
            already stated the asked facts).
    """
    card = cites.cite(f"catalog:{model.id}")
    article = cites.cite(cites.article_for(model.family))
    parts: list[str] = []
    head = f"**{model.name}**"
    base = catalog.by_id.get(model.base_model or "")
    if zh:
        lead = f"{head}{vendor_text(model, catalog, True)}"
        if base:
            lead += f"，是以 {base.name} 為基礎微調的衍生模型"
        parts.append(lead + "。")
    else:
        lead = f"{head} is {vendor_text(model, catalog, False)}"
        if base:
            lead += f", a derivative fine-tuned from {base.name}"
        parts.append(lead + ".")
    if brief:
        # The first sentence answered what was asked; add the key numbers it did not state.
        extra = []
        if not {"size", "experts", "memory"} & aspects:
            extra.append(size_text(model, zh))
        if not {"licence", "commercial"} & aspects:
            extra.append(licence_text(model, zh))
        if extra:
            sentence = ("；" if zh else "; ").join(extra)
            parts.append((sentence if zh else sentence[:1].upper() + sentence[1:]) + ("。" if zh else ".") + card)
        parts.append((f"原文認為：{model.verdict_reason}" if zh else f"The article's view ({model.verdict}): {model.verdict_reason_en or model.verdict_reason}") + article)
        return " ".join(p for p in parts if p)
    order = ["licence", "commercial", "size", "experts", "context", "vendor", "chinese", "weakness", "verdict", "released", "base"]
    asked = [a for a in order if a in aspects]
    facts: list[str] = []
    size_said = bool({"size", "experts"} & aspects)
    if {"licence", "commercial"} & aspects:
        facts.append(licence_text(model, zh))
    if {"size", "experts"} & aspects:
        facts.append(size_text(model, zh))
        for claim in model.article_claims:
            if claim.field.startswith("params") or claim.field in ("variants", "size"):
                facts.append(f"原文寫「{claim.article_says}」，型錄採用模型卡數字（{claim.note}）" if zh else f"the article says {claim.article_says}; the catalog follows the model card ({claim.note})")
    if "context" in aspects:
        ctx = context_text(model, zh)
        facts.append(f"上下文長度 {ctx}" if zh else f"context window {ctx}")
    if "released" in aspects and model.released:
        facts.append(f"釋出時間 {model.released}" if zh else f"released {model.released}")
    if "chinese" in aspects:
        facts.append(f"中文：{model.languages.chinese_note}" if zh else f"Chinese: {model.languages.chinese_note}")
    if not asked or asked == ["vendor"] or asked == ["base"]:
        # A general question: the summary plus the key numbers.
        summary = model.summary_zh if zh else model.summary_en
        facts = [summary.rstrip("。.")] + [size_text(model, zh), licence_text(model, zh)]
        if model.context_tokens:
            facts.append(f"上下文 {context_text(model, zh)}" if zh else f"context {context_text(model, zh)}")
    elif not size_said and "licence" not in aspects and "commercial" not in aspects:
        facts.append(size_text(model, zh))
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
    from ..retrieval import tokenize  # noqa: PLC0415

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


def constraint_summary(c: Constraints, zh: bool) -> str:
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


def quote_article(question: str, retrieved: list[Passage], idf: dict[str, float] | None, families: set[str], cites: Citations, zh: bool) -> str:
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


