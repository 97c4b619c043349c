"""``slo-gate --phase pre`` against the real Prometheus (the backfilled hour).

Covers: a budget left passes with the share left in the outputs; a spent budget
fails (exit 1) naming the objective and the share used; a spent budget passes
under an exemption from the exemptions file, reported for the deploy commit's
trailer, while an expired one or one for another kind of change does not; no
traffic is inconclusive (exit 3); a bad exemptions file is exit 2 naming file:line.
"""

from __future__ import annotations

import json
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

from gitops_guard import cli
from gitops_guard_lab import promstack

EVAL_AT = datetime(2026, 1, 1, 0, 50, tzinfo=timezone.utc)
"""Inside the backfilled hour, as the ``history`` fixture's scenarios are judged
(``EVAL_AT`` of this folder's conftest): changes start at minute 40."""

SLO = textwrap.dedent(
    """\
    name: budget
    objectives:
      - name: availability
        burnRate:
          target: 0.99
          errors: http_requests_total{app="${app}",code=~"5.."}
          total: http_requests_total{app="${app}"}
          period: 1h
    """
)


def _run(
    tmp_path: Path, server: promstack.Server, app: str, *extra: str
) -> tuple[int, dict[str, object], str]:
    slo = tmp_path / "slo.yaml"
    slo.write_text(SLO)
    report = tmp_path / f"pre-{app}.json"
    output = tmp_path / "github_output"
    output.write_text("")
    code = cli.main(
        [
            "slo-gate",
            "--phase",
            "pre",
            "--config",
            str(slo),
            "--var",
            f"app={app}",
            "--prometheus-url",
            server.url,
            "--at",
            EVAL_AT.isoformat(),
            "--report",
            str(report),
            *extra,
        ]
    )
    return code, json.loads(report.read_text()), output.read_text()


@pytest.fixture(autouse=True)
def _outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "github_output"))


def _exemptions(tmp_path: Path, until: str, kinds: str = "[deploy]") -> Path:
    path = tmp_path / ".gitops-guard" / "exemptions.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "version: 1\nexemptions:\n"
        "  - who: alice@example.com\n"
        "    why: security fix for CVE-2026-1234\n"
        f'    until: "{until}"\n'
        f"    kinds: {kinds}\n"
    )
    return path


def test_a_budget_left_passes(tmp_path: Path, history: promstack.Server) -> None:
    code, data, outputs = _run(tmp_path, history, "healthy")
    assert code == 0, data
    budget = data["budgets"][0]  # type: ignore[index]
    assert 0.85 < budget["remaining"] < 0.95  # 0.1% errors of a 1% budget
    assert "budget-remaining" in outputs


def test_a_spent_budget_fails_naming_the_objective(
    tmp_path: Path, history: promstack.Server, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data, _ = _run(tmp_path, history, "error-spike")
    assert code == 1, data
    assert data["verdict"] == "fail"
    assert "availability" in str(data["reason"]) and "budget used" in str(data["reason"])
    assert data["budgets"][0]["remaining"] < 0  # type: ignore[index]


def test_an_exemption_lets_a_deploy_through_and_is_reported_for_the_trailer(
    tmp_path: Path, history: promstack.Server
) -> None:
    path = _exemptions(tmp_path, "2099-01-01T00:00:00Z")
    code, data, outputs = _run(tmp_path, history, "error-spike", "--exemptions", str(path))
    assert code == 0, data
    assert data["exemption"] == (
        "alice@example.com until 2099-01-01T00:00:00Z: security fix for CVE-2026-1234"
    )
    assert "Gitops-Guard-Exemption: alice@example.com" in outputs


@pytest.mark.parametrize(
    ("until", "kinds", "extra"),
    [
        ("2020-01-01T00:00:00Z", "[deploy]", ()),
        ("2099-01-01T00:00:00Z", "[rollback]", ()),
        ("2099-01-01T00:00:00Z", "[deploy]", ("--change-kind", "config")),
    ],
)
def test_an_exemption_that_does_not_cover_the_change_does_not_help(
    tmp_path: Path, history: promstack.Server, until: str, kinds: str, extra: tuple[str, ...]
) -> None:
    path = _exemptions(tmp_path, until, kinds)
    code, data, _ = _run(tmp_path, history, "error-spike", "--exemptions", str(path), *extra)
    assert code == 1, data


def test_no_traffic_is_inconclusive(tmp_path: Path, history: promstack.Server) -> None:
    code, data, _ = _run(tmp_path, history, "no-traffic")
    assert code == 3, data


def test_a_bad_exemptions_file_is_exit_2_naming_the_line(
    tmp_path: Path, history: promstack.Server, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _exemptions(tmp_path, "2099-01-01T00:00:00")  # no timezone
    slo = tmp_path / "slo.yaml"
    slo.write_text(SLO)
    code = cli.main(
        [
            "slo-gate",
            "--phase",
            "pre",
            "--config",
            str(slo),
            "--var",
            "app=healthy",
            "--prometheus-url",
            history.url,
            "--exemptions",
            str(path),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert f"{path}:5" in err and "until" in err
