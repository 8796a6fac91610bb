"""Checks an LLM answer for meaning, claim by claim, against the catalog.

What the validator needs (`Grounding`, so that it is easy to wire to any answer engine):
the question, the conversation history, the grounded answer's text, the `Catalog`, and
optionally the plan's subjects and answer kind (and the number of citable sources, and
the text of untrusted user documents). `Grounding.from_reply` builds it from a `Reply`.

Checks (each failure is one short English sentence in `Validation.problems`):

- **Form.** Not empty; ends on a complete sentence (not cut mid-sentence); is an answer
  (not the question echoed back, not a bare list marker with a citation); in the
  question's language; no prompt labels (事實：, Facts:, 型錄・) or rules repeated.
- **Names.** Every catalog model or family named is in the facts, the question, the
  conversation, or related to them (same family, base model); a model-like name the
  catalog does not know fails ("GPT-5 Turbo Max", "Phi-4-Pro": an invented size or
  edition of a real model); the worked examples' fictional models fail as copying.
- **Claims** (`claims.py`): commercial use, "no restrictions", licence, parameters,
  context, experts, number of languages, memory, speed, scores, release year,
  architecture, maker and country, each checked against the size or model it names,
  pronouns against the subject in play.
- **The answer comes first.** For a yes/no question the answer's verdict matches the
  grounded one; for a number, the first sentences state it; for "which model", the first
  sentence names one of the grounded answer's models.
- **Citations.** Every [n] exists; a literal [n] or [m] fails.

Errors of the backend are never validation problems: the run reports them separately.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..knowledge import Catalog
from .claims import (
    CheckContext,
    Entity,
    Facts,
    Reading,
    catalog_name_keys,
    check_claims,
    cues,
    mentions,
    normalize,
    number_key,
    read_answer,
    sentences,
)
from .prompt import EXAMPLE_EN, EXAMPLE_MODELS, EXAMPLE_ZH, FACT_LABELS, SYSTEM_RULES

if TYPE_CHECKING:
    from ..compose import Reply


@dataclass
class Validation:
    ok: bool
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": list(self.problems)}


@dataclass
class Grounding:
    """Everything the validator checks an answer against.

    Args:
        question: the user's question (cleaned).
        grounded: the grounded answer's text (the facts the model was given come from it).
        history: earlier turns ({role, content}).
        language: "en" or "zh-TW" (default: read from the question).
        subjects: the plan's subjects (objects with kind, id, name, variant), if known.
        answer_kind: the plan's answer kind (model, yes_no, number, list, verdict,
            not_covered, help, fact, reason), if known.
        source_count: how many sources [n] may cite (default: the largest [n] of the
            grounded answer).
        untrusted: text of user-supplied documents among the sources: a name found only
            there must not reach the answer.
        constraints: the plan's constraints (default: read from the question).
    """

    question: str
    grounded: str
    history: Sequence[dict[str, str]] = ()
    language: str = ""
    subjects: Sequence[Any] = ()
    answer_kind: str | None = None
    source_count: int | None = None
    untrusted: str = ""
    constraints: Any = None

    @classmethod
    def from_reply(cls, reply: Reply, history: Sequence[dict[str, str]] | None = None) -> Grounding:
        plan = getattr(reply, "plan", None)
        subjects = list(getattr(plan, "subjects", None) or [])
        kind = getattr(plan, "answer_kind", None) or _answer_kind_from_route(
            getattr(reply, "route", "") or getattr(plan, "intent", ""), reply.question, subjects
        )
        sources = list(getattr(reply, "sources", []) or [])
        return cls(
            question=reply.question,
            grounded=reply.grounded_answer or reply.answer,
            history=[t for t in (history or []) if isinstance(t, dict)],
            language=reply.language,
            subjects=subjects,
            answer_kind=kind,
            source_count=len(sources),
            untrusted=" ".join(
                str(getattr(p, "text", "")) for p in sources if getattr(p, "source", "") not in ("article", "catalog")
            ),
            constraints=getattr(plan, "constraints", None) or getattr(reply, "constraints", None),
        )


_ROUTE_KIND = {
    "recommend": "model", "rank": "model", "lookup": "model", "list": "list", "newest": "model", "compare": "model",
    "why_not": "reason", "false_premise": "verdict", "fit": "fact", "fact": "fact",
}
_ASKS_COMMERCIAL = re.compile(r"商用|商業|營利|賺錢|產品|commercial|in a product|for business|make money|production|sell", re.I)
_ASKS_LICENCE = re.compile(r"授權|條款|限制|licen[cs]e|terms|restrict", re.I)
_ASKS_NUMBER = {
    "context": re.compile(r"上下文|context|多少 ?token|how many tokens|視窗|window", re.I),
    "experts": re.compile(r"專家|experts?", re.I),
    "params": re.compile(r"參數|多大|幾 ?b\b|parameters?|how big|how large|size", re.I),
    "languages": re.compile(r"幾種語言|多少種語言|多少語言|how many languages", re.I),
}


def _answer_kind_from_route(route: str, question: str, subjects: Sequence[Any]) -> str:
    kind = _ROUTE_KIND.get(route, "fact")
    if route == "fact" and [getattr(s, "kind", "") for s in subjects] == ["model"]:
        if _ASKS_COMMERCIAL.search(question):
            return "yes_no"
        if any(p.search(question) for p in _ASKS_NUMBER.values()):
            return "number"
    return kind


# ------------------------------------------------------------------ helpers


_TUNING_SUFFIX = re.compile(r"(?:[\s\-_](?:base|instruct|it|chat|hf|gguf|fp16|bf16|q4_k_m|q8_0|awq|gptq|mlx))+$", re.I)


def _name_key(text: str) -> str:
    """A name as names are compared, without a training-stage or file-format suffix
    ("Llama3.1-8B-Base" is Llama 3.1 8B)."""
    from .claims import _name_key as key  # noqa: PLC0415

    return key(_TUNING_SUFFIX.sub("", text.strip()))


def _compact(text: str) -> str:
    """Text without case, spaces or punctuation, for "is this copied from the facts?" A
    point or comma between digits stays: 14.7B is not 147B."""
    text = re.sub(r"(?<=\d)[.,](?=\d)", "\x00", text.lower())
    return re.sub(r"[\s\-_*`.,:;!?()\[\]（）「」、，。：；！？]+", "", text).replace("\x00", ".")


_CITATION = re.compile(r"\[(\d{1,3})\]")
_PLACEHOLDER = re.compile(r"\[(?:[a-zA-Z]|[a-zA-Z]\d?|\.\.\.|…)\]")
_NUMBER_TEXT = re.compile(r"\d+(?:\.\d+)?")


def _numbers(text: str) -> set[str]:
    keys = set()
    for raw in re.findall(r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?", normalize(text)):
        keys.add(number_key(float(raw.replace(",", ""))))
    return keys


def _subject_entities(grounding: Grounding, catalog: Catalog) -> list[Entity]:
    """The subject in play before the answer names one: the plan's subjects, else the
    question's names, else the latest names of the conversation."""
    found: list[Entity] = []
    for subject in grounding.subjects:
        kind = getattr(subject, "kind", "")
        if kind == "model" and getattr(subject, "id", "") in catalog.by_id:
            found.append(Entity("model", subject.id, getattr(subject, "variant", None)))
        elif kind == "family" and getattr(subject, "id", "") in catalog.family_by_id:
            found.append(Entity("family", subject.id))
    if found:
        return list(dict.fromkeys(found))
    texts = [grounding.question] + [
        str(t.get("content", "")) for t in reversed(list(grounding.history)) if isinstance(t, dict)
    ]
    for text in texts:
        names = [m for m in mentions(normalize(text), catalog) if m.kind in ("model", "family")]
        if names:
            return list(dict.fromkeys(Entity(m.kind, m.target, m.variant if m.kind == "model" else None) for m in names))
    return []


