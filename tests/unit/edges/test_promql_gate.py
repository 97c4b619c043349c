"""A PromQL typo in slo.yaml is bad configuration (exit 2), never a rollback.

Covers: every query of the file (objectives, baselines, the traffic guard,
generated burn-rate queries) is parsed offline when the file is loaded, after
``${var}`` substitution; a typo is exit 2 naming FILE:LINE of its key, every typo
at once; a function the parser does not know is left to Prometheus;
``slo-gate --check`` validates with no Prometheus (0 for every example file, 2 for
a typo); a query Prometheus rejects as ``bad_data`` (HTTP 400) at gate time is exit
2 naming the file and line; and the reusable workflow's rollback decision
(gitops-deploy.yml, job ``rollback``), evaluated on what the gate step leaves
behind, rolls back on fail and inconclusive and on a query Prometheus rejects after
promotion, while a typo is refused by the plan job's preflight before anything is
promoted, so there is nothing to roll back.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gitops_guard import cli, errors
from gitops_guard.prometheus import client as prom
from gitops_guard.rollback import rules
from gitops_guard.slo import config

ROOT = Path(__file__).resolve().parents[3]

HEAD = "name: web\nvariables:\n  app: web\n  window: 5m\n"


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ("objectives:\n  - {name: a, query: 'sum(rate(x[5m])', pass: '>= 1'}\n", 6, "unclosed"),
        ("objectives:\n  - {name: a, query: 'rate(x[5x])', pass: '>= 1'}\n", 6, "5x"),
        ("objectives:\n  - {name: a, query: 'up{', pass: '>= 1'}\n", 6, "braces"),
        ("objectives:\n  - {name: a, query: 'foo bar', pass: '>= 1'}\n", 6, "invalid promql"),
        (
            "objectives:\n  - name: a\n    query: up\n    baseline: 'rate(x[${window}]'\n"
            "    pass: '<= +10%'\n",
            8,
            "objectives[0].baseline",
        ),
        (
            "analysis:\n  minRequests: {query: 'sum(increase(x[10m])', value: 1}\n"
            "objectives:\n  - {name: a, query: up, pass: '>= 1'}\n",
            6,
            "analysis.minRequests.query",
        ),
        (
            "objectives:\n  - name: a\n    burnRate: {target: 0.999, errors: 'x{', total: y}\n",
            7,
            "objectives[0].burnRate",
        ),
        ("objectives:\n  - {name: a, query: 'rate(x[$window])', pass: '>= 1'}\n", 6, "'$'"),
    ],
)
def test_a_query_that_does_not_parse_names_its_line(body: str, line: int, words: str) -> None:
    with pytest.raises(errors.ConfigError) as caught:
        config.load_text(HEAD + body, source="slo.yaml")
    message = caught.value.render()
    assert f"slo.yaml:{line}:" in message, message
    assert words in message, message
    assert "not valid PromQL" in message
    assert caught.value.exit_code == errors.EXIT_INPUT


def test_every_typo_at_once_and_variables_substituted_first() -> None:
    text = HEAD + (
        "objectives:\n"
        "  - {name: a, query: 'rate(http_requests_total{app=\"${app}\"}[${window}])', pass: '>0'}\n"
        "  - {name: b, query: 'sum(x', pass: '>= 1'}\n"
        "  - {name: c, query: 'avg(y[5m]', pass: '>= 1'}\n"
    )
    with pytest.raises(errors.ConfigError) as caught:
        config.load_text(text, source="slo.yaml")
    message = caught.value.render()
    assert "(2 problems)" in message
    assert "slo.yaml:7:" in message and "slo.yaml:8:" in message
    assert "slo.yaml:6:" not in message


@pytest.mark.parametrize(
    "query",
    [
        'sum(rate(http_requests_total{app="${app}",code!~"5.."}[${window}]))',
        "histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))",
        "max_over_time(up[1h:1m] offset 5m)",
        "a_function_from_a_newer_prometheus(up)",
        'label_replace(up, "x", "$$1", "job", "(.*)")',
    ],
)
def test_valid_queries_load(query: str) -> None:
    cfg = config.load_text(
        HEAD + f"objectives:\n  - name: a\n    query: '{query}'\n    pass: '>= 0'\n",
        source="slo.yaml",
    )
    assert cfg.where(cfg.objectives[0].promql) == "slo.yaml:7"


EXAMPLES = sorted(
    p
    for p in [
        *ROOT.joinpath("examples").rglob("slo*.yaml"),
        *ROOT.joinpath("tests").rglob("*.yaml"),
    ]
    if p.name.startswith("slo") and "objectives:" in p.read_text(encoding="utf-8")
)


@pytest.mark.parametrize("path", EXAMPLES, ids=[str(p.relative_to(ROOT)) for p in EXAMPLES])
def test_check_accepts_every_example_offline(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["slo-gate", "--check", "--config", str(path)]) == 0
    assert "valid SLO file" in capsys.readouterr().out


def test_check_refuses_a_typo_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "slo.yaml"
    path.write_text(HEAD + "objectives:\n  - {name: a, query: 'sum(x', pass: '>= 1'}\n")
    assert cli.main(["slo-gate", "--check", "--config", str(path)]) == 2
    assert f"{path}:6" in capsys.readouterr().err


# ------------------------------------------------------------------ the workflow's decision
TYPO = HEAD + (
    "objectives:\n"
    "  - name: availability\n"
    "    query: 'sum(rate(http_requests_total{app=\"${app}\"}[${window}])'\n"
    "    pass: '>= 0.99'\n"
    "    key: true\n"
)
PROMETHEUS_REJECTS = HEAD + (
    "objectives:\n"
    "  - name: availability\n"
    "    query: 'sum(rate(http_requests_total{app=\"${app}\"}[${window}]))'\n"
    "    pass: '>= 0.99'\n"
    "    key: true\n"
)


def _rollback_condition() -> str:
    workflow = yaml.safe_load((ROOT / ".github/workflows/gitops-deploy.yml").read_text())
    condition = str(workflow["jobs"]["rollback"]["if"])
    return condition.strip().removeprefix("${{").removesuffix("}}").strip()


def _evaluate(expression: str, context: Mapping[str, Any]) -> bool:
    """GitHub's expression language, as much of it as the rollback condition uses."""

    def lookup(path: str) -> Any:
        node: Any = context
        for part in path.split("."):
            node = node.get(part, "") if isinstance(node, Mapping) else ""
        return node

    python = re.sub(r"'([^']*)'", lambda m: repr(m[1]), expression)
    python = re.sub(
        r"\b((?:inputs|needs|steps)(?:\.[A-Za-z0-9_-]+)+)", lambda m: f"lookup({m[1]!r})", python
    )
    python = python.replace("!cancelled()", "True").replace("&&", " and ").replace("||", " or ")
    python = re.sub(r"!(?!=)", " not ", python)
    python = python.replace("fromJSON(", "json.loads(")
    names = {"lookup": lookup, "json": json, "contains": lambda seq, item: item in seq}
    return bool(eval(python, {"__builtins__": {}}, names))  # noqa: S307 - a test's own text


