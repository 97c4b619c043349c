"""slo-gate live mode against a real Prometheus scraping a small exporter every second.

Behaviours covered:
- a healthy app is measured every interval for the whole duration and passes at the end (0);
- a failing key objective stops the gate early with fail (1) once it failed more than
  failureLimit consecutive measurements; the report records each measurement;
- the gate per app in live mode measures every app side by side (one duration, not
  one per app), and fails naming the failing app.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from gitops_guard_lab import promstack

LIVE = Path(__file__).resolve().parent / "data" / "live.yaml"
GateRunner = Callable[..., tuple[int, dict[str, Any]]]


def test_live_mode_passes_only_at_the_end(
    live_stack: tuple[promstack.Server, dict[str, Any]], run_gate: GateRunner
) -> None:
    server, _ = live_stack
    started = time.monotonic()
    code, report = run_gate("--var", "app=live-ok", url=server.url, config=LIVE)
    elapsed = time.monotonic() - started
    assert (code, report["verdict"]) == (0, "pass"), report["reason"]
    assert report["mode"] == "live"
    assert report["stopped_early"] is False
    # initialDelay 3s, then measurements at 0s, 2s and 4s of a 4s duration.
    assert report["measurement_count"] == 3
    assert 7 <= elapsed < 20
    points = report["objectives"][0]["measurements"]
    assert [p["state"] for p in points] == ["pass", "pass", "pass"]


def test_live_mode_stops_early_on_key_failure(
    live_stack: tuple[promstack.Server, dict[str, Any]], run_gate: GateRunner
) -> None:
    server, _ = live_stack
    code, report = run_gate("--var", "app=live-bad", url=server.url, config=LIVE)
    assert (code, report["verdict"]) == (1, "fail"), report["reason"]
    assert report["stopped_early"] is True
    # failureLimit 1: the second consecutive failure stops the gate.
    assert report["measurement_count"] == 2
    assert "stopped early" in report["reason"]
    assert report["objectives"][0]["value"] < 0.6


def test_live_mode_per_app_measures_every_app_at_once(
    live_stack: tuple[promstack.Server, dict[str, Any]], run_gate: GateRunner
) -> None:
    server, _ = live_stack
    code, report = run_gate("--app", "live-ok", "--app", "live-bad", url=server.url, config=LIVE)
    assert (code, report["verdict"]) == (1, "fail"), report["reason"]
    assert report["mode"] == "live"
    assert report["failed_apps"] == ["live-bad"]
    verdicts = {a["app"]: a["verdict"] for a in report["apps"]}
    assert verdicts == {"live-ok": "pass", "live-bad": "fail"}
    starts = {
        o["name"].split("/")[0]: datetime.fromisoformat(o["window"]["start"].replace("Z", "+00:00"))
        for o in report["objectives"]
    }
    # Side by side, not one after the other (that would be >= 7 s apart).
    assert abs((starts["live-ok"] - starts["live-bad"]).total_seconds()) < 3
