"""Memory a model needs (KV cache, runtime overhead) and the memory a machine lets it use.

Units: decimal GB (1e9 bytes) for every size the estimator returns. Memory *sold* as "24 GB" or "64 GB"
is binary (24 GiB, 64 GiB), so budgets start from ``marketed x 2**30`` bytes.

Budget rules (`BUDGET_RULES`, each id is what an answer's assumptions cite):

* ``vram``: a discrete GPU lets a program use all its memory but the driver/runtime context, taken as
  0.5 GiB per card. Another 1 GiB per card is kept for a desktop the card may also drive: a model that
  needs it is a *tight* fit (close programs using the GPU, or run headless).
* ``macos``: Metal's default GPU working set (``recommendedMaxWorkingSetSize``) is 2/3 of memory up to
  36 GiB and 3/4 above it: 10922.67 MB on a 16 GB Mac (llama-cpp-python issue 687, exo PR 1672), 75 %
  (GPUStack issue 1375), 47 GB trouble on a 64 GB M2 Max (llama.cpp issue 1870). Newer macOS may give
  more (107.5 GiB of 128 GiB was measured on macOS 26, antirez/ds4 PR 893), so the rule is on the safe
  side. ``sudo sysctl iogpu.wired_limit_mb=N`` raises it until reboot (llmfit PR 754, whichllm issue
  152); the raised limit kept here leaves max(4 GiB, 1/8 of memory) to macOS (112 GiB on 128 GiB, the
  value ds4 PR 893 runs with).
* ``amd-uma`` (Strix Halo): the GPU gets the BIOS/driver allocation, taken as 3/4 of memory; Linux
  kernel parameters ``amdgpu.gttsize``/``ttm.pages_limit`` raise it to memory minus 4 GiB
  (kyuz0/amd-strix-halo-toolboxes README: 124 GiB of 128).
* ``nvidia-uma`` (DGX Spark): CUDA shares the whole memory; 8 GiB is left to the OS.
* ``cpu``: system RAM less what the OS and desktop hold, max(4 GiB, 1/4); a tight fit may use all but
  2.5 GiB (close the browser and other programs). llama.cpp maps the file, so a model slightly over
  this pages in from disk and slows down rather than failing.
"""

from __future__ import annotations

from dataclasses import dataclass

from .quant import GIB, TensorGroups

KV_BYTES_PER_ELEMENT = 2  # F16 cache, llama.cpp's default
KV_BYTES_PER_TOKEN_PER_8B_ACTIVE = 2 * 32 * 8 * 128 * 2
"""131072 bytes: Llama-3-8B (32 layers, 8 KV heads of dim 128) with an F16 cache."""

DEFAULT_CONTEXT = 4096
N_UBATCH = 512
DEFAULT_VOCAB = 152_064
COMPUTE_BUFFER_FIXED_GB = 0.05
"""Compute buffer (flash attention on, llama.cpp's default where supported): the logits of one
micro-batch, n_ubatch 512 x vocab x 4 bytes (152k vocab: 0.31 GB), plus ~50 MB of activations. llama.cpp
logs show 105 MiB (32k vocab, n_ctx 512; llamafile PR 552) and 164 MiB (32k vocab, n_ctx 2048, flash
attention off; fedora-copr/logdetective PR 106)."""

CONTEXT_RESERVE_GIB = 0.5
UMA_COMFORT = 0.80
"""On unified memory the GPU limit is shared with the window server and every program's GPU buffers, and a
longer conversation grows the KV cache: a model within 80 % of the limit is a comfortable fit, above it
a tight one (close programs, keep the context short)."""
DESKTOP_MARGIN_GIB = 1.0


def kv_cache_gb(
    n_layers: int | None,
    n_kv_heads: int | None,
    head_dim: int | None,
    context_tokens: int,
    active_b: float,
    groups: TensorGroups | None = None,
) -> tuple[float, str]:
    """KV cache in GB and how it was found: "per-layer" from the shape, else "approximate" from size.

    Layers that attend to a sliding window only (gpt-oss: every other layer, 128 tokens) hold the window.
    """
    if n_layers and n_kv_heads and head_dim:
        per_layer_token = 2 * n_kv_heads * head_dim * KV_BYTES_PER_ELEMENT
        groups = groups or TensorGroups()
        if groups.sliding_window and groups.full_attention_every:
            full = n_layers // groups.full_attention_every
            tokens = full * context_tokens + (n_layers - full) * min(context_tokens, groups.sliding_window)
        else:
            tokens = n_layers * context_tokens
        return per_layer_token * tokens / 1e9, "per-layer"
    return KV_BYTES_PER_TOKEN_PER_8B_ACTIVE * active_b / 8 * context_tokens / 1e9, "approximate"


