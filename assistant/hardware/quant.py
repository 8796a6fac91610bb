"""GGUF quantisation types and the size of a model's weights, per tensor group.

A GGUF file does not store every tensor at its nominal type. llama.cpp's K- and IQ-quant recipes keep
the output (unembedding) matrix at Q6_K, and gpt-oss's expert tensors stay MXFP4 (4.25 bits) whatever
the file is called. So the weights are summed per group::

    bytes = experts x 4.25/8  +  output x bits_out/8  +  rest x bits_body/8

``bits_body`` is derived from llama.cpp's own effective bits per weight for Llama-3.1-8B
(``tools/quantize/README.md``; its output matrix, 128256 x 4096 = 0.525B of 8.03B, is Q6_K), so the
table that fixes the constants is not the table they are checked against (knowledge/gguf_sizes.yaml).
Types the 8B table does not list take their bits from the Llama-3-70B perplexity table of llama.cpp
PR #6745 (those rows are marked ``fit`` in the size table and are not counted as held-back checks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent.parent / "knowledge"
GGUF_SIZES_YAML = KNOWLEDGE_DIR / "gguf_sizes.yaml"
GIB = 2**30

QUANT_BITS: dict[str, float] = {
    "Q2_K": 3.16,
    "Q3_K_M": 3.89,
    "Q4_0": 4.54,
    "IQ4_XS": 4.46,
    "Q4_K_M": 4.89,
    "Q5_K_M": 5.70,
    "Q6_K": 6.56,
    "Q8_0": 8.50,
    "F16": 16.0,
    "BF16": 16.0,
    "MXFP4": 4.63,
    # Types llama.cpp's 8B table does not give here: Llama-3-70B sizes of PR #6745 (GiB x 2**33 / 70.55e9).
    "IQ1_S": 1.74,
    "IQ1_M": 1.90,
    "IQ2_XXS": 2.17,
    "IQ2_XS": 2.40,
    "IQ2_S": 2.52,
    "IQ2_M": 2.73,
    "Q2_K_S": 2.77,
    "IQ3_XXS": 3.11,
    "IQ3_XS": 3.32,
    "IQ3_S": 3.51,
    "Q3_K_S": 3.51,
    "IQ3_M": 3.62,
    "Q3_K_L": 4.21,
    "IQ4_NL": 4.54,
    "Q4_K_S": 4.58,
    "Q5_K_S": 5.52,
}
"""Effective bits per weight of GGUF formats at the scale of an 8B model.

Q2_K, IQ4_XS, Q4_K_M, Q5_K_M, Q6_K, Q8_0, F16: the Llama-3.1-8B table in llama.cpp's
``tools/quantize/README.md`` (3.1593, 4.4597, 4.8944, 5.7036, 6.5633, 8.5008, 16.0005).
Q3_K_M: 31.91 GiB for Llama-3-70B (70.55B) in the perplexity table of llama.cpp PR #6745 (dranger003).
Q4_0: llama-bench's 3.56 GiB for LLaMA-7B (6.74B) in llama.cpp PR #4766. MXFP4 (gpt-oss only): the
whole-file average of gpt-oss-20b; the per-group model below is used instead for gpt-oss. The 70B-table
types are 70B averages (their output share is 1.5 %, not 6.5 %), used as body bits directly."""

BITS_FROM_70B_TABLE = frozenset(
    {"Q3_K_M", "IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ2_M", "Q2_K_S", "IQ3_XXS", "IQ3_XS",
     "IQ3_S", "Q3_K_S", "IQ3_M", "Q3_K_L", "IQ4_NL", "Q4_K_S", "Q5_K_S"}
)
"""Quant types whose constant comes from the size table's own Llama-3-70B rows (so those rows are `fit`)."""

OUTPUT_BITS_LOW = 6.5625  # Q6_K: llama.cpp keeps output.weight at Q6_K in K-/IQ-quant files below 6 bits
MXFP4_BITS = 4.25  # 4-bit values plus one 8-bit scale per 32
REF_PARAMS_B = 8.03  # Llama-3.1-8B
REF_OUTPUT_B = 0.525  # its 128256 x 4096 output matrix

