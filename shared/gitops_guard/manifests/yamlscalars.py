"""How a new scalar value is written: which plain strings read back as themselves.

A plain scalar whose new value any common reader would read as something other
than this string is written double-quoted. "Any reader" is YAML 1.1 (PyYAML, Go's
``yaml.v2`` that kustomize and Helm use: ``y``, ``n``, ``on``, ``1:20``), YAML 1.2
(ruamel, Go's ``yaml.v3``: ``3.2e2``, ``1e3``, ``0o17``) and Go's integer syntax
(``0b101``, ``1_000``).

This module must not edit text, decide what to edit, or read or write files.
"""

from __future__ import annotations

import json
import re

import yaml
from yaml import nodes

from gitops_guard.manifests.yamlnodes import STR_TAG

__all__ = ["plain_reads_as_itself", "render_scalar"]

_RESOLVER = yaml.resolver.Resolver()

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
