"""Will this model run on this machine, and how fast? (「跑得動嗎」)

Modules:

* `quant`: GGUF types and weight sizes per tensor group (MXFP4 experts, Q6_K output matrix);
  checked against the published sizes in knowledge/gguf_sizes.yaml.
* `memory`: KV cache from layer shapes, the runtime compute buffer, and the usable-memory budget
  rules of drivers and operating systems (`BUDGET_RULES`: VRAM, macOS, Strix Halo, DGX Spark, CPU).
* `presets`: knowledge/hardware.yaml, memory variants ("M3 Max 64GB") and hardware named in text.
* `speed`: the decode-speed model fitted by `assistant.calibration` on knowledge/benchmarks.yaml.
* `fit`: `estimate_fit(variant, hardware, quant, context) -> FitResult`, the structured answer
  (fits / tight / os_limit / partial_offload / expert_offload / no_fit).
* `legacy`: `estimate()` and friends, the previous API, on the new memory and speed models.
* `devices`: this machine's RAM and NVIDIA VRAM.

All sizes are decimal GB (1e9 bytes); memory sold as "N GB" is read as N GiB.
"""

from __future__ import annotations

from .devices import _nvidia_vram_gb, _total_ram_gb, detect_machine
from .fit import (
    RUNS,
    Assumption,
    FitPlacement,
    FitResult,
    LowerQuant,
    Machine,
    VariantFacts,
    estimate_fit,
    facts_of,
    machine_from,
)
from .legacy import (
    BACKEND_OF_KIND,
    PLACEMENT_ZH,
    TTFT_PROMPT_TOKENS,
    USABLE_FRACTION,
    FitEstimate,
    Placement,
    best_variant,
    estimate,
    fits,
    fits_any_quant,
)
from .memory import (
    BUDGET_RULES,
    DEFAULT_CONTEXT,
    KV_BYTES_PER_ELEMENT,
    KV_BYTES_PER_TOKEN_PER_8B_ACTIVE,
    Budget,
    budget_for,
    kv_cache_gb,
    overhead_gb,
)
from .presets import (
    HARDWARE_YAML,
    HardwareMatch,
    MemoryKind,
    Preset,
    _load_presets,
    _preset_patterns,
    find_all_hardware,
    find_hardware,
    load_presets,
    preset_named,
)
from .quant import (
    GGUF_SIZES_YAML,
    KNOWLEDGE_DIR,
    LOWER_QUANTS,
    PERPLEXITY_DELTA,
    QUALITY_ORDER,
    QUANT_ALIASES,
    QUANT_BITS,
    TensorGroups,
    active_weights_gb,
    load_size_table,
    normalize_quant,
    predicted_size_gb,
    tensor_groups_for,
    weights_gb,
)
from .speed import (
    DEFAULT_BANDWIDTH_GB_S,
    FITTED,
    SPEED_CLASSES,
    SpeedModel,
    decode_seconds,
    decode_tokens_per_s,
    estimated_layers,
    prompt_tokens_per_s,
)

__all__ = [name for name in dir() if not name.startswith("__")]
