"""Helpers for the argocd-wait integration tests: a running fake server, the CLI as a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_guard_lab import argocd_api

TOKEN = "argocd-test-token-5f0c1d"
OLD = "1" * 40
OURS = "2" * 40
LATER = "3" * 40


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    started: float
    ended: float
    report: dict[str, Any] | None

    @property
    def text(self) -> str:
        return self.stdout + self.stderr


def deployed(revision: str, **over: Any) -> dict[str, Any]:
    """The keywords of a finished, healthy deploy of ``revision``."""
    state: dict[str, Any] = {
        "revision": revision,
        "sync_status": "Synced",
        "health": "Healthy",
        "phase": "Succeeded",
        "op_revision": revision,
    }
    state.update(over)
    return state


def rollout(revision: str, *, step: float = 0.3) -> list[argocd_api.ReplayStep]:
    """ArgoCD noticing ``revision``, syncing it, and the app becoming Healthy."""
    return [
        argocd_api.ReplayStep(step, {"revision": revision, "sync_status": "OutOfSync"}),
        argocd_api.ReplayStep(
            step, {"phase": "Running", "op_revision": revision, "health": "Progressing"}
        ),
        argocd_api.ReplayStep(step, {"phase": "Succeeded", "sync_status": "Synced"}),
        argocd_api.ReplayStep(step, {"health": "Healthy"}),
    ]


def on_first_read(
    store: argocd_api.ApplicationStore, replay: argocd_api.Replay
) -> argocd_api.Replay:
    """Start ``replay`` when the command first reads the app (it asks for a refresh then).

    Starting it with the process instead would race the interpreter's start-up.
    """
    store.on_refresh.append(lambda name, namespace: replay.start())
    return replay


def run_cli(
    server_url: str,
    *,
    revision: str = OURS,
    app: str = "web",
    extra: Sequence[str] = (),
    token: str | None = TOKEN,
    report: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> Run:
    """``gitops-guard argocd-wait`` as users run it; returns its exit code, output and report."""
    argv = [sys.executable, "-m", "gitops_guard", "argocd-wait"]
    argv += ["--server", server_url, "--app", app, "--revision", revision]
    if report is not None:
        argv += ["--report", str(report)]
    argv += list(extra)
    environ = dict(os.environ)
    environ.update(env or {})
    if token is not None:
        environ["ARGOCD_TOKEN"] = token
    started = time.monotonic()
    done = subprocess.run(argv, env=environ, capture_output=True, text=True, timeout=timeout)
    ended = time.monotonic()
    data = json.loads(report.read_text()) if report is not None and report.exists() else None
    return Run(done.returncode, done.stdout, done.stderr, started, ended, data)
