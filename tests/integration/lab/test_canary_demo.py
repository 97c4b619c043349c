"""``gitops-guard lab demo --strategy canary``: the canary story with real processes.

- exit 0, and the report says the story went as expected: the good version taken
  25%, 50%, 100% (two gated steps that passed, then the promotion), the bad one
  aborted at its first step by one abort commit;
- the report carries ok, failed_requests and detection_seconds (the bad step found
  within seconds of data); the lab ends serving the good version, no process
  outlives the demo.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import strategy_story


@pytest.mark.timeout(400)
@pytest.mark.usefixtures("needs_prometheus")
def test_the_canary_story(tmp_path: Path) -> None:
    done, left, data = strategy_story.tell(tmp_path, "canary")
    assert done.returncode == 0, done.stdout + done.stderr
    assert left == []
    assert data["ok"] is True and data["problems"] == []
    assert [(s["expected"], s["outcome"]) for s in data["steps"]] == [
        ("promoted", "promoted"),
        ("aborted", "aborted"),
    ]
    assert set(data["steps"][0]["commits"]) == {"step-25", "step-50", "promote"}
    assert data["steps"][0]["verdicts"] == {"step-25": "pass", "step-50": "pass"}
    assert set(data["steps"][1]["commits"]) == {"step-25", "abort"}
    assert data["steps"][1]["verdicts"] == {"step-25": "fail"}
    assert 0 < data["detection_seconds"] <= 15
    assert isinstance(data["failed_requests"], int) and data["requests"] > 100
    assert data["final_version"] == "1.1.0"
    assert "as expected" in done.stdout
