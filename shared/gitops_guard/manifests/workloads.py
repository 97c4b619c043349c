"""Where container images live in Kubernetes objects.

A document is a workload when it is a mapping with a ``kind``. Its Pod specs are:

- ``spec`` of a ``Pod``; ``template.spec`` of a ``PodTemplate``;
- ``spec.template.spec`` of any kind (Deployment, StatefulSet, DaemonSet,
  ReplicaSet, Job, Argo Rollouts' Rollout, Knative-style services, ...);
- ``spec.jobTemplate.spec.template.spec`` of any kind (CronJob);
- the same, recursively, for each object in ``items`` of a ``List``.

In each Pod spec, the ``image`` of every entry of ``containers``,
``initContainers`` and ``ephemeralContainers`` is a site. Nothing else is:
annotations, env values, args and comments that look like images are never
touched. Keys along the way are found through YAML merge keys too
(``- <<: *base-container``), as kubectl reads them: the value readers see is the
site, edited where it is written.

This module must not read files or decide which image to set.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from yaml import nodes

from gitops_guard.manifests import yamledit

__all__ = ["ImageSite", "find_sites"]

_POD_SPEC_PATHS: tuple[tuple[str, ...], ...] = (
    ("spec", "template", "spec"),
    ("spec", "jobTemplate", "spec", "template", "spec"),
)
_CONTAINER_LISTS = {
    "containers": "container",
    "initContainers": "initContainer",
    "ephemeralContainers": "ephemeralContainer",
}


@dataclasses.dataclass(frozen=True)
class ImageSite:
    """A scalar that holds a container image."""

    doc: int
    """The index of the document in its file."""
    node: nodes.ScalarNode
    value: str
    target: str
    """E.g. ``Deployment/web container app``."""


def find_sites(doc: nodes.Node | None, doc_index: int) -> Iterator[ImageSite]:
    """Every container image scalar in one document."""
    yield from _object_sites(doc, doc_index, depth=0)


def _object_sites(obj: nodes.Node | None, doc_index: int, *, depth: int) -> Iterator[ImageSite]:
    if not isinstance(obj, nodes.MappingNode) or depth > 3:
        return
    kind = yamledit.scalar_text(yamledit.mapping_get(obj, "kind"))
    if not kind:
        return
    if kind == "List" or kind.endswith("List"):
        items = yamledit.mapping_get(obj, "items")
        if isinstance(items, nodes.SequenceNode):
            for child in items.value:
                yield from _object_sites(child, doc_index, depth=depth + 1)
        return
    name = yamledit.scalar_text(yamledit.mapping_get(yamledit.mapping_get(obj, "metadata"), "name"))
    owner = f"{kind}/{name}" if name else kind
    paths = list(_POD_SPEC_PATHS)
    if kind == "Pod":
        paths.insert(0, ("spec",))
    elif kind == "PodTemplate":
        paths.insert(0, ("template", "spec"))
    seen: set[int] = set()
    for path in paths:
        pod_spec: nodes.Node | None = obj
        for key in path:
            pod_spec = yamledit.merged_get(pod_spec, key)[0]
        if pod_spec is None or id(pod_spec) in seen:
            continue
        seen.add(id(pod_spec))
        yield from _pod_spec_sites(pod_spec, owner, doc_index)


def _pod_spec_sites(pod_spec: nodes.Node, owner: str, doc_index: int) -> Iterator[ImageSite]:
    for list_key, label in _CONTAINER_LISTS.items():
        containers = yamledit.merged_get(pod_spec, list_key)[0]
        if not isinstance(containers, nodes.SequenceNode):
            continue
        for position, container in enumerate(containers.value):
            image = yamledit.merged_get(container, "image")[0]
            value = yamledit.scalar_text(image)
            if value is None or not isinstance(image, nodes.ScalarNode):
                continue
            name = yamledit.scalar_text(yamledit.mapping_get(container, "name"))
            yield ImageSite(
                doc=doc_index,
                node=image,
                value=value,
                target=f"{owner} {label} {name if name else f'#{position}'}",
            )
