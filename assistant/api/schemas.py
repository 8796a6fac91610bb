"""What the endpoints take: the types Gradio and MCP clients see in the schemas (their
docstrings are the parameter descriptions), and the checks that turn unusable input into an
`ApiInputError` that says what to change."""

from __future__ import annotations

import difflib
import math
from typing import Any, Literal, TypedDict

from ..knowledge import Catalog

ENDPOINTS = ("ask", "recommend", "estimate", "catalog_entry")
"""The API names (`/ask`, ...) and MCP tool names this package serves."""

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
    from ..knowledge import name_key  # noqa: PLC0415

    key = name_key(name)
    if any(key in {name_key(n) for n in (c.name, *c.aliases)} for c in catalog.closed_models):
        return f"{name!r} is a closed model (its weights are not open); the catalog covers open-weight models only"
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else "; catalog_entry takes a catalog model or size such as 'Phi-4' or 'Qwen3-8B'"
    return f"{name!r} is not in the catalog" + hint
