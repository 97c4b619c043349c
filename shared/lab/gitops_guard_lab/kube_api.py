"""A Kubernetes API stand-in: Deployments, Services, EndpointSlices and Pods over real HTTP.

There is no API server on these machines, so the official ``kubernetes`` client
talks to this one on loopback. Its objects have the shapes of the Kubernetes
OpenAPI description (``../shared/reference/kubernetes-swagger.json``, release
1.36); a test validates them against it.

Endpoints (``NS`` a namespace, ``N`` a name)::

    GET   /api/v1/namespaces/NS/services[/N]                    list or get
    GET   /api/v1/namespaces/NS/pods[/N]
    GET   /apis/apps/v1/namespaces/NS/deployments[/N]
    GET   /apis/discovery.k8s.io/v1/namespaces/NS/endpointslices[/N]
    PATCH any of the named ones: application/strategic-merge-patch+json,
          application/merge-patch+json; ``?fieldManager=`` is recorded in
          ``metadata.managedFields``
    GET   a list with ``?watch=true``: newline-delimited ``{"type", "object"}`` events
          (ADDED for what exists, then MODIFIED/DELETED) until ``timeoutSeconds``

The state lives in :mod:`gitops_guard_lab.kube_store` (re-exported here), whose small
controller plays kube-controller-manager: each Deployment gets its pods (one per
replica, named after a hash of the pod template), a status by the rules ``kubectl
rollout status`` reads, and each Service gets EndpointSlices of the pods its selector
matches, ready as the ``ready`` callback says (the lab asks its real processes; tests
set it). Lists honour ``labelSelector`` (``k=v,k2=v2``).

This module only plays the API; it decides nothing about a deploy, and it listens
on loopback only.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from gitops_guard_lab import net
from gitops_guard_lab.kube_store import (
    KINDS,
    PREFIXES,
    KubeStore,
    merge_patch,
    parse_label_selector,
    selector_matches,
    status_body,
    strategic_merge_patch,
)

__all__ = [
    "KINDS",
    "FakeKubeServer",
    "KubeStore",
    "merge_patch",
    "parse_label_selector",
    "selector_matches",
    "status_body",
    "strategic_merge_patch",
]


class FakeKubeServer:
    """A ``ThreadingHTTPServer`` on loopback serving a :class:`KubeStore`."""

    def __init__(
        self,
        store: KubeStore | None = None,
        *,
        token: str | None = None,
        port: int = 0,
        reconcile_seconds: float = 0.2,
    ) -> None:
        self.store = store or KubeStore()
        self.token = token
        self.port = port
        self.reconcile_seconds = reconcile_seconds
        self.requests: list[tuple[str, str, str]] = []
        """(method, path with query, content type) of every request."""
        self.fail_next = 0
        self.fail_status = 503
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://{net.LOOPBACK}:{self._server.server_address[1]}"

    def start(self) -> FakeKubeServer:
        outer = self

        class Handler(_Handler):
            server_ref = outer

        self._server = ThreadingHTTPServer((net.LOOPBACK, self.port), Handler)
        self._server.daemon_threads = True
        serve = threading.Thread(target=self._server.serve_forever, name="kube-api", daemon=True)
        control = threading.Thread(target=self._controller, name="kube-controller", daemon=True)
        self._threads = [serve, control]
        for thread in self._threads:
            thread.start()
        return self

    def _controller(self) -> None:
        while not self._stopping.wait(self.reconcile_seconds):
            self.store.reconcile()

    def stop(self) -> None:
        self._stopping.set()
        with self.store._lock:
            self.store._changed.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> FakeKubeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def kubeconfig(self, *, namespace: str = "default", token: str | None = None) -> str:
        """A kubeconfig (YAML text) that points at this server."""
        user = {"token": token or self.token} if (token or self.token) else {}
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "lab", "cluster": {"server": self.url}}],
            "users": [{"name": "lab", "user": user}],
            "contexts": [
                {
                    "name": "lab",
                    "context": {"cluster": "lab", "user": "lab", "namespace": namespace},
                }
            ],
            "current-context": "lab",
        }
        return json.dumps(config, indent=2) + "\n"


class _Handler(BaseHTTPRequestHandler):
    server_ref: FakeKubeServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: Mapping[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self) -> tuple[str, str, str | None, dict[str, str]] | None:
        """(resource, namespace, name or None, query) or None after answering an error."""
        outer = self.server_ref
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        outer.requests.append((self.command, self.path, self.headers.get("Content-Type", "")))
        if outer.token and self.headers.get("Authorization") != f"Bearer {outer.token}":
            self._send(401, status_body(401, "Unauthorized", "Unauthorized"))
            return None
        if outer.fail_next > 0:
            outer.fail_next -= 1
            self._send(
                outer.fail_status,
                status_body(
                    outer.fail_status,
                    "ServiceUnavailable",
                    "the server is currently unable to handle the request",
                ),
            )
            return None
        for prefix, resources in PREFIXES.items():
            if parsed.path.startswith(prefix):
                parts = parsed.path[len(prefix) :].strip("/").split("/")
                if len(parts) in (2, 3) and parts[1] in resources:
                    return parts[1], parts[0], parts[2] if len(parts) == 3 else None, query
        self._send(
            404,
            status_body(
                404, "NotFound", f"the server could not find the requested resource ({parsed.path})"
            ),
        )
        return None

    def do_GET(self) -> None:
        route = self._route()
        if route is None:
            return
        resource, ns, name, query = route
        kind, api_version = KINDS[resource]
        store = self.server_ref.store
        if name is not None:
            obj = store.get(kind, ns, name)
            if obj is None:
                self._send(404, status_body(404, "NotFound", f'{resource} "{name}" not found'))
            else:
                self._send(200, obj)
            return
        selector = parse_label_selector(query.get("labelSelector", ""))
        if query.get("watch") in ("true", "1"):
            self._watch(kind, ns, selector, query)
            return
        self._send(
            200,
            {
                "kind": f"{kind}List",
                "apiVersion": api_version,
                "metadata": {"resourceVersion": str(store.version)},
                "items": store.select(kind, ns, selector),
            },
        )

    def _watch(
        self, kind: str, ns: str, selector: Mapping[str, str], query: Mapping[str, str]
    ) -> None:
        timeout = float(query.get("timeoutSeconds") or 30)
        since = query.get("resourceVersion")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for event, obj in self.server_ref.store.watch(
                kind,
                ns,
                selector,
                since=int(since) if since and since.isdigit() else None,
                timeout=timeout,
            ):
                if self.server_ref._stopping.is_set():
                    break
                line = json.dumps({"type": event, "object": obj}).encode() + b"\n"
                self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return

    def do_PATCH(self) -> None:
        route = self._route()
        if route is None:
            return
        resource, ns, name, query = route
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self._send(400, status_body(400, "BadRequest", "the body is not JSON"))
            return
        if name is None:
            self._send(405, status_body(405, "MethodNotAllowed", "PATCH needs a name"))
            return
        kind, _ = KINDS[resource]
        try:
            obj = self.server_ref.store.patch(
                kind,
                ns,
                name,
                body,
                content_type=self.headers.get("Content-Type", ""),
                manager=query.get("fieldManager") or "unknown",
            )
        except KeyError:
            self._send(404, status_body(404, "NotFound", f'{resource} "{name}" not found'))
            return
        except ValueError as exc:
            self._send(415, status_body(415, "UnsupportedMediaType", str(exc)))
            return
        self._send(200, obj)
