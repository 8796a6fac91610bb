"""The knowledge base cut into chunks: the article by section, one zh-TW fact sheet per catalog
entry, family and closed model (`model_document`), and any .md/.txt a user dropped into
knowledge/. Each chunk carries its family and model id, for the entity boost and citations."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings
from ..knowledge import Catalog, Model, load_article, parse_markdown

USER_DOC_SUFFIXES = (".md", ".txt")
RESERVED_FILES = {"article.md", "catalog.yaml", "README.md"}


@dataclass(frozen=True)
class Chunk:
    id: str
    source: str  # article | catalog | user
    title: str
    text: str
    family: str = ""
    model_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def search_text(self) -> str:
        """What BM25 and the embedder see: the title carries the family name into every chunk."""
        return f"{self.title}\n{self.text}"


def _paragraphs(text: str) -> list[str]:
    blocks = re.split(r"\n\s*\n", text.strip())
    return [b.strip() for b in blocks if b.strip()]


def chunk_text(text: str, target_chars: int) -> list[str]:
    """Greedy paragraph packing: whole paragraphs up to about `target_chars`.

    A paragraph longer than twice the target is split on sentence ends.
    """
    pieces: list[str] = []
    for para in _paragraphs(text):
        if len(para) <= 2 * target_chars:
            pieces.append(para)
            continue
        sentences = re.split(r"(?<=[。！？!?\n])", para)
        buf = ""
        for sentence in sentences:
            if buf and len(buf) + len(sentence) > target_chars:
                pieces.append(buf.strip())
                buf = ""
            buf += sentence
        if buf.strip():
            pieces.append(buf.strip())
    chunks: list[str] = []
    buf = ""
    for piece in pieces:
        if buf and len(buf) + len(piece) > target_chars:
            chunks.append(buf)
            buf = piece
        else:
            buf = f"{buf}\n\n{piece}" if buf else piece
    if buf:
        chunks.append(buf)
    return chunks


def _slug(text: str) -> str:
    slug = re.sub(r"[^0-9a-zA-Z]+", "-", text).strip("-").lower()
    return slug or hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


def article_chunks(path: Path, catalog: Catalog, target_chars: int) -> list[Chunk]:
    article = load_article(path)
    family_of_section = {f.article_section: f.id for f in catalog.families}
    chunks: list[Chunk] = []
    for section in article.sections:
        family = family_of_section.get(section.title, "")
        slug = family or _slug(section.title)
        for n, text in enumerate(chunk_text(section.text, target_chars)):
            chunks.append(
                Chunk(
                    id=f"article:{slug}:{n:02d}",
                    source="article",
                    title=f"原文・{section.title}" if section.title else "原文",
                    text=text,
                    family=family,
                )
            )
    return chunks


_COMMERCIAL_ZH = {"yes": "可商用", "conditional": "有條件商用", "no": "不可商用"}
_VERDICT_ZH = {"recommended": "推薦", "neutral": "中立", "not-recommended": "不推薦"}
_ARCH_ZH = {"dense": "稠密 (dense)", "moe": "混合專家 (MoE)", "hybrid": "混合架構", "ssm": "狀態空間模型 (SSM)"}


def format_params(billions: float) -> str:
    """14.7 -> '14.7B', 0.135 -> '135M', 1000 -> '1T'."""
    if billions >= 1000:
        value = billions / 1000
        return f"{value:g}T"
    if billions < 1:
        return f"{billions * 1000:g}M"
    return f"{billions:g}B"


def format_context(tokens: int | None) -> str:
    if not tokens:
        return "未載明"
    if tokens >= 1_000_000:
        millions = tokens / 1_048_576 if tokens % 1_048_576 == 0 else tokens / 1_000_000
        return f"{round(millions, 1):g}M"
    return f"{round(tokens / 1024)}k" if tokens % 1000 else f"{tokens // 1000}k"


def _context_zh(model: Model) -> str:
    if not model.context_native:
        return "上下文長度：未載明。"
    text = f"上下文長度：原生 {format_context(model.context_native)} token"
    if model.context_extended:
        text += f"，以 {model.context_extended_method} 可延伸到 {format_context(model.context_extended)} token"
    return text + "。"


def _context_en(model: Model) -> str:
    if not model.context_native:
        return "context not stated"
    text = f"context native {format_context(model.context_native)}"
    if model.context_extended:
        text += f", {format_context(model.context_extended)} with {model.context_extended_method}"
    return text


def _variant_line_zh(model: Model, name: str) -> str:
    """One variant's own facts, where they differ from the model's."""
    own = model.with_variant(name)
    parts = [format_params(own.params_total_b)]
    if (own.context_native, own.context_extended) != (model.context_native, model.context_extended):
        parts.append(_context_zh(own).removeprefix("上下文長度：").rstrip("。"))
    if own.licence != model.licence:
        parts.append(f"{own.licence.name}，{_COMMERCIAL_ZH[own.commercial_use]}")
    if own.modalities != model.modalities:
        parts.append("、".join(own.modalities))
    if own.released and own.released != model.released:
        parts.append(f"{own.released} 推出")
    return f"{name}（{'；'.join(parts)}）"


def model_document(model: Model, catalog: Catalog) -> str:
    """A zh-TW fact sheet for one catalog entry, with its English key fields appended.

    Context is stated as the native window plus the extended one with its method, and
    each variant whose facts differ (context, licence, modalities, release) says so.
    """
    family = catalog.family_by_id[model.family]
    size = format_params(model.params_total_b)
    active = f"，每次啟動 {format_params(model.params_active_b)}" if model.params_active_b else ""
    experts = f"，{model.experts} 個專家" if model.experts else ""
    variants = "、".join(_variant_line_zh(model, v.name) for v in model.variants)
    lines = [
        f"{model.name}（{family.name} 家族，{model.vendor}，{family.vendor_zh}）",
        model.summary_zh,
        f"參數量：{size}{active}{experts}；架構：{_ARCH_ZH[model.architecture]}。"
        + (f"可下載尺寸：{variants}。" if variants else ""),
        _context_zh(model),
        f"授權：{model.licence.name}（{model.licence.id}），{_COMMERCIAL_ZH[model.commercial_use]}"
        + (f"：{model.commercial_conditions.rstrip('。')}" if model.commercial_conditions else "")
        + "。",
        f"模態：{'、'.join(model.modalities)}；中文：{model.languages.chinese_note}",
        f"原文評價：{_VERDICT_ZH[model.verdict]}——{model.verdict_reason}",
    ]
    if model.weaknesses:
        lines.append(f"缺點：{'；'.join(model.weaknesses)}")
    if model.aliases:
        lines.append(f"別名：{'、'.join(model.aliases)}")
    for claim in model.article_claims:
        lines.append(f"原文寫 {claim.article_says}（{claim.field}）：{claim.note}")
    lines.append(
        f"EN: {model.name} by {model.vendor} ({model.country}); {model.summary_en} "
        f"Parameters {size} total"
        + (f", {format_params(model.params_active_b)} active" if model.params_active_b else "")
        + f"; {_context_en(model)}; licence {model.licence.name} "
        f"({model.licence.id}); commercial use: {model.commercial_use}; "
        f"strengths: {', '.join(model.strengths) or 'general'}."
    )
    return "\n".join(lines)


def catalog_chunks(catalog: Catalog) -> list[Chunk]:
    chunks = [
        Chunk(
            id=f"catalog:{model.id}",
            source="catalog",
            title=f"型錄・{model.name}",
            text=model_document(model, catalog),
            family=model.family,
            model_id=model.id,
        )
        for model in catalog.models
    ]
    for family in catalog.families:
        members = "、".join(m.name for m in catalog.models_of(family.id))
        chunks.append(
            Chunk(
                id=f"catalog:family:{family.id}",
                source="catalog",
                title=f"型錄・{family.name} 家族",
                text=(
                    f"{family.name}（{family.vendor_zh}，{family.vendor}）：{family.summary_zh}\n"
                    f"成員：{members}\nEN: {family.summary_en}"
                ),
                family=family.id,
            )
        )
    for closed in catalog.closed_models:
        chunks.append(
            Chunk(
                id=f"catalog:closed:{_slug(closed.name)}",
                source="catalog",
                title=f"型錄・閉源模型 {closed.name}",
                text=(
                    f"{closed.name}（{closed.vendor}）：閉源模型，權重無法下載，不在開源模型範圍。{closed.note_zh}\n"
                    f"別名：{'、'.join(closed.aliases)}\nEN: {closed.note_en}"
                ),
                model_id=closed_model_key(closed.name),
            )
        )
    return chunks


def closed_model_key(name: str) -> str:
    """The chunk `model_id` of a closed model, so alias linking can boost it."""
    return f"closed:{_slug(name)}"


def user_documents(knowledge_dir: Path) -> list[Path]:
    """Extra documents a user dropped into knowledge/ (any .md/.txt, recursively)."""
    found = []
    for path in sorted(knowledge_dir.rglob("*")):
        if path.is_file() and path.suffix.lower() in USER_DOC_SUFFIXES and path.name not in RESERVED_FILES:
            found.append(path)
    return found


def user_chunks(knowledge_dir: Path, target_chars: int) -> list[Chunk]:
    chunks: list[Chunk] = []
    for path in user_documents(knowledge_dir):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        rel = path.relative_to(knowledge_dir).as_posix()
        doc = parse_markdown(text) if path.suffix.lower() == ".md" else None
        sections = [(s.title, s.text) for s in doc.sections] if doc else [("", text)]
        n = 0
        for title, body in sections:
            for piece in chunk_text(body, target_chars):
                chunks.append(
                    Chunk(
                        id=f"user:{rel}:{n:03d}",
                        source="user",
                        title=f"{rel}・{title}" if title else rel,
                        text=piece,
                    )
                )
                n += 1
    return chunks


def build_chunks(settings: Settings, catalog: Catalog) -> list[Chunk]:
    return (
        article_chunks(settings.article_path, catalog, settings.chunk_chars)
        + catalog_chunks(catalog)
        + user_chunks(settings.knowledge_dir, settings.chunk_chars)
    )