def overhead_gb(vocab: int | None = None) -> float:
    """Runtime compute buffer in GB (see `COMPUTE_BUFFER_FIXED_GB`)."""
    return N_UBATCH * 4 * (vocab or DEFAULT_VOCAB) / 1e9 + COMPUTE_BUFFER_FIXED_GB


@dataclass(frozen=True)
class Budget:
    """What a machine lets a model use, in decimal GB.

    ``comfortable``: fits with the desktop and usual programs running. ``tight``: fits once programs
    are closed (or the card runs headless). ``raised``: fits once the OS limit is raised (``command``).
    """

    rule: str
    total_gb: float
    comfortable_gb: float
    tight_gb: float
    raised_gb: float | None = None
    command: str | None = None
    slots: tuple[tuple[str, object], ...] = ()


def _gb(gib: float) -> float:
    return gib * GIB / 1e9


def budget_for(platform: str, memory_gib: float, count: int = 1) -> Budget:
    """The budget rule of a platform ("discrete", "macos", "amd-uma", "nvidia-uma", "cpu")."""
    total = _gb(memory_gib * count)
    if platform == "discrete":
        usable = _gb((memory_gib - CONTEXT_RESERVE_GIB) * count)
        comfortable = _gb((memory_gib - CONTEXT_RESERVE_GIB - DESKTOP_MARGIN_GIB) * count)
        return Budget("vram", total, comfortable, usable,
                      slots=(("reserve_gib", CONTEXT_RESERVE_GIB), ("desktop_gib", DESKTOP_MARGIN_GIB), ("cards", count)))
    if platform == "macos":
        fraction = 2 / 3 if memory_gib <= 36 else 3 / 4
        default = _gb(memory_gib * fraction)
        keep = max(4.0, memory_gib / 8)
        raised_gib = memory_gib - keep
        raised = _gb(raised_gib) if raised_gib * GIB > memory_gib * fraction * GIB else None
        command = f"sudo sysctl iogpu.wired_limit_mb={int(raised_gib * 1024)}" if raised else None
        return Budget("macos", total, default * UMA_COMFORT, default, raised, command,
                      slots=(("fraction", round(fraction, 3)), ("default_gib", round(memory_gib * fraction, 1)),
                             ("raised_gib", round(raised_gib, 1)), ("keep_gib", keep)))
    if platform == "amd-uma":
        default = _gb(memory_gib * 0.75)
        raised_gib = memory_gib - 4
        return Budget("amd-uma", total, default * UMA_COMFORT, default, _gb(raised_gib),
                      "kernel parameters amdgpu.gttsize / ttm.pages_limit "
                      f"(ttm.pages_limit={int(raised_gib * GIB / 4096)})",
                      slots=(("default_gib", memory_gib * 0.75), ("raised_gib", raised_gib)))
    if platform == "nvidia-uma":
        usable = _gb(memory_gib - 8)
        return Budget("nvidia-uma", total, usable * UMA_COMFORT, usable, slots=(("keep_gib", 8),))
    keep = max(4.0, memory_gib / 4)
    return Budget("cpu", total, _gb(memory_gib - keep), _gb(max(memory_gib - 2.5, memory_gib * 0.6)),
                  slots=(("keep_gib", keep), ("tight_keep_gib", 2.5)))


BUDGET_RULES: dict[str, str] = {
    "vram": "all VRAM but the driver context (0.5 GiB a card); 1 GiB more a card for a desktop on that card",
    "macos": "Metal's default GPU limit: 2/3 of memory up to 36 GB, 3/4 above; sudo sysctl iogpu.wired_limit_mb raises it",
    "amd-uma": "3/4 of memory for the GPU by default; kernel parameters raise it to memory minus 4 GiB",
    "nvidia-uma": "unified memory less 8 GiB for the OS",
    "cpu": "RAM less max(4 GiB, 1/4) for the OS and programs; tight: all but 2.5 GiB",
}
