"""The state of one plan and the targets planned on it: workloads and Helm values.

:class:`Planner` holds what :func:`plan.plan` has read, matched and edited so
far, and the helpers every target uses (matching an image, an editor per file,
recording a change). Workload containers and Helm values are planned here;
kustomizations in :mod:`plan_kustomize`, ArgoCD Application overrides in
:mod:`plan_argocd`. :meth:`Planner.result` is the finished plan.

This module must not write files, run git or talk to the network.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

from yaml import nodes

from gitops_guard import errors, images
from gitops_guard.manifests import helm as helm_values
from gitops_guard.manifests import kustomize, models, tree, workloads, yamledit

__all__ = ["UNSAFE_HINT", "Planner"]

MAX_FOUND_LISTED = 30
PRECEDENCE = {"argocd": 0, "kustomize": 1, "helm": 2, "workload": 3}
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


def _needle(update: images.ImageRef) -> str:
    """Text every spelling of the repository contains: its last path component."""
    return update.path.rsplit("/", 1)[-1]


class Planner:
    """One plan in the making: the tree read so far, each file's editor, the changes."""

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
        self.reached: dict[str, set[str]] = {}
        """Per folder, the files and folders its kustomizations reach (a cache)."""
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

    def has_images(self, rel: str) -> bool:
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

    # -- targets planned here (kustomize: plan_kustomize, ArgoCD: plan_argocd) --------
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
        listed = ", ".join(found[:MAX_FOUND_LISTED]) + (
            " ..." if len(found) > MAX_FOUND_LISTED else ""
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
        changes = tuple(sorted(ordered, key=lambda c: (first[c.new], PRECEDENCE[c.kind])))
        return models.EditPlan(edits=tuple(edits), skipped=skipped, changes=changes)
