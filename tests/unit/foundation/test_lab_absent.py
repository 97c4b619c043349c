"""The runtime without the lab distribution (gitops-guard-lab not installed).

Covers: ``gitops-guard lab up|demo|down`` exits 2 with an install hint and no
traceback when ``gitops_guard_lab`` cannot be imported. (That no other runtime
module imports the lab is an import-linter contract in pyproject.toml.)
"""

from __future__ import annotations

import sys

import pytest

from gitops_guard import cli


@pytest.mark.parametrize("action", ["up", "demo", "down"])
def test_lab_without_the_lab_distribution_is_exit_2_with_a_hint(
    action: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "gitops_guard_lab", None)  # import raises ImportError
    assert cli.main(["lab", action]) == 2
    err = capsys.readouterr().err
    assert "pip install gitops-guard-lab" in err
    assert "Traceback" not in err
