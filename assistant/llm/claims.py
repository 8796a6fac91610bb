"""Claims in an LLM answer, each tied to the model it is about, and checked one by one.

An answer is read sentence by sentence (normalised text: lower case, Traditional script).
Every claim found is attributed to a *subject*:

* the catalog name nearest before it in the sentence (or one right after it: 「Apache 2.0
  釋出的 Codestral Mamba」), with the size the name gives ("Qwen2.5-3B" is that size, not
  the series);
* a pronoun (它, "it", 該模型 …) stands for the subject in play: the last model the answer
  named before it, else the subject of the question (the plan's, or the one the question
  or the conversation names);
* a sentence with a claim and no name or pronoun is about the subject in play too, unless
  it speaks of others (「其他」, "both", "the rest").

Each claim is checked against the catalog facts of exactly that subject: one size's facts
for a size, every size's for a series, every model's for a family (a series or family
claim stands when it is true of one of them, so 「Qwen2.5 可商用」 passes and
「Qwen2.5-3B 可商用」 does not).

Kinds of claim: commercial use (yes / no / "no restrictions at all"), licence, parameters
(total or active, digits with units, 「80 億」, "tens of billions"), context length (units:
128k = 131,072 = 128K; 1M ≠ 128k), experts, number of languages, memory needed, speed and
benchmark scores (must be in the facts), release year, architecture (MoE / dense), maker
and country. The words come from `knowledge/vocabulary/validation.yaml`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..knowledge import Catalog, Model
from ..text import normalize
from ..vocabulary import Cues, vocabulary

# ------------------------------------------------------------------ text helpers


def mentions(normalised: str, catalog: Catalog) -> list[Any]:
    """Catalog names in normalised text: objects with kind, target, start, end, variant."""
    return list(catalog.mentions(normalised))


def cues(group: str) -> Cues:
    return vocabulary().cues(f"validation.{group}")


# ------------------------------------------------------------------ subjects


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


class Facts:
    """Catalog facts per entity (each size's facts built once per validation)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._cache: dict[Entity, list[Model]] = {}

    def of(self, entity: Entity) -> list[Model]:
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
        for number, unit in re.findall(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)\s?([bmt])(?![a-z])", normalize(name)):
            totals.append(float(number) * {"b": 1, "m": 0.001, "t": 1000}[unit])
        for number in re.findall(r"(?<=a)(\d+(?:\.\d+)?)b(?![a-z])", normalize(name)):
            actives.append(float(number))
        for number in re.findall(r"(?<![a-z0-9])e(\d+(?:\.\d+)?)b(?![a-z])", normalize(name)):
            actives.append(float(number))  # Gemma 3n E4B: an effective size
    return totals, actives


def contexts_of(model: Model) -> list[float]:
    return [float(x) for x in (model.context_native, model.context_extended) if x]


def language_count(model: Model) -> int | None:
    languages = model.languages
    if languages.count:
        return languages.count
    codes = [c for c in languages.codes if c != "multi"]
    return len(codes) if codes and "multi" not in languages.codes else None


def licence_segments(model: Model) -> list[str]:
    return [s for s in re.split(r"[+/]", model.licence.id.lower()) if s]


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
    qualifier: str = ""  # numbers: "approx"/"more"; commercial: "conditional"
    role: str = ""  # parameters: "active" or "total" when the words right next to the number say so
    owner_known: bool = True  # False when the subject is the one in play by default
    link: int | None = None  # where the name this claim is tied to starts (maker claims say which name)


@dataclass
class Reading:
    """The answer as read: normalised text, names, sentences and claims."""

    text: str
    mentions: list[Any]
    claims: list[Claim] = field(default_factory=list)


_SENTENCE = re.compile(r"[^。！？!?\n]+|[。！？!?\n]")
_EN_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\]])\.(?=\s|$)")
_OTHERS = re.compile(
    r"其他|其餘|其它|別的|另外兩|兩者|兩個都|三者|它們|他們|各自|others?\b|the rest|both|all of them|each of|either|neither|they\b|them\b"
)


def sentences(normalised: str) -> list[tuple[int, int]]:
    """Sentence spans: split at 。！？!? and line breaks, and at '. ' (not inside 2.5 or e.g.)."""
    spans: list[tuple[int, int]] = []
    for match in _SENTENCE.finditer(normalised):
        start, end = match.span()
        if end - start <= 1 and not match.group().strip("。！？!?\n"):
            continue
        cut = start
        for dot in _EN_SENTENCE_END.finditer(normalised, start, end):
            spans.append((cut, dot.end()))
            cut = dot.end()
        spans.append((cut, end))
    return [(s, e) for s, e in spans if normalised[s:e].strip()]


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _matches(group: str, text: str, start: int, end: int) -> list[re.Match[str]]:
    return list(cues(group).finditer(text, start, end))


def _before(text: str, start: int, width: int = 8) -> str:
    return text[max(0, start - width) : start]


def _question_after(text: str, end: int) -> bool:
    return bool(cues("question_after").at_start(text[end : end + 4]))


