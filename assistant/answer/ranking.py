"""The best models that fit: hard filters, then ranking by cited capability.

Hard constraints filter — a model that breaks one is excluded, with the constraint named:
released open weights; vendor or country avoided; commercial use and licence; a language the
user needs that the model does not support; modality (images, speech); the size bounds the
user stated; minimum context; the stated hardware at some quantisation.

Everything else ranks, in this order:
1. capability for the task (`assistant.capability`: cited benchmark figures, normalised per
   task; a task without a figure falls back as the capability module says, and the answer
   says so; a variant with no figure at all ranks after every measured one);
2. speed on the user's hardware (calibrated tokens/s);
3. licence simplicity (commercial use without conditions first);
and soft preferences (a family the user prefers; a tagged weakness such as drifting into
Simplified Chinese for a Traditional-Chinese service) move a model within that order and
are stated as caveats, never as silent exclusions.

`Shortlist.ranked` is every model that passed the filters, so "only N fit" is true exactly
when N models passed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from ..business import findings
from ..capability import Capabilities, load_capabilities
from ..capability_schema import TASK_WEIGHTS
from ..constraints import Constraints
from ..hardware.fit import FitResult
from ..knowledge import Catalog, Model, Variant
from ..labels import format_context, format_params
from ..messages import Message
from ..vocabulary import vocabulary
from .fitting import USABLE_TOKENS_PER_S, best_fit
from .types import Exclusion, Recommendation

UNMEASURED = -1.0  # below every measured capability (0..1)
SPEED_WEIGHT_ASKED = 0.3  # speed asked for (high traffic, low latency): 100 tok/s is worth 0.3 of capability
SLOW_PENALTY = 1.0
TIGHT_PENALTY = 0.05
UNVERIFIED_TERMS_PENALTY = 0.15  # about a tier of capability: known terms first when the user must sell
_NAMED_SIZE = re.compile(r"(?<![0-9.a-z])(\d{1,4}(?:\.\d{1,2})?)b(?![a-z0-9])")
TAGGED_BONUS = 2.0  # a model tagged for an asked task no benchmark measures ranks above every untagged one
_LICENCE_SIMPLICITY = {"yes": 1.0, "conditional": 0.5, "no": 0.0}
_NO_LANGUAGE_TAGS = {"zh": {"no-chinese"}}  # a tagged weakness that means "cannot answer in it"


class CapabilitySource(Protocol):
    """Where capability figures come from (`assistant.capability`)."""

    def capability(self, model: Model, variant: Variant, task: str) -> dict[str, Any] | None:
        """{"task", "score" (0–1), "basis", "source", "figure", "fallback"} or None when not measured."""


class NoCapabilities:
    """No capability data: every model is "not measured"."""

    def capability(self, model: Model, variant: Variant, task: str) -> dict[str, Any] | None:
        return None


INSTRUCT_SUFFIXES = ("it", "instruct", "chat")


class CatalogCapabilities:
    """Capability figures from `knowledge/capabilities.yaml`, looked up by a variant's Hub repo id,
    else its name and aliases."""

    def __init__(self, book: Capabilities) -> None:
        self.book = book
        self._memo: dict[tuple[str, str, str], dict[str, Any] | None] = {}

    def capability(self, model: Model, variant: Variant, task: str) -> dict[str, Any] | None:
        memo_key = (model.id, variant.name, task)
        if memo_key in self._memo:
            return self._memo[memo_key]
        result = None
        names = [variant.repo, model.repo if len(model.sizes) == 1 else None, variant.name, *variant.aliases,
                 model.name if len(model.sizes) == 1 else None]
        # Instruct checkpoints are what people run: "Gemma 3 12B" is measured as gemma-3-12b-it.
        names += [f"{n} {suffix}" for n in (variant.name, model.name if len(model.sizes) == 1 else None) if n
                  for suffix in INSTRUCT_SUFFIXES]
        for name in names:
            key = self.book.resolve(name) if name else None
            found = self.book.for_task(key, task) if key else None
            if found is not None:
                result = {"task": task, "score": round(found.score, 4), "basis": found.basis, "figure": found.quote,
                          "fallback": found.fell_back_to, "mode": found.mode, "key": key,
                          "figures": {f.benchmark: f.label for f in found.figures},
                          "values": {f.benchmark: f.value for f in found.figures}}
                break
        self._memo[memo_key] = result
        return result


@lru_cache(maxsize=1)
def default_capabilities() -> CapabilitySource:
    """The capability figures the project ships (knowledge/capabilities.yaml)."""
    return CatalogCapabilities(load_capabilities())


@dataclass
class Shortlist:
    recommendations: list[Recommendation]  # what the answer lists, best first
    ranked: list[Recommendation]  # every model that passed the hard filters, best first
    excluded: list[Exclusion]  # the exclusions a user would ask about
    all_excluded: list[Exclusion] = field(default_factory=list)
    task: str = "general"
    caveats: dict[str, list[Message]] = field(default_factory=dict)  # model id -> soft-preference notes

    @property
    def count(self) -> int:
        return len(self.ranked)

    def position(self, model_id: str) -> int | None:
        """1-based place of a model among every model that passed the filters."""
        return next((n for n, r in enumerate(self.ranked, 1) if r.model.id == model_id), None)


# ---------------------------------------------------------------- the task a request ranks by


def ranking_task(c: Constraints) -> str:
    """The capability task that ranks candidates: of the specialist tasks asked, the one listed
    first in knowledge/vocabulary/tasks.yaml (the list's order is the priority: "agentic coding"
    ranks by coding, not tool use), else the language need (Traditional Chinese, Chinese, another
    language), else general."""
    for term in vocabulary().terms("tasks"):
        if term.id in c.tasks and term.get("specialist") and term.get("capability"):
            return str(term.get("capability"))
    if c.traditional:
        return "traditional-chinese"
    if "zh" in c.languages:
        return "chinese"
    if [lang for lang in c.languages if lang != "en"]:
        return "multilingual"
    if c.longest_context:
        return "long-context"
    return "general"


# ---------------------------------------------------------------- hard filters


def takes_images(model: Model, variant: Variant | None = None) -> bool:
    modalities = (variant.modalities if variant and variant.modalities else None) or model.modalities
    return any(m in ("image", "vision", "video") for m in modalities)


def takes_audio(model: Model, variant: Variant | None = None) -> bool:
    modalities = (variant.modalities if variant and variant.modalities else None) or model.modalities
    return any(m in ("audio", "speech") for m in modalities)


def supports_language(model: Model, code: str) -> bool | None:
    """True / False when the catalog says, None when it only says "multilingual"."""
    if _NO_LANGUAGE_TAGS.get(code, set()) & set(model.weakness_tags):
        return False
    codes = {c.lower() for c in model.languages.codes}
    if code in codes or any(c.startswith(code + "-") for c in codes):
        return True
    if "multi" in codes or not codes:
        return None
    return False


_SIZE_FACTS: dict[tuple[int, str], Model] = {}


def size_facts(model: Model, variant: Variant) -> Model:
    """The facts of one size (its own licence, context, modalities …), memoised."""
    if len(model.sizes) <= 1 or model.variant(variant.name) is None:
        return model
    key = (id(model), variant.name)
    if key not in _SIZE_FACTS:
        if len(_SIZE_FACTS) > 4096:
            _SIZE_FACTS.clear()
        _SIZE_FACTS[key] = model.with_variant(variant.name)
    return _SIZE_FACTS[key]


def _licence_ok(facts: Model, c: Constraints) -> bool:
    if c.commercial_required and facts.commercial_use == "no":
        return False
    if c.avoid_licences and any(facts.licence.id.lower().startswith(x.lower()) for x in c.avoid_licences):
        return False
    if c.licence_ids and not any(facts.licence.id.lower().startswith(x.lower()) for x in c.licence_ids):
        return False
    return not (c.open_source_only and not facts.licence.open_source)


def sizes_within(model: Model, c: Constraints) -> list[Variant]:
    sizes = [v for v in model.sizes if _licence_ok(size_facts(model, v), c)]
    if "vision" in c.tasks:
        sizes = [v for v in sizes if takes_images(model, v)]
    if "speech" in c.tasks:
        sizes = [v for v in sizes if takes_audio(model, v)]
    if [code for code in c.languages if code != "en"]:  # a size with its own language list ("Gemma 3 1B: English")
        sizes = [v for v in sizes if all(supports_language(size_facts(model, v), code) is not False for code in c.languages if code != "en")]
    if c.max_params_b is not None:
        sizes = [v for v in sizes if _nominal_b(v) <= c.max_params_b * 1.02]
    if c.min_params_b is not None:
        sizes = [v for v in sizes if _nominal_b(v) >= c.min_params_b * 0.98]
    return sizes


def _nominal_b(variant: Variant) -> float:
    """The size a user compares with a bound: the one in the name ("Qwen3-8B" is 8B, though it has
    8.2B parameters), else the total."""
    named = [float(n) for n in _NAMED_SIZE.findall(variant.name.lower())]
    close = [n for n in named if abs(n - variant.params_total_b) <= 0.15 * variant.params_total_b]
    return close[-1] if close else variant.params_total_b


def fit_variant(model: Model, variant: Variant, c: Constraints) -> FitResult | None:
    """How `variant` runs comfortably on the stated hardware at the best quantisation, or None."""
    return best_fit(model, variant, c)


def _country_slots(code: str) -> dict[str, str]:
    term = vocabulary().term("countries", code)
    return {"country_zh": term.zh if term else code, "country_en": term.en if term else code}


def requests_of(c: Constraints) -> list[str]:
    """The request keys the catalog's `request_rules` are written for."""
    requests = list(c.tasks)
    if "zh" in c.languages and "chinese" not in requests:
        requests.append("chinese")
    if c.traditional:
        requests.append("traditional-chinese")
    if c.traditional_strict:
        requests.append("traditional-chinese-strict")
    return requests


