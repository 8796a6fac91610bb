"""Fit and check the speed model against knowledge/benchmarks.yaml.

`hardware.FITTED` holds the constants `fit` finds on the ``split: fit`` rows; the tests re-run the fit
and check the error on the ``split: holdout`` rows. The split is a fixed rule (`assign_splits`): within
each hardware class, rows sorted by id alternate fit, holdout, fit, ... Run ``python -m assistant.calibration``
to print the fitted numbers, the per-class errors on the held-back half, and the per-row errors.
"""

from __future__ import annotations

import math
import re
import statistics
import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path

from .hardware import (
    KNOWLEDGE_DIR,
    SpeedModel,
    active_weights_gb,
    decode_seconds,
    estimated_layers,
    normalize_quant,
    preset_named,
    tensor_groups_for,
)

BENCHMARKS_YAML = KNOWLEDGE_DIR / "benchmarks.yaml"
BACKENDS = ("cuda", "rocm", "vulkan", "rocm-vulkan", "metal", "cpu")
BACKEND_CLASS = {"cuda": "gpu", "rocm": "gpu", "vulkan": "gpu", "rocm-vulkan": "gpu", "metal": "metal", "cpu": "cpu"}
CLASS_LABELS = {
    "nvidia-consumer": "NVIDIA RTX 20/30/40",
    "nvidia-rtx50": "NVIDIA RTX 50 / Blackwell",
    "nvidia-workstation-dc": "NVIDIA workstation & data centre",
    "amd-gpu": "AMD Radeon (ROCm, Vulkan)",
    "amd-strix-halo": "AMD Strix Halo",
    "apple-base": "Apple M base",
    "apple-pro": "Apple M Pro",
    "apple-max": "Apple M Max",
    "apple-ultra": "Apple M Ultra",
    "cpu": "CPU only",
    "multi-gpu": "multi-GPU (layer split)",
}
OLD_BUILD_BEFORE = (2024, 6)
"""Builds before June 2024 (before llama.cpp's CUDA graphs, May 2024) pay more per layer on GPUs."""


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
    n_layers: int | None = None
    speed_class: str = "nvidia"
    hw_class: str = "nvidia-consumer"
    platform: str = "discrete"
    memory_kind: str = "vram"
    memory_stated: bool = True

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
        return active_weights_gb(self.active_b, self.params_total_b, self.quant, tensor_groups_for(self.model))

    @property
    def layers(self) -> int:
        return self.n_layers or estimated_layers(self.params_total_b)

    @property
    def report_class(self) -> str:
        return "multi-gpu" if self.gpus > 1 else self.hw_class

    @property
    def m1_fabric(self) -> bool:
        return bool(M1_FABRIC.match(self.hardware))

    @property
    def old_build(self) -> bool:
        if self.backend_class == "cpu":
            return False
        date = re.search(r"\b(20\d\d)-(\d\d)", self.build)
        if date:
            return (int(date.group(1)), int(date.group(2))) < OLD_BUILD_BEFORE
        number = re.search(r"\((\d{3,5})\)", self.build)
        return bool(number) and int(number.group(1)) < 2800


def load_benchmarks(path: Path | None = None) -> list[BenchmarkRow]:
    """Every row of knowledge/benchmarks.yaml; raises ValueError on a row that does not resolve."""
    import yaml  # noqa: PLC0415

    path = path or BENCHMARKS_YAML
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    layers = {name: int(v["n_layers"]) for name, v in (data.get("models") or {}).items()}
    rows = []
    for raw in data["rows"]:
        preset = preset_named(str(raw["hardware"]))
        if preset is None:
            raise ValueError(f"{path}: row {raw.get('id')!r} names unknown hardware {raw['hardware']!r}")
        if raw["backend"] not in BACKENDS:
            raise ValueError(f"{path}: row {raw['id']!r} has unknown backend {raw['backend']!r}")
        if not str(raw.get("source", "")).startswith("https://"):
            raise ValueError(f"{path}: row {raw['id']!r} has no source URL")
        memory = float(raw.get("memory_gb") or preset.memory_gb)
        variant = preset.variant(memory) if preset.variants else preset
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
                bandwidth_gbs=float(raw.get("bandwidth_gbs") or variant.bandwidth_gbs),
                memory_gb=memory,
                gpus=int(raw.get("gpus", 1)),
                placement=str(raw.get("placement", "full")),
                split=str(raw.get("split", "")),
                source=str(raw["source"]),
                build=str(raw.get("build", "")),
                ram_bandwidth_gbs=float(raw["ram_bandwidth_gbs"]) if raw.get("ram_bandwidth_gbs") else None,
                n_layers=layers.get(str(raw["model"])),
                speed_class=preset.speed_class,
                hw_class=preset.hw_class,
                platform=preset.platform,
                memory_kind=preset.memory_kind,
                memory_stated=bool(raw.get("memory_gb")) or len(preset.variants) <= 1,
            )
        )
    return rows


