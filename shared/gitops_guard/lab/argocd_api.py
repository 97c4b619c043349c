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

Pieces:

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

import copy
import json
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

DEFAULT_NAMESPACE = "argocd"
NOW = "now"
"""A timestamp value meaning "the time the state is applied"."""

Timestamp = datetime | str | None

SyncHook = Callable[[str, str, Mapping[str, Any]], None]
"""``hook(name, namespace, request_body)``: called after a sync was accepted."""
AppHook = Callable[[str, str], None]
"""``hook(name, namespace)``: called after a refresh or a terminate."""


def iso(value: Timestamp) -> str | None:
    """A ``v1Time`` string (RFC 3339, seconds, ``Z``); ``"now"`` is the current time."""
    if value is None:
        return None
    if isinstance(value, str):
        if value != NOW:
            return value
        value = datetime.now(timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(seconds: float) -> str:
    """A ``v1Time`` string ``seconds`` in the past (negative: in the future)."""
    return iso(datetime.now(timezone.utc) - timedelta(seconds=seconds)) or ""


def make_application(
    name: str,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    repo_url: str = "https://git.example.com/org/gitops.git",
    path: str = "apps/web",
    target_revision: str = "HEAD",
    auto_sync: bool = True,
    multi_source_paths: Sequence[str] = (),
    **state: Any,
) -> dict[str, Any]:
    """A ``v1alpha1Application`` dict; ``state`` takes :func:`apply_state`'s keywords.

    ``multi_source_paths`` makes a multi-source app (``spec.sources``), one source
    per path; then pass ``revisions=[...]`` rather than ``revision=``.
    """
    spec: dict[str, Any] = {
        "project": "default",
        "destination": {"server": "https://kubernetes.default.svc", "namespace": name},
        "syncPolicy": {"automated": {"prune": True, "selfHeal": True}} if auto_sync else {},
    }
    if multi_source_paths:
        spec["sources"] = [
            {"repoURL": repo_url, "path": p, "targetRevision": target_revision}
            for p in multi_source_paths
        ]
    else:
        spec["source"] = {"repoURL": repo_url, "path": path, "targetRevision": target_revision}
    app: dict[str, Any] = {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"00000000-0000-4000-8000-{abs(hash(name)) % 10**12:012d}",
            "resourceVersion": "1",
            "creationTimestamp": ago(86400),
        },
        "spec": spec,
        "status": {
            "sync": {"status": "Unknown"},
            "health": {"status": "Unknown"},
            "sourceType": "Kustomize",
        },
    }
    apply_state(app, **state)
    return app