def _rule_tags(catalog: Catalog, c: Constraints, kind: str) -> list[tuple[str, str]]:
    """(request, weakness tag) pairs the request rules list as `excludes` or `cautions`."""
    requests = requests_of(c)
    return [(rule.request, tag) for rule in catalog.request_rules if rule.request in requests for tag in getattr(rule, kind)]


def check(model: Model, c: Constraints, catalog: Catalog) -> tuple[str, Message] | None:
    """The first hard constraint `model` breaks, as (constraint, reason), else None."""
    name = model.name
    if model.status != "released":
        return "released", Message("why.not_released", {"name": name, "status": model.status})
    if model.family in c.avoid_families:
        return "vendor", Message("why.avoid_vendor", {"name": name, "vendor": model.vendor})
    if model.country in c.avoid_countries:
        return "country", Message("why.avoid_country", {"name": name, "vendor": model.vendor, **_country_slots(model.country)})
    base = catalog.by_id.get(model.base_model or "")
    if base is not None and base.country in c.avoid_countries:
        return "country", Message("why.avoid_base_country", {"name": name, "base": base.name, **_country_slots(base.country)})
    if c.released_after and (model.released or "") < c.released_after:
        return "released", Message("why.released_before", {"name": name, "date": model.released or "—", "year": c.released_after})
    if not any(_licence_ok(size_facts(model, v), c) for v in model.sizes):  # every size fails the licence ask
        if c.commercial_required and model.commercial_use == "no":
            return "commercial", Message("why.noncommercial", {"name": name, "licence": model.licence.name})
        if c.avoid_licences and any(model.licence.id.lower().startswith(x.lower()) for x in c.avoid_licences):
            return "licence", Message("why.avoid_licence", {"name": name, "licence": model.licence.id})
        if c.open_source_only and not model.licence.open_source and not c.licence_ids:
            return "licence", Message("why.not_open", {"name": name, "licence": model.licence.name})
        if c.commercial_required and not c.licence_ids:
            return "commercial", Message("why.noncommercial", {"name": name, "licence": model.licence.name})
        return "licence", Message("why.licence", {"name": name, "licence": model.licence.id, "wanted": "/".join(c.licence_ids) or "—"})
    for code in c.languages:
        if code != "en" and supports_language(model, code) is False:
            term = vocabulary().term("languages", code)
            supported = [vocabulary().term("languages", x) for x in model.languages.codes[:6]]
            return "language", Message("why.language", {
                "name": name, "language_zh": term.zh if term else code, "language_en": term.en if term else code,
                "supported_zh": "、".join(t.zh for t in supported if t) or "—", "supported_en": ", ".join(t.en for t in supported if t) or "—"})
    for request, tag in _rule_tags(catalog, c, "excludes"):
        if tag in model.weakness_tags:
            label = catalog.weakness_labels[tag]
            return f"task:{request}", Message("why.weakness", {"name": name, "weakness_zh": label.zh, "weakness_en": label.en})
    if "vision" in c.tasks and not any(takes_images(model, v) for v in model.sizes):
        return "modality", Message("why.no_images", {"name": name})
    if "speech" in c.tasks and not any(takes_audio(model, v) for v in model.sizes):
        return "modality", Message("why.no_audio", {"name": name})
    sizes = sizes_within(model, c)
    if not sizes:
        bound = " ".join(x for x in (
            f"≤ {format_params(c.max_params_b)}" if c.max_params_b is not None else "",
            f"≥ {format_params(c.min_params_b)}" if c.min_params_b is not None else "") if x)
        if not bound:
            return "modality", Message("why.no_images" if "vision" in c.tasks else "why.no_audio", {"name": name})
        return "size", Message("why.size", {"name": name, "size": format_params(model.params_total_b), "bound": bound})
    window = model.context_native if c.native_context else model.context_max
    if c.min_context_tokens and (window or 0) < c.min_context_tokens:
        return "context", Message("why.context", {"name": name, "have": format_context(window), "need": format_context(c.min_context_tokens)})
    if c.memory_gb is not None and not any(fit_variant(model, v, c) for v in sizes):
        smallest = min(sizes, key=lambda v: v.params_total_b)
        key = "why.memory_single" if len(model.sizes) == 1 else "why.memory_smallest"
        return "memory", Message(key, {"name": name, "size": format_params(smallest.params_total_b), "memory": f"{c.memory_gb:g}"})
    if c.commercial_required or c.business:
        blocked = next((m for outcome, m in findings(model, c.business) if outcome == "blocked"), None)
        if blocked is not None:  # over a revenue or user threshold, or outside the licensed territory
            return "licence", blocked
    return None


