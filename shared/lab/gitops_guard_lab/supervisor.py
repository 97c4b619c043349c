"""The lab supervisor: the one long-running process behind ``lab up``.

``lab up`` starts it detached (``python -m gitops_guard_lab.supervisor --dir DIR``)
and returns once it has written ``DIR/run/ready.json``. It runs, in this order:

1. the syncer (:mod:`gitops_guard_lab.syncer`), which deploys the demo app the
   GitOps repository names, as a child process on a fixed loopback port;
2. the real Prometheus (:mod:`gitops_guard_lab.promstack`) scraping the demo app
   every second;
3. the load generator (:mod:`gitops_guard_lab.loadgen`) as a child process;
4. the ArgoCD API stand-in (:mod:`gitops_guard_lab.argocd_api`) serving the
   syncer's application status; sync, terminate and refresh requests reach the syncer.

Every child's pid is recorded under ``DIR/pids`` and every child carries the lab's
environment marker, so ``lab down`` finds them even if this process was killed.
SIGTERM stops everything in reverse order. The ArgoCD token comes from the
``GITOPS_GUARD_LAB_TOKEN`` environment variable, never from the command line.
This module must not decide anything about deploys: it only keeps the parts running.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from gitops_guard import errors, report
from gitops_guard_lab import argocd_api, gitrepo, layout, net, pod, promstack, syncer

log = logging.getLogger("gitops_guard_lab")

TOKEN_ENV = "GITOPS_GUARD_LAB_TOKEN"  # noqa: S105 - the variable name, not a secret
"""Environment variable that hands the lab's ArgoCD token to the supervisor."""
READY_TIMEOUT_SECONDS = 45.0
"""How long the parts may take to become healthy together (Prometheus is the slowest)."""


