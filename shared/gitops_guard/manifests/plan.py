"""Plan an image update over a GitOps tree, then apply it all or nothing.

:func:`plan` reads the tree and writes nothing. For every ``--image`` it sets:

1. the ``image`` of every matching container in the scanned workloads;
2. every matching ``images:`` entry of the scanned kustomization files;
3. an added ``images:`` entry in a scanned kustomization whose resources
   (followed through ``resources``, ``bases`` and ``components``) hold the image
   in files *outside* the scanned paths — the overlay case, where the base must
   stay as it is. When the resources are scanned too they are edited directly
   and no entry is added. A kustomization file named itself in ``paths`` gets
   an entry for every image it lacks (the user asked for it there);
4. the Helm values named by ``--helm`` specs.

Each edited file is re-read and checked to differ only by the intended values.
An image that matches nothing raises :class:`errors.InputError` listing the
images that were found. A file that is not YAML is skipped with a notice.

:func:`apply` refuses when any file changed since planning, writes every new
file to a temporary file beside it, and only then renames them into place.

The planning itself lives in :mod:`planner` (the plan's state, workloads,
Helm values), :mod:`plan_kustomize` and :mod:`plan_argocd`.

This module must not run git or talk to the network.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from gitops_guard import errors, images
from gitops_guard.manifests import helm as helm_values
from gitops_guard.manifests import models, plan_argocd, plan_kustomize, tree
from gitops_guard.manifests import planner as planning

__all__ = ["apply", "plan"]


def _check_updates(updates: Sequence[images.ImageRef]) -> list[images.ImageRef]:
    if not updates:
        raise errors.InputError("no image to set", source="--image", hint="Pass --image REF.")
    checked: list[images.ImageRef] = []
    for update in updates:
        if not update.tag and not update.digest:
            images.updated(update, update)  # raises the "names no tag and no digest" error
        same = [other for other in checked if other.same_repository(update)]
        if any((o.tag, o.digest) == (update.tag, update.digest) for o in same):
            continue  # the same image twice, in any spelling
        if same:
            raise errors.InputError(
                f"{same[0].text} and {update.text} set the same repository twice",
                source="--image",
                hint="Pass each repository once.",
            )
        checked.append(update)
    return checked


def plan(
    root: Path,
    images: Sequence[images.ImageRef],
    *,
    paths: Sequence[str] = (),
    helm: Sequence[str] = (),
) -> models.EditPlan:
    """Compute and verify every edit for ``images``; reads the tree, writes nothing."""
    root = Path(root)
    if not root.is_dir():
        raise errors.InputError(f"{root} is not a folder", source="--dir")
    updates = _check_updates(images)
    specs = [helm_values.parse_spec(spec) for spec in helm]
    planner = planning.Planner(root, updates, tree.discover(root, paths), specs)
    planner.scope_paths = tuple(paths)
    planner.named_files = frozenset(
        rel
        for rel in (PurePosixPath(p.replace("\\", "/")).as_posix() for p in paths)
        if rel in planner.scope_set
    )
    planner.plan_workloads()
    plan_kustomize.plan_kustomizations(planner)
    planner.plan_helm()
    plan_argocd.plan_argocd(planner)
    planner.check_matched()
    plan_argocd.check_shadows(planner)
    return planner.result()


def apply(root: Path, plan: models.EditPlan) -> list[str]:
    """Write a plan all or nothing; returns the relative paths written.

    Raises :class:`errors.InputError` (and writes nothing) when a file differs
    from what the plan was computed on.
    """
    root = Path(root)
    for edit in plan.edits:
        path = tree.inside(root, edit.path, source=edit.path)
        current = path.read_bytes() if path.is_file() else None
        if current != edit.before:
            raise errors.InputError(
                "the file changed after the update was planned; nothing was written",
                source=edit.path,
                hint="Run the update again on the current files.",
            )
    staged: list[tuple[str, Path]] = []
    try:
        for edit in plan.edits:
            path = root / edit.path
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as handle:
                handle.write(edit.after)
            os.chmod(tmp, path.stat().st_mode & 0o7777)
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    for tmp, path in staged:
        os.replace(tmp, path)
    return [edit.path for edit in plan.edits]