def assign_splits(rows: list[BenchmarkRow]) -> dict[str, str]:
    """The fixed split rule: per report class, rows sorted by id alternate fit, holdout, fit, ...;
    offload rows are all holdout (they check the offload model, which is not fitted)."""
    out: dict[str, str] = {}
    by_class: dict[str, list[BenchmarkRow]] = {}
    for row in rows:
        if row.placement != "full":
            out[row.id] = "holdout"
        else:
            by_class.setdefault(row.report_class, []).append(row)
    for members in by_class.values():
        for i, row in enumerate(sorted(members, key=lambda r: r.id)):
            out[row.id] = "fit" if i % 2 == 0 else "holdout"
    return out


def predict(row: BenchmarkRow, model: SpeedModel) -> float:
    """The model's tokens/s for a fully resident row."""
    return 1 / decode_seconds(row.active_gb, row.layers, row.bandwidth_gbs, row.speed_class, row.moe, model,
                              old_build=row.old_build, m1_fabric=row.m1_fabric, gpus=row.gpus)


def _loss(model: SpeedModel, rows: list[BenchmarkRow]) -> float:
    return sum(math.log(predict(r, model) / r.tg) ** 2 for r in rows)


START = SpeedModel(
    eff_nvidia=0.7, eff_amd=0.7, eff_amd_igpu=0.7, eff_apple=0.7, eff_apple_ultra=0.7, eff_cpu=0.7,
    layer_us_nvidia=20.0, layer_us_amd=20.0, layer_us_amd_igpu=20.0, layer_us_apple=20.0, layer_us_apple_ultra=20.0,
    layer_us_cpu=200.0, moe_eff_nvidia=0.8, moe_eff_amd=0.8, moe_eff_amd_igpu=0.8,
    moe_eff_apple=0.8, moe_eff_apple_ultra=0.8, moe_eff_cpu=0.8, moe_layer_factor=1.3, m1_efficiency=0.8, old_build_factor=2.0,
    gpu_hop_ms=0.5,
)
_CAPPED = {"eff_nvidia", "eff_amd", "eff_amd_igpu", "eff_apple", "eff_apple_ultra", "eff_cpu", "m1_efficiency",
           "moe_eff_nvidia", "moe_eff_amd", "moe_eff_amd_igpu", "moe_eff_apple", "moe_eff_apple_ultra", "moe_eff_cpu"}
M1_FABRIC = re.compile(r"^M1 (Pro|Max|Ultra)")


def _free_fields(rows: list[BenchmarkRow]) -> list[str]:
    classes = {r.speed_class.replace("-", "_") for r in rows}
    order = ("nvidia", "amd", "amd_igpu", "apple", "apple_ultra", "cpu")
    free = [f"{p}_{c}" for c in order if c in classes for p in ("eff", "layer_us")]
    moe_classes = {r.speed_class.replace("-", "_") for r in rows if r.moe}
    if moe_classes:
        free += ["moe_layer_factor"] + [f"moe_eff_{c}" for c in order if c in moe_classes]
    if any(r.m1_fabric for r in rows):
        free.append("m1_efficiency")
    if any(r.old_build for r in rows):
        free.append("old_build_factor")
    if any(r.gpus > 1 for r in rows):
        free.append("gpu_hop_ms")
    return free


