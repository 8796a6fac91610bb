"""Reading one Hub repository into `Facts`: size, architecture and layer shapes, context,
licence, modalities, languages and release date, from the Hub's model info, the model card and
config.json, each fact group with the source it came from and notes for the reviewer."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml

from .hub import FileGated, Hub
from .rules import TODO


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
