"""Byte-exact YAML edits: splice new scalar text into the original at exact offsets.

Nothing here round-trips through an emitter. A file is composed (PyYAML node
graph with character offsets, libyaml when available), edits are recorded as
*splices* (replace the characters ``[start, end)`` with new text), and the new
text is the old text with those splices applied. Every character outside a
spliced range is the original character, so comments, key order, quoting,
indentation, flow style, anchors, document markers and CRLF line endings stay.

After splicing, :meth:`Editor.render` parses the result again and checks that
the document graph equals the old graph with exactly the intended changes
(each set scalar now reads as its new string, added and removed keys and items
as recorded, nothing else different). A mismatch raises :class:`UnsafeEdit`.

Scalar style: a replaced scalar keeps its style (plain, single- or
double-quoted, literal or folded block). The one exception: a plain scalar
whose new value any common reader would read as something other than this
string is written double-quoted. "Any reader" is YAML 1.1 (PyYAML, Go's
``yaml.v2`` that kustomize and Helm use: ``y``, ``n``, ``on``, ``1:20``), YAML 1.2
(ruamel, Go's ``yaml.v3``: ``3.2e2``, ``1e3``, ``0o17``) and Go's integer syntax
(``0b101``, ``1_000``); see :func:`plain_reads_as_itself`.

Bounds: :func:`compose` refuses nesting deeper than :data:`MAX_DEPTH` before
libyaml sees it (libyaml's composer recurses and crashes the process on deep
input), and :class:`Editor` refuses documents whose aliases expand beyond
:data:`MAX_EXPANDED_NODES` (an alias bomb), and edits on a path through a
mapping with a repeated key (which readers resolve differently, or refuse).

This module must not decide *what* to edit, and it must not read or write files.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator, Sequence
from typing import TypeAlias

import yaml
from yaml import nodes

__all__ = [
    "STR_TAG",
    "Editor",
    "NotYaml",
    "UnsafeEdit",
    "compose",
    "item",
    "line_of",
    "mapping_get",
    "merged_get",
    "plain_reads_as_itself",
    "render_scalar",
    "scalar_text",
]

STR_TAG = "tag:yaml.org,2002:str"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER = yaml.resolver.Resolver()

PathPart: TypeAlias = "str | int"
Data = object  # the comparable form of a node graph, see _to_data

MERGE_TAG = "tag:yaml.org,2002:merge"

MAX_DEPTH = 200
"""Nesting levels a document may have (Kubernetes CRD schemas stay well below 100)."""
MAX_EXPANDED_NODES = 500_000
"""Nodes a document may have with every alias expanded, beyond its written nodes."""
_MAX_FLOW_DEPTH = 1_000
_MAX_INDENT = 2_000

# Plain scalars some reader resolves to a non-string, beyond PyYAML's own resolver
# (YAML 1.1). Over-quoting is harmless (a quoted string is that string everywhere);
# under-quoting breaks kustomize ("cannot unmarshal number into ... newTag").
_NOT_A_STRING = re.compile(
    r"""(?x)
    (?: ~ | null | Null | NULL                                    # null (1.1, 1.2)
      | true | True | TRUE | false | False | FALSE                # bool (1.2)
      | [yY] | yes | Yes | YES | [nN] | no | No | NO              # bool (1.1, yaml.v2)
      | on | On | ON | off | Off | OFF
      | [-+]? (?: 0[bB][01_]+ | 0[oO][0-7_]+ | 0[xX][0-9a-fA-F_]+ | [0-9_]+ )  # int
      | [-+]? (?: \.[0-9_]+ | [0-9_]+ (?:\.[0-9_]*)? ) (?: [eE][-+]?[0-9_]+ )?  # float
      | [-+]? [0-9][0-9_]* (?: :[0-5]?[0-9] )+ (?: \.[0-9_]* )?   # sexagesimal (1.1)
      | [-+]? \. (?: inf | Inf | INF ) | \. (?: nan | NaN | NAN )
      | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2} .*                          # timestamps (1.1, 1.2)
      | = | <<
    )\Z
    """
)


class NotYaml(Exception):
    """Raised by :func:`compose` when the text does not parse; carries the 1-based line."""

    def __init__(self, problem: str, line: int | None):
        super().__init__(problem)
        self.problem = problem
        self.line = line


class UnsafeEdit(Exception):
    """Raised when an edit cannot be expressed or does not re-read as intended.

    ``hint`` tells the fix when it is not the generic one (edit the value by hand once).
    """

    def __init__(self, problem: str, *, hint: str | None = None):
        super().__init__(problem)
        self.hint = hint


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


def _reads_as_str(value: str) -> bool:
    tag = _RESOLVER.resolve(nodes.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return bool(tag == STR_TAG)


def plain_reads_as_itself(value: str) -> bool:
    """Whether ``value`` written plain reads back as this string in YAML 1.1, 1.2 and Go."""
    return _plain_is_safe(value)


def _plain_is_safe(value: str) -> bool:
    if not value or value != value.strip() or _NOT_A_STRING.match(value):
        return False
    if not _reads_as_str(value):
        return False
    if value[0] in "-?:,[]{}#&*!|>'\"%@`" or any(c in value for c in ",[]{}\r\n\t"):
        return False
    return ": " not in value and " #" not in value and not value.endswith(":")


def render_scalar(value: str, style: str | None = None) -> str:
    """``value`` as YAML scalar text in ``style`` (``None`` plain, ``'`` or ``"``).

    Plain becomes double-quoted when the plain text would not read back as
    this string.
    """
    if style is None or style == "":
        if _plain_is_safe(value):
            return value
        style = '"'
    if style == "'" and all(c.isprintable() for c in value):
        return "'" + value.replace("'", "''") + "'"
    return json.dumps(value, ensure_ascii=False)


def _skip_properties(text: str, index: int, end: int) -> int:
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


def _line_end(text: str, index: int) -> int:
    """The index of the line break ending the line that holds ``index`` (or len)."""
    cut = [p for p in (text.find("\n", index), text.find("\r", index)) if p != -1]
    return min(cut) if cut else len(text)


def _content_end(text: str, node: nodes.Node) -> int:
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


@dataclasses.dataclass(frozen=True)
class Splice:
    start: int
    end: int
    text: str
    order: int


@dataclasses.dataclass(frozen=True)
class _Op:
    doc: int
    path: tuple[PathPart, ...]
    action: str  # "add" | "delete" | "append"
    key: str | None
    value: Data


def _pair_start(text: str, mapping: nodes.MappingNode, index: int) -> int:
    key = mapping.value[index][0]
    return _skip_properties(text, int(key.start_mark.index), int(key.end_mark.index))


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
            children = _children(node)
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


def _children(node: nodes.Node) -> list[nodes.Node]:
    if isinstance(node, nodes.SequenceNode):
        return list(node.value)
    if isinstance(node, nodes.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _repeated_keys(docs: Sequence[nodes.Node | None]) -> dict[int, nodes.ScalarNode]:
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


class Editor:
    """Collects edits to one YAML text, then renders and verifies the new text.

    Raises :class:`UnsafeEdit` at once when the documents pass :func:`check_bounds`.
    """

    def __init__(self, text: str, docs: Sequence[nodes.Node | None], *, source: str):
        check_bounds(docs, text)
        self.text = text
        self.docs = list(docs)
        self.source = source
        self.newline = newline_of(text)
        self._splices: list[Splice] = []
        self._scalars: dict[int, tuple[nodes.ScalarNode, str]] = {}
        self._ops: list[_Op] = []
        self._parents: dict[int, list[nodes.Node]] | None = None
        self._repeated = _repeated_keys(self.docs)
        """``id`` of each mapping with a repeated key, and the key's second occurrence."""
        self.json = source.endswith(".json")
        """A ``.json`` file: added keys and values are written as JSON, and the result
        must still be JSON."""

    def _parent_map(self) -> dict[int, list[nodes.Node]]:
        if self._parents is None:
            parents: dict[int, list[nodes.Node]] = {}
            seen: set[int] = set()
            stack = [d for d in self.docs if d is not None]
            while stack:
                node = stack.pop()
                if id(node) in seen:
                    continue
                seen.add(id(node))
                for child in _children(node):
                    parents.setdefault(id(child), []).append(node)
                    stack.append(child)
            self._parents = parents
        return self._parents

    def check_path(self, node: nodes.Node) -> None:
        """Refuse to edit under a mapping with a repeated key (from ``node`` up to its document).

        Readers disagree on a repeated key (the last wins in PyYAML and Go's
        ``yaml.v2``; ``yaml.v3``, kubectl and kustomize refuse the file), so an
        edit there may not be the value that is deployed.
        """
        if not self._repeated:
            return
        parents = self._parent_map()
        seen: set[int] = set()
        todo = [node]
        while todo:
            current = todo.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            key = self._repeated.get(id(current))
            if key is not None:
                raise UnsafeEdit(
                    f"the key {key.value!r} is repeated at line {line_of(key)} "
                    "in a mapping on the edited path",
                    hint="Remove the repeated key: YAML readers disagree on which "
                    "one counts (kubectl and kustomize refuse the file).",
                )
            todo.extend(parents.get(id(current), ()))

    def _key(self, key: str) -> str:
        return json.dumps(key) if self.json else key

    def _value(self, value: str) -> str:
        return json.dumps(value, ensure_ascii=False) if self.json else render_scalar(value)

    @property
    def empty(self) -> bool:
        """Whether no edit was recorded."""
        return not self._splices

    def is_set(self, node: nodes.Node) -> bool:
        """Whether :meth:`set_scalar` already recorded a new value for ``node``."""
        return id(node) in self._scalars

    def _add(self, start: int, end: int, text: str) -> None:
        self._splices.append(Splice(start, end, text, len(self._splices)))

    def set_scalar(self, node: nodes.ScalarNode, value: str) -> bool:
        """Set a scalar to the string ``value``; ``False`` when it already reads so.

        A node reached through several aliases is edited once, at its anchor.
        """
        if id(node) in self._scalars or node.value == value:
            # Equal text is in place even when it reads as a number (``tag: 1.2``):
            # tools that want a string (kustomize, Helm's ``toString``) read it as written.
            return False
        self.check_path(node)
        start = _skip_properties(self.text, int(node.start_mark.index), int(node.end_mark.index))
        end = int(node.end_mark.index)
        style = node.style or None
        if style in ("|", ">"):
            start, end, new = self._block_scalar_splice(node, start, end, value)
            # Only the content line changes: the chomped line breaks stay as they were.
            value = str(node.value).replace(str(node.value).strip("\r\n"), value, 1)
        else:
            new = render_scalar(value, style)
            if start == end and start > 0 and self.text[start - 1] == ":":
                new = " " + new  # an empty value (``tag:``) sits right after the colon
        self._scalars[id(node)] = (node, value)
        self._add(start, end, new)
        return True

    def _block_scalar_splice(
        self, node: nodes.ScalarNode, start: int, end: int, value: str
    ) -> tuple[int, int, str]:
        old = str(node.value).strip("\r\n")
        body = self.text[start:end]
        if not old or "\n" in old or "\n" in value or body.count(old) != 1:
            raise UnsafeEdit(
                f"the block scalar at line {line_of(node)} spans several lines; "
                "write it as a one-line value"
            )
        offset = start + body.index(old)
        return offset, offset + len(old), value

    def add_pair(
        self,
        doc: int,
        path: tuple[PathPart, ...],
        mapping: nodes.MappingNode,
        key: str,
        value: str,
        *,
        after: str | None = None,
    ) -> None:
        """Add ``key: value`` as the last pair of a mapping (block or flow style).

        With ``after``, right after that key's pair instead (when the mapping has it).
        """
        self.check_path(mapping)
        rendered = f"{self._key(key)}: {self._value(value)}"
        pairs = [
            (k, v)
            for k, v in mapping.value
            if after is not None and isinstance(k, nodes.ScalarNode) and k.value == after
        ]
        if mapping.flow_style:
            close = int(mapping.end_mark.index) - 1
            if self.text[close] != "}":
                raise UnsafeEdit(f"cannot find the end of the mapping at line {line_of(mapping)}")
            if mapping.value:
                last = pairs[-1][1] if pairs else mapping.value[-1][1]
                at = _content_end(self.text, last)
                self._add(at, at, ", " + rendered)
            else:
                self._add(close, close, rendered)
        else:
            if not mapping.value:
                raise UnsafeEdit(f"cannot add to the empty mapping at line {line_of(mapping)}")
            column = int(mapping.value[0][0].start_mark.column)
            last_node = pairs[-1][1] if pairs else mapping
            at = _line_end(self.text, _content_end(self.text, last_node))
            self._add(at, at, self.newline + " " * column + rendered)
        self._ops.append(_Op(doc, path, "add", key, (STR_TAG, value)))

    def replace_pair(
        self,
        doc: int,
        path: tuple[PathPart, ...],
        mapping: nodes.MappingNode,
        old_key: str,
        new_key: str,
        value: str,
    ) -> None:
        """Turn ``old_key: …`` into ``new_key: value`` where it stands (no line added)."""
        self.check_path(mapping)
        key_node, value_node = next(
            (k, v)
            for k, v in reversed(mapping.value)
            if isinstance(k, nodes.ScalarNode) and k.value == old_key
        )
        if not isinstance(value_node, nodes.ScalarNode) or value_node.style in ("|", ">"):
            raise UnsafeEdit(f"{old_key!r} at line {line_of(key_node)} is not a one-line value")
        key_start = int(key_node.start_mark.index)
        if self.text[key_start : int(key_node.end_mark.index)] != old_key:
            raise UnsafeEdit(
                f"the key {old_key!r} at line {line_of(key_node)} is not written plain"
            )
        start = _skip_properties(
            self.text, int(value_node.start_mark.index), int(value_node.end_mark.index)
        )
        if start != int(value_node.start_mark.index) or self.text.startswith("*", start):
            raise UnsafeEdit(f"{old_key!r} at line {line_of(key_node)} has an anchor or alias")
        end = int(value_node.end_mark.index)
        new = render_scalar(value, value_node.style or None)
        if start == end and start > 0 and self.text[start - 1] == ":":
            new = " " + new
        self._add(key_start, int(key_node.end_mark.index), new_key)
        self._add(start, end, new)
        self._ops.append(_Op(doc, path, "delete", old_key, None))
        self._ops.append(_Op(doc, path, "add", new_key, (STR_TAG, value)))

    def delete_pair(
        self, doc: int, path: tuple[PathPart, ...], mapping: nodes.MappingNode, key: str
    ) -> None:
        """Remove ``key`` (and its value) from a mapping."""
        self.check_path(mapping)
        index = max(
            i
            for i, (k, _) in enumerate(mapping.value)
            if isinstance(k, nodes.ScalarNode) and k.value == key
        )
        start = _pair_start(self.text, mapping, index)
        value_end = _content_end(self.text, mapping.value[index][1])
        last = index == len(mapping.value) - 1
        if mapping.flow_style:
            if index > 0:
                start = _content_end(self.text, mapping.value[index - 1][1])
                end = value_end
            elif not last:
                end = _pair_start(self.text, mapping, index + 1)
            else:
                end = value_end
        else:
            line_start = max(self.text.rfind("\n", 0, start), self.text.rfind("\r", 0, start)) + 1
            if self.text[line_start:start].strip() == "":
                start = line_start
                end = _line_end(self.text, value_end)
                end += (
                    2 if self.text.startswith("\r\n", end) else (1 if end < len(self.text) else 0)
                )
            elif not last:
                end = _pair_start(self.text, mapping, index + 1)
            else:
                raise UnsafeEdit(f"cannot remove {key!r} at line {line_of(mapping)}")
        self._add(start, end, "")
        self._ops.append(_Op(doc, path, "delete", key, None))

    def append_item(
        self,
        doc: int,
        path: tuple[PathPart, ...],
        sequence: nodes.SequenceNode,
        pairs: Sequence[tuple[str, str]],
    ) -> None:
        """Append a mapping item ``{k: v, ...}`` to a sequence (block or flow style)."""
        self.check_path(sequence)
        value = {k: (STR_TAG, v) for k, v in pairs}
        if sequence.flow_style:
            close = int(sequence.end_mark.index) - 1
            if self.text[close] != "]":
                raise UnsafeEdit(f"cannot find the end of the list at line {line_of(sequence)}")
            flow = "{" + ", ".join(f"{self._key(k)}: {self._value(v)}" for k, v in pairs) + "}"
            if sequence.value:
                at = _content_end(self.text, sequence.value[-1])
                self._add(at, at, ", " + flow)
            else:
                self._add(close, close, flow)
        else:
            column = int(sequence.start_mark.column)
            at = _line_end(self.text, _content_end(self.text, sequence))
            self._add(at, at, self._block_item(column, pairs))
        self._ops.append(_Op(doc, path, "append", None, value))

    def _block_item(self, column: int, pairs: Sequence[tuple[str, str]]) -> str:
        lines = []
        for i, (k, v) in enumerate(pairs):
            lead = " " * column + ("- " if i == 0 else "  ")
            lines.append(f"{lead}{k}: {render_scalar(v)}")
        return "".join(self.newline + line for line in lines)

    def add_list_key(
        self,
        doc: int,
        mapping: nodes.MappingNode,
        key: str,
        items: Sequence[Sequence[tuple[str, str]]],
    ) -> None:
        """Add ``key:`` holding a list of mappings ``{k: v, ...}`` to a block mapping."""
        if mapping.flow_style or not mapping.value or not items:
            raise UnsafeEdit(f"cannot add {key!r} to the mapping at line {line_of(mapping)}")
        column = int(mapping.value[0][0].start_mark.column)
        at = _line_end(self.text, _content_end(self.text, mapping))
        text = self.newline + " " * column + f"{key}:"
        text += "".join(self._block_item(column, pairs) for pairs in items)
        self._add(at, at, text)
        value = [{k: (STR_TAG, v) for k, v in pairs} for pairs in items]
        self._ops.append(_Op(doc, (), "add", key, value))

    def fill_empty(
        self,
        doc: int,
        mapping: nodes.MappingNode,
        key: str,
        items: Sequence[Sequence[tuple[str, str]]],
    ) -> None:
        """Give an empty block value (``key:`` and nothing) a list of mappings."""
        pair = next(
            (k, v) for k, v in mapping.value if isinstance(k, nodes.ScalarNode) and k.value == key
        )
        value = pair[1]
        if mapping.flow_style or not isinstance(value, nodes.ScalarNode) or value.value != "":
            raise UnsafeEdit(f"{key!r} at line {line_of(pair[0])} is not empty")
        column = int(pair[0].start_mark.column)
        at = _line_end(self.text, int(value.start_mark.index))
        self._add(at, at, "".join(self._block_item(column, pairs) for pairs in items))
        data = [{k: (STR_TAG, v) for k, v in pairs} for pairs in items]
        self._ops.append(_Op(doc, (), "add", key, data))

    def render(self) -> str:
        """The new text; raises :class:`UnsafeEdit` unless it re-reads exactly as intended."""
        splices = sorted(self._splices, key=lambda s: (s.start, s.end, s.order))
        out: list[str] = []
        cursor = 0
        for splice in splices:
            if splice.start < cursor:
                raise UnsafeEdit("two edits overlap")
            out.append(self.text[cursor : splice.start])
            out.append(splice.text)
            cursor = splice.end
        out.append(self.text[cursor:])
        new_text = "".join(out)
        self._verify(new_text)
        if self.json:
            try:
                json.loads(new_text)
            except ValueError as exc:
                raise UnsafeEdit(f"the edited file is no longer JSON: {exc}") from exc
        return new_text

    def _verify(self, new_text: str) -> None:
        try:
            new_docs = compose(new_text)
        except NotYaml as exc:
            raise UnsafeEdit(f"the edited text does not parse: {exc.problem}") from exc
        overrides = {key: value for key, (_, value) in self._scalars.items()}
        memo: dict[int, Data] = {}
        expected = [_to_data(d, overrides, memo) for d in self.docs]
        for op in self._ops:
            target = expected[op.doc]
            for part in op.path:
                target = target[part]  # type: ignore[index]
            if op.action == "add":
                target[op.key] = op.value  # type: ignore[index]
            elif op.action == "delete":
                del target[op.key]  # type: ignore[attr-defined]
            else:
                target.append(op.value)  # type: ignore[attr-defined]
        actual = [_to_data(d, {}, {}) for d in new_docs]
        if actual != expected:
            raise UnsafeEdit("the edited file does not re-read with exactly the intended change")


def _to_data(node: nodes.Node | None, overrides: dict[int, str], memo: dict[int, Data]) -> Data:
    """A comparable form: scalars as ``(tag, value)``, lists, dicts keyed by key text."""
    if node is None:
        return None
    if isinstance(node, nodes.ScalarNode):
        if id(node) in overrides:
            return (STR_TAG, overrides[id(node)])
        return (node.tag, node.value)
    if id(node) in memo:
        return memo[id(node)]
    if isinstance(node, nodes.SequenceNode):
        seq: list[Data] = []
        memo[id(node)] = seq
        seq.extend(_to_data(child, overrides, memo) for child in node.value)
        return seq
    mapping: dict[str, Data] = {}
    memo[id(node)] = mapping
    for key, value in node.value:
        name = str(key.value if isinstance(key, nodes.ScalarNode) else _to_data(key, {}, {}))
        while name in mapping:  # a repeated key must stay repeated, never appear
            name += "\0"
        mapping[name] = _to_data(value, overrides, memo)
    return mapping
