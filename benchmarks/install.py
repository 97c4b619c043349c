"""Time the actions' install step: the old `pip install` of the checkout vs scripts/install-action.

Side by side, in one run, on this machine:

- **pip (before)**: what every action did until uv.lock: a fresh ``python3 -m venv``
  and ``pip install`` of the checkout, resolving the ranges of pyproject.toml with no
  hashes (pip's cache off for cold, on for warm);
- **uv (now)**: ``scripts/install-action``: uv installed with its hash, uv.lock's
  hashed dependencies, one venv per version + Python + lock.

Each is timed **cold** (no venv, every cache empty: a fresh runner), **warm** (no
venv, caches filled: a new job on a runner whose cache was restored or kept) and
**reuse** (the venv exists: every later gitops-guard step of the job). Also prints
each venv's size. Goals (issue 12): cold <= 5 s, warm <= 1 s, venv <= 60 MB.
Needs the network (PyPI) for the cold runs. A figure for humans, not a test.

Usage: python benchmarks/install.py [RUNS]    (median of RUNS warm/reuse runs, default 3)
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The interpreter a runner would have: this venv's base Python, not the venv itself.
PYTHON = str(Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}")


def _run(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds


def _size_mb(path: Path) -> float:
    total = sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return total / 1e6


def _pip(work: Path, runs: int) -> dict[str, float]:
    venv = work / "pip-venv"
    cache = work / "pip-cache"
    base = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_ROOT_USER_ACTION": "ignore"}

    def install(env: dict[str, str]) -> float:
        shutil.rmtree(venv, ignore_errors=True)
        started = time.perf_counter()
        _run([PYTHON, "-m", "venv", str(venv)], env)
        _run([f"{venv}/bin/python", "-m", "pip", "install", "--quiet", str(ROOT)], env)
        return time.perf_counter() - started

    cold = install({**base, "PIP_NO_CACHE_DIR": "1"})
    install({**base, "PIP_CACHE_DIR": str(cache)})  # fills the cache
    warm = statistics.median(install({**base, "PIP_CACHE_DIR": str(cache)}) for _ in range(runs))
    check = [f"{venv}/bin/python", "-c", "import gitops_guard"]  # the old step's reuse test
    reuse = statistics.median(_run(check, base) for _ in range(runs))
    return {"cold": cold, "warm": warm, "reuse": reuse, "size": _size_mb(venv)}


def _uv(work: Path, runs: int) -> dict[str, float]:
    home = work / "uv-home"
    script = ["bash", str(ROOT / "scripts" / "install-action")]
    base = {
        **os.environ,
        "GITOPS_GUARD_HOME": str(home),
        "GITOPS_GUARD_PYTHON": PYTHON,
        "PIP_NO_CACHE_DIR": "1",
    }
    base.pop("UV_CACHE_DIR", None)
    base.pop("GITHUB_OUTPUT", None)

    def venvs() -> list[Path]:
        return [p for p in home.iterdir() if p.name[0].isdigit()]

    cold = _run(script, base)
    (venv,) = venvs()
    size = _size_mb(venv)

    def warm_once() -> float:
        shutil.rmtree(venv)
        return _run(script, base)

    warm = statistics.median(warm_once() for _ in range(runs))
    reuse = statistics.median(_run(script, base) for _ in range(runs))
    return {"cold": cold, "warm": warm, "reuse": reuse, "size": size}


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory(prefix="gitops-guard-install-") as tmp:
        work = Path(tmp)
        pip = _pip(work, runs)
        uv = _uv(work, runs)
    print(f"install step, {PYTHON} ({runs} runs for warm and reuse, median)")
    print(f"{'':24}{'pip (before)':>14}{'uv (now)':>12}{'goal':>10}")
    rows = [
        ("cold (empty caches)", "cold", "s", "<= 5 s"),
        ("warm (caches, new venv)", "warm", "s", "<= 1 s"),
        ("reuse (venv exists)", "reuse", "s", ""),
        ("venv size", "size", "MB", "<= 60 MB"),
    ]
    for label, key, unit, goal in rows:
        print(f"{label:24}{pip[key]:>11.2f} {unit:<2}{uv[key]:>9.2f} {unit:<2}{goal:>10}")


if __name__ == "__main__":
    main()
