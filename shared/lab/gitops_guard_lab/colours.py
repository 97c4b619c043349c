"""The lab's two colours: real demo-app processes, a Kubernetes stand-in, Services that route.

:class:`ColourLab` plays one blue-green service (``web``, from
``examples/gitops-repo/deploy/web``) on this machine:

* one real demo-app process per colour, each on its own loopback port, started
  with the version its Deployment's image names and stopped at 0 replicas
  (:class:`gitops_guard_lab.pod.Deployer`);
* the Kubernetes API stand-in (:mod:`gitops_guard_lab.kube_api`) holding both
  Deployments and both Services as Git has them; a pod is ready when its colour's
  process answers ``/healthz`` with the pod's version;
* a syncer that plays ArgoCD: it polls the bare repository, applies
  ``deploy/web`` at each new tip to the stand-in, (re)starts or stops the colours,
  and publishes the Application through the ArgoCD API stand-in (Synced at the
  tip, Healthy once every colour with replicas is ready);
* one small HTTP proxy per Service: every request goes to a ready endpoint of
  the Service's EndpointSlices, so switching the selector switches real traffic;
  with ``front="gateway"`` the door named ``web`` is instead the lab's Gateway
  (:mod:`gitops_guard_lab.gateway`), which routes by the weights of the HTTPRoute
  ``web`` the syncer applies from Git.

It knows nothing about deploy decisions: ``gitops-guard blue-green`` makes them.
Loopback only.
"""

from __future__ import annotations

import copy
import http.client
import itertools
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from gitops_guard import errors, images
from gitops_guard_lab import argocd_api, catalogue, gitrepo, kube_api, net, pod

log = logging.getLogger(__name__)

SERVICE = "web"
FOLDER = "deploy/web"
NAMESPACE = "sre-demo"
APP = "web"
POLL_SECONDS = 0.2
APPLIED = ("Deployment", "Service", "HTTPRoute")
"""The kinds the syncer applies from Git (the others are left to a real cluster)."""


@dataclass
class _Colour:
    name: str
    deployer: pod.Deployer
    version: str = ""
    replicas: int = 0