def _negated(text: str, start: int) -> bool:
    return cues("negation_before").at_end(_before(text, start, 6))


def _reported(text: str, start: int) -> bool:
    return cues("reported_before").at_end(_before(text, start, 16))


# ------------------------------------------------------------------ numbers

_NUMBER = re.compile(r"(?<![a-z0-9._/])(?<![0-9],)(?<![0-9]-)(\d{1,3}(?:,\d{3})+(?![0-9])|\d+(?:\.\d+)?)(?![\d])")
_UNIT = re.compile(
    r"\s?(billion|million|trillion|thousand|bn|十億|百億|千億|億|百萬|千萬|萬|兆|[bmkt](?![a-z]))"
)
_CONTEXT_CUE = re.compile(r"^[\s\-]?(?:個\s?)?(?:token|tokens|上下文|context|ctx|字元?的?上下文)")
_PARAMS_CUE = re.compile(r"^\s?(?:個)?\s?(?:參數|parameters?|params)")
_EXPERTS_CUE = re.compile(r"^\s?(?:個)?\s?(?:路由)?(?:專家|experts?)")
_SPEED_CUE = re.compile(r"^\s?(?:token/s|tok/s|tokens/s|tokens per second|token/秒|tokens/秒|個 token/秒|t/s)")
_YEAR_CUE = re.compile(r"^\s?年")
_MEMORY_REQUIREMENT = re.compile(
    r"(?:需要?|約需|需求|佔用?|吃掉?|要|用掉|檔案|大小|權重|requires?|needs?|takes?|uses?|using|needing|weights?|file|download|size|footprint|occup(?:y|ies))[^。！？!?\n]{0,12}$"
)
_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "兩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile(r"([零一二兩三四五六七八九十百千]{1,6})\s?(億|十億|百億|千億|兆)(?:個)?\s?(?:參數|parameters?)")
_MAGNITUDE = re.compile(
    r"(?:數|幾|上|好幾)(十|百|千)億|(?:數|幾|上)兆|(tens|hundreds) of billions|(hundreds) of millions|billions of (?:parameters|params)"
    r"|(?:over |more than )?(?:a|one) trillion"
)


_SERIES_NEXT = re.compile(r"\s?[bmkt]?\s?(?:[、,/–~]|-(?=\s?\d)|到|至|和|與|及|或|\bto\b|\band\b|\bor\b)\s?\d")
_SERIES_PREVIOUS = re.compile(r"\d(?:\.\d+)?\s?[bmkt]?\s?(?:[、,/–~]|-|到|至|和|與|及|或|\bto\b|\band\b|\bor\b)\s?$")


def _context_qualifier(text: str, n_start: int, n_end: int, start: int, end: int, qualifier: str) -> str:
    """"native" when the words around a context length say it is the native window."""
    if qualifier:
        return qualifier
    window = text[max(start, n_start - 14) : min(end, n_end + 24)]
    return "native" if cues("native_near").search(window) else ""


def _role(before: str, after: str) -> str:
    """"active" / "total" from the cue nearest to a number ("每次啟動 32B", "355B 總參數")."""
    best: tuple[int, str] | None = None
    for role, group in (("active", "active_near"), ("total", "total_near")):
        for match in cues(group).finditer(before):
            distance = len(before) - match.end()
            if best is None or distance < best[0]:
                best = (distance, role)
        for match in cues(group).finditer(after):
            distance = match.start()
            if best is None or distance < best[0]:
                best = (distance, role)
    return best[1] if best else ""


def _cn_number(text: str) -> float | None:
    total, section, digit = 0, 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in "十百千":
            unit = {"十": 10, "百": 100, "千": 1000}[ch]
            section += (digit or 1) * unit
            digit = 0
        else:
            return None
    return float(total + section + digit)


