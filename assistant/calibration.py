"""Fit and check the speed model against knowledge/benchmarks.yaml.

`hardware.FITTED` holds the constants this module fits on the ``split: fit`` rows; the tests re-run
the fit and check the error on the ``split: holdout`` rows. Run ``python -m assistant.calibration``
to print the fitted numbers and the per-row errors.
"""

from __future__ import annotations

import math
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from .hardware import (
    KNOWLEDGE_DIR,
    QUANT_BITS,
    SpeedModel,
    decode_tokens_per_s,
    normalize_quant,
    preset_named,
)

BENCHMARKS_YAML = KNOWLEDGE_DIR / "benchmarks.yaml"
BACKEND_CLASS = {"cuda": "gpu", "rocm-vulkan": "gpu", "metal": "metal", "cpu": "cpu"}


@dataclass(frozen=True)
class BenchmarkRow:
    """One published measurement, with the hardware numbers resolved from the presets."""

    id: str
    hardware: str
    backend: str
    model: str
    params_total_b: float
    params_active_b: float | None
    quant: str
    tg: float
    pp: float | None
    bandwidth_gbs: float
    memory_gb: float
    gpus: int
    placement: str
    split: str
    source: str
    build: str
    ram_bandwidth_gbs: float | None = None

    @property
    def backend_class(self) -> str:
        return BACKEND_CLASS[self.backend]

    @property
    def moe(self) -> bool:
        return self.params_active_b is not None

    @property
    def active_b(self) -> float:
        return self.params_active_b or self.params_total_b

    @property
    def active_gb(self) -> float:
        return self.active_b * QUANT_BITS[self.quant] / 8


def load_benchmarks(path: Path | None = None) -> list[BenchmarkRow]:
    """Every row of knowledge/benchmarks.yaml; raises ValueError on a row that does not resolve."""
    import yaml  # noqa: PLC0415

    path = path or BENCHMARKS_YAML
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    rows = []
    for raw in data["rows"]:
        preset = preset_named(str(raw["hardware"]))
        if preset is None:
            raise ValueError(f"{path}: row {raw.get('id')!r} names unknown hardware {raw['hardware']!r}")
        if raw["backend"] not in BACKEND_CLASS:
            raise ValueError(f"{path}: row {raw['id']!r} has unknown backend {raw['backend']!r}")
        if not str(raw.get("source", "")).startswith("https://"):
            raise ValueError(f"{path}: row {raw['id']!r} has no source URL")
        rows.append(
            BenchmarkRow(
                id=str(raw["id"]),
                hardware=preset.name,
                backend=str(raw["backend"]),
                model=str(raw["model"]),
                params_total_b=float(raw["params_total_b"]),
                params_active_b=float(raw["params_active_b"]) if raw.get("params_active_b") else None,
                quant=normalize_quant(str(raw["quant"])),
                tg=float(raw["tg"]),
                pp=float(raw["pp"]) if raw.get("pp") else None,
                bandwidth_gbs=float(raw.get("bandwidth_gbs") or preset.bandwidth_gbs),
                memory_gb=preset.memory_gb,
                gpus=int(raw.get("gpus", 1)),
                placement=str(raw.get("placement", "full")),
                split=str(raw["split"]),
                source=str(raw["source"]),
                build=str(raw.get("build", "")),
                ram_bandwidth_gbs=float(raw["ram_bandwidth_gbs"]) if raw.get("ram_bandwidth_gbs") else None,
            )
        )
    return rows


def predict(row: BenchmarkRow, model: SpeedModel) -> float:
    """The model's tokens/s for a fully resident row (multi-GPU: same as one card, layers in turn)."""
    return decode_tokens_per_s(row.active_gb, row.bandwidth_gbs, row.backend_class, row.moe, model)


def _loss(model: SpeedModel, rows: list[BenchmarkRow]) -> float:
    return sum(math.log(predict(r, model) / r.tg) ** 2 for r in rows)