# ------------------------------------------------------------------ names


_EXTRA_BRANDS = (
    "gpt claude gemini grok llama mistral mixtral qwen qwq phi gemma deepseek yi falcon bloom vicuna baichuan internlm "
    "chatglm glm ernie hunyuan minimax kimi nemotron olmo granite aya exaone jamba dbrx starcoder codellama wizardlm "
    "openchat zephyr solar orca stablelm smollm command codestral devstral magistral ministral pixtral palm bard o1 o3 o4"
).split()
"""Well-known model brands outside the catalog, so an invented "GPT-5 Turbo Max" or "Llama 9"
is caught even when the catalog does not know the name."""

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
    "A100 H100 H200 L4 T4 V100 MI300 DDR4 DDR5 LPDDR5 NVME SSD ARM X86 AVX2 AVX512 NEON UTF-8 X86-64 SHA-256 "
    "GSM8K MMLU MATH-500 AIME SWE-BENCH GPQA MBPP BBH".split()
)


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
        rf"(?<![A-Za-z0-9])(?i:{alternatives})[\s\-_]?[vV]?\d[\w.\-]*(?:\s+(?:[A-Z][a-z]+|\d+[bBmMkK]))*"
    )


def _related_models(catalog: Catalog, model_ids: set[str], family_ids: set[str]) -> tuple[set[str], set[str]]:
    """Models and families related to the allowed ones: the same family, a base model (either
    way), and a family whose name is part of a model's name ("DeepSeek-R1-Distill-Qwen")."""
    families = set(family_ids) | {catalog.by_id[m].family for m in model_ids if m in catalog.by_id}
    for model_id in model_ids:
        model = catalog.by_id.get(model_id)
        if model is None:
            continue
        key = _compact(model.name + " " + " ".join(model.aliases))
        for family in catalog.families:
            if any(len(_compact(n)) >= 3 and _compact(n) in key for n in (family.name, *family.aliases)):
                families.add(family.id)
    models = set(model_ids)
    for model in catalog.models:
        if model.family in families:
            models.add(model.id)
        if model.base_model and (model.base_model in model_ids or model.id in model_ids):
            models |= {model.id, model.base_model}
    return models, families


