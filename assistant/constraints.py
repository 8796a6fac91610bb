"""Read a user's requirements out of a free-text question.

`parse_constraints` turns 「我要商用、只有 16GB 筆電，想跑能寫程式的模型」 into a typed
`Constraints` (commercial use, 16 GB RAM, laptop, coding). The words it knows are data
(`knowledge/vocabulary/*.yaml`: commercial phrasing, licences, tasks, languages, countries,
devices, size and context words); catalog names come from the catalog's alias index; named
hardware comes from the presets in `knowledge/hardware.yaml`. This module keeps the
mechanisms: negation windows, number parsing, clause scoping, hardware arithmetic.

* The question is read in normalised form (`assistant.text.normalize`): one script, one case.
* Asking *whether* a named model may be used commercially is a fact question, not a
  requirement: `commercial_required` stays False. 「我要商用」, 「哪些模型可以商用？」 are
  requirements; 「不需要商用」 and "commercial use is not needed" set `noncommercial_ok`.
* Every default taken (16 GB for an unspecified laptop, RAM for an unlabelled size) is an
  assumption: a `Message` the answer shows in the user's language.
* Input is cut to `MAX_INPUT_CHARS` first and every pattern is bounded, so parsing is
  linear in the input and never raises.
"""

from __future__ import annotations

import copy
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any, Literal

from .business import Business, read_business
from .constraint_hardware import read_hardware
from .knowledge import Catalog
from .mentions import Mention, unique
from .messages import Message
from .text import mask_spans, normalize
from .vocabulary import Vocabulary, vocabulary

MemoryKind = Literal["ram", "vram", "unified"]
Device = Literal["laptop", "desktop", "phone", "edge", "server"]

# Numbers are mechanism: a size, a memory amount or a context length is a number and a unit.
_NUM = r"(?<![0-9.])(\d{1,5}(?:\.\d{1,3})?)"
_MEMORY = re.compile(_NUM + r"\s?(gib|gb|gig|g|吉)(?![a-z])")
_PARAMS = re.compile(_NUM + r"\s?(b|bn|billion|m|million|t|trillion|億)(?![a-z])")
_RANGE = re.compile(r"(?<![a-z0-9.])(\d{1,4}(?:\.\d{1,3})?)\s?(b|m)?\s?(?:到|至|~|-|–|to|and)\s?(\d{1,4}(?:\.\d{1,3})?)\s?(b|m)(?![a-z])")
_CONTEXT = re.compile(_NUM + r"\s?(k|m|萬)(?![a-z])")
_TOKENS_PLAIN = re.compile(r"(?<![0-9.,])(\d{1,3}(?:,\d{3}){1,2}|\d{4,7})\s?tokens?")
_QUANT = re.compile(r"(?<![a-z0-9])i?q([2-8])(?:_?k(?:_?([sml]))?|_?([01]))?(?:_?(xs|xxs|s|m|nl))?(?![a-z0-9])")
_NEGATION_MASK = "\ue000"
_YEAR = re.compile(r"(?<!\d)(20[2-3]\d)(?!\d)")


