"""The lab supervisor: the one long-running process behind ``lab up``.

``lab up`` starts it detached (``python -m gitops_guard_lab.supervisor --dir DIR``)
and returns once it has written ``DIR/run/ready.json``. It runs, in this order:

1. one syncer (:mod:`gitops_guard_lab.syncer`) per ArgoCD Application it is given
   (``--app FILE``, repeatable; default ``apps/sre-demo-app.yaml``), which deploys
   the demo app that Application's manifests name, as a child process on a fixed
   loopback port of its own, labelled ``app=<Application name>`` in its metrics;
2. the real Prometheus (:mod:`gitops_guard_lab.promstack`) scraping every demo app
   every second;
3. one load generator (:mod:`gitops_guard_lab.loadgen`) per demo app, as a child
   process; an Application annotated ``lab.gitops-guard.dev/traffic: users`` gets
   user traffic (requests with a user session), the others smoke traffic;
4. the ArgoCD API stand-in (:mod:`gitops_guard_lab.argocd_api`) serving every
   Application's status; sync, terminate and refresh requests reach its syncer.

With several Applications (say staging and production overlays of one base) each
environment runs, is gated and is reverted on its own.

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
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from gitops_guard import errors, report
from gitops_guard_lab import argocd_api, gitrepo, layout, net, pod, promstack, syncer

log = logging.getLogger("gitops_guard_lab")

TRAFFIC_ANNOTATION = "lab.gitops-guard.dev/traffic"
"""An Application annotation: ``users`` sends the load as user sessions (``X-Lab-User``),
anything else (or none) as anonymous smoke traffic."""
TOKEN_ENV = "GITOPS_GUARD_LAB_TOKEN"  # noqa: S105 - the variable name, not a secret
"""Environment variable that hands the lab's ArgoCD token to the supervisor."""
READY_TIMEOUT_SECONDS = 60.0
"""How long the parts may take to become healthy together (Prometheus is the slowest)."""


