"""A canary GitOps repository with a bare remote, the Kubernetes stand-in, a fake step gate.

:func:`seed_repo` seeds ``remote.git`` with ``tests/fixtures/canary/web`` (web-blue at
4 replicas of 1.0.0, web-green idle, one Service over both) and clones it;
:meth:`CanaryRepo.sync` plays ArgoCD: it applies the folder at a commit to the stand-in.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from gitops_guard.kube import client as kube_client
from gitops_guard.strategies.bluegreen import flow as bg_flow
from gitops_guard.strategies.canary import flow
from gitops_guard_lab import kube_api

ROOT = Path(__file__).resolve().parents[3]
FIXTURE = ROOT / "tests" / "fixtures" / "canary" / "web"
FOLDER = "deploy/web"
NAMESPACE = "sre-demo"
TOKEN = "kube-test-token-0123456789"


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


@dataclass
class CanaryRepo:
    root: Path
    remote: Path
    work: Path
    store: kube_api.KubeStore
    synced: list[str] = field(default_factory=list)

    def tip(self) -> str:
        return git(self.root, "--git-dir", str(self.remote), "rev-parse", "main").strip()

    def show(self, path: str, ref: str = "main") -> str:
        return git(self.root, "--git-dir", str(self.remote), "show", f"{ref}:{FOLDER}/{path}")

    def log(self, fmt: str = "%s") -> list[str]:
        out = git(self.root, "--git-dir", str(self.remote), "log", f"--format={fmt}", "main")
        return out.splitlines()

    def trailers(self, ref: str) -> list[tuple[str, str]]:
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

    def replicas(self, ref: str = "main") -> dict[str, int]:
        out = {}
        for colour in ("blue", "green"):
            doc = yaml.safe_load(self.show(f"web-{colour}.yaml", ref))
            out[colour] = int(doc["spec"]["replicas"])
        return out

    def sync(self, sha: str) -> bg_flow.WaitOutcome:
        """Apply the folder at ``sha`` to the Kubernetes stand-in (what ArgoCD does)."""
        names = git(
            self.root, "--git-dir", str(self.remote), "ls-tree", "--name-only", sha, FOLDER + "/"
        ).split()
        for name in names:
            if name.endswith("kustomization.yaml"):
                continue
            text = git(self.root, "--git-dir", str(self.remote), "show", f"{sha}:{name}")
            for doc in yaml.safe_load_all(text):
                if isinstance(doc, dict) and doc.get("kind") in (
                    "Deployment",
                    "Service",
                    "HTTPRoute",
                ):
                    self.store.apply(doc, namespace=NAMESPACE)
        self.synced.append(sha)
        return bg_flow.WaitOutcome("done", f"done: {sha[:12]} Synced and Healthy")


def seed_repo(root: Path, store: kube_api.KubeStore, fixture: Path = FIXTURE) -> CanaryRepo:
    remote = root / "remote.git"
    git(root, "init", "-q", "--bare", "--initial-branch=main", str(remote))
    seed = root / "seed"
    shutil.copytree(fixture, seed / FOLDER)
    git(root, "init", "-q", "--initial-branch=main", str(seed))
    git(seed, "add", ".")
    git(seed, "commit", "-q", "-m", "seed the canary service")
    git(seed, "remote", "add", "origin", str(remote))
    git(seed, "push", "-q", "origin", "main")
    work = root / "work"
    git(root, "clone", "-q", str(remote), str(work))
    repo = CanaryRepo(root=root, remote=remote, work=work, store=store)
    repo.sync(repo.tip())
    return repo


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
    verdicts: dict[tuple[int, str], str] = field(default_factory=dict)
    asked: list[flow.StepGate] = field(default_factory=list)

    def __call__(self, request: flow.StepGate) -> bg_flow.GateOutcome:
        self.asked.append(request)
        verdict = self.verdicts.get((request.step, request.image), "pass")
        return bg_flow.GateOutcome(
            verdict,  # type: ignore[arg-type]
            f"step {request.step}%: {verdict}",
            {request.canary: verdict},
        )
