"""Reading YAML as node graphs with character offsets: compose, and walk the nodes.

A file is composed with PyYAML (libyaml when available) into node graphs whose
marks index the text, which is what :mod:`yamledit` splices at. :func:`compose`
refuses nesting deeper than libyaml can take before libyaml sees it (its composer
recurses and crashes the process on deep input).

It also says where a node's text starts and ends (past anchors and tags, to the
end of its line or content), which is where splices go.

This module must not edit text, decide what to edit, or read or write files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import yaml
from yaml import nodes

__all__ = [
    "MERGE_TAG",
    "STR_TAG",
    "NotYaml",
    "compose",
    "content_end",
    "item",
    "line_end",
    "line_of",
    "mapping_get",
    "merged_get",
    "newline_of",
    "scalar_text",
    "skip_properties",
]

STR_TAG = "tag:yaml.org,2002:str"
MERGE_TAG = "tag:yaml.org,2002:merge"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_MAX_FLOW_DEPTH = 1_000
_MAX_INDENT = 2_000


class NotYaml(Exception):
    """Raised by :func:`compose` when the text does not parse; carries the 1-based line."""

    def __init__(self, problem: str, line: int | None):
        super().__init__(problem)
        self.problem = problem
        self.line = line


def _nesting_problem(text: str) -> tuple[str, int] | None:
    """A cheap upper bound on nesting, checked before libyaml composes the text."""
    depth = 0
    for match in re.finditer(r"[\[\]{}]", text):
        depth += 1 if match.group() in "[{" else -1
        if depth > _MAX_FLOW_DEPTH:
            line = text.count("\n", 0, match.start()) + 1
            return f"flow collections nest more than {_MAX_FLOW_DEPTH} levels deep", line
    for number, line_text in enumerate(text.splitlines(), 1):
        if (
            len(line_text) > _MAX_INDENT
            and len(line_text) - len(line_text.lstrip(" -?:")) > _MAX_INDENT
        ):
            return f"a line is indented more than {_MAX_INDENT} columns", number
    return None


def compose(text: str) -> list[nodes.Node | None]:
    """All documents of ``text`` as node graphs with character offsets into ``text``.

    ``text`` must not start with a byte-order mark (callers strip it), so that
    offsets index ``text`` directly whichever loader is in use.
    """
    nesting = _nesting_problem(text)
    if nesting is not None:
        raise NotYaml(nesting[0], nesting[1])
    try:
        return list(yaml.compose_all(text, Loader=_Loader))
    except RecursionError as exc:
        raise NotYaml("nesting deeper than Python's recursion limit", None) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise NotYaml(problem, mark.line + 1 if mark else None) from exc
    except yaml.YAMLError as exc:
        raise NotYaml(str(exc).splitlines()[0] if str(exc) else "invalid YAML", None) from exc


def line_of(node: nodes.Node) -> int:
    """The 1-based line where ``node`` starts."""
    return int(node.start_mark.line) + 1


def mapping_get(node: nodes.Node | None, key: str) -> nodes.Node | None:
    """The value of ``key`` in a mapping node (last one wins, as in YAML loaders)."""
    if not isinstance(node, nodes.MappingNode):
        return None
    found: nodes.Node | None = None
    for k, v in node.value:
        if isinstance(k, nodes.ScalarNode) and k.value == key:
            found = v
    return found


def merged_get(node: nodes.Node | None, key: str) -> tuple[nodes.Node | None, list[nodes.Node]]:
    """The value of ``key`` in a mapping, following YAML merge keys (``<<: *anchor``).

    Returns ``(value, suppliers)``: ``suppliers`` is empty when the mapping holds
    ``key`` itself, else the merged mappings that hold it (in precedence order; the
    first one's value is what readers see). ``(None, [])`` when nobody holds it.
    """
    direct = mapping_get(node, key)
    if direct is not None or not isinstance(node, nodes.MappingNode):
        return direct, []
    suppliers: list[nodes.Node] = []
    for source in _merge_sources(node, set()):
        if mapping_get(source, key) is not None:
            suppliers.append(source)
    if not suppliers:
        return None, []
    return mapping_get(suppliers[0], key), suppliers


def _merge_sources(node: nodes.MappingNode, seen: set[int]) -> Iterator[nodes.MappingNode]:
    """The mappings merged into ``node`` through ``<<``, nearest first, recursively."""
    for key, value in node.value:
        if not (isinstance(key, nodes.ScalarNode) and key.tag == MERGE_TAG):
            continue
        merged = value.value if isinstance(value, nodes.SequenceNode) else [value]
        for source in merged:
            if isinstance(source, nodes.MappingNode) and id(source) not in seen:
                seen.add(id(source))
                yield source
                yield from _merge_sources(source, seen)


def item(node: nodes.Node | None, index: int) -> nodes.Node | None:
    """The ``index``-th item of a sequence node, or ``None``."""
    if isinstance(node, nodes.SequenceNode) and 0 <= index < len(node.value):
        child: nodes.Node = node.value[index]
        return child
    return None


def scalar_text(node: nodes.Node | None) -> str | None:
    """The value of a scalar node that reads as a string, else ``None``."""
    if isinstance(node, nodes.ScalarNode) and node.tag == STR_TAG:
        return str(node.value)
    return None


def skip_properties(text: str, index: int, end: int) -> int:
    """Skip an anchor (``&a``) and/or tag (``!t``) in front of a node's content."""
    i = index
    while i < end and text[i] in "&!":
        if text.startswith("!<", i):
            i = text.index(">", i) + 1
        else:
            while i < end and text[i] not in " \t\r\n,[]{}":
                i += 1
        while i < end:
            if text[i] in " \t\r\n":
                i += 1
            elif text[i] == "#":
                while i < end and text[i] not in "\r\n":
                    i += 1
            else:
                break
    return i


def line_end(text: str, index: int) -> int:
    """The index of the line break ending the line that holds ``index`` (or len)."""
    cut = [p for p in (text.find("\n", index), text.find("\r", index)) if p != -1]
    return min(cut) if cut else len(text)


def content_end(text: str, node: nodes.Node) -> int:
    """The index just after the last non-blank character of ``node``'s text."""
    end = int(node.end_mark.index)
    start = int(node.start_mark.index)
    while end > start and text[end - 1] in " \t\r\n":
        end -= 1
    return end


def newline_of(text: str) -> str:
    """The file's line break: ``\\r\\n`` when its first line ends so, else ``\\n``."""
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"
