"""How capable a model variant is, per task, from cited benchmark figures.

The data is ``knowledge/capabilities.yaml``: published benchmark figures per model variant, each
with the source it comes from, the source's date and the exact weights it was measured on. This
module loads and validates that file and turns the raw figures into one comparable number per task.
See docs/capability.md for the method in prose.

File shape (validated by :class:`CapabilityFile`)::

    schema_version: 1
    as_of: 2026-12-02
    benchmarks:                     # the vocabulary; a figure may only name one of these ids
      - {id: mmlu-pro, name: MMLU-Pro, measures: "...", scale: percent}
      - {id: lmarena-text, name: LMArena text score, measures: "...", scale: elo, min: 800, max: 1700}
    sources:                        # every figure points at one of these
      qwen3-report:
        cite: "tech report: Qwen3 Technical Report, arXiv:2505.09388 (tables 11-20)"
        short: "Qwen3 tech report"  # optional: the name used when quoting (derived from cite otherwise)
        mirror: "..."               # optional: a copy of the official text on another host
        date: 2025-05-14            # YYYY-MM-DD or YYYY-MM: when the source was published / read
        kind: tech-report           # model-card | tech-report | release-post | leaderboard | community | aggregator
    scores:
      - variant: Qwen/Qwen3-8B      # Hugging Face repo id of the weights measured; a plain name
                                    # (no owner) when the repo id was not verified
        mode: thinking              # thinking | non-thinking | default (what the source reports)
        source: qwen3-report
        column: "Qwen3-8B (Table 17)"   # set when the figure is a column of a table about several models
        figures: {gpqa-diamond: 62.0, livecodebench: 57.5}
        notes: {livecodebench: "v5"}    # optional per-figure notes (version, harness)

Normalisation (why and how):

* Benchmarks have different scales (percent, Elo, index) and difficulty (IFEval scores sit near 85,
  GPQA near 50), and each variant reports a different subset of them. Averaging raw values, or
  ranking each benchmark only among the variants that happen to report it, would compare a small
  model that reports only MMLU with a large one that reports only MMLU-Pro on unrelated footing.
* So each task's benchmarks are first put on one ability scale (test equating): the model
  ``x[variant, b] = offset[b] + slope[b] * ability[variant]`` is fitted by alternating least
  squares over every figure of the task (:func:`_fit_scale`). Variants that report several
  benchmarks tie the benchmarks together; ``slope > 0`` always, so the map is monotone.
  Benchmarks with fewer than MIN_FIT figures keep their own spread as slope.
* A figure's normalised value (0..1) is the mid-rank percentile of its implied ability
  ``(x - offset[b]) / slope[b]`` among the fitted abilities of every (variant, mode) with a figure
  for the task: ``(below + 0.5 * equal + 0.5) / (n + 1)``. It is monotone (a higher raw figure
  never gets a lower value), scale-free, robust to one extreme figure (unlike min-max), and
  strictly between 0 and 1. Its cost: it is relative to what the file holds, so adding strong models
  lowers everyone else's value; the ranking, which is what it is for, is unaffected.
* A task (:data:`TASKS`) is a weighted list of benchmarks (:data:`TASK_WEIGHTS`). A variant's task
  score is the weighted mean of the percentiles of the task's benchmarks it has figures for.
* Where a variant has no figure for a task it falls back along :data:`FALLBACKS` (for example
  traditional-chinese -> chinese -> general); each step multiplies the score by
  :data:`FALLBACK_FACTOR`, because an ability nobody measured is not assumed to be as good as a
  neighbouring one. The returned :class:`Capability` says what it fell back to.
* No figure at all, even after the fallbacks: :meth:`Capabilities.for_task` returns None and
  :meth:`Capabilities.missing_reason` says "not measured".
* Modes: figures marked ``default`` apply to every mode of the variant; ``thinking`` and
  ``non-thinking`` figures only to that mode. Without an explicit mode, the best mode for the task
  is used and reported.
* One figure per (variant, mode, benchmark) is kept: the model's own publication before a
  comparison column in someone else's, maker publications before leaderboards, leaderboards before
  community runs and aggregators, then the most recent.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .capability_scale import MIN_FIT, TaskScale, _fit_scale  # noqa: F401  (MIN_FIT: documented with the method)
from .capability_schema import (  # noqa: F401  (re-exported: the module's public vocabulary)
    _MODE_ORDER,
    FALLBACK_FACTOR,
    FALLBACKS,
    KIND_LABEL,
    KIND_RANK,
    TASK_WEIGHTS,
    TASKS,
    Benchmark,
    CapabilityFile,
    Mode,
    ScoreEntry,
    Source,
    SourceKind,
)
from .text import name_key

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "knowledge" / "capabilities.yaml"

NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class Figure:
    """One raw figure with everything needed to cite it."""

    variant: str
    mode: str
    benchmark: str
    benchmark_name: str
    value: float
    source_id: str
    source: str  # the citation
    source_short: str
    date: str
    kind: str
    column: str | None = None
    note: str | None = None
    mirror: str | None = None

    @property
    def own(self) -> bool:
        """The variant's own publication rather than a column in another model's table."""
        return self.column is None

    @property
    def label(self) -> str:
        """'LiveCodeBench 74.1 (Qwen3-235B-A22B-Thinking-2507 model card, 2025-07)'."""
        return f"{self.benchmark_name} {self.value:g} ({self.source_short}, {self.date[:7]})"


@dataclass(frozen=True)
class Capability:
    """A variant's normalised capability for one task, with what it rests on."""

    variant: str
    task: str
    score: float  # 0..1, higher is better; relative to the variants the file holds
    mode: str  # the mode whose figures gave this score
    benchmarks: tuple[str, ...]  # benchmark ids the score averages
    figures: tuple[Figure, ...]  # the raw figures behind it, with sources
    normalised: dict[str, float] = field(default_factory=dict)  # benchmark id -> percentile
    fell_back_to: str | None = None  # the task whose figures were borrowed; None when measured directly

    @property
    def measured(self) -> bool:
        return self.fell_back_to is None

    @property
    def basis(self) -> str:
        """Human-readable basis: 'livecodebench, swe-bench-verified' or 'fallback: general (mmlu-pro)'."""
        used = ", ".join(self.benchmarks)
        return used if self.fell_back_to is None else f"fallback: {self.fell_back_to} ({used})"

    @property
    def best_figure(self) -> Figure:
        """The figure to quote: the task's most weighted benchmark; maker sources, own publication, newest first."""
        task = self.fell_back_to or self.task
        weights = TASK_WEIGHTS[task]
        return max(
            self.figures,
            key=lambda f: (weights.get(f.benchmark, 0.0), -KIND_RANK[f.kind], f.own, f.date, f.value),
        )

    @property
    def quote(self) -> str:
        return self.best_figure.label