def apply_state(
    app: dict[str, Any],
    *,
    revision: str | None = None,
    revisions: Sequence[str] | None = None,
    sync_status: str | None = None,
    health: str | None = None,
    health_message: str | None = None,
    phase: str | None = None,
    op_revision: str | None = None,
    op_message: str | None = None,
    started_at: Timestamp = None,
    finished_at: Timestamp = None,
    reconciled_at: Timestamp = NOW,
    conditions: Sequence[tuple[str, str]] | None = None,
    operation: Mapping[str, Any] | Literal[False] | None = False,
    history_revision: str | None = None,
) -> None:
    """Change ``app`` in place; only the keywords given (not None) change anything.

    ``phase`` (Running, Terminating, Succeeded, Failed, Error) sets
    ``status.operationState``; ``finished_at`` defaults to now for a finished phase, which
    also clears a requested ``operation`` (as ArgoCD's controller does).
    ``reconciled_at`` defaults to now (each state is a reconcile); pass an older time
    for stale health. ``operation``: a pending ``v1alpha1Operation`` dict, or None to
    clear it (False: leave it). ``history_revision`` appends a ``status.history`` entry.
    """
    status = app.setdefault("status", {})
    sync = status.setdefault("sync", {})
    multi = bool(app.get("spec", {}).get("sources"))
    if revision is not None:
        sync["revision"] = revision
    if revisions is not None:
        sync["revisions"] = list(revisions)
    if revision is not None or revisions is not None:
        compared: dict[str, Any] = {"destination": app.get("spec", {}).get("destination", {})}
        if multi:
            compared["sources"] = copy.deepcopy(app["spec"]["sources"])
        elif app.get("spec", {}).get("source"):
            compared["source"] = copy.deepcopy(app["spec"]["source"])
        sync["comparedTo"] = compared
    if sync_status is not None:
        sync["status"] = sync_status
    health_block = status.setdefault("health", {})
    if health is not None:
        health_block["status"] = health
        health_block["lastTransitionTime"] = iso(NOW)
        health_block.pop("message", None)
    if health_message is not None:
        health_block["message"] = health_message
    if phase is not None:
        revs = _operation_revisions(status, sync, op_revision, multi=multi)
        finished = phase not in ("Running", "Terminating")
        sync_op: dict[str, Any] = {"revisions": revs} if multi else {"revision": revs[0]}
        state: dict[str, Any] = {
            "phase": phase,
            "message": op_message or _default_message(phase),
            "startedAt": iso(started_at or NOW),
            "operation": {
                "sync": sync_op,
                "initiatedBy": {"automated": True},
                "retry": {},
            },
        }
        if finished:
            state["finishedAt"] = iso(finished_at or NOW)
            state["syncResult"] = {"revisions": revs} if multi else {"revision": revs[0]}
            # ArgoCD's controller clears the requested operation when it completes.
            app.pop("operation", None)
        status["operationState"] = state
    elif op_message is not None and "operationState" in status:
        status["operationState"]["message"] = op_message
    if finished_at is not None and phase is None and "operationState" in status:
        status["operationState"]["finishedAt"] = iso(finished_at)
    if reconciled_at is not None:
        status["reconciledAt"] = iso(reconciled_at)
        status["observedAt"] = iso(reconciled_at)
    if conditions is not None:
        status["conditions"] = [
            {"type": kind, "message": message, "lastTransitionTime": iso(NOW)}
            for kind, message in conditions
        ]
    if operation is not False:
        if operation is None:
            app.pop("operation", None)
        else:
            app["operation"] = dict(operation)
    if history_revision is not None:
        history = status.setdefault("history", [])
        history.append(
            {
                "id": len(history),
                "revision": history_revision,
                "deployStartedAt": iso(started_at or NOW),
                "deployedAt": iso(finished_at or NOW),
                "source": copy.deepcopy(app.get("spec", {}).get("source", {})),
            }
        )


def _operation_revisions(
    status: Mapping[str, Any], sync: Mapping[str, Any], op_revision: str | None, *, multi: bool
) -> list[str]:
    """The revision(s) of an operation: given, else the running one's, else ArgoCD's current.

    Multi-source operations list one revision per source, as ArgoCD does.
    """
    current = list(sync.get("revisions") or []) if multi else [sync.get("revision") or ""]
    if op_revision:
        if multi:
            return current if op_revision in current else [op_revision]
        return [op_revision]
    previous = status.get("operationState") or {}
    if previous.get("phase") in ("Running", "Terminating"):
        running = (previous.get("operation") or {}).get("sync") or {}
        found = list(running.get("revisions") or []) or [running.get("revision") or ""]
        if any(found):
            return found
    return current or [""]


def _default_message(phase: str) -> str:
    return {
        "Running": "one or more tasks are running",
        "Terminating": "operation is terminating",
        "Succeeded": "successfully synced (all tasks run)",
        "Failed": "one or more synchronization tasks completed unsuccessfully",
        "Error": "ComparisonError: failed to generate manifests",
    }.get(phase, "")


def _operation_running(app: Mapping[str, Any]) -> bool:
    phase = app.get("status", {}).get("operationState", {}).get("phase")
    return bool(app.get("operation")) or phase in ("Running", "Terminating")


