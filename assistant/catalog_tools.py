"""Catalog maintenance: `python -m assistant catalog draft <repo>` and `python -m assistant catalog check`.

`draft` reads one Hugging Face Hub repository and prints a catalog entry (YAML) for a maintainer
to review and paste, every fact group with a `sources` line naming the repo and the field it came
from. What the Hub cannot give (summary, verdict, chinese_note, commercial conditions, …) is a
``TODO:`` placeholder that `check` rejects, so nothing guessed slips into the catalog.

    python -m assistant catalog draft Qwen/Qwen3-8B
    python -m assistant catalog draft Qwen/Qwen3-30B-A3B --variant      # one size, for a series' variants
    python -m assistant catalog draft Qwen/Qwen3-8B --recorded tests/fixtures/hub   # offline, from recordings
    python -m assistant catalog check

`check` validates the whole catalog: the schema, every fact group sourced (see `FACT_GROUPS`),
no name shared by two models, variants complete, and no entry left unchecked for a year.

The Hub sits behind the small `Hub` protocol: `HfHub` uses `huggingface_hub` (imported lazily, so
`check` and the rest of the assistant never import it) and `RecordedHub` reads recorded responses
(tests/fixtures/hub). See docs/catalog-refresh.md for the workflow.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import yaml

EXIT_OK, EXIT_ERROR = 0, 1

TODO = "TODO:"
"""Marks a value the Hub cannot give. `catalog check` rejects any catalog string that starts with it."""

# ---------------------------------------------------------------- fact groups

FACT_GROUPS: dict[str, tuple[str, ...]] = {
    "size": ("params_total_b", "params_active_b"),
    "architecture": ("architecture", "architecture_note", "experts", "n_layers", "n_kv_heads", "head_dim"),
    "context": ("context_native", "context_extended", "context_extended_method"),
    "licence": ("licence", "commercial_use"),
    "modalities": ("modalities",),
    "languages": ("languages",),
    "released": ("released",),
}
"""Fact group -> the Model/Variant fields it covers. Each group a model states needs a `sources[group]`
line; a variant that states a field of a group needs its own `sources[group]`, or the model's
`sources[group]` must cover it (see `covers`). Other `sources` keys (verdict, behaviour, …) are free."""

SOURCE_RULE_FROM = date(2026, 12, 1)
"""Entries with `as_of` on or after this date fail `check` when a fact group lacks a source; older
entries (written before the rule) only get a warning, so the lead can decide on them."""

STALE_AFTER_DAYS = 365
"""An entry whose `as_of` is older than this many days before today fails `check`: re-check it."""

GROUP_NAMES = ("cohere command", "command 系列")
"""Names that deliberately mean a group of models, so several models may carry them
(the same list as FAMILY_WORDS in tests/test_catalog.py)."""

SIZE_TOKEN = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?[BM](?:-A\d+(?:\.\d+)?B)?)(?![\w.])", re.I)
"""A size in a name: 8B, 0.6B, 270M, 30B-A3B."""

SERIES_WIDE = re.compile(r"…|\.\.\.|\beach\b|\bevery\b|\ball (?:sizes|models|variants)\b", re.I)
"""A model-level source written for the whole series ("model cards: Qwen/Qwen3-0.6B … Qwen3-235B",
"config.json of each Qwen3 model") covers every variant."""


# ---------------------------------------------------------------- the Hub


class HubError(Exception):
    """A Hub failure the CLI reports as one sentence."""


class HubUnreachable(HubError):
    """No network, offline mode, or the endpoint does not answer."""


class RepoNotFound(HubError):
    """The repository does not exist (or is private)."""


class FileGated(HubError):
    """The file needs an accepted licence and a token (a gated repository)."""


class Hub(Protocol):
    """What `draft` needs from the Hub. `model_info` returns the Hub API's JSON shape:
    ``id, pipeline_tag, library_name, tags, gated, createdAt, cardData, safetensors{parameters,total},
    gguf{total,architecture,context_length}, siblings[{rfilename}]``."""

    def model_info(self, repo_id: str) -> dict[str, Any]: ...

    def download(self, repo_id: str, filename: str) -> str | None:
        """The file's text, or None when the repository has no such file."""
        ...

    def list_files(self, repo_id: str) -> list[str]: ...


