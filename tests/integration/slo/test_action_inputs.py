"""slo-gate as the composite action runs it: inputs from INPUT_* variables, runner files.

Behaviours covered:
- --from-action-inputs reads config, prometheus-url, vars (one per line), report, at;
- outputs verdict, score, report-path, failed-objectives, no-data-objectives are written;
- the job summary has the table and one Mermaid xychart per objective;
- a failing objective gets an ::error annotation, a warn or inconclusive verdict a ::warning;
- the Prometheus token is masked and appears in no output, summary or report.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitops_guard import cli
from gitops_guard_lab import promstack

ROOT = Path(__file__).resolve().parents[3]
AT = "2026-01-01T00:50:00Z"
TOKEN = "prom-secret-token-0123456789"


def _outputs(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key] = value
    return out


@pytest.mark.parametrize(
    ("app", "code", "verdict", "annotation"),
    [
        ("error-spike", 1, "fail", "::error title=SLO objective failed: availability"),
        ("warn-band", 0, "warn", "::warning title=SLO gate sre-demo-app: warn"),
    ],
)
def test_action_inputs_outputs_summary_annotations(
    history: promstack.Server,
    runner_env: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    app: str,
    code: int,
    verdict: str,
    annotation: str,
) -> None:
    report = tmp_path / "gate.json"
    monkeypatch.setenv("INPUT_CONFIG", str(ROOT / "examples" / "slo.yaml"))
    monkeypatch.setenv("INPUT_PROMETHEUS-URL", history.url)
    monkeypatch.setenv("INPUT_VARS", f"app={app}\nwindow=5m\n")
    monkeypatch.setenv("INPUT_REPORT", str(report))
    monkeypatch.setenv("INPUT_AT", AT)
    monkeypatch.setenv("INPUT_ONCE", "false")
    monkeypatch.setenv("INPUT_INSECURE", "false")
    monkeypatch.setenv("PROMETHEUS_TOKEN", TOKEN)

    assert cli.main(["slo-gate", "--from-action-inputs"]) == code

    outputs = _outputs(runner_env["output"])
    assert outputs["verdict"] == verdict
    assert outputs["report-path"] == str(report)
    assert float(outputs["score"]) == json.loads(report.read_text())["score"]
    if verdict == "fail":
        assert outputs["failed-objectives"] == "availability,error-rate"
    summary = runner_env["summary"].read_text()
    assert f"**{verdict}**" in summary
    assert "| state | objective | value | pass | baseline | weight | reason |" in summary
    assert summary.count("xychart-beta") == 5
    assert '"00:20:00", "00:21:00"' in summary  # history before the measurement
    stdout = capsys.readouterr().out
    assert annotation in stdout.replace("%3A", ":")
    assert "::add-mask::" + TOKEN in stdout
    for text in (summary, runner_env["output"].read_text(), report.read_text()):
        assert TOKEN not in text


def test_inconclusive_verdict_is_a_warning_annotation(
    history: promstack.Server,
    runner_env: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("INPUT_CONFIG", str(ROOT / "examples" / "slo.yaml"))
    monkeypatch.setenv("INPUT_PROMETHEUS-URL", history.url)
    monkeypatch.setenv("INPUT_VARS", "app=no-traffic\nwindow=5m\n")
    monkeypatch.setenv("INPUT_AT", AT)

    assert cli.main(["slo-gate", "--from-action-inputs"]) == 3

    assert _outputs(runner_env["output"])["verdict"] == "inconclusive"
    stdout = capsys.readouterr().out.replace("%3A", ":")
    assert "::warning title=SLO gate sre-demo-app: inconclusive" in stdout
    assert "::error " not in stdout


def test_bad_slo_file_exits_2_naming_file_and_line(
    runner_env: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    config = tmp_path / "slo.yaml"
    config.write_text("name: x\nobjectives:\n  - name: a\n    query: up\n    pass: 'about 1'\n")
    code = cli.main(["slo-gate", "--config", str(config), "--prometheus-url", "http://127.0.0.1:9"])
    assert code == 2
    stdout = capsys.readouterr().out
    assert f"::error title=ConfigError,file={config},line=5::" in stdout.replace("%3A", ":")