def _constraints(grounding: Grounding, catalog: Catalog) -> Any:
    if grounding.constraints is not None:
        return grounding.constraints
    try:
        from ..constraints import parse_constraints  # noqa: PLC0415

        return parse_constraints(grounding.question, catalog)
    except Exception:
        return None


def _excluded_by_question(entity: Entity, constraints: Any, catalog: Catalog, facts: Facts) -> str | None:
    """Why the question's hard requirements rule a model (or the size named) out; None: they do not."""
    if constraints is None or entity.kind != "model":
        return None
    model = catalog.by_id.get(entity.id)
    sizes = facts.of(entity)
    if model is None or not sizes:
        return None
    if getattr(constraints, "commercial_required", False) and all(m.commercial_use == "no" for m in sizes):
        return "the question needs commercial use and it allows none"
    if model.family in (getattr(constraints, "avoid_families", None) or []):
        return "the question rules out its family"
    if model.country in (getattr(constraints, "avoid_countries", None) or []):
        return "the question rules out where it comes from"
    limit = getattr(constraints, "max_params_b", None)
    if limit and all(m.params_total_b > limit * 1.1 for m in sizes) and all(
        v.params_total_b > limit * 1.1 for m in sizes for v in m.sizes
    ):
        return f"the question asks for at most {limit:g}B"
    tasks = set(getattr(constraints, "tasks", None) or [])
    if "vision" in tasks and not any(set(m.modalities) & {"image", "video"} for m in sizes):
        return "the question needs image input and it takes none"
    for rule in catalog.request_rules:
        if rule.request in tasks and all(set(m.weakness_tags) & set(rule.excludes) for m in sizes):
            return f"the question asks for {rule.request} and the catalog notes {', '.join(sorted(set(sizes[0].weakness_tags) & set(rule.excludes)))}"
    return None