@dataclass
class Constraints:
    """What a question asks for. Hard fields filter candidates; the rest rank them."""

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
    languages: list[str] = field(default_factory=list)  # ISO codes the answers must be in
    traditional: bool = False  # Traditional Chinese that should not drift into Simplified
    traditional_strict: bool = False  # ... and must never (drifting models are excluded)
    released_after: str | None = None  # "2026": only releases from that year on
    min_context_tokens: int | None = None
    native_context: bool = False  # "native 1M": extended (YaRN) windows do not count
    longest_context: bool = False
    avoid_countries: list[str] = field(default_factory=list)
    avoid_families: list[str] = field(default_factory=list)
    avoid_licences: list[str] = field(default_factory=list)
    prefer_families: list[str] = field(default_factory=list)
    mentioned_models: list[str] = field(default_factory=list)
    mentioned_families: list[str] = field(default_factory=list)
    mentioned_closed: list[str] = field(default_factory=list)
    quant: str | None = None
    benchmark: str | None = None  # a benchmark the user ranks by ("by GPQA Diamond"): capabilities.yaml id
    revenue_usd_month: float | None = None  # what the user says about their business, for licence thresholds
    mau: float | None = None
    location: str | None = None
    assumptions: list[Message] = field(default_factory=list)

    HARDWARE_FIELDS = ("memory_gb", "memory_kind", "gpu_count", "hardware_name", "bandwidth_gbs", "ram_gb", "device", "cpu_only")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (assumptions as {key, slots})."""
        data = asdict(self)
        data["assumptions"] = [{"key": a.key, **a.slots} for a in self.assumptions]
        return data

    def assumption_texts(self, language: str) -> list[str]:
        return [a.text(language) for a in self.assumptions]

    @property
    def hard(self) -> bool:
        """True when any constraint that must filter candidates is set."""
        return bool(
            self.commercial_required or self.licence_ids or self.open_source_only or self.memory_gb is not None
            or self.cpu_only or self.max_params_b is not None or self.min_params_b is not None
            or self.min_context_tokens is not None or self.avoid_countries or self.avoid_families or self.avoid_licences
            or self.released_after is not None
        )

    @property
    def stated(self) -> bool:
        """True when the question states anything that shapes a recommendation."""
        return self.hard or bool(self.tasks or self.languages or self.longest_context or self.device or self.prefer_families)

    @property
    def business(self) -> Business:
        return Business(self.revenue_usd_month, self.mau, self.location)

    def has_hardware(self) -> bool:
        return self.memory_gb is not None

    def copy(self) -> Constraints:
        return copy.deepcopy(self)


# ---------------------------------------------------------------- commercial use


def _commercial(text: str, has_mentions: bool, v: Vocabulary) -> tuple[bool, bool]:
    """(commercial_required, noncommercial_ok)."""
    masked = v.cues("commercial.a_not_a").search(text) and _mask(text, v) or text
    not_needed = v.cues("commercial.not_needed")(text)
    stated = asked = False
    for match in v.cues("commercial.need").finditer(text):
        if match.group().startswith("non"):
            not_needed = True
            continue
        if v.cues("commercial.restriction_after").search(text[match.end() : match.end() + 3]):
            stated = True  # 「不要商用限制」: no restrictions, i.e. commercial use
            continue
        if v.cues("commercial.negation_before").search(masked[max(0, match.start() - 24) : match.start()]) or v.cues(
                "commercial.negation_after").search(text[match.end() : match.end() + 16]):
            not_needed = True
            continue
        after = text[match.end() : match.end() + 8]
        before = masked[max(0, match.start() - 8) : match.start()]
        if v.cues("commercial.question_after").search(after) or v.cues("commercial.question_before").search(before):
            asked = True
        else:
            stated = True
    fact_question = has_mentions and not v.cues("commercial.seeking")(text)
    english_yes_no = bool(v.cues("intent.yes_no").at_start(text)) and "?" in text
    required = (not (fact_question and english_yes_no)) if stated else (asked and not fact_question)
    if not_needed and not stated:
        required = False
    return required, not_needed and not required


def _mask(text: str, v: Vocabulary) -> str:
    """A-not-A questions (能不能, 可不可以) masked so they are not read as negations."""
    out = text
    for match in v.cues("commercial.a_not_a").finditer(text):
        out = out[: match.start()] + _NEGATION_MASK * (match.end() - match.start()) + out[match.end() :]
    return out


# ---------------------------------------------------------------- licences, languages, tasks


def _licences(text: str, catalog: Catalog, v: Vocabulary, avoided: list[tuple[int, int]]) -> tuple[list[str], list[str]]:
    """(licences wanted, licences avoided): a licence named inside an avoidance clause is avoided."""
    known = {m.licence.id.lower(): m.licence.id for m in catalog.models}
    wanted, avoid = [], []
    for term in v.terms("licences"):
        for match in term.cues.finditer(text):
            (avoid if any(s <= match.start() < e for s, e in avoided) else wanted).append(known.get(term.id.lower(), term.id))
    avoid = unique(avoid)
    return [x for x in unique(wanted) if x not in avoid], avoid


def _tasks(text: str, v: Vocabulary) -> list[str]:
    """Tasks asked for, in the order named; a task said to be handled elsewhere or not needed
    (「語音辨識另外處理」, "no need for vision") is not asked."""
    hits = []
    for term in v.terms("tasks"):
        for match in term.cues.finditer(text):
            before, after = text[max(0, match.start() - 12) : match.start()], text[match.end() : match.end() + 14]
            negated = v.cues("preferences.task_negated_before").search(before) or v.cues("preferences.task_negated_after").search(after)
            if negated and not term.get("negative"):  # 「不要拒答」 still asks for few refusals
                continue
            hits.append((match.start(), term.id))
            break
    return [tag for _, tag in sorted(hits)]


def _languages(text: str, v: Vocabulary, avoid_spans: list[tuple[int, int]]) -> tuple[list[str], bool]:
    hits = []
    for term in v.terms("languages"):
        for match in term.cues.finditer(text):
            if any(s <= match.start() < e for s, e in avoid_spans):
                continue
            hits.append((match.start(), term.id))
            break
    traditional = v.cues("languages.traditional")(text)
    codes = [code for _, code in sorted(hits)]
    if traditional and "zh" not in codes:
        codes.insert(0, "zh")
    return unique(codes), traditional


# ---------------------------------------------------------------- avoid and prefer


def _clause_after(text: str, end: int, v: Vocabulary, limit: int = 40) -> tuple[int, int]:
    window = text[end : end + limit]
    stop = v.cues("preferences.clause_end").search(window)
    return end, end + (stop.start() if stop else len(window))


def _names_licence(clause: str, v: Vocabulary) -> bool:
    return any(term.cues(clause) for term in v.terms("licences"))


def _avoid_and_prefer(text: str, mentions: list[Mention], catalog: Catalog, v: Vocabulary):
    """(avoid_countries, avoid_families, prefer_families, avoided spans)."""
    countries: list[tuple[int, str]] = []
    families: list[tuple[int, str]] = []
    spans: list[tuple[int, int]] = []
    country_terms = v.terms("countries")
    for trigger in v.cues("preferences.avoid_trigger").finditer(text):
        if v.cues("preferences.not_an_avoidance").search(text[trigger.end() : trigger.end() + 6]):
            continue
        if v.cues("preferences.why_before").search(text[max(0, trigger.start() - 10) : trigger.start()]):
            continue
        start, end = _clause_after(text, trigger.end(), v)
        clause = text[start:end]
        found_here = False
        for term in country_terms:
            for match in term.cues.finditer(clause):
                countries.append((start + match.start(), term.id))
                found_here = True
        licence_spans = [(m.start() + start, m.end() + start) for t in v.terms("licences") for m in t.cues.finditer(clause)]
        for mention in mentions:
            if mention.kind == "family" and start <= mention.start < end and not any(a <= mention.start < b for a, b in licence_spans):
                families.append((mention.start, mention.target))
                found_here = True
        if found_here or _names_licence(clause, v):
            spans.append((start, end))
    for term in country_terms:
        for match in term.cues.finditer(text):
            if v.cues("preferences.avoid_suffix").search(text[match.end() : match.end() + 24]):
                countries.append((match.start(), term.id))
    for mention in mentions:
        if mention.kind == "family" and v.cues("preferences.avoid_suffix").search(text[mention.end : mention.end + 24]):
            families.append((mention.start, mention.target))
    prefer: list[tuple[int, str]] = []
    for trigger in v.cues("preferences.prefer_trigger").finditer(text):
        start, end = _clause_after(text, trigger.end(), v, limit=24)
        for mention in mentions:
            if not start <= mention.start < end:
                continue
            if mention.kind == "family":
                prefer.append((mention.start, mention.target))
            elif mention.kind == "model" and mention.target in catalog.by_id:
                prefer.append((mention.start, catalog.by_id[mention.target].family))
    avoid_families = unique(f for _, f in sorted(families))
    return (
        unique(c for _, c in sorted(countries)),
        avoid_families,
        [f for f in unique(f for _, f in sorted(prefer)) if f not in avoid_families],
        spans,
    )


# ---------------------------------------------------------------- sizes, context, quantisation


def _scale_params(value: float, unit: str) -> float:
    return {"m": value / 1000, "million": value / 1000, "t": value * 1000, "trillion": value * 1000, "億": value / 10}.get(unit, value)


def _params(text: str, v: Vocabulary) -> tuple[float | None, float | None, list[Message]]:
    maxima: list[float] = []
    minima: list[float] = []
    notes: list[Message] = []
    ranged: list[tuple[int, int]] = []
    for match in _RANGE.finditer(text):
        low_unit = match.group(2) or match.group(4)
        low = _scale_params(float(match.group(1)), low_unit)
        high = _scale_params(float(match.group(3)), match.group(4))
        if 0 < low < high:
            minima.append(low)
            maxima.append(high)
            ranged.append((match.start(), match.end()))
    context_cue = v.cues("numbers.context_cue")
    for match in _PARAMS.finditer(text):
        if any(s <= match.start() < e for s, e in ranged):
            continue
        unit = match.group(2)
        if unit in ("m", "million") and context_cue(text[max(0, match.start() - 8) : match.end() + 12]):
            continue  # "1M context" is a context length
        value = _scale_params(float(match.group(1)), unit)
        if value <= 0:
            continue
        before = text[max(0, match.start() - 14) : match.start()]
        after = text[match.end() : match.end() + 16]
        if v.cues("numbers.max_before").search(before) or v.cues("numbers.max_after").search(after):
            maxima.append(value)
        elif v.cues("numbers.min_before").search(before) or v.cues("numbers.min_after").search(after):
            minima.append(value)
    if not maxima and v.cues("numbers.hundreds_of_millions")(text):
        maxima.append(1.0)
        notes.append(Message("assume.hundreds_of_millions"))
    for word, bound in v.table("numbers.size_words").items():
        if not maxima and v.cues(f"numbers.{word}")(text):  # 「小模型」 "a tiny model": a size bound, stated as taken
            maxima.append(float(bound))
            notes.append(Message("assume.size_word", {"bound": f"{bound:g}"}))
    return (min(maxima) if maxima else None, max(minima) if minima else None, notes)


def context_tokens(text: str, v: Vocabulary | None = None) -> int | None:
    """The longest context length written in `text` ("128k", "1M tokens", "200,000 tokens"), or None."""
    return _context(text, v or vocabulary())


def _context(text: str, v: Vocabulary) -> int | None:
    found: list[int] = []
    for match in _CONTEXT.finditer(text):
        unit, value = match.group(2), float(match.group(1))
        window = text[max(0, match.start() - 10) : match.end() + 14]
        if unit == "k":
            if v.cues("numbers.not_context")(window) or value < 1:
                continue
            if _MEMORY.search(text[match.start() : match.end() + 3]):
                continue
            found.append(int(value * 1000))
        elif v.cues("numbers.context_cue")(window):
            found.append(int(value * (1_000_000 if unit == "m" else 10_000)))
    for match in _TOKENS_PLAIN.finditer(text):
        found.append(int(match.group(1).replace(",", "")))
    found = [f for f in found if 0 < f <= 100_000_000]
    return max(found) if found else None


def _quant(text: str, v: Vocabulary) -> str | None:
    hits: list[tuple[int, str]] = []
    defaults = v.table("numbers.quant_default")
    for match in _QUANT.finditer(text):
        bits, size, legacy, iq = match.group(1), match.group(2), match.group(3), match.group(4)
        if match.group(0).startswith("i"):
            name = f"IQ{bits}_{(iq or 'xs').upper()}"
        elif size:
            name = f"Q{bits}_K_{size.upper()}"
        elif legacy:
            name = f"Q{bits}_{legacy}"
        elif "k" in match.group(0)[2:]:
            name = f"Q{bits}_K" if bits in "26" else f"Q{bits}_K_M"
        else:
            name = str(defaults.get(bits, ""))
        if name:
            hits.append((match.start(), name))
    for term in v.terms("quant_words"):
        match = term.cues.search(text)
        if match:
            hits.append((match.start(), term.id))
    return min(hits)[1] if hits else None


def _release_year(text: str, v: Vocabulary, catalog: Catalog) -> str | None:
    """「今年」 or "released in 2026": the year releases must come from (the catalog's check year for 'this year')."""
    if v.cues("numbers.this_year")(text):
        return str(catalog.as_of.year)
    for match in _YEAR.finditer(text):
        before, after = text[max(0, match.start() - 22) : match.start()], text[match.end() : match.end() + 8]
        if v.cues("numbers.year_excluded_before").search(before) or v.cues("numbers.year_excluded_after").search(after):
            return str(int(match.group(1)) + 1)  # 「不要 2024 年的」, "not 2024 models": from the next year on
        window = text[max(0, match.start() - 14) : match.end() + 6]
        if v.cues("numbers.release_year_cue")(window):
            return match.group(1)
    return None


def parse_constraints(question: str, catalog: Catalog) -> Constraints:
    """Read the requirements in a zh-TW, Simplified or English question.

    Args:
        question: the user's text, any length and content; never raises.
        catalog: supplies model, family and closed-model names and aliases.

    Returns:
        The `Constraints`, with `assumptions` for every default taken. Each caller gets its own copy.
    """
    if not isinstance(question, str):
        question = normalize(question)
    return copy.deepcopy(_parse_cached(question, _ByIdentity(catalog)))


class _ByIdentity:
    """Hashes a catalog by identity: catalogs are frozen but hold unhashable lists."""

    __slots__ = ("catalog",)

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def __hash__(self) -> int:
        return id(self.catalog)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ByIdentity) and other.catalog is self.catalog


