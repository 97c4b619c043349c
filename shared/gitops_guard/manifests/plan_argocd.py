"""Planning ArgoCD Application overrides, and refusing overrides that would hide an edit.

:func:`plan_argocd` sets the matching image overrides of Applications (and their
``.argocd-source`` files) whose sources the scanned paths cover;
:func:`check_shadows` refuses a plan whose edit an unedited override would hide
from what ArgoCD deploys.

This module must not write files, run git or talk to the network.
"""

from __future__ import annotations

import os

from yaml import nodes

from gitops_guard import errors, images
from gitops_guard.manifests import argocd, kustomize, tree, yamledit
from gitops_guard.manifests.planner import Planner

__all__ = ["check_shadows", "plan_argocd"]


def argocd_sources(planner: Planner, rel: str) -> list[argocd.Source]:
    name = rel.rsplit("/", 1)[-1]
    source_file = tree.is_argocd_source(name)
    src = planner.ws.source(rel)
    if src is None or (not source_file and "argoproj.io" not in src.text):
        return []
    if not planner.may_hold(rel) and not planner.helm_done:
        return []
    if planner.ws.chart_of_template(rel) is not None:
        return []
    docs = planner.ws.docs(rel)
    return argocd.sources(docs, rel, source_file, planner.repo_prefix) if docs else []


def reach(planner: Planner, folder: str) -> set[str]:
    """``folder`` and every folder and file its kustomization reaches (``resources``, ...)."""
    if folder not in planner.reached:
        found: set[str] = set()
        todo = [folder]
        while todo and len(found) < 1_000:
            current = todo.pop()
            if current in found:
                continue
            found.add(current)
            rel = planner.ws.kustomization_in(current)
            docs = planner.ws.docs(rel) if rel else None
            doc = next((d for d in docs or () if isinstance(d, nodes.MappingNode)), None)
            for reference in kustomize.references(doc):
                joined = os.path.normpath(os.path.join(current, reference)).replace(os.sep, "/")
                if joined.startswith("../") or joined == ".." or os.path.isabs(joined):
                    continue
                todo.append(joined)  # a folder, or a file (then it covers itself alone)
        planner.reached[folder] = found
    return planner.reached[folder]


def covers(planner: Planner, source: argocd.Source, rel: str) -> bool:
    """Whether ArgoCD renders ``rel`` for ``source`` (so its overrides apply to it)."""
    if rel in source.value_files:
        return True
    if source.path is None:
        return False
    return any(
        folder == "." or rel == folder or rel.startswith(folder + "/")
        for folder in reach(planner, source.path)
    )


def source_overrides(planner: Planner, rel: str, source: argocd.Source) -> list[argocd.Override]:
    found = list(argocd.overrides(source))
    for values_file, resolved, _ in planner.helm_done:
        if covers(planner, source, values_file):
            spec = resolved.spec
            found += argocd.keyed_overrides(source, spec.tag_key, spec.digest_key, resolved.ref)
    return found


def match_override(
    planner: Planner, override: argocd.Override
) -> tuple[int, images.ImageRef] | None:
    hit = planner.match(override.ref)
    if hit is None and override.renamed_from and images.is_reference(override.renamed_from):
        hit = planner.match(images.parse(override.renamed_from, source="Application"))
    return hit


def plan_argocd(planner: Planner) -> None:
    for rel in planner.scope:
        for source in argocd_sources(planner, rel):
            for override in source_overrides(planner, rel, source):
                hit = match_override(planner, override)
                if hit is None or id(override.node) in planner.overrides_done:
                    continue
                planner.matched.add(hit[0])
                planner.overrides_done.add(id(override.node))
                if source.path is not None:
                    by_file = tree.is_argocd_source(source.where)
                    paths = planner.source_file_paths if by_file else planner.application_paths
                    paths.setdefault(hit[0], set()).add(source.path)
                line = override.line
                try:
                    result = argocd.set_override(planner.editor(rel), override, hit[1])
                except yamledit.UnsafeEdit as exc:
                    raise planner.unsafe(rel, line, exc) from exc
                if result is not None:
                    target = f"{source.where} {override.field}"
                    planner.record(rel, override.tag or override.node, "argocd", *result, target)


def application_files(planner: Planner) -> list[str]:
    """Every file that may hold an Application: the scope, and with ``--path`` the rest."""
    files = list(planner.scope)
    if planner.scope_paths:
        files += [rel for rel in tree.discover(planner.root, ()) if rel not in planner.scope_set]
    return files


def check_shadows(planner: Planner) -> None:
    """Refuse edits that an override ArgoCD applies over them would hide."""
    edited: dict[int, set[str]] = {}
    for change in planner.changes:
        if change.kind == "argocd" or not images.is_reference(change.new):
            continue
        hit = planner.match(images.parse(change.new, source=change.file))
        if hit is not None:
            edited.setdefault(hit[0], set()).add(change.file)
    if not edited and not planner.application_paths:
        return
    for rel in application_files(planner):
        for source in argocd_sources(planner, rel):
            _check_source(planner, rel, source, edited)


def _check_source(
    planner: Planner, rel: str, source: argocd.Source, edited: dict[int, set[str]]
) -> None:
    source_file = tree.is_argocd_source(source.where)
    for override in source_overrides(planner, rel, source):
        hit = match_override(planner, override)
        if hit is None or id(override.node) in planner.overrides_done:
            continue
        if override.sets(hit[1]):
            continue  # it already pins what the edit sets: nothing is hidden
        if not source_file and source.path in planner.source_file_paths.get(hit[0], ()):
            continue  # the edited .argocd-source file there applies over this override
        hidden = sorted(f for f in edited.get(hit[0], ()) if covers(planner, source, f))
        if source_file and source.path in planner.application_paths.get(hit[0], ()):
            hidden.append(f"the Application's own overrides for {source.path}")
        if hidden:
            raise shadowed(
                planner,
                rel,
                override.line,
                f"{source.where} {override.field}",
                override.ref.text,
                hidden[0],
            )
    for index, files in edited.items():
        pin = argocd.text_pins(
            source, planner.updates[index], kustomize.spellings(planner.updates[index])
        )
        hidden = sorted(f for f in files if covers(planner, source, f))
        if pin is not None and hidden:
            raise shadowed(
                planner,
                rel,
                yamledit.line_of(pin),
                f"{source.where} helm.values (a string, never edited)",
                planner.updates[index].name,
                hidden[0],
            )


def shadowed(
    planner: Planner, rel: str, line: int, where: str, image: str, hidden: str
) -> errors.InputError:
    return errors.InputError(
        f"{where} sets {image}, and ArgoCD applies it over {hidden}: "
        "the edit would not change what runs",
        source=f"{rel}:{line}",
        hint="Include that file in --path so its override is edited too, "
        "or remove the override from the Application.",
    )
