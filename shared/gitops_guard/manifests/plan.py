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

This module must not run git or talk to the network.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath

from yaml import nodes

from gitops_guard import errors, images
from gitops_guard.manifests import argocd, kustomize, models, tree, workloads, yamledit
from gitops_guard.manifests import helm as helm_values

__all__ = ["apply", "plan"]

_MAX_FOUND_LISTED = 30
_PRECEDENCE = {"argocd": 0, "kustomize": 1, "helm": 2, "workload": 3}
UNSAFE_HINT = (
    "The value could not be replaced without touching other text. "
    "Edit it by hand once (e.g. write it on one line), then run again."
)


def _line_in(message: str) -> int | None:
    """The ``line N`` a yamledit message names, for the FILE:LINE of the error."""
    match = re.search(r"\bline (\d+)", message)
    return int(match.group(1)) if match else None


def _repo_prefix(root: Path) -> str:
    """``root`` relative to the nearest folder above it holding ``.git`` (``""``: none)."""
    absolute = root.resolve()
    for parent in (absolute, *absolute.parents):
        if (parent / ".git").exists():
            rel = absolute.relative_to(parent).as_posix()
            return "" if rel == "." else rel
    return ""


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


def _needle(update: images.ImageRef) -> str:
    """Text every spelling of the repository contains: its last path component."""
    return update.path.rsplit("/", 1)[-1]