def _error_kind(exc: BaseException) -> str | None:
    """Sort a huggingface_hub / HTTP exception by its class names (the library moved them between
    versions): 'gated', 'missing-repo', 'missing-file', 'unreachable' or None (a bug: re-raised)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "GatedRepoError" in names:
        return "gated"
    if "RepositoryNotFoundError" in names:
        return "missing-repo"
    if names & {"OfflineModeIsEnabled", "LocalEntryNotFoundError"}:
        return "unreachable"
    if names & {"EntryNotFoundError", "RemoteEntryNotFoundError"}:
        return "missing-file"
    transport = {
        "ConnectionError", "ConnectError", "ConnectTimeout", "ReadTimeout", "Timeout", "TimeoutException",
        "TransportError", "NetworkError", "ProxyError", "SSLError", "MaxRetryError", "NewConnectionError",
    }
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(status, int) and (status >= 500 or status == 429):
        return "unreachable"  # the Hub is down or rate-limits: try again later
    if names & transport or isinstance(exc, (OSError, TimeoutError)):
        return "unreachable" if status is None else None
    return None


def _unreachable(repo_id: str, exc: BaseException) -> HubUnreachable:
    text = str(exc).strip()
    reason = text.splitlines()[0].split(". ")[0].rstrip(".")[:160] if text else "no answer"
    return HubUnreachable(
        f"cannot reach the Hugging Face Hub to read {repo_id} ({type(exc).__name__}: {reason}); "
        "run `catalog draft` where huggingface.co (or HF_ENDPOINT) is reachable and HF_HUB_OFFLINE is unset."
    )


class HfHub:
    """The real Hub through `huggingface_hub` (lazy import). Uses HF_TOKEN / the login for gated repos."""

    def __init__(self) -> None:
        from huggingface_hub import HfApi  # noqa: PLC0415

        self._api = HfApi()

    def _call(self, repo_id: str, what: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - sorted by _error_kind, else re-raised
            kind = _error_kind(exc)
            if kind == "unreachable":
                raise _unreachable(repo_id, exc) from exc
            if kind == "missing-repo":
                raise RepoNotFound(f"{repo_id} is not a model repository on the Hub (or it is private)") from exc
            if kind == "gated":
                raise FileGated(f"{what} of {repo_id} is gated: accept the licence on the Hub and set HF_TOKEN") from exc
            if kind == "missing-file":
                return None
            raise

    def model_info(self, repo_id: str) -> dict[str, Any]:
        info = self._call(repo_id, "model_info", self._api.model_info, repo_id)
        if info is None:
            raise RepoNotFound(f"{repo_id} is not a model repository on the Hub")
        return _model_info_dict(info)

    def download(self, repo_id: str, filename: str) -> str | None:
        from huggingface_hub import hf_hub_download  # noqa: PLC0415

        path = self._call(repo_id, filename, hf_hub_download, repo_id, filename)
        return None if path is None else Path(path).read_text(encoding="utf-8")

    def list_files(self, repo_id: str) -> list[str]:
        return list(self._call(repo_id, "file list", self._api.list_repo_files, repo_id) or [])


def _model_info_dict(info: Any) -> dict[str, Any]:
    """huggingface_hub's ModelInfo as the Hub API's JSON (the shape the recordings keep)."""
    card = getattr(info, "card_data", None)
    if card is not None and hasattr(card, "to_dict"):
        card = card.to_dict()
    safetensors = getattr(info, "safetensors", None)
    if safetensors is not None and hasattr(safetensors, "total"):  # SafeTensorsInfo (a dataclass)
        safetensors = {"parameters": dict(getattr(safetensors, "parameters", None) or {}),
                       "total": getattr(safetensors, "total", None)}
    created = getattr(info, "created_at", None)
    return {
        "id": getattr(info, "id", None),
        "pipeline_tag": getattr(info, "pipeline_tag", None),
        "library_name": getattr(info, "library_name", None),
        "tags": list(getattr(info, "tags", None) or []),
        "gated": getattr(info, "gated", None),
        "createdAt": created.isoformat() if hasattr(created, "isoformat") else created,
        "cardData": card or {},
        "safetensors": safetensors,
        "gguf": getattr(info, "gguf", None),
        "siblings": [{"rfilename": s.rfilename} for s in (getattr(info, "siblings", None) or [])],
    }


class RecordedHub:
    """Recorded Hub responses: one JSON file per repository, ``<owner>__<name>.json`` in `directory`,
    holding ``{"model_info": {...}, "files": {"config.json": {...}, "README.md": "..."}}``.
    A file listed in ``"gated_files"`` raises FileGated, as the real Hub does without a token."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _record(self, repo_id: str) -> dict[str, Any]:
        path = self.directory / (repo_id.replace("/", "__") + ".json")
        if not path.is_file():
            raise RepoNotFound(f"{repo_id} has no recording in {self.directory}")
        return json.loads(path.read_text(encoding="utf-8"))

    def model_info(self, repo_id: str) -> dict[str, Any]:
        return dict(self._record(repo_id)["model_info"])

    def download(self, repo_id: str, filename: str) -> str | None:
        record = self._record(repo_id)
        if filename in record.get("gated_files", []):
            raise FileGated(f"{filename} of {repo_id} is gated: accept the licence on the Hub and set HF_TOKEN")
        value = record.get("files", {}).get(filename)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def list_files(self, repo_id: str) -> list[str]:
        return [s["rfilename"] for s in self._record(repo_id)["model_info"].get("siblings", [])]


# ---------------------------------------------------------------- reading a repository


@dataclass
class Facts:
    """What a draft found: field values, a source per fact group, and review notes."""

    repo: str
    values: dict[str, Any] = field(default_factory=dict)
    variant: dict[str, Any] = field(default_factory=dict)  # layer shapes: they live on a variant
    sources: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    cannot: list[str] = field(default_factory=list)  # what this repository cannot tell

    def source(self, group: str, text: str) -> None:
        self.sources.setdefault(group, []).append(text)


LICENCES: dict[str, tuple[str, str, bool, str]] = {
    # Hub `license:` tag -> (catalog id, name, open_source, commercial_use); ids as the catalog spells them.
    "apache-2.0": ("Apache-2.0", "Apache License 2.0", True, "yes"),
    "mit": ("MIT", "MIT License", True, "yes"),
    "llama3": ("Llama-3", "Meta Llama 3 Community License", False, "conditional"),
    "llama3.1": ("Llama-3.1", "Llama 3.1 Community License", False, "conditional"),
    "llama3.2": ("Llama-3.2", "Llama 3.2 Community License", False, "conditional"),
    "llama3.3": ("Llama-3.3", "Llama 3.3 Community License", False, "conditional"),
    "llama4": ("Llama-4", "Llama 4 Community License", False, "conditional"),
    "gemma": ("Gemma", "Gemma Terms of Use", False, "conditional"),
    "cc-by-nc-4.0": ("CC-BY-NC-4.0", "Creative Commons Attribution-NonCommercial 4.0", False, "no"),
    "cc-by-4.0": ("CC-BY-4.0", "Creative Commons Attribution 4.0", True, "yes"),
}