def _names_problems(answer: str, reading: Reading, grounding: Grounding, catalog: Catalog, facts: Facts) -> list[str]:
    problems: list[str] = []
    allowed_text = "\n".join(
        [grounding.grounded, grounding.question, *(str(t.get("content", "")) for t in grounding.history)]
    )
    allowed_mentions = mentions(normalize(allowed_text), catalog)
    allowed_models = {m.target for m in allowed_mentions if m.kind == "model"}
    allowed_models |= {getattr(s, "id", "") for s in grounding.subjects if getattr(s, "kind", "") == "model"}
    allowed_families = {m.target for m in allowed_mentions if m.kind == "family"}
    allowed_families |= {getattr(s, "id", "") for s in grounding.subjects if getattr(s, "kind", "") == "family"}
    related_models, related_families = _related_models(catalog, allowed_models, allowed_families)
    constraints = _constraints(grounding, catalog)

    for model_id in dict.fromkeys(m.target for m in reading.mentions if m.kind == "model"):
        name = catalog.by_id[model_id].name
        if model_id in allowed_models:
            continue
        if model_id not in related_models:
            problems.append(f"names a model that is not in the facts: {name}")
            continue
        reason = _excluded_by_question(Entity("model", model_id), constraints, catalog, facts)
        if reason:
            problems.append(f"names {name}, but {reason}")
    for family_id in dict.fromkeys(m.target for m in reading.mentions if m.kind == "family"):
        if family_id not in allowed_families and family_id not in related_families:
            problems.append(f"names a family that is not in the facts: {catalog.family_by_id[family_id].name}")
    # A closed model named in passing (「比 GPT-4o 小」) is no claim about the catalog: not checked.

    lowered = answer.lower()
    for example in EXAMPLE_MODELS:
        if example.split("-")[0].lower() in lowered:
            problems.append(f"copies the worked example: {example}")

    trusted = _compact(allowed_text)
    untrusted = _compact(grounding.untrusted)
    text = reading.text
    # An invented edition of a real model: "Phi-4 Pro", "Qwen3-Turbo".
    for mention in reading.mentions:
        if mention.kind not in ("model", "family"):
            continue
        suffix = cues("invented_suffix").at_start(text[mention.end : mention.end + 12])
        if suffix is None:
            continue
        candidate = text[mention.start : mention.end + suffix.end()].strip()
        if _name_key(candidate) not in _catalog_name_keys(catalog) and _compact(candidate) not in trusted:
            problems.append(f"names a variant that does not exist: {candidate}")

    # A name the alias index matched only because it ignores points: "SmolLM2-17B" is not SmolLM2-1.7B.
    for mention in reading.mentions:
        if mention.kind != "model" or not re.search(r"\d", text[mention.start : mention.end]):
            continue
        written = _name_key(text[mention.start : mention.end])
        model = catalog.by_id[mention.target]
        known = {_name_key(n) for n in (model.id, model.name, *model.aliases)}
        known |= {_name_key(n) for v in model.variants for n in (v.name, *v.aliases)}
        if written not in known and written.replace(".", "") in {k.replace(".", "") for k in known}:
            problems.append(f"names a variant that does not exist: {text[mention.start : mention.end]}")

    reported = " ".join(problems).lower()
    for match in _brand_pattern(catalog).finditer(answer):
        candidate = match.group().strip().rstrip(".,;:")
        if _compact(candidate) in trusted or _compact(candidate) in reported:
            continue
        found = [m for m in mentions(normalize(candidate), catalog)]
        if _name_key(candidate) in _catalog_name_keys(catalog) or (found and _covers(candidate, found)):
            continue  # a catalog name, checked above
        problems.append(f"names a model that is not in the catalog or the facts: {candidate}")
    reported = " ".join(problems).lower()
    for term in dict.fromkeys(_MODEL_LIKE.findall(answer)):
        term = term.rstrip(".-_")
        compact = _compact(term)
        if term.upper().replace(" ", "") in GENERIC_TERMS or compact in trusted or compact in _compact(reported):
            continue
        if any(_name_key(term) in name for name in _catalog_name_keys(catalog)):
            continue  # a catalog name, or a piece of one ("A3B" of Qwen3-30B-A3B)
        if any(example.split("-")[0].lower() in compact for example in EXAMPLE_MODELS):
            continue  # reported as copying
        problems.append(f"names a model-like term that is not in the trusted facts: {term}")
    for word in dict.fromkeys(_CAPS_WORD.findall(answer)):
        compact = _compact(word)
        if untrusted and compact in untrusted and compact not in trusted:
            problems.append(f"repeats a term from an untrusted document: {word}")
    return problems


def _catalog_name_keys(catalog: Catalog) -> frozenset[str]:
    return catalog_name_keys(catalog)


def _covers(candidate: str, found: list[Any]) -> bool:
    """Whether the catalog names found in `candidate` cover it (nothing invented left over)."""
    text = normalize(candidate)
    covered = [False] * len(text)
    for m in found:
        for i in range(m.start, min(m.end, len(text))):
            covered[i] = True
    rest = "".join(ch for ch, c in zip(text, covered, strict=False) if not c)
    return not re.search(r"[a-z]{2,}|\d", rest)


# ------------------------------------------------------------------ form


_TERMINAL = tuple("。！？.!?…」』)）\"'”’*`～~喔哦唷囉啦呢吧耶呀嘛")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•·]|\d{1,2}[.)、]|[（(]?\d{1,2}[）)])\s*")


