"""The assistant's functions as named API endpoints and MCP tools.

Four typed, documented functions, served by the web app:

- `ask(question, history, language)`: the grounded answer (answer text, shortlist, why-not,
  sources, the parsed plan), the same engine as the chat without the local language model;
- `recommend(constraints, limit, language)`: the shortlist for typed constraints, from the
  ranking the answer engine uses (no question text is parsed);
- `estimate(model | params_b, quant, hardware | memory, ...)`: memory need, fit, placement and
  calibrated speed, the `python -m assistant estimate` arithmetic;
- `catalog_entry(name)`: a catalog entry as JSON, with the named size's own facts.

`register_api(demo, assistant)` adds them to the page's `gr.Blocks` (inside its `with` block)
as `/ask`, `/recommend`, `/estimate` and `/catalog_entry`, callable with `gradio_client`
(`Client(url).predict(..., api_name="/ask")`). Launched with `mcp_server=True`, Gradio serves
the same four as MCP tools at `/gradio_api/mcp/` (streamable HTTP; `/gradio_api/mcp/schema`
lists them); the page's own UI endpoints (chat, compare, hardware) stay off the MCP list.

The MCP routes ask for the same `ASSISTANT_AUTH` as the UI (`server.McpAuth`): Gradio's
sign-in protects its own routes only, not the MCP app it mounts. See docs/mcp.md.

Every function returns a JSON-ready dict. Bad input raises `ApiInputError` with a message
that says what to change; through Gradio that message (never a traceback) is what a
`gradio_client` or MCP client sees.
"""

from __future__ import annotations

import argparse
import difflib
import functools
import json
import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from .constraints import Constraints
from .knowledge import STRENGTH_TAGS, Catalog
from .messages import Message

if TYPE_CHECKING:
    import gradio as gr

    from .answer.ranking import Shortlist
    from .service import Assistant

log = logging.getLogger(__name__)

ENDPOINTS = ("ask", "recommend", "estimate", "catalog_entry")
"""The API names (`/ask`, ...) and MCP tool names this module serves."""

MAX_HISTORY_TURNS = 50
MAX_LIMIT = 20

MemoryKindName = Literal["ram", "vram", "unified"]
DeviceName = Literal["laptop", "desktop", "phone", "edge", "server"]
AnswerLanguage = Literal["auto", "zh-TW", "en"]
ReasonLanguage = Literal["zh-TW", "en"]


class ApiInputError(ValueError):
    """Input an endpoint cannot use; the message says what to change."""


class HistoryTurn(TypedDict):
    """One earlier turn of the conversation."""

    role: Literal["user", "assistant"]
    content: str


class RecommendConstraints(TypedDict, total=False):
    """What the model must satisfy; every key is optional.

    commercial: commercial use is required (models whose licence forbids it are excluded;
        "conditional" licences stay, with their conditions).
    open_source_only: only OSI-style open licences (MIT, Apache-2.0, ...).
    licences: only these licence ids (e.g. ["Apache-2.0", "MIT"]).
    hardware: a hardware preset ("RTX 4090", "M3 Max 64GB", "DDR5-5600 dual-channel"); sets
        the memory, its kind and bandwidth.
    memory_gb: memory per device in GB (per card for vram); overrides the preset's.
    memory_kind: "ram", "vram" (discrete GPUs) or "unified" (Apple silicon); default "ram".
    gpu_count: identical GPUs (vram only); the model is split across them.
    device: "laptop", "desktop", "phone", "edge" or "server" (ranks small models up for
        laptop, phone, edge when no memory is given).
    tasks: strength tags the model must be known for: coding, reasoning, vision,
        long-context, multilingual, chinese, edge, tool-use, low-refusal,
        uncensored-history, general, efficiency, fine-tuning-base, rag, speech, math.
    languages: languages the texts are in (ISO codes): "zh" asks for Chinese, "zh-TW" /
        "zh-Hant" for Traditional Chinese (models that drift into Simplified are excluded),
        any other code except "en" for a multilingual model.
    low_latency: fast responses matter (models known to be slow are excluded).
    max_params_b: at most this many billion parameters (total).
    min_params_b: at least this many billion parameters (total).
    min_context_tokens: a context window of at least this many tokens.
    avoid_countries: ISO 3166 codes of makers' countries to avoid (e.g. ["CN"]).
    avoid_families: families or makers to avoid (catalog family ids or vendor names,
        e.g. ["qwen", "Meta"]).
    prefer_families: families or makers to rank up.
    quant: the quantisation to judge fit at (e.g. "Q4_K_M", "Q8_0"); default: the best
        that fits.
    """

    commercial: bool
    open_source_only: bool
    licences: list[str]
    hardware: str
    memory_gb: float
    memory_kind: MemoryKindName
    gpu_count: int
    device: DeviceName
    tasks: list[str]
    languages: list[str]
    low_latency: bool
    max_params_b: float
    min_params_b: float
    min_context_tokens: int
    avoid_countries: list[str]
    avoid_families: list[str]
    prefer_families: list[str]
    quant: str


