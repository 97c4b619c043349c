"""Read and validate a service's blue-green layout from the manifests in a checkout.

A service ``web`` is laid out as Deployments ``web-blue`` and ``web-green`` whose pod
templates carry ``color: blue|green``, an *active* Service (default ``web``) whose
selector names the live colour, and optionally a *preview* Service (default
``web-preview``) on the idle colour. Everything wrong is collected first and raised
as one :class:`~gitops_guard.errors.InputError` naming ``file:line`` (exit 2):
a missing colour, two Deployments of one colour, no colour label, a selector
without the colour key or naming an unknown colour, replicas that are not a
number, an image that does not parse, both colours in one file, and (in Git mode)
an active Service that Git does not hold ("the selector is owned by nobody").

This module reads files and decides nothing but "is the layout clear?".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from yaml import nodes

from gitops_guard import errors, images
from gitops_guard.manifests import tree, yamledit
from gitops_guard.strategies.bluegreen import models


def _get(node: nodes.Node | None, *path: str) -> nodes.Node | None:
    for key in path:
        node = yamledit.mapping_get(node, key)
    return node


def _text(node: nodes.Node | None) -> str | None:
    if isinstance(node, nodes.ScalarNode):
        return str(node.value)
    return None


def _labels(node: nodes.Node | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(node, nodes.MappingNode):
        for key, value in node.value:
            if isinstance(key, nodes.ScalarNode) and isinstance(value, nodes.ScalarNode):
                out[str(key.value)] = str(value.value)
    return out


class _Problems:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, where: str, message: str) -> None:
        self.items.append((where, message))

    def raise_if_any(self, hint: str) -> None:
        if not self.items:
            return
        first = self.items[0][0]
        if len(self.items) == 1:
            raise errors.InputError(self.items[0][1], source=first, hint=hint)
        listed = "\n".join(f"  {where}: {message}" for where, message in self.items)
        raise errors.InputError(
            f"the blue-green layout has {len(self.items)} problems:\n{listed}",
            source=first,
            hint=hint,
        )


HINT = (
    "Lay the service out as docs/blue-green.md shows: Deployments SERVICE-blue and "
    "SERVICE-green whose pod templates carry the colour label, an active Service whose "
    "selector names the live colour, optionally a preview Service."
)


def read(
    root: Path,
    *,
    service: str,
    paths: Sequence[str] = (),
    colours: tuple[str, str] = models.COLOURS,
    colour_key: str = models.COLOUR_KEY,
    active_service: str | None = None,
    preview_service: str | None = None,
    mode: models.Mode = "git",
    namespace: str | None = None,
    prefix: str = "",
    read_services: bool = True,
) -> models.Layout:
    """The layout of ``service`` under ``root`` (``paths`` relative to it); exit 2 when unclear.

    ``prefix`` is prepended to file names in messages (``--dir`` inside a checkout).
    ``read_services=False`` reads the two Deployments only (a canary's Services select both
    colours and are checked by the canary strategy).
    """
    active_name = active_service or service
    preview_name = preview_service or f"{service}-preview"
    names = {f"{service}-{c}": c for c in colours}
    problems = _Problems()
    found: dict[str, list[models.ColourDeployment]] = {c: [] for c in colours}
    services: dict[str, list[models.ServiceSelector]] = {active_name: [], preview_name: []}
    namespaces: list[str] = []
    for rel in tree.discover(root, paths):
        path = root / rel
        shown = prefix + rel
        try:
            text = path.read_text(encoding="utf-8").removeprefix("\ufeff")
            docs = yamledit.compose(text)
        except (OSError, UnicodeDecodeError):
            continue
        except yamledit.NotYaml as exc:
            problems.add(f"{shown}:{exc.line or 1}", f"not valid YAML: {exc.problem}")
            continue
        for index, doc in enumerate(docs):
            kind = _text(_get(doc, "kind"))
            name = _text(_get(doc, "metadata", "name")) or ""
            ns = _text(_get(doc, "metadata", "namespace")) or ""
            if kind == "Kustomization" and _text(_get(doc, "namespace")):
                namespaces.append(str(_text(_get(doc, "namespace"))))
            if kind == "Deployment" and name in names:
                _deployment(
                    doc, index, rel, prefix, names[name], name, ns, colour_key, problems, found
                )
            elif kind == "Service" and name in services and read_services:
                _service(doc, index, rel, prefix, name, ns, colour_key, colours, problems, services)
    for colour in colours:
        if not found[colour]:
            problems.add(
                prefix + (paths[0] if paths else "."),
                f"no Deployment {service}-{colour} (the {colour} colour is missing)",
            )
        elif len(found[colour]) > 1:
            sites = ", ".join(str(d.site) for d in found[colour])
            problems.add(
                str(found[colour][1].site), f"{service}-{colour} is defined twice ({sites})"
            )
    deployments = {c: found[c][0] for c in colours if found[c]}
    if len(deployments) == 2:
        a, b = (deployments[c] for c in colours)
        if a.site.file == b.site.file:
            problems.add(
                str(b.site),
                f"both colours live in one file ({a.site.file}); the image engine edits "
                "whole files, so put each colour's Deployment in a file of its own",
            )
        if a.labels.get(colour_key) and a.labels.get(colour_key) == b.labels.get(colour_key):
            problems.add(
                str(b.site), f"both Deployments carry {colour_key}: {a.labels[colour_key]}"
            )
    active = services[active_name][0] if services[active_name] else None
    preview = services[preview_name][0] if services[preview_name] else None
    if active is None and mode == "git" and read_services:
        problems.add(
            prefix + (paths[0] if paths else "."),
            f"no Service {active_name}: the active selector is owned by nobody in Git",
        )
    for svc in (active, preview):
        if svc is None:
            continue
        for colour, dep in deployments.items():
            wanted = {**svc.selector, colour_key: colour}
            missing = {k: v for k, v in wanted.items() if dep.labels.get(k) != v}
            if missing:
                listed = ", ".join(f"{k}={v}" for k, v in missing.items())
                problems.add(
                    str(svc.site),
                    f"Service {svc.name} would select no pod of {dep.name}: its pod template "
                    f"lacks {listed}",
                )
    problems.raise_if_any(HINT)
    chosen_ns = (
        namespace
        or (active.namespace if active else "")
        or next(iter(namespaces), "")
        or next((d.namespace for d in deployments.values() if d.namespace), "")
    )
    return models.Layout(
        service=service,
        colour_key=colour_key,
        colours=colours,
        deployments=deployments,
        active=active,
        preview=preview,
        namespace=chosen_ns,
    )


def _deployment(
    doc: nodes.Node | None,
    index: int,
    rel: str,
    prefix: str,
    colour: str,
    name: str,
    namespace: str,
    colour_key: str,
    problems: _Problems,
    found: dict[str, list[models.ColourDeployment]],
) -> None:
    shown = prefix + rel
    site = models.Site(rel, index, yamledit.line_of(doc) if doc is not None else 1, prefix)
    labels_node = _get(doc, "spec", "template", "metadata", "labels")
    labels = _labels(labels_node)
    label = labels.get(colour_key)
    if label is None:
        where = yamledit.line_of(labels_node) if labels_node is not None else site.line
        problems.add(
            f"{shown}:{where}",
            f"{name} has no colour label: its pod template needs {colour_key}: {colour}",
        )
    elif label != colour:
        problems.add(
            f"{shown}:{site.line}",
            f"{name} carries {colour_key}: {label}, but its name says {colour}",
        )
    replicas_node = _get(doc, "spec", "replicas")
    replicas = -1
    replicas_site = site
    if not isinstance(replicas_node, nodes.ScalarNode):
        problems.add(
            str(site), f"{name} has no spec.replicas; write it explicitly (blue-green scales it)"
        )
    else:
        replicas_site = models.Site(rel, index, yamledit.line_of(replicas_node), prefix)
        if replicas_node.tag != "tag:yaml.org,2002:int" or not str(replicas_node.value).isdigit():
            problems.add(
                str(replicas_site),
                f"{name} spec.replicas is {replicas_node.value!r}, not a number",
            )
        else:
            replicas = int(replicas_node.value)
    container = yamledit.item(_get(doc, "spec", "template", "spec", "containers"), 0)
    image_node = _get(container, "image")
    image = _text(image_node) or ""
    if not image:
        problems.add(str(site), f"{name} has no container image")
    else:
        try:
            images.parse(image, source=f"{shown}:{yamledit.line_of(image_node)}")  # type: ignore[arg-type]
        except errors.InputError as exc:
            problems.add(str(exc.source), f"{name}: {exc.message}")
    found[colour].append(
        models.ColourDeployment(
            colour=colour,
            name=name,
            site=site,
            image=image,
            replicas=replicas,
            replicas_site=replicas_site,
            labels=labels,
            namespace=namespace,
        )
    )


def _service(
    doc: nodes.Node | None,
    index: int,
    rel: str,
    prefix: str,
    name: str,
    namespace: str,
    colour_key: str,
    colours: tuple[str, str],
    problems: _Problems,
    services: dict[str, list[models.ServiceSelector]],
) -> None:
    shown = prefix + rel
    site = models.Site(rel, index, yamledit.line_of(doc) if doc is not None else 1, prefix)
    selector_node = _get(doc, "spec", "selector")
    selector = _labels(selector_node)
    colour_node = yamledit.mapping_get(selector_node, colour_key)
    colour = selector.get(colour_key, "")
    colour_site = site
    if colour_node is None:
        line = yamledit.line_of(selector_node) if selector_node is not None else site.line
        problems.add(
            f"{shown}:{line}",
            f"Service {name} has no {colour_key} key in its selector: it would route to both "
            "colours",
        )
    else:
        colour_site = models.Site(rel, index, yamledit.line_of(colour_node), prefix)
        if colour not in colours:
            problems.add(
                str(colour_site),
                f"Service {name} selects {colour_key}: {colour!r}, not one of "
                f"{' or '.join(colours)}",
            )
    services[name].append(
        models.ServiceSelector(
            name=name,
            site=site,
            selector=selector,
            colour=colour,
            colour_site=colour_site,
            namespace=namespace,
        )
    )
