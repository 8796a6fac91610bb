"""Test equating: a task's benchmarks put on one ability scale (see `assistant.capability`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

# ---------------------------------------------------------------- the common scale of a task
from .capability_schema import TASK_WEIGHTS

MIN_FIT = 4  # a benchmark needs this many figures before its map to the common scale is fitted
FIT_ROUNDS = 100
SLOPE_BOUNDS = (0.25, 4.0)  # a fitted slope stays within these multiples of the benchmark's spread


@dataclass(frozen=True)
class TaskScale:
    """A task's benchmarks mapped onto one ability scale, and the catalog's spread on it.

    Every figure x of benchmark b is read as ability ``(x - offset[b]) / slope[b]``; slope > 0, so
    the map is monotone. `abilities` holds the fitted ability of every (variant, mode) with a figure
    for the task. A figure's normalised value is the mid-rank percentile of its ability among
    `abilities`: ``(below + 0.5 * equal + 0.5) / (n + 1)``, strictly between 0 and 1.
    """

    task: str
    offset: dict[str, float]
    slope: dict[str, float]
    fitted: dict[str, bool]  # False: too few figures to fit; the benchmark's own spread is used
    abilities: dict[tuple[str, str], float]
    _sorted: tuple[float, ...] = ()

    def ability(self, benchmark: str, value: float) -> float:
        return (value - self.offset[benchmark]) / self.slope[benchmark]

    def percentile(self, ability: float) -> float:
        below = sum(a < ability for a in self._sorted)
        equal = sum(a == ability for a in self._sorted)
        return (below + 0.5 * equal + 0.5) / (len(self._sorted) + 1)

    def normalise(self, benchmark: str, value: float) -> float:
        if benchmark not in self.slope:
            return 0.5  # no figure of this benchmark in the file: nothing to compare against
        return self.percentile(self.ability(benchmark, value))


def _fit_scale(task: str, rows: dict[tuple[str, str], dict[str, float]]) -> TaskScale:
    """Fit ``x[v, b] = offset[b] + slope[b] * ability[v]`` by alternating least squares.

    This puts benchmarks that different variants happen to report on one scale (test equating):
    a small model that only reports MMLU is compared with a large one that only reports MMLU-Pro
    through the variants that report both. Benchmarks with fewer than MIN_FIT figures keep their
    own spread as slope and are centred on the abilities of the variants that report them; a
    benchmark with a single figure only echoes its variant's other benchmarks (or the middle).
    """
    weights = TASK_WEIGHTS[task]
    by_bench: dict[str, list[tuple[tuple[str, str], float]]] = defaultdict(list)
    for row, values in rows.items():
        for bench, value in values.items():
            by_bench[bench].append((row, value))
    spread: dict[str, float | None] = {}
    centre: dict[str, float] = {}
    for bench, items in by_bench.items():
        xs = [x for _, x in items]
        centre[bench] = sum(xs) / len(xs)
        sd = (sum((x - centre[bench]) ** 2 for x in xs) / len(xs)) ** 0.5
        spread[bench] = sd if len(xs) >= 2 and sd > 0 else None
    known = sorted(v for v in spread.values() if v)
    typical = known[len(known) // 2] if known else 10.0

    def calibrated(bench: str) -> bool:
        return len(by_bench[bench]) >= 2 and spread[bench] is not None

    ability: dict[tuple[str, str], float] = {}
    for row, values in rows.items():
        zs = [(weights[b], (x - centre[b]) / spread[b]) for b, x in values.items() if calibrated(b)]
        ability[row] = sum(w * z for w, z in zs) / sum(w for w, _ in zs) if zs else 0.0

    offset: dict[str, float] = {}
    slope: dict[str, float] = {}
    fitted: dict[str, bool] = {}
    for _ in range(FIT_ROUNDS):
        _standardise(ability)
        _fit_benchmarks(by_bench, ability, spread, centre, typical, offset, slope, fitted)
        for row, values in rows.items():
            terms = [(weights[b], slope[b], x - offset[b]) for b, x in values.items() if calibrated(b)]
            den = sum(w * c * c for w, c, _ in terms)
            if den > 0:  # weighted least squares for this row's ability
                ability[row] = sum(w * c * resid for w, c, resid in terms) / den
    _standardise(ability)
    _fit_benchmarks(by_bench, ability, spread, centre, typical, offset, slope, fitted)
    return TaskScale(task, offset, slope, fitted, dict(ability), tuple(sorted(ability.values())))


def _standardise(ability: dict[tuple[str, str], float]) -> None:
    if not ability:
        return
    values = list(ability.values())
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5 or 1.0
    for row in ability:
        ability[row] = (ability[row] - mean) / sd


def _fit_benchmarks(
    by_bench: dict[str, list[tuple[tuple[str, str], float]]],
    ability: dict[tuple[str, str], float],
    spread: dict[str, float | None],
    centre: dict[str, float],
    typical: float,
    offset: dict[str, float],
    slope: dict[str, float],
    fitted: dict[str, bool],
) -> None:
    for bench, items in by_bench.items():
        thetas = [ability[row] for row, _ in items]
        xs = [x for _, x in items]
        n = len(items)
        mean_t = sum(thetas) / n
        mean_x = sum(xs) / n
        var_t = sum((t - mean_t) ** 2 for t in thetas) / n
        own = spread[bench] or typical
        if n >= MIN_FIT and var_t > 1e-9:
            cov = sum((t - mean_t) * (x - mean_x) for t, x in zip(thetas, xs, strict=True)) / n
            c = min(max(cov / var_t, SLOPE_BOUNDS[0] * own), SLOPE_BOUNDS[1] * own)
            fitted[bench] = True
        else:
            c = own
            fitted[bench] = False
        slope[bench] = c
        offset[bench] = mean_x - c * mean_t if n >= 2 else centre[bench] - c * mean_t
