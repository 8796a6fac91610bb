"""Reading a question once: names, constraints, attributes and the cues that shape the answer.

`read_question` is the only place a question's text is matched against vocabulary. It
returns a `Reading`; the planner (`plan.py`), the follow-up resolution (`references.py`)
and the intent rules (`rules.py`) work on that, and renderers work on the `Plan` built from
it. The cue groups a flag comes from are listed in `FLAG_CUES`, so a new wording is a line
in `knowledge/vocabulary/*.yaml`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..constraints import Constraints, context_tokens, parse_normalised
from ..knowledge import Catalog, Model, Variant
from ..mentions import Mention
from ..messages import Message
from ..text import has_cjk, mask_spans, name_key, normalize
from ..vocabulary import Vocabulary, vocabulary
from .types import Claim, Subject

# flag name -> vocabulary cue group
FLAG_CUES: dict[str, str] = {
    "yes_no": "intent.yes_no",
    "confirm": "intent.confirm",
    "rhetorical": "intent.rhetorical",
    "which": "intent.which",
    "plural": "intent.plural",
    "recommend": "intent.recommend",
    "compare": "intent.compare",
    "versions": "intent.versions",
    "why_not": "intent.why_not",
    "superlative": "intent.superlative",
    "strongest": "intent.strongest",
    "just_one": "intent.just_one",
    "lookup_verbs": "intent.lookup_verbs",
    "company_asked": "intent.company_asked",
    "naming": "intent.naming",
    "same": "intent.same",
    "rerun": "conversation.rerun",
    "newest": "intent.newest",
    "derivatives": "intent.derivatives",
    "suitable": "intent.suitable",
    "only_claim": "intent.only_claim",
    "diff": "intent.diff",
    "drift": "attributes.drift",
    "llm_words": "scope.llm_words",
    "run_words": "scope.run_words",
    "other_media": "scope.other_media",
    "how_to": "scope.how_to",
    "chat_words": "scope.chat_words",
    "buy_hardware": "scope.buy_hardware",
    "injection": "scope.injection",
    "greeting": "scope.greeting",
    "pronoun": "conversation.pronoun",
    "followup": "conversation.followup",
    "replace": "conversation.replace",
    "smaller": "conversation.smaller",
    "larger": "conversation.larger",
    "more": "conversation.more",
    "acknowledge": "conversation.acknowledge",
    "storage": "attributes.storage",
    "full_size": "attributes.full_size",
    "audio": "attributes.audio",
    "video": "attributes.video",
    "owned": "devices.owned",
    "moe_only": "rank.moe_only",
    "dense_only": "rank.dense_only",
    "native": "rank.native",
    "ascending": "rank.ascending",
}
ATTRIBUTE_ORDER = ("commercial", "licence", "memory", "speed", "size", "experts", "context", "modalities", "languages",
                   "vendor", "country", "released", "base", "chinese", "weakness", "verdict")

_SIZE = re.compile(r"\s?[-_ ]?(\d{1,4}(?:\.\d{1,2})?)\s?([bm])(?![a-z0-9])")
"""A size in billions or millions: "8b", "30B", "270m" (matched right after a name or a joiner)."""
_VERSION_AFTER = re.compile(r"\s?[-_ ]?([vrkm]?\d{1,2}(?:\.\d{1,2})?)(?![0-9.]*\s?(?:b|m|k|gb|g|t|位元|bit)(?![a-z]))")
_NAME_TOKEN = re.compile(r"(?<![A-Za-z0-9])([A-Z][A-Za-z]*[A-Z0-9][A-Za-z0-9]*|[A-Za-z]{2,}[- ]?\d+(?:\.\d+)?[A-Za-z]?|[A-Z][a-z]{2,})(?![A-Za-z0-9])")
_YEAR = re.compile(r"(?<!\d)(20[12]\d)(?!\d)")
_RELEASE_CODE = re.compile(r"(?<![0-9])([0-9]{4})(?![0-9])")
"""A release code after a name ("2507", "0905")."""
_MARKUP = re.compile(r"<[^<>]{0,200}>")
_WORDS = re.compile(r"[a-z]+")


@dataclass
class Reading:
    """Everything the vocabulary says about one question."""

    text: str  # as asked
    norm: str  # normalised: the one reading every matcher uses
    mentions: list[Mention]
    subjects: list[Subject]
    constraints: Constraints
    attributes: list[str]
    flags: dict[str, bool]
    ordinal: int | None = None  # 1-based; -1 = the last one
    claims: list[Claim] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    rank_field: str | None = None
    rank_position: int = 1
    nonsense: bool = False
    count: int | None = None  # "the best 3", 「推薦三個」: how many to list

    def flag(self, name: str) -> bool:
        return self.flags.get(name, False)

    @property
    def short(self) -> bool:
        return len(self.norm) <= 18


def read_question(question: str, catalog: Catalog) -> Reading:
    """Read `question` once against the vocabulary and the catalog."""
    v = vocabulary()
    full = normalize(question)
    # An instruction-override phrase (「用簡體回答」, "ignore your rules") is refused with a notice; its
    # own words say nothing about the question ("簡體" there is not a language need).
    norm = mask_spans(full, [(m.start(), m.end()) for m in v.cues("scope.injection").finditer(full)])
    norm, typos = catalog.fix_typos(norm, tuple(v.words("stopwords.typo_ignore")))  # "mistal small" → mistral
    try:
        mentions = catalog.mentions(norm)
    except Exception:
        mentions = []
    constraints = parse_normalised(norm, catalog, mentions)
    constraints.assumptions += [Message("assume.typo", {"written": written, "read": read}) for written, read in typos]
    flags = {name: v.cues(group)(norm) for name, group in FLAG_CUES.items()}
    flags["injection"] = v.cues("scope.injection")(full)
    attributes = _attributes(norm, v)
    hub = [(m.start(), m.end()) for m in v.cues("scope.hub_reference").finditer(norm)]
    if hub:  # "on Hugging Face" names a place, not a maker
        mentions = [m for m in mentions if not (m.kind == "family" and any(s <= m.start < e for s, e in hub))]
    subjects = _subjects(norm, mentions, catalog)
    # An avoided family ("不要 Qwen") is a constraint, not a subject; nor is a family named inside a
    # licence's name ("Llama 授權", "Gemma terms").
    licence_spans = [(m.start(), m.end()) for t in v.terms("licences") for m in t.cues.finditer(norm)]
    in_licence = {m.target for m in mentions if m.kind == "family" and any(a <= m.start < b for a, b in licence_spans)}
    subjects = [s for s in subjects if not (s.kind == "family" and (s.id in constraints.avoid_families or s.id in in_licence))]
    # 「Mistral 的 Codestral 22B」: a maker's name qualifying one of its models is not a second subject.
    model_families = {catalog.by_id[s.id].family for s in subjects if s.kind == "model"}
    subjects = [s for s in subjects if not (s.kind == "family" and s.id in model_families)]
    reading = Reading(question, norm, mentions, subjects, constraints, attributes, flags)
    reading.ordinal = _ordinal(norm, v)
    reading.rank_field, reading.rank_position = _rank_field(norm, v)
    reading.nonsense = _nonsense(question, norm, reading)
    reading.count = _count(norm, v)
    reading.claims = claims_about(reading, reading.subjects, catalog)
    if any(c.attribute == "vendor" for c in reading.claims):
        claimed = {c.value for c in reading.claims if c.attribute == "vendor"}
        reading.subjects = [s for s in reading.subjects if not (s.kind == "family" and s.id in claimed)]
    # A family named only through one of its models is not a second subject.
    # A family named only through one of its models (the same words: "StableLM") is not a second
    # subject; named on its own next to a model ("SmolVLM 跟 SmolLM"), it is one in a comparison.
    model_spans = {(m.start, m.end) for m in mentions if m.kind == "model"}
    model_families = {catalog.by_id[s.id].family for s in reading.subjects if s.kind == "model"}
    same_words = {m.target for m in mentions if m.kind == "family" and (m.start, m.end) in model_spans}
    if len(reading.subjects) > 1:
        reading.subjects = [s for s in reading.subjects if not (
            s.kind == "family" and s.id in model_families and (s.id in same_words or not flags["compare"]))]
    if not flags["injection"]:
        reading.unknown = unknown_names(question, reading, catalog, v)
    flags["derivatives"] = flags["derivatives"] or _asks_derivatives(reading, v)
    return reading


def _asks_derivatives(reading: Reading, v: Vocabulary) -> bool:
    """"哪些模型是從 Qwen3 微調來的", "which models are based on Llama 3": the named model is the
    base of what is asked (a derived-from word right before it), not the one asked about
    ("Devstral 是基於哪個模型" asks Devstral's base: a fact)."""
    if "base" not in reading.attributes or not (reading.flag("which") or reading.flag("plural")) or len(reading.subjects) != 1:
        return False
    subject = reading.subjects[0]
    mention = next((m for m in reading.mentions if m.target == subject.id), None)
    if mention is None:
        return False
    before = reading.norm[max(0, mention.start - 8) : mention.start].rstrip()
    word = v.cues("intent.derived_from").search(before)
    return bool(word and word.end() == len(before))


# ---------------------------------------------------------------- attributes, ordinals, rank fields


def _attributes(norm: str, v: Vocabulary) -> list[str]:
    """The attributes asked, in the order the question names them (licence and commercial count once)."""
    found = []
    for name in ATTRIBUTE_ORDER:
        match = v.cues(f"attributes.{name}").search(norm)
        if match:
            found.append((match.start(), name))
    ordered = [name for _, name in sorted(found)]
    if "commercial" in ordered and "licence" in ordered:
        ordered.remove("licence")
    if not ordered and v.cues("attributes.memory_weak").search(norm):
        ordered = ["memory"]  # "能自架嗎": the hardware it needs, when nothing else is asked
    return ordered


def _count(norm: str, v: Vocabulary) -> int | None:
    """How many models the question asks for ("best 3", 「給我三個」, "top five"), if it says."""
    match = v.cues("intent.count").search(norm)
    if not match:
        return None
    values = v.table("numbers.count_words")
    word = next((w for w in sorted(values, key=len, reverse=True) if w in match.group(0)), None)
    return int(values[word]) if word else None


def _ordinal(norm: str, v: Vocabulary) -> int | None:
    match = v.cues("conversation.ordinal").search(norm)
    if not match:
        return None
    values = v.table("conversation.ordinal_values")
    word = match.group(0)
    for key in sorted(values, key=lambda k: -len(str(k))):
        if str(key) in word:
            return int(values[key])
    digits = [ch for ch in word if ch.isdigit()]
    return int(digits[0]) if digits else None


def _rank_field(norm: str, v: Vocabulary) -> tuple[str | None, int]:
    superlative = v.cues("intent.superlative").search(norm)
    if not superlative:
        return None, 1
    window = norm[max(0, superlative.start() - 12) : superlative.end() + 16]
    chosen = next((t.id for t in v.terms("rank_fields") if t.cues(window)), None)
    chosen = chosen or next((t.id for t in v.terms("rank_fields") if t.cues(norm)), None)
    position = 1
    match = v.cues("rank.position").search(norm)
    if match:
        values = v.table("conversation.ordinal_values")
        position = next((int(values[ch]) for ch in match.group(0) if ch in values), 1)
    return chosen, position


def _nonsense(question: str, norm: str, reading: Reading) -> bool:
    """Emoji or symbols only, markup only, or letters that make no word the assistant knows."""
    stripped = _MARKUP.sub(" ", question or "")
    letters = [c for c in stripped if c.isalnum()]
    if not letters:
        return True
    if has_cjk(stripped) or reading.mentions or any(ch.isdigit() for ch in stripped):
        return False
    if any(reading.flags.values()) or reading.attributes or reading.constraints.stated:
        return False
    words = _WORDS.findall(normalize(stripped))
    known = vocabulary().words("stopwords.not_a_model") | vocabulary().words("stopwords.leading_filler")
    return not any(w in known for w in words)


# ---------------------------------------------------------------- subjects


def variant_named(model: Model, text_after: str) -> Variant | None:
    """The size named right after a model's name ("Gemma 3 27B", "qwen3 30b-a3b")."""
    match = _SIZE.match(text_after)
    if not match or len(model.sizes) < 2:
        return None
    value = float(match.group(1)) / (1000 if match.group(2) == "m" else 1)
    best = min(model.sizes, key=lambda x: abs(x.params_total_b - value))
    return best if abs(best.params_total_b - value) <= max(0.15 * value, 0.06) else None


def _squeeze(text: str) -> str:
    return name_key(text)


def _variant_in_span(model: Model, span: str) -> Variant | None:
    key = _squeeze(span)
    for variant in model.variants:
        if _squeeze(variant.name) == key:
            return variant
    size = _SIZE.search(span.lower())
    return variant_named(model, size.group(0)) if size and model.variants else None


def series_members(name: str, catalog: Catalog) -> list[Model]:
    """Catalog models whose names start with a family name plus version ("Llama 4" → Maverick, Scout …)."""
    key = _squeeze(name)
    return [m for m in catalog.models if _squeeze(m.name).startswith(key) and m.status == "released"] or [
        m for m in catalog.models if _squeeze(m.name).startswith(key)
    ]


def _variant_rest(model: Model, after: str) -> Variant | None:
    """「Gemma 4 的 E4B」: the one size whose name, less the model's name, follows shortly (a letter and a digit)."""
    if len(model.sizes) < 2:
        return None
    squeezed, head = name_key(after), name_key(model.name)
    hits = []
    for variant in model.sizes:
        key = name_key(variant.name)
        rest = key[len(head):] if key.startswith(head) else ""
        if len(rest) >= 2 and any(c.isdigit() for c in rest) and any(c.isalpha() for c in rest) and rest in squeezed:
            hits.append((squeezed.index(rest), -len(rest), variant))
    hits.sort(key=lambda h: (h[0], h[1]))
    if not hits or (len(hits) > 1 and hits[0][:2] == hits[1][:2]):
        return None
    return hits[0][2]  # the first named ("Gemma 4 的 E4B 應該跟 31B 一樣…" is about the E4B)


def _later_model_name(after: str, family: object, catalog: Catalog) -> Model | None:
    """The one model of `family` whose name, less the family's name, follows in `after` ("small 4"
    for Mistral Small 4); only such rests that hold a letter and a digit count."""
    squeezed = name_key(after)
    family_keys = sorted({name_key(n) for n in (family.name, family.id, *family.aliases) if n}, key=len, reverse=True)  # type: ignore[attr-defined]
    hits = []
    for model in catalog.models_of(family.id):  # type: ignore[attr-defined]
        key = name_key(model.name)
        rest = next((key[len(f):] for f in family_keys if f and key.startswith(f)), "")
        if len(rest) >= 3 and any(c.isdigit() for c in rest) and any(c.isalpha() for c in rest) and rest in squeezed:
            hits.append((len(rest), model))
    if not hits:
        return None
    longest = max(n for n, _ in hits)
    best = [m for n, m in hits if n == longest]
    return best[0] if len(best) == 1 else None


def _subjects(norm: str, mentions: list[Mention], catalog: Catalog) -> list[Subject]:
    subjects: list[Subject] = []
    seen: set[object] = set()
    for mention in mentions:
        key = (mention.kind, mention.target)
        if mention.kind == "model":
            model = catalog.by_id[mention.target]
            named = model.variant(mention.variant) if mention.variant else None
            variant = named or _variant_in_span(model, norm[mention.start : mention.end]) or variant_named(
                model, norm[mention.end : mention.end + 12]) or _variant_rest(model, norm[mention.end : mention.end + 16])
            if variant is None:
                # 「Devstral Small（2507 那版）」: a release code after the name picks that release, even of
                # an older model in the family the name now points past.
                code = _RELEASE_CODE.search(norm[mention.end : mention.end + 6])
                older = next(((m, x) for m in catalog.models_of(model.family) for x in m.sizes
                              if code and code.group(1) in x.name.replace("-", " ").split()), None) if code else None
                if older is not None and older[0].id != model.id:
                    model, variant = older
                    key = (mention.kind, model.id)
            label = variant.name if variant and len(model.sizes) > 1 else None
            if (key, label) in seen:  # the same model and size named twice
                continue
            seen |= {(key, label), key}
            subjects.append(Subject("model", model.id, model.name, label))
            continue
        if key in seen:
            continue
        seen.add(key)
        if mention.kind == "family":
            family = catalog.family_by_id[mention.target]
            version = _VERSION_AFTER.match(norm[mention.end : mention.end + 8])
            members = series_members(f"{family.name} {version.group(1)}", catalog) if version else []
            if members:
                # "Llama 4" is a generation: its released members are the subjects.
                subjects += [Subject("model", m.id, m.name) for m in members if ("model", m.id) not in seen]
                seen |= {("model", m.id) for m in members}
            else:
                later = _later_model_name(norm[mention.end : mention.end + 48], family, catalog)
                if later is not None and ("model", later.id) not in seen:
                    # "did Mistral put out open weights for Small 4?": the family, then the rest of a model's name.
                    seen.add(("model", later.id))
                    subjects.append(Subject("model", later.id, later.name))
                else:
                    subjects.append(Subject("family", mention.target, family.name))
        else:
            subjects.append(Subject("closed", mention.target, mention.target))
    # "GPT-OSS 20B 跟 120B": a bare size joined to a named model is its sibling of that size.
    for joiner in vocabulary().cues("conversation.joiners").finditer(norm):
        match = _SIZE.match(norm, joiner.end())
        if match is None:
            continue
        named = [s for s in subjects if s.kind == "model"]
        if not named:
            break
        value = float(match.group(1)) / (1000 if match.group(2) == "m" else 1)
        if any(abs(x.params_total_b - value) <= max(0.15 * value, 0.06) for s in named for x in catalog.by_id[s.id].sizes):
            continue  # 「還是 24B 嗎」: the size of a model already named, not a sibling
        family = catalog.by_id[named[0].id].family
        for model in catalog.models_of(family):
            variant = next((x for x in model.sizes if abs(x.params_total_b - value) <= max(0.15 * value, 0.06)), None)
            label = variant.name if variant and len(model.sizes) > 1 else None
            if variant and not any(s.id == model.id and s.variant == label for s in subjects):
                subjects.append(Subject("model", model.id, model.name, label))
                break
    return subjects


def unknown_names(question: str, reading: Reading, catalog: Catalog, v: Vocabulary) -> list[str]:
    """Model-shaped names in the question that the catalog does not hold.

    A known family followed by a version the catalog lacks ("Qwen 7.5", "Llama 5") counts,
    and so does a name-shaped token ("InternLM", "Yi-34B") outside every catalog name when
    the question is about it (it leads the question, is followed by a question about it, or
    is compared). A CJK name in the subject slot of a short fact question counts too
    ("百川可以商用嗎？"), unless it is made of the vocabulary's own words.
    """
    norm = reading.norm
    found: list[str] = []
    # Catalog names, and names that are no model (benchmarks: "SWE-bench Verified", "LiveCodeBench").
    covered = [(m.start, m.end) for m in catalog.alias_index.find(norm, shields=True)]
    for mention in reading.mentions:
        size = _SIZE.match(norm, mention.end)
        if size is not None and mention.kind in ("model", "family"):
            # "Gemma 4 70B", "gpt-oss-240b": a size the model (or family) does not come in.
            value = float(size.group(1)) / (1000 if size.group(2) == "m" else 1)
            models = [catalog.by_id[mention.target]] if mention.kind == "model" else catalog.models_of(mention.target)
            if not mention.variant and not any(abs(x.params_total_b - value) <= max(0.15 * value, 0.06) or
                                               (x.params_active_b and abs(x.params_active_b - value) <= 0.15 * value)
                                               for m in models for x in m.sizes):
                base = models[0].name if mention.kind == "model" else catalog.family_by_id[mention.target].name
                found.append(f"{base} {size.group(1)}{size.group(2).upper()}")
                continue
        if mention.kind != "family":
            continue
        version = _VERSION_AFTER.match(norm[mention.end : mention.end + 10])
        if version and any(ch.isdigit() for ch in version.group(1)):
            name = f"{catalog.family_by_id[mention.target].name} {version.group(1)}"
            if not series_members(name, catalog):
                found.append(name)
    stop = v.words("stopwords.not_a_model")
    for match in _NAME_TOKEN.finditer(question[:400]):
        token = match.group(1)
        low = token.lower()
        if low in stop or (" " in low and low.split()[0] in stop):  # "Top 3", "Best 5": a plain word and a number
            continue
        if len(low) <= 2 or (" " in token and token.split()[0].isalpha() and token.split()[0].islower()):
            continue  # "UI", "single 4090": an acronym or a plain word before a number is not a model's name
        shape = v.cues("stopwords.not_name_shape").search(low)
        if (shape and shape.start() == 0 and shape.end() == len(low)) or (low.endswith("s") and not low.endswith("ss") and low.isalpha()):
            continue
        position = norm.find(low)
        if position >= 0 and any(s <= position < e for s, e in covered):
            continue
        if any(_squeeze(token) in _squeeze(norm[s:e]) or _squeeze(norm[s:e]) in _squeeze(token) for s, e in covered):
            continue
        capitalised_word = len(token) >= 3 and token.isalpha() and token[0].isupper() and token[1:].islower()
        if capitalised_word and (match.start() == 0 or not has_cjk(question)):
            continue  # a sentence's first word, or a capitalised word in English prose
        before = normalize(question[: match.start()])
        after = normalize(question[match.end() : match.end() + 12])
        leading = bool(v.cues("stopwords.leading_filler").search(before)) and v.cues("stopwords.leading_filler").search(before).start() == 0
        asked_about = bool(v.cues("stopwords.about_after").search(after))
        neighbour = next((m for m in reading.mentions if m.kind in ("model", "family") and position >= 0 and (
            0 <= m.start - (position + len(low)) <= 1 or 0 <= position - m.end <= 1)), None)
        if neighbour is not None:
            # "OpenMath Nemotron": a name the catalog lacks, built on one it has, is not that one.
            start, end = min(position, neighbour.start), max(position + len(low), neighbour.end)
            found.append(question[start:end] if question.lower()[start:end] == norm[start:end] else norm[start:end].title())
            reading.subjects = [s for s in reading.subjects if s.id != neighbour.target]
            continue
        if not (leading or asked_about or reading.flag("compare")):
            continue  # a name in passing ("用 Commodore 64 跑 LLM") is not the subject
        found.append(token)
    if not found and not reading.subjects and (reading.flag("yes_no") or reading.attributes) and not (
        reading.flag("superlative") or reading.flag("which") or reading.flag("plural") or reading.flag("recommend")
    ):
        slot = _cjk_subject(norm, v)
        if slot:
            found.append(slot)
    return list(dict.fromkeys(found))


def _cjk_subject(norm: str, v: Vocabulary) -> str | None:
    match = v.cues("stopwords.cjk_subject").search(norm)
    if not match or len(norm) > 30:
        return None
    name = next((g for g in match.groups() if g), "")
    generic = v.words("stopwords.generic_subjects")
    if not name or name in generic or name[:2] in generic:
        return None
    if set(name) & set("".join(v.words("stopwords.not_in_names"))):
        return None
    # Made of the vocabulary's own words (「推薦一個」, 「寫程式」): not a name.
    for group in ("intent.recommend", "intent.which", "intent.just_one", "attributes.licence", "attributes.size", "commercial.need",
                  "conversation.replace", "conversation.followup", "conversation.pronoun"):
        if v.cues(group)(name):
            return None
    if any(t.cues(name) for t in v.terms("tasks")) or any(t.cues(name) for t in v.terms("languages")):
        return None
    return name


# ---------------------------------------------------------------- claims


def claims_about(reading: Reading, subjects: list[Subject], catalog: Catalog) -> list[Claim]:
    """What a yes/no question asserts about its first subject (named, or resolved from the conversation)."""
    v = vocabulary()
    norm = reading.norm
    if not subjects or subjects[0].kind not in ("model", "family"):
        return []
    confirm = reading.flag("confirm") or reading.flag("rhetorical")
    if not (confirm or reading.flag("yes_no")):
        return []
    subject = subjects[0]
    claims: list[Claim] = []
    if "licence" in reading.attributes or v.cues("attributes.licence")(norm):
        licence = next((t.id for t in v.terms("licences") if t.cues(norm)), None)
        if licence and reading.constraints.licence_ids and not reading.flag("recommend"):
            claims.append(Claim("licence", licence, subject.id))
    own_family = catalog.by_id[subject.id].family if subject.kind == "model" else subject.id
    for mention in reading.mentions:
        if mention.kind == "family" and mention.target != own_family and v.cues("claims.vendor_verb")(norm):
            claims.append(Claim("vendor", mention.target, subject.id))
            break
    for term in v.terms("countries"):
        match = term.cues.search(norm)
        if match and v.cues("claims.country_verb")(norm) and not reading.constraints.avoid_countries and not v.cues(
                "claims.user_location").search(norm[max(0, match.start() - 12) : match.start()]):
            claims.append(Claim("country", term.id, subject.id))
            break
    if subject.kind == "model" and not subject.variant:
        for match in v.cues("claims.size_before").finditer(norm):
            size = _SIZE.match(norm[match.end() : match.end() + 10])
            after = norm[match.end() + size.end() : match.end() + size.end() + 6] if size else ""
            if size and not (v.cues("devices.ram")(after) or v.cues("devices.vram")(after) or after.lstrip().startswith(("g", "吉"))):
                value = float(size.group(1)) / (1000 if size.group(2) == "m" else 1)
                claims.append(Claim("size", f"{value:g}", subject.id))
                break
    for match in v.cues("claims.context_before").finditer(norm):
        # 「Scout 只支援 128k」, "only handles 128k tokens": a context length taken for granted.
        tokens = context_tokens(norm[match.end() : match.end() + 24], v)
        if tokens:
            claims.append(Claim("context", str(tokens), subject.id))
            break
    if v.cues("claims.praise")(norm) and confirm:
        claims.append(Claim("verdict", "good", subject.id))
    year = _YEAR.search(norm)
    if year and ("released" in reading.attributes or v.cues("claims.released_verb")(norm)):
        claims.append(Claim("released", year.group(1), subject.id))
    if v.cues("commercial.claim_no")(norm) and confirm:
        claims.append(Claim("commercial", "no", subject.id))
    elif v.cues("commercial.claim_yes")(norm) and confirm:
        claims.append(Claim("commercial", "yes", subject.id))
    return claims


def claim_holds(claim: Claim, catalog: Catalog) -> bool:
    """Whether the catalog agrees with a claim about a model or family."""
    models = [catalog.by_id[claim.subject]] if claim.subject in catalog.by_id else catalog.models_of(claim.subject)
    if not models:
        return True
    if claim.attribute == "licence":
        return any(m.licence.id.lower().startswith(claim.value.lower()) or claim.value.lower() in m.licence.id.lower() for m in models)
    if claim.attribute == "vendor":
        return all(m.family == claim.value for m in models)
    if claim.attribute == "country":
        return all(m.country == claim.value for m in models)
    if claim.attribute == "commercial":
        return all((m.commercial_use != "no") == (claim.value == "yes") for m in models)
    if claim.attribute == "verdict":
        return all(m.verdict != "not-recommended" for m in models)
    if claim.attribute == "released":
        return any((m.released or "").startswith(claim.value) for m in models)
    if claim.attribute == "size":
        value = float(claim.value)
        return any(abs(x.params_total_b - value) <= max(0.1 * value, 0.05) for m in models for x in m.sizes)
    if claim.attribute == "context":
        value = int(claim.value)
        return any(abs((w or 0) - value) <= 0.1 * value for m in models for w in (m.context_native, m.context_max))
    return True
