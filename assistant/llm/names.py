"""The names an answer uses: every catalog model or family named is in the facts, the
question, the conversation, or related to them (same family, base model), or, for a
recommendation, meets every requirement of the question; a model-like name the catalog
does not know fails ("GPT-5 Turbo Max", "Phi-4-Pro", "Gemma 4 9B", "V3.2-Mini": an invented
size, edition or version of a real model) unless the answer says it does not exist; the
worked examples' fictional models fail as copying."""

from __future__ import annotations

import re
from typing import Any

from ..answer.ranking import check as requirement_check
from ..constraints import Constraints
from ..knowledge import Catalog
from ..text import normalize
from ..vocabulary import vocabulary
from .facts import (
    SIZE_IN_NAME,
    Entity,
    Facts,
    Reading,
    catalog_name_keys,
    close,
    compact,
    cues,
    mentions,
    name_key,
    params_of,
)
from .grounding import Grounding
from .prompt import EXAMPLE_MODELS
from .statements import term_matches

MODEL_LIKE = re.compile(
    r"(?<![A-Za-z0-9])(?:[A-Za-z][A-Za-z]+[\-_]?\d+(?:\.\d+)?[BbMm](?:[\-_][A-Za-z0-9]+)*"
    r"|[A-Za-z][A-Za-z]*-\d[\w.\-]*|[A-Za-z]+\d+[A-Za-z]+\d*)(?![A-Za-z0-9])"
)
"""Model-like names: a word with a size (ZZZ-7B, Foo 9B), a word-dash-number (Zorb-3),
or letters around digits (Xq7b). Plain capitalised words (NOTE, RTX, MoE) are not."""
CAPS_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9]{3,}(?![A-Za-z0-9])")


def _words(name: str) -> frozenset[str]:
    return vocabulary().words(f"validation.{name}")


_BRANDS: dict[int, tuple[Catalog, re.Pattern[str]]] = {}


def _brand_pattern(catalog: Catalog) -> re.Pattern[str]:
    cached = _BRANDS.get(id(catalog))
    if cached is None or cached[0] is not catalog:
        cached = (catalog, _compile_brands(catalog))
        _BRANDS[id(catalog)] = cached
    return cached[1]


def _compile_brands(catalog: Catalog) -> re.Pattern[str]:
    """Brand names followed by a version ("Llama 9", "GPT-5 Turbo Max"): the catalog's family
    and closed-model brands and the well-known ones of `validation.extra_brands`."""
    brands = set(_words("extra_brands"))
    for family in catalog.families:
        for name in (family.name, *family.aliases):
            word = name.lower().split()[0] if name.split() else ""
            if word.isascii() and word.isalpha() and len(word) >= 2:
                brands.add(word)
    for closed in catalog.closed_models:
        for name in (closed.name, *closed.aliases):
            word = (name.lower().replace("-", " ").replace("/", " ").split() or [""])[0]
            if word.isascii() and word.isalnum() and len(word) >= 2:
                brands.add(word)
    alternatives = "|".join(sorted((re.escape(b) for b in brands), key=len, reverse=True))
    return re.compile(
        rf"(?<![A-Za-z0-9])(?i:{alternatives})[\s\-_]?[vV]?\d[\w.\-]*(?:\s+(?:[A-Z][a-z]+|\d+[bBmMkK]))*"
    )


def related_models(catalog: Catalog, model_ids: set[str], family_ids: set[str]) -> tuple[set[str], set[str]]:
    """Models and families related to the allowed ones: the same family, a base model (either
    way), and a family whose name is part of a model's name ("DeepSeek-R1-Distill-Qwen")."""
    families = set(family_ids) | {catalog.by_id[m].family for m in model_ids if m in catalog.by_id}
    for model_id in model_ids:
        model = catalog.by_id.get(model_id)
        if model is None:
            continue
        key = compact(model.name + " " + " ".join(model.aliases))
        for family in catalog.families:
            if any(len(compact(n)) >= 3 and compact(n) in key for n in (family.name, *family.aliases)):
                families.add(family.id)
    models = set(model_ids)
    for model in catalog.models:
        if model.family in families:
            models.add(model.id)
        if model.base_model and (model.base_model in model_ids or model.id in model_ids):
            models |= {model.id, model.base_model}
    return models, families


def question_constraints(grounding: Grounding, catalog: Catalog) -> Constraints | None:
    if isinstance(grounding.constraints, Constraints):
        return grounding.constraints
    try:
        from ..constraints import parse_constraints  # noqa: PLC0415

        return parse_constraints(grounding.question, catalog)
    except Exception:
        return None


