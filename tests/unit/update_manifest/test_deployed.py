"""promote.deployed: the gate's variables from what a deploy commit set.

- a deploy commit: image, its tag as version, the revision, the image it replaced
  and that image's tag as baseline_version; several images keep their order;
- a digest-only image has no version; a first deploy has no previous image, so
  neither previous_image nor baseline_version is passed (empty values are dropped);
- a commit gitops-guard did not make is not a deploy (is-deploy false, no vars but
  the revision).
"""

from __future__ import annotations

from gitops_guard.promote import deployed
from gitops_guard.rollback import models

SHA = "c" * 40
DIGEST = "sha256:" + "a" * 64


def _record(*swaps: tuple[str, str]) -> models.CommitRecord:
    return models.CommitRecord(
        sha=models.CommitSha(SHA),
        timestamp=0,
        subject="deploy",
        action="update-manifest" if swaps else "",
        swaps=tuple(models.ImageSwap(image=i, previous=p) for i, p in swaps),
    )


def test_a_deploy_gives_the_gate_the_previous_version() -> None:
    found = deployed.describe(
        _record(("ghcr.io/acme/web:1.2.0", "ghcr.io/acme/web:1.1.0"), ("redis:7.2", "redis:7.0"))
    )
    assert deployed.gate_variables(found) == {
        "image": "ghcr.io/acme/web:1.2.0",
        "version": "1.2.0",
        "revision": SHA,
        "previous_image": "ghcr.io/acme/web:1.1.0",
        "baseline_version": "1.1.0",
    }
    out = deployed.outputs(found)
    assert out["is-deploy"] == "true"
    assert out["images"] == "ghcr.io/acme/web:1.2.0\nredis:7.2"
    assert out["previous-images"] == "ghcr.io/acme/web:1.1.0\nredis:7.0"
    assert out["vars"].splitlines() == [
        "image=ghcr.io/acme/web:1.2.0",
        "version=1.2.0",
        f"revision={SHA}",
        "previous_image=ghcr.io/acme/web:1.1.0",
        "baseline_version=1.1.0",
    ]


def test_digest_only_and_first_deploys_pass_only_what_is_known() -> None:
    found = deployed.describe(_record((f"ghcr.io/acme/web@{DIGEST}", "")))
    variables = deployed.gate_variables(found)
    assert variables["version"] == "" and variables["previous_image"] == ""
    assert deployed.outputs(found)["vars"].splitlines() == [
        f"image=ghcr.io/acme/web@{DIGEST}",
        f"revision={SHA}",
    ]


def test_a_commit_not_made_by_gitops_guard_is_not_a_deploy() -> None:
    out = deployed.outputs(deployed.describe(_record()))
    assert out["is-deploy"] == "false"
    assert out["image"] == "" and out["vars"] == f"revision={SHA}"
