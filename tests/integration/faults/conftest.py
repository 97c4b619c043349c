"""The fault-injection suite's set-up: a fault server, a canary secret, the CLI as a process.

The canary is set in every token variable (and URL-encoded in URLs' user info by the
tests); :func:`scan` looks for it, raw, URL-encoded and base64, in every channel of a
run: stdout, stderr (``::add-mask::`` lines excepted: the runner needs the raw value
there), the job summary, the outputs file, the report and any other file named.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from faultserver import FaultServer

CANARY = "cAnArY-7f3e+9/tok=en-Q"
"""A token with characters that change under URL-encoding and base64."""

TOKEN_VARS = (
    "ARGOCD_TOKEN",
    "ARGOCD_AUTH_TOKEN",
    "GITHUB_TOKEN",
    "GITOPS_TOKEN",
    "PROMETHEUS_TOKEN",
    "ALERTMANAGER_TOKEN",
)

SLACK = 5.0
"""A run may end this long after its deadline (start-up, the last answer)."""


def canary_forms() -> list[str]:
    raw = CANARY.encode()
    forms = {
        CANARY,
        urllib.parse.quote(CANARY, safe=""),
        urllib.parse.quote_plus(CANARY),
    }
    for prefix in (b"", b"x", b"xx", b"x-access-token:", b"admin:"):
        encoded = base64.b64encode(prefix + raw).decode()
        # the part that depends on the canary only (skip the prefix's characters)
        forms.add(encoded[len(prefix) * 4 // 3 + 2 : len(prefix) * 4 // 3 + 14])
    return sorted(forms)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    elapsed: float
    files: dict[str, str]

    @property
    def text(self) -> str:
        return self.stdout + self.stderr


def scan(run: Run, extra: Sequence[Path] = ()) -> list[str]:
    """Where a form of the canary shows up (empty when nowhere)."""
    channels = {
        "stdout": "\n".join(
            line for line in run.stdout.splitlines() if not line.startswith("::add-mask::")
        ),
        "stderr": run.stderr,
        **run.files,
    }
    for path in extra:
        if path.is_file():
            channels[str(path)] = path.read_text(errors="replace")
    found = []
    for name, text in channels.items():
        for form in canary_forms():
            if form in text:
                found.append(f"{name}: {form}")
    return found


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture
def cli(tmp_path: Path):  # type: ignore[no-untyped-def]
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
