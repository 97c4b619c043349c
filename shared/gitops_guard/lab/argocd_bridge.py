"""Serve the lab syncer's application through an ArgoCD-shaped REST API.

The syncer (:mod:`gitops_guard.lab.syncer`) owns the application's state; this
module puts an HTTP face on it, on a free loopback port, with the endpoints
``argocd-wait`` and ``rollback`` use (paths and payloads of
``../shared/reference/argocd-swagger.json``):

* ``GET /api/v1/applications/{name}`` (``?refresh=normal|hard`` polls the repo now)
* ``POST /api/v1/applications/{name}/sync`` (``{"revision": SHA}``)
* ``DELETE /api/v1/applications/{name}/operation``
* ``GET /api/version``

Every request needs ``Authorization: Bearer <token>``. The stream endpoint answers
501, so clients poll. This module must not change the application's state by
itself: it forwards requests to the syncer and serves what the syncer publishes.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from gitops_guard import errors
from gitops_guard.lab import net, syncer

_PREFIX = "/api/v1/applications/"


class Server:
    """A running API server; :meth:`publish` replaces the served application."""

    def __init__(self, *, syncer_: syncer.Syncer, token: str) -> None:
        self.syncer = syncer_
        self.token = token
        self._lock = threading.Lock()
        self._apps: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        """(method, path) of every request, for tests and the demo's figures."""
        self._http = ThreadingHTTPServer((net.LOOPBACK, 0), _handler(self))
        self._http.daemon_threads = True
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def publish(self, payload: dict[str, Any]) -> None:
        with self._lock:
            self._apps[payload["metadata"]["name"]] = payload

    def get(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            return self._apps.get(name)

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)


def start(*, syncer: syncer.Syncer, token: str) -> Server:
    """Start serving on a free loopback port."""
    server = Server(syncer_=syncer, token=token)
    server._thread.start()
    return server


def _error(code: int, message: str) -> tuple[int, dict[str, Any]]:
    # runtimeError in the swagger description: {error, code (gRPC), message}
    grpc = {401: 16, 403: 7, 404: 5, 409: 9, 400: 3, 501: 12}.get(code, 2)
    return code, {"error": message, "code": grpc, "message": message}


def _route(server: Server, method: str, raw_path: str, body: bytes) -> tuple[int, Any]:
    parsed = urllib.parse.urlsplit(raw_path)
    query = urllib.parse.parse_qs(parsed.query)
    path = parsed.path
    if path == "/api/version":
        return 200, {"Version": "v2.13.0+lab"}
    if path.startswith("/api/v1/stream/"):
        return _error(501, "the lab does not stream; poll the application instead")
    if not path.startswith(_PREFIX):
        return _error(404, f"no route for {method} {path}")
    name, _, action = path[len(_PREFIX) :].partition("/")
    name = urllib.parse.unquote(name)
    app = server.get(name)
    if app is None:
        return _error(404, f'applications.argoproj.io "{name}" not found')
    if method == "GET" and not action:
        if query.get("refresh"):
            server.syncer.request_refresh()
        return 200, app
    if method == "POST" and action == "sync":
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return _error(400, "the body is not JSON")
        revision = request.get("revision") if isinstance(request, dict) else None
        try:
            return 200, server.syncer.request_sync(revision or None)
        except errors.InputError as exc:
            return _error(409, exc.message)
    if method == "DELETE" and action == "operation":
        server.syncer.request_terminate()
        return 200, {}
    return _error(404, f"no route for {method} {path}")


def _handler(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            server.requests.append((method, self.path))
            if self.headers.get("Authorization") != f"Bearer {server.token}":
                code, data = _error(401, "no session information or invalid token")
            else:
                code, data = _route(server, method, self.path, body)
            raw = json.dumps(data).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: argocd-wait polls every second."""

    return Handler