def _form_problems(answer: str, grounding: Grounding, language: str) -> list[str]:
    problems: list[str] = []
    text = answer.strip()
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    # Cut off mid-sentence.
    last = re.sub(r"(?:\s*\[\d{1,3}\])+\s*$", "", lines[-1]).rstrip(" *_`") if lines else ""
    last_cited = last != (lines[-1].rstrip(" *_`") if lines else "")
    if last and not last.endswith(_TERMINAL):
        tail = normalize(last[-12:])
        if cues("dangling_end").search(tail) and cues("dangling_end").at_end(tail):
            problems.append("ends mid-sentence (cut off)")
        elif not (_LIST_ITEM.match(last) or last_cited or len(lines) > 1 and _LIST_ITEM.match(lines[-2] or "")):
            problems.append("ends without finishing its sentence")
    # No answer: the question echoed, a bare marker, a filler line.
    content = _CITATION.sub("", text)
    content = "\n".join(_LIST_ITEM.sub("", line) for line in content.splitlines())
    content = normalize(content)
    for match in reversed(list(cues("filler").finditer(content))):
        content = content[: match.start()] + content[match.end() :]
    body = _compact(content)
    question = _compact(normalize(grounding.question))
    if len(re.sub(r"\W", "", body)) < 4:
        problems.append("gives no answer (only markers, fillers or citations)")
    elif question and (body == question or (body in question) or (question in body and len(body) <= len(question) * 1.25)):
        problems.append("repeats the question instead of answering it")
    elif question and any(_compact(normalize(_LIST_ITEM.sub("", line))) == question for line in lines):
        problems.append("repeats the question in the answer")
    # The question's language.
    letters = re.findall(r"[A-Za-z]", text)
    han = re.findall(r"[\u3400-\u9fff]", text)
    if language == "en" and len(han) > max(8, 0.5 * len(letters)):
        problems.append("answers an English question in Chinese")
    elif language != "en" and len(letters) > 40 and len(han) < 0.08 * len(letters):
        problems.append("answers a Chinese question in English")
    return problems


def _rule_sentences() -> list[str]:
    """The rules' sentences and the worked examples' headers: an answer repeating one is
    repeating the prompt."""
    pieces = re.split(r"[\n。；;]|\.\s", SYSTEM_RULES)
    pieces += [example.splitlines()[0] for example in (EXAMPLE_ZH, EXAMPLE_EN)]
    return [_compact(re.sub(r"^\s*\d+\.\s*", "", p)) for p in pieces if len(_compact(p)) >= 8]


def _regurgitation_problems(text: str) -> list[str]:
    problems: list[str] = []
    for line in text.splitlines():
        stripped = line.strip().lstrip("-*• ").strip().lstrip("*").strip()
        for label in FACT_LABELS:
            if stripped.startswith(label) or stripped.startswith(label.rstrip(":：") + ":"):
                problems.append(f"repeats the prompt's '{label}' label")
    if "型錄・" in text or "原文・" in text or "Catalog・" in text or "catalog·" in text.lower():
        problems.append("repeats the sources' labels")
    compact = _compact(text)
    for rule in _RULES:
        if rule[:16] in compact:
            problems.append("repeats the system prompt")
            break
    return list(dict.fromkeys(problems))


_RULES = _rule_sentences()


# ------------------------------------------------------------------ the answer comes first


_YES_LEAD = re.compile(
    r"^\W{0,3}(?:有條件(?:地)?(?:可以|能|允許)?|可以|能|是的|是|對|沒錯|當然|確實|有的|有|行|ok\b|yes\b|yep\b|sure\b|certainly\b"
    r"|absolutely\b|of course\b|correct\b|conditionally\b|with conditions\b)",
    re.I,
)
_NO_LEAD = re.compile(
    r"^\W{0,3}(?:不行|不能|不可以|不可|無法|沒辦法|不是|不對|不會|否|沒有|很可惜|可惜|no\b|nope\b|not\b|unfortunately\b|sadly\b"
    r"|it cannot\b|it can't\b)",
    re.I,
)
_CLAUSE = re.compile(r"[^，,：:；;。！？!?\n—]+")


