"""`gitops-guard metrics` on real git histories (and the GitHub fake's deployments).

Covers: JSON numbers of a small history; the environment from the changed paths;
records from GitHub add lead time and recovery from synced_at/restored_at; the
table, HTML page and job summary show the JSON's numbers; an empty period is an
empty report that says why (exit 0, nulls); bad input is exit 2 naming the flag: a
period that does not parse, an unknown environment, a history without trailers,
a folder that is not a checkout.
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
import responses
from fakegithub import FakeGitHub
from gitops_history import Step, build

from gitops_guard import cli

T0 = 1_764_547_200  # 2025-12-01T00:00:00Z
DAY = 86400
UNTIL = "2025-12-11T00:00:00Z"


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, list[str]]:
    steps = [
        Step(T0 + 1 * DAY, "production", "1.1"),
        Step(T0 + 1 * DAY + 3600, "staging", "1.2"),
        Step(T0 + 2 * DAY, "production", "1.2"),
        Step(T0 + 2 * DAY + 900, "production", reverts=2),
        Step(T0 + 3 * DAY, "production", plain=True),
        Step(T0 + 5 * DAY, "production", "1.3"),
        Step(T0 + 6 * DAY, "production", "1.4"),
        Step(T0 + 6 * DAY + 600, "production", "1.3", rollback_to=True),
    ]
    root = tmp_path / "gitops"
    return root, build(root, steps)


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _metrics(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["metrics", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_of_a_small_history(
    repo: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, shas = repo
    code, out, _ = _metrics(
        capsys,
        "--dir",
        str(root),
        "--environment",
        "production",
        "--since",
        "10d",
        "--until",
        UNTIL,
        "--format",
        "json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["deploys"] == 6  # 1.1, 1.2, its revert, 1.3, 1.4, the rollback-to
    assert data["rollbacks"] == 2
    assert data["failed_deploys"] == 2  # 1.2 (reverted) and 1.4 (rolled back to 1.3)
    assert data["deployment_frequency_per_day"] == pytest.approx(0.6)
    assert data["change_fail_rate"] == pytest.approx(2 / 6, abs=1e-6)
    assert data["rework_rate"] == pytest.approx(2 / 6, abs=1e-6)
    assert data["lead_time_seconds"] is None  # no records: no app commit times
    assert data["recovery_time_seconds"] == {"median": 750.0, "p90": 900.0, "count": 2}
    assert [w["deploys"] for w in data["series"]["deploys_per_week"]] == [6, 0]
    assert {p["commit"] for p in data["series"]["recovery_time"]} == {shas[2], shas[6]}


def test_all_environments_and_table(
    repo: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = repo
    code, out, _ = _metrics(capsys, "--dir", str(root), "--since", "10d", "--until", UNTIL)
    assert code == 0
    assert "DORA metrics: all environments, 2025-12-01 to 2025-12-11" in out
    assert "deploys                          7" in out  # the staging deploy too
    assert "change lead time                 no data" in out
    assert "deployment rework rate           28.57%" in out


def test_records_from_github_add_lead_and_recovery_times(
    repo: tuple[Path, list[str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, shas = repo
    fake = FakeGitHub(repository="acme/web")
    monkeypatch.setenv("GITHUB_TOKEN", fake.token)
    base = T0 + 2 * DAY
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        for sha, payload in (
            (
                shas[2],
                {
                    "committed_at": iso(base - 1800),
                    "synced_at": iso(base + 120),
                    "verdict": "fail",
                    "verdict_at": iso(base + 700),
                },
            ),
            (shas[3], {"reverts": shas[2], "restored_at": iso(base + 1000)}),
            (
                shas[5],
                {
                    "committed_at": iso(T0 + 5 * DAY - 600),
                    "synced_at": iso(T0 + 5 * DAY + 60),
                    "verdict": "pass",
                },
            ),
        ):
            fake.deployments[len(fake.deployments) + 1] = {
                "id": len(fake.deployments) + 1,
                "url": "x",
                "task": "deploy",
                "environment": "production",
                "sha": "d" * 40,
                "ref": "main",
                "created_at": "2025-12-03T00:00:00Z",
                "updated_at": "2025-12-09T00:00:00Z",
                "payload": {"gitops_commit": sha, **payload},
            }
        code, out, err = _metrics(
            capsys,
            "--dir",
            str(root),
            "--environment",
            "production",
            "--since",
            "10d",
            "--until",
            UNTIL,
            "--format",
            "json",
            "--github-repository",
            "acme/web",
        )
    assert code == 0, err
    data = json.loads(out)
    assert data["sources"]["github_deployments"] == 3
    assert data["lead_time_seconds"] == {"median": 1290.0, "p90": 1920.0, "count": 2}
    # 1.2: Synced at +120 -> revert Synced and Healthy at +1000; 1.4: commit to commit
    assert data["recovery_time_seconds"] == {"median": 740.0, "p90": 880.0, "count": 2}
    assert [m for m, _, _ in fake.calls if m == "GET"]


def test_html_and_summary_show_the_json_numbers(
    repo: tuple[Path, list[str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    root, _ = repo
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    page = tmp_path / "metrics.html"
    code, _, _ = _metrics(
        capsys,
        "--dir",
        str(root),
        "--since",
        "10d",
        "--until",
        UNTIL,
        "--format",
        "html",
        "--out",
        str(page),
        "--report",
        str(tmp_path / "m.json"),
    )
    assert code == 0
    text = page.read_text()
    assert "<svg" in text and 'id="chart-deploys"' in text
    assert "http" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")  # no network
    assert '<td id="metric-deploys">7</td>' in text
    md = summary.read_text()
    assert "```mermaid" in md and "Deploys per week" in md
    assert json.loads((tmp_path / "m.json").read_text())["deploys"] == 7


def test_empty_period_says_why(
    repo: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = repo
    code, out, _ = _metrics(
        capsys,
        "--dir",
        str(root),
        "--since",
        "1d",
        "--until",
        "2025-11-01T00:00:00Z",
        "--format",
        "json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["deploys"] == 0
    assert data["deployment_frequency_per_day"] is None
    assert data["change_fail_rate"] is None
    assert "no deploy commit in the period" in data["reason"]


@pytest.mark.parametrize(
    ("args", "source"),
    [
        (["--since", "a month"], "--since"),
        (["--since", "0d"], "--since"),
        (["--environment", "qa"], "--environment"),
        (["--until", "someday"], "--until"),
    ],
)
def test_bad_input_is_exit_2(
    repo: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str], args: list[str], source: str
) -> None:
    root, _ = repo
    code, out, err = _metrics(capsys, "--dir", str(root), *args)
    assert code == 2
    assert source in err
    assert out == ""


def test_history_without_trailers_and_not_a_checkout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "plain"
    build(root, [Step(T0, plain=True)])
    code, _, err = _metrics(capsys, "--dir", str(root))
    assert code == 2
    assert "carries gitops-guard trailers" in err
    code, _, err = _metrics(capsys, "--dir", str(tmp_path / "nothing"))
    assert code == 2
    assert "--dir" in err


def test_environment_trailer_wins_over_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "tagged"
    build(
        root,
        [
            Step(T0 + DAY, "production", "1.0", tagged=True),
            Step(T0 + 2 * DAY, "staging", "1.1", tagged=True),
            Step(T0 + 3 * DAY, "production", "1.2"),
        ],
    )
    code, out, _ = _metrics(
        capsys,
        "--dir",
        str(root),
        "--environment",
        "production",
        "--since",
        "10d",
        "--until",
        UNTIL,
        "--format",
        "json",
    )
    assert code == 0
    assert json.loads(out)["deploys"] == 2  # base/web.yaml tagged production, and envs/production


def test_rejected_token_is_exit_2_and_shallow_clone_warns(
    repo: tuple[Path, list[str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, _ = repo
    fake = FakeGitHub(repository="acme/web")
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_notTheRightOne")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        code, out, err = _metrics(capsys, "--dir", str(root), "--github-repository", "acme/web")
    assert code == 2
    assert "GITHUB_TOKEN" in err and "ghs_notTheRightOne" not in out + err
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "2", root.as_uri(), str(shallow)], check=True)
    code, out, err = _metrics(capsys, "--dir", str(shallow), "--since", "3650d")
    assert code == 0
    assert "shallow clone" in err
    assert (
        "deploys                          2" in out or "deploys                          1" in out
    )


def test_a_records_promoted_at_wins_over_the_commit_time(
    repo: tuple[Path, list[str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, shas = repo
    fake = FakeGitHub(repository="acme/web")
    monkeypatch.setenv("GITHUB_TOKEN", fake.token)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        # 1.4 was committed at +6d and pushed 100 s later; never Synced and Healthy
        fake.deployments[1] = {
            "id": 1,
            "url": "x",
            "task": "deploy",
            "environment": "production",
            "sha": "d" * 40,
            "ref": "main",
            "created_at": "2025-12-07T00:00:00Z",
            "updated_at": "2025-12-09T00:00:00Z",
            "payload": {"gitops_commit": shas[6], "promoted_at": iso(T0 + 6 * DAY + 100)},
        }
        code, out, err = _metrics(
            capsys,
            *("--dir", str(root), "--environment", "production", "--since", "10d"),
            *("--until", UNTIL, "--format", "json", "--github-repository", "acme/web"),
        )
    assert code == 0, err
    recovery = json.loads(out)["series"]["recovery_time"]
    # from the push (+100 s), not the commit, to the rollback commit at +600 s
    assert {p["commit"]: p["seconds"] for p in recovery}[shas[6]] == 500.0
