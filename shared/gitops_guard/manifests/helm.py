"""Helm values files at key paths the user names: ``FILE:REPO_KEY[:TAG_KEY[:DIGEST_KEY]]``.

- ``values.yaml:image`` — one key holds a whole reference (``repo:tag@digest``);
  it is edited as a container image is.
- ``values.yaml:image.repository:image.tag`` — the repository key selects the
  image (it is written only by a rename, ``OLD=NEW:tag``); the tag key receives
  the new tag.
- ``values.yaml:image.repository:image.tag:image.digest`` — as above, and the
  digest key receives the digest. A tag-only update empties the digest key
  (``""``); a digest-only update sets the digest and leaves the tag alone,
  because charts that read a digest give it precedence.

Key paths are dot-separated mapping keys; an all-digit part indexes a list
(``images.0.tag``). The first document of the file is used.

Merge keys: a key reached through ``<<: *anchor`` (Helm's YAML reader resolves
merges) is edited in the anchored mapping, where it is written, when exactly one
merged mapping supplies it; every mapping that merges the anchor changes with it,
as the file's author chose by sharing it. Several suppliers are refused with the
lines of each (which one to edit is the author's choice). A literal dotted key
(``image.tag: v0``) is one key to Helm, not a path: the message says so.

This module must not read files.
"""

from __future__ import annotations

import dataclasses

from yaml import nodes

from gitops_guard import errors, images
from gitops_guard.manifests import yamledit

__all__ = ["HelmSpec", "Resolved", "parse_spec", "resolve"]

SPEC_HINT = (
    "Write --helm as FILE:REPO_KEY[:TAG_KEY[:DIGEST_KEY]], e.g. "
    "values.yaml:image.repository:image.tag, "
    "or values.yaml:image for a key that holds a full reference."
)


@dataclasses.dataclass(frozen=True)
class HelmSpec:
    """One ``--helm`` value, parsed."""

    text: str
    file: str
    repo_key: tuple[str, ...]
    tag_key: tuple[str, ...] | None
    digest_key: tuple[str, ...] | None


def _key_path(text: str, spec: str) -> tuple[str, ...]:
    parts = tuple(text.split("."))
    if not text or any(not part for part in parts):
        raise errors.InputError(
            f"{spec!r} has an empty key path part in {text!r}", source="--helm", hint=SPEC_HINT
        )
    return parts


def parse_spec(spec: str) -> HelmSpec:
    """Parse ``FILE:REPO_KEY[:TAG_KEY[:DIGEST_KEY]]``; raises :class:`errors.InputError`."""
    parts = spec.strip().split(":")
    if len(parts) < 2 or len(parts) > 4 or not parts[0]:
        raise errors.InputError(
            f"{spec!r} is not a Helm values spec", source="--helm", hint=SPEC_HINT
        )
    keys = [_key_path(part, spec) for part in parts[1:]]
    return HelmSpec(
        text=spec.strip(),
        file=parts[0],
        repo_key=keys[0],
        tag_key=keys[1] if len(keys) > 1 else None,
        digest_key=keys[2] if len(keys) > 2 else None,
    )


@dataclasses.dataclass(frozen=True)
class _Found:
    node: nodes.Node | None
    merged_from: nodes.Node | None = None
    """The anchored mapping that supplied the last merged part, if any."""
    problem: str | None = None
    """Why the key cannot be used (several merged suppliers, a literal dotted key)."""
    problem_line: int | None = None


def _anchor_text(node: nodes.Node) -> str:
    return f"the mapping at line {yamledit.line_of(node)}"


def _lookup(doc: nodes.Node | None, path: tuple[str, ...]) -> _Found:
    node = doc
    merged_from: nodes.Node | None = None
    for index, part in enumerate(path):
        parent = node
        if isinstance(node, nodes.SequenceNode) and part.isdigit():
            node = yamledit.item(node, int(part))
            continue
        node, suppliers = yamledit.merged_get(node, part)
        if len(suppliers) > 1:
            listed = ", ".join(_anchor_text(s) for s in suppliers)
            return _Found(
                None,
                problem=f"{'.'.join(path[: index + 1])} is merged in from several mappings "
                f"({listed}); say which one to edit by naming it in the spec, "
                "or write the key out in place",
                problem_line=yamledit.line_of(suppliers[0]),
            )
        if suppliers:
            merged_from = suppliers[0]
        if node is None:
            rest = ".".join(path[index:])
            literal = next(
                (
                    k
                    for k, _ in (parent.value if isinstance(parent, nodes.MappingNode) else [])
                    if isinstance(k, nodes.ScalarNode)
                    and "." in str(k.value)
                    and rest.startswith(str(k.value))
                ),
                None,
            )
            if literal is not None:
                return _Found(
                    None,
                    problem=f"it has a literal key {literal.value!r} at line "
                    f"{yamledit.line_of(literal)}: Helm reads that as one key named "
                    f"{literal.value!r}, not as a path",
                    problem_line=yamledit.line_of(literal),
                )
            return _Found(None)
    return _Found(node, merged_from)


