"""This machine's RAM and NVIDIA VRAM, for the hardware tab's "detect" button."""

from __future__ import annotations

import os
import shutil
import subprocess


def detect_machine() -> dict[str, object]:
    """Total RAM and NVIDIA VRAM of this machine, in decimal GB; never raises.

    Returns:
        {"ram_gb": float | None, "vram_gb": float | None (sum over GPUs),
         "gpus_vram_gb": list[float], "ram_source": "psutil" | "sysconf" | None}.
    """
    ram_gb, ram_source = _total_ram_gb()
    gpus = _nvidia_vram_gb()
    return {
        "ram_gb": ram_gb,
        "ram_source": ram_source,
        "vram_gb": round(sum(gpus), 2) if gpus else None,
        "gpus_vram_gb": gpus,
    }


def _total_ram_gb() -> tuple[float | None, str | None]:
    try:
        import psutil  # optional; imported here so `import assistant` stays light

        return round(psutil.virtual_memory().total / 1e9, 2), "psutil"
    except Exception:  # ImportError, or a sandbox that hides /proc
        pass
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        if total > 0:
            return round(total / 1e9, 2), "sysconf"
    except (AttributeError, ValueError, OSError):  # Windows has no sysconf
        pass
    return None, None


def _nvidia_vram_gb(timeout_s: float = 5.0) -> list[float]:
    exe = shutil.which("nvidia-smi")
    if not exe:
        return []
    try:
        result = subprocess.run(
            [exe, "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    if result.returncode != 0:
        return []
    sizes = []
    for line in result.stdout.splitlines():
        try:
            mib = float(line.strip())
        except ValueError:
            continue
        if mib > 0:
            sizes.append(round(mib * 1024 * 1024 / 1e9, 2))  # nvidia-smi reports MiB
    return sizes
