"""The lab image catalogue: behaviour of the demo app per image version.

The catalogue lives in ``catalogue.yaml`` beside this module. Each version names an
error ratio, a typical latency, a business-operation failure ratio, whether its
health checks fail, and how long it takes to become ready. The demo app reads it to
decide how to answer; the syncer reads it to decide whether an image "exists".

This module only parses data: it must not start processes or open sockets.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gitops_guard import errors

CATALOGUE_FILE = "catalogue.yaml"


class Behaviour(BaseModel):
    """How one image version of the demo app behaves."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    error_ratio: float = Field(0.0, ge=0.0, le=1.0)
    """Share of requests answered with HTTP 500."""
    latency_seconds: float = Field(0.02, ge=0.0, le=5.0)
    """Typical request latency; actual latencies spread around it."""
    business_failure_ratio: float = Field(0.0, ge=0.0, le=1.0)
    """Share of business operations that end with result="failure"."""
    fail_health_checks: bool = False
    """When true, /healthz answers 503: ArgoCD would report the app Degraded."""
    user_error_ratio: float = Field(0.0, ge=0.0, le=1.0)
    """Extra share of HTTP 500 for requests with a user session (``X-Lab-User``): a
    release that fails only under user traffic, not under a preview's smoke traffic."""
    startup_seconds: float = Field(0.0, ge=0.0, le=60.0)
    """Time before /healthz answers at all (the pod is starting)."""


class Catalogue(BaseModel):
    """The image repository of the demo app and its known versions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    repository: str
    versions: dict[str, Behaviour]

    def behaviour(self, version: str) -> Behaviour:
        """The behaviour of ``version``; raises InputError naming the known ones."""
        try:
            return self.versions[version]
        except KeyError:
            known = ", ".join(sorted(self.versions))
            raise errors.InputError(
                f"version {version!r} is not in the lab image catalogue",
                source="--version",
                hint=f"Pick one of: {known}.",
            ) from None

    def image(self, version: str) -> str:
        """The image reference of ``version`` as the manifests write it."""
        return f"{self.repository}:{version}"


def parse(text: str, *, source: str) -> Catalogue:
    """Parse catalogue YAML text; raises ConfigError listing every problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise errors.ConfigError(f"not valid YAML: {exc}", source=source) from exc
    try:
        return Catalogue.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise errors.ConfigError(f"invalid lab catalogue: {problems}", source=source) from exc


def load(path: Path | None = None) -> Catalogue:
    """Load ``path``, or the catalogue shipped with the package when None."""
    if path is not None:
        return parse(path.read_text(encoding="utf-8"), source=str(path))
    return _default()


@functools.cache
def _default() -> Catalogue:
    text = resources.files("gitops_guard_lab").joinpath(CATALOGUE_FILE).read_text("utf-8")
    return parse(text, source=f"gitops_guard_lab/{CATALOGUE_FILE}")