# ---------------------------------------------------------------- ranking


def _soft_notes(model: Model, c: Constraints, catalog: Catalog) -> tuple[float, list[Message]]:
    """Soft preferences: (score adjustment, caveats). Tagged weaknesses the request rules list as
    cautions rank a model lower and are stated; a preferred family ranks higher."""
    adjust, notes = 0.0, []
    seen: set[str] = set()
    cautioned: set[str] = set()  # requests ("traditional-chinese") a stated weakness already speaks to
    for request, tag in _rule_tags(catalog, c, "cautions"):
        if tag in model.weakness_tags and tag not in seen:
            seen.add(tag)
            cautioned.add(request)
            adjust -= 0.08
            label = catalog.weakness_labels[tag]
            notes.append(Message("caveat.weakness", {"name": model.name, "weakness_zh": label.zh, "weakness_en": label.en}))
    for code in c.languages:
        if code != "en" and supports_language(model, code) is None:
            term = vocabulary().term("languages", code)
            if term and any(term.en.lower() in request for request in cautioned):
                continue  # "mainly English" already said more than "not listed"
            notes.append(Message("caveat.language_unlisted", {"name": model.name, "language_zh": term.zh if term else code, "language_en": term.en if term else code}))
    if model.family in c.prefer_families:
        adjust += 0.05
    if "edge" in c.tasks and ({"edge", "efficiency"} & set(model.strengths)):
        adjust += 0.02
    return adjust, notes


