"""``gitops-guard init``: the files a new service needs, planned purely, then written.

:func:`plan` turns :class:`Settings` into the list of files to write (which checkout,
which path, what text) and validates every setting first; :func:`write` refuses to
overwrite an existing file unless told to (and then writes nothing at all), and
writes each file atomically. What is written:

* the GitOps checkout: ``apps/<app>.yaml`` (an ArgoCD Application with automated sync,
  prune, self-heal and ``CreateNamespace=true``), the manifests under ``--path`` (a
  kustomization with a Deployment and a Service, or for ``blue-green`` two coloured
  Deployments, an active and a preview Service), and ``.gitops-guard/<app>/slo.yaml``
  (the five checks) and ``.gitops-guard/<app>/rollback-rules.yaml``, kept outside the
  synced path so ArgoCD never tries to apply them;
* the application checkout: ``.github/workflows/deploy.yml`` and ``rollback.yml``,
  the callers of gitops-guard's reusable workflows.

This module renders text and writes files; it must not run git or talk to a server.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from gitops_guard import __version__, errors, images
from gitops_guard.scaffold import templates

Strategy = Literal["rolling", "blue-green"]
Checkout = Literal["app", "gitops"]

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")
_REPOSITORY = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}\Z")
_SHA = re.compile(r"[0-9a-f]{40}\Z")
PLACEHOLDER_SHA = "0" * 40


@dataclass(frozen=True)
class Settings:
    """What ``init`` was asked for (flags, unvalidated)."""

    app: str
    image: str
    gitops_repository: str
    path: str
    strategy: str = "rolling"
    namespace: str | None = None
    port: int = 8080
    replicas: int = 2
    environment: str = "production"
    gitops_guard_repository: str = "gitops-guard/gitops-guard"
    gitops_guard_ref: str | None = None
    argocd_server: str = "https://argocd.example.com"
    prometheus_url: str = "https://prometheus.example.com"


@dataclass(frozen=True)
class File:
    """One file to write: which checkout, the path inside it, the text."""

    checkout: Checkout
    path: str
    text: str


def _problems(s: Settings) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if not _DNS_LABEL.match(s.app):
        found.append(
            ("--app", f"{s.app!r} is not a Kubernetes name (lower-case a-z, 0-9 and '-', ≤ 63)")
        )
    try:
        ref = images.parse(s.image, source="--image")
        if ref.digest:
            found.append(("--image", "give the repository (and optionally a tag), not a digest"))
    except errors.InputError as exc:
        found.append(("--image", exc.message))
    if not _REPOSITORY.match(s.gitops_repository):
        found.append(("--gitops-repository", f"{s.gitops_repository!r} is not OWNER/NAME"))
    if not _REPOSITORY.match(s.gitops_guard_repository):
        found.append(("--gitops-guard-repository", "must be OWNER/NAME"))
    pure = PurePosixPath(s.path)
    if not s.path or pure.is_absolute() or ".." in pure.parts or s.path.strip() != s.path:
        found.append(("--path", f"{s.path!r} must be a relative path inside the GitOps repository"))
    elif pure.parts and pure.parts[0] in ("apps", ".gitops-guard", ".github"):
        found.append(("--path", f"{s.path!r} is a folder init writes other files to"))
    if s.strategy not in ("rolling", "blue-green"):
        found.append(("--strategy", f"{s.strategy!r}: choose rolling or blue-green"))
    if s.namespace is not None and not _DNS_LABEL.match(s.namespace):
        found.append(("--namespace", f"{s.namespace!r} is not a Kubernetes name"))
    if not (1 <= s.port <= 65535):
        found.append(("--port", f"{s.port} is not a port (1-65535)"))
    if not (1 <= s.replicas <= 1000):
        found.append(("--replicas", f"{s.replicas} must be between 1 and 1000"))
    if not _DNS_LABEL.match(s.environment):
        found.append(("--environment", f"{s.environment!r}: lower-case letters, digits and '-'"))
    if s.gitops_guard_ref is not None and not _SHA.match(s.gitops_guard_ref):
        found.append(("--gitops-guard-ref", "must be a full 40-character commit SHA"))
    for flag, url in (("--argocd-server", s.argocd_server), ("--prometheus-url", s.prometheus_url)):
        if not re.match(r"https?://[^\s/@]+(/\S*)?\Z", url):
            found.append((flag, f"{url!r} is not an http(s) URL without user info"))
    return found


def validate(settings: Settings) -> None:
    """Every problem at once, as one exit-2 error naming each flag."""
    found = _problems(settings)
    if not found:
        return
    if len(found) == 1:
        flag, message = found[0]
        raise errors.InputError(message, source=flag)
    lines = "\n".join(f"  {flag}: {message}" for flag, message in found)
    raise errors.InputError(f"{len(found)} problems with the flags:\n{lines}", source="init")


def plan(settings: Settings) -> list[File]:
    """The files to write, in a stable order; raises InputError on any bad setting."""
    validate(settings)
    ref = images.parse(settings.image, source="--image")
    values = {
        "APP": settings.app,
        "NAMESPACE": settings.namespace or settings.app,
        "IMAGE": ref.repository,
        "TAG": ref.tag or "latest",
        "PORT": str(settings.port),
        "REPLICAS": str(settings.replicas),
        "PATH": settings.path.rstrip("/"),
        "GITOPS_REPOSITORY": settings.gitops_repository,
        "GITOPS_URL": f"https://github.com/{settings.gitops_repository}.git",
        "ENVIRONMENT": settings.environment,
        "GG_REPOSITORY": settings.gitops_guard_repository,
        "GG_REF": settings.gitops_guard_ref or PLACEHOLDER_SHA,
        "GG_VERSION": f"v{__version__}",
        "ARGOCD_SERVER": settings.argocd_server,
        "PROMETHEUS_URL": settings.prometheus_url,
        "STRATEGY": settings.strategy,
    }
    base = settings.path.rstrip("/")
    files = [File("gitops", f"apps/{settings.app}.yaml", templates.APPLICATION)]
    if settings.strategy == "blue-green":
        files += [
            File("gitops", f"{base}/kustomization.yaml", templates.KUSTOMIZATION_BLUE_GREEN),
            File("gitops", f"{base}/deployment-blue.yaml", templates.DEPLOYMENT_COLOUR),
            File("gitops", f"{base}/deployment-green.yaml", templates.DEPLOYMENT_COLOUR),
            File("gitops", f"{base}/service.yaml", templates.SERVICE_ACTIVE),
            File("gitops", f"{base}/service-preview.yaml", templates.SERVICE_PREVIEW),
        ]
    else:
        files += [
            File("gitops", f"{base}/kustomization.yaml", templates.KUSTOMIZATION),
            File("gitops", f"{base}/deployment.yaml", templates.DEPLOYMENT),
            File("gitops", f"{base}/service.yaml", templates.SERVICE),
        ]
    files += [
        File("gitops", f".gitops-guard/{settings.app}/slo.yaml", templates.SLO),
        File("gitops", f".gitops-guard/{settings.app}/rollback-rules.yaml", templates.RULES),
        File("app", ".github/workflows/deploy.yml", templates.DEPLOY_WORKFLOW),
        File("app", ".github/workflows/rollback.yml", templates.ROLLBACK_WORKFLOW),
    ]
    rendered = []
    for item in files:
        colour = {"deployment-blue.yaml": "blue", "deployment-green.yaml": "green"}.get(
            PurePosixPath(item.path).name
        )
        extra = {}
        if colour:
            replicas = "0" if colour == "green" else str(settings.replicas)
            extra = {"COLOUR": colour, "COLOUR_REPLICAS": replicas}
        rendered.append(File(item.checkout, item.path, templates.render(item.text, values, extra)))
    return rendered


@dataclass(frozen=True)
class Written:
    """What :func:`write` did."""

    written: tuple[str, ...]
    """``checkout:path`` of each file written."""
    overwritten: tuple[str, ...]


def write(files: Sequence[File], *, app_dir: Path, gitops_dir: Path, force: bool) -> Written:
    """Write every file; with an existing one and no ``force``, exit 2 and write none."""
    roots = {"app": app_dir, "gitops": gitops_dir}
    for name, root in (("--app-dir", app_dir), ("--gitops-dir", gitops_dir)):
        if root.exists() and not root.is_dir():
            raise errors.InputError(f"{root} is not a directory", source=name)
    targets = [roots[f.checkout] / f.path for f in files]
    existing = [str(target) for target in targets if target.exists()]
    if existing and not force:
        listed = "\n".join(f"  {p}" for p in existing)
        raise errors.InputError(
            f"{len(existing)} file(s) exist already; nothing was written:\n{listed}",
            source="init",
            hint="Move them away, or pass --force to overwrite them.",
        )
    written = []
    for item, target in zip(files, targets, strict=True):
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(item.text)
        os.replace(temp, target)
        written.append(f"{item.checkout}:{item.path}")
    return Written(tuple(written), tuple(existing))
