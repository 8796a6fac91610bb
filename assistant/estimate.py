"""The `estimate` command: one model size on one machine, from flags, as JSON or text.

    python -m assistant estimate --params-b 30.5 --active-b 3.3 --quant Q4_K_M --hardware 4090 --json
    python -m assistant estimate --model Qwen3-30B-A3B --hardware "M3 Max 64GB"
    python -m assistant estimate --params-b 8 --bandwidth-gbs 89.6 --memory-kind ram --memory-gb 32

The arithmetic is `assistant.hardware.estimate`, the same function the answers, cards, compare tab
and hardware chart use.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from .hardware import (
    USABLE_FRACTION,
    FitEstimate,
    estimate,
    find_hardware,
    load_presets,
    preset_named,
)
from .knowledge import Variant

UNLIMITED_GB = 1e9
"""Budget used when no memory size is given: the speed is still estimated, the fit is not checked."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `estimate` flags, shared by the CLI and its tests."""
    size = parser.add_argument_group("model size (or --model)")
    size.add_argument("--model", help="catalog model id or size name, e.g. qwen3 or Qwen3-30B-A3B")
    size.add_argument("--params-b", type=float, help="total parameters in billions")
    size.add_argument("--active-b", type=float, help="active parameters in billions (mixture-of-experts)")
    parser.add_argument("--quant", default="Q4_K_M", help="GGUF quantisation, e.g. Q4_K_M, Q8_0, MXFP4")
    machine = parser.add_argument_group("machine (--hardware, or --bandwidth-gbs with --memory-kind)")
    machine.add_argument("--hardware", help='a preset: "4090", "M3 Max 64GB", "Mac mini M4", "DDR5-5600 dual-channel"')
    machine.add_argument("--bandwidth-gbs", type=float, help="memory bandwidth in GB/s")
    machine.add_argument("--memory-kind", choices=sorted(USABLE_FRACTION), help="ram, vram or unified")
    machine.add_argument("--memory-gb", type=float, help="memory per device in GB (per card for vram)")
    machine.add_argument("--gpus", type=int, default=1, help="number of identical GPUs (layers split across them)")
    machine.add_argument("--ram-gb", type=float, help="system RAM next to the GPU, allows partial offload")
    machine.add_argument("--ram-bandwidth-gbs", type=float, help="that RAM's bandwidth in GB/s")
    parser.add_argument("--context-tokens", type=int, default=4096, help="KV-cache size in tokens")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--list-hardware", action="store_true", help="print the hardware presets and exit")


def resolve_variant(args: argparse.Namespace, catalog_path: Path) -> tuple[Variant, str]:
    """The variant to estimate and its catalog model id ("" when sizes come from flags)."""
    if args.model and args.params_b is not None:
        raise ValueError("give either --model or --params-b, not both")
    if args.model:
        from .knowledge import load_catalog  # noqa: PLC0415

        catalog = load_catalog(catalog_path)
        key = _key(args.model)
        for model in catalog.models:
            if key in (_key(model.id), _key(model.name)):
                same = [v for v in model.sizes if v.params_total_b == model.params_total_b]
                return (same[-1] if same else model.sizes[-1]), model.id
        for model in catalog.models:
            for variant in model.sizes:
                if key == _key(variant.name):
                    return variant, model.id
        raise ValueError(f"unknown model {args.model!r}: give a catalog id (e.g. qwen3) or a size name "
                         "(e.g. Qwen3-30B-A3B)")
    if args.params_b is None:
        raise ValueError("give the model size: --params-b (and --active-b for MoE) or --model")
    if args.active_b is not None and args.active_b > args.params_b:
        raise ValueError(f"--active-b ({args.active_b:g}) cannot exceed --params-b ({args.params_b:g})")
    if args.params_b <= 0 or (args.active_b is not None and args.active_b <= 0):
        raise ValueError("--params-b and --active-b must be greater than 0")
    name = f"{args.params_b:g}B" + (f"-A{args.active_b:g}B" if args.active_b else "")
    return Variant(name=name, params_total_b=args.params_b, params_active_b=args.active_b), ""


