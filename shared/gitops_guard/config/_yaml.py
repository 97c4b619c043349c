"""Safe reading of user-written YAML: bounded, positioned, plain data out.

ruamel.yaml composes the node graph (no Python objects are built from tags); this
module walks it into plain ``dict``/``list``/scalars and records the line of every
key and item. The walk refuses, with the line of the node:

* files beyond :attr:`Bounds.max_bytes`, binary files (NUL bytes) and files that
  are not UTF-8;
* more than :attr:`Bounds.max_nodes` nodes after alias expansion (a "billion
  laughs" file of 10^7 aliased leaves stops after that many, in milliseconds);
* nesting deeper than :attr:`Bounds.max_depth` (recursive aliases included);
* tags other than YAML's core ones (``!!python/object``, ``!!binary``, ``!Ref``...);
* merge keys (``<<``), complex keys, duplicate keys, several documents in one file.

Pure: text in, data and positions out. This module must not read files or know
any model (that is :mod:`gitops_guard.config._load`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import MaxDepthExceededError
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Loc = tuple[str | int, ...]
"""A path into the data: keys and list indices (``("objectives", 0, "query")``)."""


@dataclass(frozen=True)
class Bounds:
    """Safety bounds of one read; the defaults fit every file gitops-guard reads."""

    max_bytes: int = 256 * 1024
    """256 KiB: an SLO or rules file is a few KiB, a quarantine entry about 200 bytes
    (over a thousand fit). The bound also bounds the time: ruamel's pure-Python
    parser reads about 100-300 KiB of dense YAML a second on a busy CI runner."""
    max_nodes: int = 50_000
    """Scalars, mappings and sequences after alias expansion: about what 256 KiB can
    hold without aliases, so only aliases repeating aliases reach it."""
    max_depth: int = 64
    """Mapping/sequence nesting."""


class TooBig(Exception):
    """Raised inside the walk when a bound is crossed: one problem, reading stops."""

    def __init__(self, line: int | None, text: str) -> None:
        super().__init__(text)
        self.line = line
        self.text = text


@dataclass
class Document:
    """Plain data read from YAML, with the 1-based line of every key and item."""

    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    problems: list[tuple[int | None, str]] = field(default_factory=list)
    """Every problem found while reading (empty when the file is well-formed)."""

    def line_of(self, loc: Loc) -> int | None:
        """The line of ``loc`` or of its nearest parent that has one."""
        path = tuple(loc)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None


_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_CORE}{t}" for t in ("str", "int", "float", "bool", "null")}
_TIMESTAMP = f"{_CORE}timestamp"
_STR = f"{_CORE}str"
_MAP = f"{_CORE}map"
_SEQ = f"{_CORE}seq"
_MERGE = f"{_CORE}merge"


def decode(raw: bytes, *, bounds: Bounds) -> tuple[str | None, tuple[int | None, str] | None]:
    """UTF-8 text of ``raw``, or the one problem that makes it unreadable."""
    if len(raw) > bounds.max_bytes:
        return None, (
            None,
            f"the file is {len(raw)} bytes, beyond the limit of {bounds.max_bytes} bytes",
        )
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, (1, "the file is UTF-16 text; save it as UTF-8")
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        return None, (line, "the file is binary (a NUL byte), not YAML text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, (line, f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x})")
    return text.removeprefix("\ufeff"), None


_FLOW_TOKENS = re.compile(
    r"""'(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|(?:(?<=\s)|^)\#[^\n]*|[\[\]{}]|\n""", re.MULTILINE
)


def _flow_too_deep(text: str, limit: int) -> int | None:
    """The line where ``[``/``{`` nesting passes ``limit``, or None.

    ruamel's scanner is quadratic in flow nesting (every open bracket is a possible
    simple key it re-checks), so ``[[[[...`` is refused before composing. Quoted
    text and comments are skipped; an unbalanced bracket elsewhere can only make the
    count lower, never refuse a file ruamel would read within the bound.
    """
    if text.count("[") + text.count("{") <= limit:
        return None
    depth, line = 0, 1
    for match in _FLOW_TOKENS.finditer(text):
        piece = match[0]
        if piece == "\n":
            line += 1
        elif piece in "[{":
            depth += 1
            if depth > limit:
                return line
        elif piece in "]}":
            depth = max(0, depth - 1)
        else:
            line += piece.count("\n")
    return None