def fit(rows: list[BenchmarkRow]) -> SpeedModel:
    """Least squares on log(tokens/s) over fully resident rows, by multiplicative coordinate search.

    Efficiencies are kept in (0, 1]; a class without rows keeps its starting value. Deterministic.
    Prompt-processing factors are the geometric mean of ``pp * active_params_b / bandwidth`` per backend.
    """
    rows = sorted((r for r in rows if r.placement == "full"), key=lambda r: r.id)
    if not rows:
        raise ValueError("no fully resident benchmark rows to fit")
    free = _free_fields(rows)
    params = {f.name: getattr(START, f.name) for f in fields(START)}
    steps = dict.fromkeys(free, 0.3)
    best = _loss(SpeedModel(**params), rows)
    for _ in range(400):
        improved = False
        for key in free:
            for factor in (1 + steps[key], 1 / (1 + steps[key])):
                trial = dict(params)
                trial[key] = params[key] * factor
                if key in _CAPPED and trial[key] > 1.0:
                    continue
                loss = _loss(SpeedModel(**trial), rows)
                if loss < best - 1e-12:
                    params, best, improved = trial, loss, True
        if not improved:
            steps = {k: v / 2 for k, v in steps.items()}
            if max(steps.values()) < 1e-4:
                break
    for key in free:  # round to 4 significant figures: what FITTED ships
        params[key] = float(f"{params[key]:.4g}")
    pp: dict[str, float | None] = {}
    for backend in ("gpu", "metal", "cpu"):
        logs = [math.log(r.pp * r.active_b / r.bandwidth_gbs) for r in rows if r.pp and r.backend_class == backend]
        pp[f"pp_factor_{backend}"] = float(f"{math.exp(statistics.fmean(logs)):.3g}") if logs else None
    return replace(SpeedModel(**params), **pp)


@dataclass(frozen=True)
class ErrorReport:
    """Relative errors (predicted / measured - 1) of a speed model on some rows."""

    errors: dict[str, float]

    def within(self, bound: float) -> float:
        return sum(abs(e) <= bound for e in self.errors.values()) / len(self.errors) if self.errors else float("nan")

    @property
    def within_25(self) -> float:
        return self.within(0.25)

    @property
    def within_35(self) -> float:
        return self.within(0.35)

    @property
    def median_abs(self) -> float:
        return statistics.median(abs(e) for e in self.errors.values())


def evaluate(rows: list[BenchmarkRow], model: SpeedModel) -> ErrorReport:
    """Errors of `model` on the fully resident `rows`."""
    return ErrorReport({r.id: predict(r, model) / r.tg - 1 for r in rows if r.placement == "full"})


def ceiling_report(rows: list[BenchmarkRow]) -> ErrorReport:
    """Errors of the bare bandwidth ceiling (bandwidth / active bytes), for comparison."""
    return ErrorReport({r.id: r.bandwidth_gbs / r.active_gb / r.tg - 1 for r in rows if r.placement == "full"})


def per_class(rows: list[BenchmarkRow], model: SpeedModel) -> dict[str, ErrorReport]:
    """Held-back errors grouped by hardware class (multi-GPU rows in their own class)."""
    out: dict[str, ErrorReport] = {}
    for cls in CLASS_LABELS:
        members = [r for r in rows if r.placement == "full" and r.report_class == cls]
        if members:
            out[cls] = evaluate(members, model)
    return out


def class_table(rows: list[BenchmarkRow], model: SpeedModel) -> list[dict[str, object]]:
    """One dict per hardware class: rows, within +-25 %, median |error| (for bench and the README)."""
    table = []
    for cls, report in per_class(rows, model).items():
        table.append({"class": CLASS_LABELS[cls], "rows": len(report.errors), "within_25": report.within_25,
                      "median_abs": report.median_abs})
    return table


def main() -> int:
    rows = load_benchmarks()
    train = [r for r in rows if r.split == "fit"]
    held = [r for r in rows if r.split == "holdout"]
    model = fit(train)
    print(model)
    for name, subset in (("fit", train), ("holdout", held)):
        report = evaluate(subset, model)
        ceiling = ceiling_report(subset)
        print(f"{name}: {len(report.errors)} rows, within +-25%: {report.within_25:.0%}, within +-35%: "
              f"{report.within_35:.0%}, median |error|: {report.median_abs:.1%}; bare ceiling median |error|: "
              f"{ceiling.median_abs:.0%}")
    print("\nheld-back rows per hardware class:")
    print(f"  {'class':34s} {'rows':>4s} {'within 25%':>10s} {'median |err|':>12s}")
    for line in class_table(held, model):
        print(f"  {line['class']:34s} {line['rows']:4d} {line['within_25']:10.0%} {line['median_abs']:12.1%}")
    print("\nheld-back rows:")
    for row_id, err in sorted(evaluate(held, model).errors.items(), key=lambda kv: -abs(kv[1])):
        flag = "  <-- outside 25%" if abs(err) > 0.25 else ""
        print(f"  {row_id:42s} {err:+.0%}{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