def _number_claims(text: str, start: int, end: int, names: list[tuple[int, int, str]]) -> list[Claim]:
    claims: list[Claim] = []
    for match in _NUMBER.finditer(text, start, end):
        n_start, n_end = match.span()
        if any(s <= n_start < e for s, e, _k in names):
            continue  # part of a name: the 20b in gpt-oss-20b
        raw = match.group(1)
        value = float(raw.replace(",", ""))
        rest = text[n_end : min(end, n_end + 24)]
        before = _before(text, n_start, 10)
        qualifier = ""
        if _SERIES_NEXT.match(text, n_end) or _SERIES_PREVIOUS.search(text[max(start, n_start - 12) : n_start]):
            qualifier = "series"  # one of a list or a range of sizes: 「0.5B、1.5B、3B」, 「2.6B–27B」
        elif cues("previous_before").at_end(before):
            qualifier = "previous"
        elif cues("more_than_before").at_end(before) or cues("more_than_after").at_start(
            re.sub(r"^\s?[a-z萬億]{0,8}", "", rest)
        ):
            qualifier = "more"
        elif cues("approx_before").at_end(before):
            qualifier = "approx"
        unit_match = _UNIT.match(rest)
        unit = unit_match.group(1) if unit_match else ""
        after_unit = rest[unit_match.end() :] if unit_match else rest
        shown = text[n_start : n_end + (unit_match.end() if unit_match else 0)].strip()
        span_end = n_end + (unit_match.end() if unit_match else 0)

        role = _role(
            re.split(r"[，,；;、。:：]", text[max(start, n_start - 8) : n_start])[-1],
            re.split(r"[，,；;、。:：(（]", text[span_end : min(end, span_end + 20)])[0],
        )

        template = Claim("", 0.0, n_start, span_end, shown, qualifier=qualifier, role=role)

        def add(kind: str, number: float, q: str | None = None, template: Claim = template) -> None:
            claims.append(replace(template, kind=kind, value=number, qualifier=template.qualifier if q is None else q))

        # Units that say what the number is.
        memory = cues("memory_after").at_start(rest)
        if memory is not None:
            scale = {"tb": 1000.0, "mb": 0.001}.get(memory.group().strip(), 1.0)
            if _MEMORY_REQUIREMENT.search(text[max(start, n_start - 24) : n_start]):
                shown = text[n_start : n_end + memory.end()].strip()
                claims.append(Claim("memory", value * scale, n_start, n_end + memory.end(), shown, qualifier=qualifier))
            continue
        if _SPEED_CUE.match(rest):
            add("speed", value)
            continue
        if unit in ("b", "bn", "billion", "十億"):
            if not cues("not_params_after").at_start(after_unit):
                add("params", value)
            continue
        if unit in ("t", "trillion", "兆"):
            add("params", value * 1000)
            continue
        if unit in ("億", "百億", "千億"):
            if _PARAMS_CUE.match(after_unit) or re.search(r"參數量?\s?(?:約|有|達|為|是)?\s?$", before):
                add("params", value * {"億": 0.1, "百億": 10, "千億": 100}[unit])
            continue
        if unit in ("m", "million", "百萬"):
            if _CONTEXT_CUE.match(after_unit):
                add("context", value * 1e6, _context_qualifier(text, n_start, span_end, start, end, qualifier))
            elif unit == "百萬" or cues("not_params_after").at_start(after_unit):
                continue
            else:
                add("params", value * 0.001)
            continue
        if unit in ("k", "thousand"):
            add("context", value * 1000, _context_qualifier(text, n_start, span_end, start, end, qualifier))
            continue
        if unit == "萬":
            if _CONTEXT_CUE.match(after_unit):
                add("context", value * 1e4)
            continue
        if unit == "千萬":
            if _CONTEXT_CUE.match(after_unit):
                add("context", value * 1e7)
            continue
        # A bare number: what follows (or precedes) says what it counts.
        if _CONTEXT_CUE.match(rest) and (value >= 1000 or "," in raw):
            add("context", value, _context_qualifier(text, n_start, span_end, start, end, qualifier))
        elif _EXPERTS_CUE.match(rest):
            add("experts", value)
        elif cues("languages_after").at_start(rest):
            add("languages", value)
        elif 1990 <= value <= 2099 and "." not in raw and (
            _YEAR_CUE.match(rest) or cues("released_near").search(text, max(start, n_start - 12), min(end, n_end + 14))
        ):
            add("year", value)
        elif cues("score_after").at_start(rest) or cues("benchmark_names").search(
            text, max(start, n_start - 16), n_start
        ):
            add("score", value)
    for match in _CN_NUMBER.finditer(text, start, end):
        number = _cn_number(match.group(1))
        if number is not None:
            scale = {"億": 0.1, "十億": 1, "百億": 10, "千億": 100, "兆": 1000}[match.group(2)]
            claims.append(Claim("params", number * scale, match.start(), match.end(), match.group()))
    for match in _MAGNITUDE.finditer(text, start, end):
        word = match.group()
        if match.group(1):
            low, high = {"十": (1, 10), "百": (10, 100), "千": (100, 1000)}[match.group(1)]
        elif "兆" in word or "trillion" in word:
            low, high = 900, 10000
        elif match.group(2):
            low, high = {"tens": (10, 100), "hundreds": (100, 1000)}[match.group(2)]
        elif match.group(3):
            low, high = 0.1, 1
        else:
            low, high = 1, 1000
        claims.append(Claim("params_range", (low, high), match.start(), match.end(), word))
    return claims


# ------------------------------------------------------------------ reading


def _term_matches(kind: str, text: str, start: int, end: int) -> list[tuple[int, int, Any]]:
    found: list[tuple[int, int, Any]] = []
    for term in vocabulary().terms(kind):
        for match in term.cues.finditer(text, start, end):
            if match.end() > match.start():
                found.append((match.start(), match.end(), term))
    found.sort(key=lambda f: (-(f[1] - f[0]), f[0]))
    kept: list[tuple[int, int, Any]] = []
    for item in found:
        if not any(_overlaps(item[:2], k[:2]) for k in kept):
            kept.append(item)
    return sorted(kept, key=lambda f: f[0])


_LICENCE_AFTER_NAME = re.compile(r"\s?\(\s?(?:可商用|有條件|不可商用|商用|commercial|no commercial|non-commercial)")


