"""The decode-speed model, fitted by `assistant.calibration` on half of knowledge/benchmarks.yaml.

Generating one token reads every active weight once and runs every layer's kernels once::

    seconds = layers x layer_cost[class] (x moe_layer_factor for MoE, x old_build_factor before mid-2024)
            + active_bytes / (efficiency[class] (x moe_eff[class]) (x m1_efficiency) x bandwidth)
            + (cards - 1) x gpu_hop

* The per-layer cost is what makes small models slower than their bytes suggest (kernel launches,
  synchronisation: a 1B model on an RTX 4090 is launch bound, not bandwidth bound). MoE layers launch
  more kernels (router, top-k, three expert matmuls), by class. Builds before CUDA graphs (llama.cpp, May 2024)
  paid more per layer on GPUs.
* The efficiency is the share of peak bandwidth reached on big reads, per architecture class:
  nvidia, amd (discrete Radeon), amd-igpu (Strix Halo), apple, apple-ultra (two dies: more per layer),
  cpu. M1 Pro/Max/Ultra reach a smaller share of their rated bandwidth than later chips (``m1_efficiency``).
* MoE models reach a smaller share of bandwidth than dense ones (small scattered expert reads), by
  class (``moe_eff_*``), and their layers cost ``moe_layer_factor`` times a dense layer.
* A layer split over several cards runs the cards one after another, so speed is that of one card
  reading everything plus a hop per extra card.
* Offload (partial or expert): the share of active bytes in system RAM is read by the CPU at its
  efficiency and RAM bandwidth, and those layers pay the CPU's per-layer cost.
"""

from __future__ import annotations

from dataclasses import dataclass

SPEED_CLASSES = ("nvidia", "amd", "amd-igpu", "apple", "apple-ultra", "cpu")
BACKEND_CLASS = {"gpu": "nvidia", "metal": "apple", "cpu": "cpu"}
"""Old backend names (gpu / metal / cpu) onto speed classes, for callers of the previous API."""

DEFAULT_BANDWIDTH_GB_S: dict[str, float] = {
    "ram": 60.0,  # dual-channel DDR5-4800/5600 in a laptop or desktop: 77-90 GB/s peak
    "vram": 900.0,  # mid-to-high consumer GPUs: RTX 3090 936, RTX 4090 1008
    "unified": 200.0,  # Apple Pro class: M3 Pro 150, M4 Pro 273
}
"""Used only when the hardware is not named and no bandwidth is given."""


def estimated_layers(params_b: float) -> int:
    """Layers when the config is not known: 16 x params^0.345 (1B: 16, 8B: 33, 70B: 69, 405B: 128)."""
    return max(4, round(16 * params_b**0.345))


@dataclass(frozen=True)
class SpeedModel:
    """Fitted constants; see the module docstring for the formula."""

    eff_nvidia: float
    eff_amd: float
    eff_amd_igpu: float
    eff_apple: float
    eff_apple_ultra: float
    eff_cpu: float
    layer_us_nvidia: float
    layer_us_amd: float
    layer_us_amd_igpu: float
    layer_us_apple: float
    layer_us_apple_ultra: float
    layer_us_cpu: float
    moe_eff_nvidia: float
    moe_eff_amd: float
    moe_eff_amd_igpu: float
    moe_eff_apple: float
    moe_eff_apple_ultra: float
    moe_eff_cpu: float
    moe_layer_factor: float
    m1_efficiency: float
    old_build_factor: float
    gpu_hop_ms: float
    pp_factor_gpu: float | None = None
    pp_factor_metal: float | None = None
    pp_factor_cpu: float | None = None

    def eff(self, speed_class: str) -> float:
        return float(getattr(self, "eff_" + _cls(speed_class).replace("-", "_")))

    def layer_s(self, speed_class: str) -> float:
        return float(getattr(self, "layer_us_" + _cls(speed_class).replace("-", "_"))) / 1e6

    def moe_layer(self, speed_class: str) -> float:
        return self.moe_layer_factor

    def moe_eff(self, speed_class: str) -> float:
        return float(getattr(self, "moe_eff_" + _cls(speed_class).replace("-", "_")))

    def efficiency(self, backend: str, moe: bool) -> float:
        """Bandwidth share for a class (or old backend name), the MoE factor included when `moe`."""
        return self.eff(backend) * (self.moe_eff(backend) if moe else 1.0)

    def overhead_s(self, backend: str, n_layers: int = 32, moe: bool = False) -> float:
        """Fixed seconds per token of a model with `n_layers` layers."""
        return n_layers * self.layer_s(backend) * (self.moe_layer(backend) if moe else 1.0)

    def pp_factor(self, backend: str) -> float | None:
        group = {"nvidia": "gpu", "amd": "gpu", "amd-igpu": "gpu", "apple": "metal", "apple-ultra": "metal"}.get(backend, backend)
        value = getattr(self, f"pp_factor_{group}", None)
        return None if value is None else float(value)