@lru_cache(maxsize=256)
def _parse_cached(question: str, key: _ByIdentity) -> Constraints:
    try:
        return parse_normalised(normalize(question), key.catalog)
    except Exception:  # a parse must never break an answer; fall back to nothing known
        return Constraints(assumptions=[Message("assume.unparsed")])


def parse_normalised(text: str, catalog: Catalog, mentions: list[Mention] | None = None) -> Constraints:
    """`parse_constraints` on text that is already normalised (the planner's one reading)."""
    v = vocabulary()
    result = Constraints()
    if not text:
        return result
    mentions = catalog.mentions(text) if mentions is None else mentions
    result.mentioned_models = unique(m.target for m in mentions if m.kind == "model")
    result.mentioned_closed = unique(m.target for m in mentions if m.kind == "closed")
    families = unique(m.target for m in mentions if m.kind == "family")
    has_named = bool(result.mentioned_models or families or result.mentioned_closed)
    result.commercial_required, result.noncommercial_ok = _commercial(text, has_named, v)
    result.avoid_countries, result.avoid_families, result.prefer_families, avoided = _avoid_and_prefer(text, mentions, catalog, v)
    result.licence_ids, result.avoid_licences = _licences(text, catalog, v, avoided)
    result.open_source_only = v.cues("licences.open_source_only")(text)
    result.mentioned_families = [f for f in families if f not in result.avoid_families]
    unnamed = mask_spans(text, [(m.start, m.end) for m in mentions if m.kind == "model"])
    result.max_params_b, result.min_params_b, notes = _params(unnamed, v)  # "Granite-4.2-30B" is a name, not a 4.2–30B range
    result.assumptions.extend(notes)
    result.min_context_tokens = _context(text, v)
    result.native_context = bool(v.cues("rank.native")(text))
    business = read_business(text, v)
    result.revenue_usd_month, result.mau, result.location = business.revenue_usd_month, business.mau, business.location
    result.longest_context = v.cues("numbers.longest_context")(text)
    result.quant = _quant(text, v)
    # A task word inside a model's name ("Phi-4-multimodal", "DeepSeek-R1-Distill") is not a request.
    result.tasks = _tasks(unnamed, v)
    result.languages, result.traditional = _languages(text, v, avoided)
    result.traditional_strict = v.cues("languages.traditional_strict")(text)
    if result.traditional_strict:
        result.traditional = True
        result.languages = unique(["zh", *result.languages])
    result.released_after = _release_year(text, v, catalog)
    read_hardware(unnamed, result, v)  # "MiniMax-M2" names a model, not an Apple M2
    if result.min_context_tokens is None and v.cues("numbers.whole_book")(text):
        result.min_context_tokens = 128_000
        result.assumptions.append(Message("assume.whole_book"))
    extra = []
    if (result.min_context_tokens or 0) >= 100_000 or result.longest_context:
        extra.append("long-context")
    if result.device in ("phone", "edge"):
        extra.append("edge")
    if "zh" in result.languages:
        extra.append("chinese")
    result.tasks = unique([*result.tasks, *extra])
    return result