class ApplicationStore:
    """Applications by (namespace, name), safe to share between threads.

    Readers get deep copies. Every change bumps a version and wakes stream watchers.
    Hooks (lists of callables) are called outside the lock.
    """

    def __init__(self, default_namespace: str = DEFAULT_NAMESPACE) -> None:
        self.default_namespace = default_namespace
        self._apps: dict[tuple[str, str], dict[str, Any]] = {}
        self._versions: dict[tuple[str, str], int] = {}
        self._changed = threading.Condition()
        self.on_sync: list[SyncHook] = []
        """Called after a sync request was accepted (the lab's syncer listens here)."""
        self.on_refresh: list[AppHook] = []
        """Called after a GET with ``refresh=normal|hard``."""
        self.on_terminate: list[AppHook] = []
        """Called after a terminate request; with none, the operation fails at once."""

    def _key(self, name: str, namespace: str | None) -> tuple[str, str]:
        return (namespace or self.default_namespace, name)

    def put(self, app: Mapping[str, Any]) -> None:
        """Add or replace an application (its ``metadata.name``/``namespace`` say which)."""
        meta = app.get("metadata", {})
        key = self._key(str(meta["name"]), meta.get("namespace"))
        with self._changed:
            self._apps[key] = copy.deepcopy(dict(app))
            self._bump(key)

    def get(self, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """A copy of the application, or None."""
        with self._changed:
            app = self._apps.get(self._key(name, namespace))
            return copy.deepcopy(app) if app is not None else None

    def names(self) -> list[tuple[str, str]]:
        """Every (namespace, name) held."""
        with self._changed:
            return sorted(self._apps)

    def update_app(
        self,
        name: str,
        mutate: Callable[[dict[str, Any]], None],
        *,
        namespace: str | None = None,
    ) -> dict[str, Any]:
        """Apply ``mutate`` to the stored app under the lock; returns a copy of the result."""
        key = self._key(name, namespace)
        with self._changed:
            app = self._apps.get(key)
            if app is None:
                raise KeyError(f"no application {key[1]!r} in namespace {key[0]!r}")
            mutate(app)
            self._bump(key)
            return copy.deepcopy(app)

    def set_state(self, name: str, *, namespace: str | None = None, **state: Any) -> dict[str, Any]:
        """Change the app's state by :func:`apply_state` keywords; returns a copy."""
        return self.update_app(name, lambda app: apply_state(app, **state), namespace=namespace)

    def version(self, name: str, namespace: str | None = None) -> int:
        """The change counter of one app (0 when absent)."""
        with self._changed:
            return self._versions.get(self._key(name, namespace), 0)

    def wait_change(
        self, name: str, namespace: str | None, *, after: int, timeout: float
    ) -> tuple[int, dict[str, Any] | None]:
        """Block until the app's version passes ``after`` or ``timeout``; returns (version, app)."""
        key = self._key(name, namespace)
        with self._changed:
            self._changed.wait_for(lambda: self._versions.get(key, 0) > after, timeout=timeout)
            app = self._apps.get(key)
            return self._versions.get(key, 0), copy.deepcopy(app) if app is not None else None

    def _bump(self, key: tuple[str, str]) -> None:
        self._versions[key] = self._versions.get(key, 0) + 1
        app = self._apps.get(key)
        if app is not None:
            app.setdefault("metadata", {})["resourceVersion"] = str(self._versions[key])
        self._changed.notify_all()

    # ------------------------------------------------------------ API semantics
    def request_sync(
        self, name: str, namespace: str | None, body: Mapping[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        """ArgoCD's sync: 200 with the app, or 400 while another operation runs."""
        key = self._key(name, namespace)
        with self._changed:
            app = self._apps.get(key)
            if app is None:
                return 404, _error(5, f'applications.argoproj.io "{name}" not found')
            if _operation_running(app):
                return 400, _error(9, "another operation is already in progress")
            sync: dict[str, Any] = {}
            if body.get("revision"):
                sync["revision"] = body["revision"]
            if body.get("revisions"):
                sync["revisions"] = list(body["revisions"])
            if body.get("prune"):
                sync["prune"] = True
            app["operation"] = {
                "sync": sync,
                "initiatedBy": {"username": "gitops-guard"},
                "retry": {},
            }
            self._bump(key)
            result = copy.deepcopy(app)
        for hook in list(self.on_sync):
            hook(name, key[0], dict(body))
        return 200, result

    def request_terminate(self, name: str, namespace: str | None) -> tuple[int, dict[str, Any]]:
        """ArgoCD's terminate: 200 ``{}``, or 400 when no operation is in progress."""
        key = self._key(name, namespace)
        with self._changed:
            app = self._apps.get(key)
            if app is None:
                return 404, _error(5, f'applications.argoproj.io "{name}" not found')
            if not _operation_running(app):
                # ArgoCD answers InvalidArgument (HTTP 400) here.
                return 400, _error(3, "Unable to terminate operation. No operation is in progress")
            state = app.setdefault("status", {}).setdefault("operationState", {})
            state.setdefault("startedAt", iso(NOW))
            state["phase"] = "Terminating"
            if not self.on_terminate:
                state["phase"] = "Failed"
                state["message"] = "Operation terminated"
                state["finishedAt"] = iso(NOW)
                app.pop("operation", None)
            self._bump(key)
        for hook in list(self.on_terminate):
            hook(name, key[0])
        return 200, {}

    def refreshed(self, name: str, namespace: str | None) -> None:
        """Tell the refresh hooks that ``refresh=`` was asked for."""
        for hook in list(self.on_refresh):
            hook(name, namespace or self.default_namespace)


def _error(code: int, message: str) -> dict[str, Any]:
    """A ``runtimeError`` body (grpc-gateway's error shape)."""
    return {"error": message, "code": code, "message": message, "details": []}


@dataclass(frozen=True)
class ReplayStep:
    """Wait ``after_seconds`` (from the previous step), then apply ``state``."""

    after_seconds: float
    state: Mapping[str, Any]
    """:func:`apply_state` keywords."""


class Replay:
    """Applies :class:`ReplayStep` states to one app in a background thread.

    ``applied_at`` holds the ``time.monotonic()`` of each applied step, so a test or a
    benchmark knows when the final state appeared.
    """

    def __init__(
        self,
        store: ApplicationStore,
        name: str,
        steps: Sequence[ReplayStep],
        *,
        namespace: str | None = None,
    ) -> None:
        self.store = store
        self.name = name
        self.namespace = namespace
        self.steps = tuple(steps)
        self.applied_at: list[float] = []
        self.finished = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Replay:
        """Start (once; later calls do nothing)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="argocd-replay", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop applying steps and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        for step in self.steps:
            if self._stop.wait(step.after_seconds):
                return
            self.store.set_state(self.name, namespace=self.namespace, **dict(step.state))
            self.applied_at.append(time.monotonic())
        self.finished.set()


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
            self._send_json(fault, _error(14, "upstream connect error or disconnect"))
            return None
        if not authorized:
            self._send_json(401, _error(16, "invalid session: token signature is invalid"))
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
        name = self._app_name(path)
        if name is None:
            self._send_json(404, _error(5, f"Not Found: {path}"))
            return
        refresh = query.get("refresh")
        if refresh and refresh not in ("normal", "hard"):
            self._send_json(400, _error(3, f"unknown refresh type {refresh!r}"))
            return
        if refresh:
            store.refreshed(name, namespace)
        app = store.get(name, namespace)
        if app is None:
            self._send_json(404, _error(5, f'applications.argoproj.io "{name}" not found'))
            return
        self._send_json(200, app)

    def do_POST(self) -> None:
        begun = self._begin("POST")
        if begun is None:
            return
        path, _, body = begun
        name = self._app_name(path, "/sync")
        if name is None:
            self._send_json(404, _error(5, f"Not Found: {path}"))
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
            self._send_json(404, _error(5, f"Not Found: {path}"))
            return
        status, payload = self.server_ref.store.request_terminate(name, query.get("appNamespace"))
        self._send_json(status, payload)

    # ------------------------------------------------------------ stream
    def _stream(self, name: str | None, namespace: str | None) -> None:
        fake = self.server_ref
        if fake.stream == "off" or not name:
            self._send_json(404, _error(12, "Not Implemented"))
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
