"""Load and validate the knowledge base: the cleaned article and the model catalog.

Knowledge is data. `load_catalog()` validates `knowledge/catalog.yaml` with typed
models at load time, so a typo in the catalog fails loudly instead of producing a
wrong recommendation later.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .mentions import AliasIndex, Mention, alias_key, typo_fixes
from .text import name_key, normalize
from .vocabulary import vocabulary

Commercial = Literal["yes", "conditional", "no"]
Verdict = Literal["recommended", "neutral", "not-recommended"]
Architecture = Literal["dense", "moe", "hybrid", "ssm"]
"""dense transformer; mixture of experts; hybrid (attention mixed with state-space or linear-attention
layers, MoE or not: see `architecture_note`); a pure state-space model (Mamba)."""

def _strength_tags() -> frozenset[str]:
    """Tags a model may carry in `strengths`: the task ids of the vocabulary (one task list
    for the catalog, the parser and the ranking)."""
    return frozenset(t.id for t in vocabulary().terms("tasks")) | {"general"}


STRENGTH_TAGS = _strength_tags()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Licence(_Strict):
    id: str = Field(description="SPDX-like id, e.g. MIT, Apache-2.0, CC-BY-NC-4.0, Llama-3")
    name: str = Field(description="Human-readable licence name")
    open_source: bool = Field(description="OSI-style open licence (MIT, Apache-2.0) rather than custom terms")
    terms_unverified: bool = Field(default=False, description="A custom licence this knowledge base knows by name only: its full terms were not read")


class Languages(_Strict):
    codes: list[str] = Field(description="ISO codes or 'multi' lists, e.g. ['en', 'zh']")
    count: int | None = Field(default=None, description="Number of supported languages, where stated")
    chinese_note: str = Field(description="zh-TW note on Chinese quality (e.g. 易跳成簡體)")


class Variant(_Strict):
    """One downloadable release or size of a model (e.g. Qwen3-8B inside Qwen3).

    Any fact given here overrides the model's for this variant only; a fact that is
    left out is inherited. A key written with an empty value (``context_extended: null``)
    is an override too: "this size has no extended context". `Model.with_variant`
    applies the overrides.
    """

    name: str
    params_total_b: float = Field(gt=0)
    params_active_b: float | None = Field(default=None, gt=0)
    n_layers: int | None = Field(default=None, gt=0, description="Transformer layers, for the KV-cache formula")
    n_kv_heads: int | None = Field(default=None, gt=0)
    head_dim: int | None = Field(default=None, gt=0)
    modalities: list[str] | None = Field(
        default=None, description="Only when this size differs from the model (e.g. a text-only small size)"
    )
    architecture: Architecture | None = Field(default=None, description="When this size differs (a dense size of a MoE series)")
    architecture_note: str | None = Field(default=None, description="Layer mix when it matters (e.g. 3 Gated DeltaNet : 1 attention)")
    experts: int | None = Field(default=None, gt=0)
    languages: Languages | None = Field(default=None, description="Only when this size's languages differ from the model's")
    repo: str | None = Field(default=None, description="The Hugging Face repo id of this size's weights (owner/name)")
    context_native: int | None = Field(default=None, gt=0, description="Tokens without any RoPE scaling")
    context_extended: int | None = Field(default=None, gt=0, description="Tokens with the method below")
    context_extended_method: str | None = None
    licence: Licence | None = None
    commercial_use: Commercial | None = None
    commercial_conditions: str = ""
    commercial_conditions_en: str = ""
    released: str | None = Field(default=None, pattern=r"^\d{4}(-\d{2})?(-\d{2})?$")
    status: Literal["released", "preview", "announced"] | None = None
    summary_zh: str | None = None
    summary_en: str | None = None
    aliases: list[str] = Field(default_factory=list, description="Other names of this variant only")
    sources: dict[str, str] = Field(default_factory=dict, description="Where this variant's own facts come from")

    @model_validator(mode="after")
    def _consistent(self) -> Variant:
        if self.params_active_b is not None and self.params_active_b > self.params_total_b:
            raise ValueError(f"{self.name}: active parameters exceed total")
        if (self.licence is None) != (self.commercial_use is None):
            raise ValueError(f"{self.name}: a variant's licence and commercial_use are overridden together")
        if self.commercial_use == "conditional" and not self.commercial_conditions:
            raise ValueError(f"{self.name}: conditional commercial use needs commercial_conditions")
        _check_context(self.name, self.context_native, self.context_extended, self.context_extended_method)
        return self

    @property
    def active_b(self) -> float:
        return self.params_active_b or self.params_total_b

    def overrides(self, field_name: str) -> bool:
        """True when this variant states `field_name` itself (even as an explicit null)."""
        return field_name in self.model_fields_set


def _check_context(owner: str, native: int | None, extended: int | None, method: str | None) -> None:
    if extended is not None:
        if native is None:
            raise ValueError(f"{owner}: context_extended needs context_native")
        if extended <= native:
            raise ValueError(f"{owner}: context_extended must exceed context_native")
        if not method:
            raise ValueError(f"{owner}: context_extended needs context_extended_method (YaRN, RoPE scaling, ...)")
    elif method:
        raise ValueError(f"{owner}: context_extended_method without context_extended")


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
    weights_from: str | None = Field(
        default=None, description="Catalog id whose weights a distillation starts from (its student), when that differs from "
        "base_model (its teacher): DeepSeek-R1-Distill-Qwen has base_model deepseek-r1 and weights_from qwen2.5")
    params_total_b: float = Field(gt=0, description="Headline size; for a series, its flagship")
    params_active_b: float | None = Field(default=None, gt=0)
    architecture: Architecture
    architecture_note: str = Field(default="", description="Layer mix when it matters (e.g. 3 Gated DeltaNet : 1 attention)")
    experts: int | None = Field(default=None, gt=0)
    repo: str | None = Field(default=None, description="The Hugging Face repo id of the weights (owner/name), single-size models")
    context_native: int | None = Field(default=None, gt=0, description="Tokens without any RoPE scaling")
    context_extended: int | None = Field(
        default=None, gt=0, description="Tokens reachable with context_extended_method (e.g. YaRN)"
    )
    context_extended_method: str | None = Field(default=None, description="YaRN, RoPE scaling, ...")
    variants: list[Variant] = Field(default_factory=list, description="Downloadable sizes, smallest first")
    licence: Licence
    commercial_use: Commercial
    commercial_conditions: str = ""
    commercial_conditions_en: str = Field(default="", description="English version of commercial_conditions")
    modalities: list[str] = Field(min_length=1)
    languages: Languages
    strengths: list[str] = Field(default_factory=list)
    weaknesses: list[str] = Field(default_factory=list, description="zh-TW phrases")
    weakness_tags: list[str] = Field(
        default_factory=list, description="Tagged weaknesses (keys of the catalog's weakness_labels) for request rules"
    )
    verdict: Verdict
    verdict_reason: str = Field(description="The article's reason, in zh-TW, paraphrased or quoted")
    verdict_reason_en: str = Field(default="", description="The same reason in English")
    summary_zh: str = Field(description="One or two zh-TW sentences for answers")
    summary_en: str = Field(description="One or two English sentences for answers")
    released: str | None = Field(default=None, pattern=r"^\d{4}(-\d{2})?(-\d{2})?$")
    status: Literal["released", "preview", "announced"] = "released"
    article_section: str | None = Field(default=None, description="The article's section on it; None for releases the article predates")
    aliases: list[str] = Field(default_factory=list)
    supersedes: list[str] = Field(
        default_factory=list,
        description="Ids of older catalog entries whose generic name now usually means this release "
        "(Ministral 3 8B supersedes Ministral-8B-2410 for 'Ministral 8B')",
    )
    article_claims: list[ArticleClaim] = Field(default_factory=list)
    sources: dict[str, str] = Field(
        description="fact group -> source: 'article' or a named public model card/licence page"
    )
    as_of: date

    @model_validator(mode="before")
    @classmethod
    def _legacy_context(cls, data: object) -> object:
        # Catalogs written before schema 2 carry one `context_tokens` figure: it was the
        # native window, so it is read as such.
        if isinstance(data, dict) and "context_tokens" in data:
            data = dict(data)
            legacy = data.pop("context_tokens")
            data.setdefault("context_native", legacy)
        return data

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
        _check_context(self.id, self.context_native, self.context_extended, self.context_extended_method)
        names = [v.name for v in self.variants]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"{self.id}: duplicate variant names {sorted(duplicates)}")
        return self

    @property
    def active_b(self) -> float:
        return self.params_active_b or self.params_total_b

    @property
    def context_tokens(self) -> int | None:
        """The native context window (read-only; kept for callers that predate the split)."""
        return self.context_native

    @property
    def context_max(self) -> int | None:
        """The longest context the model reaches: the extended figure if any, else the native one."""
        return self.context_extended or self.context_native

    def variant(self, name: str) -> Variant | None:
        """The variant called `name` (or carrying it as an alias), compared by `name_key`."""
        key = name_key(name)
        for variant in self.variants:
            if key in {name_key(variant.name), *(name_key(a) for a in variant.aliases)}:
                return variant
        return None

    def with_variant(self, name: str) -> Model:
        """This model with the facts of its variant `name`: a Model whose name is the variant's.

        Every fact the variant states replaces the model's (size, active parameters,
        context, modalities, licence and commercial use, release date, status, aliases,
        summaries); the rest is inherited. `variants` holds just that variant, so
        `sizes` and the hardware estimates see only it. `id` stays the model's id.

        Raises:
            KeyError: when the model has no variant of that name.
        """
        variant = self.variant(name)
        if variant is None:
            raise KeyError(f"{self.id} has no variant {name!r}; known: {[v.name for v in self.variants]}")
        data = self.model_dump()
        data.update(
            name=variant.name,
            params_total_b=variant.params_total_b,
            params_active_b=variant.params_active_b,
            variants=[variant.model_dump(exclude_unset=True)],
            aliases=list(variant.aliases),
            sources={**self.sources, **variant.sources},
            # One size of a series is a model; a derivative's size stays a derivative.
            kind="model" if self.kind == "series" else self.kind,
        )
        if variant.overrides("architecture"):
            data["architecture"] = variant.architecture
        elif variant.params_active_b is None and self.architecture == "moe":
            data["architecture"] = "dense"
        if variant.overrides("experts"):
            data["experts"] = variant.experts
        elif data["architecture"] != "moe" or variant.params_total_b != self.params_total_b:
            data["experts"] = None
        if variant.overrides("architecture_note") and variant.architecture_note is not None:
            data["architecture_note"] = variant.architecture_note
        if variant.languages is not None:
            data["languages"] = variant.languages.model_dump()
        if variant.repo:
            data["repo"] = variant.repo
        for field_name in ("modalities", "released", "status", "summary_zh", "summary_en"):
            value = getattr(variant, field_name)
            if variant.overrides(field_name) and value is not None:
                data[field_name] = value
        if variant.overrides("context_native"):
            data["context_native"] = variant.context_native
            # A new native window with no extension stated means no extension.
            data["context_extended"] = variant.context_extended
            data["context_extended_method"] = variant.context_extended_method
        if variant.overrides("context_extended"):
            data["context_extended"] = variant.context_extended
            data["context_extended_method"] = variant.context_extended_method
        if variant.licence is not None:
            data.update(
                licence=variant.licence.model_dump(),
                commercial_use=variant.commercial_use,
                commercial_conditions=variant.commercial_conditions,
                commercial_conditions_en=variant.commercial_conditions_en,
            )
        elif variant.overrides("commercial_conditions"):
            data["commercial_conditions"] = variant.commercial_conditions
            data["commercial_conditions_en"] = variant.commercial_conditions_en
        return Model.model_validate(data)

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


class Notable(_Strict):
    """A trait the article states about a family or one of its models, for lookups."""

    zh: str = Field(description="zh-TW paraphrase of the article's sentence")
    en: str = Field(description="English translation")
    model: str | None = Field(default=None, description="The model the trait is about, as the article names it")


class Family(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    name: str
    vendor: str
    vendor_zh: str
    country: str
    article_section: str | None = Field(default=None, description="The article's section; None for makers the article does not cover")
    aliases: list[str] = Field(default_factory=list)
    summary_zh: str
    summary_en: str
    notable: list[Notable] = Field(default_factory=list)


class ClosedModel(_Strict):
    """A well-known model whose weights are not open; answers must say so, never invent."""

    name: str
    vendor: str
    aliases: list[str] = Field(default_factory=list)
    note_zh: str
    note_en: str


class WeaknessLabel(_Strict):
    zh: str
    en: str


class RequestRule(_Strict):
    """A request (a task tag, chinese or traditional-chinese) and the tagged weaknesses that
    disqualify a model for it (`excludes`) or only rank it lower with a caveat (`cautions`)."""

    request: str
    excludes: list[str] = Field(default_factory=list)
    cautions: list[str] = Field(default_factory=list)


class Catalog(_Strict):
    schema_version: int
    as_of: date
    families: list[Family]
    models: list[Model]
    weakness_labels: dict[str, WeaknessLabel] = Field(default_factory=dict)
    request_rules: list[RequestRule] = Field(default_factory=list)
    closed_models: list[ClosedModel] = Field(default_factory=list)
    # Names that are not models (benchmark names from capabilities.yaml: "BFCL v3" holds no DeepSeek-V3).
    other_names: list[str] = Field(default_factory=list)

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
            if model.weights_from and model.weights_from not in model_ids:
                raise ValueError(f"{model.id}: unknown weights_from {model.weights_from!r}")
            unknown = [old for old in model.supersedes if old not in model_ids or old == model.id]
            if unknown:
                raise ValueError(f"{model.id}: supersedes unknown or itself {unknown}")
            unknown_tags = set(model.weakness_tags) - set(self.weakness_labels)
            if unknown_tags:
                raise ValueError(f"{model.id}: weakness_tags {sorted(unknown_tags)} have no weakness_labels entry")
        for rule in self.request_rules:
            unknown_tags = set(rule.excludes + rule.cautions) - set(self.weakness_labels)
            if unknown_tags:
                raise ValueError(f"request rule {rule.request}: unknown weakness tags {sorted(unknown_tags)}")
        return self

    @cached_property
    def by_id(self) -> dict[str, Model]:
        return {m.id: m for m in self.models}

    @cached_property
    def family_by_id(self) -> dict[str, Family]:
        return {f.id: f for f in self.families}

    def models_of(self, family_id: str) -> list[Model]:
        return [m for m in self.models if m.family == family_id]

    def names(self) -> list[tuple[str, str, str | None]]:
        """Every name of a model or variant as (name, model id, variant name or None).

        Model-level names (id, name, aliases) come first. A variant's name or alias that
        is also a name of its own model (a single-size model "Phi-4" with variant "Phi-4")
        is left out, so that name means the model; the names of a model's only size
        ("Phi-4-mini-instruct") mean the model too.
        """
        result: list[tuple[str, str, str | None]] = []
        for model in self.models:
            own = [model.id, model.name, *model.aliases]
            own_keys = {name_key(n) for n in own}
            result.extend((n, model.id, None) for n in own)
            for variant in model.variants:
                # A single-size model's one size is the model itself ("Phi-4-mini-instruct").
                sole = len(model.variants) == 1 and variant.params_total_b == model.params_total_b
                for n in (variant.name, *variant.aliases):
                    if name_key(n) not in own_keys:
                        result.append((n, model.id, None if sole else variant.name))
        return result

    @cached_property
    def _resolution(self) -> dict[str, set[tuple[str, str | None]]]:
        table: dict[str, set[tuple[str, str | None]]] = {}
        for name, model_id, variant in self.names():
            key = name_key(name)
            if key:
                table.setdefault(key, set()).add((model_id, variant))
        return table

    def resolve(self, name: str) -> tuple[str, str | None] | None:
        """The catalog entry a name means: (model id, variant name or None).

        Names compare by `name_key`, so spacing, case, '-', '.' and Simplified script do
        not matter. The most specific entry wins: "Phi-4-mini" is the Phi-4-mini entry,
        never Phi-4; "Qwen3-8B" is Qwen3's variant Qwen3-8B. A name that is no catalog
        name as written is looked for inside the text, on word boundaries, the way
        questions are read ("Qwen/Qwen3-8B-GGUF" is Qwen3-8B). A name that is not in the
        catalog, or that names several entries at once (a family word such as "Cohere
        Command", or two models), gives None.
        """
        if not isinstance(name, str) or not name.strip():
            return None
        found = self._resolution.get(name_key(name))
        if found:
            return next(iter(found)) if len(found) == 1 else None
        # Not a catalog name as written ("Mamba-Codestral-7B-v0.1", "Qwen/Qwen3-8B-GGUF"):
        # look for names inside the text, on word boundaries, the way questions are read.
        hits = {(m.target, m.variant) for m in self.mentions(normalize(name)) if m.kind == "model"}
        return next(iter(hits)) if len(hits) == 1 else None

    @cached_property
    def alias_index(self) -> AliasIndex:
        """Every name of every model, variant, family and closed model, for finding them in text."""
        entries: list[tuple[str, str, str, str | None]] = []
        for family in self.families:
            entries += [(n, "family", family.id, None) for n in (family.id, family.name, family.vendor, family.vendor_zh, *family.aliases)]
        variant_names = {(m.id, v.name) for m in self.models for v in m.variants}
        for name, model_id, variant in self.names():
            # "8B" alone must not become an alias; "Qwen3-8B" may.
            if (model_id, name) in variant_names and sum(c.isascii() and c.isalpha() for c in alias_key(name)) < 3:
                continue
            entries.append((name, "model", model_id, variant))
        for closed in self.closed_models:
            entries += [(n, "closed", closed.name, None) for n in (closed.name, *closed.aliases)]
        return AliasIndex(entries, shields=self.other_names)  # type: ignore[arg-type]

    @cached_property
    def _typo_names(self) -> tuple[list[str], set[str]]:
        """Family names a misspelling is read as, and every name word the catalog knows."""
        families = [n.lower() for f in self.families for n in (f.id, f.name, *f.aliases) if n]
        known = {a.key for a in self.alias_index.aliases}
        return families, known

    def fix_typos(self, normalised: str, ignore: tuple[str, ...] = ()) -> tuple[str, list[tuple[str, str]]]:
        """`normalised` with misspelt family names corrected ("mistal small" → "mistral small"),
        and the (as written, read as) pairs, for the answer to say how it read them."""
        families, known = self._typo_names
        fixes = typo_fixes(normalised, families, known, ignore)
        pairs = [(normalised[start:end], name) for start, end, name in fixes]
        for start, end, name in reversed(fixes):
            normalised = normalised[:start] + name + normalised[end:]
        return normalised, pairs

    def mentions(self, normalised: str) -> list[Mention]:
        """Every catalog name in already-normalised text, with its position (longest match wins)."""
        return self.alias_index.find(normalised)

    def by_repo(self, repo: str) -> tuple[str, str | None] | None:
        """(model id, variant name or None) for a Hugging Face repo id the catalog records."""
        key = repo.lower()
        for model in self.models:
            if model.repo and model.repo.lower() == key:
                return model.id, None
            for variant in model.variants:
                if variant.repo and variant.repo.lower() == key:
                    return model.id, (variant.name if len(model.variants) > 1 else None)
        return None

    def model_for(self, name: str) -> Model | None:
        """The Model a name means, with its variant's facts when it names a variant."""
        hit = self.resolve(name)
        if hit is None:
            return None
        model = self.by_id[hit[0]]
        return model.with_variant(hit[1]) if hit[1] else model


class CatalogError(ValueError):
    """The catalog file is missing or does not validate."""


def catalog_files(path: Path) -> list[Path]:
    """The catalog's files: the root `catalog.yaml` and every part in the `catalog/` folder beside it.

    The root holds the schema version, the check date, the labels, rules and closed models, and
    the article's families; each part (one maker or one release wave per file, sorted by name)
    adds `families` and `models`. Parts keep additions reviewable and out of each other's way.
    """
    parts = path.parent / "catalog"
    return [path, *sorted(parts.glob("*.yaml"))] if parts.is_dir() else [path]


def _read_yaml(path: Path) -> object:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # C parser: 10x faster
    except FileNotFoundError as exc:
        raise CatalogError(f"catalog not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}") from exc


def load_catalog(path: Path) -> Catalog:
    """Read, merge and validate the catalog: `path` and the parts in the `catalog/` folder beside it.

    Raises:
        CatalogError: with the file name and the first validation problems.
    """
    raw = _read_yaml(path)
    files = catalog_files(path)
    if isinstance(raw, dict) and len(files) > 1:
        raw = dict(raw)
        raw["families"] = list(raw.get("families") or [])
        raw["models"] = list(raw.get("models") or [])
        for part in files[1:]:
            data = _read_yaml(part)
            if data is None:
                continue
            if not isinstance(data, dict) or set(data) - {"families", "models"}:
                raise CatalogError(f"{part}: a catalog part holds only `families` and `models` lists")
            raw["families"] += list(data.get("families") or [])
            raw["models"] += list(data.get("models") or [])
    if isinstance(raw, dict) and "other_names" not in raw:
        raw = {**raw, "other_names": _benchmark_names(path.parent / "capabilities.yaml")}
    try:
        return Catalog.model_validate(raw)
    except Exception as exc:  # pydantic.ValidationError, with the field path in its text
        where = path if len(files) == 1 else f"{path} (+ {len(files) - 1} parts in {path.parent / 'catalog'})"
        raise CatalogError(f"{where}: {exc}") from exc


def _benchmark_names(path: Path) -> list[str]:
    """The benchmark names of capabilities.yaml beside the catalog (only its `benchmarks:` list is read)."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    start = text.find("\nbenchmarks:")
    following = re.compile(r"\n[A-Za-z_]").search(text, start + 1) if start >= 0 else None  # the next top-level key
    try:
        data = yaml.load(text[start : following.start() if following else len(text)], Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) if start >= 0 else None
    except yaml.YAMLError:
        data = None
    rows = data.get("benchmarks") if isinstance(data, dict) else None
    return [str(row["name"]) for row in rows or [] if isinstance(row, dict) and row.get("name")]


# The article lives in its own module; re-exported here for existing callers.
from .article import Article, Section, load_article, parse_markdown  # noqa: E402, F401