def _cls(name: str) -> str:
    return BACKEND_CLASS.get(name, name)


FITTED = SpeedModel(
    eff_nvidia=0.9038,
    eff_amd=0.8148,
    eff_amd_igpu=0.91,
    eff_apple=0.9433,
    eff_apple_ultra=0.8212,
    eff_cpu=0.7154,
    layer_us_nvidia=41.98,
    layer_us_amd=33.4,
    layer_us_amd_igpu=58.03,
    layer_us_apple=62.67,
    layer_us_apple_ultra=81.78,
    layer_us_cpu=5.368e-08,
    moe_eff_nvidia=0.6817,
    moe_eff_amd=0.8517,
    moe_eff_amd_igpu=0.8,
    moe_eff_apple=0.8057,
    moe_eff_apple_ultra=0.8211,
    moe_eff_cpu=0.8,
    moe_layer_factor=1.653,
    m1_efficiency=0.7338,
    old_build_factor=2.727,
    gpu_hop_ms=7.94e-11,
    pp_factor_gpu=31.0,
    pp_factor_metal=13.0,
    pp_factor_cpu=3.23,
)
"""Fitted on the ``split: fit`` rows of knowledge/benchmarks.yaml by `assistant.calibration.fit`
(tests/test_benchmarks.py checks these equal a fresh fit)."""


def decode_seconds(
    active_gb: float,
    n_layers: int,
    bandwidth_gb_s: float,
    speed_class: str,
    moe: bool,
    model: SpeedModel = FITTED,
    *,
    old_build: bool = False,
    m1_fabric: bool = False,
    gpus: int = 1,
    ram_fraction: float = 0.0,
    ram_bandwidth_gb_s: float | None = None,
) -> float:
    """Seconds per generated token (unrounded)."""
    cls = _cls(speed_class)
    layer = model.layer_s(cls) * (model.moe_layer(cls) if moe else 1.0)
    if old_build and cls != "cpu":
        layer *= model.old_build_factor
    moe_eff = model.moe_eff(cls) if moe else 1.0
    on_device = 1.0 - ram_fraction
    seconds = n_layers * layer * on_device
    eff = model.eff(cls) * (model.m1_efficiency if m1_fabric else 1.0)
    seconds += active_gb * on_device / (eff * moe_eff * bandwidth_gb_s)
    seconds += max(gpus - 1, 0) * model.gpu_hop_ms / 1000
    if ram_fraction > 0:
        ram_bw = ram_bandwidth_gb_s or DEFAULT_BANDWIDTH_GB_S["ram"]
        cpu_layer = model.layer_s("cpu") * (model.moe_layer("cpu") if moe else 1.0)
        seconds += n_layers * ram_fraction * cpu_layer
        seconds += active_gb * ram_fraction / (model.eff("cpu") * (model.moe_eff("cpu") if moe else 1.0) * ram_bw)
    return seconds


def decode_tokens_per_s(
    active_gb: float,
    bandwidth_gb_s: float,
    backend: str,
    moe: bool,
    model: SpeedModel = FITTED,
    ram_fraction: float = 0.0,
    ram_bandwidth_gb_s: float | None = None,
    n_layers: int | None = None,
    gpus: int = 1,
) -> float:
    """Calibrated generation speed (unrounded). `backend` is a speed class or an old backend name."""
    layers = n_layers if n_layers else estimated_layers(active_gb * 8 / 4.8)
    return 1 / decode_seconds(active_gb, layers, bandwidth_gb_s, backend, moe, model, gpus=gpus,
                              ram_fraction=ram_fraction, ram_bandwidth_gb_s=ram_bandwidth_gb_s)


def prompt_tokens_per_s(
    active_params_b: float, bandwidth_gb_s: float, backend: str, model: SpeedModel = FITTED
) -> float | None:
    """Order-of-magnitude prompt-processing speed, or None when the backend has no pp data.

    Prompt processing is compute bound; bandwidth stands in for the chip's class:
    ``pp_factor[backend] x bandwidth / active_params_b``.
    """
    factor = model.pp_factor(_cls(backend))
    if factor is None:
        return None
    return factor * bandwidth_gb_s / active_params_b