def _key_form(text: str) -> str:
    """The comparison form of a name: assistant.knowledge.name_key, without OpenCC for ASCII text."""
    if text.isascii():
        return re.sub(r"[\s\-_.]+", "", unicodedata.normalize("NFKC", text).lower())
    return name_key(text)


def _short_of(source: Source) -> str:
    if source.short:
        return source.short
    # 'model card: huggingface.co/Qwen/Qwen3-8B (...)' -> 'Qwen3-8B model card'
    kind, _, rest = source.cite.partition(":")
    target = rest.strip().split(" ")[0].rstrip("/")
    name = target.rsplit("/", 1)[-1] if "/" in target else target
    label = kind.strip()
    if name and kind.strip() in {"model card", "README"}:
        return f"{name} {label}"
    return KIND_LABEL.get(source.kind, label)


class Capabilities:
    """The loaded capability data. Keys are the repo ids / names of ``scores[].variant``."""

    def __init__(self, data: CapabilityFile, path: Path | None = None) -> None:
        self.data = data
        self.path = path
        self.benchmarks: dict[str, Benchmark] = {b.id: b for b in data.benchmarks}
        kept: dict[tuple[str, str, str], Figure] = {}
        all_figures: list[Figure] = []
        for entry in data.scores:
            source = data.sources[entry.source]
            for bench, value in entry.figures.items():
                figure = Figure(
                    variant=entry.variant,
                    mode=entry.mode,
                    benchmark=bench,
                    benchmark_name=self.benchmarks[bench].name,
                    value=float(value),
                    source_id=entry.source,
                    source=source.cite,
                    source_short=_short_of(source),
                    date=source.date,
                    kind=source.kind,
                    column=entry.column,
                    note=entry.notes.get(bench),
                    mirror=source.mirror,
                )
                all_figures.append(figure)
                slot = (entry.variant, entry.mode, bench)
                if slot not in kept or _preference(figure) < _preference(kept[slot]):
                    kept[slot] = figure
        self.all_figures: tuple[Figure, ...] = tuple(all_figures)
        self.figures: tuple[Figure, ...] = tuple(kept.values())
        self._by_variant: dict[str, list[Figure]] = defaultdict(list)
        for figure in self.figures:
            self._by_variant[figure.variant].append(figure)
        self._scales: dict[str, TaskScale] = {}
        self._lookup: dict[str, str] = {}
        tails: dict[str, set[str]] = defaultdict(set)
        for key in self._by_variant:
            self._lookup[_key_form(key)] = key
            tails[_key_form(key.rsplit("/", 1)[-1])].add(key)
        for tail, keys in tails.items():
            if len(keys) == 1:
                self._lookup.setdefault(tail, next(iter(keys)))

    # ------------------------------------------------------------ lookups

    def keys(self) -> list[str]:
        """Every variant key the file has figures for, in file order."""
        return list(self._by_variant)

    def resolve(self, variant: str) -> str | None:
        """The file's key for a repo id or name (exact, then name_key form, then the part after '/')."""
        if variant in self._by_variant:
            return variant
        form = _key_form(variant)
        if form in self._lookup:
            return self._lookup[form]
        return self._lookup.get(_key_form(variant.rsplit("/", 1)[-1]))

    def figures_for(self, variant: str, mode: str | None = None) -> list[Figure]:
        """The kept figures of a variant (all modes, or one mode plus its 'default' figures)."""
        key = self.resolve(variant)
        if key is None:
            return []
        figures = self._by_variant[key]
        if mode is None:
            return list(figures)
        return _mode_view(figures, mode)

    def modes(self, variant: str) -> list[str]:
        """The modes a variant's figures distinguish ('default' only when it has no other)."""
        key = self.resolve(variant)
        if key is None:
            return []
        explicit = sorted({f.mode for f in self._by_variant[key]} - {"default"}, key=_MODE_ORDER.__getitem__)
        return explicit or ["default"]

    # ------------------------------------------------------------ normalisation

    def scale(self, task: str) -> TaskScale:
        """The fitted common scale of a task (see TaskScale); computed once per task."""
        if task not in TASK_WEIGHTS:
            raise ValueError(f"unknown task {task!r}; tasks: {', '.join(TASKS)}")
        if task not in self._scales:
            self._scales[task] = _fit_scale(task, self._rows(task))
        return self._scales[task]

    def normalise(self, task: str, benchmark: str, value: float) -> float:
        """A raw figure of `benchmark` as a 0..1 capability within `task` (monotone in `value`)."""
        return self.scale(task).normalise(benchmark, value)

    def pool_size(self, benchmark: str) -> int:
        """How many kept figures the file holds for a benchmark (all variants and modes)."""
        return sum(1 for f in self.figures if f.benchmark == benchmark)

    def _rows(self, task: str) -> dict[tuple[str, str], dict[str, float]]:
        weights = TASK_WEIGHTS[task]
        rows: dict[tuple[str, str], dict[str, float]] = {}
        for key in self.keys():
            for mode in self.modes(key):
                values = {f.benchmark: f.value for f in _mode_view(self._by_variant[key], mode) if f.benchmark in weights}
                if values:
                    rows[(key, mode)] = values
        return rows

    # ------------------------------------------------------------ task scores

    def for_task(self, variant: str, task: str, mode: str | None = None) -> Capability | None:
        """The variant's capability for `task` (one of TASKS), or None when nothing is measured.

        With `mode` None the best of the variant's modes is returned (its mode is in the result).
        A task without figures falls back along FALLBACKS; the result's `fell_back_to` says so.
        """
        if task not in TASK_WEIGHTS:
            raise ValueError(f"unknown task {task!r}; tasks: {', '.join(TASKS)}")
        key = self.resolve(variant)
        if key is None:
            return None
        modes = [mode] if mode is not None else self.modes(key)
        best: Capability | None = None
        for candidate_mode in modes:
            figures = _mode_view(self._by_variant[key], candidate_mode)
            if not figures:
                continue
            result = self._score(key, task, candidate_mode, figures)
            if result is None:
                continue
            if best is None or (result.measured, result.score) > (best.measured, best.score):
                best = result
        return best

    def missing_reason(self, variant: str, task: str, mode: str | None = None) -> str | None:
        """None when for_task has a value; otherwise why not ('not measured', with detail)."""
        if self.for_task(variant, task, mode) is not None:
            return None
        key = self.resolve(variant)
        if key is None:
            return f"{NOT_MEASURED}: no capability data for {variant}"
        if task == "vision":
            return f"{NOT_MEASURED}: no vision benchmark for {key} (vision does not fall back to text benchmarks)"
        return f"{NOT_MEASURED}: no {task} figure for {key}, nor for {', '.join(FALLBACKS[task]) or 'a fallback'}"

    def ranked(self, task: str, variants: Iterable[str] | None = None) -> list[tuple[str, Capability | None]]:
        """Variants ordered by task score (best first), unmeasured (None) last.

        Measured and borrowed scores are ordered together (a borrowed one already carries the
        FALLBACK_FACTOR penalty); `Capability.fell_back_to` tells them apart.
        """
        names = list(variants) if variants is not None else self.keys()
        scored = [(name, self.for_task(name, task)) for name in names]
        return sorted(scored, key=lambda item: (item[1] is None, -(item[1].score if item[1] else 0.0)))

    def _score(self, key: str, task: str, mode: str, figures: list[Figure]) -> Capability | None:
        direct = self._weighted(key, task, mode, figures, task)
        if direct is not None:
            return direct
        for step, other in enumerate(FALLBACKS[task], start=1):
            borrowed = self._weighted(key, task, mode, figures, other)
            if borrowed is not None:
                return Capability(
                    variant=key,
                    task=task,
                    score=borrowed.score * FALLBACK_FACTOR**step,
                    mode=mode,
                    benchmarks=borrowed.benchmarks,
                    figures=borrowed.figures,
                    normalised=borrowed.normalised,
                    fell_back_to=other,
                )
        return None

    def _weighted(self, key: str, task: str, mode: str, figures: list[Figure], weights_of: str) -> Capability | None:
        weights = TASK_WEIGHTS[weights_of]
        used = [f for f in figures if f.benchmark in weights]
        if not used:
            return None
        normalised = {f.benchmark: self.normalise(weights_of, f.benchmark, f.value) for f in used}
        total = sum(weights[b] for b in normalised)
        score = sum(weights[b] * p for b, p in normalised.items()) / total
        order = sorted(normalised, key=lambda b: (-weights[b], list(weights).index(b)))
        return Capability(
            variant=key,
            task=task,
            score=score,
            mode=mode,
            benchmarks=tuple(order),
            figures=tuple(sorted(used, key=lambda f: order.index(f.benchmark))),
            normalised=normalised,
        )

    # ------------------------------------------------------------ coverage

    def coverage(self) -> dict[str, int]:
        """How many variants have a direct (not borrowed) figure per task."""
        return {
            task: sum(
                1 for key in self.keys() if any(f.benchmark in TASK_WEIGHTS[task] for f in self._by_variant[key])
            )
            for task in TASKS
        }


