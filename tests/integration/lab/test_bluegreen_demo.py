"""``gitops-guard lab demo --strategy blue-green``: the blue-green story with real processes.

- exit 0, and the report says the story went as expected: the good version promoted
  (prepare, switch, scale-down commits), the bad one rejected by the preview gate with
  only a prepare commit, the user-traffic-only failure switched back;
- the report carries ok, failed_requests, switch_seconds and switch_back_seconds, the
  switch and the switch-back each within the issue's 5 s and without a failed request
  of their own;
- the lab ends serving the good version, and no process outlives the demo.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gitops_guard_lab import layout


@pytest.mark.timeout(400)
@pytest.mark.usefixtures("needs_prometheus")
def test_the_blue_green_story(tmp_path: Path) -> None:
    report = tmp_path / "bg.json"
    lab_dir = tmp_path / "lab"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gitops_guard",
            "lab",
            "demo",
            "--strategy",
            "blue-green",
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
    left = layout.lab_processes(layout.Layout.at(lab_dir / "blue-green").root)
    if left:
        layout.terminate(left, timeout=10)
    assert done.returncode == 0, done.stdout + done.stderr
    assert left == []
    data = json.loads(report.read_text())
    assert data["ok"] is True and data["problems"] == []
    assert [(s["expected"], s["outcome"]) for s in data["steps"]] == [
        ("promoted", "promoted"),
        ("rejected", "rejected"),
        ("switched-back", "switched-back"),
    ]
    assert set(data["steps"][0]["commits"]) == {"prepare", "switch", "scale-down"}
    assert set(data["steps"][1]["commits"]) == {"prepare"}
    assert set(data["steps"][2]["commits"]) == {"prepare", "switch", "switch-back"}
    assert 0 < data["switch_seconds"] <= 5
    assert 0 < data["switch_back_seconds"] <= 5
    assert data["switch_failed_requests"] == 0
    assert data["switch_back_failed_requests"] == 0
    assert data["transport_failures"] == 0, data["failures_by_outcome"]
    assert isinstance(data["failed_requests"], int) and data["requests"] > 100
    assert data["final_version"] == "1.1.0"
    assert "as expected" in done.stdout