def _lead(text: str, count: int = 2) -> str:
    """The first `count` sentences of an answer, normalised (Markdown and an 「回答：」 label
    removed; a bare 「可以。」 or a heading line brings the next line along)."""
    body = re.sub(r"[*_`#>]+", "", text).strip()
    body = re.sub(r"^\s*(?:回答|答|answer)\s*[:：]\s*", "", body, flags=re.I)
    lines = [_LIST_ITEM.sub("", line).strip() for line in body.splitlines() if line.strip()]
    if not lines:
        return ""
    lead = lines[0]
    if (len(re.sub(r"\W", "", lead)) < 8 or lead.endswith(("：", ":"))) and len(lines) > 1:
        lead += " " + lines[1]
    normalised = normalize(lead)
    spans = sentences(normalised)[:count]
    return normalised[: spans[-1][1]] if spans else normalised


def _particle(text: str) -> str | None:
    if _NO_LEAD.match(text):
        return "no"
    if _YES_LEAD.match(text):
        return "yes"
    return None


def _polarity(lead: str, subjects: list[Entity], catalog: Catalog, about_commercial: bool) -> str | None:
    """"yes" or "no": a leading 「可以」/「有條件可以」/「不行」/Yes/No; else the first
    commercial-use claim (when the question is about commercial use: a conditional "needs
    a separate licence above 700M users" is a yes with conditions); else a short clause
    that is only a yes or a no (「至於商用，R1 是 MIT 授權，可以。」)."""
    said = _particle(lead)
    if said:
        return said
    if about_commercial:
        reading = read_answer(lead, catalog, subjects)
        for claim in reading.claims:
            if claim.kind == "commercial":
                return "yes" if claim.qualifier == "conditional" else claim.value
            if claim.kind == "unrestricted":
                return "yes"
    for clause in _CLAUSE.findall(lead):
        clause = clause.strip()
        if clause and len(re.sub(r"\W", "", clause)) <= 4:
            said = _particle(clause)
            if said:
                return said
    return None


_EXCLUDED_HEADING = re.compile(r"不建議|已排除|排除|不符合|excluded|not recommended|ruled out|does not meet|do not meet")


def answer_key(grounding: Grounding, catalog: Catalog) -> dict[str, Any]:
    """What the first sentences must carry: {"kind", and "yes_no" / "numbers" / "models"}."""
    kind = grounding.answer_kind or "fact"
    subjects = _subject_entities(grounding, catalog)
    key: dict[str, Any] = {"kind": kind}
    grounded_lead = _lead(grounding.grounded, 1)
    if kind == "yes_no":
        polarity = _polarity(grounded_lead, subjects, catalog, bool(_ASKS_COMMERCIAL.search(grounding.question)))
        if polarity:
            key["yes_no"] = polarity
    elif kind == "number":
        for name, asks in _ASKS_NUMBER.items():
            if asks.search(grounding.question):
                key["numbers"] = {"kind": name}
                break
    elif kind in ("model", "list"):
        # The models the grounded answer puts forward: none when its first sentence names
        # none ("no model meets all of it"); never those it lists as excluded.
        grounded = normalize(grounding.grounded)
        cut = _EXCLUDED_HEADING.search(grounded)
        grounded = grounded[: cut.start()] if cut else grounded
        if not any(m.kind in ("model", "family") for m in mentions(_lead(grounding.grounded, 1), catalog)):
            grounded = ""
        names = [m for m in mentions(grounded, catalog) if m.kind in ("model", "family")]
        ids = list(dict.fromkeys((m.kind, m.target) for m in names))[:3]
        if ids:
            key["models"] = ids
    return key


_NOT_RECOMMENDED_BEFORE = re.compile(
    r"(?:不建議|不推薦|不要選|別選|排除|除了|不考慮|而不是|avoid|not|don't|do not|instead of|rather than|except|unlike|skip)[^。！？!?\n]{0,10}$"
)


