"""Memory-fit and speed estimates, checked against hand-computed numbers."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant import hardware
from assistant.hardware import (
    QUANT_BITS,
    best_variant,
    detect_machine,
    estimate,
    fits,
    fits_any_quant,
    normalize_quant,
)
from assistant.knowledge import Languages, Licence, Model, Variant


def make_model(
    model_id: str,
    params_total_b: float,
    params_active_b: float | None = None,
    variants: list[Variant] | None = None,
) -> Model:
    """A minimal valid catalog entry; only the size fields matter here."""
    return Model(
        id=model_id,
        name=model_id,
        family="test",
        vendor="Test",
        country="US",
        params_total_b=params_total_b,
        params_active_b=params_active_b,
        architecture="moe" if params_active_b else "dense",
        variants=variants or [],
        licence=Licence(id="MIT", name="MIT License", open_source=True),
        commercial_use="yes",
        modalities=["text"],
        languages=Languages(codes=["en"], chinese_note="n/a"),
        verdict="neutral",
        verdict_reason="test",
        summary_zh="測試",
        summary_en="test",
        article_section="test",
        sources={"size": "test", "licence": "test"},
        as_of=date(2025, 1, 1),
    )


LLAMA3_8B = Variant(name="Llama-3-8B", params_total_b=8.0, n_layers=32, n_kv_heads=8, head_dim=128)
PHI4 = Variant(name="Phi-4", params_total_b=14.7, n_layers=40, n_kv_heads=10, head_dim=128)
MAVERICK = make_model("llama-4-maverick", 400, params_active_b=17)
GPT_OSS_20B = Variant(name="gpt-oss-20b", params_total_b=21, params_active_b=3.6)
DENSE_21B = Variant(name="dense-21b", params_total_b=21)
QWEN_LIKE = make_model(
    "qwen-like",
    32,
    variants=[
        Variant(name="0.6B", params_total_b=0.6),
        Variant(name="4B", params_total_b=4),
        Variant(name="8B", params_total_b=8),
        Variant(name="14B", params_total_b=14),
        Variant(name="32B", params_total_b=32),
    ],
)


# ---------------------------------------------------------------- memory


def test_8b_dense_at_q4_needs_about_5_gb() -> None:
    fit = estimate(Variant(name="8B", params_total_b=8), memory_gb=16, quant="Q4_K_M", context_tokens=4096)
    assert fit.weights_gb == pytest.approx(8 * 4.89 / 8, rel=0.01)  # llama.cpp's 4.8944 bits for Q4_K_M (output at Q6_K)
    assert 4.5 <= fit.required_gb <= 6.5
    assert fit.required_gb == pytest.approx(fit.weights_gb + fit.kv_cache_gb + fit.overhead_gb)
    assert fit.kv_method == "approximate"


def test_per_layer_kv_cache_matches_hand_computation_for_llama3_8b() -> None:
    fit = estimate(LLAMA3_8B, memory_gb=16, context_tokens=8192)
    assert fit.kv_method == "per-layer"
    assert fit.kv_cache_gb == pytest.approx(2 * 32 * 8 * 128 * 8192 * 2 / 1e9, rel=1e-12)
    assert fit.kv_cache_gb == pytest.approx(1.07, abs=0.005)


def test_approximate_kv_is_calibrated_on_llama3_8b() -> None:
    shaped = estimate(LLAMA3_8B, memory_gb=16, context_tokens=8192)
    unshaped = estimate(Variant(name="8B", params_total_b=8), memory_gb=16, context_tokens=8192)
    assert unshaped.kv_cache_gb == pytest.approx(shaped.kv_cache_gb)
    assert any("approximate" in a for a in unshaped.assumptions)


def test_maverick_fits_neither_16_nor_128_gb_at_any_quant() -> None:
    for memory_gb in (16, 128):
        for kind in ("ram", "vram", "unified"):
            assert fits_any_quant(MAVERICK, memory_gb, memory_kind=kind) is None
            assert not fits(MAVERICK, memory_gb, memory_kind=kind)
    # All 400B parameters count, not the 17B active ones: ~243 GB of weights at Q4.
    assert estimate(MAVERICK, 128).weights_gb == pytest.approx(400 * 4.89 / 8, rel=0.03)


def test_phi4_q4_fits_16_gb_as_vram_and_as_ram() -> None:
    vram = estimate(PHI4, 16, "Q4_K_M", 4096, memory_kind="vram")
    ram = estimate(PHI4, 16, "Q4_K_M", 4096, memory_kind="ram")
    # ~8.9 GB weights + 0.84 GB KV (2*40*10*128*4096*2 bytes) + 0.36 GB compute buffer
    assert vram.required_gb == pytest.approx(10.1, abs=0.1)
    assert vram.fits and ram.fits
    assert vram.usable_gb == pytest.approx(16 * 0.90)
    assert ram.usable_gb == pytest.approx(16 * 0.75)
    assert 0 < ram.headroom_gb < vram.headroom_gb


def test_ram_rule_keeps_room_for_the_os() -> None:
    # Phi-4 Q4 needs 10.8 GB: too much for 12 GB of RAM, enough for 12 GB of VRAM.
    assert not estimate(PHI4, 12, memory_kind="ram").fits  # 9 GB usable
    assert estimate(PHI4, 12, memory_kind="vram").fits  # 10.8 GB usable
    rule = " ".join(estimate(PHI4, 16).assumptions)
    assert "75%" in rule and "12.00 GB" in rule


def test_moe_speed_uses_active_parameters_memory_uses_total() -> None:
    moe = estimate(GPT_OSS_20B, 64, memory_kind="ram")
    dense = estimate(DENSE_21B, 64, memory_kind="ram")
    assert moe.weights_gb == pytest.approx(dense.weights_gb, rel=0.15)  # gpt-oss experts stay MXFP4
    assert moe.required_gb >= dense.required_gb * 0.8  # smaller KV (approximate, by active size)
    assert moe.tokens_per_s is not None and dense.tokens_per_s is not None
    assert moe.tokens_per_s > 3 * dense.tokens_per_s  # 5.8x fewer active bytes, less the fixed overhead
    assert 8 <= moe.tokens_per_s <= 30  # CPU at 60 GB/s reading ~2.3 GB a token
    assert not estimate(GPT_OSS_20B, 8, memory_kind="ram").fits


def test_speed_is_rounded_and_absent_when_it_does_not_fit() -> None:
    fit = estimate(Variant(name="8B", params_total_b=8), 32, bandwidth_gb_s=1008)
    assert fit.tokens_per_s == float(f"{fit.tokens_per_s:.2g}")  # two significant figures
    assert fit.ceiling_tokens_per_s == 210  # 1008 / 4.8 GB = 210, two significant figures
    assert estimate(Variant(name="8B", params_total_b=8), 4).tokens_per_s is None


def test_faster_memory_gives_faster_tokens() -> None:
    kinds = {
        kind: estimate(LLAMA3_8B, 64, memory_kind=kind).tokens_per_s for kind in ("ram", "unified", "vram")
    }
    assert kinds["ram"] < kinds["unified"] < kinds["vram"]


def test_estimate_accepts_a_model_and_records_its_id() -> None:
    fit = estimate(make_model("phi-4", 14.7, variants=[PHI4]), 16)
    assert fit.model_id == "phi-4"
    assert fit.variant == "Phi-4"
    assert fit.kv_method == "per-layer"


def test_to_dict_is_json_ready() -> None:
    data = estimate(PHI4, 16).to_dict()
    assert json.loads(json.dumps(data))["fits"] is True
    assert isinstance(data["assumptions"], list) and len(data["assumptions"]) >= 4


# ---------------------------------------------------------------- choosing a size or quant


def test_best_variant_picks_the_largest_that_fits() -> None:
    assert best_variant(QWEN_LIKE, 16).variant == "14B"  # 12 GB usable; 32B needs ~19 GB
    assert best_variant(QWEN_LIKE, 1000).variant == "32B"
    assert best_variant(QWEN_LIKE, 2, memory_kind="vram").variant == "0.6B"
    assert best_variant(QWEN_LIKE, 0.5) is None
    assert fits(QWEN_LIKE, 2, memory_kind="vram")
    assert not fits(QWEN_LIKE, 0.5)


def test_fits_any_quant_prefers_quality_for_one_size() -> None:
    phi = make_model("phi-4", 14.7, variants=[PHI4])
    assert fits_any_quant(phi, 24, memory_kind="vram").quant == "Q8_0"  # 17.7 of 21.6 GB
    assert fits_any_quant(phi, 15, memory_kind="vram").quant == "Q5_K_M"
    assert fits_any_quant(phi, 12, memory_kind="vram").quant == "Q4_K_M"
    assert fits_any_quant(phi, 8, memory_kind="vram") is None


def test_fits_any_quant_prefers_a_larger_model_over_more_bits() -> None:
    fit = fits_any_quant(QWEN_LIKE, 16)
    assert fit is not None and fit.variant == "14B"
    assert fit.fits


# ---------------------------------------------------------------- properties

sizes = st.floats(min_value=0.1, max_value=2000, allow_nan=False)
memories = st.floats(min_value=0.01, max_value=1e6, allow_nan=False)
contexts = st.integers(min_value=0, max_value=2_000_000)
quants = st.sampled_from(sorted(QUANT_BITS))
kinds = st.sampled_from(["ram", "vram", "unified"])
shapes = st.one_of(
    st.none(),
    st.tuples(st.integers(1, 200), st.integers(1, 128), st.sampled_from([64, 80, 96, 128, 256])),
)


def _variant(total: float, active_share: float | None, shape: tuple[int, int, int] | None) -> Variant:
    layers, heads, dim = shape or (None, None, None)
    return Variant(
        name="v",
        params_total_b=total,
        params_active_b=total * active_share if active_share else None,
        n_layers=layers,
        n_kv_heads=heads,
        head_dim=dim,
    )


active_shares = st.one_of(st.none(), st.floats(min_value=0.01, max_value=1))


@settings(max_examples=300, deadline=None)
@given(sizes, active_shares, shapes, memories, memories, contexts, quants, kinds)
def test_more_memory_never_stops_a_fit(total, share, shape, mem_a, mem_b, context, quant, kind) -> None:
    variant = _variant(total, share, shape)
    small, large = sorted((mem_a, mem_b))
    if estimate(variant, small, quant, context, memory_kind=kind).fits:
        assert estimate(variant, large, quant, context, memory_kind=kind).fits


@settings(max_examples=300, deadline=None)
@given(sizes, active_shares, shapes, contexts, contexts, quants)
def test_longer_context_never_needs_less_memory(total, share, shape, ctx_a, ctx_b, quant) -> None:
    variant = _variant(total, share, shape)
    short, long = sorted((ctx_a, ctx_b))
    assert estimate(variant, 16, quant, short).required_gb <= estimate(variant, 16, quant, long).required_gb


@settings(max_examples=200, deadline=None)
@given(sizes, memories, kinds)
def test_fewer_bits_never_need_more_memory(total, memory, kind) -> None:
    variant = Variant(name="v", params_total_b=total)
    required = [
        estimate(variant, memory, q, memory_kind=kind).required_gb
        for q in ("F16", "Q8_0", "Q5_K_M", "Q4_K_M")
    ]
    assert required == sorted(required, reverse=True)


@settings(max_examples=200, deadline=None)
@given(sizes, memories, quants, kinds)
def test_headroom_sign_agrees_with_fits(total, memory, quant, kind) -> None:
    fit = estimate(Variant(name="v", params_total_b=total), memory, quant, memory_kind=kind)
    assert fit.fits == (fit.headroom_gb >= 0)
    assert (fit.tokens_per_s is not None) == fit.fits
    assert all(math.isfinite(x) for x in (fit.required_gb, fit.headroom_gb))


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"memory_gb": 0}, "memory_gb must be greater than 0"),
        ({"memory_gb": -8}, "memory_gb must be greater than 0"),
        ({"memory_gb": float("nan")}, "memory_gb must be a finite number"),
        ({"memory_gb": float("inf")}, "memory_gb must be a finite number"),
        ({"memory_gb": "16"}, "memory_gb must be a number"),
        ({"memory_gb": 16, "context_tokens": -1}, "context_tokens must not be negative"),
        ({"memory_gb": 16, "context_tokens": 1.5}, "whole number of tokens"),
        ({"memory_gb": 16, "bandwidth_gb_s": 0}, "bandwidth_gb_s must be greater than 0"),
        ({"memory_gb": 16, "memory_kind": "disk"}, "memory_kind must be one of"),
        ({"memory_gb": 16, "usable_fraction": 1.5}, "usable_fraction must be in"),
        ({"memory_gb": 16, "quant": "Q1_X"}, "unknown quantisation"),
    ],
)
def test_bad_inputs_raise_clear_errors(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        estimate(LLAMA3_8B, **kwargs)


def test_bad_inputs_raise_through_the_helpers() -> None:
    with pytest.raises(ValueError, match="memory_gb"):
        fits(QWEN_LIKE, -1)
    with pytest.raises(ValueError, match="context_tokens"):
        fits_any_quant(QWEN_LIKE, 16, context=-5)


def test_huge_numbers_are_fine() -> None:
    fit = estimate(MAVERICK, 1e12, context_tokens=10_000_000)
    assert fit.fits and fit.tokens_per_s is not None


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Q4_K_M", "Q4_K_M"),
        ("q4_k_m", "Q4_K_M"),
        ("q4", "Q4_K_M"),
        ("INT4", "Q4_K_M"),
        ("4-bit", "Q4_K_M"),
        ("q5", "Q5_K_M"),
        ("q8_0", "Q8_0"),
        ("int8", "Q8_0"),
        ("fp16", "F16"),
        ("bf16", "BF16"),
        (" f16 ", "F16"),
    ],
)
def test_normalize_quant_aliases(name, expected) -> None:
    assert normalize_quant(name) == expected


@pytest.mark.parametrize("name", ["q1", "fp8", "", "   ", "gguf"])
def test_normalize_quant_rejects_unknown_and_lists_accepted(name) -> None:
    with pytest.raises(ValueError, match="accepted: Q2_K, Q3_K_M, Q4_0, IQ4_XS, Q4_K_M"):
        normalize_quant(name)


def test_detect_machine_reports_positive_ram() -> None:
    machine = detect_machine()
    assert isinstance(machine["ram_gb"], float) and machine["ram_gb"] > 0
    assert machine["vram_gb"] is None or machine["vram_gb"] > 0


def test_detect_machine_prefers_psutil_when_installed() -> None:
    psutil = pytest.importorskip("psutil")
    machine = detect_machine()
    assert machine["ram_source"] == "psutil"
    assert machine["ram_gb"] == pytest.approx(psutil.virtual_memory().total / 1e9, abs=0.01)


def test_detect_machine_falls_back_to_sysconf_without_psutil(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "psutil", None)  # makes `import psutil` fail
    machine = detect_machine()
    assert machine["ram_source"] == "sysconf"
    assert machine["ram_gb"] > 0


def test_detect_machine_without_nvidia_smi(monkeypatch) -> None:
    monkeypatch.setattr(hardware.devices.shutil, "which", lambda _: None)
    machine = detect_machine()
    assert machine["vram_gb"] is None and machine["gpus_vram_gb"] == []


def test_detect_machine_reads_and_sums_nvidia_gpus(monkeypatch) -> None:
    monkeypatch.setattr(hardware.devices.shutil, "which", lambda _: "/usr/bin/nvidia-smi")

    def fake_run(cmd, **kwargs):
        assert "--query-gpu=memory.total" in cmd and kwargs["timeout"] > 0
        return subprocess.CompletedProcess(cmd, 0, stdout="24564\n24564\n[N/A]\n", stderr="")

    monkeypatch.setattr(hardware.devices.subprocess, "run", fake_run)
    machine = detect_machine()
    assert machine["gpus_vram_gb"] == [25.76, 25.76]
    assert machine["vram_gb"] == pytest.approx(51.52)


@pytest.mark.parametrize(
    "error", [subprocess.TimeoutExpired("nvidia-smi", 5), FileNotFoundError("gone"), PermissionError("no")]
)
def test_detect_machine_survives_a_broken_nvidia_smi(monkeypatch, error) -> None:
    monkeypatch.setattr(hardware.devices.shutil, "which", lambda _: "/usr/bin/nvidia-smi")

    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(hardware.devices.subprocess, "run", broken)
    assert detect_machine()["vram_gb"] is None


def test_detect_machine_ignores_a_failing_nvidia_smi(monkeypatch) -> None:
    monkeypatch.setattr(hardware.devices.shutil, "which", lambda _: "/usr/bin/nvidia-smi")
    monkeypatch.setattr(
        hardware.devices.subprocess,
        "run",
        lambda cmd, **kw: subprocess.CompletedProcess(cmd, 9, stdout="", stderr="NVIDIA-SMI has failed"),
    )
    assert detect_machine()["vram_gb"] is None


# ---------------------------------------------------------------- presets and named hardware

QWEN3_30B_A3B = Variant(
    name="Qwen3-30B-A3B", params_total_b=30.5, params_active_b=3.3, n_layers=48, n_kv_heads=4, head_dim=128
)


def test_presets_cover_the_issue_list_with_cited_bandwidth() -> None:
    presets = {p.name: p for p in hardware.load_presets()}
    for name in ("RTX 3060", "RTX 3090", "RTX 4060", "RTX 4090", "RTX 5070", "RTX 5090", "A100 80GB",
                 "H100 SXM", "H200", "L40S", "DDR4-3200 dual-channel", "DDR5-5600 dual-channel",
                 "DDR5-4800 quad-channel"):
        assert name in presets, name
    for generation in ("M1", "M2", "M3", "M4"):
        for tier in ("", " Pro", " Max"):
            assert generation + tier in presets
    assert {"M1 Ultra", "M2 Ultra", "M3 Ultra"} <= set(presets)
    assert presets["RTX 4090"].bandwidth_gbs == 1008 and presets["RTX 4090"].memory_gb == 24
    assert presets["M4"].bandwidth_gbs == 120 and presets["M4"].memory_kind == "unified"
    assert presets["M3 Max"].bandwidth_gbs == 400 and 64 in presets["M3 Max"].memory_options
    assert presets["DDR5-5600 dual-channel"].bandwidth_gbs == pytest.approx(2 * 8 * 5.6)
    assert all(p.source and p.bandwidth_gbs > 0 and p.memory_gb > 0 for p in presets.values())
    assert "1008 GB/s" in presets["RTX 4090"].label


@pytest.mark.parametrize(
    ("text", "name", "memory", "count"),
    [
        ("4090", "RTX 4090", 24, 1),
        ("我有一張 4090", "RTX 4090", 24, 1),
        ("兩張 4090", "RTX 4090", 24, 2),
        ("2x RTX 3090", "RTX 3090", 24, 2),
        ("M3 Max 64GB", "M3 Max", 64, 1),
        ("Mac mini M4", "M4", 16, 1),
        ("M4 Pro 48GB MacBook", "M4 Pro", 48, 1),
        ("3060 12GB", "RTX 3060", 12, 1),
        ("RTX 4060 Ti 16GB", "RTX 4060 Ti", 16, 1),
        ("8 GB Raspberry Pi", "Raspberry Pi 5", 8, 1),
        ("H100 SXM", "H100 SXM", 80, 1),
    ],
)
def test_find_hardware_reads_names_sizes_and_counts(text, name, memory, count) -> None:
    match = hardware.find_hardware(text)
    assert match is not None
    assert (match.preset.name, match.memory_gb, match.count) == (name, memory, count)


@pytest.mark.parametrize("text", ["", "gpt4 on a laptop", "M4A1 rifle", "part 14090", "a 24GB card"])
def test_find_hardware_ignores_non_hardware(text) -> None:
    assert hardware.find_hardware(text) is None


def test_preset_named_ignores_case_spaces_and_rtx() -> None:
    assert hardware.preset_named("rtx4090").name == "RTX 4090"
    assert hardware.preset_named("m3 max").name == "M3 Max"
    assert hardware.preset_named("Voodoo 2") is None


def test_bandwidth_comes_from_the_named_hardware() -> None:
    rtx = estimate(LLAMA3_8B, 24, memory_kind="vram", hardware_name="RTX 4090")
    m4 = estimate(LLAMA3_8B, 16, memory_kind="unified", hardware_name="M4")
    m4max = estimate(LLAMA3_8B, 64, memory_kind="unified", hardware_name="M4 Max")
    assert rtx.bandwidth_gb_s == 1008 and m4.bandwidth_gb_s == 120
    assert m4.tokens_per_s < m4max.tokens_per_s < rtx.tokens_per_s
    # Measured: Mac mini M4 Llama-3.1-8B Q4_K_M 20.87 tok/s (normiebench #3); RTX 4090 Llama-3-8B 130.58.
    assert m4.tokens_per_s == pytest.approx(20.87, rel=0.35)
    assert rtx.tokens_per_s == pytest.approx(130.58, rel=0.35)
    assert any("RTX 4090, knowledge/hardware.yaml" in a for a in rtx.assumptions)
    with pytest.raises(ValueError, match="unknown hardware"):
        estimate(LLAMA3_8B, 24, hardware_name="Voodoo 2")


def test_qwen3_30b_a3b_on_a_4090_is_calibrated_not_the_ceiling() -> None:
    fit = estimate(QWEN3_30B_A3B, 24, "Q4_K_M", memory_kind="vram", hardware_name="RTX 4090")
    assert fit.placement == "full GPU offload" and fit.placement_zh == "完全載入 GPU"
    assert fit.ceiling_tokens_per_s == pytest.approx(460, rel=0.05)  # 1008 / 2.2 GB (output matrix at Q6_K)
    assert 120 <= fit.tokens_per_s <= 220  # 7900 XT measures 152, M4 Pro 71 at a quarter of the bandwidth
    assert fit.ttft_s_1k is not None and fit.ttft_s_1k < 1
    assert any("order of magnitude" in a for a in fit.assumptions)


def test_two_gpus_add_memory_but_not_speed() -> None:
    qwen32 = Variant(name="Qwen2.5-32B", params_total_b=32.8, n_layers=64, n_kv_heads=8, head_dim=128)
    one = estimate(qwen32, 24, "Q5_K_M", memory_kind="vram", hardware_name="RTX 4090")
    two = estimate(qwen32, 48, "Q5_K_M", memory_kind="vram", hardware_name="RTX 4090", gpu_count=2)
    assert one.placement == "does not fit" and two.placement == "full GPU offload"
    assert two.gpu_count == 2 and any("2 GPUs" in a for a in two.assumptions)
    # Layers run one card after the other: the same speed as one card holding everything.
    single = estimate(qwen32, 48, "Q5_K_M", memory_kind="vram", hardware_name="RTX 4090").tokens_per_s
    assert two.tokens_per_s == pytest.approx(single, rel=0.02)
    with pytest.raises(ValueError, match="gpu_count"):
        estimate(qwen32, 48, memory_kind="vram", gpu_count=0)


def test_two_gpu_speed_matches_the_measured_70b_row() -> None:
    from assistant import calibration  # noqa: PLC0415

    row = next(r for r in calibration.load_benchmarks() if r.id == "xd-4090x2-l3-70b-q4km")
    assert row.gpus == 2
    # Measured: 2x RTX 4090 Llama-3-70B Q4_K_M 19.22 tok/s (XiongjieDai benchmarks).
    assert calibration.predict(row, hardware.FITTED) == pytest.approx(19.22, rel=0.35)


def test_partial_offload_blends_vram_and_ram_speed() -> None:
    full = estimate(QWEN3_30B_A3B, 24, memory_kind="vram", hardware_name="RTX 3060")
    assert full.placement == "full GPU offload"
    no_ram = estimate(QWEN3_30B_A3B, 12, memory_kind="vram", hardware_name="RTX 3060")
    assert no_ram.placement == "does not fit" and not no_ram.fits
    offload = estimate(QWEN3_30B_A3B, 12, memory_kind="vram", hardware_name="RTX 3060", ram_gb=32,
                       ram_bandwidth_gb_s=89.6)
    assert offload.fits and offload.placement == "partial offload"
    assert offload.placement_zh == "部分卸載到系統記憶體"
    assert offload.offload_mode == "experts in RAM (--n-cpu-moe)"
    assert 0 < offload.offload_fraction < 1
    assert offload.tokens_per_s < full.tokens_per_s
    assert any("--n-cpu-moe" in a for a in offload.assumptions)
    dense = estimate(DENSE_21B, 8, memory_kind="vram", hardware_name="RTX 4060", ram_gb=32)
    assert dense.placement == "partial offload" and dense.offload_mode == "layers in RAM (-ngl)"
    too_big = estimate(MAVERICK, 12, memory_kind="vram", ram_gb=32)
    assert too_big.placement == "does not fit"


def test_ram_and_unified_placements() -> None:
    assert estimate(LLAMA3_8B, 16, memory_kind="ram").placement == "CPU only"
    assert estimate(LLAMA3_8B, 16, memory_kind="ram").placement_zh == "只用 CPU"
    assert estimate(LLAMA3_8B, 16, memory_kind="unified").placement == "full GPU offload"
    assert estimate(LLAMA3_8B, 2, memory_kind="unified").placement_zh == "放不下"


def test_new_quantisations_follow_llama_cpp_bits() -> None:
    assert QUANT_BITS["Q2_K"] < QUANT_BITS["Q3_K_M"] < QUANT_BITS["IQ4_XS"] < QUANT_BITS["Q4_0"]
    assert QUANT_BITS["Q4_0"] < QUANT_BITS["Q4_K_M"] < QUANT_BITS["Q5_K_M"] < QUANT_BITS["Q6_K"]
    assert QUANT_BITS["Q6_K"] < QUANT_BITS["Q8_0"] < QUANT_BITS["F16"] == QUANT_BITS["BF16"]
    assert normalize_quant("mxfp4") == "MXFP4" and normalize_quant("iq4_xs") == "IQ4_XS"
    gpt_oss = estimate(GPT_OSS_20B, 16, "MXFP4", memory_kind="vram")
    assert gpt_oss.weights_gb == pytest.approx(11.27 * 2**30 / 1e9, rel=0.02)  # llama-bench: 11.27 GiB


def test_hardware_tab_table_uses_the_named_hardware() -> None:
    from pathlib import Path  # noqa: PLC0415

    from assistant.answer.fitting import fit_table  # noqa: PLC0415
    from assistant.knowledge import load_catalog  # noqa: PLC0415

    catalog = load_catalog(Path(__file__).parents[1] / "knowledge" / "catalog.yaml")
    named = {r["variant"]: r for r in fit_table(catalog, 24, "Q4_K_M", 4096, "vram", hardware_name="RTX 4090")}
    generic = {r["variant"]: r for r in fit_table(catalog, 24, "Q4_K_M", 4096, "vram", bandwidth_gb_s=504)}
    assert named["Qwen3-30B-A3B"]["placement"] == "full GPU offload"
    assert named["Qwen3-30B-A3B"]["tokens_per_s"] > generic["Qwen3-30B-A3B"]["tokens_per_s"]
    assert named["gpt-oss-120b"]["placement_zh"] == "放不下"