def read_answer(
    answer: str,
    catalog: Catalog,
    default_subjects: Sequence[Entity],
    about_use: bool = False,
) -> Reading:
    """Find the claims of an answer and the subject each is about.

    Args:
        answer: the answer text (already converted to zh-TW where it is Chinese).
        catalog: the catalog names are found with.
        default_subjects: the subject in play before the answer names one (the question's).
        about_use: the question is about commercial use or the licence, so "no restrictions"
            anywhere in the answer is about the licence.
    """
    text = normalize(answer)
    found = [m for m in mentions(text, catalog) if m.kind in ("model", "family", "closed")]
    licence_spans = _term_matches("claimed_licences", text, 0, len(text))
    # "Llama 3 Community License" is a licence, not the model Llama 3; so is a family name
    # right next to a licence name or a verdict ("Gemma Terms of Use（Gemma）", "Gemma（可商用）").
    found = [
        m for m in found
        if not any(s <= m.start and m.end <= e and (e - s) > (m.end - m.start) for s, e, _ in licence_spans)
        and not (m.kind == "family" and (
            any(0 <= m.start - e <= 3 or 0 <= s - m.end <= 1 for s, e, _ in licence_spans)
            or _LICENCE_AFTER_NAME.match(text, m.end)
        ))
    ]
    reading = Reading(text, found)
    entities = [m for m in found if m.kind in ("model", "family")]
    names = [(m.start, m.end, m.kind) for m in found]
    pronouns = [(m.start(), m.end()) for m in cues("pronoun").finditer(text)]
    pronouns = [p for p in pronouns if not any(_overlaps(p, n) for n in names)]
    default = list(dict.fromkeys(default_subjects))
    in_play: Entity | None = default[0] if len(default) == 1 else None

    def entity(m: Any) -> Entity:
        return _entity(m, text, catalog)

    for s_start, s_end in sentences(text):
        inside = [m for m in entities if s_start <= m.start < s_end]
        refs = [p for p in pronouns if s_start <= p[0] < s_end]
        sentence_claims = sorted(_sentence_claims(text, s_start, s_end, names, licence_spans, about_use), key=lambda c: c.start)
        makers = [(c.start, c.end) for c in sentence_claims if c.kind in ("vendor", "country")]
        inside = [m for m in inside if not any(_overlaps((m.start, m.end), span) for span in makers)]
        inside = [_as_subject(m, text, catalog, entity) for m in inside]
        for claim in sentence_claims:
            linked = [m for m in inside if claim.link is not None and m.start == claim.link]
            owner = (
                Entity(linked[0].kind, linked[0].target, linked[0].variant if linked[0].kind == "model" else None)
                if linked
                else _nearest(inside, refs, claim.start, claim.end, in_play, text=text)
            )
            if owner is not None:
                claim.subject = owner
            elif in_play is not None and not _OTHERS.search(text, s_start, claim.start):
                claim.subject, claim.owner_known = in_play, False
            sibling = _sibling_size(claim, catalog)
            if sibling is not None:
                # A bare size of the model in play names that size ("Gemma 3 1B 只有 32k，4B 以上才有 128k"):
                # it is true as a size, and what follows in the sentence is about that size.
                inside = sorted([*inside, _Pseudo("model", sibling.id, claim.start, claim.end, sibling.variant)],
                                key=lambda m: m.start)
                claim.qualifier = "sibling"  # true as a size; not checked again
            reading.claims.append(claim)
        if inside:
            in_play = entity(inside[-1])
    return reading


def _entity(m: Any, text: str, catalog: Catalog) -> Entity:
    """The entity a mention names. A name that is exactly one size's name means that size
    ("DeepSeek-V3" is the first release, not the V3-0324 update; "Phi-4-reasoning" is not
    Phi-4-mini-reasoning); so does a series named with 「原版」/"the original" before it."""
    if m.kind != "model":
        return Entity(m.kind, m.target)
    if m.variant:
        return Entity("model", m.target, m.variant)
    model = catalog.by_id.get(m.target)
    if model is not None and len(model.variants) > 1:
        key = _name_key(text[m.start : m.end])
        for variant in model.variants:
            if key in {_name_key(variant.name), *(_name_key(a) for a in variant.aliases)}:
                return Entity("model", m.target, variant.name)
        if cues("original_before").at_end(text[max(0, m.start - 14) : m.start]):
            first = next((v for v in model.variants if _name_key(v.name) == _name_key(model.name)), None)
            if first is not None:
                return Entity("model", m.target, first.name)
    return Entity("model", m.target)


def _name_key(name: str) -> str:
    """A name without case, spaces, '-' or '_' (a point between digits stays: 1.7B is not 17B)."""
    text = re.sub(r"(?<=\d)\.(?=\d)", "\x00", normalize(name))
    return re.sub(r"[\s\-_.]+", "", text).replace("\x00", ".")


_NAME_KEYS: dict[int, tuple[Catalog, frozenset[str]]] = {}


