"""Partial names of the families being discussed: an answer about MiniMax says 「M2.5」 for
MiniMax-M2.5, one about DeepSeek-V3 says 「0324 版」 for DeepSeek-V3-0324 or 「V3.2-Exp」.

A *tail* is what is left of a catalog name once its family's name (or, for a size, its
model's name) is taken off: "m2.5", "v3.2exp", "0324", "k2.5". Only tails with a letter and
a digit, or a four-digit date code, count; a bare size ("8b", "35b-a3b") is read by the
sibling-size rule instead. A partial name whose head is a tail and whose ending is not
("V3.2-Mini", "V4-Lite") is a version the catalog does not have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..knowledge import Catalog
from .facts import catalog_name_keys, cues, name_key

TAIL = re.compile(r"(?<![a-z0-9.\-])(?:[a-z]{1,2}\d{1,2}(?:\.\d{1,2})?|\d{4})(?:-[a-z0-9]{1,12}){0,2}(?![a-z0-9])")


@dataclass(frozen=True)
class Tail:
    model: str
    variant: str | None
    start: int
    end: int


_TABLES: dict[tuple[int, str], tuple[Catalog, dict[str, tuple[str, str | None] | None]]] = {}


def _valid(tail: str) -> bool:
    if len(tail) < 2 or not any(ch.isdigit() for ch in tail):
        return False
    return tail[0].isalpha() or (tail.isdigit() and len(tail) == 4)


def _table(catalog: Catalog, family_id: str) -> dict[str, tuple[str, str | None] | None]:
    """tail → (model id, variant) for one family; None where a tail names several entries."""
    cached = _TABLES.get((id(catalog), family_id))
    if cached is not None and cached[0] is catalog:
        return cached[1]
    family = catalog.family_by_id.get(family_id)
    family_prefixes = {name_key(n) for n in (family.name, family.id, *family.aliases)} if family else set()
    found: dict[str, set[tuple[str, str | None]]] = {}
    models = {m.id: m for m in catalog.models_of(family_id)}
    for name, model_id, variant in catalog.names():
        model = models.get(model_id)
        if model is None:
            continue
        key = name_key(name)
        prefixes = family_prefixes | ({name_key(n) for n in (model.name, *model.aliases)} if variant else set())
        for prefix in prefixes:
            if prefix and key.startswith(prefix) and _valid(key[len(prefix) :]):
                found.setdefault(key[len(prefix) :], set()).add((model_id, variant))
    table = {tail: (next(iter(hits)) if len(hits) == 1 else None) for tail, hits in found.items()}
    _TABLES[(id(catalog), family_id)] = (catalog, table)
    return table


def find_tails(text: str, catalog: Catalog, families: list[str], taken: list[tuple[int, int]]) -> tuple[list[Tail], list[str]]:
    """Partial names in normalised `text` (outside the spans already `taken` by full names):
    the ones that name a catalog entry, and the ones that name a version no entry has."""
    if not families:
        return [], []
    tables = [_table(catalog, f) for f in families if f in catalog.family_by_id]
    known_names = catalog_name_keys(catalog)
    found: list[Tail] = []
    invented: list[str] = []
    for match in TAIL.finditer(text):
        if any(s < match.end() and match.start() < e for s, e in taken):
            continue
        written = match.group()
        key = name_key(written)
        hit = next((t[key] for t in tables if t.get(key)), None)
        if hit is not None:
            found.append(Tail(hit[0], hit[1], match.start(), match.end()))
            continue
        parts = written.split("-")
        for cut in range(len(parts) - 1, 0, -1):
            head = name_key("-".join(parts[:cut]))
            hit = next((t[head] for t in tables if t.get(head)), None)
            if hit is None:
                continue
            rest = "-".join(parts[cut:])
            if cues("tuning_suffix").search(" " + rest) or key in known_names:
                found.append(Tail(hit[0], hit[1], match.start(), match.start() + len("-".join(parts[:cut]))))
            else:
                invented.append(written)
            break
    return found, invented