_DECODE_FIELDS = (
    "efficiency_gpu",
    "efficiency_metal",
    "efficiency_cpu",
    "moe_efficiency",
    "overhead_ms_gpu",
    "overhead_ms_metal",
    "overhead_ms_cpu",
)


def fit(rows: list[BenchmarkRow]) -> SpeedModel:
    """Least squares on log(tokens/s) over fully resident rows, by multiplicative coordinate search.

    Efficiencies are kept in (0, 1]. Deterministic: the same rows give the same constants.
    A backend without rows keeps its starting value. Prompt-processing factors are the geometric
    mean of ``pp * active_params_b / bandwidth`` per backend over rows with pp numbers.
    """
    rows = [r for r in rows if r.placement == "full"]
    if not rows:
        raise ValueError("no fully resident benchmark rows to fit")
    params = {"efficiency_gpu": 0.7, "efficiency_metal": 0.7, "efficiency_cpu": 0.7, "moe_efficiency": 0.7,
              "overhead_ms_gpu": 2.0, "overhead_ms_metal": 2.0, "overhead_ms_cpu": 5.0}
    steps = dict.fromkeys(params, 0.2)

    def make(p: dict[str, float]) -> SpeedModel:
        return SpeedModel(**p)

    best = _loss(make(params), rows)
    for _ in range(5000):
        improved = False
        for key in _DECODE_FIELDS:
            for factor in (1 + steps[key], 1 / (1 + steps[key])):
                trial = dict(params)
                trial[key] = params[key] * factor
                if (key.startswith("efficiency") or key == "moe_efficiency") and trial[key] > 1.0:
                    continue
                loss = _loss(make(trial), rows)
                if loss < best - 1e-12:
                    params, best, improved = trial, loss, True
        if not improved:
            steps = {k: v / 2 for k, v in steps.items()}
            if max(steps.values()) < 1e-5:
                break
    pp: dict[str, float | None] = {}
    for backend in ("gpu", "metal", "cpu"):
        logs = [math.log(r.pp * r.active_b / r.bandwidth_gbs) for r in rows if r.pp and r.backend_class == backend]
        pp[f"pp_factor_{backend}"] = math.exp(statistics.fmean(logs)) if logs else None
    return SpeedModel(**params, **pp)


@dataclass(frozen=True)
class ErrorReport:
    """Relative errors (predicted / measured - 1) of a speed model on some rows."""

    errors: dict[str, float]

    @property
    def within_35(self) -> float:
        return sum(abs(e) <= 0.35 for e in self.errors.values()) / len(self.errors)

    @property
    def median_abs(self) -> float:
        return statistics.median(abs(e) for e in self.errors.values())


def evaluate(rows: list[BenchmarkRow], model: SpeedModel) -> ErrorReport:
    """Errors of `model` on the fully resident `rows`."""
    return ErrorReport({r.id: predict(r, model) / r.tg - 1 for r in rows if r.placement == "full"})


def ceiling_report(rows: list[BenchmarkRow]) -> ErrorReport:
    """Errors of the bare bandwidth ceiling (bandwidth / active bytes), for comparison."""
    return ErrorReport({r.id: r.bandwidth_gbs / r.active_gb / r.tg - 1 for r in rows if r.placement == "full"})


def main() -> int:
    rows = load_benchmarks()
    train = [r for r in rows if r.split == "fit"]
    held = [r for r in rows if r.split == "holdout"]
    model = fit(train)
    print(model)
    for name, subset in (("fit", train), ("holdout", held)):
        report = evaluate(subset, model)
        ceiling = ceiling_report(subset)
        print(f"{name}: {len(report.errors)} rows, within +-35%: {report.within_35:.0%}, "
              f"median |error|: {report.median_abs:.1%}; bare ceiling median |error|: {ceiling.median_abs:.0%}")
        for row_id, err in report.errors.items():
            flag = "  <-- outside 35%" if abs(err) > 0.35 else ""
            print(f"  {row_id:42s} {err:+.0%}{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
