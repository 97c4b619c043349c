"""Build a GitOps history of deploy and rollback commits fast, with ``git fast-import``.

A history is declared as data (:class:`Step`): when, which environment, deploy or
revert of an earlier step. Commit messages carry the same trailers update-manifest
and rollback write (the constants of the one trailer vocabulary). ``get-mark`` asks
fast-import for each commit's sha as it goes, so a revert can name the commit it
reverts. 10,000 commits take well under a second.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gitops_guard import trailers
from gitops_guard.rollback import models


@dataclass(frozen=True)
class Step:
    at: int
    """Commit time, seconds since the epoch."""
    environment: str = "production"
    version: str = "1.0.0"
    reverts: int | None = None
    """Index of the earlier step this commit reverts (a rollback)."""
    rollback_to: bool = False
    """A ``rollback to`` commit (no Reverts trailer)."""
    plain: bool = False
    """A commit gitops-guard did not write (no trailers)."""
    tagged: bool = False
    """Name the environment in a Gitops-Guard-Environment trailer, and change a shared
    path (``base/web.yaml``) instead of the environment's folder."""


def _data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n" % len(raw) + raw + b"\n"


def build(root: Path, steps: Sequence[Step], *, branch: str = "main") -> list[str]:
    """Create a repository at ``root`` with one commit per step; returns the shas."""
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", branch, str(root)], check=True)
    proc = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done"],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    wanted = {s.reverts for s in steps if s.reverts is not None}
    marks: dict[int, str] = {}
    image = "ghcr.io/acme/web"
    for i, step in enumerate(steps, start=1):
        path = "base/web.yaml" if step.tagged else f"envs/{step.environment}/web.yaml"
        if step.plain:
            message = f"docs: note {i}\n"
        elif step.reverts is not None:
            target = marks[step.reverts]
            message = (
                f"Revert deploy {i}\n\nThis reverts commit {target}.\n\n"
                f"{models.TRAILER_ACTION}: {models.ACTION_ROLLBACK}\n"
                f"{models.TRAILER_REVERTS}: {target}\n"
            )
        elif step.rollback_to:
            message = (
                f"rollback: web back to {step.version}\n\n"
                f"{models.TRAILER_ACTION}: {models.ACTION_ROLLBACK}\n"
                f"{models.TRAILER_IMAGE}: {image}:{step.version}\n"
                f"{models.TRAILER_PREVIOUS}: {image}:bad\n"
            )
        else:
            message = (
                f"deploy: web -> {step.version}\n\n"
                f"{models.TRAILER_ACTION}: {models.ACTION_DEPLOY}\n"
                f"{models.TRAILER_IMAGE}: {image}:{step.version}\n"
                f"{models.TRAILER_PREVIOUS}: {image}:0\n"
            )
            if step.tagged:
                message += f"{trailers.ENVIRONMENT}: {step.environment}\n"
        who = f"gitops-guard <bot@example.com> {step.at} +0000"
        chunk = (
            f"commit refs/heads/{branch}\nmark :{i}\nauthor {who}\ncommitter {who}\n".encode()
            + _data(message)
            + f"M 644 inline {path}\n".encode()
            + _data(f"image: {image}:{step.version}  # step {i}\n")
        )
        proc.stdin.write(chunk)
        if i - 1 in wanted:  # a later step reverts this one: it needs the sha now
            proc.stdin.write(f"get-mark :{i}\n".encode())
            proc.stdin.flush()
            marks[i - 1] = proc.stdout.readline().decode().strip()
    proc.stdin.write(b"done\n")
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0
    proc.stdout.close()
    subprocess.run(["git", "checkout", "-q", branch], cwd=root, check=True)
    shas = subprocess.run(
        ["git", "rev-list", "--reverse", branch],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert len(shas) == len(steps)
    return shas
