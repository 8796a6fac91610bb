"""Text hygiene: every string the server echoes back is valid UTF-8 (orjson, which Gradio uses,
refuses lone surrogates)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def clean_text(text: str) -> str:
    """`text` with lone surrogates (not encodable as UTF-8) replaced by U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def clean_value(value: Any) -> Any:
    """Every string inside `value` (lists, tuples, dicts) cleaned with `clean_text`."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_value(v) for v in value]
    if isinstance(value, tuple):
        return tuple(clean_value(v) for v in value)
    if isinstance(value, dict):
        return {clean_value(k): clean_value(v) for k, v in value.items()}
    return value


def clean_stream(updates: Iterator[Any]) -> Iterator[Any]:
    """Yield each update with every string cleaned (orjson refuses lone surrogates)."""
    for update in updates:
        yield clean_value(update)
