"""``lab up`` and ``lab down``: start the lab detached, and stop everything it started.

``up`` seeds a fresh bare GitOps repository from ``examples/gitops-repo``, starts
the supervisor (:mod:`gitops_guard_lab.supervisor`) as a detached process in its own
session, waits until it reports every part healthy, and writes ``DIR/lab.env``
(mode 0600: it holds the lab's ArgoCD token). ``down`` stops the supervisor, then
any recorded or marked process that is still alive, and leaves the repository and
the logs for inspection. A lab that is already up is reused by ``up``.

This module must not know what the parts do; it starts and stops one process.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gitops_guard
from gitops_guard import actions, errors
from gitops_guard_lab import layout, supervisor

DEFAULT_DIR = ".lab"
UP_TIMEOUT_SECONDS = 120.0
"""How long ``up`` waits for every part to be healthy (Prometheus start included)."""
DOWN_TIMEOUT_SECONDS = 15.0
"""How long ``down`` waits after SIGTERM before it kills what is left."""
LAB_IDENTITY = ("gitops-guard lab", "lab@gitops-guard.invalid")


def default_seed() -> Path:
    """``examples/gitops-repo`` of the source tree this package runs from, else of the
    current directory (a non-editable install keeps no examples)."""
    beside = Path(gitops_guard.__file__).resolve().parents[2] / "examples" / "gitops-repo"
    return beside if beside.is_dir() else Path.cwd() / "examples" / "gitops-repo"


@dataclass(frozen=True)
class LabEnv:
    """What ``DIR/lab.env`` holds."""

    values: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.values[key]

    @property
    def token(self) -> str:
        return self.values["ARGOCD_TOKEN"]


def _git(*args: str, cwd: Path | None = None) -> str:
    name, email = LAB_IDENTITY
    env = dict(os.environ)
    env.update(
        GIT_AUTHOR_NAME=name,
        GIT_AUTHOR_EMAIL=email,
        GIT_COMMITTER_NAME=name,
        GIT_COMMITTER_EMAIL=email,
    )
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=60
    )
    if done.returncode != 0:
        raise errors.DependencyUnavailable(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def seed_repository(seed: Path, bare: Path, *, branch: str = "main") -> str:
    """Create ``bare`` with one commit holding the files of ``seed``; returns its sha."""
    if not (seed / "apps").is_dir():
        raise errors.InputError(
            f"{seed} is not a GitOps repository seed (no apps/ folder)",
            source="--seed",
            hint="Run from a clone of gitops-guard, or pass --seed examples/gitops-repo.",
        )
    if bare.exists():
        shutil.rmtree(bare)
    with tempfile.TemporaryDirectory(prefix="gitops-guard-seed-") as tmp:
        work = Path(tmp) / "work"
        shutil.copytree(seed, work, ignore=shutil.ignore_patterns(".git", "__pycache__"))
        _git("init", "-q", "-b", branch, str(work))
        _git("add", "-A", cwd=work)
        _git("commit", "-q", "-m", "Seed the GitOps repository from examples/gitops-repo", cwd=work)
        _git("clone", "-q", "--bare", str(work), str(bare))
    return _git("--git-dir", str(bare), "rev-parse", f"refs/heads/{branch}").strip()


def running(paths: layout.Layout) -> bool:
    pid = paths.recorded_pids().get("supervisor")
    return pid is not None and layout.alive(pid) and layout.belongs_to(pid, paths.root)


def read_env(directory: str | os.PathLike[str]) -> LabEnv:
    """Parse ``DIR/lab.env``; InputError when the lab was never started there."""
    paths = layout.Layout.at(directory)
    try:
        text = paths.env_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise errors.InputError(
            f"no lab in {paths.root} ({paths.env_file.name} is missing)",
            source="--dir",
            hint=f"Start one with: gitops-guard lab up --dir {paths.root}",
        ) from None
    env = LabEnv(layout.parse_env(text))
    actions.register_secret(env.values.get("ARGOCD_TOKEN"))
    return env


def up(
    directory: str | os.PathLike[str] = DEFAULT_DIR,
    *,
    seed: Path | None = None,
    rps: float = 20.0,
    timeout: float = UP_TIMEOUT_SECONDS,
    apps: Sequence[str] = (),
) -> LabEnv:
    """Start the lab in ``directory`` (or reuse a running one) and return its lab.env.

    ``apps``: the ArgoCD Application files of the seed to run (default
    ``apps/sre-demo-app.yaml``); ``ARGOCD_APP`` and ``DEMO_APP_URL`` name the first,
    ``ARGOCD_APPS`` lists every name and ``DEMO_APP_URLS`` holds ``name=url`` pairs.
    """
    paths = layout.Layout.at(directory)
    if running(paths) and paths.ready_file.exists() and paths.env_file.exists():
        return read_env(paths.root)
    leftovers = layout.lab_processes(paths.root)
    if leftovers:
        layout.terminate(leftovers, timeout=DOWN_TIMEOUT_SECONDS)
    paths.make()
    for stale in (paths.ready_file, paths.failed_file, paths.env_file):
        stale.unlink(missing_ok=True)
    for pid_file in paths.pids.glob("*.pid"):
        pid_file.unlink()
    shutil.rmtree(paths.prometheus_data, ignore_errors=True)
    seed_repository(seed or default_seed(), paths.repo)

    token = secrets.token_urlsafe(24)
    actions.register_secret(token)
    pid = _spawn_supervisor(paths, token=token, rps=rps, apps=apps)
    record = _wait_ready(paths, pid, timeout=timeout)
    values = {
        "LAB_DIR": str(paths.root),
        "GITOPS_REPO": str(paths.repo),
        "GITOPS_REPO_URL": paths.repo.as_uri(),
        "GITOPS_BRANCH": str(record["branch"]),
        "ARGOCD_SERVER": str(record["argocd_server"]),
        "ARGOCD_APP": str(record["argocd_app"]),
        "ARGOCD_TOKEN": token,
        "PROMETHEUS_URL": str(record["prometheus_url"]),
        "DEMO_APP_URL": str(record["demo_app_url"]),
        "ARGOCD_APPS": ",".join(record["apps"]),
        "DEMO_APP_URLS": ",".join(f"{name}={url}" for name, url in record["apps"].items()),
    }
    fd = os.open(paths.env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("# gitops-guard lab: source this file (it holds the lab's ArgoCD token)\n")
        out.write(layout.format_env(values))
    return LabEnv(values)


def _spawn_supervisor(
    paths: layout.Layout, *, token: str, rps: float, apps: Sequence[str] = ()
) -> int:
    env = dict(os.environ)
    env[layout.ENV_MARKER] = str(paths.root)
    env[supervisor.TOKEN_ENV] = token
    # posix_spawn instead of Popen: the supervisor outlives us, and a Popen object
    # would warn ("still running") when it is collected.
    log_path = paths.log_file("supervisor")
    argv = [
        sys.executable,
        "-m",
        "gitops_guard_lab.supervisor",
        "--dir",
        str(paths.root),
        "--rps",
        f"{rps:g}",
        *(arg for app in apps for arg in ("--app", app)),
    ]
    return os.posix_spawn(
        sys.executable,
        argv,
        env,
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(log_path), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
        setsid=True,
    )


def _wait_ready(paths: layout.Layout, pid: int, *, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        if paths.ready_file.exists():
            data: dict[str, Any] = json.loads(paths.ready_file.read_text(encoding="utf-8"))
            return data
        failed = paths.failed_file.exists() or not layout.alive(pid)
        if failed or time.monotonic() > deadline:
            reason = (
                paths.failed_file.read_text(encoding="utf-8").strip()
                if paths.failed_file.exists()
                else ("the supervisor exited" if failed else f"not ready after {timeout:.0f} s")
            )
            down(paths.root)
            log_tail = _tail(paths.log_file("supervisor"))
            raise errors.DependencyUnavailable(
                f"the lab did not start: {reason}",
                source="lab up",
                hint=f"{paths.log_file('supervisor')} ends with:\n{log_tail}",
            )
        time.sleep(0.1)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def down(directory: str | os.PathLike[str] = DEFAULT_DIR) -> list[str]:
    """Stop every process the lab in ``directory`` started; returns what was stopped."""
    paths = layout.Layout.at(directory)
    stopped: list[str] = []
    recorded = paths.recorded_pids()
    sup = recorded.pop("supervisor", None)
    if sup is not None and layout.alive(sup) and layout.belongs_to(sup, paths.root):
        layout.terminate([sup], timeout=DOWN_TIMEOUT_SECONDS)
        stopped.append("supervisor")
    elif sup is not None:
        layout.reap(sup)
    # Whatever the supervisor could not stop (it was killed, or hung): recorded pids
    # first, then anything else that carries this lab's marker.
    left = {
        name: pid
        for name, pid in recorded.items()
        if layout.alive(pid) and layout.belongs_to(pid, paths.root)
    }
    if left:
        layout.terminate(list(left.values()), timeout=DOWN_TIMEOUT_SECONDS)
        stopped += sorted(left)
    strays = layout.lab_processes(paths.root)
    if strays:
        layout.terminate(strays, timeout=DOWN_TIMEOUT_SECONDS)
        stopped += [f"pid {pid}" for pid in strays]
    if paths.pids.is_dir():
        for pid_file in paths.pids.glob("*.pid"):
            pid_file.unlink()
    paths.ready_file.unlink(missing_ok=True)
    _remove_prometheus_workdir(paths)
    return stopped


def _remove_prometheus_workdir(paths: layout.Layout) -> None:
    """Prometheus's temporary config folder, left behind when the supervisor was killed."""
    try:
        workdir = Path(paths.prometheus_workdir_file.read_text(encoding="utf-8").strip())
    except OSError:
        return
    if workdir.name.startswith("gitops-guard-prometheus-") and workdir.is_dir():
        shutil.rmtree(workdir, ignore_errors=True)
    paths.prometheus_workdir_file.unlink(missing_ok=True)
