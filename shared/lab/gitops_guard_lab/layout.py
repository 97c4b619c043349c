"""Where a lab keeps its files: one directory (``--dir``, default ``./.lab``).

::

    DIR/gitops.git        the bare GitOps repository (the "remote")
    DIR/lab.env           URLs, token and repository path, sourceable by a shell
    DIR/pids/NAME.pid     one file per process the lab started (``lab down`` reads them)
    DIR/logs/NAME.log     what each process printed
    DIR/run/ready.json    written by the supervisor once every part is healthy
    DIR/run/failed.txt    written by the supervisor when it could not start
    DIR/prometheus-data/  Prometheus's TSDB

Also the small process helpers ``lab up`` and ``lab down`` share. This module must
not start the lab's parts itself (see :mod:`gitops_guard_lab.supervisor`).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ENV_MARKER = "GITOPS_GUARD_LAB_DIR"
"""Set in the environment of every lab process to the lab's directory, so that
``lab down`` (and the tests) can tell the lab's processes from any other."""


@dataclass(frozen=True)
class Layout:
    """The paths of one lab directory."""

    root: Path

    @classmethod
    def at(cls, directory: str | os.PathLike[str]) -> Layout:
        return cls(Path(directory).resolve())

    @property
    def repo(self) -> Path:
        return self.root / "gitops.git"

    @property
    def env_file(self) -> Path:
        return self.root / "lab.env"

    @property
    def pids(self) -> Path:
        return self.root / "pids"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def ready_file(self) -> Path:
        return self.run / "ready.json"

    @property
    def failed_file(self) -> Path:
        return self.run / "failed.txt"

    @property
    def prometheus_workdir_file(self) -> Path:
        return self.run / "prometheus-workdir"

    @property
    def prometheus_data(self) -> Path:
        return self.root / "prometheus-data"

    def pid_file(self, name: str) -> Path:
        return self.pids / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def make(self) -> None:
        for path in (self.root, self.pids, self.logs, self.run):
            path.mkdir(parents=True, exist_ok=True)

    def recorded_pids(self) -> dict[str, int]:
        """NAME -> pid of every pid file (unreadable ones are skipped)."""
        found: dict[str, int] = {}
        if not self.pids.is_dir():
            return found
        for path in sorted(self.pids.glob("*.pid")):
            try:
                found[path.stem] = int(path.read_text(encoding="utf-8").split()[0])
            except (OSError, ValueError, IndexError):
                continue
        return found


def write_pid(path: Path, pid: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{pid}\n", encoding="utf-8")


def alive(pid: int) -> bool:
    """True when ``pid`` runs (a zombie counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return False
    # The state follows the command name, which is in parentheses and may hold spaces.
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def belongs_to(pid: int, root: Path) -> bool:
    """True when process ``pid`` carries this lab's environment marker."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return f"{ENV_MARKER}={root}".encode() in environ.split(b"\0")


def lab_processes(root: Path) -> list[int]:
    """Every live process whose environment names this lab directory."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and belongs_to(int(entry.name), root) and alive(int(entry.name)):
            found.append(int(entry.name))
    return sorted(found)


def reap(pid: int) -> None:
    """Collect ``pid`` if it is our child (no zombie left behind)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def terminate(pids: list[int], *, timeout: float) -> list[int]:
    """SIGTERM ``pids``, SIGKILL what is left after ``timeout`` s; returns the killed ones."""
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in pids:
            reap(pid)
        if not any(alive(pid) for pid in pids):
            return []
        time.sleep(0.05)
    killed = [pid for pid in pids if alive(pid)]
    for pid in killed:
        _signal(pid, signal.SIGKILL)
    for pid in killed:
        for _ in range(100):
            reap(pid)
            if not alive(pid):
                break
            time.sleep(0.02)
    return killed


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def format_env(values: Mapping[str, str]) -> str:
    """``KEY=value`` lines a POSIX shell can source (values quoted when needed)."""
    return "".join(f"{key}={shlex.quote(value)}\n" for key, value in values.items())


def parse_env(text: str) -> dict[str, str]:
    """Read what :func:`format_env` wrote."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#") or "=" not in line:
            continue
        key, _, raw = line.partition("=")
        parts = shlex.split(raw)
        values[key.strip()] = parts[0] if parts else ""
    return values
