"""The two-colour GitOps repository that blue-green's and the canary's tests share.

:meth:`TwoColourRepo.seed` fills a bare ``remote.git`` with a folder of manifests
(Deployments ``web-blue``/``web-green`` and their Services) under ``deploy/web`` and
clones it to ``work``; :meth:`TwoColourRepo.sync` plays ArgoCD: it applies every
manifest of the folder at a commit to the Kubernetes stand-in, as a sync would.
:func:`serve_cluster` starts that stand-in; :func:`deps_maker` and
:func:`settings_maker` build a flow's dependencies and settings over both;
:func:`syncing` plays ArgoCD in the background for the CLI tests.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml

from gitops_guard import gitops, images
from gitops_guard.kube import client as kube_client
from gitops_guard.strategies.bluegreen import flow
from gitops_guard_lab import kube_api

ROOT = Path(__file__).resolve().parents[3]
FOLDER = "deploy/web"
NAMESPACE = "sre-demo"

TOKEN = "kube-test-token-0123456789"
"""The bearer token the Kubernetes stand-in of these tests accepts."""

T = TypeVar("T")
R = TypeVar("R", bound="TwoColourRepo")


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


@dataclass
class TwoColourRepo:
    root: Path
    remote: Path
    work: Path
    store: kube_api.KubeStore
    synced: list[str] = field(default_factory=list)

    KINDS: ClassVar[tuple[str, ...]] = ("Deployment", "Service")
    """The kinds :meth:`sync` applies."""

    @classmethod
    def seed(cls: type[R], root: Path, store: kube_api.KubeStore, source: Path, what: str) -> R:
        """A remote seeded with ``source`` at ``deploy/web``, cloned and synced."""
        remote = root / "remote.git"
        git(root, "init", "-q", "--bare", "--initial-branch=main", str(remote))
        seed = root / "seed"
        shutil.copytree(source, seed / FOLDER)
        git(root, "init", "-q", "--initial-branch=main", str(seed))
        git(seed, "add", ".")
        git(seed, "commit", "-q", "-m", f"seed the {what} service")
        git(seed, "remote", "add", "origin", str(remote))
        git(seed, "push", "-q", "origin", "main")
        work = root / "work"
        git(root, "clone", "-q", str(remote), str(work))
        repo = cls(root=root, remote=remote, work=work, store=store)
        repo.sync(repo.tip())
        return repo

    def tip(self) -> str:
        return git(self.root, "--git-dir", str(self.remote), "rev-parse", "main").strip()

    def show(self, path: str, ref: str = "main") -> str:
        return git(self.root, "--git-dir", str(self.remote), "show", f"{ref}:{FOLDER}/{path}")

    def log(self, fmt: str = "%s") -> list[str]:
        out = git(self.root, "--git-dir", str(self.remote), "log", f"--format={fmt}", "main")
        return out.splitlines()

    def trailer_pairs(self, ref: str) -> list[tuple[str, str]]:
        """The trailers of commit ``ref``, in order."""
        out = git(
            self.root,
            "--git-dir",
            str(self.remote),
            "log",
            "-1",
            "--format=%(trailers:only,unfold)",
            ref,
        )
        pairs = (line.partition(": ") for line in out.splitlines() if ": " in line)
        return [(k, v) for k, _, v in pairs]

    def sync(self, sha: str) -> flow.WaitOutcome:
        """Apply the folder at ``sha`` to the Kubernetes stand-in (what ArgoCD does)."""
        names = git(
            self.root, "--git-dir", str(self.remote), "ls-tree", "--name-only", sha, FOLDER + "/"
        ).split()
        for name in names:
            if name.endswith("kustomization.yaml"):
                continue
            text = git(self.root, "--git-dir", str(self.remote), "show", f"{sha}:{name}")
            for doc in yaml.safe_load_all(text):
                if isinstance(doc, dict) and doc.get("kind") in self.KINDS:
                    self.store.apply(doc, namespace=NAMESPACE)
        self.synced.append(sha)
        return flow.WaitOutcome("done", f"done: {sha[:12]} Synced and Healthy")


@dataclass
class Cluster:
    server: kube_api.FakeKubeServer
    kubeconfig: Path
    bad_images: set[str] = field(default_factory=set)

    @property
    def store(self) -> kube_api.KubeStore:
        return self.server.store

    def client(self) -> kube_client.KubeClient:
        return kube_client.KubeClient(
            kube_client.Settings(kubeconfig=str(self.kubeconfig), timeout_seconds=2, attempts=2)
        )


def serve_cluster(tmp_path: Path) -> Iterator[Cluster]:
    """The Kubernetes stand-in on loopback; pods are ready unless their image is bad."""
    bad: set[str] = set()

    def ready(pod: dict[str, Any]) -> bool:
        return not any(c.get("image") in bad for c in pod["spec"].get("containers", []))

    store = kube_api.KubeStore(ready=ready)
    server = kube_api.FakeKubeServer(store, token=TOKEN, reconcile_seconds=0.05).start()
    config = tmp_path / "kubeconfig"
    config.write_text(server.kubeconfig(namespace=NAMESPACE))
    try:
        yield Cluster(server=server, kubeconfig=config, bad_images=bad)
    finally:
        server.stop()


@contextmanager
def deps_maker(
    deps: Callable[..., T], repo: TwoColourRepo, cluster: Cluster, gate: object
) -> Iterator[Callable[..., T]]:
    """``make(**overrides)``: a flow's ``Deps`` over ``repo`` and ``cluster``; the
    Kubernetes clients it opened are closed on the way out."""
    clients: list[kube_client.KubeClient] = []

    def make(**overrides: Any) -> T:
        client = cluster.client()
        clients.append(client)
        values: dict[str, Any] = {
            "wc": gitops.open_checkout(repo.work),
            "wait": repo.sync,
            "gate": gate,
            "kube": client,
            "echo": lambda line: None,
        }
        values.update(overrides)
        return deps(**values)

    yield make
    for client in clients:
        client.close()


def settings_maker(
    settings: Callable[..., T], repo: TwoColourRepo, **defaults: Any
) -> Callable[..., T]:
    """``make(image, **overrides)``: a flow's ``Settings`` for service ``web`` of ``repo``."""

    def make(image: str, **overrides: Any) -> T:
        values: dict[str, Any] = {
            "dir": repo.work,
            "service": "web",
            "image": images.parse(image, source="--image"),
            "paths": (FOLDER,),
            "ready_timeout_seconds": 5,
            "poll_seconds": 0.05,
            **defaults,
        }
        values.update(overrides)
        return settings(**values)

    return make


@contextmanager
def syncing(repo: TwoColourRepo, *, join_seconds: float = 5) -> Iterator[None]:
    """A background 'ArgoCD' that applies every new tip of the remote to the stand-in."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(0.05):
            tip = repo.tip()
            if repo.synced[-1] != tip:
                repo.sync(tip)

    worker = threading.Thread(target=loop, daemon=True)
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join(timeout=join_seconds)
