"""Quarantine file: parsing, matching, adding, lifting.

- a missing file is an empty quarantine; ``refused`` returns nothing
- entries match the same repository with the same tag or digest, Docker Hub normalised
- a digest alone never matches a tag alone
- adding keeps existing entries and never duplicates an image; lifting removes it
- render/parse round-trips every field; the header says how to lift
- bad YAML and unknown keys are ConfigError (exit 2) naming the file (and line for YAML)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_guard import errors, quarantine

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("nginx:1.27", "docker.io/library/nginx:1.27", True),
        ("ghcr.io/acme/web:1.4.0", "ghcr.io/acme/web:1.4.0", True),
        ("ghcr.io/acme/web:1.4.0", "ghcr.io/acme/web:1.4.1", False),
        ("ghcr.io/acme/web:1.4.0", "ghcr.io/acme/api:1.4.0", False),
        (f"ghcr.io/acme/web@{DIGEST}", f"ghcr.io/acme/web:9@{DIGEST}", True),
        (f"ghcr.io/acme/web@{DIGEST}", "ghcr.io/acme/web:1.4.0", False),
        ("ghcr.io/acme/web", "ghcr.io/acme/web:latest", True),
    ],
)
def test_same_image(a: str, b: str, same: bool) -> None:
    assert quarantine.same_image(a, b) is same
    assert quarantine.same_image(b, a) is same


def test_missing_file_refuses_nothing(tmp_path: Path) -> None:
    assert quarantine.refused(tmp_path, ["ghcr.io/acme/web:1.4.0"]) == []
    assert quarantine.load(tmp_path).entries == ()


def test_add_save_refused_and_lift(tmp_path: Path) -> None:
    q = quarantine.with_added(
        quarantine.Quarantine(),
        [
            quarantine.QuarantineEntry(
                "ghcr.io/acme/web:1.4.0", reason="gate failed", commit="abc"
            ),
            quarantine.QuarantineEntry("ghcr.io/acme/web:1.4.0", reason="again"),
        ],
    )
    assert len(q.entries) == 1
    quarantine.save(tmp_path, q)
    text = (tmp_path / quarantine.PATH).read_text()
    assert text.startswith("# Images gitops-guard refuses")
    assert "quarantine lift" in text
    found = quarantine.refused(tmp_path, ["ghcr.io/acme/web:1.4.0", "ghcr.io/acme/web:1.3.0"])
    assert [e.image for e in found] == ["ghcr.io/acme/web:1.4.0"]
    assert found[0].reason == "gate failed"
    assert found[0].commit == "abc"
    lifted = quarantine.without(quarantine.load(tmp_path), "ghcr.io/acme/web:1.4.0")
    assert lifted.entries == ()


def test_render_parse_round_trip() -> None:
    entry = quarantine.QuarantineEntry(
        image="ghcr.io/acme/web:1.4.0",
        reason="slo-gate failed: error-ratio",
        since="2026-11-26T06:00:00Z",
        commit="3f2c",
        run_url="https://github.com/acme/app/actions/runs/1",
    )
    q = quarantine.Quarantine((entry,))
    assert quarantine.parse(quarantine.render(q)) == q


def test_bad_yaml_names_file_and_line() -> None:
    with pytest.raises(errors.ConfigError) as caught:
        quarantine.parse("images:\n  - image: [unclosed\n", source="q.yaml")
    assert caught.value.source is not None
    assert caught.value.source.startswith("q.yaml:")
    assert caught.value.exit_code == 2


def test_unknown_key_is_refused() -> None:
    with pytest.raises(errors.ConfigError) as caught:
        quarantine.parse("images:\n  - image: web:1\n    colour: red\n", source="q.yaml")
    assert "colour" in caught.value.message