VISION_TAGS = {"image-text-to-text", "image-to-text", "visual-question-answering", "video-text-to-text"}
AUDIO_TAGS = {"audio-text-to-text", "automatic-speech-recognition", "text-to-speech", "audio-to-audio"}
PROCESSOR_FILES = ("preprocessor_config.json", "processor_config.json", "video_preprocessor_config.json")
EXPERT_KEYS = ("num_experts", "num_local_experts", "n_routed_experts", "moe_num_experts")
EXPERTS_PER_TOKEN_KEYS = ("num_experts_per_tok", "experts_per_token", "num_experts_per_token", "moe_k")
SLIDING = {"sliding_attention", "chunked_attention", "local_attention"}
FULL = {"full_attention", "attention", "global_attention"}
# Weight dtypes that are packed quantised blocks: safetensors counts their stored elements, not parameters.
PACKED_DTYPES = {"U8", "I8", "U4", "I4", "U32", "I32", "F8_E4M3", "F8_E5M2"}


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _billions(count: int | float) -> float:
    """Parameters in billions, 3 significant figures (8190735360 -> 8.19, 30532122624 -> 30.5)."""
    return float(f"{count / 1e9:.3g}")


def split_card(text: str | None) -> tuple[dict[str, Any], str]:
    """A README's YAML front matter and its body."""
    if not text:
        return {}, ""
    match = re.match(r"\A---\s*\n(.*?)\n---\s*\n?", text, re.S)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        meta = None
    return (meta if isinstance(meta, dict) else {}), text[match.end():]


def _card_line(body: str, pattern: str) -> re.Match[str] | None:
    return re.search(pattern, body, re.I)


def _quote(match: re.Match[str]) -> str:
    """The card line a statement was found on, without Markdown bullets and bold marks."""
    text = match.string
    start = text.rfind("\n", 0, match.start()) + 1
    end = text.find("\n", match.end())
    line = text[start:] if end < 0 else text[start:end]
    return " ".join(line.replace("*", "").strip().lstrip("-").split())


def text_config(config: dict[str, Any]) -> dict[str, Any]:
    """The language model's part of a config: `text_config` (multimodal) or `llm_config`, else the config."""
    for key in ("text_config", "llm_config", "language_config"):
        inner = config.get(key)
        if isinstance(inner, dict) and inner:
            return inner
    return config


def attention_layers(config: dict[str, Any]) -> tuple[int | None, int | None, str, str]:
    """(layers whose KV cache grows with the context, all layers, kind, how that was read).

    kind is "hybrid" when the config says which layers are attention (`layer_types` with linear or
    state-space layers, `full_attention_interval`, Nemotron-H's `hybrid_override_pattern`): only
    the full-attention layers are counted, since linear-attention and state-space layers keep a
    fixed-size state. kind is "sliding" when some layers are sliding-window attention: they are
    counted (the KV estimate stays an upper bound) and the note says so. Otherwise "" (all layers).
    """
    total = config.get("num_hidden_layers") or config.get("n_layers") or config.get("num_layers")
    total = total if isinstance(total, int) and total > 0 else None
    types = config.get("layer_types")
    if isinstance(types, list) and types and all(isinstance(t, str) for t in types):
        full = sum(t in FULL for t in types)
        sliding = sum(t in SLIDING for t in types)
        other = sorted({t for t in types if t not in FULL | SLIDING})
        if other:
            return full, len(types), "hybrid", (
                f"layer_types: {full} of {len(types)} layers are full attention, the rest {', '.join(other)} "
                "(no KV cache that grows with the context), so n_layers counts the full-attention layers"
            )
        if sliding:
            window = config.get("sliding_window")
            return full + sliding, len(types), "sliding", (
                f"layer_types: {sliding} of {len(types)} layers are sliding-window attention"
                + (f" (window {window} tokens)" if window else "")
                + ", whose cache stops growing at the window; n_layers counts all attention layers (an upper bound)"
            )
        return len(types), len(types), "", f"layer_types: all {len(types)} layers are full attention"
    interval = config.get("full_attention_interval")
    if isinstance(interval, int) and interval > 1 and total:
        full = total // interval
        return full, total, "hybrid", (
            f"full_attention_interval {interval}: {full} of {total} layers are full attention, the rest "
            "linear attention (fixed-size state), so n_layers counts the full-attention layers"
        )
    pattern = config.get("hybrid_override_pattern")
    if isinstance(pattern, str) and pattern:
        full = pattern.count("*")
        return full, len(pattern), "hybrid", (
            f"hybrid_override_pattern: {full} of {len(pattern)} layers are attention ('*'), the rest "
            "Mamba or MLP, so n_layers counts the attention layers"
        )
    return total, total, "", (f"num_hidden_layers {total}" if total else "")