class ColourLab:
    """The colours, the stand-ins and the proxies of one blue-green service."""

    def __init__(
        self, *, repo: Path, logs: Path, pids: Path, token: str, front: str = "service"
    ) -> None:
        self.repo = gitrepo.BareRepo(repo)
        self.catalogue = catalogue.load()
        self.colours = {
            c: _Colour(
                c,
                pod.Deployer(
                    port=net.free_port(),
                    pid_file=pids / f"demoapp-{c}.pid",
                    log_file=logs / f"demoapp-{c}.log",
                    app=APP,
                ),
            )
            for c in ("blue", "green")
        }
        self.kube = kube_api.FakeKubeServer(
            kube_api.KubeStore(ready=self._ready, port_of=self._port_of),
            token=token,
            reconcile_seconds=0.1,
        )
        self.argo_store = argocd_api.ApplicationStore()
        self.argo = argocd_api.FakeArgoServer(self.argo_store, token=token)
        self.front = front
        """``service``: the door ``web`` is the Service's proxy; ``gateway``: the HTTPRoute's."""
        self.proxies: dict[str, Proxy] = {}
        self.synced = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._health: dict[str, pod.Readiness] = {}

    # -------------------------------------------------------------- pods
    def _colour_of(self, obj: Mapping[str, Any]) -> _Colour | None:
        labels = obj.get("metadata", {}).get("labels", {})
        return self.colours.get(str(labels.get("color", "")))

    def _ready(self, pod_obj: dict[str, Any]) -> bool:
        colour = self._colour_of(pod_obj)
        if colour is None or not colour.deployer.alive():
            return False
        images_ = [c.get("image", "") for c in pod_obj.get("spec", {}).get("containers", [])]
        if not any(_version(i) == colour.deployer.version for i in images_):
            return False
        probe = self._health.setdefault(colour.name, pod.Readiness())
        return probe.ready(colour.deployer.ready)

    def _port_of(self, pod_obj: dict[str, Any]) -> int:
        colour = self._colour_of(pod_obj)
        return colour.deployer.port if colour else 0

    @property
    def ports(self) -> list[int]:
        return [c.deployer.port for c in self.colours.values()]

    # -------------------------------------------------------------- lifecycle
    def start(self) -> ColourLab:
        self.kube.start()
        self.argo.start()
        self.sync(self.repo.tip())
        for service in (SERVICE, f"{SERVICE}-preview"):
            door = Proxy(self.kube.store, service=service)
            if self.front == "gateway" and service == SERVICE:
                from gitops_guard_lab import gateway  # a Proxy subclass: it imports this module

                door = gateway.Gateway(self.kube.store, route=SERVICE)
            self.proxies[service] = door.start()
        self._thread = threading.Thread(target=self._loop, name="lab-colours", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for proxy in self.proxies.values():
            proxy.stop()
        for colour in self.colours.values():
            colour.deployer.stop()
        self.argo.stop()
        self.kube.stop()

    def _loop(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                tip = self.repo.tip()
                if tip != self.synced:
                    self.sync(tip)
                self._publish(self.synced)
            except errors.GitopsGuardError as exc:
                log.warning("colours: %s", exc)
            except Exception:  # keep playing; the log says what broke
                log.exception("colours: unexpected error")

    # -------------------------------------------------------------- sync
    def sync(self, revision: str) -> None:
        """Apply ``deploy/web`` at ``revision`` and run what it asks for."""
        for name in self.repo.files(revision, FOLDER):
            if not name.endswith((".yaml", ".yml")) or name.endswith("kustomization.yaml"):
                continue
            for doc in gitrepo.yaml_docs(self.repo.read(revision, name), source=name):
                if not isinstance(doc, dict) or doc.get("kind") not in APPLIED:
                    continue
                if doc["kind"] == "Deployment":
                    self._run_colour(doc)
                self.kube.store.apply(doc, namespace=NAMESPACE)
        self.synced = revision
        self._publish(revision, syncing=True)

    def _run_colour(self, doc: Mapping[str, Any]) -> None:
        colour = self._colour_of(doc.get("spec", {}).get("template", {}))
        if colour is None:
            return
        spec = doc.get("spec", {})
        containers = spec.get("template", {}).get("spec", {}).get("containers", [])
        version = _version(str(containers[0].get("image", ""))) if containers else ""
        replicas = int(spec.get("replicas", 1))
        colour.replicas = replicas
        if replicas <= 0:
            colour.deployer.stop()
            colour.version = version
            return
        if version not in self.catalogue.versions:
            colour.deployer.stop()  # the image cannot be pulled: the pod never gets ready
            colour.version = version
            return
        if colour.deployer.alive() and colour.deployer.version == version:
            return
        colour.version = version
        self._health.pop(colour.name, None)
        colour.deployer.deploy(version)

    def _publish(self, revision: str, *, syncing: bool = False) -> None:
        wanted = [c for c in self.colours.values() if c.replicas > 0]
        healthy = all(c.deployer.ready() for c in wanted)
        app = self.argo_store.get(APP)
        if app is None:
            app = argocd_api.make_application(
                APP, namespace="argocd", path=FOLDER, repo_url=f"file://{self.repo.path}"
            )
        before = copy.deepcopy(app.get("status", {}))
        argocd_api.apply_state(
            app,
            revision=revision,
            sync_status="Synced",
            health="Healthy" if healthy else "Progressing",
            phase="Succeeded",
            op_revision=revision,
            history_revision=revision if syncing else None,
        )
        if syncing or _core(before) != _core(app.get("status", {})):
            self.argo_store.put(app)


def _core(status: Mapping[str, Any]) -> tuple[str, str]:
    return (
        str(status.get("sync", {}).get("revision", "")),
        str(status.get("health", {}).get("status", "")),
    )


def _version(image: str) -> str:
    try:
        ref = images.parse(image, source="manifest")
    except errors.InputError:
        return ""
    return ref.tag or ""


class Proxy:
    """A loopback HTTP proxy that sends each request to a ready endpoint of ``service``."""

    def __init__(self, store: kube_api.KubeStore, *, service: str) -> None:
        self.store = store
        self.service = service
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._turn = itertools.count()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://{net.LOOPBACK}:{self._server.server_address[1]}"

    def endpoints(self) -> list[tuple[str, int]]:
        """(address, port) of every ready endpoint of the Service's EndpointSlices."""
        out = []
        for piece in self.store.select(
            "EndpointSlice", NAMESPACE, {"kubernetes.io/service-name": self.service}
        ):
            port = int(piece["ports"][0]["port"]) if piece.get("ports") else 0
            for endpoint in piece.get("endpoints", []):
                if endpoint.get("conditions", {}).get("ready") is not False and port:
                    out.append((endpoint["addresses"][0], port))
        return out

    def start(self) -> Proxy:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                status, headers, body = outer.forward(self.path, dict(self.headers))
                try:
                    self.send_response(status)
                    for key, value in headers:
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (its timeout)

        self._server = ThreadingHTTPServer((net.LOOPBACK, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"proxy-{self.service}", daemon=True
        )
        self._thread.start()
        return self

    def forward(
        self, path: str, headers: dict[str, str]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send to one ready endpoint; try the next one when it does not answer (kube-proxy
        would have the same connection fail, a client retry would land elsewhere)."""
        targets = self.endpoints()
        if not targets:
            return 503, [("Content-Type", "text/plain")], b"no ready endpoints\n"
        start = next(self._turn)
        keep = {k: v for k, v in headers.items() if k.lower() in ("x-lab-user", "accept")}
        for attempt in range(min(2, len(targets))):
            host, port = targets[(start + attempt) % len(targets)]
            connection = http.client.HTTPConnection(host, port, timeout=5)
            try:
                connection.request("GET", path, headers=keep)
                answer = connection.getresponse()
                body = answer.read()
                kept = [(k, v) for k, v in answer.getheaders() if k.lower() == "content-type"]
                return answer.status, kept, body
            except OSError:
                continue
            finally:
                connection.close()
        return 502, [("Content-Type", "text/plain")], b"upstream did not answer\n"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def load_manifest(path: Path) -> list[dict[str, Any]]:
    """The YAML documents of a file (for tests)."""
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if isinstance(d, dict)]
