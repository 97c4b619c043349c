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
that some reader would read as something other than this string is written
double-quoted (:mod:`yamlscalars`).

The seams: :mod:`yamlnodes` composes text into node graphs and walks them,
:mod:`yamlscalars` renders scalar text, :mod:`yamlbounds` refuses documents too
deep or too aliased to verify, and this module splices and verifies. The names
of all four stay importable from here, where the rest of the package finds them.

This module must not decide *what* to edit, and it must not read or write files.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import TypeAlias

from yaml import nodes

from gitops_guard.manifests.yamlbounds import (
    MAX_DEPTH,
    MAX_EXPANDED_NODES,
    UnsafeEdit,
    check_bounds,
    children_of,
    repeated_keys,
)
from gitops_guard.manifests.yamlnodes import (
    MERGE_TAG,
    STR_TAG,
    NotYaml,
    compose,
    content_end,
    item,
    line_end,
    line_of,
    mapping_get,
    merged_get,
    newline_of,
    scalar_text,
    skip_properties,
)
from gitops_guard.manifests.yamlscalars import plain_reads_as_itself, render_scalar

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPANDED_NODES",
    "MERGE_TAG",
    "STR_TAG",
    "Editor",
    "NotYaml",
    "PathPart",
    "UnsafeEdit",
    "check_bounds",
    "compose",
    "item",
    "line_of",
    "mapping_get",
    "merged_get",
    "newline_of",
    "plain_reads_as_itself",
    "render_scalar",
    "scalar_text",
]

PathPart: TypeAlias = "str | int"
Data = object  # the comparable form of a node graph, see _to_data


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
    return skip_properties(text, int(key.start_mark.index), int(key.end_mark.index))


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
        self._repeated = repeated_keys(self.docs)
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
                for child in children_of(node):
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
        start = skip_properties(self.text, int(node.start_mark.index), int(node.end_mark.index))
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
                at = content_end(self.text, last)
                self._add(at, at, ", " + rendered)
            else:
                self._add(close, close, rendered)
        else:
            if not mapping.value:
                raise UnsafeEdit(f"cannot add to the empty mapping at line {line_of(mapping)}")
            column = int(mapping.value[0][0].start_mark.column)
            last_node = pairs[-1][1] if pairs else mapping
            at = line_end(self.text, content_end(self.text, last_node))
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
        start = skip_properties(
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
        value_end = content_end(self.text, mapping.value[index][1])
        last = index == len(mapping.value) - 1
        if mapping.flow_style:
            if index > 0:
                start = content_end(self.text, mapping.value[index - 1][1])
                end = value_end
            elif not last:
                end = _pair_start(self.text, mapping, index + 1)
            else:
                end = value_end
        else:
            line_start = max(self.text.rfind("\n", 0, start), self.text.rfind("\r", 0, start)) + 1
            if self.text[line_start:start].strip() == "":
                start = line_start
                end = line_end(self.text, value_end)
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
                at = content_end(self.text, sequence.value[-1])
                self._add(at, at, ", " + flow)
            else:
                self._add(close, close, flow)
        else:
            column = int(sequence.start_mark.column)
            at = line_end(self.text, content_end(self.text, sequence))
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
        at = line_end(self.text, content_end(self.text, mapping))
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
        at = line_end(self.text, int(value.start_mark.index))
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
