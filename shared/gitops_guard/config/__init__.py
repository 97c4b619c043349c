"""The one loader for user-written YAML, and the JSON Schemas generated from its models.

Every file a user writes for gitops-guard (``slo.yaml``, ``rollback-rules.yaml``,
``.gitops-guard/quarantine.yaml``) is read here: ruamel.yaml composes the nodes
within safety bounds (:class:`Bounds`: size, alias expansion, nesting; no tags
beyond YAML's core, no merge keys, no duplicate keys, UTF-8 only), the data is
validated by a frozen pydantic model that forbids unknown keys (:class:`Model`),
and every problem is reported with its ``FILE:LINE``, all at once, in one
:class:`~gitops_guard.errors.ConfigError` (exit 2).

Each file carries ``version: 1`` (absent means 1, so files written before the key
existed keep working); any other version is exit 2. Keys are camelCase
(``initialDelay``, ``maxRollbacks``), as in Kubernetes and ArgoCD manifests; the
kebab-case keys of earlier rules and quarantine files are still read.

The models live with their domains (``slo.spec``, ``rollback.rules``,
``quarantine``); :mod:`gitops_guard.config.schemas` names them for the schemas.
This package must not import those domains at import time, talk to servers or
read anything but the file it is given.
"""

from __future__ import annotations

from gitops_guard.config._dump import dump
from gitops_guard.config._load import (
    Kind,
    Model,
    Problems,
    check_version,
    clean_loc,
    load_file,
    load_text,
    read_file,
    read_text,
    validate,
)
from gitops_guard.config._promql import promql_error
from gitops_guard.config._types import DURATION_SCHEMA, Duration
from gitops_guard.config._yaml import Bounds, Document, Loc, dotted

__all__ = [
    "DURATION_SCHEMA",
    "Bounds",
    "Document",
    "Duration",
    "Kind",
    "Loc",
    "Model",
    "Problems",
    "check_version",
    "clean_loc",
    "dotted",
    "dump",
    "load_file",
    "load_text",
    "promql_error",
    "read_file",
    "read_text",
    "validate",
]