def excluded_by_question(entity: Entity, constraints: Constraints | None, catalog: Catalog, facts: Facts,
                         hardware: bool = True) -> str | None:
    """Why the question's hard requirements rule a model (or the size named) out, as the
    answer engine's own filter says; None: they do not. Without `hardware`, a model that
    only does not fit the machine is not ruled out (a name in passing is no advice to run it)."""
    if constraints is None or entity.kind != "model":
        return None
    sizes = facts.of(entity)
    if not sizes:
        return None
    model = sizes[0] if entity.variant else catalog.by_id.get(entity.id)
    if model is None:
        return None
    broken = requirement_check(model, constraints, catalog)
    if broken is None or (not hardware and broken[0] == "memory"):
        return None
    return f"it does not meet the question's requirement ({broken[0]})"


def _denied(text: str, start: int) -> bool:
    """Whether the sentence around `start` says the name does not exist (「沒有 72B 這個尺寸」)."""
    left = max(text.rfind(ch, 0, start) for ch in "。！？!?\n")
    right = min((i for i in (text.find(ch, start) for ch in "。！？!?\n") if i >= 0), default=len(text))
    return cues("nonexistent").search(text[left + 1 : right]) is not None


def names_problems(answer: str, reading: Reading, grounding: Grounding, catalog: Catalog, facts: Facts) -> list[str]:
    problems: list[str] = []
    allowed_text = grounding.known_text()
    allowed_mentions = mentions(normalize(allowed_text), catalog)
    allowed_models = {m.target for m in allowed_mentions if m.kind == "model"}
    allowed_models |= {getattr(s, "id", "") for s in grounding.subjects if getattr(s, "kind", "") == "model"}
    allowed_families = {m.target for m in allowed_mentions if m.kind == "family"}
    allowed_families |= {getattr(s, "id", "") for s in grounding.subjects if getattr(s, "kind", "") == "family"}
    related, related_families = related_models(catalog, allowed_models, allowed_families)
    constraints = question_constraints(grounding, catalog)
    recommending = grounding.intent == "recommend"

    for model_id in dict.fromkeys(m.target for m in reading.mentions if m.kind == "model"):
        name = catalog.by_id[model_id].name
        if model_id in allowed_models:
            continue
        reason = excluded_by_question(Entity("model", model_id), constraints, catalog, facts, hardware=recommending)
        if model_id not in related and not (recommending and reason is None):
            problems.append(f"names a model that is not in the facts: {name}")
            continue
        if reason:
            problems.append(f"names {name}, but {reason}")
        else:
            related_families.add(catalog.by_id[model_id].family)
    for family_id in dict.fromkeys(m.target for m in reading.mentions if m.kind == "family"):
        if family_id not in allowed_families and family_id not in related_families:
            problems.append(f"names a family that is not in the facts: {catalog.family_by_id[family_id].name}")
    # A closed model named in passing (「比 GPT-4o 小」) is no claim about the catalog: not checked.

    lowered = answer.lower()
    for example in EXAMPLE_MODELS:
        if example.split("-")[0].lower() in lowered:
            problems.append(f"copies the worked example: {example}")
    problems += _invented_names(reading, grounding, catalog)
    problems += _unknown_terms(answer, grounding, catalog, problems)
    return problems


