"""ArgoCD Application overrides: images an Application sets over what its source renders.

An ``argoproj.io`` ``Application`` applies these over the manifests of each of its
sources (``spec.source``, or each of ``spec.sources``; shapes as in ArgoCD's
``v1alpha1ApplicationSource``):

- ``kustomize.images``: strings in kustomize's form ``[OLD=]NEW[:tag][@digest]``;
- ``helm.parameters``: ``{name, value}`` items. A parameter whose value is a full
  image reference (with a tag or digest), or a group of a repository parameter
  (``P.repository``, ``P.name``, ``P.image``, ``P.repo``, with a value that is an
  image reference without version) and ``P.tag`` (and ``P.digest``), as
  argocd-image-updater writes them (``image.name`` + ``image.tag``);
- ``helm.valuesObject``: values. A scalar that is a full image reference, or a
  mapping with a repository key (``repository``, ``image``, ``name``, ``repo``)
  beside ``tag`` (and ``digest``);
- ``helm.values``: a string of YAML. It is searched for the image, never edited.

``.argocd-source.yaml`` and ``.argocd-source-<app>.yaml`` files hold the same
``kustomize``/``helm`` keys for the Application whose source path is their folder
(argocd-image-updater's git write-back target); ArgoCD applies them over the
Application's own overrides.

Each :class:`Override` knows the image it sets today; :func:`set_override`
moves it to an update. Which overrides are edited, and which ones shadow an edit
elsewhere, is the plan's decision. This module must not read files.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Iterator, Sequence
from typing import Literal

from yaml import nodes

from gitops_guard import errors, images
from gitops_guard.manifests import yamledit

__all__ = [
    "Override",
    "Source",
    "keyed_overrides",
    "overrides",
    "set_override",
    "sources",
    "text_pins",
]

_REPOSITORY_KEYS = ("repository", "image", "name", "repo")
OverrideKind = Literal["kustomize", "full", "split"]


@dataclasses.dataclass(frozen=True)
class Source:
    """One ApplicationSource (or ``.argocd-source`` file) and the folders it covers."""

    doc: int
    node: nodes.MappingNode
    path: str | None
    """The source's folder relative to the repository root (``None``: none here)."""
    value_files: tuple[str, ...]
    """Values files of this repository the source reads (``$ref/...`` of multi-source)."""
    where: str
    """E.g. ``Application/web spec.source`` or ``.argocd-source-web.yaml``."""


@dataclasses.dataclass(frozen=True)
class Override:
    """One place in a source that sets an image."""

    source: Source
    field: str
    """E.g. ``kustomize.images[0]``, ``helm.parameters image.tag``."""
    kind: OverrideKind
    node: nodes.ScalarNode
    """The scalar edited for ``kustomize`` and ``full``; the repository for ``split``."""
    ref: images.ImageRef
    """The image the override sets today."""
    renamed_from: str | None = None
    """``OLD`` of a kustomize ``OLD=NEW`` override."""
    tag: nodes.ScalarNode | None = None
    digest: nodes.ScalarNode | None = None

    @property
    def line(self) -> int:
        """The line of the value that pins the version (the tag, for a split override)."""
        return yamledit.line_of(self.tag or self.digest or self.node)

    def sets(self, update: images.ImageRef) -> bool:
        """Whether the override already sets what ``update`` would make of it."""
        if update.replaces is not None and not self.ref.same_repository(update):
            return False
        if self.kind == "split":
            wanted = self.ref.with_version(
                tag=update.tag or self.ref.tag,
                digest=update.digest if self.digest is not None else self.ref.digest,
            )
        else:
            wanted = images.updated(self.ref, update)
        return wanted.text == self.ref.text


def _is_application(doc: nodes.Node | None) -> bool:
    kind = yamledit.scalar_text(yamledit.mapping_get(doc, "kind"))
    api = yamledit.scalar_text(yamledit.mapping_get(doc, "apiVersion")) or ""
    return kind == "Application" and api.startswith("argoproj.io/")


def _clean(path: str) -> str:
    joined = posixpath.normpath(path.strip().lstrip("/")) if path.strip() else "."
    return "." if joined in ("", ".") else joined


def _under(path: str, prefix: str) -> str | None:
    """A repository path as a path under the scanned root ``prefix`` (``None``: outside it)."""
    if not prefix:
        return path
    if path == prefix:
        return "."
    return path[len(prefix) + 1 :] if path.startswith(prefix + "/") else None