def _needs(
    verdict: str, argocd_result: str = "done", verify: str = "success", promote: str = "success"
) -> dict[str, Any]:
    commit = "a" * 40 if promote == "success" else ""
    return {
        "inputs": {"rollback-mode": "commit"},
        "needs": {
            "promote": {"result": promote, "outputs": {"commit": commit}},
            "verify": {
                "result": verify,
                "outputs": {"verdict": verdict, "argocd-result": argocd_result},
            },
        },
    }


@pytest.mark.parametrize(
    ("verdict", "rolls_back"),
    [("fail", True), ("inconclusive", True), ("pass", False), ("warn", False), ("", False)],
)
def test_the_condition_evaluator_reads_the_workflow_as_github_does(
    verdict: str, rolls_back: bool
) -> None:
    assert _evaluate(_rollback_condition(), _needs(verdict)) is rolls_back
    assert _evaluate(_rollback_condition(), _needs(verdict, "degraded")) is True


def _gate_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> tuple[int, dict[str, str]]:
    """Run the slo-gate step as action-slo-gate does; return its exit code and outputs."""
    slo = tmp_path / "slo.yaml"
    slo.write_text(text)
    outputs = tmp_path / "github_output"
    outputs.write_text("")
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    monkeypatch.setenv("INPUT_CONFIG", str(slo))
    monkeypatch.setenv("INPUT_PROMETHEUS-URL", "http://prometheus.test")
    monkeypatch.setenv("INPUT_REPORT", str(tmp_path / "gate.json"))
    monkeypatch.setenv("INPUT_HISTORY", "0")
    code = cli.main(["slo-gate", "--from-action-inputs"])
    found: dict[str, str] = {}
    for line in outputs.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            found[key] = value
    return code, found