def read_architecture(facts: Facts, config: dict[str, Any], where: str) -> None:
    """architecture, experts, n_layers / n_kv_heads / head_dim from a config.json."""
    cfg = text_config(config)
    said: list[str] = []
    experts = next((cfg[k] for k in EXPERT_KEYS if isinstance(cfg.get(k), int) and cfg[k] > 1), None)
    per_token = next((cfg[k] for k in EXPERTS_PER_TOKEN_KEYS if isinstance(cfg.get(k), int)), None)
    counted, total, kind, how = attention_layers(cfg)
    hybrid = kind == "hybrid"
    if hybrid:
        facts.values["architecture"] = "hybrid"
    else:
        facts.values["architecture"] = "moe" if experts else "dense"
    if experts:
        facts.values["experts"] = experts
        said.append(f"{_key_of(cfg, EXPERT_KEYS)} {experts}"
                    + (f", {_key_of(cfg, EXPERTS_PER_TOKEN_KEYS)} {per_token}" if per_token else ""))
    if hybrid:
        facts.values["architecture_note"] = (
            f"{counted} of {total} layers full attention, the rest linear attention or state-space"
            + (f"; MoE with {experts} experts" if experts else "")
        )
    if counted:
        facts.variant["n_layers"] = counted
        said.append(how)
        if kind:
            facts.notes.append(f"architecture: {how}.")
    if cfg.get("kv_lora_rank"):
        said.append(f"kv_lora_rank {cfg['kv_lora_rank']}: multi-head latent attention, the per-head KV formula "
                    "does not apply, so n_kv_heads and head_dim are left out")
        facts.notes.append("architecture: MLA (kv_lora_rank): n_kv_heads / head_dim left out on purpose.")
    else:
        heads = cfg.get("num_attention_heads")
        kv = cfg.get("num_key_value_heads")
        if isinstance(kv, int) and kv > 0:
            facts.variant["n_kv_heads"] = kv
            said.append(f"num_key_value_heads {kv}")
        elif isinstance(heads, int) and heads > 0:
            facts.variant["n_kv_heads"] = heads
            said.append(f"no num_key_value_heads: multi-head attention, KV heads = num_attention_heads {heads}")
        head_dim = cfg.get("head_dim")
        hidden = cfg.get("hidden_size")
        if isinstance(head_dim, int) and head_dim > 0:
            facts.variant["head_dim"] = head_dim
            said.append(f"head_dim {head_dim}")
        elif isinstance(hidden, int) and isinstance(heads, int) and heads > 0 and hidden % heads == 0:
            facts.variant["head_dim"] = hidden // heads
            said.append(f"head_dim = hidden_size {hidden} / num_attention_heads {heads}")
        else:
            facts.cannot.append("head_dim: config.json gives neither head_dim nor hidden_size and num_attention_heads")
    facts.source("architecture", f"{where} ({'; '.join(said) or 'model_type ' + str(cfg.get('model_type'))})")


def _key_of(cfg: dict[str, Any], keys: Iterable[str]) -> str:
    return next((k for k in keys if k in cfg), "")


def read_context(facts: Facts, config: dict[str, Any] | None, body: str, where_config: str, where_card: str) -> None:
    """context_native (the card's "N natively" first, else config.json) and context_extended (the card's YaRN)."""
    cfg = text_config(config or {})
    max_pos = cfg.get("max_position_embeddings")
    quotes: list[str] = []
    native = None
    card_native = (_card_line(body, r"([\d,]{4,})\s*(?:tokens\s+)?natively")
                   or _card_line(body, r"config\.json`?\s+is set for context length up to\s+([\d,]{4,})\s+tokens"))
    if card_native:
        native = _number(card_native.group(1))
        quotes.append(_quote(card_native))
    config_part = ""
    if isinstance(max_pos, int) and max_pos > 0:
        rope = cfg.get("rope_scaling") or cfg.get("rope_parameters")
        rope_text = ""
        kind = (rope.get("rope_type") or rope.get("type")) if isinstance(rope, dict) else None
        if kind not in (None, "default"):
            bits = [str(kind)] + [f"{k} {rope[k]}" for k in ("factor", "original_max_position_embeddings") if k in rope]
            rope_text = "; rope_scaling " + " ".join(bits) + " as published"
        config_part = f"{where_config} (max_position_embeddings {max_pos}{rope_text})"
        if native is None:
            native = max_pos
        elif native != max_pos:
            facts.notes.append(
                f"context: the card says {native:,} natively, config.json has max_position_embeddings {max_pos:,}; "
                "the draft takes the card's figure: check which one the card means."
            )
    if not native:
        return
    facts.values["context_native"] = native
    yarn = _card_line(body, r"([\d,]{4,})\s*tokens?\s+with\s+YaRN")
    tokens = _number(yarn.group(1)) if yarn else None
    if yarn is None:
        yarn = _card_line(body, r"extendable up to\s+([\d.]+)\s*([KM])\s*tokens?\s+using\s+YaRN")
        if yarn:
            tokens = int(float(yarn.group(1)) * {"K": 1024, "M": 1024 * 1024}[yarn.group(2).upper()])
    if yarn and tokens and tokens > native:
        facts.values["context_extended"] = tokens
        facts.values["context_extended_method"] = "YaRN"
        if _quote(yarn) not in quotes:
            quotes.append(_quote(yarn))
    said = "; ".join("'" + q + "'" for q in quotes)
    parts = [f"{where_card} ({said})"] if quotes else []
    facts.source("context", "; ".join(parts + ([config_part] if config_part else [])))


def read_size(facts: Facts, info: dict[str, Any], body: str, where_info: str, where_card: str) -> None:
    st = info.get("safetensors") or {}
    total = st.get("total")
    if isinstance(total, int) and total > 0:
        facts.values["params_total_b"] = _billions(total)
        dtypes = ", ".join(f"{k} {v:,}" for k, v in sorted((st.get("parameters") or {}).items()))
        facts.source("size", f"{where_info} (safetensors total {total:,}" + (f"; {dtypes}" if dtypes else "") + ")")
        packed = sorted(set(st.get("parameters") or {}) & PACKED_DTYPES)
        if packed:
            facts.notes.append(
                f"size: the safetensors hold {', '.join(packed)} tensors (packed quantised weights), so the total "
                "counts stored elements, not parameters: take the size from the model card."
            )
    gguf = info.get("gguf") or {}
    if "params_total_b" not in facts.values and isinstance(gguf.get("total"), int):
        facts.values["params_total_b"] = _billions(gguf["total"])
        facts.source("size", f"{where_info} (GGUF metadata: gguf.total {gguf['total']:,})")
    both = _card_line(body, r"([\d.]+)\s*B\s+in\s+total\s+and\s+([\d.]+)\s*B\s+activated")
    active = both or _card_line(body, r"([\d.]+)\s*B\s+(?:activated|active)\s+param")
    if active:
        facts.values["params_active_b"] = float(active.group(2) if both else active.group(1))
        facts.source("size", f"{where_card} ('{_quote(active)}')")


