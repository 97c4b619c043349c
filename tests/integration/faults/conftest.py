"""Fixtures of the fault-injection suite: a fault server and the CLI as a process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from faultkit import CANARY, TOKEN_VARS, Run
from faultserver import FaultServer


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., Run]:
    """Run ``gitops-guard ARGS`` as a process inside a pretend runner, with the canary set."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Run:
        out = tmp_path / "github_output"
        summary = tmp_path / "step_summary"
        report = tmp_path / "report.json"
        for path in (out, summary):
            path.write_text("")
        report.unlink(missing_ok=True)
        environ = dict(os.environ)
        environ.update({name: CANARY for name in TOKEN_VARS})
        environ.update(
            {
                "GITHUB_ACTIONS": "true",
                "GITHUB_OUTPUT": str(out),
                "GITHUB_STEP_SUMMARY": str(summary),
            }
        )
        environ.update(env or {})
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "gitops_guard", *args, "--report", str(report)],
            capture_output=True,
            text=True,
            env=environ,
            timeout=timeout,
            check=False,
        )
        elapsed = time.monotonic() - started
        files = {"outputs": out.read_text(), "summary": summary.read_text()}
        if report.exists():
            files["report"] = report.read_text()
        return Run(proc.returncode, proc.stdout, proc.stderr, elapsed, files)

    return run
