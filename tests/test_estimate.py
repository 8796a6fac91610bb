"""The `estimate` command, through `main()` and once through a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from assistant.cli import main


def run_json(capsys, *argv: str) -> dict:
    assert main(["estimate", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_qwen3_30b_a3b_on_a_4090(capsys) -> None:
    data = run_json(capsys, "--params-b", "30.5", "--active-b", "3.3", "--quant", "Q4_K_M", "--hardware", "4090")
    assert data["fits"] is True and data["placement"] == "full GPU offload"
    assert data["placement_zh"] == "完全載入 GPU"
    assert data["hardware_name"] == "RTX 4090" and data["bandwidth_gb_s"] == 1008
    assert 18 < data["required_gb"] < 21.6
    assert 120 <= data["tokens_per_s"] <= 220 < data["ceiling_tokens_per_s"]
    assert data["ttft_s_1k"] is not None
    assert any("benchmarks.yaml" in a for a in data["assumptions"])


def test_model_from_the_catalog_by_size_name_or_id(capsys) -> None:
    by_size = run_json(capsys, "--model", "Qwen3-30B-A3B", "--hardware", "M3 Max 64GB")
    assert by_size["model_id"] == "qwen3" and by_size["variant"] == "Qwen3-30B-A3B"
    assert by_size["memory_gb"] == 64 and by_size["memory_kind"] == "unified"
    assert by_size["kv_method"] == "per-layer"  # the catalog gives the layer shape
    by_id = run_json(capsys, "--model", "gpt-oss-120b", "--quant", "MXFP4", "--hardware", "H100 SXM")
    assert by_id["variant"] == "gpt-oss-120b" and by_id["params_active_b"] == 5.1
    assert by_id["placement"] == "full GPU offload"


def test_bandwidth_and_memory_kind_without_a_preset(capsys) -> None:
    data = run_json(capsys, "--params-b", "8", "--bandwidth-gbs", "89.6", "--memory-kind", "ram", "--memory-gb", "32")
    assert data["placement"] == "CPU only" and data["fits"] is True
    # Published: Llama-3.1-8B Q4_K_M on dual-channel DDR4/DDR5 laptops, 4-7 tok/s at 38-51 GB/s.
    assert 6 <= data["tokens_per_s"] <= 14
    no_memory = run_json(capsys, "--params-b", "8", "--bandwidth-gbs", "89.6", "--memory-kind", "ram")
    assert no_memory["fits"] is None and no_memory["placement"] is None
    assert no_memory["tokens_per_s"] == data["tokens_per_s"]
    assert any("not checked" in a for a in no_memory["assumptions"])


def test_two_gpus_add_their_memory(capsys) -> None:
    one = run_json(capsys, "--params-b", "32.8", "--hardware", "RTX 4090")
    two = run_json(capsys, "--params-b", "32.8", "--hardware", "RTX 4090", "--gpus", "2")
    assert one["placement"] == "does not fit" and one["tokens_per_s"] is None
    assert two["placement"] == "full GPU offload" and two["memory_gb"] == 48 and two["gpu_count"] == 2
    zh = run_json(capsys, "--params-b", "32.8", "--hardware", "兩張 4090")
    assert (zh["memory_gb"], zh["gpu_count"], zh["tokens_per_s"]) == (48, 2, two["tokens_per_s"])


def test_partial_offload_with_system_ram(capsys) -> None:
    data = run_json(capsys, "--model", "Qwen3-30B-A3B", "--hardware", "3060 12GB", "--ram-gb", "32",
                    "--ram-bandwidth-gbs", "89.6")
    assert data["placement"] == "partial offload" and data["offload_mode"] == "experts in RAM (--n-cpu-moe)"
    assert 0 < data["offload_fraction"] < 1 and data["tokens_per_s"] > 0


def test_context_grows_the_requirement(capsys) -> None:
    short = run_json(capsys, "--model", "Qwen3-30B-A3B", "--hardware", "M4 Max", "--context-tokens", "4096")
    long = run_json(capsys, "--model", "Qwen3-30B-A3B", "--hardware", "M4 Max", "--context-tokens", "131072")
    assert long["kv_cache_gb"] > 10 * short["kv_cache_gb"]
    assert long["required_gb"] > short["required_gb"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--params-b", "8", "--hardware", "Voodoo 2"], "unknown hardware"),
        (["--params-b", "8"], "name the machine"),
        (["--params-b", "8", "--bandwidth-gbs", "100"], "name the machine"),
        (["--hardware", "4090"], "give the model size"),
        (["--model", "no-such-model", "--hardware", "4090"], "unknown model"),
        (["--model", "qwen3", "--params-b", "8", "--hardware", "4090"], "not both"),
        (["--params-b", "8", "--active-b", "9", "--hardware", "4090"], "cannot exceed"),
        (["--params-b", "8", "--quant", "Q9_X", "--hardware", "4090"], "unknown quantisation"),
        (["--params-b", "8", "--hardware", "M4", "--gpus", "2"], "only applies to vram"),
        (["--params-b", "8", "--hardware", "4090", "--gpus", "0"], "--gpus must be at least 1"),
        (["--params-b", "8", "--hardware", "4090", "--memory-kind", "ram"], "has vram memory"),
        (["--params-b", "-1", "--hardware", "4090"], "greater than 0"),
    ],
)
def test_bad_input_gets_a_clear_message(capsys, argv, message) -> None:
    assert main(["estimate", *argv]) == 2
    assert message in capsys.readouterr().err


def test_list_hardware(capsys) -> None:
    assert main(["estimate", "--list-hardware", "--json"]) == 0
    names = {row["name"] for row in json.loads(capsys.readouterr().out)}
    assert {"RTX 4090", "M4", "H200", "DDR5-5600 dual-channel"} <= names


def test_text_output_through_a_real_process() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "estimate", "--params-b", "8", "--hardware", "Mac mini M4"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "tok/s" in result.stdout and "placement" in result.stdout
    assert "120 GB/s (M4" in result.stdout
    assert "16/24/32 GB; 16 GB assumed" in result.stdout  # the Mac mini's size was not stated
