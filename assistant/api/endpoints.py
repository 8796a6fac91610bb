"""The four endpoint functions (`AssistantAPI`), bound to one assistant and testable without a
server, and the adapters where each meets the engine."""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING, Any

from ..constraints import Constraints
from ..knowledge import STRENGTH_TAGS, Catalog
from ..messages import Message
from .schemas import (
    MAX_LIMIT,
    AnswerLanguage,
    ApiInputError,
    HistoryTurn,
    MemoryKindName,
    ReasonLanguage,
    RecommendConstraints,
    _choice,
    _flag,
    _history,
    _number,
    _strings,
    _unknown_model,
)

if TYPE_CHECKING:
    from ..answer.ranking import Shortlist
    from ..service import Assistant



# ---------------------------------------------------------------- adapters
# The one place each endpoint meets the engine; a change of engine API changes only these.


def shortlist_adapter(catalog: Catalog, constraints: Constraints, limit: int) -> Shortlist:
    """The answer engine's ranking (`assistant.answer.ranking.shortlist`) for typed constraints:
    hard filters, then cited capability for the task."""
    from ..answer.ranking import default_capabilities, shortlist  # noqa: PLC0415 - the engine loads on first use

    return shortlist(catalog, constraints, default_capabilities(), mentioned=constraints.mentioned_models, limit=limit)


def estimate_adapter(catalog_path: Any, fields: dict[str, Any]) -> dict[str, Any]:
    """`assistant.estimate.run` on the given fields (its flag names, without dashes).

    The namespace starts from the estimate command's own defaults, so a flag added there
    keeps its default here; raises ValueError with a user-facing message.
    """
    from .. import estimate as estimate_cli  # noqa: PLC0415

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
        from ..inputs import EmptyQuestion, clean_question  # noqa: PLC0415

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
        from ..hardware import find_hardware, preset_named  # noqa: PLC0415

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
        from ..knowledge import name_key  # noqa: PLC0415

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
        from ..hardware import normalize_quant  # noqa: PLC0415

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
