"""JSON Schemas of the user-written files (``gitops-guard schema slo|rules|quarantine``).

Covers: the CLI prints the schema generated from each model and writes it with
``--output``; the copies shipped in the package and in docs/schemas/ equal the
generated text (regenerate with ``gitops-guard schema NAME --output FILE``); every
example file validates against its schema and names it on a
``# yaml-language-server: $schema=`` first line that resolves to docs/schemas;
the schemas refuse an unknown key and a bad duration as the loader does, and
advertise the one key style (camelCase) with version 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_guard import cli
from gitops_guard.config import schemas

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parents[3]
NAMES = sorted(schemas.MODELS)
EXAMPLES = {
    "examples/slo.yaml": "slo",
    "examples/gitops-repo/slo.yaml": "slo",
    "examples/rollback-rules.yaml": "rules",
    "examples/gitops-repo/rollback-rules.yaml": "rules",
}


@pytest.mark.parametrize("name", NAMES)
def test_cli_prints_the_generated_schema(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["schema", name]) == 0
    printed = capsys.readouterr().out
    assert printed == schemas.render(name)
    data = json.loads(printed)
    assert data["$schema"] == schemas.DIALECT
    assert data["additionalProperties"] is False
    assert data["properties"]["version"]["const"] == 1
    jsonschema.Draft202012Validator.check_schema(data)


def test_cli_writes_the_schema_and_refuses_an_unknown_kind(tmp_path: Path) -> None:
    out = tmp_path / "slo.schema.json"
    assert cli.main(["schema", "slo", "--output", str(out)]) == 0
    assert out.read_text() == schemas.render("slo")
    assert cli.main(["schema", "nope"]) == 2


@pytest.mark.parametrize("name", NAMES)
def test_shipped_copies_are_fresh(name: str) -> None:
    expected = schemas.render(name)
    file = schemas.file_name(name)
    fix = (
        f"a model changed: run `gitops-guard schema {name} --output "
        f"shared/gitops_guard/config/schemas/{file}` and copy it to docs/schemas/{file}"
    )
    assert schemas.shipped(name) == expected, fix
    docs = ROOT / "docs" / "schemas" / file
    assert docs.read_text(encoding="utf-8") == expected, fix


def _validator(name: str) -> Any:
    return jsonschema.Draft202012Validator(schemas.generate(name))


@pytest.mark.parametrize(("path", "name"), sorted(EXAMPLES.items()))
def test_examples_validate_and_name_their_schema(path: str, name: str) -> None:
    file = ROOT / path
    first = file.read_text(encoding="utf-8").splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix), first
    target = (file.parent / first.removeprefix(prefix)).resolve()
    assert target == (ROOT / "docs" / "schemas" / schemas.file_name(name)).resolve()
    errors = list(_validator(name).iter_errors(yaml.safe_load(file.read_text())))
    assert errors == [], [e.message for e in errors]


@pytest.mark.parametrize(
    ("name", "data", "valid"),
    [
        ("slo", {"name": "a", "objectives": [{"name": "x", "query": "up", "pass": ">= 1"}]}, True),
        ("slo", {"name": "a", "objectives": [], "junk": 1}, False),
        ("slo", {"name": "a", "analysis": {"interval": "1h30m"}, "objectives": []}, True),
        ("slo", {"name": "a", "analysis": {"interval": "1.5h"}, "objectives": []}, False),
        ("slo", {"name": "a", "version": 99, "objectives": []}, False),
        ("rules", {"rules": [{"name": "r", "alert": {"alertname": "A"}, "maxRollbacks": 2}]}, True),
        (
            "rules",
            {"rules": [{"name": "r", "alert": {"alertname": "A"}, "cooldown": "30m1h"}]},
            False,
        ),
        ("quarantine", {"version": 1, "images": [{"image": "web:1", "runUrl": "u"}]}, True),
        ("quarantine", {"images": [{"image": "web:1", "colour": "red"}]}, False),
    ],
)
def test_schemas_judge_like_the_loader(name: str, data: dict[str, Any], valid: bool) -> None:
    assert _validator(name).is_valid(data) is valid