QUANT_ALIASES: dict[str, str] = {
    "q2": "Q2_K", "q3": "Q3_K_M", "q3_k": "Q3_K_M", "q3km": "Q3_K_M", "q4": "Q4_K_M", "q4_k": "Q4_K_M",
    "q4km": "Q4_K_M", "q4ks": "Q4_K_S", "int4": "Q4_K_M", "4bit": "Q4_K_M", "iq4": "IQ4_XS", "iq4xs": "IQ4_XS",
    "iq3": "IQ3_M", "iq2": "IQ2_M", "q5": "Q5_K_M", "q5_k": "Q5_K_M", "q5km": "Q5_K_M", "q6": "Q6_K", "q8": "Q8_0",
    "int8": "Q8_0", "8bit": "Q8_0", "f16": "F16", "fp16": "F16", "16bit": "F16", "bf16": "BF16",
    "mxfp4": "MXFP4", "fp4": "MXFP4",
}

QUALITY_ORDER: tuple[str, ...] = ("Q8_0", "Q5_K_M", "Q4_K_M")
"""Quantisations `fits_any_quant` tries, best quality first (F16 costs twice Q8_0 for little gain)."""

LOWER_QUANTS: tuple[str, ...] = ("Q4_K_M", "IQ4_XS", "Q3_K_M", "IQ3_XS", "Q2_K", "IQ2_M")
"""Step-down order when the asked quantisation does not fit."""

PERPLEXITY_DELTA: dict[str, float] = {
    "Q8_0": 0.0003, "Q6_K": 0.0047, "Q5_K_M": 0.0123, "Q4_K_M": 0.0483, "IQ4_XS": 0.0707, "Q3_K_M": 0.1875,
    "IQ3_XS": 0.3145, "IQ3_M": 0.2153, "Q2_K": 0.6873, "IQ2_M": 0.7235, "IQ2_XS": 1.0307,
}
"""Perplexity increase over F16 on Llama-3-70B (wiki.test), llama.cpp PR #6745 (dranger003): the quality
caveat a lower quantisation carries. Smaller models lose more at the same type."""

_KEY_NORMALISER = re.compile(r"[\s\-.]+")


def normalize_quant(name: str) -> str:
    """Map a quantisation name or alias ("q4", "int8", "bf16") to a `QUANT_BITS` key.

    Raises:
        ValueError: naming the accepted names when `name` is unknown.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"quantisation must be a non-empty name; accepted: {_accepted_quants()}")
    key = _KEY_NORMALISER.sub("_", name.strip()).upper()
    if key in QUANT_BITS:
        return key
    alias = QUANT_ALIASES.get(key.lower()) or QUANT_ALIASES.get(key.lower().replace("_", ""))
    if alias:
        return alias
    raise ValueError(f"unknown quantisation {name!r}; accepted: {_accepted_quants()}")


def _accepted_quants() -> str:
    return ", ".join([*QUANT_BITS, *sorted(QUANT_ALIASES)])


def output_bits(quant: str) -> float:
    """Bits of the output matrix in a `quant` file: Q6_K below 6 bits, the file's own type above."""
    bits = QUANT_BITS[quant]
    return bits if bits >= OUTPUT_BITS_LOW - 0.01 else OUTPUT_BITS_LOW


def body_bits(quant: str) -> float:
    """Bits of the remaining tensors, with the output matrix's share taken out of the 8B average."""
    if quant == "MXFP4":
        return QUANT_BITS["Q8_0"]  # gpt-oss MXFP4 files keep non-expert tensors near Q8_0
    bits = QUANT_BITS[quant]
    if quant in BITS_FROM_70B_TABLE:
        return bits
    share = REF_OUTPUT_B / REF_PARAMS_B
    return (bits - output_bits(quant) * share) / (1 - share)


def estimated_output_params_b(params_b: float) -> float:
    """Output-matrix size when the model's vocab and width are not known: 0.23 x params^0.4, at most 30 %.

    Llama 3.2 1B 0.26, Llama 3 8B 0.53, Llama 3 70B 1.05 (vocab x hidden in their config.json).
    """
    return min(0.3 * params_b, 0.23 * params_b**0.4)


@dataclass(frozen=True)
class TensorGroups:
    """Per-model tensor facts from knowledge/gguf_sizes.yaml (or estimated)."""

    output_params_b: float | None = None
    expert_params_b: float = 0.0  # MXFP4 experts (gpt-oss)
    experts: int | None = None
    experts_per_token: int | None = None
    weights_format: str | None = None
    sliding_window: int | None = None
    full_attention_every: int | None = None
    source: str = ""

    @property
    def mxfp4_experts(self) -> bool:
        return self.weights_format == "mxfp4-experts" and self.expert_params_b > 0


