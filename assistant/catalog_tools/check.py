"""`catalog check`: every rule a catalog must pass, as findings (the schema, every fact group
sourced, no name shared by two models, variants complete, no entry left unchecked for a year),
and the report the CLI prints."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from .rules import FACT_GROUPS, walk

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
    from ..knowledge import CatalogError, catalog_files, load_catalog, name_key  # noqa: PLC0415

    today = today or date.today()
    files = catalog_files(path)
    report = CheckReport(files=files)
    raw = _raw_models(files)
    for model_id, (file, item) in raw.items():
        for where, value in walk(item):
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
