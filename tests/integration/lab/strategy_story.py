"""Run ``gitops-guard lab demo --strategy blue-green|canary`` as a user does, for the
story tests: the finished process, the lab processes it left behind (stopped here,
so a failing test leaves none), and the report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from gitops_guard_lab import layout


def tell(
    tmp_path: Path, strategy: str
) -> tuple[subprocess.CompletedProcess[str], list[int], dict[str, Any]]:
    """(the demo process, the processes it left, its report: {} if it wrote none)."""
    report = tmp_path / f"{strategy}.json"
    lab_dir = tmp_path / "lab"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gitops_guard",
            "lab",
            "demo",
            "--strategy",
            strategy,
            "--dir",
            str(lab_dir),
            "--report",
            str(report),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=380,
    )
    left = layout.lab_processes(layout.Layout.at(lab_dir / strategy).root)
    if left:
        layout.terminate(left, timeout=10)
    data = json.loads(report.read_text()) if report.is_file() else {}
    return done, left, data
