"""Planning kustomization files: matching ``images:`` entries, and entries to add.

A matching ``images:`` entry is set in place; a scanned kustomization whose
resources hold the image only in files *outside* the scanned paths (the overlay
case) gets an added entry, and a kustomization named itself in ``paths`` gets an
entry for every image it lacks. See :mod:`plan` for the whole order.

This module must not write files, run git or talk to the network.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import PurePosixPath

from yaml import nodes

from gitops_guard import images
from gitops_guard.manifests import kustomize, models, yamledit
from gitops_guard.manifests.planner import Planner

__all__ = ["plan_kustomizations"]


def plan_kustomizations(planner: Planner) -> None:
    for rel in planner.scope:
        if not kustomize.is_kustomization(rel.rsplit("/", 1)[-1]):
            continue
        if not planner.scope_paths and not planner.may_hold(rel) and not planner.has_images(rel):
            # Scanning the whole tree, every resource a kustomization can reach is
            # scanned too (and edited directly), so only a matching entry matters
            # (whose name may be a pattern that does not spell the image).
            continue
        planner.ws.kustomization_in(PurePosixPath(rel).parent.as_posix())  # one per folder
        docs = planner.ws.docs(rel)
        if not docs:
            continue
        doc_index = next((i for i, d in enumerate(docs) if isinstance(d, nodes.MappingNode)), None)
        if doc_index is None:
            continue
        doc = docs[doc_index]
        covered: set[int] = set()
        for entry in kustomize.entries(doc):
            hit = planner.match_entry(entry)
            if hit is None:
                continue
            planner.matched.add(hit[0])
            covered.add(hit[0])
            old = entry.current_for(hit[1])
            try:
                new = kustomize.set_entry(planner.editor(rel), doc_index, entry, hit[1])
            except yamledit.UnsafeEdit as exc:
                raise planner.unsafe(rel, yamledit.line_of(entry.node), exc) from exc
            if new is not None:
                target = f"kustomization images[{entry.index}] {entry.name}"
                planner.record(rel, entry.node, "kustomize", old, new, target)
        wanted: list[tuple[str, str, images.ImageRef]] = []
        for index, update in enumerate(planner.updates):
            if index not in covered:
                wanted.extend(_entries_to_add(planner, rel, doc, index, update))
        if wanted:
            _add_entries(planner, rel, doc_index, doc, wanted)


def _entries_to_add(
    planner: Planner, rel: str, doc: nodes.Node | None, index: int, update: images.ImageRef
) -> list[tuple[str, str, images.ImageRef]]:
    """``(name, current image, update)`` for each entry ``rel`` needs for ``update``."""
    if not planner.scope_paths:
        return []  # the whole tree is scanned: resources are edited where they are
    folder = PurePosixPath(rel).parent.as_posix()
    current: dict[str, str] = {}
    for name, text in _outside_images(planner, folder, doc, update, {rel}):
        current.setdefault(name, text)
    if not current and rel in planner.named_files:
        # Naming a kustomization file in --path asks for the image there, even when
        # its resources are remote or do not show the image.
        name = (update.replaces or update).name
        current[name] = name
    if current:
        planner.matched.add(index)
    return [(name, current[name], update) for name in sorted(current)]


def _add_entries(
    planner: Planner,
    rel: str,
    doc_index: int,
    doc: nodes.Node | None,
    wanted: list[tuple[str, str, images.ImageRef]],
) -> None:
    """Add every missing entry of one kustomization in one edit (several ``--image``)."""
    try:
        added = kustomize.add_entries(
            planner.editor(rel), doc_index, doc, [(name, update) for name, _, update in wanted]
        )
    except yamledit.UnsafeEdit as exc:
        raise planner.unsafe(rel, None, exc) from exc
    assert doc is not None
    for (name, old, _), new in zip(wanted, added, strict=True):
        planner.changes.append(
            models.ImageChange(
                file=rel,
                line=int(doc.end_mark.line) + 1,
                kind="kustomize",
                old=old,
                new=new,
                target=f"kustomization images (added) {name}",
            )
        )


def _outside_images(
    planner: Planner, folder: str, doc: nodes.Node | None, update: images.ImageRef, seen: set[str]
) -> Iterator[tuple[str, str]]:
    """``(name, image)`` as written for ``update`` in resources outside the scope."""
    for reference in kustomize.references(doc):
        joined = os.path.normpath(os.path.join(folder, reference)).replace(os.sep, "/")
        if joined.startswith("../") or joined == ".." or os.path.isabs(joined):
            continue
        target = planner.root / joined
        if target.is_dir():
            rel = planner.ws.kustomization_in(joined)
            if rel is None or rel in seen or rel in planner.scope_set:
                continue
            seen.add(rel)
            sub_docs = planner.ws.docs(rel) or []
            sub = next((d for d in sub_docs if isinstance(d, nodes.MappingNode)), None)
            entries = [e for e in kustomize.entries(sub) if e.matches(update)]
            if entries:
                # The overlay's new entry renames what the base produces.
                yield from (
                    (e.ref.name if e.ref else update.name, e.current_for(update)) for e in entries
                )
            else:
                yield from _outside_images(planner, joined, sub, update, seen)
        elif (
            target.is_file()
            and joined not in planner.scope_set
            and joined not in seen
            and planner.ws.chart_of_template(joined) is None
        ):
            seen.add(joined)
            if planner.may_hold(joined):
                for site, ref in planner.sites(joined):
                    if update.selects(ref):
                        yield ref.name, site.value