def catalog_name_keys(catalog: Catalog) -> frozenset[str]:
    """Every name of a model, size, family or closed model, as a key (no case, spaces or '-')."""
    cached = _NAME_KEYS.get(id(catalog))
    if cached is None or cached[0] is not catalog:
        names = [name for name, _model, _variant in catalog.names()]
        names += [n for f in catalog.families for n in (f.name, *f.aliases)]
        names += [n for c in catalog.closed_models for n in (c.name, *c.aliases, *re.split(r"\s*/\s*|\s*[()（）,]\s*", c.name))]
        cached = (catalog, frozenset(_name_key(n) for n in names if n and n.strip()))
        _NAME_KEYS[id(catalog)] = cached
    return cached[1]


def _as_subject(m: Any, text: str, catalog: Catalog, entity: Callable[[Any], Entity]) -> Any:
    """A mention as a subject: the size it names; or, when a word after it makes a name the
    catalog does not have ("Pixtral Large"), a model the catalog does not know."""
    continuation = cues("name_continuation").at_start(text[m.end : m.end + 12])
    if continuation is not None and _name_key(text[m.start : m.end + continuation.end()]) not in catalog_name_keys(catalog):
        return _Pseudo("unknown", text[m.start : m.end + continuation.end()].strip(), m.start, m.end + continuation.end())
    if m.kind == "model":
        return _Pseudo(m.kind, m.target, m.start, m.end, entity(m).variant)
    return m


@dataclass(frozen=True)
class _Pseudo:
    """A size named by its number alone, standing in for a name."""

    kind: str
    target: str
    start: int
    end: int
    variant: str | None = None


def _size_numbers(variant: Any) -> list[float]:
    """A size's parameter count and the nominal sizes in its names ("Qwen2.5-7B" is 7.61B)."""
    values = [variant.params_total_b]
    for name in (variant.name, *variant.aliases):
        for number, unit in re.findall(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)\s?([bm])(?![a-z])", normalize(name)):
            values.append(float(number) * (1 if unit == "b" else 0.001))
    return values


def _sibling_size(claim: Claim, catalog: Catalog) -> Entity | None:
    """The size of the subject's model that a bare parameter count names, when it is
    another size than the subject: one of a series' sizes other than its headline size,
    or a sibling of the size named. None when several sizes share the count."""
    subject = claim.subject
    if claim.kind != "params" or claim.role or claim.qualifier not in ("", "more", "approx") or subject is None or subject.kind != "model":
        return None
    model = catalog.by_id.get(subject.id)
    if model is None or len(model.variants) < 2:
        return None
    own = model.variant(subject.variant) if subject.variant else None
    own_sizes = _size_numbers(own) if own is not None else [model.params_total_b]
    if _close(claim.value, own_sizes, 0.06):
        return None
    matching = [v for v in model.variants if v is not own and _close(claim.value, _size_numbers(v), 0.06)]
    if len(matching) == 1:
        return Entity("model", model.id, matching[0].name)
    return None


_CLAUSE_BREAK = re.compile(r"[，,；;：:、]")


def _nearest(inside: list[Any], refs: list[tuple[int, int]], start: int, end: int, in_play: Entity | None,
             after_limit: int = 12, text: str = "") -> Entity | None:
    """The name (or pronoun, standing for the subject in play) nearest before the claim,
    or one at most `after_limit` characters after it."""
    candidates: list[tuple[int, Entity]] = []

    def text_of(m: Any, claim_end: int) -> str:
        return text[claim_end : m.start]

    for m in inside:
        ent = Entity(m.kind, m.target, m.variant if m.kind == "model" else None)
        if m.end <= start:
            candidates.append((start - m.end, ent))
        elif m.start >= end and m.start - end <= after_limit and not _CLAUSE_BREAK.search(text_of(m, end)):
            candidates.append((m.start - end + 1, ent))
        elif m.start < end and start < m.end:
            candidates.append((0, ent))
    # A pronoun before the claim stands for the name before it in this sentence, else the subject in play.
    for p_start, p_end in refs:
        if p_end <= start:
            earlier = [m for m in inside if m.end <= p_start]
            ent = (
                Entity(earlier[-1].kind, earlier[-1].target, earlier[-1].variant if earlier[-1].kind == "model" else None)
                if earlier
                else in_play
            )
            if ent is not None:
                candidates.append((start - p_end, ent))
    return min(candidates, key=lambda c: c[0])[1] if candidates else None