@dataclasses.dataclass(frozen=True)
class Resolved:
    """The nodes a spec names in one values document."""

    spec: HelmSpec
    repo: nodes.ScalarNode
    ref: images.ImageRef
    """The image the values compose today (repository as written, tag, digest)."""
    tag: nodes.ScalarNode | None
    digest: nodes.ScalarNode | None


def _scalar_at(doc: nodes.Node | None, spec: HelmSpec, key: tuple[str, ...]) -> nodes.ScalarNode:
    found = _lookup(doc, key)
    node = found.node
    dotted = ".".join(key)
    if node is None:
        source = f"{spec.file}:{found.problem_line}" if found.problem_line else spec.file
        why = f"; {found.problem}" if found.problem else ""
        raise errors.InputError(
            f"{spec.file} has no key {dotted} (from --helm {spec.text}){why}",
            source=source,
            hint=f'Add the key (e.g. {key[-1]}: "") or correct the key path in --helm.',
        )
    if not isinstance(node, nodes.ScalarNode):
        raise errors.InputError(
            f"{spec.file}:{yamledit.line_of(node)}: {dotted} is not a single value",
            source=f"{spec.file}:{yamledit.line_of(node)}",
            hint="Point --helm at the key that holds the repository, tag or digest text.",
        )
    return node


def resolve(doc: nodes.Node | None, spec: HelmSpec) -> Resolved:
    """Find the nodes ``spec`` names; raises :class:`errors.InputError` when absent or wrong."""
    repo = _scalar_at(doc, spec, spec.repo_key)
    source = f"{spec.file}:{yamledit.line_of(repo)}"
    try:
        ref = images.parse(str(repo.value), source=source)
    except errors.InputError as exc:
        raise errors.InputError(
            f"{'.'.join(spec.repo_key)} holds {repo.value!r}, which is not an image reference",
            source=source,
            hint="Point --helm at the key that holds the image repository.",
        ) from exc
    tag = _scalar_at(doc, spec, spec.tag_key) if spec.tag_key else None
    digest = _scalar_at(doc, spec, spec.digest_key) if spec.digest_key else None
    if tag is not None or digest is not None:
        if ref.tag or ref.digest:
            raise errors.InputError(
                f"{'.'.join(spec.repo_key)} holds a full reference {repo.value!r} "
                "but --helm also names a tag key",
                source=source,
                hint="Use FILE:KEY alone for a key that holds a full reference.",
            )
        ref = ref.with_version(
            tag=str(tag.value) if tag is not None and tag.value else None,
            digest=str(digest.value) if digest is not None and digest.value else None,
        )
    return Resolved(spec=spec, repo=repo, ref=ref, tag=tag, digest=digest)


def set_values(
    editor: yamledit.Editor, resolved: Resolved, update: images.ImageRef
) -> tuple[str, str] | None:
    """Write the update; returns ``(old, new)`` image text, or ``None`` when already in place."""
    spec = resolved.spec
    old = resolved.ref
    if spec.tag_key is None and spec.digest_key is None:
        new = images.updated(old, update)
        return (old.text, new.text) if editor.set_scalar(resolved.repo, new.text) else None
    if update.digest and resolved.digest is None:
        raise errors.InputError(
            f"--helm {spec.text} names no digest key, so {update.text} cannot be written",
            source="--helm",
            hint="Add the digest key: FILE:REPO_KEY:TAG_KEY:DIGEST_KEY, or pass a tag only.",
        )
    if not update.tag and resolved.tag is None and resolved.digest is None:
        raise errors.InputError(f"--helm {spec.text} names no tag key", source="--helm")
    changed = False
    base = old
    if update.replaces is not None and not old.same_repository(update):
        # A rename (OLD=NEW:tag) writes the repository key too.
        changed = editor.set_scalar(resolved.repo, update.name)
        base = update
    tag = old.tag
    if update.tag:
        if resolved.tag is None:
            raise errors.InputError(
                f"--helm {spec.text} names no tag key, so the tag of {update.text} "
                "cannot be written",
                source="--helm",
                hint=SPEC_HINT,
            )
        changed = editor.set_scalar(resolved.tag, update.tag) or changed
        tag = update.tag
    if resolved.digest is not None:
        changed = editor.set_scalar(resolved.digest, update.digest or "") or changed
    if not changed:
        return None
    new = base.with_version(tag=tag, digest=update.digest)
    return old.text, new.text