def _preference(figure: Figure) -> tuple[bool, int, str]:
    # own publication first, then maker publications over leaderboards over community/aggregators,
    # then the newest; the date is negated by sorting on its complement below
    return (not figure.own, KIND_RANK[figure.kind], _newest_first(figure.date))


def _newest_first(text: str) -> str:
    # map digits so that a later date sorts first under ascending order
    return text.translate(str.maketrans("0123456789", "9876543210"))


def _mode_view(figures: list[Figure], mode: str) -> list[Figure]:
    """A mode's figures plus the variant's 'default' figures for benchmarks the mode lacks."""
    own = [f for f in figures if f.mode == mode]
    if mode == "default":
        return own
    have = {f.benchmark for f in own}
    return own + [f for f in figures if f.mode == "default" and f.benchmark not in have]


def load_capabilities(path: Path | str | None = None) -> Capabilities:
    """Load and validate knowledge/capabilities.yaml (or `path`); raises ValueError when invalid."""
    path = Path(path) if path is not None else DEFAULT_PATH
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        data = CapabilityFile.model_validate(raw)
    except Exception as error:  # pydantic.ValidationError is a ValueError subclass; keep the path
        raise ValueError(f"{path}: {error}") from error
    return Capabilities(data, path)


def main() -> None:  # pragma: no cover - a small report for maintainers
    caps = load_capabilities()
    print(f"{len(caps.keys())} variants, {len(caps.figures)} figures kept of {len(caps.all_figures)}")
    for task, count in caps.coverage().items():
        print(f"  {task:22} {count} variants measured directly")


if __name__ == "__main__":  # pragma: no cover
    main()
