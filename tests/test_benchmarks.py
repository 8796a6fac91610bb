"""The cited speed table and the calibrated estimator checked against it."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
from collections import Counter

import pytest

from assistant import calibration
from assistant.hardware import FITTED, QUANT_BITS, estimate, load_presets
from assistant.knowledge import Variant

ROWS = calibration.load_benchmarks()
FULL = [r for r in ROWS if r.placement == "full"]
TRAIN = [r for r in FULL if r.split == "fit"]
HELD = [r for r in FULL if r.split == "holdout"]


# ---------------------------------------------------------------- the table


def test_table_has_enough_cited_rows() -> None:
    assert len(ROWS) >= 20
    assert len({r.id for r in ROWS}) == len(ROWS)
    for row in ROWS:
        assert row.source.startswith("https://"), row.id
        assert row.tg > 0 and row.params_total_b > 0, row.id
        assert row.build, row.id
        assert row.split in {"fit", "holdout"}, row.id


def test_table_covers_the_hardware_classes_the_issue_names() -> None:
    hardware = {r.hardware for r in FULL}
    assert {"RTX 3090", "RTX 4090"} <= hardware  # NVIDIA consumer
    assert {"A100 80GB", "H100 PCIe"} <= hardware  # NVIDIA data centre
    assert {"M3", "M4"} & hardware and {"M2 Pro", "M4 Pro"} & hardware  # Apple base and Pro
    assert {"M1 Max", "M3 Max"} & hardware and {"M1 Ultra", "M2 Ultra"} & hardware  # Max and Ultra
    assert sum(r.backend == "cpu" for r in FULL) >= 4  # CPU-only desktops and laptops


def test_table_mixes_dense_and_moe_and_three_quantisations() -> None:
    assert sum(r.moe for r in FULL) >= 5 and sum(not r.moe for r in FULL) >= 20
    quants = Counter(r.quant for r in FULL)
    assert len(quants) >= 3
    assert set(quants) <= set(QUANT_BITS)


def test_each_split_has_every_backend_and_moe_rows() -> None:
    for rows in (TRAIN, HELD):
        assert {r.backend_class for r in rows} == {"gpu", "metal", "cpu"}
        assert any(r.moe for r in rows)


def test_every_row_names_a_preset() -> None:
    names = {p.name for p in load_presets()}
    assert all(r.hardware in names for r in ROWS)


# ---------------------------------------------------------------- the fit


def test_shipped_constants_are_the_fit_on_the_fit_half() -> None:
    refit = calibration.fit(TRAIN)
    for field in dataclasses.fields(FITTED):
        shipped, fitted = getattr(FITTED, field.name), getattr(refit, field.name)
        assert shipped == pytest.approx(fitted, rel=0.01), field.name


def test_held_back_half_is_within_35_percent_for_80_percent_of_rows() -> None:
    report = calibration.evaluate(HELD, FITTED)
    assert len(report.errors) == len(HELD) >= 20
    assert report.within_35 >= 0.80
    assert report.median_abs <= 0.25


def test_calibration_beats_the_bare_bandwidth_ceiling() -> None:
    calibrated = calibration.evaluate(HELD, FITTED).median_abs
    ceiling = calibration.ceiling_report(HELD)
    assert ceiling.median_abs > 2 * calibrated
    # The ceiling always overestimates: nobody beats peak bandwidth.
    assert all(e > 0 for e in ceiling.errors.values())


def test_moe_models_are_slower_than_their_active_bytes_suggest() -> None:
    assert 0 < FITTED.moe_efficiency < 1
    for backend in ("gpu", "metal", "cpu"):
        assert 0 < FITTED.efficiency(backend, True) < FITTED.efficiency(backend, False) <= 1


def test_fit_is_deterministic_and_rejects_an_empty_table() -> None:
    assert calibration.fit(TRAIN) == calibration.fit(list(reversed(TRAIN)))
    with pytest.raises(ValueError, match="no fully resident"):
        calibration.fit([])


# ---------------------------------------------------------------- offload and prompt processing


@pytest.mark.parametrize("row", [r for r in ROWS if r.placement != "full"], ids=lambda r: r.id)
def test_offload_estimates_are_within_a_factor_of_two_of_measurements(row) -> None:
    # A card of the row's own size, plenty of RAM at the row's measured bandwidth.
    variant = Variant(name=row.model, params_total_b=row.params_total_b, params_active_b=row.params_active_b)
    fit = estimate(variant, row.memory_gb, row.quant, 4096, memory_kind="vram", hardware_name=row.hardware,
                   ram_gb=64, ram_bandwidth_gb_s=row.ram_bandwidth_gbs)
    assert fit.placement == "partial offload"
    assert fit.tokens_per_s is not None
    assert 0.5 <= fit.tokens_per_s / row.tg <= 2.0


def test_time_to_first_token_is_right_to_an_order_of_magnitude() -> None:
    rows = [r for r in FULL if r.pp]
    assert len(rows) >= 20
    ratios = []
    for row in rows:
        factor = FITTED.pp_factor(row.backend_class)
        assert factor is not None
        ratios.append(factor * row.bandwidth_gbs / row.active_b / row.pp)
    assert sum(1 / 3 <= r <= 3 for r in ratios) / len(ratios) >= 0.8
    assert all(1 / 10 <= r <= 10 for r in ratios)


def test_calibration_module_prints_its_report() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "assistant.calibration"], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "holdout:" in result.stdout and "within +-35%" in result.stdout
    assert not math.isnan(FITTED.efficiency_gpu)