def _sentence_claims(
    text: str, start: int, end: int, names: list[tuple[int, int, str]], licence_spans: list[tuple[int, int, Any]],
    about_use: bool = False,
) -> list[Claim]:
    claims: list[Claim] = []
    # Commercial use: "no" phrases first (they contain the "yes" words: 不能商用 ⊃ 商用).
    taken: list[tuple[int, int]] = []
    no_matches = _matches("commercial_no", text, start, end)
    yes_matches = _matches("commercial_yes", text, start, end)
    conditions = [m.span() for m in cues("commercial_conditional").finditer(text, start, end)]
    for match in sorted(no_matches + yes_matches, key=lambda m: (-(m.end() - m.start()), m.start())):
        span = match.span()
        if any(_overlaps(span, t) for t in taken) or _question_after(text, span[1]) or _reported(text, span[0]):
            continue
        taken.append(span)
        value = "no" if match in no_matches else "yes"
        if value == "yes" and _negated(text, span[0]):
            value = "no"
        conditional = any(c_start - 24 <= span[1] and span[0] <= c_end + 24 for c_start, c_end in conditions)
        claims.append(Claim("commercial", value, *span, match.group(), qualifier="conditional" if conditional else ""))
    for match in _matches("unrestricted", text, start, end):
        span = match.span()
        if any(_overlaps(span, t) for t in taken) or _negated(text, span[0]) or _question_after(text, span[1]):
            continue
        sentence = text[start:end]
        use_words = ("商用", "授權", "使用", "用途", "條款", "開放", "licen", "use", "commercial", "terms", "open")
        if about_use or any(w in sentence for w in use_words) or claims or any(start <= s < end for s, _e, _t in licence_spans):
            claims.append(Claim("unrestricted", True, *span, match.group()))
    for s, e, term in licence_spans:
        if start <= s < end and not _question_after(text, e):
            claims.append(Claim("licence", term, s, e, text[s:e]))
    claims += _number_claims(text, start, end, names)
    for group, value in (("arch_moe", "moe"), ("arch_dense", "dense")):
        for match in _matches(group, text, start, end):
            if any(s <= match.start() < e for s, e, _k in names) or _question_after(text, match.end()):
                continue
            stated = value if not _negated(text, match.start()) else ("dense" if value == "moe" else "moe")
            claims.append(Claim("arch", stated, *match.span(), match.group()))
    claims += _maker_claims(text, start, end, names)
    claims += _support_claims(text, start, end, names)
    return claims


_VENDOR_AFTER_NAME = re.compile(
    r"^[^。！？!?\n]{0,30}?(?:是由|由|是|出自|來自|屬於|made by|developed by|built by|released by|created by|trained by|published by|from|by)"
    r"[^。！？!?\n,;]{0,10}$|^[\s*_]*\(\s?$"
)
"""Between a name and a maker: 「Gemma 由 Google」, 「X 由中國的 阿里巴巴」, "X is made by Meta", "X (Google)"."""
_RELEASED_AFTER_VENDOR = re.compile(r"^\s?(?:\)\s?)?(?:推出|開發|發布|發佈|釋出|研發|打造|訓練|做的|出的|家的|的模型|的開源)")
_VENDOR_BEFORE_NAME = re.compile(r"^\s?(?:的|'s|家的|推出的|開發的|發布的|釋出的|出的|做的|旗下的?|研發的)?\s?$")
_COUNTRY_NOUN = re.compile(
    r"^\s?(?:的)?\s?(?:公司|廠商|團隊|企業|新創|實驗室|模型|開源模型|大模型|ai|company|companies|lab|labs|startup|vendor|firm|model|models|llm|open model|open-weight model|team|developer|maker)"
)
_COUNTRY_BEFORE = re.compile(r"(?:來自|出自|產自|made in|from|based in|a|an|是)\s?$")


def _maker_claims(text: str, start: int, end: int, names: list[tuple[int, int, str]]) -> list[Claim]:
    """Vendor and country claims: only in the shapes that state one ("X 由 Google 推出",
    "Google 的 X", "X is made by Meta", "中國的模型", "a French company"). A maker's name
    that is also a family alias ("Meta", "微軟") is the maker here, not a subject."""
    claims: list[Claim] = []
    in_sentence = [n for n in names if start <= n[0] < end]
    for kind, terms in (("vendor", "claimed_vendors"), ("country", "claimed_countries")):
        for s, e, term in _term_matches(terms, text, start, end):
            if any(_overlaps((s, e), n[:2]) for n in in_sentence if n[2] == "model"):
                continue  # "Mistral" inside "Mistral Small 3.1" is the name, not the maker
            spans = [n[:2] for n in in_sentence if not _overlaps((s, e), n[:2])]
            before_names = [n for n in spans if n[1] <= s]
            after_names = [n for n in spans if n[0] >= e]
            link: int | None = None
            if after_names and _VENDOR_BEFORE_NAME.match(text[e : after_names[0][0]]):
                link = after_names[0][0]  # 「Google 的 Gemma」
            elif before_names and _VENDOR_AFTER_NAME.match(text[before_names[-1][1] : s]):
                link = before_names[-1][0]  # 「Gemma 由 Google 推出」
            elif kind == "vendor" and before_names and len(text[before_names[-1][1] : s]) <= 20 and _RELEASED_AFTER_VENDOR.match(text, e):
                link = before_names[-1][0]  # 「Phi-4 是美國微軟推出的」
            elif kind == "country":
                if _COUNTRY_NOUN.match(text[e:end]) and after_names and after_names[0][0] - e <= 12:
                    link = after_names[0][0]
                elif before_names and _COUNTRY_BEFORE.search(text[before_names[-1][1] : s]) and len(text[before_names[-1][1] : s]) <= 16:
                    link = before_names[-1][0]
                elif _COUNTRY_NOUN.match(text[e:end]) and before_names:
                    link = before_names[-1][0]
            if link is not None and not _question_after(text, e) and not _negated(text, s):
                claims.append(Claim(kind, term, s, e, text[s:e], link=link))
    return claims