def _unmeasured_prior(model: Model, variant: Variant) -> float:
    """Order among models with no capability figure (all rank below every measured one): the
    larger active size, then the newer release. Stated in the answer as "no measured figure"."""
    active = variant.params_active_b or variant.params_total_b
    size = min(1.0, math.log10(max(active, 0.1) * 10) / 3.5)
    year = int((model.released or "2000")[:4])
    recency = min(1.0, max(0.0, (year - 2022) / 5))
    return 0.3 * size + 0.1 * recency


def untested_tasks(c: Constraints) -> list[str]:
    """Asked specialist tasks no benchmark measures (few refusals, speech …): for these the
    catalog's sourced strength tags are the signal, and a tagged model ranks first. Wishes that
    only nudge (edge devices, efficiency: tasks.yaml `specialist: false`) are not among them:
    the stated hardware's fit and speed already decide those."""
    terms = {t.id: t for t in vocabulary().terms("tasks")}
    return [t for t in c.tasks if t in terms and not terms[t].get("capability") and terms[t].get("specialist")]


def _score(capability: dict[str, Any] | None, fit: FitResult | None, model: Model, adjust: float, variant: Variant | None = None,
           tagged: bool = False, speed_weight: float = 0.01, commercial: bool = False) -> float:
    base = capability["score"] if capability else UNMEASURED + (_unmeasured_prior(model, variant) if variant is not None else 0.0)
    base += TAGGED_BONUS if tagged else 0.0
    if fit is not None and fit.tokens_per_s is not None and fit.tokens_per_s < USABLE_TOKENS_PER_S:
        base -= SLOW_PENALTY  # too slow to use interactively on this machine
    if commercial and model.licence.terms_unverified:
        base -= UNVERIFIED_TERMS_PENALTY  # commercial use asked: a licence known by name only goes behind ones whose terms are known
    if fit is not None and fit.placement in ("tight", "os_limit"):
        base -= TIGHT_PENALTY  # fits with no room to spare (long prompts, a display, other programs): behind roomy fits of similar strength
    speed = min(1.0, (fit.tokens_per_s or 0) / 100) if fit and fit.tokens_per_s else 0.0
    # Speed and licence only break near-ties (capability decides between models a test separates),
    # unless the request is about speed itself (high traffic, low latency), where speed weighs in.
    return base + adjust + speed_weight * speed + 0.004 * _LICENCE_SIMPLICITY[model.commercial_use]


