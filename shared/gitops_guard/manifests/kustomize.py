"""``images:`` entries of kustomization files, set or added as ``kustomize edit set image`` does.

An entry ``{name, newName, newTag, digest}`` rewrites images named ``name`` to
``newName`` (or ``name``) with ``newTag`` and/or ``digest``. kustomize reads
``name`` as a regular expression (``^NAME(@sha256)?(:[a-zA-Z0-9_.{}-]*)?$``, searched
with Go's regexp), so a ``name`` that is not an image reference (``ghcr.io/acme/.*``,
``*``, ``*/app``) is a *pattern*. An
entry matches an update when

- its *effective* repository (``newName`` when present, else ``name``) is the
  update's repository; or
- it has no ``newName``, its ``name`` is a pattern, and the pattern matches a
  spelling of the update's repository; or
- the update renames (``OLD=NEW:tag``) and ``name`` is ``OLD``.

Setting an entry:

- tag and digest: ``newTag`` and ``digest`` are set (added when absent);
- tag only: ``newTag`` is set and ``digest`` removed;
- digest only: ``digest`` is set and ``newTag`` removed (a tag beside a digest
  it does not name would mislead); when the key that goes is the entry's last
  line and the other one comes, that pair is rewritten where it stands;
- ``name`` is never changed; ``newName`` only by a rename.

New entries are ``{name, newName (rename only), newTag, digest}`` appended to
``images:`` (which is created at the end of the file when absent), all in one
edit. Whether to add one is decided by the plan, not here.

This module must not read files.
"""

from __future__ import annotations

import dataclasses
import re

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
    "spellings",
]

FILENAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
"""The file names kustomize reads, in its order of preference."""

_REFERENCE_KEYS = ("resources", "bases", "components")


def is_kustomization(name: str) -> bool:
    """Whether a file name is one kustomize reads as a kustomization."""
    return name in FILENAMES


def _pattern(name: str) -> re.Pattern[str] | None:
    """kustomize's match for an entry ``name``, or ``None`` if it does not compile.

    kustomize compiles ``"^" + name + "(@sha256)?(:[a-zA-Z0-9_.{}-]*)?$"`` with Go's
    regexp and *searches* the image with it. Go reads a leading ``*`` as a repeated
    ``^`` (so ``*`` matches every image and ``*/app`` any image ending in ``/app``);
    Python refuses ``^*``, so the anchor is written ``(?:^)`` there, which means the same.
    Use :meth:`re.Pattern.search`, as Go's ``MatchString`` does.
    """
    head = "(?:^)" if name[:1] in ("*", "+", "?", "{") else "^"
    try:
        return re.compile(f"{head}{name}(@sha256)?(:[a-zA-Z0-9_.{{}}-]*)?$")
    except re.error:
        return None


def spellings(ref: images.ImageRef) -> list[str]:
    """The ways a manifest may write ``ref``'s repository (kustomize compares text)."""
    found = [ref.name, ref.repository]
    if ref.domain == images.DOCKER_HUB:
        short = ref.repository.removeprefix(f"{images.DOCKER_HUB}/")
        found += [short, short.removeprefix("library/"), f"{images.DOCKER_HUB}/" + short]
    return list(dict.fromkeys(found))