def read_licence(facts: Facts, card: dict[str, Any], where_card: str) -> None:
    tag = str(card.get("license") or "").strip().lower()
    if not tag:
        facts.cannot.append("licence: the card data has no `license`")
        return
    known = LICENCES.get(tag)
    extra = [f"license: {tag}"] + [f"{k}: {card[k]}" for k in ("license_name", "license_link") if card.get(k)]
    facts.source("licence", f"{where_card} ({'; '.join(extra)})")
    if known is None:
        facts.values["licence"] = {"id": f"{TODO} {tag}", "name": f"{TODO} the licence's name", "open_source": False}
        facts.values["commercial_use"] = f"{TODO} yes, conditional or no"
        facts.values["commercial_conditions"] = f"{TODO} read the licence and state the conditions (zh-TW)"
        facts.values["commercial_conditions_en"] = f"{TODO} the same conditions in English"
        return
    lid, name, open_source, commercial = known
    facts.values["licence"] = {"id": lid, "name": name, "open_source": open_source}
    facts.values["commercial_use"] = commercial
    if commercial != "yes":
        facts.values["commercial_conditions"] = f"{TODO} state the licence's conditions in zh-TW (read the licence)"
        facts.values["commercial_conditions_en"] = f"{TODO} the same conditions in English"


def read_modalities(facts: Facts, info: dict[str, Any], config: dict[str, Any] | None, files: list[str],
                    where_info: str, where_config: str) -> None:
    """modalities from the pipeline tag, the config's vision/audio parts and the processor files."""
    tag = info.get("pipeline_tag")
    cfg = config or {}
    found = ["text"]
    from_info = [f"pipeline_tag {tag}"] if tag else []
    from_config: list[str] = []
    processors = [f for f in PROCESSOR_FILES if f in files]
    if processors:
        from_info.append("processor files: " + ", ".join(processors))
    if tag in VISION_TAGS or "vision_config" in cfg:
        found.append("image")
        if "vision_config" in cfg:
            from_config.append("vision_config")
    if "video_token_id" in cfg or "video_preprocessor_config.json" in files or tag == "video-text-to-text":
        found.append("video")
        if "video_token_id" in cfg:
            from_config.append("video_token_id")
    if tag in AUDIO_TAGS or "audio_config" in cfg:
        found.append("audio")
        if "audio_config" in cfg:
            from_config.append("audio_config")
    if not tag:
        facts.values["modalities"] = [f"{TODO} text, image, audio, video (the repository has no pipeline tag)"]
        return
    if tag not in VISION_TAGS | AUDIO_TAGS | {"text-generation"}:
        facts.notes.append(f"modalities: pipeline_tag {tag} is not one the draft reads: check the card.")
    facts.values["modalities"] = found
    said = f"{where_info} ({'; '.join(from_info)})"
    if from_config:
        said += f"; {where_config} ({', '.join(from_config)})"
    facts.source("modalities", said)


def read_languages(facts: Facts, card: dict[str, Any], where_card: str) -> None:
    langs = card.get("language")
    langs = [langs] if isinstance(langs, str) else langs
    chinese = f"{TODO} zh-TW note on its Chinese (Traditional output? drifts to Simplified?)"
    if isinstance(langs, list) and langs:
        codes = [str(x) for x in langs]
        facts.values["languages"] = {"codes": codes, "count": len(codes), "chinese_note": chinese}
        facts.source("languages", f"{where_card} (language: {', '.join(codes)})")
    else:
        facts.values["languages"] = {"codes": [f"{TODO} ISO codes from the card"], "chinese_note": chinese}
        facts.cannot.append("languages: the card data lists no `language`")


def read_released(facts: Facts, body: str, info: dict[str, Any], where_card: str) -> None:
    match = _card_line(body, r"Release Date:?\**\s*([A-Z][a-z]+ \d{1,2},? \d{4})")
    if match:
        raw = match.group(1).replace(",", "")
        try:
            facts.values["released"] = datetime.strptime(raw, "%B %d %Y").date().isoformat()
            facts.source("released", f"{where_card} ('{_quote(match)}')")
            return
        except ValueError:
            pass
    created = str(info.get("createdAt") or "")[:10]
    facts.values["released"] = f"{TODO} release date (YYYY-MM-DD) from the card or the release post"
    if created:
        facts.notes.append(f"released: the Hub repo was created {created}; that is not necessarily the release date.")


@dataclass
class Draft:
    repo: str
    facts: Facts
    gguf_only: bool
    base_model: str | None
    entry: dict[str, Any]
    known_as: str | None = None


