"""Load and validate the knowledge base: the cleaned article and the model catalog.

Knowledge is data. `load_catalog()` validates `knowledge/catalog.yaml` with typed
models at load time, so a typo in the catalog fails loudly instead of producing a
wrong recommendation later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Commercial = Literal["yes", "conditional", "no"]
Verdict = Literal["recommended", "neutral", "not-recommended"]
Architecture = Literal["dense", "moe", "hybrid"]

# Tags a model may carry in `strengths`. Kept closed so the selection engine and the
# catalog cannot drift apart silently.
STRENGTH_TAGS = frozenset(
    {
        "coding",
        "reasoning",
        "vision",
        "long-context",
        "multilingual",
        "chinese",
        "edge",
        "tool-use",
        "low-refusal",
        "uncensored-history",
        "general",
        "efficiency",
        "fine-tuning-base",
        "rag",
        "speech",
        "math",
    }
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Licence(_Strict):
    id: str = Field(description="SPDX-like id, e.g. MIT, Apache-2.0, CC-BY-NC-4.0, Llama-3")
    name: str = Field(description="Human-readable licence name")
    open_source: bool = Field(description="OSI-style open licence (MIT, Apache-2.0) rather than custom terms")


class Languages(_Strict):
    codes: list[str] = Field(description="ISO codes or 'multi' lists, e.g. ['en', 'zh']")
    count: int | None = Field(default=None, description="Number of supported languages, where stated")
    chinese_note: str = Field(description="zh-TW note on Chinese quality (e.g. 易跳成簡體)")


class Variant(_Strict):
    """One downloadable size of a model (e.g. Qwen3-8B inside Qwen3)."""

    name: str
    params_total_b: float = Field(gt=0)
    params_active_b: float | None = Field(default=None, gt=0)
    n_layers: int | None = Field(default=None, gt=0, description="Transformer layers, for the KV-cache formula")
    n_kv_heads: int | None = Field(default=None, gt=0)
    head_dim: int | None = Field(default=None, gt=0)
    modalities: list[str] | None = Field(
        default=None, description="Only when this size differs from the model (e.g. a text-only small size)"
    )

    @property
    def active_b(self) -> float:
        return self.params_active_b or self.params_total_b


class ArticleClaim(_Strict):
    """A number the article states that differs from the model card; kept for honesty."""

    field: str
    article_says: str
    note: str


class Model(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    name: str
    family: str
    vendor: str
    country: str = Field(description="ISO 3166 alpha-2, e.g. CN, US, FR")
    kind: Literal["model", "series", "derivative"] = "model"
    base_model: str | None = Field(default=None, description="Catalog id this derivative was tuned from")
    params_total_b: float = Field(gt=0, description="Headline size; for a series, its flagship")
    params_active_b: float | None = Field(default=None, gt=0)
    architecture: Architecture
    experts: int | None = Field(default=None, gt=0)
    context_tokens: int | None = Field(default=None, gt=0)
    variants: list[Variant] = Field(default_factory=list, description="Downloadable sizes, smallest first")
    licence: Licence
    commercial_use: Commercial
    commercial_conditions: str = ""
    commercial_conditions_en: str = Field(default="", description="English version of commercial_conditions")
    modalities: list[str] = Field(min_length=1)
    languages: Languages
    strengths: list[str] = Field(default_factory=list)
    weaknesses: list[str] = Field(default_factory=list, description="zh-TW phrases")
    verdict: Verdict
    verdict_reason: str = Field(description="The article's reason, in zh-TW, paraphrased or quoted")
    verdict_reason_en: str = Field(default="", description="The same reason in English")
    summary_zh: str = Field(description="One or two zh-TW sentences for answers")
    summary_en: str = Field(description="One or two English sentences for answers")
    released: str | None = Field(default=None, pattern=r"^\d{4}(-\d{2})?(-\d{2})?$")
    status: Literal["released", "preview", "announced"] = "released"
    article_section: str
    aliases: list[str] = Field(default_factory=list)
    article_claims: list[ArticleClaim] = Field(default_factory=list)
    sources: dict[str, str] = Field(
        description="fact group -> source: 'article' or a named public model card/licence page"
    )
    as_of: date

    @field_validator("strengths")
    @classmethod
    def _known_tags(cls, tags: list[str]) -> list[str]:
        unknown = sorted(set(tags) - STRENGTH_TAGS)
        if unknown:
            raise ValueError(f"unknown strength tags {unknown}; allowed: {sorted(STRENGTH_TAGS)}")
        return tags

    @field_validator("sources")
    @classmethod
    def _sources_cover_core_facts(cls, sources: dict[str, str]) -> dict[str, str]:
        missing = {"size", "licence"} - set(sources)
        if missing:
            raise ValueError(f"sources must name where {sorted(missing)} came from")
        return sources

    @model_validator(mode="after")
    def _consistent(self) -> Model:
        if self.architecture == "moe" and self.params_active_b is None:
            raise ValueError(f"{self.id}: a MoE model needs params_active_b")
        if self.params_active_b is not None and self.params_active_b > self.params_total_b:
            raise ValueError(f"{self.id}: active parameters exceed total")
        if self.commercial_use == "conditional" and not self.commercial_conditions:
            raise ValueError(f"{self.id}: conditional commercial use needs commercial_conditions")
        return self

    @property
    def active_b(self) -> float:
        return self.params_active_b or self.params_total_b

    @property
    def sizes(self) -> list[Variant]:
        """Every downloadable size; a model without variants is its own single size."""
        if self.variants:
            return list(self.variants)
        return [
            Variant(
                name=self.name,
                params_total_b=self.params_total_b,
                params_active_b=self.params_active_b,
            )
        ]


class Family(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    name: str
    vendor: str
    vendor_zh: str
    country: str
    article_section: str
    aliases: list[str] = Field(default_factory=list)
    summary_zh: str
    summary_en: str


class ClosedModel(_Strict):
    """A well-known model whose weights are not open; answers must say so, never invent."""

    name: str
    vendor: str
    aliases: list[str] = Field(default_factory=list)
    note_zh: str
    note_en: str


class Catalog(_Strict):
    schema_version: int
    as_of: date
    families: list[Family]
    models: list[Model]
    closed_models: list[ClosedModel] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> Catalog:
        family_ids = {f.id for f in self.families}
        model_ids = [m.id for m in self.models]
        duplicates = {i for i in model_ids if model_ids.count(i) > 1}
        if duplicates:
            raise ValueError(f"duplicate model ids: {sorted(duplicates)}")
        for model in self.models:
            if model.family not in family_ids:
                raise ValueError(f"{model.id}: unknown family {model.family!r}")
            if model.base_model and model.base_model not in model_ids:
                raise ValueError(f"{model.id}: unknown base_model {model.base_model!r}")
        return self

    @cached_property
    def by_id(self) -> dict[str, Model]:
        return {m.id: m for m in self.models}

    @cached_property
    def family_by_id(self) -> dict[str, Family]:
        return {f.id: f for f in self.families}

    def models_of(self, family_id: str) -> list[Model]:
        return [m for m in self.models if m.family == family_id]


class CatalogError(ValueError):
    """The catalog file is missing or does not validate."""


def load_catalog(path: Path) -> Catalog:
    """Read and validate a catalog YAML file.

    Raises:
        CatalogError: with the file name and the first validation problems.
    """
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # C parser: 10x faster
    except FileNotFoundError as exc:
        raise CatalogError(f"catalog not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return Catalog.model_validate(raw)
    except Exception as exc:  # pydantic.ValidationError, with the field path in its text
        raise CatalogError(f"{path}: {exc}") from exc


# ---------------------------------------------------------------- article

_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)


@dataclass(frozen=True)
class Section:
    title: str
    level: int
    text: str


@dataclass(frozen=True)
class Article:
    meta: dict[str, object]
    sections: list[Section] = field(default_factory=list)

    @property
    def title(self) -> str:
        return str(self.meta.get("title", ""))


def parse_markdown(text: str) -> Article:
    """Split a Markdown document into front matter and heading-delimited sections."""
    meta: dict[str, object] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        loaded = yaml.safe_load(match.group(1))
        meta = loaded if isinstance(loaded, dict) else {}
        text = text[match.end() :]
    sections: list[Section] = []
    title, level, buf = "", 0, []
    for line in text.splitlines():
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        if heading:
            if "".join(buf).strip():
                sections.append(Section(title, level, "\n".join(buf).strip()))
            title, level, buf = heading.group(2).strip(), len(heading.group(1)), []
        else:
            buf.append(line)
    if "".join(buf).strip():
        sections.append(Section(title, level, "\n".join(buf).strip()))
    return Article(meta=meta, sections=sections)


def load_article(path: Path) -> Article:
    return parse_markdown(path.read_text(encoding="utf-8"))
