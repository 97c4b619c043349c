"""What makes an edit unsafe before it is made: depth, alias bombs, repeated keys.

:func:`check_bounds` refuses documents nested deeper than :data:`MAX_DEPTH` or whose
aliases expand beyond :data:`MAX_EXPANDED_NODES` (an alias bomb);
:func:`repeated_keys` finds mappings with a repeated key, through which
:class:`yamledit.Editor` refuses to edit (readers resolve them differently, or
refuse them). Both raise or report :class:`UnsafeEdit`, the editor's one error.

This module must not edit text, decide what to edit, or read or write files.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from yaml import nodes

from gitops_guard.manifests.yamlnodes import MERGE_TAG, line_of

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPANDED_NODES",
    "UnsafeEdit",
    "check_bounds",
    "children_of",
    "repeated_keys",
]

MAX_DEPTH = 200
"""Nesting levels a document may have (Kubernetes CRD schemas stay well below 100)."""
MAX_EXPANDED_NODES = 500_000
"""Nodes a document may have with every alias expanded, beyond its written nodes."""


class UnsafeEdit(Exception):
    """Raised when an edit cannot be expressed or does not re-read as intended.

    ``hint`` tells the fix when it is not the generic one (edit the value by hand once).
    """

    def __init__(self, problem: str, *, hint: str | None = None):
        super().__init__(problem)
        self.hint = hint


def _rough_depth(text: str) -> int:
    """An upper bound on a text's nesting: flow levels plus twice the block indentation."""
    flow = deepest = 0
    for match in re.finditer(r"[\[\]{}]", text):
        flow += 1 if match.group() in "[{" else -1
        deepest = max(deepest, flow)
    lead = max((len(m) for m in re.findall(r"^[ ?:-]*", text, re.MULTILINE)), default=0)
    return deepest + 2 * lead + 2


def check_bounds(docs: Sequence[nodes.Node | None], text: str | None = None) -> None:
    """Refuse documents too deep, or whose aliases expand too far, to verify an edit.

    Raises :class:`UnsafeEdit` naming the line of the collection where the bound
    was passed. Linear in the written nodes: each node is sized once. With the
    ``text`` the documents were composed from, a text without aliases (no ``*``)
    and shallow by its indentation is passed without walking the nodes.
    """
    if text is not None and "*" not in text and _rough_depth(text) <= MAX_DEPTH:
        return
    size: dict[int, int] = {}
    written = 0
    for doc in docs:
        if doc is None:
            continue
        stack: list[tuple[nodes.Node, int, bool]] = [(doc, 1, False)]
        while stack:
            node, depth, done = stack.pop()
            if id(node) in size and not done:
                continue
            if depth > MAX_DEPTH:
                raise UnsafeEdit(
                    f"line {line_of(node)} is nested more than {MAX_DEPTH} levels deep",
                    hint="A manifest is never nested that deep; check the file.",
                )
            children = children_of(node)
            if not done:
                written += 1
                stack.append((node, depth, True))
                stack.extend(
                    (child, depth + 1, False) for child in children if id(child) not in size
                )
                size.setdefault(id(node), -1)
                continue
            total = 1 + sum(max(size.get(id(child), 1), 1) for child in children)
            size[id(node)] = total
            if total > written + MAX_EXPANDED_NODES:
                raise UnsafeEdit(
                    f"the aliases at line {line_of(node)} expand to more than "
                    f"{MAX_EXPANDED_NODES:,} nodes (an alias bomb?)",
                    hint="Write the values out instead of nesting aliases of aliases.",
                )


def children_of(node: nodes.Node) -> list[nodes.Node]:
    if isinstance(node, nodes.SequenceNode):
        return list(node.value)
    if isinstance(node, nodes.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def repeated_keys(docs: Sequence[nodes.Node | None]) -> dict[int, nodes.ScalarNode]:
    """Mappings with a repeated key: ``id`` of the mapping -> the key's second occurrence."""
    found: dict[int, nodes.ScalarNode] = {}
    seen: set[int] = set()
    stack: list[nodes.Node] = [d for d in docs if d is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, nodes.MappingNode):
            names: set[str] = set()
            for key, value in node.value:
                if isinstance(key, nodes.ScalarNode):
                    if key.tag != MERGE_TAG:
                        if key.value in names:
                            found.setdefault(id(node), key)
                        names.add(key.value)
                else:
                    stack.append(key)
                if not isinstance(value, nodes.ScalarNode):
                    stack.append(value)
        elif isinstance(node, nodes.SequenceNode):
            stack.extend(c for c in node.value if not isinstance(c, nodes.ScalarNode))
    return found
