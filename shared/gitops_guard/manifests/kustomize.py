"""``images:`` entries of kustomization files, set or added as ``kustomize edit set image`` does.

An entry ``{name, newName, newTag, digest}`` rewrites images named ``name`` to
``newName`` (or ``name``) with ``newTag`` and/or ``digest``. An entry matches an
update when its *effective* repository (``newName`` when present, else
``name``) is the update's repository. Setting an entry:

- tag and digest: ``newTag`` and ``digest`` are set (added when absent);
- tag only: ``newTag`` is set and ``digest`` removed;
- digest only: ``digest`` is set and ``newTag`` removed (a tag beside a digest
  it does not name would mislead);
- ``name`` and ``newName`` are never changed.

A new entry is ``{name, newTag, digest}`` appended to ``images:`` (which is
created at the end of the file when absent). Whether to add one is decided by
the plan, not here.

This module must not read files.
"""

from __future__ import annotations

import dataclasses

from yaml import nodes

from gitops_guard import images
from gitops_guard.manifests import yamledit

__all__ = [
    "FILENAMES",
    "Entry",
    "add_entries",
    "entries",
    "is_kustomization",
    "references",
    "set_entry",
]

FILENAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
"""The file names kustomize reads, in its order of preference."""

_REFERENCE_KEYS = ("resources", "bases", "components")


def is_kustomization(name: str) -> bool:
    """Whether a file name is one kustomize reads as a kustomization."""
    return name in FILENAMES


@dataclasses.dataclass(frozen=True)
class Entry:
    """One mapping of the ``images:`` list."""

    index: int
    node: nodes.MappingNode
    name: str
    ref: images.ImageRef
    """The effective repository (``newName`` or ``name``), parsed, without version."""
    new_tag: nodes.ScalarNode | None
    digest: nodes.ScalarNode | None

    @property
    def current(self) -> str:
        """The image the entry produces, e.g. ``nginx:1.27`` (``name`` when it sets no version)."""
        tag = self.new_tag.value if self.new_tag is not None else None
        digest = self.digest.value if self.digest is not None else None
        return self.ref.with_version(tag=tag or None, digest=digest or None).text


def _scalar(node: nodes.Node | None) -> nodes.ScalarNode | None:
    return node if isinstance(node, nodes.ScalarNode) else None


def entries(doc: nodes.Node | None) -> list[Entry]:
    """The parseable ``images:`` entries of a kustomization document."""
    listing = yamledit.mapping_get(doc, "images")
    if not isinstance(listing, nodes.SequenceNode):
        return []
    found = []
    for index, entry in enumerate(listing.value):
        if not isinstance(entry, nodes.MappingNode):
            continue
        name = yamledit.scalar_text(yamledit.mapping_get(entry, "name"))
        effective = yamledit.scalar_text(yamledit.mapping_get(entry, "newName")) or name
        if not name or not effective or not images.is_reference(effective):
            continue
        ref = images.parse(effective, source="kustomization")
        found.append(
            Entry(
                index=index,
                node=entry,
                name=name,
                ref=ref.with_version(tag=None, digest=None),
                new_tag=_scalar(yamledit.mapping_get(entry, "newTag")),
                digest=_scalar(yamledit.mapping_get(entry, "digest")),
            )
        )
    return found


def references(doc: nodes.Node | None) -> list[str]:
    """The local paths listed in ``resources``, ``bases`` and ``components``."""
    found = []
    for key in _REFERENCE_KEYS:
        listing = yamledit.mapping_get(doc, key)
        if not isinstance(listing, nodes.SequenceNode):
            continue
        for child in listing.value:
            text = yamledit.scalar_text(child)
            if text and "://" not in text and not text.startswith(("github.com/", "git@")):
                found.append(text)
    return found


def set_entry(
    editor: yamledit.Editor, doc_index: int, entry: Entry, update: images.ImageRef
) -> str | None:
    """Move ``entry`` to ``update``'s version; returns the new image, ``None`` if in place."""
    path: tuple[yamledit.PathPart, ...] = ("images", entry.index)
    wanted = {"newTag": update.tag, "digest": update.digest}
    present = {"newTag": entry.new_tag, "digest": entry.digest}
    changed = False
    for key, value in wanted.items():
        node = present[key]
        if value:
            if node is None:
                editor.add_pair(doc_index, path, entry.node, key, value)
                changed = True
            else:
                changed = editor.set_scalar(node, value) or changed
        elif node is not None:
            editor.delete_pair(doc_index, path, entry.node, key)
            changed = True
    if not changed:
        return None
    return entry.ref.with_version(tag=update.tag, digest=update.digest).text


def add_entries(
    editor: yamledit.Editor,
    doc_index: int,
    doc: nodes.Node | None,
    names: list[str],
    update: images.ImageRef,
) -> list[str]:
    """Append ``{name, newTag, digest}`` per name to ``images:``; returns the new images."""
    items = []
    for name in names:
        pairs = [("name", name)]
        if update.tag:
            pairs.append(("newTag", update.tag))
        if update.digest:
            pairs.append(("digest", update.digest))
        items.append(pairs)
    listing = yamledit.mapping_get(doc, "images")
    if isinstance(listing, nodes.SequenceNode):
        for pairs in items:
            editor.append_item(doc_index, ("images",), listing, pairs)
    elif isinstance(doc, nodes.MappingNode) and listing is None:
        editor.add_list_key(doc_index, doc, "images", items)
    elif isinstance(doc, nodes.MappingNode) and yamledit.scalar_text(listing) is None:
        editor.fill_empty(doc_index, doc, "images", items)  # ``images:`` with no value
    else:
        raise yamledit.UnsafeEdit("its images: is not a list")
    return [
        images.parse(name, source="kustomization")
        .with_version(tag=update.tag, digest=update.digest)
        .text
        for name in names
    ]