CONTEXT_BONUS_PER_DOUBLING = 0.05  # per doubling of the context window beyond 128k, for long-context requests
CONTEXT_BONUS_MAX = 0.3


def _context_bonus(model: Model) -> float:
    window = model.context_native or 0  # the window a model reaches without scaling tricks
    if window <= 131072:
        return 0.0
    return min(CONTEXT_BONUS_MAX, CONTEXT_BONUS_PER_DOUBLING * math.log2(window / 131072))


def named_benchmark(norm: str, source: CapabilitySource | None = None) -> str | None:
    """The benchmark a question names ("by GPQA Diamond", "SWE-bench 排"): the longest name or id
    found as a whole word; a first word alone ("gpqa", "swe-bench") names its newest benchmark."""
    book = getattr(source or default_capabilities(), "book", None)
    if book is None:
        return None
    text = f" {norm} "
    hits: list[tuple[int, str]] = []
    for bench in book.benchmarks.values():
        forms = {bench.name.lower(), bench.id, bench.id.replace("-", " ")}
        for form in forms:
            at = text.find(form)
            if at > 0 and not text[at - 1].isalnum() and not text[at + len(form)].isalnum():
                hits.append((len(form) * 10, bench.id))
        head = bench.name.lower().split()[0]
        at = text.find(head)
        if len(head) >= 4 and at > 0 and not text[at - 1].isalnum() and not text[at + len(head)].isalnum():
            hits.append((len(head) * 10 - 1, bench.id))
    return max(hits)[1] if hits else None