def _invented_names(reading: Reading, grounding: Grounding, catalog: Catalog) -> list[str]:
    """Editions, sizes and versions of real models that the catalog does not have."""
    problems: list[str] = []
    trusted = compact(normalize(grounding.trusted_text()))
    keys = catalog_name_keys(catalog)
    text = reading.text

    def invented(candidate: str, start: int) -> bool:
        return name_key(candidate) not in keys and compact(candidate) not in trusted and not _denied(text, start)

    for mention in reading.mentions:
        if mention.kind not in ("model", "family"):
            continue
        after = text[mention.end : mention.end + 12]
        # An edition: "Phi-4 Pro", "Qwen3-Turbo".
        suffix = cues("invented_suffix").at_start(after)
        if suffix is not None:
            candidate = text[mention.start : mention.end + suffix.end()].strip()
            if invented(candidate, mention.start):
                problems.append(f"names a variant that does not exist: {candidate}")
            continue
        # A size: "Gemma 4 9B", "Qwen3.5-72B".
        size = SIZE_IN_NAME.match(after.lstrip(" -"))
        if size is not None and not size.group(1) and not after.lstrip(" -")[size.end() :].startswith(("-", "–", "~", "、", ",")):
            value = float(size.group(2)) * {"b": 1.0, "m": 0.001, "t": 1000.0}[size.group(3)]
            models = (
                [catalog.by_id[mention.target]] if mention.kind == "model" else catalog.models_of(mention.target)
            )
            sizes = [x for model in models for part in params_of(model) for x in part]
            candidate = text[mention.start : mention.end + (len(after) - len(after.lstrip(" -"))) + size.end()].strip()
            if sizes and not close(value, sizes, 0.08) and invented(candidate, mention.start):
                problems.append(f"names a size that does not exist: {candidate}")
    # A name the alias index matched only because it ignores points: "SmolLM2-17B" is not SmolLM2-1.7B.
    for mention in reading.mentions:
        if mention.kind != "model" or mention.target not in catalog.by_id or not any(ch.isdigit() for ch in text[mention.start : mention.end]):
            continue
        written = name_key(text[mention.start : mention.end])
        model = catalog.by_id[mention.target]
        known = {name_key(n) for n in (model.id, model.name, *model.aliases)}
        known |= {name_key(n) for v in model.variants for n in (v.name, *v.aliases)}
        if written not in known and written.replace(".", "") in {k.replace(".", "") for k in known}:
            problems.append(f"names a variant that does not exist: {text[mention.start : mention.end]}")
    for written in dict.fromkeys(reading.invented):
        at = text.find(written)
        if compact(written) not in trusted and not _denied(text, max(at, 0)):
            problems.append(f"names a version that does not exist: {written}")
    return problems


def _licence_like(term: str, catalog: Catalog) -> bool:
    """Whether a model-like term is a licence name ("Apache-2.0", "MNPL-0.1", "CC-BY-NC-4.0")."""
    key = compact(term)
    if term_matches("claimed_licences", normalize(term), 0, len(normalize(term))):
        return True
    return any(key and key in compact(m.licence.id + " " + m.licence.name) for m in catalog.models)


def _unknown_terms(answer: str, grounding: Grounding, catalog: Catalog, found: list[str]) -> list[str]:
    """Model-like names no catalog entry has: a brand with a version ("Llama 9"), a word with
    a size ("Zorb-7B"); and terms only an untrusted document gives."""
    problems: list[str] = []
    trusted = compact(grounding.known_text())
    untrusted = compact(grounding.untrusted)
    keys = catalog_name_keys(catalog)
    generic = _words("generic_terms")
    reported = " ".join(found).lower()
    for match in _brand_pattern(catalog).finditer(answer):
        candidate = match.group().strip().rstrip(".,;:")
        if compact(candidate) in trusted or compact(candidate) in reported or _licence_like(candidate, catalog):
            continue
        hits = mentions(normalize(candidate), catalog)
        if _tuning_stripped_key(candidate) in keys or (hits and _covers(candidate, hits)):
            continue  # a catalog name, checked above
        problems.append(f"names a model that is not in the catalog or the facts: {candidate}")
    reported = compact(" ".join(found + problems))
    for term in dict.fromkeys(MODEL_LIKE.findall(answer)):
        term = term.rstrip(".-_")
        key = compact(term)
        if normalize(term).replace(" ", "") in generic or key in trusted or key in reported or _licence_like(term, catalog):
            continue
        if any(_tuning_stripped_key(term) in name for name in keys):
            continue  # a catalog name, or a piece of one ("A3B" of Qwen3-30B-A3B)
        if any(example.split("-")[0].lower() in key for example in EXAMPLE_MODELS):
            continue  # reported as copying
        problems.append(f"names a model-like term that is not in the trusted facts: {term}")
    for word in dict.fromkeys(CAPS_WORD.findall(answer)):
        key = compact(word)
        if untrusted and key in untrusted and key not in trusted:
            problems.append(f"repeats a term from an untrusted document: {word}")
    return problems


def _tuning_stripped_key(text: str) -> str:
    """A name as names are compared, without a training-stage or file-format suffix
    ("Llama3.1-8B-Base" is Llama 3.1 8B)."""
    normalised = normalize(text)
    suffix = cues("tuning_suffix").search(normalised)
    return name_key(normalised[: suffix.start()] if suffix else normalised)


def _covers(candidate: str, found: list[Any]) -> bool:
    """Whether the catalog names found in `candidate` cover it (nothing invented left over)."""
    text = normalize(candidate)
    covered = [False] * len(text)
    for m in found:
        for i in range(m.start, min(m.end, len(text))):
            covered[i] = True
    run = 0
    for ch, c in zip(text, covered, strict=False):
        if c:
            continue
        if ch.isdigit():
            return False
        run = run + 1 if ch.isascii() and ch.isalpha() else 0
        if run >= 2:
            return False
    return True
