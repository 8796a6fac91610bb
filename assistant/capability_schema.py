"""The capability file's schema and the task vocabulary (benchmarks per task, fallbacks).

`assistant.capability` loads `knowledge/capabilities.yaml` against these types and scores with them.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Mode = Literal["thinking", "non-thinking", "default"]
SourceKind = Literal["model-card", "tech-report", "release-post", "leaderboard", "community", "aggregator"]

TASKS: tuple[str, ...] = (
    "general",
    "coding",
    "reasoning",
    "math",
    "chinese",
    "traditional-chinese",
    "vision",
    "long-context",
    "multilingual",
    "tool-use",
    "instruction-following",
)

# Benchmark weights per task. Weight 1.0 is a primary benchmark of the task; 0.5 marks an older or
# saturated one (MMLU) or one that only partly measures the task (GPQA for maths reasoning).
TASK_WEIGHTS: dict[str, dict[str, float]] = {
    "general": {
        "mmlu-pro": 1.0,
        "gpqa-diamond": 1.0,
        "aa-index-v2": 1.0,
        "aa-index-v4": 1.0,
        "lmarena-text": 1.0,
        "mmlu-redux": 0.5,
        "mmlu": 0.5,
    },
    "coding": {"livecodebench": 1.0, "swe-bench-verified": 1.0},
    "reasoning": {"aime-2025": 1.0, "aime-2024": 1.0, "gpqa-diamond": 0.5},
    # Competition maths only: GPQA (science questions) is a reasoning figure, borrowed below when nothing else is measured.
    "math": {"aime-2025": 1.0, "aime-2024": 1.0},
    "chinese": {"c-eval": 1.0, "cmmlu": 1.0},
    "traditional-chinese": {"tmmlu-plus": 1.0},
    "vision": {"mmmu": 1.0},
    "long-context": {"ruler-128k": 1.0, "ruler-1m": 1.0, "longbench-v2": 1.0},
    "multilingual": {"mmmlu": 1.0, "mmlu-prox": 1.0, "mgsm": 1.0},
    "tool-use": {"bfcl-v3": 1.0, "bfcl-v4": 1.0, "bfcl-v2": 0.5, "tau2-bench": 1.0, "tau2-retail": 1.0},
    "instruction-following": {"ifeval": 1.0},
}

# Where a task without figures borrows from, in order. Only the borrowed task's own figures are
# used (no fallback of a fallback). Vision never borrows: whether a model sees images at all is the
# catalog's `modalities`, and a text benchmark says nothing about image understanding.
FALLBACKS: dict[str, tuple[str, ...]] = {
    "general": ("reasoning", "coding", "instruction-following"),
    "coding": ("general",),
    "reasoning": ("general",),
    "math": ("reasoning", "general"),
    "chinese": ("general",),
    "traditional-chinese": ("chinese", "general"),
    "vision": (),
    "long-context": ("general",),
    "multilingual": ("general",),
    "tool-use": ("instruction-following", "general"),
    "instruction-following": ("general",),
}

# Multiplier per fallback step: the n-th entry of a task's FALLBACKS is scaled by FACTOR ** n.
FALLBACK_FACTOR = 0.9

# Preference when one (variant, mode, benchmark) has figures from several sources (lower first).
KIND_RANK: dict[str, int] = {
    "model-card": 0,
    "tech-report": 0,
    "release-post": 0,
    "leaderboard": 1,
    "community": 2,
    "aggregator": 3,
}

KIND_LABEL: dict[str, str] = {
    "model-card": "model card",
    "tech-report": "tech report",
    "release-post": "release post",
    "leaderboard": "leaderboard",
    "community": "community measurement",
    "aggregator": "aggregator",
}

_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
_MODE_ORDER = {"thinking": 0, "non-thinking": 1, "default": 2}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _date_text(value: object) -> object:
    # YAML reads 2025-07-21 as a date; YYYY-MM stays a string. Both end up as text.
    return value.isoformat() if isinstance(value, date) else value


class Benchmark(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    name: str
    measures: str
    scale: str = Field(description="'percent' (0-100) or a short word for another scale (elo, index 0-100)")
    higher_is_better: bool = True
    min: float | None = Field(default=None, description="Lowest plausible value; 0 for percent")
    max: float | None = Field(default=None, description="Highest plausible value; 100 for percent")

    @model_validator(mode="after")
    def _range(self) -> Benchmark:
        if self.scale != "percent" and (self.min is None or self.max is None) and not self.scale.startswith("index"):
            raise ValueError(f"benchmark {self.id}: a non-percent scale needs min and max")
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"benchmark {self.id}: min must be below max")
        return self

    @property
    def low(self) -> float:
        return 0.0 if self.min is None else self.min

    @property
    def high(self) -> float:
        return 100.0 if self.max is None else self.max


class Source(_Strict):
    cite: str = Field(min_length=10, description="What it is and where: 'model card: huggingface.co/<repo> (<table>)'")
    short: str | None = Field(default=None, description="A short name for answers; derived from cite when absent")
    mirror: str | None = Field(default=None, description="Where the copy that was read lives, when not the original")
    date: str = Field(description="YYYY-MM-DD or YYYY-MM: publication date, or the date a leaderboard was read")
    kind: SourceKind

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: object) -> object:
        value = _date_text(value)
        if not isinstance(value, str) or not _DATE.match(value):
            raise ValueError(f"source date must be YYYY-MM-DD or YYYY-MM, got {value!r}")
        return value


class ScoreEntry(_Strict):
    variant: str = Field(min_length=2, description="Hugging Face repo id (owner/name) of the weights measured")
    mode: Mode
    source: str
    column: str | None = Field(default=None, description="The table column, when the table compares several models")
    figures: dict[str, float] = Field(min_length=1)
    notes: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _notes_name_figures(self) -> ScoreEntry:
        stray = sorted(set(self.notes) - set(self.figures))
        if stray:
            raise ValueError(f"{self.variant}: notes for benchmarks without a figure: {stray}")
        return self


class CapabilityFile(_Strict):
    schema_version: int
    as_of: str
    benchmarks: list[Benchmark] = Field(min_length=1)
    sources: dict[str, Source] = Field(min_length=1)
    scores: list[ScoreEntry]

    @field_validator("as_of", mode="before")
    @classmethod
    def _as_of(cls, value: object) -> object:
        return _date_text(value)

    @model_validator(mode="after")
    def _references(self) -> CapabilityFile:
        vocabulary = {b.id: b for b in self.benchmarks}
        if len(vocabulary) != len(self.benchmarks):
            raise ValueError("duplicate benchmark ids")
        unused_weights = {b for weights in TASK_WEIGHTS.values() for b in weights} - set(vocabulary)
        if unused_weights:
            raise ValueError(f"TASK_WEIGHTS name benchmarks missing from the vocabulary: {sorted(unused_weights)}")
        seen: set[tuple[str, str, str, str]] = set()
        for entry in self.scores:
            if entry.source not in self.sources:
                raise ValueError(f"{entry.variant}: unknown source {entry.source!r}")
            for bench, value in entry.figures.items():
                if bench not in vocabulary:
                    raise ValueError(f"{entry.variant}: benchmark {bench!r} is not in the vocabulary")
                spec = vocabulary[bench]
                if isinstance(value, bool) or not spec.low <= float(value) <= spec.high:
                    raise ValueError(
                        f"{entry.variant}: {bench} = {value!r} is outside {spec.low:g}..{spec.high:g}"
                    )
                key = (entry.variant, entry.mode, entry.source, bench)
                if key in seen:
                    raise ValueError(f"{entry.variant}: {bench} given twice by {entry.source} ({entry.mode})")
                seen.add(key)
        return self


# ---------------------------------------------------------------- runtime view