def run(args: argparse.Namespace, catalog_path: Path) -> dict[str, object]:
    """Resolve the flags and estimate; raises ValueError with a user-facing message."""
    variant, model_id = resolve_variant(args, catalog_path)
    if args.gpus is None or args.gpus < 1:
        raise ValueError(f"--gpus must be at least 1, got {args.gpus}")
    gpus = args.gpus
    hardware_name = None
    notes: list[str] = []
    if args.hardware:
        preset = preset_named(args.hardware)
        per_device = None
        if preset is None:
            match = find_hardware(args.hardware)
            if match is None:
                examples = ", ".join(p.name for p in load_presets()[:6])
                raise ValueError(f"unknown hardware {args.hardware!r}; try a preset such as {examples} "
                                 "(--list-hardware prints them all)")
            preset = match.preset
            per_device = match.memory_gb if match.size_stated else None
            if match.count > 1 and gpus == 1:
                gpus = match.count  # "兩張 4090", "2x 3090"
        kind = args.memory_kind or preset.memory_kind
        if kind != preset.memory_kind:
            raise ValueError(f"{preset.name} has {preset.memory_kind} memory, not {kind}")
        per_device = args.memory_gb or per_device or preset.memory_gb
        if not args.memory_gb and per_device == preset.memory_gb and len(preset.memory_options) > 1:
            sizes = "/".join(f"{v:g}" for v in preset.memory_options)
            notes.append(f"Memory not stated: {preset.name} comes with {sizes} GB; {preset.memory_gb:g} GB assumed")
        hardware_name = preset.name
        bandwidth = args.bandwidth_gbs
    else:
        if args.bandwidth_gbs is None or args.memory_kind is None:
            raise ValueError("name the machine: --hardware NAME, or --bandwidth-gbs B with --memory-kind ram|vram|unified")
        kind, bandwidth, per_device = args.memory_kind, args.bandwidth_gbs, args.memory_gb
    if kind != "vram" and gpus != 1:
        raise ValueError("--gpus only applies to vram (discrete GPUs)")
    memory = per_device * gpus if per_device is not None else UNLIMITED_GB
    fit = estimate(
        variant,
        memory,
        args.quant,
        args.context_tokens,
        bandwidth_gb_s=bandwidth,
        model_id=model_id,
        memory_kind=kind,
        gpu_count=gpus,
        hardware_name=hardware_name,
        ram_gb=args.ram_gb,
        ram_bandwidth_gb_s=args.ram_bandwidth_gbs,
    )
    return _report(fit, per_device is not None, notes)


def _report(fit: FitEstimate, memory_known: bool, notes: list[str]) -> dict[str, object]:
    data = fit.to_dict()
    data["required_gb"] = round(fit.required_gb, 2)
    for key in ("weights_gb", "kv_cache_gb", "overhead_gb", "usable_gb", "headroom_gb"):
        data[key] = round(float(data[key]), 2)  # type: ignore[arg-type]
    if not memory_known:
        data.update(memory_gb=None, usable_gb=None, headroom_gb=None, fits=None, placement=None,
                    placement_zh=None)
        data["assumptions"] = [a for a in fit.assumptions if not a.startswith(("Fits when", "Placement:"))]
        data["assumptions"].append("Memory size not given: the fit is not checked, only the speed")  # type: ignore[union-attr]
    data["assumptions"] = [*notes, *data["assumptions"]]  # type: ignore[misc]
    return data


def format_text(data: dict[str, object]) -> str:
    """A short bilingual summary for the terminal."""
    speed = data["tokens_per_s"]
    lines = [
        f"{data['variant']} {data['quant']}: 需要 required ~{data['required_gb']:.1f} GB",  # type: ignore[str-format]
    ]
    if data["placement"]:
        lines.append(f"放置 placement: {data['placement_zh']} / {data['placement']}")
    if speed:
        lines.append(f"速度 speed: ~{speed:g} tok/s (calibrated; bare ceiling ~{data['ceiling_tokens_per_s']:g})")
    if data.get("ttft_s_1k"):
        lines.append(f"首字時間 time to first token (1,000-token prompt): ~{data['ttft_s_1k']:g} s, order of magnitude")
    lines.append("假設 assumptions:")
    lines.extend(f"  - {a}" for a in data["assumptions"])  # type: ignore[union-attr]
    return "\n".join(lines)


def presets_table() -> list[dict[str, object]]:
    return [
        {"name": p.name, "memory_kind": p.memory_kind, "memory_gb": p.memory_gb, "bandwidth_gbs": p.bandwidth_gbs,
         "memory_options": list(p.memory_options)}
        for p in load_presets()
    ]


def _key(text: str) -> str:
    return re.sub(r"[\s\-_.]+", "", text.lower())
