"""What the validator reads and checks with: subjects (`Entity`), the catalog facts of each
(`Facts`), the claims an answer makes (`Claim`, `Reading`), and the small text helpers the
validator's modules share (number shapes, name keys, the compact form of a text).

A leaf of the validator: it imports the catalog, the normaliser and the vocabulary only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..knowledge import Catalog, Model
from ..text import normalize
from ..vocabulary import Cues, Term, vocabulary

# ------------------------------------------------------------------ shapes (mechanism, not words)

NUMBER = re.compile(r"(?<![a-z0-9._/])(?<![0-9],)(?<![0-9]-)(\d{1,3}(?:,\d{3})+(?![0-9])|\d+(?:\.\d+)?)(?![\d])")
"""A number as written: 131,072 / 14.7 / 2025 (not inside a word or a version: v3.1, 1/2)."""

SIZE_IN_NAME = re.compile(r"(?<![a-z0-9.])([ae]?)(\d+(?:\.\d+)?)\s?([bmt])(?![a-z])")
"""A size inside a name: 8b, 1.7b, 135m, 1t; an 'a' or 'e' prefix marks active or effective
parameters (Qwen3-30B-A3B, Gemma 3n E4B)."""

CITATION = re.compile(r"\[(\d{1,3})\]")
PLACEHOLDER = re.compile(r"\[(?:[a-zA-Z]\d?|\.\.\.|…)\]")

_SCALE = {"b": 1.0, "m": 0.001, "t": 1000.0}


def cues(group: str) -> Cues:
    """The validator's cue group `group` (knowledge/vocabulary/validation.yaml)."""
    return vocabulary().cues(f"validation.{group}")


def terms(kind: str) -> list[Term]:
    return vocabulary().terms(kind)


def mentions(normalised: str, catalog: Catalog) -> list[Any]:
    """Catalog names in normalised text: objects with kind, target, start, end, variant."""
    return list(catalog.mentions(normalised))


def at_end(group: str, text: str) -> re.Match[str] | None:
    """The match of a cue group that ends exactly where `text` ends, else None."""
    last = None
    for match in cues(group).finditer(text):
        if match.end() == len(text):
            last = match if last is None or match.start() < last.start() else last
    return last