def sources(
    docs: Sequence[nodes.Node | None], rel: str, source_file: bool, prefix: str = ""
) -> list[Source]:
    """Every ApplicationSource of a file (``source_file``: it is an ``.argocd-source`` file).

    ``prefix`` is where the scanned root lies in the repository (``""``: at its top):
    an Application's paths are repository paths, and are returned relative to the root.
    """
    found: list[Source] = []
    if source_file:
        doc = docs[0] if docs else None
        if isinstance(doc, nodes.MappingNode):
            folder = posixpath.dirname(rel) or "."
            found.append(Source(0, doc, folder, (), rel.rsplit("/", 1)[-1]))
        return found
    for index, doc in enumerate(docs):
        if not _is_application(doc):
            continue
        name = yamledit.scalar_text(
            yamledit.mapping_get(yamledit.mapping_get(doc, "metadata"), "name")
        )
        owner = f"Application/{name}" if name else "Application"
        spec = yamledit.mapping_get(doc, "spec")
        listed: list[tuple[nodes.Node, str]] = []
        single = yamledit.mapping_get(spec, "source")
        if single is not None:
            listed.append((single, "spec.source"))
        many = yamledit.mapping_get(spec, "sources")
        if isinstance(many, nodes.SequenceNode):
            listed += [(node, f"spec.sources[{i}]") for i, node in enumerate(many.value)]
        refs = {
            yamledit.scalar_text(yamledit.mapping_get(node, "ref")): node
            for node, _ in listed
            if yamledit.scalar_text(yamledit.mapping_get(node, "ref"))
        }
        for node, label in listed:
            if not isinstance(node, nodes.MappingNode):
                continue
            path = yamledit.scalar_text(yamledit.mapping_get(node, "path"))
            here = _under(_clean(path), prefix) if path is not None else None
            files = (_under(f, prefix) for f in _value_files(node, refs))
            found.append(
                Source(
                    index,
                    node,
                    here,
                    tuple(f for f in files if f is not None),
                    f"{owner} {label}",
                )
            )
    return found


def _value_files(node: nodes.Node, refs: dict[str | None, nodes.Node]) -> Iterator[str]:
    """``$ref/path`` values files: the part after ``$ref/`` is a path in this repository."""
    listing = yamledit.mapping_get(yamledit.mapping_get(node, "helm"), "valueFiles")
    if not isinstance(listing, nodes.SequenceNode):
        return
    for item in listing.value:
        text = yamledit.scalar_text(item) or ""
        ref, slash, rest = text.partition("/")
        if text.startswith("$") and slash and ref[1:] in refs:
            yield _clean(rest)


def _ref(text: str | None) -> images.ImageRef | None:
    if not text or not images.is_reference(text):
        return None
    return images.parse(text, source="Application")


def overrides(source: Source) -> Iterator[Override]:
    """Every image override of one source."""
    kustomize = yamledit.mapping_get(source.node, "kustomize")
    listing = yamledit.mapping_get(kustomize, "images")
    if isinstance(listing, nodes.SequenceNode):
        for i, item in enumerate(listing.value):
            text = yamledit.scalar_text(item)
            if text is None or not isinstance(item, nodes.ScalarNode):
                continue
            old, equals, new = text.partition("=")
            ref = _ref(new if equals else text)
            if ref is not None:
                yield Override(
                    source,
                    f"kustomize.images[{i}]",
                    "kustomize",
                    item,
                    ref,
                    old if equals else None,
                )
    helm = yamledit.mapping_get(source.node, "helm")
    yield from _parameter_overrides(source, yamledit.mapping_get(helm, "parameters"))
    values = yamledit.mapping_get(helm, "valuesObject")
    if values is not None:
        yield from _values_overrides(source, values)


def _parameter_overrides(source: Source, listing: nodes.Node | None) -> Iterator[Override]:
    params = _parameters(listing)
    for name, value in params.items():
        ref = _ref(yamledit.scalar_text(value))
        if ref is None:
            continue
        field = f"helm.parameters {name}"
        if ref.tag or ref.digest:
            yield Override(source, field, "full", value, ref)
            continue
        prefix, dot, last = name.rpartition(".")
        if last not in _REPOSITORY_KEYS:
            continue
        lead = prefix + dot
        tag, digest = params.get(f"{lead}tag"), params.get(f"{lead}digest")
        if tag is None and digest is None:
            continue  # the repository alone: the version comes from the chart's values
        yield _split(source, f"helm.parameters {lead}tag", value, ref, tag, digest)


def _split(
    source: Source,
    field: str,
    repo: nodes.ScalarNode,
    ref: images.ImageRef,
    tag: nodes.ScalarNode | None,
    digest: nodes.ScalarNode | None,
) -> Override:
    version = ref.with_version(
        tag=str(tag.value) if tag is not None and tag.value else None,
        digest=str(digest.value) if digest is not None and digest.value else None,
    )
    return Override(source, field, "split", repo, version, tag=tag, digest=digest)


def _values_overrides(source: Source, root: nodes.Node) -> Iterator[Override]:
    stack: list[tuple[nodes.Node, str]] = [(root, "")]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, nodes.SequenceNode):
            stack += [(child, f"{path}{i}.") for i, child in enumerate(node.value)]
            continue
        if not isinstance(node, nodes.MappingNode):
            continue
        for key, value in node.value:
            name = str(key.value) if isinstance(key, nodes.ScalarNode) else "?"
            if isinstance(value, nodes.ScalarNode):
                ref = _ref(yamledit.scalar_text(value))
                field = f"helm.valuesObject {path}{name}"
                if ref is not None and (ref.tag or ref.digest):
                    yield Override(source, field, "full", value, ref)
                elif ref is not None and name in _REPOSITORY_KEYS:
                    tag = yamledit.mapping_get(node, "tag")
                    digest = yamledit.mapping_get(node, "digest")
                    tag_node = tag if isinstance(tag, nodes.ScalarNode) else None
                    digest_node = digest if isinstance(digest, nodes.ScalarNode) else None
                    if tag_node is not None or digest_node is not None:
                        field = f"helm.valuesObject {path}tag"
                        yield _split(source, field, value, ref, tag_node, digest_node)
            else:
                stack.append((value, f"{path}{name}."))