def _support_claims(text: str, start: int, end: int, names: list[tuple[int, int, str]]) -> list[Claim]:
    """"It supports images / Chinese" (or not): a modality or language named right after a
    support verb, or followed by "isn't one of them"."""
    claims: list[Claim] = []
    for kind, terms in (("modality", "claimed_modalities"), ("language_support", "claimed_languages")):
        for s, e, term in _term_matches(terms, text, start, end):
            if any(_overlaps((s, e), n[:2]) for n in names):
                continue
            clause_before = text[max(start, s - 14) : s]
            if cues("support_negated_after").at_start(text[e:end]) or cues("support_negated").at_end(clause_before):
                claims.append(Claim(kind, term.id, s, e, text[s:e], qualifier="negated"))
            elif cues("support_before").at_end(clause_before) and not _question_after(text, e):
                claims.append(Claim(kind, term.id, s, e, text[s:e]))
    return claims


# ------------------------------------------------------------------ checking


def _close(value: float, allowed: Sequence[float], tolerance: float) -> bool:
    return any(abs(value - a) <= max(tolerance * a, 0.011) for a in allowed)


@dataclass
class CheckContext:
    catalog: Catalog
    facts: Facts
    known_numbers: set[str]  # numbers the grounded answer, the question and the history state
    copied: Callable[[int, int], bool]  # whether the answer's text around [start, end) is copied from the facts
    other_values: Callable[[Claim, str], list[float]]  # values of the other subjects in the sentence (for lists)

    def family_values(self, subject: Entity, kind: str) -> list[float]:
        """Parameter counts or context lengths of every model in the subject's family."""
        catalog = self.catalog
        family = subject.id if subject.kind == "family" else getattr(catalog.by_id.get(subject.id), "family", None)
        values: list[float] = []
        for model in catalog.models_of(family) if family else []:
            for fact in self.facts.of(Entity("model", model.id)):
                values += [*params_of(fact)[0], *params_of(fact)[1]] if kind == "params" else contexts_of(fact)
        return values


