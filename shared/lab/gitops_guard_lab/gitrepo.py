"""Read the lab's bare GitOps repository: the tip, and what its manifests ask to run.

:func:`desired_state` reads the ArgoCD Application definition (``apps/sre-demo-app.yaml``)
at a revision, then the YAML under its ``spec.source.path``: the image of the first
container of the first Deployment, with a kustomization ``images:`` override applied.
A kustomize overlay (a folder whose ``kustomization.yaml`` lists another folder under
``resources:``, e.g. ``../../base``) is followed to its base, and the overlay's
``images:`` entries win over the base's, as ``kustomize build`` applies them.
This module only reads (``git show``, ``git ls-tree``); it never writes to the
repository and decides nothing about deploys.
"""

from __future__ import annotations

import posixpath
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from gitops_guard import errors, images

APP_FILE = "apps/sre-demo-app.yaml"
"""Where the ArgoCD Application definition lives in the GitOps repository."""


class BareRepo:
    """Read-only view of the bare GitOps repository (the "remote")."""

    def __init__(self, path: Path, *, branch: str = "main") -> None:
        self.path = path
        self.branch = branch

    def _git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", "--git-dir", str(self.path), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        if done.returncode != 0:
            raise errors.DependencyUnavailable(
                f"git {' '.join(args)} failed in {self.path}: {done.stderr.strip()}"
            )
        return done.stdout

    def tip(self) -> str:
        """The commit sha at the tip of the tracked branch."""
        return self._git("rev-parse", f"refs/heads/{self.branch}").strip()

    def read(self, revision: str, path: str) -> str:
        return self._git("show", f"{revision}:{path}")

    def files(self, revision: str, path: str) -> list[str]:
        out = self._git("ls-tree", "-r", "--name-only", revision, "--", path)
        return [line for line in out.splitlines() if line]

    def subject(self, revision: str) -> tuple[str, str, str]:
        """(subject, author name, author email) of a commit."""
        out = self._git("log", "-1", "--format=%s%x00%an%x00%ae", revision).rstrip("\n")
        subject, _, rest = out.partition("\0")
        author, _, email = rest.partition("\0")
        return subject, author, email


@dataclass(frozen=True)
class Desired:
    """What the manifests at one revision ask to run."""

    revision: str
    path: str
    """The Application's ``spec.source.path``."""
    image: str
    """The image of the first container of the first Deployment, as written."""
    version: str
    """Its tag (the digest's short form when it has no tag)."""


def yaml_docs(text: str, *, source: str) -> Iterator[Any]:
    try:
        yield from yaml.safe_load_all(text)
    except yaml.YAMLError as exc:
        raise errors.ConfigError(f"not valid YAML: {exc}", source=source) from exc


def application(repo: BareRepo, revision: str, app_file: str = APP_FILE) -> dict[str, Any]:
    """The Application definition ``app_file`` at ``revision`` (its first document)."""
    doc = next(iter(yaml_docs(repo.read(revision, app_file), source=app_file)), None)
    if not isinstance(doc, dict):
        raise errors.ConfigError("not an ArgoCD Application", source=app_file)
    return doc


def desired_state(repo: BareRepo, revision: str, *, app_file: str = APP_FILE) -> Desired:
    """Read the Application and its manifests at ``revision``; what should run."""
    app = next(iter(yaml_docs(repo.read(revision, app_file), source=app_file)), None)
    source = ((app or {}).get("spec") or {}).get("source") if isinstance(app, dict) else None
    if not isinstance(source, dict) or not source.get("path"):
        raise errors.ConfigError(
            "the Application has no spec.source.path",
            source=app_file,
            hint="The lab deploys single-source Applications: set spec.source.path.",
        )
    path = str(source["path"]).strip("/")
    image, overrides = _scan(repo, revision, path, seen=set())
    if image is None:
        raise errors.ConfigError(f"no Deployment with a container image under {path}/")
    ref = images.parse(image, source=path)
    override = overrides.get(ref.name)
    if override:
        name = override.get("newName", ref.name)
        tag = override.get("newTag", ref.tag)
        digest = override.get("digest", ref.digest)
        image = name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
        ref = images.parse(image, source=f"{path}/kustomization.yaml")
    version = ref.tag or (ref.digest or "")[:19]
    return Desired(revision=revision, path=path, image=image, version=version)


def _scan(
    repo: BareRepo, revision: str, path: str, *, seen: set[str]
) -> tuple[str | None, dict[str, dict[str, str]]]:
    """The first Deployment's image under ``path`` (following kustomize bases) and the
    ``images:`` overrides that apply to it (the outer kustomization's win)."""
    seen.add(path)
    image: str | None = None
    overrides: dict[str, dict[str, str]] = {}
    bases: list[str] = []
    for name in repo.files(revision, path):
        if PurePosixPath(name).suffix not in (".yaml", ".yml"):
            continue
        for doc in yaml_docs(repo.read(revision, name), source=name):
            if not isinstance(doc, dict):
                continue
            if doc.get("kind") == "Kustomization":
                for entry in doc.get("images") or ():
                    overrides[str(entry.get("name"))] = entry
                folder = posixpath.dirname(name)
                for resource in doc.get("resources") or ():
                    target = posixpath.normpath(posixpath.join(folder, str(resource)))
                    if not PurePosixPath(target).suffix and not target.startswith(".."):
                        bases.append(target)
            elif doc.get("kind") == "Deployment" and image is None:
                containers = doc.get("spec", {}).get("template", {}).get("spec", {})
                for container in containers.get("containers") or ():
                    image = str(container.get("image"))
                    break
    for base in bases:
        if base in seen or (base + "/").startswith(path + "/"):
            continue  # a folder already read (ls-tree -r lists what lies below path)
        base_image, base_overrides = _scan(repo, revision, base, seen=seen)
        image = image or base_image
        overrides = {**base_overrides, **overrides}
    return image, overrides
