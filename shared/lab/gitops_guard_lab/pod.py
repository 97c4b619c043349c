"""The lab's "pod": the demo app as one process on a fixed loopback port.

:class:`Deployer` stops the running version and starts the next on the same port
(Kubernetes' ``Recreate`` strategy), records the pid for ``lab down`` and probes
``/healthz``. It must not decide what to deploy; the syncer tells it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from gitops_guard_lab import net


class Deployer:
    """Runs the demo app as one process on a fixed loopback port ("Recreate" strategy)."""

    def __init__(
        self, *, port: int, pid_file: Path, log_file: Path, app: str | None = None
    ) -> None:
        self.port = port
        self.app = app
        """The demo app's ``app`` label (default: the demo app's own, sre-demo-app)."""
        self.pid_file = pid_file
        self.log_file = log_file
        self.version: str | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"http://{net.LOOPBACK}:{self.port}"

    def deploy(self, version: str) -> None:
        """Stop the running version and start ``version`` on the same port."""
        self.stop()
        with open(self.log_file, "ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gitops_guard_lab.demoapp",
                    "--version",
                    version,
                    "--port",
                    str(self.port),
                    *(["--app", self.app] if self.app else []),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.version = version
        self.started_at = time.monotonic()
        self.pid_file.write_text(f"{self.process.pid}\n", encoding="utf-8")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def ready(self) -> bool:
        return self.alive() and net.http_ok(f"{self.url}/healthz", timeout=1.0)  # timeoutSeconds: 1

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self.pid_file.unlink(missing_ok=True)


class Readiness:
    """A readiness probe as the kubelet runs one: probed at most every ``period`` seconds;
    unready until a probe succeeds, and a ready pod turns unready only after
    ``failure_threshold`` failed probes in a row (the kubelet's default is 3), so one slow
    answer on a busy machine does not empty a Service's endpoints."""

    def __init__(
        self,
        *,
        period: float = 0.25,
        failure_threshold: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.period = period
        self.failure_threshold = failure_threshold
        self._clock = clock
        self._at: float | None = None
        self._ok = False
        self._failed = 0

    def ready(self, probe: Callable[[], bool]) -> bool:
        """The pod's Ready condition, running ``probe`` when a period has passed."""
        now = self._clock()
        if self._at is None or now - self._at > self.period:
            self._at = now
            if probe():
                self._ok, self._failed = True, 0
            else:
                self._failed += 1
                self._ok = self._ok and self._failed < self.failure_threshold
        return self._ok
