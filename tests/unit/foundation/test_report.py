"""gitops_guard.report basics: atomic JSON writes that open with the gitops-guard
version, and escaped Markdown tables."""

from __future__ import annotations

import json
from pathlib import Path

import gitops_guard
from gitops_guard import report


def test_write_json_is_atomic_and_readable(tmp_path: Path) -> None:
    target = report.write_json(tmp_path / "sub" / "r.json", {"verdict": "pass", "n": 1})
    written = json.loads(target.read_text())
    assert written == {"gitops_guard_version": gitops_guard.__version__, "verdict": "pass", "n": 1}
    assert next(iter(written)) == "gitops_guard_version"
    assert [p.name for p in target.parent.iterdir()] == ["r.json"]


def test_markdown_table_escapes_pipes_and_newlines() -> None:
    table = report.markdown_table(["a", "b"], [["x|y", "1\n2"], [None, 3]])
    assert table.splitlines() == ["| a | b |", "|---|---|", "| x\\|y | 1<br>2 |", "|  | 3 |"]
