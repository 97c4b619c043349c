"""Bad files given to rollback are exit 2 naming the file, and nothing is pushed.

- an --evidence report with a junk key, a binary one, or one without a verdict
- a quarantine.yaml in the GitOps repository with an invalid image or version: 99,
  met while a failing gate quarantines the reverted image
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rollbackrepo import GitopsRepo, gate_report

from gitops_guard import quarantine

WEB1, WEB2 = "ghcr.io/acme/web:1.0.0", "ghcr.io/acme/web:1.1.0"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (json.dumps({"verdict": "fail", "objectives": [], "junk": True}), "unknown key 'junk'"),
        (json.dumps({"objectives": []}), "'verdict' is required"),
        ("\x00\x01binary", "binary"),
        ("{not json", "the gate report is not JSON"),
    ],
)
def test_bad_evidence_is_exit_2_and_pushes_nothing(
    gitops: GitopsRepo, run_cli, tmp_path: Path, content: str, words: str
) -> None:
    deploy = gitops.deploy("web", WEB1, WEB2)
    head = gitops.remote_head()
    report = tmp_path / "gate.json"
    report.write_text(content)
    code, out = run_cli("revert", "--dir", gitops.work, "--commit", deploy, "--evidence", report)
    assert code == 2, out
    assert words in out
    assert str(report) in out
    assert gitops.remote_head() == head


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("version: 1\nimages:\n  - image: 'not an image!'\n", 3, "not an image reference"),
        ("version: 99\nimages: []\n", 1, "version: 99"),
    ],
)
def test_bad_quarantine_file_is_exit_2_naming_it(
    gitops: GitopsRepo, run_cli, tmp_path: Path, text: str, line: int, words: str
) -> None:
    gitops.commit_file(quarantine.PATH, text, "quarantine: hand edit")
    deploy = gitops.deploy("web", WEB1, WEB2)
    head = gitops.remote_head()
    report = gate_report(tmp_path / "gate.json")
    code, out = run_cli("revert", "--dir", gitops.work, "--commit", deploy, "--evidence", report)
    assert code == 2, out
    assert words in out
    assert f"quarantine.yaml:{line}" in out
    assert gitops.remote_head() == head