def default_benchmark_name(source: CapabilitySource, bench: str) -> str:
    book = getattr(source, "book", None)
    return book.benchmarks[bench].name if book is not None and bench in book.benchmarks else bench


def benchmark_capability(source: CapabilitySource, model: Model, variant: Variant, bench: str) -> dict[str, Any] | None:
    """The figure on one named benchmark, as a capability dict scored on that benchmark's own scale."""
    book = getattr(source, "book", None)
    if book is None:
        return None
    for task in TASK_WEIGHTS:
        found = source.capability(model, variant, task)
        if found and not found.get("fallback") and bench in found.get("values", {}):
            value = found["values"][bench]
            spec = book.benchmarks[bench]
            low, high = (spec.min or 0.0), (spec.max or 100.0)
            score = max(0.0, min(1.0, (value - low) / (high - low))) if high > low else 0.0
            return {**found, "task": bench, "score": round(score, 4), "figure": found["figures"][bench],
                    "figures": {bench: found["figures"][bench]}, "values": {bench: value}}
    return None


def evaluate(model: Model, c: Constraints, catalog: Catalog, source: CapabilitySource, task: str,
             only_size: str | None = None) -> tuple[Recommendation, list[Message]]:
    """The best size of a model that passed the filters (or the one size asked for), scored."""
    sizes = sizes_within(model, c)
    if only_size is not None:
        sizes = [v for v in sizes if v.name == only_size] or sizes
    adjust, notes = _soft_notes(model, c, catalog)
    tagged = any(t in model.strengths for t in untested_tasks(c))
    best: Recommendation | None = None
    for variant in sizes:
        fit = fit_variant(model, variant, c) if c.memory_gb is not None else None
        if c.memory_gb is not None and fit is None:
            continue
        facts = size_facts(model, variant)
        capability = benchmark_capability(source, facts, variant, c.benchmark) if c.benchmark else source.capability(facts, variant, task)
        # Speed weighs in when asked for; a ranking by a named benchmark is that benchmark's order.
        speed_weight = SPEED_WEIGHT_ASKED if "efficiency" in c.tasks else 0.0 if c.benchmark else 0.01
        score = _score(capability, fit, facts, adjust, variant, tagged, speed_weight, c.commercial_required)
        if "long-context" in c.tasks and (not capability or capability.get("fallback")):
            score += _context_bonus(facts)  # no long-context test: the window itself is the evidence
        rec = Recommendation(facts, variant, score, fit=fit, capability=capability,
                             matched_tasks=[t for t in c.tasks if t in model.strengths],
                             capability_reason="" if capability else "not measured")
        if best is None or (rec.score, rec.variant.params_total_b) > (best.score, best.variant.params_total_b):
            best = rec
    assert best is not None  # check() passed, so some size fits
    return best, notes


