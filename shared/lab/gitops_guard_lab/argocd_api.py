"""A fake ArgoCD API server: an in-memory application store behind swagger-shaped endpoints.

Used by the tests (scripted replays of realistic Application states) and by the lab
(whose syncer sets states as it "deploys"). Payloads follow
``../shared/reference/argocd-swagger.json`` (``v1alpha1Application``,
``runtimeError``, the stream's ``{"result": v1alpha1ApplicationWatchEvent}``).

Endpoints::

    GET    /api/v1/applications/{name}[?refresh=normal|hard][&appNamespace=NS]
    POST   /api/v1/applications/{name}/sync        (applicationApplicationSyncRequest)
    DELETE /api/v1/applications/{name}/operation   [?appNamespace=NS]
    GET    /api/v1/stream/applications?name=NAME   newline-delimited JSON events
    GET    /api/v1/applications/{name}/syncwindows (applicationApplicationSyncWindowsResponse)
    GET    /api/v1/applications[?selector=K=V,...]   (v1alpha1ApplicationList)

Pieces (the first three live in :mod:`~gitops_guard_lab.argocd_payloads` and
:mod:`~gitops_guard_lab.argocd_store`, and are re-exported here):

* :func:`make_application`: a swagger-shaped ``v1alpha1Application`` dict;
* :class:`ApplicationStore`: thread-safe; ``put``, ``get``, ``set_state`` (partial,
  by keyword), ``update_app`` (any mutation), hooks ``on_sync``/``on_refresh``/
  ``on_terminate`` so a syncer learns what was asked;
* :class:`Replay`: a list of :class:`ReplayStep` (delay, state) applied in a thread;
* :class:`FakeArgoServer`: a ``ThreadingHTTPServer`` on 127.0.0.1, port 0; checks the
  bearer token, records every request, can fail the next N requests with 5xx, can
  serve the stream, refuse it (404) or hold it silent (a buffering proxy).

This module only plays ArgoCD; it must not decide anything about a deploy, and it
listens on loopback only.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from gitops_guard_lab.argocd_payloads import (
    DEFAULT_NAMESPACE,
    NOW,
    Timestamp,
    ago,
    apply_state,
    iso,
    make_application,
    runtime_error,
)
from gitops_guard_lab.argocd_store import (
    AppHook,
    ApplicationStore,
    Replay,
    ReplayStep,
    SyncHook,
)

__all__ = [
    "DEFAULT_NAMESPACE",
    "NOW",
    "AppHook",
    "ApplicationStore",
    "FakeArgoServer",
    "RecordedRequest",
    "Replay",
    "ReplayStep",
    "StreamMode",
    "SyncHook",
    "Timestamp",
    "ago",
    "apply_state",
    "iso",
    "make_application",
]


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake server received."""

    at: float
    """``time.monotonic()`` on arrival."""
    method: str
    path: str
    query: Mapping[str, str]
    authorized: bool
    body: Mapping[str, Any] | None = None


@dataclass
class _Faults:
    remaining: int = 0
    status: int = 503


@dataclass
class _Recorder:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[RecordedRequest] = field(default_factory=list)


StreamMode = Literal["on", "off", "silent"]