def read_repo(hub: Hub, repo_id: str) -> tuple[Facts, bool, str | None]:
    """Every fact `draft` reads from one repository."""
    info = hub.model_info(repo_id)
    facts = Facts(repo=repo_id)
    files = [s.get("rfilename", "") for s in info.get("siblings") or []] or hub.list_files(repo_id)
    card = dict(info.get("cardData") or {})
    readme_meta, body = ({}, "")
    try:
        readme_meta, body = split_card(hub.download(repo_id, "README.md"))
    except FileGated as exc:
        facts.cannot.append(f"README.md: {exc}")
    card = card or readme_meta
    config = None
    config_text = None
    if "config.json" in files:
        try:
            config_text = hub.download(repo_id, "config.json")
        except FileGated as exc:
            facts.cannot.append(f"config.json: {exc}; layer shapes and context are left out")
    if config_text:
        try:
            config = json.loads(config_text)
        except ValueError:
            facts.cannot.append("config.json: not valid JSON")
    where_info = f"Hub model_info of {repo_id}"
    where_card = f"model card: huggingface.co/{repo_id}"
    where_config = f"config.json of {repo_id}"
    base = card.get("base_model")
    base = base[0] if isinstance(base, list) and base else base
    gguf = info.get("gguf") or {}
    gguf_only = bool(gguf) and config is None and any(f.endswith(".gguf") for f in files)

    read_size(facts, info, body, where_info, where_card)
    if config is not None:
        read_architecture(facts, config, where_config)
        read_context(facts, config, body, where_config, where_card)
    elif gguf_only:
        arch = str(gguf.get("architecture") or "")
        if gguf.get("context_length"):
            facts.values["context_native"] = int(gguf["context_length"])
            facts.source("context", f"{where_info} (GGUF metadata: gguf.context_length {gguf['context_length']})")
        if "moe" in arch:
            facts.values["architecture"] = "moe"
            facts.source("architecture", f"{where_info} (GGUF metadata: gguf.architecture {arch})")
        else:
            facts.values["architecture"] = f"{TODO} dense, moe, hybrid or ssm (GGUF architecture '{arch}')"
        gguf_files = sorted(f for f in files if f.endswith(".gguf"))
        facts.cannot.extend([
            "this is a GGUF-only repository: the Hub gives only the GGUF summary (total parameters, "
            f"architecture '{arch}', context length), not the layer shapes, experts or active parameters, "
            "which sit in each file's header"
            + (f"; draft the base model instead: python -m assistant catalog draft {base}" if base else ""),
            f"GGUF files here: {', '.join(gguf_files[:8])}{' …' if len(gguf_files) > 8 else ''}",
        ])
    else:
        facts.cannot.append("config.json: not in this repository; architecture, layer shapes and context are left out")
        facts.values["architecture"] = f"{TODO} dense, moe, hybrid or ssm"
    if "params_total_b" not in facts.values:
        facts.values["params_total_b"] = f"{TODO} total parameters in billions (the Hub gives no safetensors or GGUF total)"
    if facts.values.get("architecture") in ("moe", "hybrid") and facts.values.get("experts") and "params_active_b" not in facts.values:
        facts.values["params_active_b"] = f"{TODO} active parameters in billions, from the model card"
    read_licence(facts, card, where_card)
    read_modalities(facts, info, config, files, where_info, where_config)
    read_languages(facts, card, where_card)
    read_released(facts, body, info, where_card)
    if base:
        facts.notes.append(f"base model on the card: {base} (set `base_model` to its catalog id if this is a derivative).")
    if info.get("gated"):
        facts.notes.append(f"the repository is gated ({info['gated']}): downloads need an accepted licence.")
    return facts, gguf_only, base if isinstance(base, str) else None


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9.\-]+", "-", name.lower()).strip("-.")
    return slug or "model"


def _joined(facts: Facts) -> dict[str, str]:
    return {group: "; ".join(texts) for group, texts in facts.sources.items()}


VARIANT_FIELDS = ("params_total_b", "params_active_b", "n_layers", "n_kv_heads", "head_dim", "architecture",
                  "architecture_note", "experts", "context_native", "context_extended", "context_extended_method")


def build_variant(facts: Facts, name: str) -> dict[str, Any]:
    """A variant entry: size, layer shapes, architecture and context, with their sources."""
    merged = {**facts.values, **facts.variant}
    entry: dict[str, Any] = {"name": name, "repo": facts.repo}
    for key in VARIANT_FIELDS:
        if key in merged and not (key == "architecture" and merged[key] == "dense"):
            entry[key] = merged[key]
    sources = _joined(facts)
    entry["sources"] = {g: sources[g] for g in ("size", "architecture", "context") if g in sources}
    return entry


def build_model(facts: Facts, name: str, today: date) -> dict[str, Any]:
    """A model entry in the catalog's field order; TODO placeholders where the Hub is silent."""
    v = facts.values
    entry: dict[str, Any] = {
        "id": _slug(name),
        "name": name,
        "family": f"{TODO} a family id of the catalog (or add a family)",
        "vendor": f"{TODO} the maker",
        "country": f"{TODO} ISO 3166 alpha-2",
        "kind": "model",
        "repo": facts.repo,
    }
    for key in ("params_total_b", "params_active_b", "architecture", "architecture_note", "experts",
                "context_native", "context_extended", "context_extended_method"):
        if key in v:
            entry[key] = v[key]
    if facts.variant:
        variant = {"name": name, "params_total_b": v.get("params_total_b")}
        if "params_active_b" in v:
            variant["params_active_b"] = v["params_active_b"]
        variant.update(facts.variant)
        entry["variants"] = [variant]
    for key in ("licence", "commercial_use", "commercial_conditions", "commercial_conditions_en", "modalities", "languages"):
        if key in v:
            entry[key] = v[key]
    entry.update(
        strengths=[],
        verdict=f"{TODO} recommended, neutral or not-recommended",
        verdict_reason=f"{TODO} zh-TW reason, from the article or a named review",
        verdict_reason_en=f"{TODO} the same reason in English",
        summary_zh=f"{TODO} one or two zh-TW sentences (Taiwan wording)",
        summary_en=f"{TODO} one or two English sentences",
        released=v.get("released"),
        status="released",
        article_section=None,
        aliases=[],
    )
    sources = _joined(facts)
    entry["sources"] = {**{g: sources[g] for g in FACT_GROUPS if g in sources},
                        "verdict": f"{TODO} 'article' or a named review"}
    entry["as_of"] = today
    return entry