class Lab:
    """The running parts of one lab; :meth:`start` then :meth:`stop`."""

    def __init__(
        self,
        paths: layout.Layout,
        *,
        token: str,
        rps: float = 20.0,
        scrape_interval: str = "1s",
        poll_seconds: float = 1.0,
        branch: str = "main",
    ) -> None:
        self.paths = paths
        self.token = token
        self.rps = rps
        self.scrape_interval = scrape_interval
        self.poll_seconds = poll_seconds
        self.branch = branch
        self._stack = contextlib.ExitStack()
        self.syncer: syncer.Syncer | None = None
        self.prometheus: promstack.Server | None = None
        self.loadgen: subprocess.Popen[bytes] | None = None
        self.store = argocd_api.ApplicationStore()
        self.api: argocd_api.FakeArgoServer | None = None
        self.demo_port = 0

    # -------------------------------------------------------------- start
    def start(self) -> dict[str, Any]:
        """Start every part and wait until all are healthy; returns the ready record."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> dict[str, Any]:
        paths = self.paths
        self.demo_port = net.free_port()
        deployer = pod.Deployer(
            port=self.demo_port,
            pid_file=paths.pid_file("demoapp"),
            log_file=paths.log_file("demoapp"),
        )
        self.syncer = syncer.Syncer(
            repo=gitrepo.BareRepo(paths.repo, branch=self.branch),
            deployer=deployer,
            publish=self.store.put,
            poll_seconds=self.poll_seconds,
        )
        self._stack.callback(self.syncer.stop)
        self.syncer.start()

        self.prometheus = promstack.start_prometheus(
            scrape_targets=[f"{net.LOOPBACK}:{self.demo_port}"],
            scrape_interval=self.scrape_interval,
            job_name="sre-demo-app",
            data_dir=paths.prometheus_data,
            retention="1d",
        )
        self._stack.callback(self.prometheus.stop)
        layout.write_pid(paths.pid_file("prometheus"), self.prometheus.process.pid)
        # Its temporary config folder, for `lab down` to remove if we are killed.
        paths.prometheus_workdir_file.write_text(f"{self.prometheus.workdir}\n", "utf-8")

        self.loadgen = self._start_loadgen()
        self._stack.callback(self._stop_loadgen)

        self._serve_api(self.syncer)

        self._wait_healthy()
        return self.ready_record()

    def _serve_api(self, app_syncer: syncer.Syncer) -> None:
        """The ArgoCD API stand-in over the syncer's application; API requests reach it."""

        def on_sync(name: str, namespace: str, body: Mapping[str, Any]) -> None:
            try:
                app_syncer.request_sync(str(body.get("revision") or "") or None)
            except errors.GitopsGuardError as exc:
                log.warning("sync request for %s not honoured: %s", name, exc)

        self.store.on_sync.append(on_sync)
        self.store.on_terminate.append(lambda name, namespace: app_syncer.request_terminate())
        self.store.on_refresh.append(lambda name, namespace: app_syncer.request_refresh())
        self.api = argocd_api.FakeArgoServer(self.store, token=self.token).start()
        self._stack.callback(self.api.stop)

    def _start_loadgen(self) -> subprocess.Popen[bytes]:
        with open(self.paths.log_file("loadgen"), "ab") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gitops_guard_lab.loadgen",
                    "--url",
                    f"http://{net.LOOPBACK}:{self.demo_port}/",
                    "--rps",
                    f"{self.rps:g}",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        layout.write_pid(self.paths.pid_file("loadgen"), process.pid)
        return process

    def _stop_loadgen(self) -> None:
        process, self.loadgen = self.loadgen, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        self.paths.pid_file("loadgen").unlink(missing_ok=True)

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        problems: list[str] = []
        while time.monotonic() < deadline:
            problems = self.problems()
            if not problems:
                return
            time.sleep(0.25)
        raise errors.DependencyUnavailable(
            "the lab did not become healthy: " + "; ".join(problems),
            hint=f"Look at the logs in {self.paths.logs}.",
        )

    def problems(self) -> list[str]:
        """What is not healthy right now (empty when every part is)."""
        found = []
        if self.syncer is None or self.syncer.status.health_status != "Healthy":
            found.append("the demo app is not Healthy yet")
        if self.loadgen is None or self.loadgen.poll() is not None:
            found.append("the load generator is not running")
        if self.api is None or not net.http_ok(
            f"{self.api.url}/api/v1/applications/{self.syncer.name if self.syncer else ''}",
            headers={"Authorization": f"Bearer {self.token}"},
        ):
            found.append("the ArgoCD API does not answer")
        if self.prometheus is None or not self._scraped():
            found.append("Prometheus has not scraped the demo app yet")
        return found

    def _scraped(self) -> bool:
        assert self.prometheus is not None
        try:
            response = httpx.get(
                f"{self.prometheus.url}/api/v1/query",
                params={"query": 'sum(http_requests_total{app="sre-demo-app"})'},
                timeout=1.0,
            )
            result = response.json()["data"]["result"]
        except (httpx.HTTPError, ValueError, KeyError):
            return False
        return bool(result) and float(result[0]["value"][1]) > 0

    def ready_record(self) -> dict[str, Any]:
        assert self.syncer and self.prometheus and self.api
        return {
            "argocd_server": self.api.url,
            "argocd_app": self.syncer.name,
            "prometheus_url": self.prometheus.url,
            "demo_app_url": f"http://{net.LOOPBACK}:{self.demo_port}",
            "repo": str(self.paths.repo),
            "branch": self.branch,
            "pids": self.paths.recorded_pids(),
        }

    # -------------------------------------------------------------- run
    def keep_running(self, stopping: threading.Event) -> None:
        """Restart the load generator if it dies, until ``stopping`` is set."""
        while not stopping.wait(1.0):
            if self.loadgen is not None and self.loadgen.poll() is not None:
                log.warning("load generator exited with %s; restarting it", self.loadgen.returncode)
                self.loadgen = self._start_loadgen()

    def stop(self) -> None:
        self._stack.close()


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _on_signals(callback: Callable[[], None]) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        callback()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gitops_guard_lab.supervisor")
    parser.add_argument("--dir", required=True)
    parser.add_argument("--rps", type=float, default=20.0)
    parser.add_argument("--scrape-interval", default="1s")
    parser.add_argument("--poll-seconds", type=float, default=1.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    paths = layout.Layout.at(args.dir)
    paths.make()
    os.environ[layout.ENV_MARKER] = str(paths.root)
    token = os.environ.pop(TOKEN_ENV, "")
    if not token:
        _atomic_write(paths.failed_file, f"{TOKEN_ENV} is not set\n")
        return errors.EXIT_INPUT
    layout.write_pid(paths.pid_file("supervisor"), os.getpid())
    stopping = threading.Event()
    _on_signals(stopping.set)
    lab = Lab(
        paths,
        token=token,
        rps=args.rps,
        scrape_interval=args.scrape_interval,
        poll_seconds=args.poll_seconds,
    )
    try:
        record = lab.start()
    except Exception as exc:
        log.exception("the lab could not start")
        _atomic_write(paths.failed_file, f"{exc}\n")
        paths.pid_file("supervisor").unlink(missing_ok=True)
        return errors.exit_code_for(exc)
    report.write_json(paths.ready_file, record)
    log.info("lab ready: %s", json.dumps(record))
    try:
        lab.keep_running(stopping)
    finally:
        log.info("stopping the lab")
        lab.stop()
        paths.ready_file.unlink(missing_ok=True)
        paths.pid_file("supervisor").unlink(missing_ok=True)
        for name in ("demoapp", "prometheus", "loadgen"):
            paths.pid_file(name).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