def _prometheus_answering(monkeypatch: pytest.MonkeyPatch, response: httpx.Response) -> None:
    transport = httpx.MockTransport(lambda request: response)
    monkeypatch.setattr(
        prom,  # the module the slo-gate flow reads the client from
        "PrometheusClient",
        functools.partial(prom.PrometheusClient, transport=transport, sleep=lambda s: None),
    )


def test_a_promql_typo_exits_2_before_promotion_so_nothing_is_rolled_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _prometheus_answering(monkeypatch, httpx.Response(500))  # never asked
    code, outputs = _gate_step(tmp_path, monkeypatch, TYPO)
    assert code == errors.EXIT_INPUT
    assert outputs.get("verdict", "") not in ("fail", "inconclusive")
    # The plan job's preflight loads the same file: exit 2, so promote never runs.
    (tmp_path / "gitops").mkdir()
    (tmp_path / "gitops" / "slo.yaml").write_text(TYPO, encoding="utf-8")
    assert (
        cli.main(
            [
                "preflight",
                "--dir",
                str(tmp_path / "gitops"),
                "--image",
                "web:1",
                "--slo-file",
                "slo.yaml",
                "--report",
                str(tmp_path / "preflight.json"),
            ]
        )
        == errors.EXIT_INPUT
    )
    problems = json.loads((tmp_path / "preflight.json").read_text("utf-8"))["problems"]
    assert any(p["input"] == "slo-file" and "PromQL" in p["message"] for p in problems)
    context = _needs("", verify="skipped", promote="skipped")
    assert _evaluate(_rollback_condition(), context) is False


def test_a_query_prometheus_rejects_as_bad_data_exits_2_naming_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _prometheus_answering(
        monkeypatch,
        httpx.Response(
            400,
            json={"status": "error", "errorType": "bad_data", "error": "parse error at char 7"},
        ),
    )
    code, outputs = _gate_step(tmp_path, monkeypatch, PROMETHEUS_REJECTS)
    assert code == errors.EXIT_INPUT
    err = capsys.readouterr().err
    assert f"{tmp_path / 'slo.yaml'}:7" in err
    assert "bad_data" in err
    # Found only after promotion: the new version must not stay live unverified, so the
    # workflow rolls back (the gate's exit 2 names the line; ArgoCD was reachable).
    context = _needs(outputs.get("verdict", ""), verify="failure")
    assert _evaluate(_rollback_condition(), context) is True


def test_an_unreachable_prometheus_still_reads_inconclusive_and_rolls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _prometheus_answering(monkeypatch, httpx.Response(503, text="down"))
    code, outputs = _gate_step(tmp_path, monkeypatch, PROMETHEUS_REJECTS)
    assert code == errors.EXIT_UNDECIDED
    assert outputs["verdict"] == "inconclusive"
    assert _evaluate(_rollback_condition(), _needs(outputs["verdict"], verify="failure")) is True


def test_rules_file_queries_are_parsed_too() -> None:
    text = "rules:\n  - name: burn\n    prometheus:\n      - {query: 'sum(rate(x[5m])', above: 1}\n"
    with pytest.raises(errors.ConfigError) as caught:
        rules.parse_rules(text, source="rules.yaml")
    assert "rules.yaml:4: rules[0].prometheus[0].query: not valid PromQL" in caught.value.render()
    for path in sorted(ROOT.joinpath("examples").rglob("rollback-rules.yaml")):
        assert rules.load_rules(path).rules
