"""action-slo-gate/action.yml agrees with the subcommands it runs.

Behaviours covered:
- every INPUT_* variable of the gate step is an input slo-gate reads (cli.slo_gate.INPUTS),
  and every one of those is passed; the same for the wait step and argocd-wait;
- every action input reaches a step, through env only (no ${{ }} inside run:);
- the wait step runs only when argocd-server and argocd-app are set;
- the declared outputs come from the two steps' outputs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_guard.cli import argocd_wait, slo_gate

ACTION = Path(__file__).resolve().parents[3] / "action-slo-gate" / "action.yml"


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    return data


def _step(action: dict[str, Any], step_id: str) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [s for s in action["runs"]["steps"] if s.get("id") == step_id]
    assert len(steps) == 1
    return steps[0]


def _inputs_in_env(step: dict[str, Any]) -> set[str]:
    return {k.removeprefix("INPUT_").lower() for k in step["env"] if k.startswith("INPUT_")}


@pytest.mark.parametrize(
    ("step_id", "module"), [("gate", slo_gate), ("wait", argocd_wait)], ids=["gate", "wait"]
)
def test_step_env_matches_the_subcommand_inputs(
    action: dict[str, Any], step_id: str, module: Any
) -> None:
    step = _step(action, step_id)
    wanted = {spec.name for spec in module.INPUTS}
    passed = _inputs_in_env(step)
    assert passed <= wanted, passed - wanted
    assert "--from-action-inputs" in step["run"]
    assert "${{" not in step["run"]


def test_gate_step_passes_every_gate_input(action: dict[str, Any]) -> None:
    assert _inputs_in_env(_step(action, "gate")) == {spec.name for spec in slo_gate.INPUTS}


def test_every_action_input_reaches_a_step(action: dict[str, Any]) -> None:
    used = set()
    for step in action["runs"]["steps"]:
        for value in (step.get("env") or {}).values():
            used.update(re.findall(r"\$\{\{ inputs\.([a-z0-9-]+) \}\}", str(value)))
    assert set(action["inputs"]) == used
    for name, spec in action["inputs"].items():
        assert isinstance(spec.get("default"), str), name
        assert spec.get("description"), name


def test_wait_only_with_argocd_inputs(action: dict[str, Any]) -> None:
    condition = _step(action, "wait")["if"]
    assert "inputs.argocd-server != ''" in condition
    assert "inputs.argocd-app != ''" in condition


def test_outputs_come_from_the_steps(action: dict[str, Any]) -> None:
    outputs = action["outputs"]
    for name in ("verdict", "score", "report-path", "failed-objectives", "no-data-objectives"):
        assert outputs[name]["value"] == f"${{{{ steps.gate.outputs.{name} }}}}"
    assert outputs["argocd-result"]["value"] == "${{ steps.wait.outputs.result }}"
