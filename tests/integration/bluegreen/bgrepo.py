"""A blue-green GitOps repository with a bare remote, and an ArgoCD stand-in that applies it.

:class:`BlueGreenRepo` seeds ``remote.git`` with ``examples/gitops-repo/deploy/web``
(Deployments ``web-blue``/``web-green``, Services ``web``/``web-preview``) and
clones it to ``work``. :meth:`BlueGreenRepo.sync` plays ArgoCD: it applies every
manifest of the folder at a commit to the Kubernetes stand-in, as a sync would.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from gitops_guard.cli import outcomes
from gitops_guard.kube import client as kube_client
from gitops_guard.strategies.bluegreen import flow, models
from gitops_guard_lab import kube_api

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "gitops-repo" / "deploy" / "web"
FOLDER = "deploy/web"
NAMESPACE = "sre-demo"

TOKEN = "kube-test-token-0123456789"
"""The bearer token the Kubernetes stand-in of these tests accepts."""


def code(result: models.Result) -> int:
    """The exit code of a run's outcome, by the one table."""
    return outcomes.exit_code(result.outcome)


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


@dataclass
class BlueGreenRepo:
    root: Path
    remote: Path
    work: Path
    store: kube_api.KubeStore
    synced: list[str]

    @classmethod
    def create(cls, root: Path, store: kube_api.KubeStore) -> BlueGreenRepo:
        remote = root / "remote.git"
        git(root, "init", "-q", "--bare", "--initial-branch=main", str(remote))
        seed = root / "seed"
        shutil.copytree(EXAMPLE, seed / FOLDER)
        git(root, "init", "-q", "--initial-branch=main", str(seed))
        git(seed, "add", ".")
        git(seed, "commit", "-q", "-m", "seed the blue-green service")
        git(seed, "remote", "add", "origin", str(remote))
        git(seed, "push", "-q", "origin", "main")
        work = root / "work"
        git(root, "clone", "-q", str(remote), str(work))
        repo = cls(root=root, remote=remote, work=work, store=store, synced=[])
        repo.sync(repo.tip())
        return repo

    def tip(self) -> str:
        return git(self.root, "--git-dir", str(self.remote), "rev-parse", "main").strip()

    def show(self, path: str, ref: str = "main") -> str:
        return git(self.root, "--git-dir", str(self.remote), "show", f"{ref}:{FOLDER}/{path}")

    def log(self, fmt: str = "%s") -> list[str]:
        out = git(self.root, "--git-dir", str(self.remote), "log", f"--format={fmt}", "main")
        return out.splitlines()

    def trailers(self, ref: str) -> dict[str, str]:
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
        return {k: v for k, _, v in pairs}

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
                if isinstance(doc, dict) and doc.get("kind") in ("Deployment", "Service"):
                    self.store.apply(doc, namespace=NAMESPACE)
        self.synced.append(sha)
        return flow.WaitOutcome("done", f"done: {sha[:12]} Synced and Healthy")

    def selector(self) -> str:
        svc = self.store.get("Service", NAMESPACE, "web")
        assert svc is not None
        return str(svc["spec"]["selector"]["color"])


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


@dataclass
class Gates:
    verdicts: dict[tuple[str, str], str] = field(default_factory=dict)
    asked: list[flow.GateRequest] = field(default_factory=list)

    def __call__(self, request: flow.GateRequest) -> flow.GateOutcome:
        self.asked.append(request)
        verdict = self.verdicts.get((request.role, request.image), "pass")
        return flow.GateOutcome(
            verdict,  # type: ignore[arg-type]
            f"{request.role} {verdict}",
            {request.colour: f"{verdict} 100%", request.baseline: "baseline 100%"},
        )
