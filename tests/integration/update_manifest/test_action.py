"""action-update-manifest/action.yml, checked against the CLI and run the way a runner
runs it (bash, env: only), without act.

Behaviours covered:
- every input has a description and a string default, and maps to an INPUTS spec
  (the token input aside); every output is one the command writes;
- inputs reach the command through env: only (no ${{ }} inside run:);
- the install step builds a venv from uv.lock under $RUNNER_TOOL_CACHE, hands its
  python over as a step output, and a second step of the job reuses it;
- the run step, given the inputs as a runner would, pushes the image and writes
  the declared outputs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from gitrepo import Remote

from gitops_guard import promote
from gitops_guard.cli import update_manifest

ROOT = Path(__file__).resolve().parents[3]
ACTION = ROOT / "action-update-manifest" / "action.yml"


def _action() -> dict[str, Any]:
    return yaml.safe_load(ACTION.read_text())


def _expand(value: str, context: dict[str, str]) -> str:
    def sub(match: re.Match[str]) -> str:
        return context[match.group(1).strip()]

    return re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", sub, value)


def _run_step(step: dict[str, Any], context: dict[str, str], env: dict[str, str]) -> str:
    assert step["shell"] == "bash"
    assert "${{" not in step["run"], "expressions inside run: are forbidden"
    step_env = {k: _expand(str(v), context) for k, v in step.get("env", {}).items()}
    proc = subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        env={**env, **step_env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_inputs_and_outputs_match_the_cli() -> None:
    action = _action()
    inputs = action["inputs"]
    for name, spec in inputs.items():
        assert spec.get("description"), name
        assert isinstance(spec.get("default"), str), name
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", name), name
    assert set(inputs) - {"token"} == {spec.name for spec in update_manifest.INPUTS}
    # The result's outputs, the instant of the push, and every command's own duration.
    assert set(action["outputs"]) == set(promote.UpdateResult(changed=False).outputs()) | {
        "promoted-at",
        "duration-seconds",
    }
    for name, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.update.outputs.{name} }}}}"
    env = action["runs"]["steps"][1]["env"]
    for name in inputs:
        assert env[f"INPUT_{name.upper()}"] == f"${{{{ inputs.{name} }}}}"


def test_action_runs_like_a_runner(remote: Remote, tmp_path: Path) -> None:
    checkout = remote.clone(tmp_path / "workspace")
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    # The runner's tool cache, holding the pinned uv already (scripts/setup put the
    # same one in .venv): the install step builds the job's venv from uv.lock.
    tool_cache = tmp_path / "tool-cache"
    uv_version = re.search(
        r"^uv==(\S+)", (ROOT / "scripts" / "uv-requirements.txt").read_text(), re.MULTILINE
    )
    assert uv_version
    uv_bin = tool_cache / "gitops-guard" / f"uv-{uv_version.group(1)}" / "bin"
    uv_bin.mkdir(parents=True)
    (uv_bin / "uv").symlink_to(Path(sys.prefix) / "bin" / "uv")
    github_output = tmp_path / "install-output"
    github_output.touch()
    base_env = {
        **os.environ,
        "RUNNER_TEMP": str(runner_temp),
        "RUNNER_TOOL_CACHE": str(tool_cache),
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
    }
    action = _action()
    install, update = action["runs"]["steps"]
    context = {"github.action_path": str(ACTION.parent)}
    _run_step(install, context, {**base_env, "GITHUB_OUTPUT": str(github_output)})
    python = github_output.read_text().strip().removeprefix("python=")
    assert python.startswith(f"{tool_cache}/gitops-guard/"), python
    assert Path(python).exists()
    # A second gitops-guard step of the job reuses that venv.
    github_output.write_text("")
    again = _run_step(install, context, {**base_env, "GITHUB_OUTPUT": str(github_output)})
    assert "using" in again
    assert github_output.read_text().strip() == f"python={python}"

    inputs = {name: spec["default"] for name, spec in action["inputs"].items()}
    inputs.update({"dir": str(checkout), "image": "nginx:1.25.1", "push": "true"})
    context.update({f"inputs.{k}": v for k, v in inputs.items()})
    context["steps.install.outputs.python"] = python
    step_output = tmp_path / "update-output"
    step_output.touch()
    out = _run_step(
        update, context, {**base_env, "GITHUB_OUTPUT": str(step_output), "INPUT_TOKEN": ""}
    )
    assert "pushed" in out
    written = step_output.read_text()
    assert f"commit-sha={remote.tip()}" in written
    assert "changed=true" in written
    assert "nginx:1.25.1" in remote.show("apps/web/deployment.yaml")