def number_key(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text


def check_claims(reading: Reading, ctx: CheckContext) -> list[str]:
    problems: list[str] = []
    catalog = ctx.catalog
    for claim in reading.claims:
        if claim.qualifier == "sibling":
            continue
        if claim.kind in ("speed", "score"):
            if number_key(claim.value) not in ctx.known_numbers:
                what = "speed" if claim.kind == "speed" else "score"
                problems.append(f"states a {what} the facts do not hold: '{claim.shown}'")
            continue
        subject = claim.subject
        if subject is None:
            if claim.kind in ("memory",) and number_key(claim.value) not in ctx.known_numbers:
                problems.append(f"states '{claim.shown}', which the facts do not hold")
            continue
        if claim.qualifier == "series" and subject.kind == "model":
            subject = Entity("model", subject.id)  # a list or range of sizes is about the series
        facts = ctx.facts.of(subject)
        if not facts:
            continue
        label = subject.label(catalog)
        if ctx.copied(claim.start, claim.end):
            continue  # copied with its context from the facts
        problem = _check(claim, facts, ctx, subject)
        if problem:
            problems.append(f"{label}: {problem}")
    return problems


def _check(claim: Claim, facts: list[Model], ctx: CheckContext, subject: Entity) -> str | None:
    kind, value = claim.kind, claim.value
    if kind == "commercial":
        allowed = {m.commercial_use for m in facts}
        if value == "no" and allowed <= {"yes"}:
            return f"says '{claim.shown}', but the catalog says commercial use is allowed"
        if value == "no" and allowed <= {"conditional"} and claim.qualifier != "conditional":
            return f"says '{claim.shown}', but the catalog allows commercial use under conditions"
        if value == "yes" and allowed <= {"no"}:
            return f"says '{claim.shown}', but the catalog says no commercial use"
        return None
    if kind == "unrestricted":
        allowed = {m.commercial_use for m in facts}
        if "yes" not in allowed:
            return f"says '{claim.shown}', but its licence has conditions"
        return None
    if kind == "licence":
        patterns = [re.compile(p) for p in claim.value.get("segments", [])]
        segments = {s for m in facts for s in licence_segments(m)}
        if not any(p.fullmatch(s) for p in patterns for s in segments):
            return f"'{claim.shown}' is not its licence in the catalog"
        return None
    if kind in ("params", "params_range"):
        totals = [x for m in facts for x in params_of(m)[0]]
        actives = [x for m in facts for x in params_of(m)[1]]
        if kind == "params_range":
            low, high = value
            if not any(low * 0.94 <= x < high * 1.06 for x in totals + actives):
                return f"'{claim.shown}' does not match the catalog's parameter count"
            return None
        tolerance = 0.12 if claim.qualifier == "approx" else 0.06
        if claim.qualifier == "previous":
            ok = _close(value, ctx.family_values(subject, "params"), tolerance)
        elif claim.qualifier == "more":
            ok = any(x >= value * 0.99 for x in totals + actives)
        elif claim.role == "active" and actives:
            ok = _close(value, actives, tolerance)
        elif claim.role == "total":
            ok = _close(value, totals, tolerance)
        else:
            ok = _close(value, totals + actives, tolerance)
        if not ok and claim.shown.endswith("m"):
            ok = _close(value * 1e9, [c for m in facts for c in contexts_of(m)], 0.05)  # "10M" can be a context
        if not ok and _close(value, ctx.other_values(claim, "params"), 0.06):
            ok = True
        return None if ok else f"'{claim.shown}' does not match the catalog's parameter count"
    if kind == "context":
        contexts = [c for m in facts for c in contexts_of(m)]
        if not contexts:
            return None if number_key(value) in ctx.known_numbers else f"'{claim.shown}': the catalog has no context length"
        if claim.qualifier == "native":
            natives = [float(m.context_native) for m in facts if m.context_native]
            ok = _close(value, natives, 0.05) if natives else True
            if not ok:
                return f"'{claim.shown}' is not its native context length in the catalog"
        elif claim.qualifier == "previous":
            ok = _close(value, ctx.family_values(subject, "context"), 0.05)
        elif claim.qualifier == "more":
            ok = any(c >= value * 0.95 for c in contexts)
        else:
            ok = _close(value, contexts, 0.1 if claim.qualifier == "approx" else 0.05)
        if not ok and _close(value, ctx.other_values(claim, "context"), 0.05):
            ok = True
        return None if ok else f"'{claim.shown}' does not match the catalog's context length"
    if kind == "experts":
        experts = [float(m.experts) for m in facts if m.experts]
        if float(value) in experts or number_key(value) in ctx.known_numbers:
            return None
        return f"'{claim.shown}' does not match the catalog's number of experts"
    if kind == "languages":
        counts = [c for c in (language_count(m) for m in facts) if c]
        if not counts:
            return None if number_key(value) in ctx.known_numbers else f"'{claim.shown}': the catalog does not give a number of languages"
        if claim.qualifier == "more":
            ok = any(c >= value for c in counts)
        elif claim.qualifier == "approx":
            ok = _close(value, [float(c) for c in counts], 0.1)
        else:
            ok = float(value) in {float(c) for c in counts}
        return None if ok or number_key(value) in ctx.known_numbers else f"'{claim.shown}' does not match the catalog's number of languages"
    if kind == "memory":
        if number_key(value) in ctx.known_numbers:
            return None
        sizes = [x for m in facts for x in params_of(m)[0]]
        if any(0.2 * s <= value <= 2.6 * s for s in sizes):
            return None
        return f"'{claim.shown}' is not a memory figure the facts support"
    if kind == "year":
        years = {int(m.released[:4]) for m in facts if m.released}
        if not years or int(value) in years or number_key(value) in ctx.known_numbers:
            return None
        return f"'{claim.shown}' is not its release year in the catalog"
    if kind == "arch":
        archs = {m.architecture for m in facts}
        sparse = {m.architecture for m in facts if m.params_active_b} | ({"moe"} & archs)
        if value == "moe" and not sparse:
            return f"says '{claim.shown}', but the catalog lists it as {'/'.join(sorted(archs))}"
        if value == "dense" and archs <= {"moe"}:
            return f"says '{claim.shown}', but the catalog lists it as a mixture-of-experts model"
        return None
    if kind == "modality":
        has = [value in (m.modalities or []) for m in facts]
        if claim.qualifier == "negated" and all(has):
            return f"says it does not take {claim.shown}, but the catalog lists {value} input"
        if claim.qualifier != "negated" and not any(has):
            return f"says it takes {claim.shown}, but the catalog lists {'/'.join(sorted({x for m in facts for x in m.modalities}))} only"
        return None
    if kind == "language_support":
        code_sets = [[c.lower() for c in m.languages.codes] for m in facts]
        if any("multi" in codes for codes in code_sets):
            return None  # "many languages": not checkable
        has = [any(c == value or c.startswith(value + "-") for c in codes) for codes in code_sets]
        if claim.qualifier == "negated" and all(has):
            return f"says it does not support {claim.shown}, but the catalog lists it"
        if claim.qualifier != "negated" and not any(has):
            return f"says it supports {claim.shown}, which the catalog's languages do not include"
        return None
    if kind == "vendor":
        words = ctx.facts.vendor_words(subject)
        if not any(normalize(w) in words for w in value.get("matches", [])):
            return f"'{claim.shown}' is not its maker in the catalog"
        return None
    if kind == "country":
        if value.id not in ctx.facts.countries(subject):
            return f"'{claim.shown}' is not where it comes from in the catalog"
        return None
    return None