def _coverage_problems(answer: str, reading: Reading, grounding: Grounding, catalog: Catalog, facts: Facts) -> list[str]:
    key = answer_key(grounding, catalog)
    subjects = _subject_entities(grounding, catalog)
    lead = _lead(answer)
    problems: list[str] = []
    # "I don't know" when the facts answer it.
    if cues("no_knowledge").search(lead) and not cues("no_data").search(normalize(grounding.grounded)):
        problems.append("says it does not know, but the facts answer the question")
    # The model a recommendation leads with must meet the question's requirements.
    constraints = _constraints(grounding, catalog)
    from .claims import _entity  # noqa: PLC0415

    first = next(
        (m for m in mentions(lead, catalog) if m.kind == "model" and not _NOT_RECOMMENDED_BEFORE.search(lead[: m.start])),
        None,
    )
    asked = {(s.kind, s.id) for s in subjects}
    recommended = first is not None and (
        cues("recommend_verb").at_end(lead[max(0, first.start - 12) : first.start])
        or (key["kind"] in ("model", "list") and ("model", first.target) not in asked)
    )
    if first is not None and recommended:
        entity = _entity(first, lead, catalog)
        reason = _excluded_by_question(entity, constraints, catalog, facts)
        if reason:
            problems.append(f"leads with {entity.label(catalog)}, but {reason}")
    if "yes_no" in key:
        said = _polarity(lead, subjects, catalog, bool(_ASKS_COMMERCIAL.search(grounding.question)))
        if said is None:
            # The verdict may come a little later ("Phi-4 採 MIT 授權，…。因此可以商用。").
            said = _polarity(_lead(answer, 4), subjects, catalog, bool(_ASKS_COMMERCIAL.search(grounding.question)))
        if said != key["yes_no"]:
            shown = "neither yes nor no" if said is None else f"'{said}'"
            problems.append(f"the answer says {shown} first; the facts say '{key['yes_no']}'")
    if "numbers" in key:
        # The number itself is checked against the subject's facts with the other claims.
        wanted = key["numbers"]["kind"]
        kinds = {c.kind for c in read_answer(_lead(answer, 3), catalog, subjects).claims}
        if wanted not in kinds and not (wanted == "params" and "params_range" in kinds):
            problems.append(f"the first sentences do not state the {wanted} asked for")
    if "models" in key:
        lead_names = {(m.kind, m.target) for m in mentions(lead, catalog) if m.kind in ("model", "family")}
        families = {("family", catalog.by_id[t].family) for k, t in lead_names if k == "model" and t in catalog.by_id}
        wanted = set(key["models"]) | {(s.kind, s.id) for s in subjects}
        wanted_families = {("family", catalog.by_id[t].family) for k, t in wanted if k == "model" and t in catalog.by_id}
        pronoun = bool(cues("pronoun").search(lead)) and any((s.kind, s.id) in wanted for s in subjects)
        if not (lead_names & (wanted | wanted_families) or families & (wanted | wanted_families) or pronoun):
            names = [
                catalog.by_id[t].name if k == "model" else catalog.family_by_id[t].name
                for k, t in key["models"]
                if (t in catalog.by_id if k == "model" else t in catalog.family_by_id)
            ]
            problems.append(f"the first sentence does not name the answer ({', '.join(names)})")
    return problems


# ------------------------------------------------------------------ all checks


def validate(answer: str, grounding: Grounding, catalog: Catalog) -> Validation:
    """Check an LLM answer (already converted to zh-TW) against the grounded facts.

    Returns:
        `Validation(ok, problems)`; problems are short English sentences naming the
        model, the claim, the number or the citation at fault.
    """
    if not answer or not answer.strip():
        return Validation(False, ["empty answer"])
    language = grounding.language or _question_language(grounding.question)
    subjects = _subject_entities(grounding, catalog)
    about_use = bool(_ASKS_COMMERCIAL.search(grounding.question) or _ASKS_LICENCE.search(grounding.question))
    reading = read_answer(answer, catalog, subjects, about_use)
    facts = Facts(catalog)
    problems = _form_problems(answer, grounding, language)
    problems += _regurgitation_problems(answer)
    problems += _names_problems(answer, reading, grounding, catalog, facts)
    problems += _coverage_problems(answer, reading, grounding, catalog, facts)

    known_text = "\n".join([grounding.grounded, grounding.question, *(str(t.get("content", "")) for t in grounding.history)])
    known = _numbers(known_text)
    compact_known = _compact(normalize(known_text))
    text = reading.text

    def copied(start: int, end: int) -> bool:
        window = _compact(text[max(0, start - 8) : end])
        words = sum(1 for ch in window if not (ch.isdigit() or ch in ".,"))
        return words >= 3 and window in compact_known

    def other_values(claim: Any, kind: str) -> list[float]:
        """Values of the other names in the claim's sentence: those before it (a comparison:
        「GLM-4.6 的上下文從 GLM-4.5 的 128k 加長到 200k」), or any of them when the facts
        state the number (a list: "355B 參數量，略勝 1T 的 Kimi K2")."""
        from .claims import contexts_of, params_of  # noqa: PLC0415

        stated = number_key(claim.value) in known
        values: list[float] = []
        for s_start, s_end in sentences(text):
            if not s_start <= claim.start < s_end:
                continue
            for m in reading.mentions:
                if not (s_start <= m.start < s_end and m.kind == "model") or not (stated or m.end <= claim.start):
                    continue  # other models only: a family name (often the maker's) is no other subject
                entity = Entity(m.kind, m.target, m.variant if m.kind == "model" else None)
                if claim.subject is not None and m.target == claim.subject.id:
                    continue  # the subject itself (or another size of it): not an "other" name
                for model in facts.of(entity):
                    values += params_of(model)[0] + params_of(model)[1] if kind == "params" else contexts_of(model)
        return values

    problems += check_claims(reading, CheckContext(catalog, facts, known, copied, other_values))
    for placeholder in dict.fromkeys(_PLACEHOLDER.findall(answer)):
        problems.append(f"cites a placeholder {placeholder} instead of a source number")
    limit = grounding.source_count
    if limit is None:
        limit = max([int(n) for n in _CITATION.findall(grounding.grounded)] or [0])
    for number in dict.fromkeys(_CITATION.findall(answer)):
        if not 1 <= int(number) <= limit:
            problems.append(f"cites [{number}], but there are only {limit} sources")
    return Validation(not problems, list(dict.fromkeys(problems)))