@dataclasses.dataclass(frozen=True)
class Entry:
    """One mapping of the ``images:`` list."""

    index: int
    node: nodes.MappingNode
    name: str
    ref: images.ImageRef | None
    """The effective repository (``newName`` or ``name``), parsed, without version;
    ``None`` for a pattern ``name`` without ``newName``."""
    new_name: nodes.ScalarNode | None
    new_tag: nodes.ScalarNode | None
    digest: nodes.ScalarNode | None
    pattern: re.Pattern[str] | None = None
    """kustomize's match for ``name`` when ``name`` is not an image reference."""

    @property
    def name_ref(self) -> images.ImageRef | None:
        """``name`` parsed, when it is a reference (not a pattern)."""
        return None if self.pattern is not None else images.parse(self.name, source="kustomization")

    def matches(self, update: images.ImageRef) -> bool:
        """Whether this entry decides the image ``update`` sets (see the module docstring)."""
        if self.ref is not None and update.same_repository(self.ref):
            return True
        name = self.name_ref
        if update.replaces is not None and name is not None:
            return name.same_repository(update.replaces)
        if self.ref is None and self.pattern is not None:
            return any(self.pattern.search(text) for text in spellings(update))
        return False

    def current_for(self, update: images.ImageRef) -> str:
        """The image this entry makes of ``update``'s repository today: what is deployed."""
        ref = self.ref
        if ref is None:
            ref = dataclasses.replace(update, replaces=None).with_version(tag=None, digest=None)
        tag = self.new_tag.value if self.new_tag is not None else None
        digest = self.digest.value if self.digest is not None else None
        return ref.with_version(tag=tag or None, digest=digest or None).text

    @property
    def current(self) -> str:
        """The image the entry produces, e.g. ``nginx:1.27`` (``name`` when it sets no version)."""
        assert self.ref is not None
        return self.current_for(self.ref)


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
        new_name = yamledit.scalar_text(yamledit.mapping_get(entry, "newName"))
        if not name:
            continue
        pattern = None if images.is_reference(name) else _pattern(name)
        if pattern is None and not images.is_reference(name):
            continue
        effective = new_name or name
        ref: images.ImageRef | None = None
        if images.is_reference(effective):
            ref = images.parse(effective, source="kustomization").with_version(
                tag=None, digest=None
            )
        elif new_name:
            continue
        found.append(
            Entry(
                index=index,
                node=entry,
                name=name,
                ref=ref,
                new_name=_scalar(yamledit.mapping_get(entry, "newName")),
                new_tag=_scalar(yamledit.mapping_get(entry, "newTag")),
                digest=_scalar(yamledit.mapping_get(entry, "digest")),
                pattern=pattern,
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
    changed = False
    result = entry.ref
    if update.replaces is not None and not (entry.ref and entry.ref.same_repository(update)):
        if entry.new_name is None:
            editor.add_pair(doc_index, path, entry.node, "newName", update.name, after="name")
            changed = True
        else:
            changed = editor.set_scalar(entry.new_name, update.name) or changed
        result = update
    if result is None:  # a pattern entry: the image keeps the spelling it has in the resources
        result = update
    wanted = {"newTag": update.tag, "digest": update.digest}
    present = {"newTag": entry.new_tag, "digest": entry.digest}
    gone = [key for key, value in wanted.items() if not value and present[key] is not None]
    new = [key for key, value in wanted.items() if value and present[key] is None]
    last = entry.node.value[-1][0] if entry.node.value else None
    last_key = last.value if isinstance(last, nodes.ScalarNode) else None
    if len(gone) == 1 and len(new) == 1 and gone[0] == last_key and not entry.node.flow_style:
        # ``newTag: v1`` as the entry's last line becomes ``digest: sha256:…`` where it
        # stands: deleting that line and appending after it would be two edits at one place.
        editor.replace_pair(doc_index, path, entry.node, gone[0], new[0], wanted[new[0]] or "")
        changed = True
        gone, new = [], []
    for key, value in wanted.items():
        node = present[key]
        if value:
            if node is None and key in new:
                editor.add_pair(doc_index, path, entry.node, key, value)
                changed = True
            elif node is not None:
                changed = editor.set_scalar(node, value) or changed
        elif node is not None and key in gone:
            editor.delete_pair(doc_index, path, entry.node, key)
            changed = True
    if not changed:
        return None
    return result.with_version(tag=update.tag, digest=update.digest).text


def add_entries(
    editor: yamledit.Editor,
    doc_index: int,
    doc: nodes.Node | None,
    wanted: list[tuple[str, images.ImageRef]],
) -> list[str]:
    """Append ``{name, newTag, digest}`` per ``(name, update)`` to ``images:`` in one edit.

    Returns the new images, in order.
    """
    items = []
    for name, update in wanted:
        pairs = [("name", name)]
        if update.replaces is not None:
            pairs.append(("newName", update.name))
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
        (update if update.replaces is not None else images.parse(name, source="kustomization"))
        .with_version(tag=update.tag, digest=update.digest)
        .text
        for name, update in wanted
    ]
