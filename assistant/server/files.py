"""What on disk the server touches: its own export folder and Gradio cache folder (removed at
exit, and those of processes that are gone), and the folders it must never serve."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from ..config import PROJECT_ROOT, Settings


def export_folder(settings: Settings) -> Path:
    """The app's one export folder (compare downloads), removed when the process exits.

    It lives under `<tmp>/assistant-exports-<uid>/<pid>`; folders left by processes that
    are gone are removed here, so restarts do not pile them up.
    """
    base = Path(tempfile.gettempdir()) / f"assistant-exports-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
    base.mkdir(mode=0o700, exist_ok=True)
    for old in base.iterdir():
        if old.name.isdigit() and int(old.name) != os.getpid() and not _alive(int(old.name)):
            shutil.rmtree(old, ignore_errors=True)
    folder = base / str(os.getpid())
    folder.mkdir(mode=0o700, exist_ok=True)
    atexit.register(shutil.rmtree, folder, True)
    return folder


def gradio_cache_folder() -> Path:
    """A Gradio cache folder owned by this process, so it never serves another process's files.

    It is `<GRADIO_TEMP_DIR or <tmp>/assistant-gradio-<uid>>/assistant-<pid>`, removed at exit;
    folders of processes that are gone are removed here.
    """
    configured = os.environ.get("GRADIO_TEMP_DIR")
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    base = Path(configured) if configured else Path(tempfile.gettempdir()) / f"assistant-gradio-{uid}"
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    for old in base.glob("assistant-*"):
        pid = old.name.removeprefix("assistant-")
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    folder = base / f"assistant-{os.getpid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    atexit.register(shutil.rmtree, folder, True)
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def blocked_paths(settings: Settings) -> list[str]:
    """Folders the server must never serve: the project, knowledge, models and data."""
    paths = [PROJECT_ROOT, settings.knowledge_dir, settings.models_dir, settings.data_dir]
    if settings.model is not None:
        paths.append(settings.model.parent)
    return list(dict.fromkeys(str(Path(p).resolve()) for p in paths))
