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
        return self.alive() and net.http_ok(f"{self.url}/healthz", timeout=0.5)

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