def read(text: str, *, bounds: Bounds | None = None) -> Document:
    """Compose ``text`` and walk it into a :class:`Document` (problems collected)."""
    bounds = bounds or Bounds()
    if len(text.encode("utf-8", errors="surrogatepass")) > bounds.max_bytes:
        return Document(None, problems=[(None, f"the file is beyond {bounds.max_bytes} bytes")])
    deep = _flow_too_deep(text, bounds.max_depth)
    if deep is not None:
        return Document(None, problems=[(deep, f"nesting deeper than {bounds.max_depth} levels")])
    yaml = YAML(typ="safe", pure=True)
    yaml.max_depth = bounds.max_depth + 1  # block nesting: ruamel stops composing there
    try:
        root = yaml.compose(text)
    except MaxDepthExceededError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        return Document(None, problems=[(line, f"nesting deeper than {bounds.max_depth} levels")])
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = str(exc.problem or exc).strip()
        if "expected a single document" in str(exc):
            problem = "several YAML documents in one file; write one"
        return Document(None, problems=[(line, f"not valid YAML: {problem}")])
    except YAMLError as exc:
        return Document(None, problems=[(None, f"not valid YAML: {exc}")])
    except RecursionError:
        return Document(None, problems=[(None, f"nesting deeper than {bounds.max_depth} levels")])
    doc = Document(None)
    if root is None:
        return doc
    walker = _Walker(bounds, doc, SafeConstructor(loader=yaml))
    try:
        doc.data = walker.walk(root, (), 0)
    except TooBig as exc:
        doc.data = None
        doc.problems.append((exc.line, exc.text))
    return doc


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


class _Walker:
    def __init__(self, bounds: Bounds, doc: Document, constructor: SafeConstructor) -> None:
        self.bounds = bounds
        self.doc = doc
        self.nodes = 0
        self.construct: Callable[[Node], Any] = constructor.construct_object

    def walk(self, node: Node, loc: Loc, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > self.bounds.max_nodes:
            raise TooBig(
                _line(node),
                f"the file expands to more than {self.bounds.max_nodes} values "
                "(aliases repeating aliases?); gitops-guard refuses it",
            )
        if depth > self.bounds.max_depth:
            raise TooBig(_line(node), f"nesting deeper than {self.bounds.max_depth} levels")
        tag = str(node.tag)
        if isinstance(node, MappingNode):
            if tag != _MAP:
                return self._bad_tag(node, tag)
            return self._mapping(node, loc, depth)
        if isinstance(node, SequenceNode):
            if tag != _SEQ:
                return self._bad_tag(node, tag)
            return [self._item(index, item, loc, depth) for index, item in enumerate(node.value)]
        if isinstance(node, ScalarNode):
            if tag in (_STR, _TIMESTAMP):
                return str(node.value)  # dates stay the text written (RFC 3339 fields)
            if tag not in _SCALAR_TAGS:
                return self._bad_tag(node, tag)
            return self.construct(node)
        return self._bad_tag(node, tag)  # pragma: no cover - ruamel has no other node kinds

    def _bad_tag(self, node: Node, tag: str) -> None:
        shown = "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag
        self.doc.problems.append(
            (_line(node), f"the tag {shown} is not allowed here (only plain YAML values)")
        )
        return None

    def _item(self, index: int, item: Node, loc: Loc, depth: int) -> Any:
        here: Loc = (*loc, index)
        self.doc.lines[here] = _line(item)
        return self.walk(item, here, depth + 1)

    def _mapping(self, node: MappingNode, loc: Loc, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = _line(key_node)
            if str(key_node.tag) == _MERGE or (
                isinstance(key_node, ScalarNode) and key_node.value == "<<" and not key_node.style
            ):
                self.doc.problems.append(
                    (line, "merge keys (<<) are not supported; write the keys out")
                )
                continue
            if not isinstance(key_node, ScalarNode):
                self.doc.problems.append((line, "a key must be a plain value, not a list or map"))
                continue
            key_value = self.walk(key_node, (*loc, "<key>"), depth + 1)
            key = "" if key_value is None else str(key_value)
            if isinstance(key_value, bool):
                key = "true" if key_value else "false"
            if key in out:
                first = self.doc.lines.get((*loc, key))
                self.doc.problems.append(
                    (
                        line,
                        f"{_dotted((*loc, key))}: duplicate key (first at line {first}); "
                        "YAML keeps one silently, gitops-guard refuses to guess which",
                    )
                )
                continue
            here: Loc = (*loc, key)
            self.doc.lines[here] = line
            out[key] = self.walk(value_node, here, depth + 1)
        return out


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


dotted = _dotted
"""``("objectives", 0, "query")`` -> ``objectives[0].query``."""
