"""The JSON Schemas of the files users write, generated from their models.

``gitops-guard schema slo|rules|quarantine`` prints one; the same text is shipped
in the package (``gitops_guard/config/schemas/*.schema.json``) and in the
repository (``docs/schemas/``), both kept equal to the models by a test. Editors
use them through a ``# yaml-language-server: $schema=...`` line.

The models are imported when a schema is asked for, not when this module is:
the config package must not depend on the domains that use it.
"""

from __future__ import annotations

import importlib
import json
from importlib import resources
from typing import Any

from pydantic import BaseModel

MODELS: dict[str, tuple[str, str, str]] = {
    "slo": ("gitops_guard.slo.config", "SloConfig", "gitops-guard SLO file (slo.yaml)"),
    "rules": (
        "gitops_guard.rollback.rules",
        "RulesFile",
        "gitops-guard rollback rules (rollback-rules.yaml)",
    ),
    "quarantine": (
        "gitops_guard.quarantine",
        "QuarantineFile",
        "gitops-guard quarantine list (.gitops-guard/quarantine.yaml)",
    ),
    "exemptions": (
        "gitops_guard.exemptions",
        "ExemptionsFile",
        "gitops-guard error-budget exemptions (.gitops-guard/exemptions.yaml)",
    ),
}
"""Schema name -> (module, model class, title)."""

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def model(name: str) -> type[BaseModel]:
    """The model class behind the schema ``name``."""
    module, attr, _ = MODELS[name]
    found = getattr(importlib.import_module(module), attr)
    assert isinstance(found, type) and issubclass(found, BaseModel)
    return found


def generate(name: str) -> dict[str, Any]:
    """The JSON Schema of the file kind ``name`` (``slo``, ``rules``, ``quarantine``)."""
    _, _, title = MODELS[name]
    body = model(name).model_json_schema(by_alias=True, mode="validation")
    return {"$schema": DIALECT, "title": title, **{k: v for k, v in body.items() if k != "title"}}


def render(name: str) -> str:
    """The schema as the shipped file's text (sorted keys, two-space indent, newline)."""
    return json.dumps(generate(name), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def file_name(name: str) -> str:
    """``slo`` -> ``slo.schema.json``."""
    return f"{name}.schema.json"


def shipped(name: str) -> str:
    """The schema text shipped inside the package."""
    ref = resources.files("gitops_guard.config").joinpath("schemas").joinpath(file_name(name))
    return ref.read_text(encoding="utf-8")