def _name_key(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", name.lower())


@lru_cache(maxsize=2)
def _load_sizes_yaml(path: str) -> dict:
    import yaml  # noqa: PLC0415

    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def tensor_groups_for(name: str, weights_format: str | None = None, path: Path | None = None) -> TensorGroups:
    """The tensor groups known for a model or variant name (gpt-oss-20b, Llama-3-70B), else empty."""
    data = _load_sizes_yaml(str(path or GGUF_SIZES_YAML)).get("tensor_groups", {})
    key = _name_key(name or "")
    for model, facts in data.items():
        mk = _name_key(model)
        if key == mk or (key.startswith(mk) and not key[len(mk):len(mk) + 1].isdigit()):
            return TensorGroups(**{k: v for k, v in facts.items() if k in TensorGroups.__dataclass_fields__})
    return TensorGroups(weights_format=weights_format)


def weights_gb(params_b: float, quant: str, groups: TensorGroups | None = None) -> float:
    """Decimal GB of a `quant` GGUF of a `params_b` model, summed per tensor group."""
    groups = groups or TensorGroups()
    experts = groups.expert_params_b if groups.mxfp4_experts else 0.0
    rest = max(params_b - experts, 0.0)
    out = groups.output_params_b if groups.output_params_b is not None else estimated_output_params_b(params_b)
    out = min(out, rest)
    bits = experts * MXFP4_BITS + out * output_bits(quant) + (rest - out) * body_bits(quant)
    return bits / 8


def active_weights_gb(active_b: float, total_b: float, quant: str, groups: TensorGroups | None = None) -> float:
    """Decimal GB read per generated token: the active parameters, experts at MXFP4 where they are."""
    groups = groups or TensorGroups()
    out = groups.output_params_b if groups.output_params_b is not None else estimated_output_params_b(total_b)
    if groups.mxfp4_experts and groups.experts and groups.experts_per_token:
        experts = groups.expert_params_b * groups.experts_per_token / groups.experts
        rest = max(active_b - experts, 0.0)
        out = min(out, rest)
        return (experts * MXFP4_BITS + out * output_bits(quant) + (rest - out) * body_bits(quant)) / 8
    out = min(out, 0.5 * active_b)
    return (out * output_bits(quant) + (active_b - out) * body_bits(quant)) / 8


@dataclass(frozen=True)
class SizeRow:
    """One published GGUF size."""

    model: str
    params_b: float
    quant: str
    size_gb: float  # decimal GB
    source: str
    active_b: float | None = None
    split: str = "fit"


def load_size_table(path: Path | None = None) -> list[SizeRow]:
    """knowledge/gguf_sizes.yaml as rows with decimal-GB sizes and their fixed split (see `size_splits`)."""
    data = _load_sizes_yaml(str(path or GGUF_SIZES_YAML))
    sources = data["sources"]
    rows = []
    for raw in data["sizes"]:
        unit = raw["unit"]
        if unit not in ("GiB", "GB"):
            raise ValueError(f"size row {raw} has unit {unit!r}")
        size = float(raw["size"]) * (GIB / 1e9 if unit == "GiB" else 1.0)
        rows.append(SizeRow(str(raw["model"]), float(raw["params_b"]), normalize_quant(str(raw["quant"])), size,
                            sources[raw["src"]], float(raw["active_b"]) if raw.get("active_b") else None))
    return size_splits(rows)


def size_splits(rows: list[SizeRow]) -> list[SizeRow]:
    """Fixed split rule: a row whose quant constant comes from this table is `fit`; the others alternate
    holdout, fit, holdout ... in file order (so at least half of them are held back)."""
    out, i = [], 0
    for row in rows:
        own = row.quant in BITS_FROM_70B_TABLE or (row.quant == "Q4_0" and row.model == "LLaMA-7B")
        if own:
            split = "fit"
        else:
            split = "holdout" if i % 2 == 0 else "fit"
            i += 1
        out.append(SizeRow(row.model, row.params_b, row.quant, row.size_gb, row.source, row.active_b, split))
    return out


def predicted_size_gb(row: SizeRow) -> float:
    """The weight-size model's GB for a size-table row."""
    return weights_gb(row.params_b, row.quant, tensor_groups_for(row.model))