def text_pins(
    source: Source, update: images.ImageRef, spellings: Sequence[str]
) -> nodes.Node | None:
    """The ``helm.values`` string when it names ``update``'s repository (never edited)."""
    values = yamledit.mapping_get(yamledit.mapping_get(source.node, "helm"), "values")
    text = yamledit.scalar_text(values)
    if text is None or values is None:
        return None
    return values if any(spelling in text for spelling in spellings) else None


def set_override(
    editor: yamledit.Editor, override: Override, update: images.ImageRef
) -> tuple[str, str] | None:
    """Move ``override`` to ``update``; returns ``(old, new)`` image text, ``None`` if in place."""
    old = override.ref
    if override.kind == "kustomize":
        new = images.updated(old, update)
        text = new.text
        if override.renamed_from is not None:
            text = f"{override.renamed_from}={new.text}"
        elif update.replaces is not None and not old.same_repository(update):
            text = f"{old.name}={new.text}"  # as ArgoCD writes a kustomize rename
        return (old.text, new.text) if editor.set_scalar(override.node, text) else None
    if override.kind == "full":
        new = images.updated(old, update)
        return (old.text, new.text) if editor.set_scalar(override.node, new.text) else None
    if update.replaces is not None and not old.same_repository(update):
        raise errors.InputError(
            f"{override.source.where} {override.field}: a rename would change the "
            "repository value, which is not edited",
            source=editor.source,
            hint="Set the new repository in the Application by hand once, then update tags.",
        )
    if update.digest and override.digest is None:
        raise errors.InputError(
            f"{override.source.where} {override.field} has no digest beside the tag, "
            f"so {update.text} cannot be written there",
            source=f"{editor.source}:{yamledit.line_of(override.node)}",
            hint="Add the digest key (or parameter) beside the tag, or pass a tag only.",
        )
    changed = False
    tag = old.tag
    if update.tag:
        if override.tag is None:
            raise errors.InputError(
                f"{override.source.where} {override.field} has no tag to set",
                source=f"{editor.source}:{yamledit.line_of(override.node)}",
            )
        changed = editor.set_scalar(override.tag, update.tag) or changed
        tag = update.tag
    if override.digest is not None:
        changed = editor.set_scalar(override.digest, update.digest or "") or changed
    if not changed:
        return None
    return old.text, old.with_version(tag=tag, digest=update.digest).text


def keyed_overrides(
    source: Source,
    tag_key: tuple[str, ...] | None,
    digest_key: tuple[str, ...] | None,
    ref: images.ImageRef,
) -> Iterator[Override]:
    """Overrides of the values keys a ``--helm`` spec names (``ref``: what the values set).

    A ``helm.parameters`` item named like the key (``image.tag``), or the same key
    path in ``helm.valuesObject``, replaces that value whatever the values file says.
    """
    helm = yamledit.mapping_get(source.node, "helm")
    params = _parameters(yamledit.mapping_get(helm, "parameters"))
    values = yamledit.mapping_get(helm, "valuesObject")
    found: list[tuple[str, nodes.ScalarNode | None, nodes.ScalarNode | None]] = [
        (
            "helm.parameters",
            params.get(".".join(tag_key)) if tag_key else None,
            params.get(".".join(digest_key)) if digest_key else None,
        ),
        (
            "helm.valuesObject",
            _scalar_path(values, tag_key) if tag_key else None,
            _scalar_path(values, digest_key) if digest_key else None,
        ),
    ]
    for label, tag, digest in found:
        key = tag_key if tag is not None else digest_key
        node = tag if tag is not None else digest
        if node is None or key is None:
            continue
        yield _split(source, f"{label} {'.'.join(key)}", node, ref, tag, digest)


def _parameters(listing: nodes.Node | None) -> dict[str, nodes.ScalarNode]:
    """``helm.parameters`` as ``{name: value node}``."""
    params: dict[str, nodes.ScalarNode] = {}
    if isinstance(listing, nodes.SequenceNode):
        for item in listing.value:
            name = yamledit.scalar_text(yamledit.mapping_get(item, "name"))
            value = yamledit.mapping_get(item, "value")
            if name and isinstance(value, nodes.ScalarNode):
                params[name] = value
    return params


def _scalar_path(node: nodes.Node | None, key: tuple[str, ...]) -> nodes.ScalarNode | None:
    for part in key:
        if isinstance(node, nodes.SequenceNode) and part.isdigit():
            node = yamledit.item(node, int(part))
        else:
            node = yamledit.mapping_get(node, part)
    return node if isinstance(node, nodes.ScalarNode) else None
