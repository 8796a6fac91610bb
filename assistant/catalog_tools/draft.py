"""A draft catalog entry from the facts read: `draft` builds a model (or variant) entry in the
catalog's field order, `TODO:` where the Hub is silent, and `render` prints it as YAML with a
header of notes for the maintainer."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from .hub import Hub, HubError
from .read import Facts, read_repo
from .rules import FACT_GROUPS, TODO, walk


@dataclass
class Draft:
    repo: str
    facts: Facts
    gguf_only: bool
    base_model: str | None
    entry: dict[str, Any]
    known_as: str | None = None


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
            from ..knowledge import load_catalog  # noqa: PLC0415

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
    todos = sorted({key for key, value in walk(result.entry) if isinstance(value, str) and value.startswith(TODO)})
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
