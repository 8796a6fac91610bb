"""A small pure-Python GGUF reader: header, key/value table and tensor table.

Metadata is read without loading the model, so `models list` and the status line are
fast, and a truncated download or an HTML page saved as `.gguf` is caught before
llama.cpp sees it. Parsing a real header still walks the whole vocabulary (about a
second for a 262k-token vocabulary), so results are also kept in a small JSON cache
keyed by path, size and mtime (`read_gguf_info(..., cache=GGUFCache(path))`).
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

GGUF_MAGIC = b"GGUF"
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


_MEMO: dict[tuple[Any, ...], GGUFInfo] = {}
_MEMO_LOCK = threading.Lock()
CACHE_VERSION = 1


def _stamp(paths: Sequence[Path]) -> tuple[Any, ...]:
    """What identifies a file's content cheaply: path, size and mtime of each part."""
    parts = []
    for part in paths:
        stat = part.stat()
        parts.append((str(part), stat.st_size, stat.st_mtime_ns))
    return tuple(parts)


def _info_to_json(info: GGUFInfo) -> dict[str, Any]:
    return {
        "path": str(info.path),
        "size_bytes": info.size_bytes,
        "version": info.version,
        "name": info.name,
        "architecture": info.architecture,
        "parameter_count": info.parameter_count,
        "quant": info.quant,
        "context_length": info.context_length,
        "chat_template": info.chat_template,
        "tensor_count": info.tensor_count,
        "expected_size_bytes": info.expected_size_bytes,
        "metadata": {k: v for k, v in info.metadata.items() if isinstance(v, (str, int, float, bool))},
    }


def _info_from_json(data: dict[str, Any]) -> GGUFInfo:
    return GGUFInfo(**{**data, "path": Path(data["path"]), "metadata": dict(data.get("metadata") or {})})


class GGUFCache:
    """Parsed GGUF metadata kept in one small JSON file, keyed by path, size and mtime.

    A new process then reports model status without re-reading the vocabulary. A stale,
    unreadable or foreign cache file is ignored and rewritten; writes are atomic.

    Args:
        path: the JSON file, e.g. ``data_dir / "gguf-metadata.json"``.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def get(self, stamp: tuple[Any, ...]) -> GGUFInfo | None:
        entry = self._load().get(json.dumps(stamp))
        if not isinstance(entry, dict):
            return None
        try:
            return _info_from_json(entry)
        except (TypeError, KeyError, ValueError):
            return None

    def put(self, stamp: tuple[Any, ...], info: GGUFInfo) -> None:
        with self._lock:
            entries = self._load()
            key = json.dumps(stamp)
            entries[key] = _info_to_json(info)
            # Keep only entries whose files are unchanged, so the file does not grow forever.
            live = {}
            for k, value in entries.items():
                try:
                    if k == key or tuple(tuple(x) for x in json.loads(k)) == _stamp([Path(x[0]) for x in json.loads(k)]):
                        live[k] = value
                except (OSError, ValueError, TypeError, IndexError):
                    continue
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd, scratch = tempfile.mkstemp(dir=self.path.parent, prefix=".gguf-cache-", suffix=".json")
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump({"version": CACHE_VERSION, "entries": live}, handle, ensure_ascii=False)
                os.replace(scratch, self.path)
            except OSError:
                pass  # a read-only data dir only costs the next process a re-parse


def _parse_parts(parts: Sequence[Path], name: Path, size: int) -> GGUFInfo:
    handles = [open(p, "rb") for p in parts]  # noqa: SIM115
    try:
        return _parse(_Stream(handles), name, size)
    finally:
        for handle in handles:
            handle.close()


def read_parts(parts: Sequence[Path], name: Path, cache: GGUFCache | None = None) -> GGUFInfo:
    """Parse a GGUF stored as consecutive chunks (the bundled package), cached like a file.

    Raises:
        ModelFileError: as `read_gguf_info`.
    """
    stamp = _stamp(parts)
    with _MEMO_LOCK:
        found = _MEMO.get(stamp)
    if found is None and cache is not None:
        found = cache.get(stamp)
    if found is None:
        found = _parse_parts(parts, name, sum(s[1] for s in stamp))
        if cache is not None:
            cache.put(stamp, found)
    with _MEMO_LOCK:
        _MEMO[stamp] = found
    return found


def read_gguf_info(path: str | Path, cache: GGUFCache | None = None) -> GGUFInfo:
    """Read a GGUF file's header, metadata and tensor table; check magic and size.

    Args:
        path: the .gguf file.
        cache: a persistent cache; results are also kept in this process.
            Both are keyed by (path, size, mtime), so a changed file is read again.

    Returns:
        The file's `GGUFInfo`.

    Raises:
        ModelFileError: the file is missing, not a GGUF (HTML, LFS pointer, …) or truncated;
            the message names the path and the size.
    """
    path = Path(path).expanduser()
    try:
        path.stat()
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
    return read_parts([path], path, cache)
