"""The machine and library versions a run was made on (recorded at the top of RESULTS.md)."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _version(module: str, attr: str = "__version__") -> str:
    try:
        mod = __import__(module)
        return str(getattr(mod, attr))
    except Exception:
        return "not installed"


def _pillow() -> str:
    try:
        import PIL
        from PIL import features

        turbo = features.version("libjpeg_turbo")
        jpeg = f"libjpeg-turbo {turbo}" if turbo else f"libjpeg {features.version('jpg')}"
        return f"{PIL.__version__} ({jpeg})"
    except Exception:
        return "not installed"


def _git() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "fdjpeg"], cwd=REPO, capture_output=True, text=True
        )
        return rev.stdout.strip() + (" (fdjpeg/ has uncommitted changes)" if dirty.stdout.strip() else "")
    except Exception:
        return "unknown"


def describe() -> dict[str, str]:
    """Ordered facts about this machine and run."""
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": cpu_model(),
        "cores": f"{usable_cores()} usable ({os.cpu_count()} online)",
        "OS": f"{platform.system()} {platform.release()} {platform.machine()}",
        "Python": f"{platform.python_version()} ({sys.executable})",
        "fdjpeg": f"{_version('fdjpeg')} @ {_git()}",
        "numpy": _version("numpy"),
        "numba": _version("numba"),
        "Pillow": _pillow(),
        "simplejpeg": _version("simplejpeg"),
        "OpenCV (cv2)": _version("cv2"),
        "scipy": _version("scipy"),
    }