# ---------------------------------------------------------------- adapters
# The one place each endpoint meets the engine; a change of engine API changes only these.


def shortlist_adapter(catalog: Catalog, constraints: Constraints, limit: int) -> Shortlist:
    """The answer engine's ranking (`assistant.answer.ranking.shortlist`) for typed constraints:
    hard filters, then cited capability for the task."""
    from .answer.ranking import default_capabilities, shortlist  # noqa: PLC0415 - the engine loads on first use

    return shortlist(catalog, constraints, default_capabilities(), mentioned=constraints.mentioned_models, limit=limit)


def estimate_adapter(catalog_path: Any, fields: dict[str, Any]) -> dict[str, Any]:
    """`assistant.estimate.run` on the given fields (its flag names, without dashes).

    The namespace starts from the estimate command's own defaults, so a flag added there
    keeps its default here; raises ValueError with a user-facing message.
    """
    from . import estimate as estimate_cli  # noqa: PLC0415

    parser = argparse.ArgumentParser(add_help=False)
    estimate_cli.add_arguments(parser)
    args = parser.parse_args([])
    for key, value in fields.items():
        setattr(args, key, value)
    return estimate_cli.run(args, catalog_path)


# ---------------------------------------------------------------- the functions


class AssistantAPI:
    """The four endpoint functions, bound to one assistant (testable without a server)."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.catalog: Catalog = assistant.catalog

    # ------------------------------------------------------------ ask
    def ask(
        self,
        question: str,
        history: list[HistoryTurn] | None = None,
        language: AnswerLanguage = "auto",
    ) -> dict[str, Any]:
        """Answer a question about choosing an open-weight LLM from the knowledge base (a zh-TW article comparing model families and a sourced catalog), in Traditional Chinese or English.

        The answer is grounded: the first sentence answers the question (a model, yes/no with
        its condition, a number with its unit, or "not covered"); recommendations come with
        reasons, a why-not list and numbered sources [n]. No local language model is used.

        Args:
            question: the question, in Traditional Chinese or English, e.g. "我要商用、只有 16GB 筆電，想跑能寫程式的模型，選哪個？" or "Can I use Phi-4 commercially?"
            history: earlier turns, oldest first, as {"role": "user" | "assistant", "content": text}, so follow-ups such as "the second one?" or 「那 Qwen3 呢？」 resolve
            language: "auto" (answer in the question's language), "zh-TW" or "en"

        Returns:
            {question, language, answer, route, recommendations: [{id, name, variant, reason, fit, vendor, params_total_b, params_active_b, context_tokens, licence, commercial_use, verdict}], excluded: [{id, name, reason, constraint}], constraints, sources: [{id, source, title, text, score}], mode, notices, timings_ms, plan}
        """
        from .inputs import EmptyQuestion, clean_question  # noqa: PLC0415

        if not isinstance(question, str):
            raise ApiInputError("question must be a string")
        try:
            clean_question(question, self.assistant.settings.max_question_chars)
        except EmptyQuestion as exc:
            raise ApiInputError("question is empty: ask something, e.g. 'Which model fits in 16 GB?'") from exc
        turns = _history(history)
        lang = _choice(language, ("auto", "zh-TW", "en"), "language")
        reply = self.assistant.grounded(question, turns, None if lang == "auto" else lang)
        reply.grounded_answer = reply.answer
        return reply.to_dict()

    # ------------------------------------------------------------ recommend
    def recommend(
        self,
        constraints: RecommendConstraints,
        limit: int = 5,
        language: ReasonLanguage = "zh-TW",
    ) -> dict[str, Any]:
        """Shortlist open-weight LLMs that satisfy typed constraints, ranked by the assistant's selection engine, with the reason for each and why strong candidates were excluded.

        Args:
            constraints: an object with any of: commercial (bool), open_source_only (bool), licences (list of licence ids), hardware (a preset such as "RTX 4090" or "M3 Max 64GB"), memory_gb (per device), memory_kind ("ram" | "vram" | "unified"), gpu_count, device ("laptop" | "desktop" | "phone" | "edge" | "server"), tasks (coding, reasoning, vision, long-context, multilingual, chinese, edge, tool-use, low-refusal, uncensored-history, general, efficiency, fine-tuning-base, rag, speech, math), languages (ISO codes; "zh-TW" excludes models that drift into Simplified Chinese), low_latency (bool), max_params_b, min_params_b, min_context_tokens, avoid_countries (ISO codes such as "CN"), avoid_families and prefer_families (family ids or makers such as "qwen", "Meta"), quant (e.g. "Q4_K_M")
            limit: how many models to list, 1-20 (one per family)
            language: language of the reasons: "zh-TW" or "en"

        Returns:
            {as_of, constraints (as applied), recommendations: [{rank, id, name, variant, reason, fit, vendor, params_total_b, params_active_b, context_tokens, licence, commercial_use, verdict}], excluded: [{id, name, reason, constraint}], candidates (models passing every constraint), task_matches, note}
        """
        c, requests = self.constraints_from(constraints)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise ApiInputError(f"limit must be a whole number from 1 to {MAX_LIMIT}, got {limit!r}")
        lang = _choice(language, ("zh-TW", "en"), "language")
        result = shortlist_adapter(self.catalog, c, limit)
        recommendations = [{"rank": n, **r.to_dict(), "caveats": [m.text(lang) for m in result.caveats.get(r.model.id, [])]}
                           for n, r in enumerate(result.recommendations, 1)]
        note = ""
        if not recommendations:
            note = ("沒有模型符合全部條件；看 excluded 裡各模型的原因，放寬一項再試。" if lang != "en"
                    else "No model meets every constraint; see why under `excluded` and relax one.")
        elif result.count <= limit:
            note = (f"只有這 {result.count} 個模型符合全部條件。" if lang != "en"
                    else f"Only these {result.count} models meet every constraint.")
        applied = {k: v for k, v in c.to_dict().items() if v not in (None, False, [], "")}
        if requests:
            applied["requests"] = requests
        return {
            "as_of": self.catalog.as_of.isoformat(),
            "constraints": applied,
            "recommendations": recommendations,
            "excluded": [{**e.to_dict(), "reason": e.reason.text(lang)} for e in result.excluded],
            "candidates": result.count,
            "ranked_by": result.task,
            "note": note,
        }

    def constraints_from(self, given: Any) -> tuple[Constraints, list[str]]:
        """Typed constraints -> (`Constraints`, the request keys of the catalog's rules)."""
        if given is None:
            given = {}
        if not isinstance(given, dict):
            raise ApiInputError("constraints must be an object, e.g. {\"commercial\": true, \"memory_gb\": 16}")
        allowed = set(RecommendConstraints.__annotations__)
        unknown = sorted(set(given) - allowed)
        if unknown:
            raise ApiInputError(f"unknown constraint {', '.join(map(repr, unknown))}; allowed: {', '.join(sorted(allowed))}")
        c = Constraints()
        requests: list[str] = []
        c.commercial_required = _flag(given, "commercial")
        c.open_source_only = _flag(given, "open_source_only")
        c.licence_ids = self._licences(_strings(given, "licences"))
        c.device = _choice(given["device"], ("laptop", "desktop", "phone", "edge", "server"), "device") if given.get("device") is not None else None  # type: ignore[assignment]
        c.max_params_b = _number(given, "max_params_b")
        c.min_params_b = _number(given, "min_params_b")
        if c.max_params_b is not None and c.min_params_b is not None and c.min_params_b > c.max_params_b:
            raise ApiInputError("min_params_b is larger than max_params_b")
        context = _number(given, "min_context_tokens")
        c.min_context_tokens = int(context) if context is not None else None
        c.quant = self._quant(given.get("quant"))
        self._machine(given, c)
        tasks = _strings(given, "tasks")
        bad = [t for t in tasks if t not in STRENGTH_TAGS]
        if bad:
            raise ApiInputError(f"unknown task {', '.join(map(repr, bad))}; known: {', '.join(sorted(STRENGTH_TAGS))}")
        for code in _strings(given, "languages"):
            key = code.strip().lower().replace("_", "-")
            if key in ("zh-tw", "zh-hant", "zh-hk", "zh-mo"):
                c.languages.append("zh")
                c.traditional = True
            elif key == "zh" or key.startswith("zh-"):
                c.languages.append("zh")
            elif key:
                c.languages.append(key.split("-")[0])
        if "zh" in c.languages:
            tasks.append("chinese")
        if _flag(given, "low_latency"):
            tasks.append("efficiency")
        c.tasks = list(dict.fromkeys(tasks))
        c.languages = list(dict.fromkeys(c.languages))
        requests = [*c.tasks, *(["traditional-chinese"] if c.traditional else [])]
        countries = [x.strip().upper() for x in _strings(given, "avoid_countries")]
        bad = [x for x in countries if len(x) != 2 or not x.isalpha()]
        if bad:
            raise ApiInputError(f"avoid_countries takes ISO 3166 two-letter codes such as 'CN' or 'US', got {bad}")
        c.avoid_countries = list(dict.fromkeys(countries))
        c.avoid_families = self._families(_strings(given, "avoid_families"), "avoid_families")
        c.prefer_families = self._families(_strings(given, "prefer_families"), "prefer_families")
        return c, list(dict.fromkeys(requests))

    def _machine(self, given: dict[str, Any], c: Constraints) -> None:
        from .hardware import find_hardware, preset_named  # noqa: PLC0415

        kind = given.get("memory_kind")
        if kind is not None:
            kind = _choice(kind, ("ram", "vram", "unified"), "memory_kind")
        per_device = _number(given, "memory_gb")
        count = _number(given, "gpu_count")
        if count is not None and (count != int(count) or count < 1):
            raise ApiInputError(f"gpu_count must be a whole number of at least 1, got {given['gpu_count']!r}")
        gpus = int(count) if count is not None else None
        name = given.get("hardware")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise ApiInputError("hardware must be a preset name such as 'RTX 4090' or 'M3 Max 64GB'")
        if name:
            preset = preset_named(name)
            stated_gb, stated_count = None, 1
            if preset is None:
                match = find_hardware(name)
                if match is None:
                    raise ApiInputError(f"unknown hardware {name!r}; name a preset such as 'RTX 4090', 'M3 Max 64GB' or "
                                        "'DDR5-5600 dual-channel', or give memory_gb and memory_kind instead")
                preset, stated_count = match.preset, match.count
                stated_gb = match.memory_gb if match.size_stated else None
            if kind is not None and kind != preset.memory_kind:
                raise ApiInputError(f"{preset.name} has {preset.memory_kind} memory, not {kind}")
            kind = preset.memory_kind
            per_device = per_device or stated_gb or preset.memory_gb
            gpus = gpus or (stated_count if stated_count > 1 else None)
            c.hardware_name = preset.name
            c.bandwidth_gbs = preset.bandwidth_gbs
        if per_device is None:
            if kind is not None or gpus is not None:
                raise ApiInputError("memory_kind and gpu_count need memory_gb (or a hardware preset)")
            return
        kind = kind or "ram"
        if gpus is not None and gpus > 1 and kind != "vram":
            raise ApiInputError("gpu_count applies to vram (discrete GPUs) only")
        c.memory_kind = kind  # type: ignore[assignment]
        c.gpu_count = gpus
        c.memory_gb = per_device * (gpus or 1)  # the engine's budget is the total over the cards
        if kind == "vram" and (gpus or 1) > 1:
            c.assumptions.append(Message("assume.cards_summed", {"count": gpus, "each": f"{per_device:g}", "total": f"{per_device * gpus:g}"}))

    def _licences(self, ids: list[str]) -> list[str]:
        known = {m.licence.id.lower(): m.licence.id for m in self.catalog.models}
        for m in self.catalog.models:
            for v in m.variants:
                if v.licence is not None:
                    known.setdefault(v.licence.id.lower(), v.licence.id)
        out = []
        for given in ids:
            hit = known.get(given.strip().lower())
            if hit is None:
                raise ApiInputError(f"unknown licence {given!r}; the catalog's: {', '.join(sorted(set(known.values())))}")
            out.append(hit)
        return list(dict.fromkeys(out))

    def _families(self, names: list[str], field_name: str) -> list[str]:
        from .knowledge import name_key  # noqa: PLC0415

        table: dict[str, str] = {}
        for f in self.catalog.families:
            for alias in (f.id, f.name, f.vendor, f.vendor_zh, *f.aliases):
                table.setdefault(name_key(alias), f.id)
        out = []
        for given in names:
            hit = table.get(name_key(given))
            if hit is None:
                known = ", ".join(f.id for f in self.catalog.families)
                raise ApiInputError(f"{field_name}: unknown family or maker {given!r}; families: {known}")
            out.append(hit)
        return list(dict.fromkeys(out))

    @staticmethod
    def _quant(value: Any) -> str | None:
        if value is None or value == "":
            return None
        from .hardware import normalize_quant  # noqa: PLC0415

        if not isinstance(value, str):
            raise ApiInputError("quant must be a string such as 'Q4_K_M'")
        try:
            return normalize_quant(value)
        except ValueError as exc:
            raise ApiInputError(str(exc)) from exc

    # ------------------------------------------------------------ estimate
    def estimate(
        self,
        model: str | None = None,
        params_b: float | None = None,
        active_b: float | None = None,
        quant: str = "Q4_K_M",
        hardware: str | None = None,
        memory_gb: float | None = None,
        memory_kind: MemoryKindName | None = None,
        bandwidth_gbs: float | None = None,
        gpus: int = 1,
        context_tokens: int = 4096,
    ) -> dict[str, Any]:
        """Estimate the memory an LLM needs at a quantisation, whether and where it fits on a machine (full GPU offload, partial offload or CPU only), and its generation speed calibrated against published llama.cpp runs.

        Name the model (a catalog model or size) or give its size; name a hardware preset or give the memory kind and bandwidth.

        Args:
            model: a catalog model or size, e.g. "Qwen3-30B-A3B", "gpt-oss-20b", "phi-4"; or leave empty and give params_b
            params_b: total parameters in billions, when the model is not named
            active_b: active parameters in billions for a mixture-of-experts model given by size
            quant: GGUF quantisation, e.g. "Q4_K_M", "Q8_0", "MXFP4", "F16"
            hardware: a hardware preset, e.g. "RTX 4090", "M3 Max 64GB", "Mac mini M4", "DDR5-5600 dual-channel"
            memory_gb: memory per device in GB (per card for vram); with hardware, overrides the preset's; without it, only the speed is estimated
            memory_kind: "ram", "vram" or "unified"; needed without a hardware preset
            bandwidth_gbs: memory bandwidth in GB/s; needed without a hardware preset
            gpus: number of identical GPUs (vram only)
            context_tokens: context (KV cache) size in tokens

        Returns:
            {model_id, variant, quant, context_tokens, memory_gb, weights_gb, kv_cache_gb, overhead_gb, required_gb, fits, headroom_gb, usable_gb, tokens_per_s, ceiling_tokens_per_s, ttft_s_1k, placement, placement_zh, assumptions, ...}
        """
        name = model.strip() if isinstance(model, str) else model
        if name is not None and not isinstance(name, str):
            raise ApiInputError("model must be a string (a catalog model or size name)")
        if name:
            hit = self.catalog.resolve(name)
            if hit is None:
                raise ApiInputError(_unknown_model(name, self.catalog) + "; or give params_b instead")
            name = hit[1] or hit[0]  # the size's name, or the model's id
        for label, value in (("params_b", params_b), ("active_b", active_b), ("memory_gb", memory_gb),
                             ("bandwidth_gbs", bandwidth_gbs)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not math.isfinite(value) or value <= 0):
                raise ApiInputError(f"{label} must be a number greater than 0, got {value!r}")
        if isinstance(gpus, bool) or not isinstance(gpus, int):
            raise ApiInputError(f"gpus must be a whole number, got {gpus!r}")
        if isinstance(context_tokens, bool) or not isinstance(context_tokens, int) or not 1 <= context_tokens <= 10_000_000:
            raise ApiInputError(f"context_tokens must be a whole number from 1 to 10,000,000, got {context_tokens!r}")
        if not isinstance(quant, str) or not quant.strip():
            raise ApiInputError("quant must be a quantisation name such as 'Q4_K_M'")
        if memory_kind is not None:
            memory_kind = _choice(memory_kind, ("ram", "vram", "unified"), "memory_kind")  # type: ignore[assignment]
        fields = {
            "model": name or None, "params_b": params_b, "active_b": active_b, "quant": quant.strip(),
            "hardware": hardware or None, "memory_gb": memory_gb, "memory_kind": memory_kind,
            "bandwidth_gbs": bandwidth_gbs, "gpus": gpus, "context_tokens": context_tokens,
        }
        try:
            return estimate_adapter(self.assistant.settings.catalog_path, fields)
        except ValueError as exc:
            # The estimate command's messages name its flags (--params-b); here they are parameters.
            message = str(exc).replace("--list-hardware prints them all", "see the hardware tab for all presets")
            for flag in ("params-b", "active-b", "memory-gb", "memory-kind", "bandwidth-gbs", "context-tokens",
                         "hardware", "model", "gpus", "quant"):
                message = message.replace(f"--{flag}", flag.replace("-", "_"))
            raise ApiInputError(message) from exc

    # ------------------------------------------------------------ catalog_entry
    def catalog_entry(self, name: str) -> dict[str, Any]:
        """The catalog's entry for an open-weight LLM, with every fact and its source: vendor, country, size (total and active parameters), architecture, context window, licence and commercial use, modalities, languages, strengths, weaknesses, the article's verdict, release date.

        Naming one size ("Qwen3-8B") gives that size's own facts; naming the model ("Qwen3") gives the series with all its sizes.

        Args:
            name: a model or size as people write it, e.g. "Phi-4", "qwen3 30b a3b", "gpt-oss-120b", "Gemma 3"

        Returns:
            {query, id, variant (the size named, or null), as_of (the catalog's check date), entry: {id, name, family, vendor, country, params_total_b, params_active_b, architecture, context_native, context_extended, licence, commercial_use, commercial_conditions, modalities, languages, strengths, weaknesses, verdict, verdict_reason, summary_zh, summary_en, released, variants, sources, ...}}
        """
        if not isinstance(name, str) or not name.strip():
            raise ApiInputError("name must be a model or size name, e.g. 'Phi-4' or 'Qwen3-8B'")
        hit = self.catalog.resolve(name.strip())
        model = self.catalog.model_for(name.strip()) if hit is not None else None
        if hit is None or model is None:
            raise ApiInputError(_unknown_model(name.strip(), self.catalog))
        return {
            "query": name.strip(),
            "id": hit[0],
            "variant": hit[1],
            "as_of": self.catalog.as_of.isoformat(),
            "entry": model.model_dump(mode="json"),
        }


# ---------------------------------------------------------------- input helpers


def _choice(value: Any, allowed: tuple[str, ...], field_name: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ApiInputError(f"{field_name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def _flag(given: dict[str, Any], key: str) -> bool:
    value = given.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ApiInputError(f"{key} must be true or false, got {value!r}")
    return value


def _number(given: dict[str, Any], key: str) -> float | None:
    value = given.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ApiInputError(f"{key} must be a number greater than 0, got {value!r}")
    return float(value)


def _strings(given: dict[str, Any], key: str) -> list[str]:
    value = given.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ApiInputError(f"{key} must be a list of non-empty strings, got {value!r}")
    return [v.strip() for v in value]


def _history(history: Any) -> list[dict[str, str]]:
    if history is None:
        return []
    if not isinstance(history, list):
        raise ApiInputError("history must be a list of {\"role\": \"user\" | \"assistant\", \"content\": text}")
    turns = []
    for n, turn in enumerate(history[-MAX_HISTORY_TURNS:], 1):
        if (not isinstance(turn, dict) or turn.get("role") not in ("user", "assistant")
                or not isinstance(turn.get("content"), str)):
            raise ApiInputError(f"history turn {n} must be {{\"role\": \"user\" | \"assistant\", \"content\": text}}")
        turns.append({"role": turn["role"], "content": turn["content"]})
    return turns


def _unknown_model(name: str, catalog: Catalog) -> str:
    names = {n for n, _, _ in catalog.names()}
    close = difflib.get_close_matches(name, sorted(names), n=4, cutoff=0.6)
    from .knowledge import name_key  # noqa: PLC0415

    key = name_key(name)
    if any(key in {name_key(n) for n in (c.name, *c.aliases)} for c in catalog.closed_models):
        return f"{name!r} is a closed model (its weights are not open); the catalog covers open-weight models only"
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else "; catalog_entry takes a catalog model or size such as 'Phi-4' or 'Qwen3-8B'"
    return f"{name!r} is not in the catalog" + hint


# ---------------------------------------------------------------- Gradio registration


_TOOL_ERROR: type | None = None


def _tool_error(message: str) -> Exception:
    """A `gr.Error` whose text is the message itself (Gradio's own `str()` adds quotes,
    which MCP clients would show)."""
    global _TOOL_ERROR
    if _TOOL_ERROR is None:
        import gradio as gr  # noqa: PLC0415

        class ToolError(gr.Error):
            def __str__(self) -> str:
                return str(self.message)

        _TOOL_ERROR = ToolError
    return _TOOL_ERROR(message, print_exception=False)  # a bad input is no server fault: no traceback in the log


def _endpoint(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """`fn` with its name, signature, type hints and docstring (Gradio builds the API and MCP
    schemas from them); bad input becomes a clear message, anything else a short one."""
    import inspect  # noqa: PLC0415

    from .server.clean import clean_value  # noqa: PLC0415

    @functools.wraps(fn)
    def endpoint(*args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return clean_value(fn(*args, **kwargs))
        except ApiInputError as exc:
            raise _tool_error(str(exc)) from None
        except Exception as exc:
            log.exception("%s failed", getattr(fn, "__name__", "endpoint"))
            raise _tool_error(f"internal error in {getattr(fn, '__name__', 'endpoint')} ({type(exc).__name__}); "
                              "the server log has the details") from None

    # Evaluated annotations: Gradio reads the return type from the signature, as written.
    endpoint.__signature__ = inspect.signature(fn, eval_str=True)  # type: ignore[attr-defined]
    return endpoint


def register_api(demo: gr.Blocks, assistant: Assistant) -> AssistantAPI:
    """Add `/ask`, `/recommend`, `/estimate` and `/catalog_entry` to `demo`.

    Call it inside `with gr.Blocks(...) as demo:`. The endpoints skip the queue: they
    answer in milliseconds and need no language model, and an MCP tool call then runs them
    in the server itself (a queued one would loop back over HTTP without the caller's sign-in).
    Marks `demo` so its MCP server lists these four only.
    """
    import gradio as gr  # noqa: PLC0415

    api = AssistantAPI(assistant)
    for name in ENDPOINTS:
        gr.api(_endpoint(getattr(api, name)), api_name=name, queue=False, concurrency_limit=None)
    demo._assistant_mcp_tools = frozenset(ENDPOINTS)  # type: ignore[attr-defined]
    demo._assistant_api = api  # type: ignore[attr-defined]
    patch_gradio_mcp()
    return api


def patch_gradio_mcp() -> bool:
    """Gradio's MCP server, for Blocks marked by `register_api` only (idempotent):

    - lists and calls only the marked endpoints as tools (the UI's chat, compare and hardware
      events take UI state and return HTML and plots: they stay gradio_client endpoints);
    - returns a dict result as JSON text (Gradio writes `str(dict)`, a Python repr).

    Returns False when Gradio's MCP module is not there (then no MCP server runs either).
    """
    try:
        from gradio import mcp as gradio_mcp  # noqa: PLC0415
    except ImportError:
        return False
    cls = gradio_mcp.GradioMCPServer
    if getattr(cls, "_assistant_patched", False):
        return True
    original_tools = cls.get_tool_to_endpoint
    original_output = cls.postprocess_output_data

    def get_tool_to_endpoint(self: Any) -> dict[str, str]:
        tools = original_tools(self)
        allowed = getattr(self.blocks, "_assistant_mcp_tools", None)
        if allowed is None:
            return tools
        return {tool: endpoint for tool, endpoint in tools.items() if endpoint.lstrip("/") in allowed}

    def postprocess_output_data(self: Any, data: Any, root_url: str) -> Any:
        if getattr(self.blocks, "_assistant_mcp_tools", None) is not None and isinstance(data, list):
            data = [json.dumps(d, ensure_ascii=False) if isinstance(d, dict) else d for d in data]
        return original_output(self, data, root_url)

    cls.get_tool_to_endpoint = get_tool_to_endpoint  # type: ignore[method-assign]
    cls.postprocess_output_data = postprocess_output_data  # type: ignore[method-assign]
    cls._assistant_patched = True  # type: ignore[attr-defined]
    return True