class FakeArgoServer:
    """The fake ArgoCD API server. Usage::

        store = ApplicationStore()
        store.put(make_application("web", revision=OLD, sync_status="Synced", health="Healthy",
                                   phase="Succeeded"))
        with FakeArgoServer(store, token="t0ken") as server:
            ...  # server.url, server.requests, server.fail_next(2)

    ``token``: the bearer token required (None: any or none). ``stream``: ``"on"``
    serves the stream, ``"off"`` answers 404 as a proxy without it would, ``"silent"``
    accepts and sends nothing (a buffering proxy). ``tls``: serve https with this
    server-side context.
    """

    def __init__(
        self,
        store: ApplicationStore | None = None,
        *,
        token: str | None = None,
        stream: StreamMode = "on",
        host: str = "127.0.0.1",
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.store = store or ApplicationStore()
        self.tls = tls
        """A server-side TLS context: serve https (tests of --ca-bundle and --insecure)."""
        self.token = token
        self.stream = stream
        self._host = host
        self._faults = _Faults()
        self._recorder = _Recorder()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> FakeArgoServer:
        """Listen on a free loopback port and serve in a thread."""
        fake = self

        class Handler(_Handler):
            server_ref = fake

        self._server = ThreadingHTTPServer((self._host, 0), Handler)
        self._server.daemon_threads = True
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-argocd", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (open streams end)."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeArgoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (``https://`` with ``tls``)."""
        if self._server is None:
            raise RuntimeError("the fake ArgoCD server is not started")
        host, port = self._server.server_address[:2]
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{host!s}:{port}"

    # ------------------------------------------------------------ test controls
    def fail_next(self, count: int, *, status: int = 503) -> None:
        """Answer the next ``count`` requests with ``status`` (5xx then recovery)."""
        with self._recorder.lock:
            self._faults = _Faults(remaining=count, status=status)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far (a copy)."""
        with self._recorder.lock:
            return list(self._recorder.requests)

    def requests_for(self, name: str) -> list[RecordedRequest]:
        """The requests about one application (by path or ``name=``)."""
        return [
            r
            for r in self.requests
            if r.query.get("name") == name or f"/applications/{name}" in r.path
        ]

    # ------------------------------------------------------------ internals
    def _record(self, request: RecordedRequest) -> int | None:
        """Store the request; returns a status to fail it with, if a fault is armed."""
        with self._recorder.lock:
            self._recorder.requests.append(request)
            if self._faults.remaining > 0:
                self._faults.remaining -= 1
                return self._faults.status
        return None


class _Handler(BaseHTTPRequestHandler):
    server_ref: FakeArgoServer
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr log
        return

    # ------------------------------------------------------------ plumbing
    def _send_json(self, status: int, body: Mapping[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _begin(self, method: str) -> tuple[str, dict[str, str], Mapping[str, Any] | None] | None:
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        body: Mapping[str, Any] | None = None
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            try:
                loaded = json.loads(self.rfile.read(length))
                body = loaded if isinstance(loaded, dict) else {}
            except ValueError:
                body = {}
        fake = self.server_ref
        authorized = fake.token is None or self.headers.get("Authorization") == (
            f"Bearer {fake.token}"
        )
        fault = fake._record(
            RecordedRequest(
                at=time.monotonic(),
                method=method,
                path=parsed.path,
                query=query,
                authorized=authorized,
                body=body,
            )
        )
        if fault is not None:
            self._send_json(fault, runtime_error(14, "upstream connect error or disconnect"))
            return None
        if not authorized:
            self._send_json(401, runtime_error(16, "invalid session: token signature is invalid"))
            return None
        return parsed.path, query, body

    def _app_name(self, path: str, suffix: str = "") -> str | None:
        prefix = "/api/v1/applications/"
        if not path.startswith(prefix) or not path.endswith(suffix):
            return None
        name = path[len(prefix) : len(path) - len(suffix)]
        return urllib.parse.unquote(name) if name and "/" not in name else None

    # ------------------------------------------------------------ verbs
    def do_GET(self) -> None:
        begun = self._begin("GET")
        if begun is None:
            return
        path, query, _ = begun
        store = self.server_ref.store
        namespace = query.get("appNamespace")
        if path == "/api/v1/stream/applications":
            self._stream(query.get("name"), namespace)
            return
        if path == "/api/v1/applications":
            self._send_json(200, {"items": store.select(query.get("selector"), namespace)})
            return
        windows_of = self._app_name(path, "/syncwindows")
        if windows_of is not None:
            if store.get(windows_of, namespace) is None:
                self._send_json(
                    404, runtime_error(5, f'applications.argoproj.io "{windows_of}" not found')
                )
                return
            self._send_json(200, store.sync_windows_response(windows_of, namespace))
            return
        name = self._app_name(path)
        if name is None:
            self._send_json(404, runtime_error(5, f"Not Found: {path}"))
            return
        refresh = query.get("refresh")
        if refresh and refresh not in ("normal", "hard"):
            self._send_json(400, runtime_error(3, f"unknown refresh type {refresh!r}"))
            return
        if refresh:
            store.refreshed(name, namespace)
        app = store.get(name, namespace)
        if app is None:
            self._send_json(404, runtime_error(5, f'applications.argoproj.io "{name}" not found'))
            return
        self._send_json(200, app)

    def do_POST(self) -> None:
        begun = self._begin("POST")
        if begun is None:
            return
        path, _, body = begun
        name = self._app_name(path, "/sync")
        if name is None:
            self._send_json(404, runtime_error(5, f"Not Found: {path}"))
            return
        body = body or {}
        status, payload = self.server_ref.store.request_sync(name, body.get("appNamespace"), body)
        self._send_json(status, payload)

    def do_DELETE(self) -> None:
        begun = self._begin("DELETE")
        if begun is None:
            return
        path, query, _ = begun
        name = self._app_name(path, "/operation")
        if name is None:
            self._send_json(404, runtime_error(5, f"Not Found: {path}"))
            return
        status, payload = self.server_ref.store.request_terminate(name, query.get("appNamespace"))
        self._send_json(status, payload)

    # ------------------------------------------------------------ stream
    def _stream(self, name: str | None, namespace: str | None) -> None:
        fake = self.server_ref
        if fake.stream == "off" or not name:
            self._send_json(404, runtime_error(12, "Not Implemented"))
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        if fake.stream == "silent":
            while not fake._stopping.wait(0.1):
                pass
            return
        # ArgoCD sends the current state first; an app that does not exist (yet) sends
        # nothing until it appears.
        start = -1 if fake.store.get(name, namespace) is not None else 0
        kind = "ADDED"
        try:
            for _, app in self._changes(name, namespace, after=start):
                if app is None:
                    event = {"result": {"type": "DELETED", "application": {}}}
                else:
                    event = {"result": {"type": kind, "application": app}}
                self.wfile.write(json.dumps(event).encode() + b"\n")
                self.wfile.flush()
                kind = "MODIFIED"
        except (BrokenPipeError, ConnectionResetError):
            return

    def _changes(
        self, name: str, namespace: str | None, *, after: int
    ) -> Iterator[tuple[int, dict[str, Any] | None]]:
        store = self.server_ref.store
        stopping = self.server_ref._stopping
        seen = after
        while not stopping.is_set():
            version, app = store.wait_change(name, namespace, after=seen, timeout=0.2)
            if version > seen:
                seen = version
                yield version, app
