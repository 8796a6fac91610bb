"""The Hugging Face Hub behind the small `Hub` protocol: `HfHub` uses `huggingface_hub`
(imported lazily, so `check` and the rest of the assistant never import it) and `RecordedHub`
reads recorded responses (tests/fixtures/hub). Hub failures become one-sentence `HubError`s."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol


class HubError(Exception):
    """A Hub failure the CLI reports as one sentence."""


class HubUnreachable(HubError):
    """No network, offline mode, or the endpoint does not answer."""


class RepoNotFound(HubError):
    """The repository does not exist (or is private)."""


class FileGated(HubError):
    """The file needs an accepted licence and a token (a gated repository)."""


class Hub(Protocol):
    """What `draft` needs from the Hub. `model_info` returns the Hub API's JSON shape:
    ``id, pipeline_tag, library_name, tags, gated, createdAt, cardData, safetensors{parameters,total},
    gguf{total,architecture,context_length}, siblings[{rfilename}]``."""

    def model_info(self, repo_id: str) -> dict[str, Any]: ...

    def download(self, repo_id: str, filename: str) -> str | None:
        """The file's text, or None when the repository has no such file."""
        ...

    def list_files(self, repo_id: str) -> list[str]: ...


def _error_kind(exc: BaseException) -> str | None:
    """Sort a huggingface_hub / HTTP exception by its class names (the library moved them between
    versions): 'gated', 'missing-repo', 'missing-file', 'unreachable' or None (a bug: re-raised)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "GatedRepoError" in names:
        return "gated"
    if "RepositoryNotFoundError" in names:
        return "missing-repo"
    if names & {"OfflineModeIsEnabled", "LocalEntryNotFoundError"}:
        return "unreachable"
    if names & {"EntryNotFoundError", "RemoteEntryNotFoundError"}:
        return "missing-file"
    transport = {
        "ConnectionError", "ConnectError", "ConnectTimeout", "ReadTimeout", "Timeout", "TimeoutException",
        "TransportError", "NetworkError", "ProxyError", "SSLError", "MaxRetryError", "NewConnectionError",
    }
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(status, int) and (status >= 500 or status == 429):
        return "unreachable"  # the Hub is down or rate-limits: try again later
    if names & transport or isinstance(exc, (OSError, TimeoutError)):
        return "unreachable" if status is None else None
    return None


def _unreachable(repo_id: str, exc: BaseException) -> HubUnreachable:
    text = str(exc).strip()
    reason = text.splitlines()[0].split(". ")[0].rstrip(".")[:160] if text else "no answer"
    return HubUnreachable(
        f"cannot reach the Hugging Face Hub to read {repo_id} ({type(exc).__name__}: {reason}); "
        "run `catalog draft` where huggingface.co (or HF_ENDPOINT) is reachable and HF_HUB_OFFLINE is unset."
    )


class HfHub:
    """The real Hub through `huggingface_hub` (lazy import). Uses HF_TOKEN / the login for gated repos."""

    def __init__(self) -> None:
        from huggingface_hub import HfApi  # noqa: PLC0415

        self._api = HfApi()

    def _call(self, repo_id: str, what: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - sorted by _error_kind, else re-raised
            kind = _error_kind(exc)
            if kind == "unreachable":
                raise _unreachable(repo_id, exc) from exc
            if kind == "missing-repo":
                raise RepoNotFound(f"{repo_id} is not a model repository on the Hub (or it is private)") from exc
            if kind == "gated":
                raise FileGated(f"{what} of {repo_id} is gated: accept the licence on the Hub and set HF_TOKEN") from exc
            if kind == "missing-file":
                return None
            raise

    def model_info(self, repo_id: str) -> dict[str, Any]:
        info = self._call(repo_id, "model_info", self._api.model_info, repo_id)
        if info is None:
            raise RepoNotFound(f"{repo_id} is not a model repository on the Hub")
        return _model_info_dict(info)

    def download(self, repo_id: str, filename: str) -> str | None:
        from huggingface_hub import hf_hub_download  # noqa: PLC0415

        path = self._call(repo_id, filename, hf_hub_download, repo_id, filename)
        return None if path is None else Path(path).read_text(encoding="utf-8")

    def list_files(self, repo_id: str) -> list[str]:
        return list(self._call(repo_id, "file list", self._api.list_repo_files, repo_id) or [])


def _model_info_dict(info: Any) -> dict[str, Any]:
    """huggingface_hub's ModelInfo as the Hub API's JSON (the shape the recordings keep)."""
    card = getattr(info, "card_data", None)
    if card is not None and hasattr(card, "to_dict"):
        card = card.to_dict()
    safetensors = getattr(info, "safetensors", None)
    if safetensors is not None and hasattr(safetensors, "total"):  # SafeTensorsInfo (a dataclass)
        safetensors = {"parameters": dict(getattr(safetensors, "parameters", None) or {}),
                       "total": getattr(safetensors, "total", None)}
    created = getattr(info, "created_at", None)
    return {
        "id": getattr(info, "id", None),
        "pipeline_tag": getattr(info, "pipeline_tag", None),
        "library_name": getattr(info, "library_name", None),
        "tags": list(getattr(info, "tags", None) or []),
        "gated": getattr(info, "gated", None),
        "createdAt": created.isoformat() if hasattr(created, "isoformat") else created,
        "cardData": card or {},
        "safetensors": safetensors,
        "gguf": getattr(info, "gguf", None),
        "siblings": [{"rfilename": s.rfilename} for s in (getattr(info, "siblings", None) or [])],
    }


class RecordedHub:
    """Recorded Hub responses: one JSON file per repository, ``<owner>__<name>.json`` in `directory`,
    holding ``{"model_info": {...}, "files": {"config.json": {...}, "README.md": "..."}}``.
    A file listed in ``"gated_files"`` raises FileGated, as the real Hub does without a token."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _record(self, repo_id: str) -> dict[str, Any]:
        path = self.directory / (repo_id.replace("/", "__") + ".json")
        if not path.is_file():
            raise RepoNotFound(f"{repo_id} has no recording in {self.directory}")
        return json.loads(path.read_text(encoding="utf-8"))

    def model_info(self, repo_id: str) -> dict[str, Any]:
        return dict(self._record(repo_id)["model_info"])

    def download(self, repo_id: str, filename: str) -> str | None:
        record = self._record(repo_id)
        if filename in record.get("gated_files", []):
            raise FileGated(f"{filename} of {repo_id} is gated: accept the licence on the Hub and set HF_TOKEN")
        value = record.get("files", {}).get(filename)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def list_files(self, repo_id: str) -> list[str]:
        return [s["rfilename"] for s in self._record(repo_id)["model_info"].get("siblings", [])]
