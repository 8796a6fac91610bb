"""What `draft` and `check` agree on: the fact groups that each need a source, and the `TODO:`
placeholder a draft writes where the Hub is silent and `check` rejects."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

TODO = "TODO:"
"""Marks a value the Hub cannot give. `catalog check` rejects any catalog string that starts with it."""

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


def walk(value: Any, path: str = "") -> Iterable[tuple[str, Any]]:
    """Every leaf of nested dicts and lists, as (its path: `sources.size`, `variants[0].name`; the value)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from walk(inner, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            yield from walk(inner, f"{path}[{n}]")
    else:
        yield path, value
