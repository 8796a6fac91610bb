"""Checks an LLM answer against the facts it was given, for meaning as well as names.

Rules (each failure is one short English sentence in `Validation.problems`):

- **Names.** Every catalog model or family the answer names must be in the facts; a
  model-like name the catalog does not know fails; the worked examples' fictional models
  fail as copying. Capitalised words that are not names (NOTE, RTX, GPU, MoE) pass unless
  they come only from an untrusted (user) document.
- **Numbers.** A parameter count, context length or expert count next to a model name must
  match the catalog; other measures must appear in the facts. 「；」 does not end a sentence.
- **Citations.** Every [n] must exist; a literal [n] or [m] fails.
- **Coverage.** The first sentence carries the grounded answer's key: the same yes/no,
  the same number, or one of the same models (`answer_key()`).
- **Contradiction.** Commercial use and licence stated for a model must agree with the
  catalog, in either language and in paraphrase (不能商用 / 可商用 / non-commercial).
- **Regurgitation.** No block labels of the prompt (事實：, 來源：, Facts:) and no
  sentence of the system rules.

Errors of the backend are never validation problems: the run reports them separately.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..knowledge import Catalog, Model
from .prompt import EXAMPLE_MODELS, FACT_LABELS, SYSTEM_RULES, Prompt

if TYPE_CHECKING:
    from ..compose import Reply


@dataclass
class Validation:
    ok: bool
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": list(self.problems)}


# Well-known model brands outside the catalog, so an invented "GPT-5 Turbo Max" or
# "Llama 9" is caught even when the catalog does not know the name.
_EXTRA_BRANDS = (
    "gpt",
    "claude",
    "gemini",
    "grok",
    "llama",
    "mistral",
    "mixtral",
    "qwen",
    "qwq",
    "phi",
    "gemma",
    "deepseek",
    "yi",
    "falcon",
    "bloom",
    "vicuna",
    "baichuan",
    "internlm",
    "chatglm",
    "glm",
    "ernie",
    "hunyuan",
    "minimax",
    "kimi",
    "nemotron",
    "olmo",
    "granite",
    "aya",
    "exaone",
    "jamba",
    "dbrx",
    "starcoder",
    "codellama",
    "wizardlm",
    "openchat",
    "zephyr",
    "solar",
    "orca",
    "stablelm",
    "smollm",
    "command",
    "codestral",
    "devstral",
    "magistral",
    "ministral",
    "pixtral",
    "palm",
    "bard",
    "o1",
    "o3",
    "o4",
)
_SENTENCE = re.compile(r"[^。！？!?\n]+")
"""Sentences for the number and claim checks. 「；」 does not end a sentence: 「Gemma 2…；上下文
16k」 still says 16k about Gemma 2."""
_PARAM_NUMBER = re.compile(r"(?<![\w.])(?<!\d,)(\d+(?:\.\d+)?)\s*(b|m|t|億|billion|million|trillion)(?![a-z])")
_CONTEXT_NUMBER = re.compile(
    r"(?<![\w.])(?<!\d,)(\d+(?:\.\d+)?)\s*k(?![a-z])"
    r"|(?<![\w.])(?<!\d,)(\d+(?:\.\d+)?)\s*(m|萬)(?=[\s\-]*(?:token|tokens|個 ?token|上下文|context))"
    r"|(?<![\w.])(?<!\d,)(\d{1,3}(?:,\d{3})+|\d{4,8})(?=[\s\-]*(?:token|tokens|個 ?token))"
)
_EXPERT_NUMBER = re.compile(r"(?<![\w.])(?<!\d,)(\d+)\s*(?:個專家|experts?)")
_MEASURE_NUMBER = re.compile(r"(?<![\w.])(?<!\d,)(\d+(?:\.\d+)?)\s*(gb|gib|token/s|tok/s|tokens/s)")
_CITATION = re.compile(r"\[(\d{1,3})\]")
_CONTEXT_CUE = re.compile(r"[\s\-]*(?:token|上下文|context)")
_PARAMS_CUE = re.compile(r"\s*(?:個)?(?:參數|参数)")


def _compact(text: str) -> str:
    return re.sub(r"[\s\-_*`]+", "", text.lower())


def _brand_pattern(catalog: Catalog) -> re.Pattern[str]:
    brands = set(_EXTRA_BRANDS)
    for family in catalog.families:
        for name in (family.name, *family.aliases):
            word = name.lower().split()[0] if name.split() else ""
            if word.isascii() and word.isalpha() and len(word) >= 2:
                brands.add(word)
    for closed in catalog.closed_models:
        for name in (closed.name, *closed.aliases):
            word = re.split(r"[\s\-/]", name.lower())[0]
            if word.isascii() and word.isalnum() and len(word) >= 2:
                brands.add(word)
    alternatives = "|".join(sorted((re.escape(b) for b in brands), key=len, reverse=True))
    return re.compile(
        rf"(?i)(?<![a-z0-9])(?:{alternatives})[\s\-_]?v?\d[\w.\-]*(?:\s+(?:[A-Z][a-z]+|\d+[bBmMkK]))*"
    )


def _nearest_owner(inside: list[Any], start: int, end: int, after_limit: int = 12) -> Any | None:
    """The name a claim at [start, end) belongs to: the nearest one before it, or one at
    most `after_limit` characters after it; None when the sentence names none."""
    nearby = [(start - m.end, m) for m in inside if m.end <= start]
    nearby += [(m.start - end, m) for m in inside if m.start >= end and m.start - end <= after_limit]
    return min(nearby, key=lambda pair: pair[0])[1] if nearby else None


def _owner_name(catalog: Catalog, owner: Any) -> str:
    return catalog.by_id[owner.target].name if owner.kind == "model" else catalog.family_by_id[owner.target].name


def _family_models(catalog: Catalog, target: str, kind: str) -> list[Model]:
    if kind == "model":
        return [catalog.by_id[target]] if target in catalog.by_id else []
    return catalog.models_of(target)


def _param_values(models: list[Model]) -> list[float]:
    values: list[float] = []
    for model in models:
        values += [model.params_total_b, *(v.params_total_b for v in model.sizes)]
        values += [x for x in (model.params_active_b, *(v.params_active_b for v in model.sizes)) if x]
        for name in (model.name, model.id, *model.aliases, *(v.name for v in model.variants)):
            for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([bmt])(?![a-z])", name.lower()):
                values.append(float(number) * {"b": 1, "m": 0.001, "t": 1000}[unit])
    return values


def _close(value: float, allowed: list[float], tolerance: float) -> bool:
    return any(abs(value - a) <= max(tolerance * a, 0.011) for a in allowed)


def _number(text: str) -> str:
    found = re.search(r"\d+(?:\.\d+)?", text)
    value = found.group() if found else text
    return value.rstrip("0").rstrip(".") if "." in value else value


def _copied(window: str, compact_facts: str) -> bool:
    """True when a number and the words right before it appear verbatim in the facts."""
    compact = _compact(window)
    words = sum(1 for ch in compact if not (ch.isdigit() or ch in ".,"))
    return words >= 3 and compact in compact_facts


def _numbers_in(text: str) -> set[str]:
    return {_number(n) for n in re.findall(r"\d+(?:\.\d+)?", text)}


# ------------------------------------------------------------------ names


_MODEL_LIKE = re.compile(
    r"(?<![A-Za-z0-9])(?:[A-Za-z][A-Za-z]+[\-_]?\d+(?:\.\d+)?[BbMm](?:[\-_][A-Za-z0-9]+)*"
    r"|[A-Za-z][A-Za-z]*-\d[\w.\-]*|[A-Za-z]+\d+[A-Za-z]+\d*)(?![A-Za-z0-9])"
)
"""Model-like names: a word with a size (ZZZ-7B, Foo 9B), a word-dash-number (Zorb-3),
or letters around digits (Xq7b). Plain capitalised words (NOTE, RTX, MoE) are not."""
_CAPS_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9]{3,}(?![A-Za-z0-9])")
GENERIC_TERMS = frozenset(
    "GPU CPU NPU RAM VRAM LLM SLM API GB TB MB RAG MOE AI FAQ URL JSON GGUF SDK KV OSI USA UK EU PC "
    "OCR HTTP HTTPS Q4 Q5 Q8 F16 FP16 BF16 INT4 INT8 MLX CUDA ROCM GPT RTX GTX NOTE M1 M2 M3 M4 "
    "A100 H100 H200 L4 T4 V100 MI300 DDR4 DDR5 LPDDR5 NVME SSD ARM X86 AVX2 AVX512 NEON UTF-8 X86-64 SHA-256".split()
)
_PLACEHOLDER = re.compile(r"\[(?:[a-zA-Z]|[a-zA-Z]\d?|\.\.\.|…|x|n|m|k)\]")


def _names_problems(text: str, reply: Reply, prompt: Prompt, catalog: Catalog) -> list[str]:
    from ..constraints import find_mentions  # noqa: PLC0415

    problems: list[str] = []
    # The facts sent, and the whole grounded answer (the prompt may carry only the first
    # lines of a long list, but everything the engine said is fact).
    allowed_text = prompt.facts_text + "\n" + (reply.grounded_answer or "")
    models_ok, families_ok, closed_ok = find_mentions(allowed_text, catalog)
    allowed_models = set(models_ok) | set(reply.mentioned) | {r.model.id for r in reply.recommendations}
    allowed_models |= {p.model_id for p in reply.sources[: prompt.source_count] if p.model_id}
    allowed_families = set(families_ok) | {
        catalog.by_id[m].family for m in allowed_models if m in catalog.by_id
    }
    allowed_families |= {p.family for p in reply.sources[: prompt.source_count] if p.family}
    allowed_closed = set(closed_ok)

    models, families, closed = find_mentions(text, catalog)
    for model_id in models:
        if model_id not in allowed_models:
            problems.append(f"names a model that is not in the facts: {catalog.by_id[model_id].name}")
    for family_id in families:
        if family_id not in allowed_families:
            problems.append(
                f"names a family that is not in the facts: {catalog.family_by_id[family_id].name}"
            )
    for name in closed:
        if name not in allowed_closed:
            problems.append(f"names a closed model that is not in the facts: {name}")

    lowered = text.lower()
    for example in EXAMPLE_MODELS:
        if example.split("-")[0].lower() in lowered:
            problems.append(f"copies the worked example: {example}")

    compact_allowed = _compact(allowed_text)
    for match in _brand_pattern(catalog).finditer(text):
        candidate = match.group().strip()
        c_models, _c_families, c_closed = find_mentions(candidate, catalog)
        known = (c_models and set(c_models) <= allowed_models) or (
            c_closed and set(c_closed) <= allowed_closed
        )
        if known or _compact(candidate) in compact_allowed:
            continue
        if c_models or c_closed:
            continue  # already reported above as a catalog name outside the facts
        problems.append(f"names a model that is not in the catalog or the facts: {candidate}")

    # Model-like names must come from trusted text: the grounded facts, the curated
    # article/catalog passages or the question. A user document is data, so a name or a
    # code word planted there cannot reach an answer.
    trusted_parts = [reply.grounded_answer or reply.answer, reply.question]
    trusted_parts += [p.title + " " + p.text for p in reply.sources if p.source in ("article", "catalog")]
    trusted = _compact(" ".join(trusted_parts))
    untrusted = _compact(" ".join(p.text for p in reply.sources if p.source not in ("article", "catalog")))
    for term in dict.fromkeys(_MODEL_LIKE.findall(text)):
        compact = _compact(term)
        if term.upper().replace(" ", "") in GENERIC_TERMS or compact in trusted:
            continue
        if any(example.split("-")[0].lower() in compact for example in EXAMPLE_MODELS):
            continue  # reported as copying
        problems.append(f"names a model-like term that is not in the trusted facts: {term}")
    for word in dict.fromkeys(_CAPS_WORD.findall(text)):
        compact = _compact(word)
        if compact in untrusted and compact not in trusted:
            problems.append(f"repeats a term from an untrusted document: {word}")
    return problems


# ------------------------------------------------------------------ coverage


_LEAD_SPLIT = re.compile(r"(?<=[。！？!?])|(?<=[.])\s+")
_LEAD_YES = re.compile(r"^\W*(?:可以|能|是的|是|對|yes\b|ok\b|sure\b)", re.I)
_LEAD_NO = re.compile(r"^\W*(?:不|無法|沒有|否|no\b|not\b)", re.I)
_ASKS_COMMERCIAL = re.compile(r"商用|商業|commercial|in a product|for business|make money", re.I)
_ASKS_CONTEXT = re.compile(r"上下文|吞吐|多少 ?token|context|how many tokens", re.I)
_ASKS_EXPERTS = re.compile(r"專家|experts?", re.I)
_ASKS_PARAMS = re.compile(r"參數|多大|parameters?|how big|how large", re.I)


def _first_sentence(text: str) -> str:
    """The lead of an answer: its first line, at most two sentences of it (plus the next
    line when the first is a bare 「可以。」, "No." or a heading like 「比較：」)."""
    body = re.sub(r"[*_`#>]+", "", text).strip()
    body = re.sub(r"^\s*(?:回答|答|Answer)\s*[:：]\s*", "", body)
    lines = [line.strip().lstrip("-•* ").strip() for line in body.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return ""
    lead = lines[0]
    if (len(re.sub(r"\W", "", lead)) < 8 or lead.endswith(("：", ":"))) and len(lines) > 1:
        lead += " " + lines[1]
    sentences = [p for p in _LEAD_SPLIT.split(lead) if p.strip()]
    return " ".join(p.strip() for p in sentences[:2])


def _polarity(sentence: str) -> str | None:
    """'yes' or 'no': a commercial-use claim, else a leading 「可以」/「不行」/Yes/No."""
    text = sentence.lower()
    no = _COMMERCIAL_NO.search(text)
    yes = next(
        (m for m in _COMMERCIAL_YES.finditer(text) if not (no and no.start() <= m.start() < no.end())), None
    )
    if no and (yes is None or no.start() <= yes.start()):
        return "no"
    if yes:
        return "yes"
    if _LEAD_NO.match(text):
        return "no"
    if _LEAD_YES.match(text):
        return "yes"
    return None


def answer_key(reply: Reply, catalog: Catalog) -> dict[str, Any]:
    """What the answer's first sentence must carry.

    Keys (each only when it applies): "models" and "families" (the lead names one of
    them), "yes_no" ("yes"/"no": the lead says the same), "numbers" (a list of
    {"kind": "context"/"params"/"experts", "values": [...]}: the lead states one).

    A reply with a plan that states `answer_key` (a dict with these keys) wins. Else the
    key comes from the grounded answer: the models or family its first sentence names
    (for a comparison the models compared, for a recommendation the top three); for a
    question about one model's commercial use, the catalog's yes/no; for a question
    about its context, size or experts, that number.
    """
    from ..constraints import find_mentions  # noqa: PLC0415

    plan = getattr(reply, "plan", None)
    planned = getattr(plan, "answer_key", None)
    if isinstance(planned, dict) and planned:
        key: dict[str, Any] = {}
        models = planned.get("models") or ([planned["model"]] if planned.get("model") else [])
        if models:
            key["models"] = [str(m) for m in models]
        if planned.get("families"):
            key["families"] = [str(f) for f in planned["families"]]
        yes_no = planned.get("yes_no") or planned.get("polarity")
        if yes_no in ("yes", "no"):
            key["yes_no"] = yes_no
        if isinstance(planned.get("numbers"), list):
            key["numbers"] = planned["numbers"]
        return key
    key = {}
    if reply.route == "compare" and reply.mentioned:
        key["models"] = list(reply.mentioned)
    elif reply.route == "recommend" and reply.recommendations:
        key["models"] = [r.model.id for r in reply.recommendations[:3]]
    else:
        lead = _first_sentence(reply.grounded_answer or reply.answer)
        models, families, _closed = find_mentions(lead, catalog)
        if models:
            key["models"] = models
        if families:
            key["families"] = families
    models = key.get("models", [])
    if reply.route == "fact" and len(models) == 1 and models[0] in catalog.by_id:
        # The yes/no or number the question asks for, when the grounded lead states it.
        model = catalog.by_id[models[0]]
        question = reply.question
        lead = _first_sentence(reply.grounded_answer or reply.answer)
        if _ASKS_COMMERCIAL.search(question) and model.commercial_use in ("yes", "no"):
            if _polarity(lead) == model.commercial_use:
                key["yes_no"] = model.commercial_use
        else:
            stated = _lead_numbers(lead)
            for kind, asks in (("context", _ASKS_CONTEXT), ("experts", _ASKS_EXPERTS), ("params", _ASKS_PARAMS)):
                if asks.search(question) and stated[kind]:
                    key["numbers"] = [{"kind": kind, "values": stated[kind]}]
                    break
    return key


def _lead_numbers(lead: str) -> dict[str, list[float]]:
    from ..constraints import normalize  # noqa: PLC0415

    text = normalize(lead)
    found: dict[str, list[float]] = {"context": [], "params": [], "experts": []}
    for match in _CONTEXT_NUMBER.finditer(text):
        if match.group(1):
            found["context"].append(float(match.group(1)) * 1000)
        elif match.group(4):
            found["context"].append(float(match.group(4).replace(",", "")))
        else:
            found["context"].append(float(match.group(2)) * (1_000_000 if match.group(3) == "m" else 10_000))
    for match in _PARAM_NUMBER.finditer(text):
        scale = {"b": 1, "billion": 1, "m": 0.001, "million": 0.001, "t": 1000, "trillion": 1000, "億": 0.1}
        found["params"].append(float(match.group(1)) * scale[match.group(2)])
    for match in _EXPERT_NUMBER.finditer(text):
        found["experts"].append(float(match.group(1)))
    return found


def _coverage_problems(text: str, reply: Reply, catalog: Catalog) -> list[str]:
    from ..constraints import find_mentions  # noqa: PLC0415

    key = answer_key(reply, catalog)
    if not key:
        return []
    lead = _first_sentence(text)
    problems: list[str] = []
    if "yes_no" in key:
        said = _polarity(lead)
        if said != key["yes_no"]:
            shown = "neither yes nor no" if said is None else f"'{said}'"
            problems.append(f"the first sentence says {shown}; the facts say '{key['yes_no']}'")
    for number in key.get("numbers") or []:
        kind, values = number.get("kind"), [float(v) for v in number.get("values") or []]
        stated = _lead_numbers(lead).get(str(kind), [])
        tolerance = 0.06 if kind == "params" else 0.05
        if not any(_close(v, values, tolerance) for v in stated):
            problems.append(f"the first sentence does not state the {kind} the facts give")
    if key.get("models") or key.get("families"):
        named, families, _closed = find_mentions(lead, catalog)
        wanted_models = set(key.get("models") or [])
        wanted_families = set(key.get("families") or [])
        named_families = set(families) | {catalog.by_id[m].family for m in named if m in catalog.by_id}
        if not (set(named) & wanted_models or named_families & wanted_families):
            names = [catalog.by_id[m].name for m in wanted_models if m in catalog.by_id]
            names += [catalog.family_by_id[f].name for f in wanted_families if f in catalog.family_by_id]
            problems.append(f"the first sentence does not name the answer ({', '.join(sorted(names))})")
    return problems


# ------------------------------------------------------------------ contradiction


_COMMERCIAL_NO = re.compile(
    r"(?:不能|不可以|不可|無法|不得|禁止|不允許|不准|不行|沒辦法)(?:拿來|用於|用在|用作|做|作為)?(?:商用|商業)"
    r"|非商(?:業|用)|僅限(?:非商業|研究)|只能(?:研究|非商業)|商用(?:是)?(?:不行|不可以|不允許|受限|禁止)"
    r"|non-?commercial|not (?:be )?(?:used |usable )?(?:for )?commercial|no commercial use"
    r"|commercial use (?:is )?(?:not|n't|never) (?:allowed|permitted|ok)|cannot be used commercially"
    r"|can't be used commercially|research[- ]only|does not allow commercial|doesn't allow commercial"
    r"|not allowed (?:for )?commercial|not (?:licensed|cleared) for commercial"
)
_COMMERCIAL_YES = re.compile(
    r"(?<![不無非沒])(?:可以|可|能|允許)(?:拿來|用於|用在)?(?:商用|商業使用)|商用(?:沒問題|無虞|可行|[OoＯ][Kk])"
    r"|commercial use (?:is )?(?:ok|allowed|permitted|fine)|commercially usable|can be used commercially"
    r"|(?<!not )(?<!n't )allows? commercial|commercial ok|free for commercial|(?<!non-)(?<!non)commercial-friendly"
)


def _licence_patterns(catalog: Catalog) -> list[tuple[str, re.Pattern[str]]]:
    """(licence id, pattern) for licences whose id is distinctive enough to spot in text."""
    patterns: list[tuple[str, re.Pattern[str]]] = []
    seen: set[str] = set()
    for model in catalog.models:
        licence = model.licence.id
        if licence in seen:
            continue
        seen.add(licence)
        body = re.escape(licence.lower()).replace(r"\-", r"[\s\-]?").replace(r"\.", r"\.")
        patterns.append((licence, re.compile(rf"(?<![a-z0-9]){body}(?![a-z0-9])")))
    return patterns


def _licence_family(licence: str) -> str:
    """Apache-2.0 -> apache, CC-BY-NC-4.0 -> ccbync: versions and spelling do not matter."""
    return re.sub(r"[\d.\-\s]+", "", licence.lower()).replace("license", "").replace("licence", "")


def _claims_problems(normalised: str, mentions: list[Any], catalog: Catalog, compact_facts: str) -> list[str]:
    """Commercial-use and licence claims, each owned by the nearest model name before it
    (or right after it), must agree with that model (or every model of that family).
    A claim copied with its context from the facts stands ("另有以 Apache 2.0 釋出的…")."""
    problems: list[str] = []
    licences = _licence_patterns(catalog)
    for sentence in _SENTENCE.finditer(normalised):
        s_start, s_end = sentence.span()
        inside = [m for m in mentions if s_start <= m.start < s_end]
        if not inside:
            continue
        claims: list[tuple[int, int, str, str]] = []
        for match in _COMMERCIAL_NO.finditer(normalised, s_start, s_end):
            claims.append((match.start(), match.end(), "commercial", "no"))
        for match in _COMMERCIAL_YES.finditer(normalised, s_start, s_end):
            if not any(c[0] <= match.start() < c[1] for c in claims):
                claims.append((match.start(), match.end(), "commercial", "yes"))
        for licence, pattern in licences:
            for match in pattern.finditer(normalised, s_start, s_end):
                if any(m.start <= match.start() < m.end for m in inside):
                    continue  # "Llama 3" the model, not the Llama-3 licence
                claims.append((match.start(), match.end(), "licence", licence))
        for start, end, kind, value in claims:
            owner = _nearest_owner(inside, start, end)
            if owner is None:
                continue
            owned = _family_models(catalog, owner.target, owner.kind)
            if not owned:
                continue
            label = _owner_name(catalog, owner)
            shown = normalised[start:end]
            if _copied(normalised[max(s_start, start - 8) : end], compact_facts):
                continue
            if kind == "commercial":
                allowed = {m.commercial_use for m in owned}
                if value == "no" and allowed <= {"yes"}:
                    problems.append(f"{label}: says '{shown}', but the catalog says commercial use is allowed")
                elif value == "no" and owner.kind == "model" and allowed <= {"conditional"}:
                    problems.append(
                        f"{label}: says '{shown}', but the catalog allows commercial use under conditions"
                    )
                elif value == "yes" and allowed <= {"no"}:
                    problems.append(f"{label}: says '{shown}', but the catalog says no commercial use")
            else:
                families = {_licence_family(m.licence.id) for m in owned}
                if _licence_family(value) not in families:
                    problems.append(f"{label}: '{shown}' is not its licence in the catalog")
    return problems


# ------------------------------------------------------------------ regurgitation


def _rule_sentences() -> list[str]:
    pieces = re.split(r"[\n。；;]|\.\s", SYSTEM_RULES)
    return [_compact(re.sub(r"^\s*\d+\.\s*", "", p)) for p in pieces if len(_compact(p)) >= 10]


_RULES = _rule_sentences()


def _regurgitation_problems(text: str) -> list[str]:
    problems: list[str] = []
    for line in text.splitlines():
        stripped = line.strip().lstrip("-*• ").strip()
        for label in FACT_LABELS:
            if stripped.startswith(label) or stripped.startswith(label.rstrip(":：") + ":"):
                problems.append(f"repeats the prompt's '{label}' label")
    if "型錄・" in text or "原文・" in text or "Catalog・" in text:
        problems.append("repeats the sources' labels")
    compact = _compact(text)
    for rule in _RULES:
        if rule[:16] in compact:
            problems.append("repeats the system prompt")
            break
    return list(dict.fromkeys(problems))


# ------------------------------------------------------------------ all checks


def validate_answer(text: str, reply: Reply, prompt: Prompt, catalog: Catalog) -> Validation:
    """Check an LLM answer against the facts it was given.

    Args:
        text: the (converted) LLM answer.
        reply: the grounded reply (shortlist, mentioned models, sources, grounded answer).
        prompt: the prompt actually sent (its facts_text and source_count).
        catalog: the catalog numbers and claims are checked against.

    Returns:
        `Validation(ok, problems)`; problems are short English sentences naming the
        model, the number, the claim or the citation at fault.
    """
    from ..constraints import mention_spans, normalize  # noqa: PLC0415

    if not text.strip():
        return Validation(False, ["empty answer"])
    problems = _names_problems(text, reply, prompt, catalog)
    problems += _regurgitation_problems(text)
    problems += _coverage_problems(text, reply, catalog)
    allowed_text = prompt.facts_text + "\n" + (reply.grounded_answer or "")
    # Numbers next to a model name (same sentence, after the name, or right before it).
    normalised = normalize(text)
    fact_numbers = _numbers_in(normalize(allowed_text))
    compact_facts = _compact(normalize(allowed_text))
    mentions = [m for m in mention_spans(normalised, catalog) if m.kind in ("model", "family")]
    for sentence in _SENTENCE.finditer(normalised):
        s_start, s_end = sentence.span()
        inside = [m for m in mentions if s_start <= m.start < s_end]
        if not inside:
            continue
        checks: list[tuple[int, int, str, float | str]] = []
        for match in _PARAM_NUMBER.finditer(normalised, s_start, s_end):
            unit = match.group(2)
            if unit in ("m", "million") and _CONTEXT_CUE.match(normalised, match.end()):
                continue
            if unit == "億" and not _PARAMS_CUE.match(normalised, match.end()):
                continue  # 7 億 users is not a parameter count
            scale = {
                "b": 1,
                "billion": 1,
                "m": 0.001,
                "million": 0.001,
                "t": 1000,
                "trillion": 1000,
                "億": 0.1,
            }[unit]
            checks.append((match.start(), match.end(), "params", float(match.group(1)) * scale))
        for match in _CONTEXT_NUMBER.finditer(normalised, s_start, s_end):
            if match.group(1):
                value = float(match.group(1)) * 1000
            elif match.group(4):
                value = float(match.group(4).replace(",", ""))
            else:
                value = float(match.group(2)) * (1_000_000 if match.group(3) == "m" else 10_000)
            checks.append((match.start(), match.end(), "context", value))
        for match in _EXPERT_NUMBER.finditer(normalised, s_start, s_end):
            checks.append((match.start(), match.end(), "experts", float(match.group(1))))
        for match in _MEASURE_NUMBER.finditer(normalised, s_start, s_end):
            checks.append((match.start(), match.end(), "measure", match.group(1)))
        for start, end, kind, value in checks:
            if any(m.start <= start < m.end for m in inside):
                continue  # part of a name, like the 20b in gpt-oss-20b
            # The nearest name owns the number: "355B 參數量，略勝 1T 的 Kimi K2".
            owner = _nearest_owner(inside, start, end)
            if owner is None:
                continue
            owned = _family_models(catalog, owner.target, owner.kind)
            others = [x for m in inside if m is not owner for x in _family_models(catalog, m.target, m.kind)]
            label = _owner_name(catalog, owner)
            shown = normalised[start:end]
            in_facts = _number(shown) in fact_numbers
            if _copied(normalised[max(s_start, start - 8) : end], compact_facts):
                continue  # copied with its context from the facts ("不在 ≤ 4B 範圍", "Mamba 7B")
            if kind == "params":
                contexts_m = [float(m.context_tokens) / 1e9 for m in owned if m.context_tokens]
                if shown.endswith("m") and _close(float(value), contexts_m, 0.05):
                    continue  # "10M" after a model name can be its context length
                if not _close(float(value), _param_values(owned), 0.06) and not (
                    in_facts and _close(float(value), _param_values(others), 0.06)
                ):
                    problems.append(f"{label}: '{shown}' does not match the catalog's parameter count")
            elif kind == "context":
                contexts = [float(m.context_tokens) for m in owned if m.context_tokens]
                other_contexts = [float(m.context_tokens) for m in others if m.context_tokens]
                if (
                    contexts
                    and not _close(float(value), contexts, 0.05)
                    and not (in_facts and _close(float(value), other_contexts, 0.05))
                ):
                    problems.append(f"{label}: '{shown}' does not match the catalog's context length")
            elif kind == "experts":
                experts = [float(m.experts) for m in owned if m.experts]
                if float(value) not in experts:
                    problems.append(f"{label}: '{shown}' does not match the catalog's number of experts")
            elif not in_facts:
                problems.append(f"{label}: '{shown}' is not in the facts")

    problems += _claims_problems(normalised, mentions, catalog, compact_facts)
    for placeholder in dict.fromkeys(_PLACEHOLDER.findall(text)):
        problems.append(f"cites a placeholder {placeholder} instead of a source number")
    for number in _CITATION.findall(text):
        if not 1 <= int(number) <= len(reply.sources):
            problems.append(f"cites [{number}], but there are only {len(reply.sources)} sources")
    return Validation(not problems, list(dict.fromkeys(problems)))


# ------------------------------------------------------------------ the labelled set


def load_labels(path: Any = None) -> list[dict[str, Any]]:
    """The validator's labelled answers (`eval/validator_labels.jsonl`): each row has the
    question `q`, optional `history`, the `answer` text, `expect` ("pass"/"fail") and a `kind`."""
    import json  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    from ..config import PROJECT_ROOT  # noqa: PLC0415

    source = Path(path) if path is not None else PROJECT_ROOT / "eval" / "validator_labels.jsonl"
    rows = []
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rows.append(json.loads(line))
    return rows


def validator_report(assistant: Any, path: Any = None) -> dict[str, Any]:
    """Precision and recall of `validate_answer` on the labelled set.

    A "positive" is a rejected answer: precision is the share of rejected answers that
    were labelled bad, recall the share of bad answers that were rejected.

    Returns:
        {labels, precision, recall, tp, fp, fn, tn, contradictions_accepted, mistakes}.
    """
    from .prompt import build_prompt  # noqa: PLC0415

    counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    mistakes: list[dict[str, Any]] = []
    contradictions_accepted = 0
    rows = load_labels(path)
    for row in rows:
        history = row.get("history") or []
        reply = assistant.grounded(row["q"], history)
        prompt = build_prompt(reply, history, lambda ms: sum(len(m["content"]) for m in ms), 1_000_000, 384)
        result = validate_answer(row["answer"], reply, prompt, assistant.catalog)
        rejected = not result.ok
        bad = row["expect"] == "fail"
        counts[("t" if rejected == bad else "f") + ("p" if rejected else "n")] += 1
        if bad and not rejected and row.get("kind") == "contradiction":
            contradictions_accepted += 1
        if rejected != bad:
            mistakes.append({"id": row.get("id"), "expect": row["expect"], "problems": result.problems})
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    return {
        "labels": len(rows),
        "precision": round(tp / (tp + fp), 3) if tp + fp else 1.0,
        "recall": round(tp / (tp + fn), 3) if tp + fn else 1.0,
        **counts,
        "contradictions_accepted": contradictions_accepted,
        "mistakes": mistakes,
    }
