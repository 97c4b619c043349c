"""Read a canary's layout: blue-green's two Deployments, and a Service that selects both.

The Deployments are read and validated by :func:`gitops_guard.strategies.bluegreen.
layout.read` (the same rules, the same messages). For a replica-ratio canary the
Service (default: the service's name) must route to *both* colours: a selector with
the colour key would send every request to one colour, so it is refused (exit 2,
``file:line``), as is a selector that would miss a colour's pods.

This module reads files and decides nothing but "is the layout clear?".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from yaml import nodes

from gitops_guard import errors
from gitops_guard.manifests import tree, yamledit
from gitops_guard.strategies.bluegreen import layout as bg_layout
from gitops_guard.strategies.bluegreen import models as bg_models

HINT = (
    "Lay the service out as docs/canary.md shows: Deployments SERVICE-blue and SERVICE-green "
    "(one file each, pod templates with the colour label) behind one Service whose selector "
    "leaves the colour out, so that it routes to both."
)


def read(
    root: Path,
    *,
    service: str,
    paths: Sequence[str] = (),
    colours: tuple[str, str] = bg_models.COLOURS,
    colour_key: str = bg_models.COLOUR_KEY,
    service_name: str | None = None,
    namespace: str | None = None,
    prefix: str = "",
    check_service: bool = True,
) -> bg_models.Layout:
    """The two colours of ``service`` under ``root``; exit 2 when the layout is unclear.

    ``check_service=False`` (``--traffic gateway``): the route, not a Service over both
    colours, splits the traffic.
    """
    lay = bg_layout.read(
        root,
        service=service,
        paths=paths,
        colours=colours,
        colour_key=colour_key,
        namespace=namespace,
        prefix=prefix,
        read_services=False,
    )
    name = service_name or service
    problems: list[str] = []
    for rel in tree.discover(root, paths) if check_service else ():
        try:
            docs = yamledit.compose((root / rel).read_text(encoding="utf-8").removeprefix("\ufeff"))
        except (OSError, UnicodeDecodeError, yamledit.NotYaml):
            continue  # bluegreen's reader reported what matters
        for doc in docs:
            kind = yamledit.mapping_get(doc, "kind")
            meta_name = yamledit.mapping_get(yamledit.mapping_get(doc, "metadata"), "name")
            if not (
                isinstance(kind, nodes.ScalarNode)
                and kind.value == "Service"
                and isinstance(meta_name, nodes.ScalarNode)
                and meta_name.value == name
            ):
                continue
            selector = yamledit.mapping_get(yamledit.mapping_get(doc, "spec"), "selector")
            pairs = {}
            if isinstance(selector, nodes.MappingNode):
                for key, value in selector.value:
                    if isinstance(key, nodes.ScalarNode) and isinstance(value, nodes.ScalarNode):
                        pairs[str(key.value)] = str(value.value)
            anchor = selector if selector is not None else doc
            line = yamledit.line_of(anchor) if anchor is not None else 1
            where = f"{prefix}{rel}:{line}"
            if colour_key in pairs:
                colour_node = yamledit.mapping_get(selector, colour_key)
                if colour_node is not None:
                    where = f"{prefix}{rel}:{yamledit.line_of(colour_node)}"
                problems.append(
                    f"{where}: Service {name} selects {colour_key}: {pairs[colour_key]}, so it "
                    "routes to one colour only; a replica-ratio canary needs a selector "
                    f"without {colour_key}"
                )
                continue
            for dep in lay.deployments.values():
                missing = {k: v for k, v in pairs.items() if dep.labels.get(k) != v}
                if missing:
                    listed = ", ".join(f"{k}={v}" for k, v in missing.items())
                    problems.append(
                        f"{where}: Service {name} would select no pod of {dep.name}: its pod "
                        f"template lacks {listed}"
                    )
    if problems:
        first = problems[0].split(": ", 1)
        if len(problems) == 1:
            raise errors.InputError(first[1], source=first[0], hint=HINT)
        raise errors.InputError(
            f"the canary layout has {len(problems)} problems:\n"
            + "\n".join(f"  {p}" for p in problems),
            source=first[0],
            hint=HINT,
        )
    return lay
