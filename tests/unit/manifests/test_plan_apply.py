"""Planning rules and the all-or-nothing apply.

Behaviours covered:
- an image that matches nothing is InputError listing the images found;
- the same repository given twice with different versions, an image without a
  tag or digest, no image at all: InputError, nothing read or written;
- --path: restricts the scan, must exist, must stay inside the root;
  hidden folders (.git, .github) and symbolic links are never scanned;
- a file that is not UTF-8 is skipped with a notice; a file that is not YAML
  is skipped with a notice and never crashes the plan;
- already in place: no edits, changed is False, changes empty, apply writes nothing;
- several images in one plan; plan writes nothing;
- apply refuses (InputError, nothing written) when any file changed since
  planning, keeps file modes, leaves no temporary files behind.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from gitops_guard import errors, images, manifests

MakeTree = Callable[[dict[str, str | bytes]], Path]


def _pod(image: str, name: str = "p") -> str:
    return f"kind: Pod\nmetadata: {{name: {name}}}\nspec:\n  containers:\n  - name: c\n    image: {image}\n"  # noqa: E501


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_unmatched_image_lists_what_was_found(make_tree: MakeTree) -> None:
    root = make_tree(
        {
            "a.yaml": _pod("ghcr.io/acme/web:1"),
            "b.yaml": _pod("nginx:1.25"),
            "k/kustomization.yaml": "images:\n- name: redis\n  newTag: '7'\n",
        }
    )
    with pytest.raises(errors.InputError) as info:
        manifests.plan(root, [images.parse("ghcr.io/acme/api:2"), images.parse("nginx:1.27")])
    assert info.value.source == "--image"
    assert info.value.exit_code == 2
    assert info.value.message == (
        "ghcr.io/acme/api:2 matches no image in the repository; "
        "images found: ghcr.io/acme/web, nginx, redis"
    )


def test_unmatched_image_mentions_unreadable_files(make_tree: MakeTree) -> None:
    root = make_tree(
        {"a.yaml": _pod("nginx:1"), "t.yaml": "image: {{ .Values.redis }}\n{{- x }}\n"}
    )
    with pytest.raises(errors.InputError) as info:
        manifests.plan(root, [images.parse("redis:2")])
    assert info.value.message.endswith("images found: nginx; not read (see skipped): t.yaml")


def test_unmatched_image_names_the_scanned_paths(make_tree: MakeTree) -> None:
    root = make_tree({"a/p.yaml": _pod("nginx:1"), "b/p.yaml": _pod("redis:1")})
    with pytest.raises(errors.InputError, match=r"matches no image in a; images found: nginx"):
        manifests.plan(root, [images.parse("redis:2")], paths=["a"])


@pytest.mark.parametrize(
    ("refs", "fragment"),
    [
        ([], "no image to set"),
        (["nginx"], "no tag and no digest"),
        (["nginx:1", "docker.io/library/nginx:2"], "same repository twice"),
    ],
)
def test_bad_image_lists(make_tree: MakeTree, refs: list[str], fragment: str) -> None:
    root = make_tree({"p.yaml": _pod("nginx:1")})
    with pytest.raises(errors.InputError, match=fragment):
        manifests.plan(root, [images.parse(r) for r in refs])


def test_same_image_twice_is_fine(make_tree: MakeTree) -> None:
    root = make_tree({"p.yaml": _pod("nginx:1")})
    plan = manifests.plan(root, [images.parse("nginx:2"), images.parse("library/nginx:2")])
    assert plan.files == ("p.yaml",)


@pytest.mark.parametrize(
    ("paths", "fragment"),
    [(["nope"], "does not exist"), (["../x"], "inside the repository"), (["/etc"], "inside")],
)
def test_bad_paths(make_tree: MakeTree, paths: list[str], fragment: str) -> None:
    root = make_tree({"p.yaml": _pod("nginx:1")})
    with pytest.raises(errors.InputError, match=fragment) as info:
        manifests.plan(root, [images.parse("nginx:2")], paths=paths)
    assert info.value.source == "--path"


def test_missing_root_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(errors.InputError) as info:
        manifests.plan(tmp_path / "nope", [images.parse("nginx:2")])
    assert info.value.source == "--dir"


def test_paths_restrict_and_hidden_and_symlinks_are_skipped(make_tree: MakeTree) -> None:
    root = make_tree(
        {
            "apps/a/p.yaml": _pod("nginx:1"),
            "apps/b/p.yml": _pod("nginx:1"),
            "other/p.yaml": _pod("nginx:1"),
            ".git/p.yaml": _pod("nginx:1"),
            ".github/workflows/p.yaml": _pod("nginx:1"),
            "apps/.hidden.yaml": _pod("nginx:1"),
            "apps/notes.txt": _pod("nginx:1"),
        }
    )
    os.symlink(root / "other/p.yaml", root / "apps/link.yaml")
    plan = manifests.plan(root, [images.parse("nginx:2")], paths=["apps"])
    assert plan.files == ("apps/a/p.yaml", "apps/b/p.yml")
    plan = manifests.plan(root, [images.parse("nginx:2")], paths=["apps/a/p.yaml", "other"])
    assert plan.files == ("apps/a/p.yaml", "other/p.yaml")
    plan = manifests.plan(root, [images.parse("nginx:2")])
    assert plan.files == ("apps/a/p.yaml", "apps/b/p.yml", "other/p.yaml")


def test_unreadable_files_are_skipped_not_fatal(make_tree: MakeTree) -> None:
    root = make_tree(
        {
            "ok.yaml": _pod("nginx:1"),
            "latin1.yaml": _pod("nginx:1").encode("utf-8") + "# caf\xe9\n".encode("latin-1"),
            "broken.yaml": "kind: Pod\nimage: nginx:1\n bad: [\n",
            "tmpl.yaml": "image: {{ .Values.nginx }}\nx: {{- if }}\n",
        }
    )
    plan = manifests.plan(root, [images.parse("nginx:2")])
    assert plan.files == ("ok.yaml",)
    reasons = {s.path: s.reason for s in plan.skipped}
    assert reasons["latin1.yaml"] == "not UTF-8 text"
    assert reasons["broken.yaml"].startswith("not YAML (line ")
    assert reasons["tmpl.yaml"].startswith("a template ({{ }}), not YAML")


def test_in_place_is_a_no_op(make_tree: MakeTree) -> None:
    root = make_tree({"p.yaml": _pod("docker.io/library/nginx:1.27")})
    before = _snapshot(root)
    plan = manifests.plan(root, [images.parse("nginx:1.27")])
    assert not plan.changed
    assert plan.edits == () and plan.changes == ()
    assert manifests.apply(root, plan) == []
    assert _snapshot(root) == before


def test_several_images_and_plan_writes_nothing(make_tree: MakeTree) -> None:
    root = make_tree(
        {"a.yaml": _pod("nginx:1") + "---\n" + _pod("redis:6", "q"), "b.yaml": _pod("redis:6")}
    )
    before = _snapshot(root)
    plan = manifests.plan(root, [images.parse("nginx:2"), images.parse("redis:7")])
    assert _snapshot(root) == before
    assert [(c.file, c.line, c.old, c.new) for c in plan.changes] == [
        ("a.yaml", 6, "nginx:1", "nginx:2"),
        ("a.yaml", 13, "redis:6", "redis:7"),
        ("b.yaml", 6, "redis:6", "redis:7"),
    ]


def test_apply_refuses_when_a_file_changed_and_writes_nothing(make_tree: MakeTree) -> None:
    root = make_tree({"a.yaml": _pod("nginx:1"), "b.yaml": _pod("nginx:1")})
    plan = manifests.plan(root, [images.parse("nginx:2")])
    (root / "b.yaml").write_text(_pod("nginx:1") + "# edited meanwhile\n")
    before = _snapshot(root)
    with pytest.raises(errors.InputError) as info:
        manifests.apply(root, plan)
    assert info.value.source == "b.yaml"
    assert "changed after the update was planned" in info.value.message
    assert _snapshot(root) == before


def test_apply_refuses_when_a_file_vanished(make_tree: MakeTree) -> None:
    root = make_tree({"a.yaml": _pod("nginx:1")})
    plan = manifests.plan(root, [images.parse("nginx:2")])
    (root / "a.yaml").unlink()
    with pytest.raises(errors.InputError):
        manifests.apply(root, plan)
    assert _snapshot(root) == {}


def test_apply_keeps_modes_and_leaves_no_temporary_files(make_tree: MakeTree) -> None:
    root = make_tree({"a.yaml": _pod("nginx:1"), "sub/b.yaml": _pod("nginx:1")})
    os.chmod(root / "a.yaml", 0o640)
    plan = manifests.plan(root, [images.parse("nginx:2")])
    assert manifests.apply(root, plan) == ["a.yaml", "sub/b.yaml"]
    assert stat.S_IMODE((root / "a.yaml").stat().st_mode) == 0o640
    assert sorted(_snapshot(root)) == ["a.yaml", "sub/b.yaml"]
    assert (root / "a.yaml").read_text() == _pod("nginx:2")