def _question_language(question: str) -> str:
    return "zh-TW" if re.search(r"[\u3400-\u9fff]", question) else "en"


def validate_answer(
    text: str, reply: Reply, catalog: Catalog, history: Sequence[dict[str, str]] | None = None
) -> Validation:
    """`validate` with the grounding taken from a grounded `Reply`."""
    return validate(text, Grounding.from_reply(reply, history), catalog)


def convert_answer(text: str) -> str:
    """The zh-TW conversion the live path applies to a model's stream, on a whole text."""
    from ..chinese import StreamConverter  # noqa: PLC0415

    converter = StreamConverter()
    return converter.feed(text) + converter.flush()


# ------------------------------------------------------------------ labelled sets


def load_labels(path: Any = None) -> list[dict[str, Any]]:
    """Labelled answers (`eval/validator_labels*.jsonl`): each row has the question `q`,
    optional `history`, the `answer` text, `expect` ("pass"/"fail") and a `kind`."""
    from ..config import PROJECT_ROOT  # noqa: PLC0415

    source = Path(path) if path is not None else PROJECT_ROOT / "eval" / "validator_labels.jsonl"
    return [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]


def validator_report(assistant: Any, path: Any = None) -> dict[str, Any]:
    """Precision and recall of the validator on a labelled set, run exactly as the live
    path runs it (the grounded reply for the question and history, the answer converted
    to zh-TW, then `validate`).

    A "positive" is a rejected answer: precision is the share of rejected answers that
    were labelled bad, recall the share of bad answers that were rejected. A row whose
    grounded answer the engine fails to produce is not scored; it is listed under
    `engine_errors`.
    """
    counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    mistakes: list[dict[str, Any]] = []
    contradictions_accepted = 0
    rows = load_labels(path)
    engine_errors: list[dict[str, Any]] = []
    for row in rows:
        history = row.get("history") or []
        try:
            reply = assistant.grounded(row["q"], history)
        except Exception as exc:  # the answer engine failed: not the validator's to score
            engine_errors.append({"id": row.get("id"), "error": f"{type(exc).__name__}: {exc}"})
            continue
        result = validate(convert_answer(row["answer"]), Grounding.from_reply(reply, history), assistant.catalog)
        rejected = not result.ok
        bad = row["expect"] == "fail"
        counts[("t" if rejected == bad else "f") + ("p" if rejected else "n")] += 1
        if bad and not rejected and row.get("kind") == "contradiction":
            contradictions_accepted += 1
        if rejected != bad:
            mistakes.append({"id": row.get("id"), "kind": row.get("kind"), "expect": row["expect"], "problems": result.problems})
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    return {
        "labels": len(rows) - len(engine_errors),
        "engine_errors": engine_errors,
        "precision": round(tp / (tp + fp), 3) if tp + fp else 1.0,
        "recall": round(tp / (tp + fn), 3) if tp + fn else 1.0,
        **counts,
        "contradictions_accepted": contradictions_accepted,
        "mistakes": mistakes,
    }