def draft(hub: Hub, repo_id: str, *, variant: bool = False, today: date | None = None,
          catalog_path: Path | None = None) -> Draft:
    """Read `repo_id` and build a model entry (or, with `variant`, a variant entry)."""
    if not re.fullmatch(r"[\w.\-]+/[\w.\-]+", repo_id):
        raise HubError(f"{repo_id!r} is not a Hub repo id (owner/name)")
    facts, gguf_only, base = read_repo(hub, repo_id)
    name = repo_id.split("/", 1)[1]
    if gguf_only and base:
        name = base.split("/", 1)[-1]
        facts.notes.append(f"name: taken from the base model {base}; the licence is as the quantizer's card states "
                           "it: the base model's card is the authority.")
    entry = build_variant(facts, name) if variant else build_model(facts, name, today or date.today())
    result = Draft(repo_id, facts, gguf_only, base, entry)
    if catalog_path is not None:
        try:
            from .knowledge import load_catalog  # noqa: PLC0415

            hit = load_catalog(catalog_path).resolve(name)
            if hit:
                result.known_as = hit[0] + (f" / variant {hit[1]}" if hit[1] else "")
        except Exception:  # noqa: BLE001 - a hint only; `check` reports catalog problems
            pass
    return result


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    quoted = value.startswith(TODO) or value in ("yes", "no") or ": " in value or " #" in value
    style = '"' if quoted else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def render(result: Draft, indent: int | None = None) -> str:
    """The draft as YAML with a comment header: the notes, what the repo cannot tell, the TODOs."""
    f = result.facts
    is_variant = "id" not in result.entry
    todos = sorted({key for key, value in _walk(result.entry) if isinstance(value, str) and value.startswith(TODO)})
    lines = [
        f"# Draft {'variant' if is_variant else 'catalog'} entry for {result.repo}, read from the Hugging Face Hub.",
        "# Review every value against its source, replace every TODO, then run `python -m assistant catalog check`.",
    ]
    if result.known_as:
        lines.append(f"# Already in the catalog as {result.known_as}: compare and update that entry instead of adding one.")
    if is_variant:
        lines.append("# Paste under the model's `variants:`; licence, modalities and languages stay on the model unless this size differs:")
        for key in ("licence", "commercial_use", "modalities"):
            if key in f.values:
                lines.append(f"#   {key}: {json.dumps(f.values[key], ensure_ascii=False)}")
        lines.extend(f"#   sources.{g}: {t}" for g, t in _joined(f).items() if g in ("licence", "modalities", "languages"))
    else:
        lines.append("# Paste under `models:` of a part in knowledge/catalog/ (one maker or release wave per file).")
    for note in f.notes:
        lines.append(f"# NOTE {note}")
    for item in f.cannot:
        lines.append(f"# CANNOT READ {item}")
    if todos:
        lines.append(f"# TODO ({len(todos)}): {', '.join(todos)}")
    body = yaml.dump([result.entry], Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000,
                     default_flow_style=False)
    pad = " " * (indent if indent is not None else (6 if is_variant else 2))
    return "\n".join(lines) + "\n" + "".join(pad + line if line.strip() else line for line in body.splitlines(True))


def _walk(value: Any, path: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _walk(inner, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            yield from _walk(inner, f"{path}[{n}]")
    else:
        yield path, value


# ---------------------------------------------------------------- check


@dataclass
class Finding:
    severity: str  # "error" or "warning"
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.where}: {self.message}"


@dataclass
class CheckReport:
    files: list[Path]
    models: int = 0
    variants: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]


def stated_groups(model: Any) -> set[str]:
    """The fact groups a model states (size, architecture, licence, modalities and languages always)."""
    groups = {"size", "architecture", "licence", "modalities", "languages"}
    if model.context_native is not None:
        groups.add("context")
    if model.released:
        groups.add("released")
    return groups


def variant_groups(variant: Any) -> set[str]:
    """The fact groups a variant states itself (an explicit null counts: it is a fact too)."""
    fields = variant.model_fields_set
    return {group for group, names in FACT_GROUPS.items() if fields & set(names)}


def covers(source: str, model: Any, variant: Any, key) -> bool:  # type: ignore[no-untyped-def]
    """Whether the model-level source text `source` covers `variant`: it names the variant (its name,
    an alias or its repo, compared by name_key, or the size part of its name after the model's name as
    a word: "Qwen3.5 0.8B, 2B, 4B" covers Qwen3.5-2B), or it is written for the whole series
    (`SERIES_WIDE`), or the variant is the model's only size."""
    if len(model.variants) == 1 and variant.params_total_b == model.params_total_b:
        return True
    if SERIES_WIDE.search(source):
        return True
    text = key(source)
    names = [variant.name, *variant.aliases, *([variant.repo] if variant.repo else [])]
    if any(key(n) and key(n) in text for n in names):
        return True
    # The size as the source lists it: "Qwen3.5 0.8B, 2B, 4B" names Qwen3.5-2B; "235B-A22B, 30B-A3B and 4B"
    # names Qwen3-4B-2507. A size is the part after the model's name, or a size token of the variant's name.
    parts = set(SIZE_TOKEN.findall(variant.name))
    for prefix in (model.name, model.id):
        flexible = "".join(r"[\s\-_]*" if ch in " -_" else re.escape(ch) for ch in prefix)
        head = re.match(flexible, variant.name, re.I)
        if head and variant.name[head.end():].strip(" -_"):
            parts.add(variant.name[head.end():].strip(" -_"))
    return any(re.search(r"(?<![\w.])" + re.escape(p) + r"(?![\w])", source, re.I) for p in parts)


def _raw_models(files: list[Path]) -> dict[str, tuple[Path, dict[str, Any]]]:
    out: dict[str, tuple[Path, dict[str, Any]]] = {}
    for path in files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue  # load_catalog reports it
        for item in (data.get("models") or []) if isinstance(data, dict) else []:
            if isinstance(item, dict):
                out.setdefault(str(item.get("id")), (path, item))
    return out


