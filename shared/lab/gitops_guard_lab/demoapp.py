"""The lab's demo app: a small HTTP service whose behaviour depends on its version.

Run it as ``python -m gitops_guard_lab.demoapp --version 1.2.0 --port 8080``. It
answers business requests on ``/``, ``/checkout`` and ``/search``, reports readiness
on ``/healthz`` and serves Prometheus metrics on ``/metrics``:

* ``http_requests_total{app,code,version}``: requests by status code;
* ``http_request_duration_seconds{app,version}``: a latency histogram;
* ``business_operations_total{app,operation,result,version}``: business outcomes.

How often it fails, how slow it is and whether its health checks pass come from
the lab image catalogue (:mod:`gitops_guard_lab.catalogue`), like a real release
that ships a bug. It listens on loopback only and must not decide anything about
deploys: it only plays one version.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.exposition import generate_latest

from gitops_guard import errors
from gitops_guard_lab import catalogue, net

APP = "sre-demo-app"
OPERATIONS = ("checkout", "search")
_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0)


USER_HEADER = "X-Lab-User"
"""Set by the lab's user traffic (the load generator behind the active Service)."""


class DemoApp:
    """Metrics and behaviour of one running version (no sockets: see :func:`serve`)."""

    def __init__(
        self,
        *,
        version: str,
        behaviour: catalogue.Behaviour,
        app: str = APP,
        rng: random.Random | None = None,
        sleep: bool = True,
        clock: float | None = None,
    ) -> None:
        self.version = version
        self.behaviour = behaviour
        self.app = app
        self._rng = rng or random.Random()  # noqa: S311 - traffic shape, not security
        self._sleep = sleep
        self._started = time.monotonic() if clock is None else clock
        self._lock = threading.Lock()
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests",
            "HTTP requests answered, by status code.",
            ["app", "code", "version"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request.",
            ["app", "version"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.operations = Counter(
            "business_operations",
            "Business operations by outcome.",
            ["app", "operation", "result", "version"],
            registry=self.registry,
        )
        # Publish zero-valued series at once, so rate() has a starting point.
        for code in ("200", "500"):
            self.requests.labels(app, code, version)
        for op in OPERATIONS:
            for result in ("success", "failure"):
                self.operations.labels(app, op, result, version)
        self.duration.labels(app, version)

    def ready(self, now: float | None = None) -> bool:
        """True when /healthz answers 200."""
        current = time.monotonic() if now is None else now
        if current - self._started < self.behaviour.startup_seconds:
            return False
        return not self.behaviour.fail_health_checks

    def handle(
        self, operation: str | None = None, *, user: bool = False
    ) -> tuple[int, dict[str, object]]:
        """Serve one business request: returns (status code, JSON body).

        ``user``: the request carries a user session (header ``X-Lab-User``), as the
        lab's user traffic does and a preview's smoke traffic does not.
        """
        with self._lock:
            roll_latency = self._rng.lognormvariate(0.0, 0.35)
            roll_error = self._rng.random()
            roll_business = self._rng.random()
            op = operation or self._rng.choice(OPERATIONS)
        latency = self.behaviour.latency_seconds * roll_latency
        if self._sleep and latency > 0:
            time.sleep(min(latency, 5.0))
        ratio = self.behaviour.error_ratio + (self.behaviour.user_error_ratio if user else 0.0)
        failed = roll_error < min(1.0, ratio)
        code = 500 if failed else 200
        business_failed = failed or roll_business < self.behaviour.business_failure_ratio
        result = "failure" if business_failed else "success"
        self.requests.labels(self.app, str(code), self.version).inc()
        self.duration.labels(self.app, self.version).observe(latency)
        self.operations.labels(self.app, op, result, self.version).inc()
        return code, {"version": self.version, "operation": op, "result": result}

    def metrics(self) -> bytes:
        """The Prometheus text exposition of this app's metrics."""
        return generate_latest(self.registry)


DRAIN_SECONDS = 3.0
"""On SIGTERM the app stops accepting, then lets the requests it is answering finish
for up to this long (a pod's graceful termination; the lab's deployer waits 5 s)."""


class InFlight:
    """How many requests the app is answering; :meth:`wait_idle` for a graceful stop."""

    def __init__(self) -> None:
        self._count = 0
        self._cond = threading.Condition()

    def __enter__(self) -> None:
        with self._cond:
            self._count += 1

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._count -= 1
            self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """True once no request is being answered; False after ``timeout`` seconds."""
        with self._cond:
            return self._cond.wait_for(lambda: self._count == 0, timeout=timeout)


class Server(ThreadingHTTPServer):
    """The app's HTTP server, counting the requests in flight."""

    in_flight: InFlight


def _handler(app: DemoApp, in_flight: InFlight) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, code: int, data: dict[str, object]) -> None:
            self._send(code, json.dumps(data).encode(), "application/json")

        def do_GET(self) -> None:
            with in_flight:
                self._get()

        def _get(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, app.metrics(), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                ok = app.ready()
                status = "ok" if ok else "failing"
                self._json(200 if ok else 503, {"status": status, "version": app.version})
            elif path == "/version":
                self._json(200, {"app": app.app, "version": app.version})
            elif path in ("/", "/checkout", "/search"):
                user = bool(self.headers.get(USER_HEADER))
                code, body = app.handle(path.strip("/") or None, user=user)
                self._json(code, body)
            else:
                self._json(404, {"error": "not found"})

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the load generator would fill the log."""

    return Handler


def serve(app: DemoApp, *, host: str, port: int) -> Server:
    """Bind the app's HTTP server on a loopback address (not yet serving)."""
    net.require_loopback(host, source="--host")
    in_flight = InFlight()
    server = Server((host, port), _handler(app, in_flight))
    server.in_flight = in_flight
    server.daemon_threads = True
    return server


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gitops_guard_lab.demoapp")
    parser.add_argument("--version", required=True, help="image version to play")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--app", default=APP)
    args = parser.parse_args(argv)
    # *_created series only add noise to the lab's Prometheus.
    disable_created_metrics()  # type: ignore[no-untyped-call]
    try:
        behaviour = catalogue.load().behaviour(args.version)
        server = serve(
            DemoApp(version=args.version, behaviour=behaviour, app=args.app),
            host=args.host,
            port=args.port,
        )
    except errors.GitopsGuardError as exc:
        print(f"demoapp: {exc}", file=sys.stderr)
        return exc.exit_code

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"demoapp {args.app} {args.version} on http://{args.host}:{args.port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        # a pod's graceful termination: the answers under way are finished, not cut
        server.in_flight.wait_idle(DRAIN_SECONDS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
