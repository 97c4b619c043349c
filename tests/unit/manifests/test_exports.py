"""The public surface of gitops_guard.manifests and gitops_guard.images.

Behaviours covered:
- manifests exports exactly plan, apply and the plan's values (the contract
  update-manifest, rollback and blue-green code against);
- the plan values are frozen;
- images exports parse, is_reference, updated, ImageRef and DOCKER_HUB.
"""

from __future__ import annotations

import dataclasses

import pytest

from gitops_guard import images, manifests


def test_manifests_exports() -> None:
    assert sorted(manifests.__all__) == [
        "EditPlan",
        "FileEdit",
        "ImageChange",
        "Skipped",
        "apply",
        "plan",
    ]


def test_images_exports() -> None:
    assert sorted(images.__all__) == [
        "DOCKER_HUB",
        "ImageRef",
        "is_reference",
        "parse",
        "parse_update",
        "updated",
    ]


@pytest.mark.parametrize(
    "value",
    [
        manifests.EditPlan(),
        manifests.FileEdit(path="a.yaml", before=b"", after=b""),
        manifests.Skipped(path="a.yaml", reason="not YAML"),
        manifests.ImageChange(
            file="a.yaml", line=1, kind="workload", old="a:1", new="a:2", target="Pod/p container c"
        ),
    ],
)
def test_plan_values_are_frozen(value: object) -> None:
    field = dataclasses.fields(value)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, field, None)


def test_empty_plan_is_unchanged() -> None:
    assert not manifests.EditPlan().changed
    assert manifests.EditPlan().files == ()