def check_catalog(path: Path, today: date | None = None, strict_from: date = SOURCE_RULE_FROM) -> CheckReport:
    """Every check `catalog check` runs, as findings (nothing printed). The source rule fails entries
    whose `as_of` is on or after `strict_from` and warns on older ones."""
    from .knowledge import CatalogError, catalog_files, load_catalog, name_key  # noqa: PLC0415

    today = today or date.today()
    files = catalog_files(path)
    report = CheckReport(files=files)
    raw = _raw_models(files)
    for model_id, (file, item) in raw.items():
        for where, value in _walk(item):
            if isinstance(value, str) and value.strip().startswith("TODO"):
                report.findings.append(Finding("error", f"{model_id} ({file.name})", f"{where} is a draft placeholder: {value}"))
    try:
        catalog = load_catalog(path)
    except CatalogError as exc:
        report.findings.append(Finding("error", "schema", str(exc)))
        return report
    report.models = len(catalog.models)
    report.variants = sum(len(m.variants) for m in catalog.models)
    keys: dict[str, str] = {}

    def key(text: str) -> str:
        if text not in keys:
            keys[text] = name_key(text)
        return keys[text]

    stale_before = today - timedelta(days=STALE_AFTER_DAYS)
    for model in catalog.models:
        file = raw.get(model.id, (path, {}))[0]
        where = f"{model.id} ({file.name})"
        strict = model.as_of >= strict_from
        severity = "error" if strict else "warning"
        if model.as_of < stale_before:
            report.findings.append(Finding("error", where, f"as_of {model.as_of} is more than {STALE_AFTER_DAYS} days "
                                                           f"before {today}: re-check the entry and update as_of"))
        sources = {g: str(t) for g, t in model.sources.items() if str(t).strip()}
        missing = sorted(stated_groups(model) - set(sources))
        if missing:
            report.findings.append(Finding(severity, where, f"no source for {', '.join(missing)}"))
        multi = len(model.variants) > 1
        for variant in model.variants:
            vwhere = f"{where} variant {variant.name}"
            unsourced = []
            for group in sorted(variant_groups(variant)):
                if str(variant.sources.get(group, "")).strip():
                    continue
                if group in sources and covers(sources[group], model, variant, key):
                    continue
                unsourced.append(group)
            if unsourced:
                report.findings.append(Finding(severity, vwhere, f"no source covers its {', '.join(unsourced)} "
                                               "(its own sources, or a model source naming it or the whole series)"))
            if multi and not variant.overrides("params_total_b"):
                report.findings.append(Finding("error", vwhere, "a size of a multi-size model states params_total_b"))
            moe = (variant.architecture == "moe" or variant.experts is not None
                   or re.search(r"-A\d+(?:\.\d+)?B\b", variant.name, re.I))
            if moe and variant.params_active_b is None and variant.architecture != "dense":
                report.findings.append(Finding("error", vwhere, "a MoE size states params_active_b"))
            if variant.overrides("licence") != variant.overrides("commercial_use"):
                report.findings.append(Finding("error", vwhere, "licence and commercial_use are overridden together"))
    owners: dict[str, set[str]] = {}
    for name, model_id, _variant in catalog.names():
        owners.setdefault(key(name), set()).add(model_id)
    allowed = {key(n) for n in GROUP_NAMES}
    for name_k, ids in sorted(owners.items()):
        if len(ids) > 1 and name_k and name_k not in allowed:
            report.findings.append(Finding("error", "names", f"'{name_k}' names several models: {', '.join(sorted(ids))}"))
    return report


def render_report(report: CheckReport, today: date, verbose: bool = True, strict_from: date = SOURCE_RULE_FROM) -> str:
    parts = "" if len(report.files) == 1 else f" + {len(report.files) - 1} parts"
    lines = [f"catalog check: {report.files[0]}{parts}: {report.models} models, {report.variants} variants (today {today})"]
    lines += [str(f) for f in report.errors]
    warnings = report.warnings
    if warnings:
        models = len({f.where.split(" (")[0] for f in warnings})
        lines.append(f"{len(warnings)} warnings on {models} entries dated before {strict_from} (the source rule "
                     "fails only entries from that date on)" + (":" if verbose else "; --quiet: not listed"))
        if verbose:
            lines += ["  " + str(f) for f in warnings]
    lines.append("ok: no errors" if not report.errors else f"FAILED: {len(report.errors)} errors")
    return "\n".join(lines)


# ---------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `catalog` sub-commands, shared by the CLI and its tests."""
    sub = parser.add_subparsers(dest="catalog_command", required=True)
    d = sub.add_parser("draft", help="print a catalog entry read from a Hugging Face Hub repository")
    d.add_argument("repo", help="Hub repo id, e.g. Qwen/Qwen3-8B")
    d.add_argument("--variant", action="store_true", help="print a variant entry (one size of a series)")
    d.add_argument("--recorded", metavar="DIR", help="read recorded Hub responses from DIR instead of the Hub")
    d.add_argument("--today", type=date.fromisoformat, default=None, help=argparse.SUPPRESS)
    c = sub.add_parser("check", help="validate the whole catalog: schema, sources, names, variants, age")
    c.add_argument("--today", type=date.fromisoformat, default=None, help="check as of this date (YYYY-MM-DD)")
    c.add_argument("--quiet", action="store_true", help="count the warnings instead of listing them")
    c.add_argument("--strict-from", type=date.fromisoformat, default=SOURCE_RULE_FROM, metavar="YYYY-MM-DD",
                   help=f"fail unsourced fact groups of entries checked on or after this date (default {SOURCE_RULE_FROM}); "
                        "older entries get a warning")


def run(args: argparse.Namespace, catalog_path: Path) -> int:
    today = args.today or date.today()
    if args.catalog_command == "check":
        report = check_catalog(catalog_path, today, args.strict_from)
        print(render_report(report, today, verbose=not args.quiet, strict_from=args.strict_from))
        return EXIT_ERROR if report.errors else EXIT_OK
    try:
        hub: Hub = RecordedHub(Path(args.recorded)) if args.recorded else HfHub()
        result = draft(hub, args.repo, variant=args.variant, today=today, catalog_path=catalog_path)
    except ImportError as exc:
        print(f"錯誤 error: `catalog draft` needs huggingface_hub ({exc}); install the project's dependencies.", file=sys.stderr)
        return EXIT_ERROR
    except HubError as exc:
        print(f"錯誤 error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    sys.stdout.write(render(result))
    return EXIT_OK