def shortlist(
    catalog: Catalog,
    c: Constraints,
    source: CapabilitySource | None = None,
    *,
    family: str | None = None,
    only: Iterable[str] | None = None,
    mentioned: Iterable[str] = (),
    limit: int = 5,
    diverse: bool = False,
    pinned: dict[str, str] | None = None,
    per_size: bool = False,
) -> Shortlist:
    """Filter, rank and explain.

    Args:
        family: rank only this family's models.
        only: rank only these model ids (a comparison).
        mentioned: models the user named (their exclusions are always explained).
        limit: how many to list; `ranked` always holds every model that passed.
        diverse: list the best model of each family first (the rest stay in `ranked`); off by default, since
            "the top 5" must be the top 5.
        pinned: model id -> the size a question named ("Qwen3.6-27B"): that size is the one ranked.
        per_size: rank every size that passes as its own entry (choosing among one model's sizes).
    """
    source = source or NoCapabilities()
    task = ranking_task(c)
    label_task = default_benchmark_name(source, c.benchmark) if c.benchmark else task
    allowed = set(only) if only is not None else None
    ranked: list[Recommendation] = []
    excluded: list[Exclusion] = []
    caveats: dict[str, list[Message]] = {}
    for model in catalog.models:
        if family and model.family != family:
            continue
        if allowed is not None and model.id not in allowed:
            continue
        broken = check(model, c, catalog)
        if broken:
            excluded.append(Exclusion(model, broken[1], broken[0]))
            continue
        names = [(pinned or {}).get(model.id)]
        if per_size:
            names = [v.name for v in sizes_within(model, c)]
        for name in names:
            if per_size and c.memory_gb is not None and fit_variant(model, model.variant(name) or model.sizes[0], c) is None:
                continue
            rec, notes = evaluate(model, c, catalog, source, task, name)
            ranked.append(rec)
        if notes:
            caveats[model.id] = notes
    ranked.sort(key=lambda r: r.model.released or "", reverse=True)  # among equals, the newer release first
    ranked.sort(key=lambda r: -r.score)
    listed: list[Recommendation] = []
    if diverse and family is None and allowed is None and not per_size:
        seen: set[str] = set()
        for rec in ranked:
            if rec.model.family in seen:
                continue
            seen.add(rec.model.family)
            listed.append(rec)
        listed += [r for r in ranked if r not in listed]
    else:
        listed = list(ranked)
    return Shortlist(
        recommendations=listed[:limit],
        ranked=ranked,
        excluded=relevant_exclusions(excluded, c, list(mentioned)),
        all_excluded=excluded,
        task=label_task,
        caveats=caveats,
    )


def article_specialists(catalog: Catalog, c: Constraints, shown: Iterable[str]) -> list[Model]:
    """Models the article covers whose strength is a task the request names, that pass the
    request's hard constraints and were not listed: the article's own pick for the task."""
    asked = [t for t in c.tasks if (term := vocabulary().term("tasks", t)) is not None and term.get("specialist")]
    listed = set(shown)
    found = []
    for model in catalog.models:
        if model.id in listed or not model.article_section or not model.strengths or model.strengths[0] not in asked:
            continue
        if check(model, c, catalog) is None:
            found.append(model)
    return found


def relevant_exclusions(excluded: list[Exclusion], c: Constraints, mentioned: list[str], limit: int = 5) -> list[Exclusion]:
    """The exclusions a user would wonder about: models they named first, then the newest and
    largest that failed one constraint (not models obviously out of reach)."""

    def obviously_out(e: Exclusion) -> bool:
        if e.constraint != "memory" or c.memory_gb is None:
            return False
        return min(v.params_total_b for v in e.model.sizes) * 0.6 > c.memory_gb * 4

    def relevance(e: Exclusion) -> tuple[int, str]:
        named = e.model.id in mentioned or e.model.family in c.mentioned_families
        return (0 if named else 1, "".join(chr(255 - ord(ch)) for ch in (e.model.released or "0000")))

    chosen: list[Exclusion] = []
    families: set[str] = set()
    for exclusion in sorted(excluded, key=relevance):
        named = exclusion.model.id in mentioned
        if not named:
            if exclusion.constraint == "released" or obviously_out(exclusion) or exclusion.model.family in families:
                continue
        families.add(exclusion.model.family)
        chosen.append(exclusion)
        if len(chosen) >= limit:
            break
    return chosen