@dataclass
class AppParts:
    """One Application of the lab: its syncer, demo app and load generator."""

    app_file: str
    syncer: syncer.Syncer
    deployer: pod.Deployer
    suffix: str
    """Appended to the pid and log names (``demoapp``, ``loadgen``): empty when the lab
    runs one Application, ``-<name>`` otherwise."""
    user_traffic: bool = False
    loadgen: subprocess.Popen[bytes] | None = None

    @property
    def name(self) -> str:
        return self.syncer.name

    @property
    def url(self) -> str:
        return self.deployer.url


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
        app_files: Sequence[str] = (gitrepo.APP_FILE,),
    ) -> None:
        self.paths = paths
        self.token = token
        self.rps = rps
        self.scrape_interval = scrape_interval
        self.poll_seconds = poll_seconds
        self.branch = branch
        self.app_files = list(dict.fromkeys(app_files)) or [gitrepo.APP_FILE]
        self._stack = contextlib.ExitStack()
        self.apps: list[AppParts] = []
        self.prometheus: promstack.Server | None = None
        self.store = argocd_api.ApplicationStore()
        self.api: argocd_api.FakeArgoServer | None = None

    @property
    def syncer(self) -> syncer.Syncer | None:
        """The first Application's syncer."""
        return self.apps[0].syncer if self.apps else None

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
        repo = gitrepo.BareRepo(paths.repo, branch=self.branch)
        for app_file in self.app_files:
            definition = gitrepo.application(repo, repo.tip(), app_file)
            name = str((definition.get("metadata") or {}).get("name") or "")
            annotations = (definition.get("metadata") or {}).get("annotations") or {}
            suffix = f"-{name}" if len(self.app_files) > 1 else ""
            deployer = pod.Deployer(
                port=net.free_port(),
                pid_file=paths.pid_file(f"demoapp{suffix}"),
                log_file=paths.log_file(f"demoapp{suffix}"),
                app=name or None,
            )
            app_syncer = syncer.Syncer(
                repo=repo,
                deployer=deployer,
                publish=self.store.put,
                app_file=app_file,
                poll_seconds=self.poll_seconds,
            )
            self.apps.append(
                AppParts(
                    app_file=app_file,
                    syncer=app_syncer,
                    deployer=deployer,
                    suffix=suffix,
                    user_traffic=str(annotations.get(TRAFFIC_ANNOTATION, "")) == "users",
                )
            )
        names = [app.name for app in self.apps]
        if len(set(names)) != len(names):
            raise errors.ConfigError(
                f"two Applications share a name: {', '.join(names)}", source="--app"
            )
        for app in self.apps:
            self._stack.callback(app.syncer.stop)
            app.syncer.start()

        self.prometheus = promstack.start_prometheus(
            scrape_targets=[f"{net.LOOPBACK}:{app.deployer.port}" for app in self.apps],
            scrape_interval=self.scrape_interval,
            job_name="sre-demo-app",
            data_dir=paths.prometheus_data,
            retention="1d",
        )
        self._stack.callback(self.prometheus.stop)
        layout.write_pid(paths.pid_file("prometheus"), self.prometheus.process.pid)
        # Its temporary config folder, for `lab down` to remove if we are killed.
        paths.prometheus_workdir_file.write_text(f"{self.prometheus.workdir}\n", "utf-8")

        for app in self.apps:
            app.loadgen = self._start_loadgen(app)
        self._stack.callback(self._stop_loadgens)

        self._serve_api()

        self._wait_healthy()
        return self.ready_record()

    def _serve_api(self) -> None:
        """The ArgoCD API stand-in over the syncers' applications; requests reach them."""
        by_name = {app.name: app.syncer for app in self.apps}

        def on_sync(name: str, namespace: str, body: Mapping[str, Any]) -> None:
            app_syncer = by_name.get(name)
            if app_syncer is None:
                return
            try:
                app_syncer.request_sync(str(body.get("revision") or "") or None)
            except errors.GitopsGuardError as exc:
                log.warning("sync request for %s not honoured: %s", name, exc)

        def on_terminate(name: str, namespace: str) -> None:
            if name in by_name:
                by_name[name].request_terminate()

        def on_refresh(name: str, namespace: str) -> None:
            if name in by_name:
                by_name[name].request_refresh()

        self.store.on_sync.append(on_sync)
        self.store.on_terminate.append(on_terminate)
        self.store.on_refresh.append(on_refresh)
        self.api = argocd_api.FakeArgoServer(self.store, token=self.token).start()
        self._stack.callback(self.api.stop)

    def _start_loadgen(self, app: AppParts) -> subprocess.Popen[bytes]:
        with open(self.paths.log_file(f"loadgen{app.suffix}"), "ab") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gitops_guard_lab.loadgen",
                    "--url",
                    f"{app.url}/",
                    "--rps",
                    f"{self.rps:g}",
                    *(["--user-sessions"] if app.user_traffic else []),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        layout.write_pid(self.paths.pid_file(f"loadgen{app.suffix}"), process.pid)
        return process

    def _stop_loadgens(self) -> None:
        for app in self.apps:
            process, app.loadgen = app.loadgen, None
            if process is None:
                continue
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
            self.paths.pid_file(f"loadgen{app.suffix}").unlink(missing_ok=True)

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
        if not self.apps:
            found.append("no Application is deployed yet")
        for app in self.apps:
            if app.syncer.status.health_status != "Healthy":
                found.append(f"the demo app of {app.name} is not Healthy yet")
            if app.loadgen is None or app.loadgen.poll() is not None:
                found.append(f"the load generator of {app.name} is not running")
            if self.api is None or not net.http_ok(
                f"{self.api.url}/api/v1/applications/{app.name}",
                headers={"Authorization": f"Bearer {self.token}"},
            ):
                found.append(f"the ArgoCD API does not answer for {app.name}")
            if self.prometheus is None or not self._scraped(app.name):
                found.append(f"Prometheus has not scraped the demo app of {app.name} yet")
        return found

    def _scraped(self, name: str) -> bool:
        assert self.prometheus is not None
        try:
            response = httpx.get(
                f"{self.prometheus.url}/api/v1/query",
                params={"query": f'sum(http_requests_total{{app="{name}"}})'},
                timeout=1.0,
            )
            result = response.json()["data"]["result"]
        except (httpx.HTTPError, ValueError, KeyError):
            return False
        return bool(result) and float(result[0]["value"][1]) > 0

    def ready_record(self) -> dict[str, Any]:
        assert self.apps and self.prometheus and self.api
        return {
            "argocd_server": self.api.url,
            "argocd_app": self.apps[0].name,
            "prometheus_url": self.prometheus.url,
            "demo_app_url": self.apps[0].url,
            "apps": {app.name: app.url for app in self.apps},
            "repo": str(self.paths.repo),
            "branch": self.branch,
            "pids": self.paths.recorded_pids(),
        }

    # -------------------------------------------------------------- run
    def keep_running(self, stopping: threading.Event) -> None:
        """Restart the load generator if it dies, until ``stopping`` is set."""
        while not stopping.wait(1.0):
            for app in self.apps:
                if app.loadgen is not None and app.loadgen.poll() is not None:
                    log.warning(
                        "load generator of %s exited with %s; restarting it",
                        app.name,
                        app.loadgen.returncode,
                    )
                    app.loadgen = self._start_loadgen(app)

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
    parser.add_argument(
        "--app",
        action="append",
        default=[],
        metavar="FILE",
        help="an ArgoCD Application file of the GitOps repository to run (repeatable)",
    )
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
        app_files=args.app or (gitrepo.APP_FILE,),
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
        for name in (
            "prometheus",
            *(f"{n}{a.suffix}" for a in lab.apps for n in ("demoapp", "loadgen")),
        ):
            paths.pid_file(name).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
