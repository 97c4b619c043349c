"""Helpers for rollback's integration tests: a GitOps repository with a bare remote."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: app
          image: {image}   # managed by gitops-guard
          ports:
            - containerPort: 8080
"""


def git(cwd: Path, *args: str, input_text: str | None = None) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, input=input_text, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


@dataclass
class GitopsRepo:
    root: Path
    remote: Path
    work: Path

    def clone(self, name: str) -> Path:
        dest = self.root / name
        if not dest.exists():
            git(self.root, "clone", "-q", str(self.remote), str(dest))
        else:
            git(dest, "pull", "-q", "--rebase")
        return dest

    def remote_log(self, fmt: str = "%s") -> list[str]:
        return git(self.remote, "log", f"--format={fmt}", "main").splitlines()

    def remote_head(self) -> str:
        return git(self.remote, "rev-parse", "main").strip()

    def remote_file(self, path: str, ref: str = "main") -> str:
        return git(self.remote, "show", f"{ref}:{path}")

    def commit_file(self, path: str, text: str, message: str, *, clone: str = "ci") -> str:
        where = self.clone(clone)
        (where / path).parent.mkdir(parents=True, exist_ok=True)
        (where / path).write_text(text)
        git(where, "add", path)
        git(where, "commit", "-q", "-F", "-", input_text=message)
        git(where, "push", "-q", "origin", "HEAD:main")
        return git(where, "rev-parse", "HEAD").strip()

    def deploy(self, app: str, old: str, new: str, *, clone: str = "ci") -> str:
        where = self.clone(clone)
        path = f"apps/{app}/deployment.yaml"
        text = (where / path).read_text().replace(old, new)
        message = (
            f"deploy {app}: {new}\n\n"
            "Gitops-Guard-Action: update-manifest\n"
            f"Gitops-Guard-Image: {new}\n"
            f"Gitops-Guard-Previous-Image: {old}\n"
        )
        return self.commit_file(path, text, message, clone=clone)

    def image_of(self, app: str, ref: str = "main") -> str:
        for line in self.remote_file(f"apps/{app}/deployment.yaml", ref).splitlines():
            if "image:" in line:
                return line.split("image:", 1)[1].split("#", 1)[0].strip()
        raise AssertionError("no image line")

    def sync_work(self) -> None:
        git(self.work, "pull", "-q", "--rebase")


def outputs(path: Path) -> dict[str, str]:
    """Parse a $GITHUB_OUTPUT file (single-line and heredoc entries)."""
    found: dict[str, str] = {}
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and "=" not in line.split("<<", 1)[0]:
            name, delim = line.split("<<", 1)
            j = lines.index(delim, i + 1)
            found[name] = "\n".join(lines[i + 1 : j])
            i = j + 1
            continue
        name, _, value = line.partition("=")
        found[name] = value
        i += 1
    return found


def gate_report(
    path: Path, *, verdict: str = "fail", objectives: Sequence[dict[str, Any]] = ()
) -> Path:
    data = {
        "verdict": verdict,
        "score": 0.42,
        "objectives": list(objectives)
        or [
            {
                "name": "error-ratio",
                "query": 'sum(rate(http_requests_total{code=~"5.."}[5m]))',
                "window": "5m",
                "value": 0.07,
                "threshold": 0.01,
                "baseline": 0.002,
                "state": "fail",
                "reason": "0.07 > 0.01",
                "series": [],
                "measurements": [],
            },
            {
                "name": "p99-latency",
                "query": "histogram_quantile(0.99, ...)",
                "window": "5m",
                "value": 0.2,
                "threshold": 0.5,
                "baseline": 0.19,
                "state": "pass",
                "reason": "",
                "series": [],
                "measurements": [],
            },
        ],
    }
    path.write_text(json.dumps(data))
    return path