class _Planner:
    def __init__(
        self,
        root: Path,
        updates: list[images.ImageRef],
        scope: list[str],
        specs: list[helm_values.HelmSpec],
    ):
        self.root = root
        self.updates = updates
        self.scope = scope
        self.scope_set = frozenset(scope)
        self.specs = specs
        self.ws = tree.Workspace(root, self.scope_set)
        self.needles = {_needle(u) for u in updates} | {
            _needle(u.replaces) for u in updates if u.replaces is not None
        }
        self.editors: dict[str, yamledit.Editor] = {}
        self.changes: list[models.ImageChange] = []
        self.matched: set[int] = set()
        self.scope_paths: tuple[str, ...] = ()
        self.named_files: frozenset[str] = frozenset()
        """Files named one by one in ``paths`` (not found by walking a folder)."""
        self.helm_done: list[tuple[str, helm_values.Resolved, int]] = []
        """``(values file, resolved spec, update index)`` of each ``--helm`` spec that matched."""
        self.overrides_done: set[int] = set()
        """``id`` of each ArgoCD override node the plan edited (or found in place)."""
        self.application_paths: dict[int, set[str]] = {}
        """Per update, the source paths of Applications whose overrides were edited."""
        self.source_file_paths: dict[int, set[str]] = {}
        """Per update, the folders whose ``.argocd-source`` file overrides were edited."""
        self._reach: dict[str, set[str]] = {}
        self.repo_prefix = _repo_prefix(root)
        """Where the root lies in its git checkout (``""`` at the top, or outside any)."""

    # -- helpers -------------------------------------------------------------------
    def match(self, ref: images.ImageRef) -> tuple[int, images.ImageRef] | None:
        for index, update in enumerate(self.updates):
            if update.selects(ref):
                return index, update
        return None

    def match_entry(self, entry: kustomize.Entry) -> tuple[int, images.ImageRef] | None:
        for index, update in enumerate(self.updates):
            if entry.matches(update):
                return index, update
        return None

    def may_hold(self, rel: str) -> bool:
        src = self.ws.source(rel)
        if src is None or (rel.endswith(".json") and '"kind"' not in src.text):
            return False  # JSON that is not a Kubernetes object (package.json, dashboards)
        return any(needle in src.text for needle in self.needles)

    def editor(self, rel: str) -> yamledit.Editor:
        if rel not in self.editors:
            src = self.ws.source(rel)
            docs = self.ws.docs(rel)
            assert src is not None and docs is not None
            try:
                self.editors[rel] = yamledit.Editor(src.text, docs, source=rel)
            except yamledit.UnsafeEdit as exc:
                raise self.unsafe(rel, _line_in(str(exc)), exc) from exc
        return self.editors[rel]

    def _has_images(self, rel: str) -> bool:
        src = self.ws.source(rel)
        return src is not None and "images" in src.text

    def template(self, rel: str) -> bool:
        """Whether ``rel`` is a Helm chart template; notes it as skipped (never edited)."""
        chart = self.ws.chart_of_template(rel)
        if chart is None:
            return False
        self.ws.skipped[rel] = models.Skipped(
            rel,
            f"a Helm chart template (chart {chart}): never edited; "
            "set the image in the chart's values with --helm",
        )
        return True

    def record(
        self,
        rel: str,
        node: nodes.Node,
        kind: models.ChangeKind,
        old: str,
        new: str,
        target: str,
    ) -> None:
        self.changes.append(
            models.ImageChange(
                file=rel, line=yamledit.line_of(node), kind=kind, old=old, new=new, target=target
            )
        )

    def unsafe(self, rel: str, line: int | None, exc: yamledit.UnsafeEdit) -> errors.InputError:
        source = f"{rel}:{line}" if line else rel
        return errors.InputError(
            f"cannot edit safely: {exc}", source=source, hint=exc.hint or UNSAFE_HINT
        )

    def sites(self, rel: str) -> Iterator[tuple[workloads.ImageSite, images.ImageRef]]:
        docs = self.ws.docs(rel)
        for index, doc in enumerate(docs or ()):
            for site in workloads.find_sites(doc, index):
                if images.is_reference(site.value):
                    yield site, images.parse(site.value, source=rel)

    # -- the three kinds of target -------------------------------------------------
    def plan_workloads(self) -> None:
        for rel in self.scope:
            if kustomize.is_kustomization(rel.rsplit("/", 1)[-1]) or self.template(rel):
                continue
            if not self.may_hold(rel):
                src = self.ws.source(rel)
                if src is not None and "{{" in src.text:
                    self.ws.docs(rel)  # a template is reported as skipped, even without the image
                continue
            for site, ref in self.sites(rel):
                hit = self.match(ref)
                if hit is None:
                    continue
                self.matched.add(hit[0])
                new = images.updated(ref, hit[1]).text
                try:
                    edited = self.editor(rel).set_scalar(site.node, new)
                except yamledit.UnsafeEdit as exc:
                    raise self.unsafe(rel, yamledit.line_of(site.node), exc) from exc
                # A value shared through an alias is edited once but changes every user.
                if edited or self.editor(rel).is_set(site.node):
                    self.record(rel, site.node, "workload", site.value, new, site.target)

    def plan_kustomizations(self) -> None:
        for rel in self.scope:
            if not kustomize.is_kustomization(rel.rsplit("/", 1)[-1]):
                continue
            if not self.scope_paths and not self.may_hold(rel) and not self._has_images(rel):
                # Scanning the whole tree, every resource a kustomization can reach is
                # scanned too (and edited directly), so only a matching entry matters
                # (whose name may be a pattern that does not spell the image).
                continue
            self.ws.kustomization_in(PurePosixPath(rel).parent.as_posix())  # one per folder
            docs = self.ws.docs(rel)
            if not docs:
                continue
            doc_index = next(
                (i for i, d in enumerate(docs) if isinstance(d, nodes.MappingNode)), None
            )
            if doc_index is None:
                continue
            doc = docs[doc_index]
            covered: set[int] = set()
            for entry in kustomize.entries(doc):
                hit = self.match_entry(entry)
                if hit is None:
                    continue
                self.matched.add(hit[0])
                covered.add(hit[0])
                old = entry.current_for(hit[1])
                try:
                    new = kustomize.set_entry(self.editor(rel), doc_index, entry, hit[1])
                except yamledit.UnsafeEdit as exc:
                    raise self.unsafe(rel, yamledit.line_of(entry.node), exc) from exc
                if new is not None:
                    target = f"kustomization images[{entry.index}] {entry.name}"
                    self.record(rel, entry.node, "kustomize", old, new, target)
            wanted: list[tuple[str, str, images.ImageRef]] = []
            for index, update in enumerate(self.updates):
                if index not in covered:
                    wanted.extend(self._entries_to_add(rel, doc, index, update))
            if wanted:
                self._add_entries(rel, doc_index, doc, wanted)

    def _entries_to_add(
        self, rel: str, doc: nodes.Node | None, index: int, update: images.ImageRef
    ) -> list[tuple[str, str, images.ImageRef]]:
        """``(name, current image, update)`` for each entry ``rel`` needs for ``update``."""
        if not self.scope_paths:
            return []  # the whole tree is scanned: resources are edited where they are
        folder = PurePosixPath(rel).parent.as_posix()
        current: dict[str, str] = {}
        for name, text in self._outside_images(folder, doc, update, {rel}):
            current.setdefault(name, text)
        if not current and rel in self.named_files:
            # Naming a kustomization file in --path asks for the image there, even when
            # its resources are remote or do not show the image.
            name = (update.replaces or update).name
            current[name] = name
        if current:
            self.matched.add(index)
        return [(name, current[name], update) for name in sorted(current)]

    def _add_entries(
        self,
        rel: str,
        doc_index: int,
        doc: nodes.Node | None,
        wanted: list[tuple[str, str, images.ImageRef]],
    ) -> None:
        """Add every missing entry of one kustomization in one edit (several ``--image``)."""
        try:
            added = kustomize.add_entries(
                self.editor(rel), doc_index, doc, [(name, update) for name, _, update in wanted]
            )
        except yamledit.UnsafeEdit as exc:
            raise self.unsafe(rel, None, exc) from exc
        assert doc is not None
        for (name, old, _), new in zip(wanted, added, strict=True):
            self.changes.append(
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
        self, folder: str, doc: nodes.Node | None, update: images.ImageRef, seen: set[str]
    ) -> Iterator[tuple[str, str]]:
        """``(name, image)`` as written for ``update`` in resources outside the scope."""
        for reference in kustomize.references(doc):
            joined = os.path.normpath(os.path.join(folder, reference)).replace(os.sep, "/")
            if joined.startswith("../") or joined == ".." or os.path.isabs(joined):
                continue
            target = self.root / joined
            if target.is_dir():
                rel = self.ws.kustomization_in(joined)
                if rel is None or rel in seen or rel in self.scope_set:
                    continue
                seen.add(rel)
                sub_docs = self.ws.docs(rel) or []
                sub = next((d for d in sub_docs if isinstance(d, nodes.MappingNode)), None)
                entries = [e for e in kustomize.entries(sub) if e.matches(update)]
                if entries:
                    # The overlay's new entry renames what the base produces.
                    yield from (
                        (e.ref.name if e.ref else update.name, e.current_for(update))
                        for e in entries
                    )
                else:
                    yield from self._outside_images(joined, sub, update, seen)
            elif (
                target.is_file()
                and joined not in self.scope_set
                and joined not in seen
                and self.ws.chart_of_template(joined) is None
            ):
                seen.add(joined)
                if self.may_hold(joined):
                    for site, ref in self.sites(joined):
                        if update.selects(ref):
                            yield ref.name, site.value

    def plan_helm(self) -> None:
        for spec in self.specs:
            path = tree.inside(self.root, spec.file, source="--helm")
            if not path.is_file():
                raise errors.InputError(
                    f"{spec.file} does not exist (from --helm {spec.text})",
                    source="--helm",
                    hint="Give the values file relative to --dir.",
                )
            rel = path.relative_to(self.root).as_posix()
            chart = self.ws.chart_of_template(rel)
            if chart is not None:
                raise errors.InputError(
                    f"{rel} is a template of the Helm chart {chart}, not a values file "
                    f"(from --helm {spec.text}); templates are never edited",
                    source="--helm",
                    hint="Point --helm at the chart's values.yaml (or an override values file).",
                )
            docs = self.ws.docs(rel)
            if docs is None:
                reason = self.ws.skipped.get(rel)
                raise errors.InputError(
                    f"{rel} cannot be read as YAML: {reason.reason if reason else 'unreadable'}",
                    source=rel,
                    hint="--helm must name a plain YAML values file, not a template.",
                )
            resolved = helm_values.resolve(docs[0] if docs else None, spec)
            hit = self.match(resolved.ref)
            if hit is None:
                continue
            self.matched.add(hit[0])
            self.helm_done.append((rel, resolved, hit[0]))
            try:
                result = helm_values.set_values(self.editor(rel), resolved, hit[1])
            except yamledit.UnsafeEdit as exc:
                raise self.unsafe(rel, yamledit.line_of(resolved.repo), exc) from exc
            if result is not None:
                node = resolved.tag or resolved.digest or resolved.repo
                target = f"helm {'.'.join(spec.repo_key)}"
                self.record(rel, node, "helm", result[0], result[1], target)

    # -- ArgoCD Application overrides ------------------------------------------------
    def argocd_sources(self, rel: str) -> list[argocd.Source]:
        name = rel.rsplit("/", 1)[-1]
        source_file = tree.is_argocd_source(name)
        src = self.ws.source(rel)
        if src is None or (not source_file and "argoproj.io" not in src.text):
            return []
        if not self.may_hold(rel) and not self.helm_done:
            return []
        if self.ws.chart_of_template(rel) is not None:
            return []
        docs = self.ws.docs(rel)
        return argocd.sources(docs, rel, source_file, self.repo_prefix) if docs else []

    def reach(self, folder: str) -> set[str]:
        """``folder`` and every folder and file its kustomization reaches (``resources``, ...)."""
        if folder not in self._reach:
            found: set[str] = set()
            todo = [folder]
            while todo and len(found) < 1_000:
                current = todo.pop()
                if current in found:
                    continue
                found.add(current)
                rel = self.ws.kustomization_in(current)
                docs = self.ws.docs(rel) if rel else None
                doc = next((d for d in docs or () if isinstance(d, nodes.MappingNode)), None)
                for reference in kustomize.references(doc):
                    joined = os.path.normpath(os.path.join(current, reference)).replace(os.sep, "/")
                    if joined.startswith("../") or joined == ".." or os.path.isabs(joined):
                        continue
                    todo.append(joined)  # a folder, or a file (then it covers itself alone)
            self._reach[folder] = found
        return self._reach[folder]

    def covers(self, source: argocd.Source, rel: str) -> bool:
        """Whether ArgoCD renders ``rel`` for ``source`` (so its overrides apply to it)."""
        if rel in source.value_files:
            return True
        if source.path is None:
            return False
        return any(
            folder == "." or rel == folder or rel.startswith(folder + "/")
            for folder in self.reach(source.path)
        )

    def source_overrides(self, rel: str, source: argocd.Source) -> list[argocd.Override]:
        found = list(argocd.overrides(source))
        for values_file, resolved, _ in self.helm_done:
            if self.covers(source, values_file):
                spec = resolved.spec
                found += argocd.keyed_overrides(source, spec.tag_key, spec.digest_key, resolved.ref)
        return found

    def match_override(self, override: argocd.Override) -> tuple[int, images.ImageRef] | None:
        hit = self.match(override.ref)
        if hit is None and override.renamed_from and images.is_reference(override.renamed_from):
            hit = self.match(images.parse(override.renamed_from, source="Application"))
        return hit

    def plan_argocd(self) -> None:
        for rel in self.scope:
            for source in self.argocd_sources(rel):
                for override in self.source_overrides(rel, source):
                    hit = self.match_override(override)
                    if hit is None or id(override.node) in self.overrides_done:
                        continue
                    self.matched.add(hit[0])
                    self.overrides_done.add(id(override.node))
                    if source.path is not None:
                        by_file = tree.is_argocd_source(source.where)
                        paths = self.source_file_paths if by_file else self.application_paths
                        paths.setdefault(hit[0], set()).add(source.path)
                    line = override.line
                    try:
                        result = argocd.set_override(self.editor(rel), override, hit[1])
                    except yamledit.UnsafeEdit as exc:
                        raise self.unsafe(rel, line, exc) from exc
                    if result is not None:
                        target = f"{source.where} {override.field}"
                        self.record(rel, override.tag or override.node, "argocd", *result, target)

    def application_files(self) -> list[str]:
        """Every file that may hold an Application: the scope, and with ``--path`` the rest."""
        files = list(self.scope)
        if self.scope_paths:
            files += [rel for rel in tree.discover(self.root, ()) if rel not in self.scope_set]
        return files

    def check_shadows(self) -> None:
        """Refuse edits that an override ArgoCD applies over them would hide."""
        edited: dict[int, set[str]] = {}
        for change in self.changes:
            if change.kind == "argocd" or not images.is_reference(change.new):
                continue
            hit = self.match(images.parse(change.new, source=change.file))
            if hit is not None:
                edited.setdefault(hit[0], set()).add(change.file)
        if not edited and not self.application_paths:
            return
        for rel in self.application_files():
            for source in self.argocd_sources(rel):
                self._check_source(rel, source, edited)

    def _check_source(self, rel: str, source: argocd.Source, edited: dict[int, set[str]]) -> None:
        source_file = tree.is_argocd_source(source.where)
        for override in self.source_overrides(rel, source):
            hit = self.match_override(override)
            if hit is None or id(override.node) in self.overrides_done:
                continue
            if override.sets(hit[1]):
                continue  # it already pins what the edit sets: nothing is hidden
            if not source_file and source.path in self.source_file_paths.get(hit[0], ()):
                continue  # the edited .argocd-source file there applies over this override
            hidden = sorted(f for f in edited.get(hit[0], ()) if self.covers(source, f))
            if source_file and source.path in self.application_paths.get(hit[0], ()):
                hidden.append(f"the Application's own overrides for {source.path}")
            if hidden:
                raise self.shadowed(
                    rel,
                    override.line,
                    f"{source.where} {override.field}",
                    override.ref.text,
                    hidden[0],
                )
        for index, files in edited.items():
            pin = argocd.text_pins(
                source, self.updates[index], kustomize.spellings(self.updates[index])
            )
            hidden = sorted(f for f in files if self.covers(source, f))
            if pin is not None and hidden:
                raise self.shadowed(
                    rel,
                    yamledit.line_of(pin),
                    f"{source.where} helm.values (a string, never edited)",
                    self.updates[index].name,
                    hidden[0],
                )

    def shadowed(
        self, rel: str, line: int, where: str, image: str, hidden: str
    ) -> errors.InputError:
        return errors.InputError(
            f"{where} sets {image}, and ArgoCD applies it over {hidden}: "
            "the edit would not change what runs",
            source=f"{rel}:{line}",
            hint="Include that file in --path so its override is edited too, "
            "or remove the override from the Application.",
        )

    # -- results ---------------------------------------------------------------------
    def found_names(self) -> list[str]:
        """Every image name found in the scope, for the "matched nothing" message."""
        found: set[str] = set()
        for rel in self.scope:
            if kustomize.is_kustomization(rel.rsplit("/", 1)[-1]):
                docs = self.ws.docs(rel) or []
                for doc in docs:
                    found.update(e.ref.name if e.ref else e.name for e in kustomize.entries(doc))
            elif self.ws.chart_of_template(rel) is None:
                found.update(ref.name for _, ref in self.sites(rel))
        for spec in self.specs:
            with contextlib.suppress(errors.InputError):
                docs = self.ws.docs(spec.file) or [None]
                found.add(helm_values.resolve(docs[0], spec).ref.name)
        return sorted(found)

    def check_matched(self) -> None:
        missing = [u for i, u in enumerate(self.updates) if i not in self.matched]
        if not missing:
            return
        found = self.found_names()
        listed = ", ".join(found[:_MAX_FOUND_LISTED]) + (
            " ..." if len(found) > _MAX_FOUND_LISTED else ""
        )
        names = ", ".join(u.text for u in missing)
        where = ", ".join(self.scope_paths) if self.scope_paths else "the repository"
        skipped = sorted(self.ws.skipped)
        unread = f"; not read (see skipped): {', '.join(skipped[:5])}" if skipped else ""
        unread += " ..." if len(skipped) > 5 else ""
        raise errors.InputError(
            f"{names} matches no image in {where}; images found: {listed or 'none'}{unread}",
            source="--image",
            hint=(
                "Check the repository part of --image (registry and path), --path, and "
                "--helm for values files; tags and digests do not matter for matching."
            ),
        )

    def result(self) -> models.EditPlan:
        edits = []
        for rel in sorted(self.editors):
            editor = self.editors[rel]
            if editor.empty:
                continue
            try:
                new_text = editor.render()
            except yamledit.UnsafeEdit as exc:
                raise self.unsafe(rel, None, exc) from exc
            src = self.ws.source(rel)
            assert src is not None
            after = src.encode(new_text)
            if after != src.raw:
                edits.append(models.FileEdit(path=rel, before=src.raw, after=after))
        skipped = tuple(self.ws.skipped[k] for k in sorted(self.ws.skipped))
        # Images in the order they first appear (file, line); for one image, what
        # overrides comes first: the first versioned ``old`` of an image is its previous
        # image in the trailers, and an override's ``old`` is what was deployed.
        ordered = sorted(self.changes, key=lambda c: (c.file, c.line, c.target))
        first: dict[str, int] = {}
        for position, change in enumerate(ordered):
            first.setdefault(change.new, position)
        changes = tuple(sorted(ordered, key=lambda c: (first[c.new], _PRECEDENCE[c.kind])))
        return models.EditPlan(edits=tuple(edits), skipped=skipped, changes=changes)


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
    planner = _Planner(root, updates, tree.discover(root, paths), specs)
    planner.scope_paths = tuple(paths)
    planner.named_files = frozenset(
        rel
        for rel in (PurePosixPath(p.replace("\\", "/")).as_posix() for p in paths)
        if rel in planner.scope_set
    )
    planner.plan_workloads()
    planner.plan_kustomizations()
    planner.plan_helm()
    planner.plan_argocd()
    planner.check_matched()
    planner.check_shadows()
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
