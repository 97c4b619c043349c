"""Byte-exact edits of a blue-green layout: a colour's image, its replicas, a selector's colour.

* the image goes through the manifest engine (:func:`gitops_guard.manifests.plan`,
  scoped to the colour's Deployment file), exactly as update-manifest sets it;
* the selector colour is a string scalar set with :class:`~gitops_guard.manifests.
  yamledit.Editor` (style, comments and everything else stay);
* replicas are an integer: the digits are spliced in place and the file is
  re-read to check that exactly that value changed.

Each function rereads the file it edits, so it works on whatever tip a retry
fetched. Files are written atomically (temp file, rename). This module must not
run git or decide what to change.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml
from yaml import nodes

from gitops_guard import errors, images, manifests
from gitops_guard.manifests import yamledit
from gitops_guard.strategies.bluegreen import models


def _write(path: Path, text: str) -> None:
    if path.read_bytes().startswith(_BOM.encode()):
        text = _BOM + text
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)  # the original stays as it was
        raise


_BOM = "\ufeff"


def _read(base: Path, site: models.Site) -> tuple[Path, str, list[nodes.Node | None]]:
    """The file's text exactly as stored (CRLF kept; a byte-order mark set aside)."""
    path = base / site.file
    text = path.read_bytes().decode("utf-8").removeprefix(_BOM)
    try:
        return path, text, yamledit.compose(text)
    except yamledit.NotYaml as exc:
        raise errors.InputError(f"not valid YAML: {exc.problem}", source=str(site)) from exc


def _at(docs: list[nodes.Node | None], site: models.Site, *path: str) -> nodes.Node | None:
    node = docs[site.doc] if site.doc < len(docs) else None
    for key in path:
        node = yamledit.mapping_get(node, key)
    return node


def set_image(base: Path, dep: models.ColourDeployment, image: images.ImageRef) -> list[str]:
    """Set ``image`` in ``dep``'s file only; the files written (empty when in place)."""
    plan = manifests.plan(base, [image], paths=[dep.site.file])
    if not plan.changed:
        return []
    return list(manifests.apply(base, plan))


def set_replicas(base: Path, dep: models.ColourDeployment, replicas: int) -> list[str]:
    """Set ``spec.replicas`` of ``dep`` to ``replicas``; the files written."""
    path, text, docs = _read(base, dep.site)
    node = _at(docs, dep.site, "spec", "replicas")
    if not isinstance(node, nodes.ScalarNode):
        raise errors.InputError(f"{dep.name} has no spec.replicas", source=str(dep.site))
    if node.value == str(replicas):
        return []
    start, end = int(node.start_mark.index), int(node.end_mark.index)
    new = text[:start] + str(replicas) + text[end:]
    before = list(yaml.safe_load_all(text))
    after = list(yaml.safe_load_all(new))
    before[dep.site.doc]["spec"]["replicas"] = replicas
    if before != after:
        raise errors.GitopsGuardError(
            f"setting {dep.name} spec.replicas in {dep.site.file} did not re-read as intended"
        )
    _write(path, new)
    return [dep.site.file]


def set_selector_colour(
    base: Path, svc: models.ServiceSelector, colour_key: str, colour: str
) -> list[str]:
    """Point ``svc``'s selector at ``colour``; the files written (empty when in place)."""
    path, text, docs = _read(base, svc.site)
    node = _at(docs, svc.site, "spec", "selector", colour_key)
    if not isinstance(node, nodes.ScalarNode):
        raise errors.InputError(
            f"Service {svc.name} has no {colour_key} key in its selector", source=str(svc.site)
        )
    editor = yamledit.Editor(text, docs, source=svc.site.file)
    if not editor.set_scalar(node, colour):
        return []
    try:
        _write(path, editor.render())
    except yamledit.UnsafeEdit as exc:
        raise errors.InputError(str(exc), source=str(svc.colour_site)) from exc
    return [svc.site.file]