def number_key(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def numbers_in(text: str) -> set[str]:
    """Every number of a text, as number keys (131,072 and 131072 are one)."""
    return {number_key(float(m.group(1).replace(",", ""))) for m in NUMBER.finditer(normalize(text))}


def close(value: float, allowed: Sequence[float], tolerance: float) -> bool:
    return any(abs(value - a) <= max(tolerance * a, 0.011) for a in allowed)


_DROP = frozenset(" \t\n-_*`.,:;!?()[]（）「」、，。：；！？")


def compact(text: str) -> str:
    """Text without case, spaces or punctuation, for "is this copied from the facts?" A
    point or comma between digits stays (as a point): 14.7B is not 147B."""
    text = text.lower()
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch in ".," and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit():
            out.append(".")
        elif ch not in _DROP and not ch.isspace():
            out.append(ch)
    return "".join(out)


def name_key(name: str) -> str:
    """A name without case, spaces, '-' or '_' (a point between digits stays: 1.7B is not 17B)."""
    text = normalize(name)
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch in " -_.":
            if ch == "." and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit():
                out.append(".")
            continue
        out.append(ch)
    return "".join(out)


def word_chars(text: str) -> int:
    """How many letters, digits or CJK characters a text has."""
    return sum(1 for ch in text if ch.isalnum())


_NAME_KEYS: dict[int, tuple[Catalog, frozenset[str]]] = {}


def catalog_name_keys(catalog: Catalog) -> frozenset[str]:
    """Every name of a model, size, family or closed model, as a key (no case, spaces or '-')."""
    cached = _NAME_KEYS.get(id(catalog))
    if cached is None or cached[0] is not catalog:
        names = [name for name, _model, _variant in catalog.names()]
        names += [n for f in catalog.families for n in (f.name, *f.aliases)]
        for closed in catalog.closed_models:
            names += [closed.name, *closed.aliases]
            names += [p.strip() for p in closed.name.replace("（", "(").replace("）", ")").replace("(", "/").replace(")", "/").replace(",", "/").split("/")]
        cached = (catalog, frozenset(name_key(n) for n in names if n and n.strip()))
        _NAME_KEYS[id(catalog)] = cached
    return cached[1]


# ------------------------------------------------------------------ subjects and their facts


@dataclass(frozen=True)
class Entity:
    """What a claim is about: a catalog model (one size of it when `variant` is set) or a family."""

    kind: str  # "model" | "family" | "unknown" (a model the catalog does not know: nothing to check)
    id: str
    variant: str | None = None

    def label(self, catalog: Catalog) -> str:
        if self.kind == "model":
            if self.variant:
                return self.variant
            model = catalog.by_id.get(self.id)
            return model.name if model else self.id
        family = catalog.family_by_id.get(self.id)
        return family.name if family else self.id


def entity_of(m: Any) -> Entity:
    """The entity of a mention (or a stand-in for one)."""
    return Entity(m.kind, m.target, getattr(m, "variant", None) if m.kind == "model" else None)


class Facts:
    """Catalog facts per entity (each size's facts built once per validation)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._cache: dict[Entity, list[Model]] = {}
        self._numbers: dict[Entity, set[str]] = {}

    def of(self, entity: Entity) -> list[Model]:
        """The catalog records a claim about `entity` is checked against: the size's facts for a
        size, the series and every size's for a series, every model's for a family."""
        if entity in self._cache:
            return self._cache[entity]
        catalog = self.catalog
        result: list[Model] = []
        if entity.kind == "model" and entity.id in catalog.by_id:
            model = catalog.by_id[entity.id]
            if entity.variant:
                try:
                    result = [model.with_variant(entity.variant)]
                except (KeyError, ValueError):
                    result = [model]
            else:
                result = [model]
                if len(model.variants) > 1:
                    for variant in model.variants:
                        try:
                            result.append(model.with_variant(variant.name))
                        except (KeyError, ValueError):
                            continue
        elif entity.kind == "family":
            for model in catalog.models_of(entity.id):
                result += self.of(Entity("model", model.id))
        self._cache[entity] = result
        return result

    def texts(self, entity: Entity) -> str:
        """The catalog's own sentences about an entity: summaries, licence conditions, notes.
        A size has its own summary only where the catalog gives it one (a series' summary
        speaks of its other sizes too)."""
        parts: list[str] = []
        own_summary = True
        if entity.kind == "model" and entity.variant and entity.id in self.catalog.by_id:
            variant = self.catalog.by_id[entity.id].variant(entity.variant)
            own_summary = variant is not None and variant.overrides("summary_zh")
        for model in self.of(entity):
            if own_summary:
                parts += [model.summary_zh, model.summary_en]
            parts += [model.commercial_conditions, model.commercial_conditions_en, model.architecture_note, model.languages.chinese_note]
            if model.context_extended_method:
                parts.append(model.context_extended_method)
        return "\n".join(p for p in parts if p)

    def numbers(self, entity: Entity) -> set[str]:
        """Numbers the catalog states about an entity, in its texts (as number keys)."""
        if entity not in self._numbers:
            self._numbers[entity] = numbers_in(self.texts(entity))
        return self._numbers[entity]

    def vendor_words(self, entity: Entity) -> str:
        catalog = self.catalog
        words = []
        for model in self.of(entity):
            words.append(model.vendor)
            family = catalog.family_by_id.get(model.family)
            if family is not None:
                words += [family.vendor, family.vendor_zh, family.name]
        if entity.kind == "family" and entity.id in catalog.family_by_id:
            family = catalog.family_by_id[entity.id]
            words += [family.vendor, family.vendor_zh]
        return normalize(" | ".join(words))

    def countries(self, entity: Entity) -> set[str]:
        catalog = self.catalog
        found = set()
        for model in self.of(entity):
            found.add(model.country)
            family = catalog.family_by_id.get(model.family)
            if family is not None:
                found.add(family.country)
        return found


def params_of(model: Model) -> tuple[list[float], list[float]]:
    """(total sizes, active sizes) in billions, including the numbers in its names."""
    totals = [model.params_total_b, *(v.params_total_b for v in model.sizes)]
    actives = [x for x in (model.params_active_b, *(v.params_active_b for v in model.sizes)) if x]
    for name in (model.name, *model.aliases, *(v.name for v in model.sizes)):
        for prefix, number, unit in SIZE_IN_NAME.findall(normalize(name)):
            (actives if prefix else totals).append(float(number) * _SCALE[unit])
    return totals, actives


def name_sizes(name: str) -> list[float]:
    """The total sizes a name states ("Qwen2.5-7B" → 7), in billions."""
    return [float(n) * _SCALE[u] for p, n, u in SIZE_IN_NAME.findall(normalize(name)) if not p]


def contexts_of(model: Model) -> list[float]:
    return [float(x) for x in (model.context_native, model.context_extended) if x]


def language_count(model: Model) -> int | None:
    languages = model.languages
    if languages.count:
        return languages.count
    codes = [c for c in languages.codes if c != "multi"]
    return len(codes) if codes and "multi" not in languages.codes else None


def licence_segments(model: Model) -> list[str]:
    return [s for s in model.licence.id.lower().replace("/", "+").split("+") if s]


# ------------------------------------------------------------------ claims


@dataclass
class Claim:
    """One thing the answer states about a subject."""

    kind: str
    value: Any
    start: int
    end: int
    shown: str
    subject: Entity | None = None
    qualifier: str = ""  # numbers: approx/more/max/series/previous/negated; commercial: conditional
    role: str = ""  # parameters: "active" or "total" when the words right next to the number say so
    owner_known: bool = True  # False when the subject is the one in play by default
    link: int | None = None  # where the name this claim is tied to starts (maker claims say which name)
    same_as: bool = False  # stated as "the same as" another model's: no leniency for the other's values


@dataclass
class Reading:
    """The answer as read: normalised text, names, sentences and claims."""

    text: str
    mentions: list[Any]
    claims: list[Claim] = field(default_factory=list)
    invented: list[str] = field(default_factory=list)  # partial names no catalog entry has ("V3.2-Mini")
