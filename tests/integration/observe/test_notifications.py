"""Notifications and gauges from `gitops-guard record`, against local receivers.

Covers: one deploy run with a failed verdict and a revert tells Slack (text +
Block Kit), Teams (a workflow-webhook message with an Adaptive Card 1.4) and the
generic webhook (the event as JSON) once per record; a webhook answering 500 is
retried, then a warning says the deploy is not affected, and record still exits 0;
no webhook URL appears in any output; the gauges reach the real Pushgateway under
job/environment/app.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import responses
from fakegithub import FakeGitHub
from webhooks import Receiver

from gitops_guard import cli, http
from gitops_guard_lab import promstack

NEEDS = json.dumps(
    {
        "promote": {
            "result": "success",
            "outputs": {"image": "ghcr.io/acme/web:1.4.2", "commit": "a" * 40},
        },
        "verify": {"result": "failure", "outputs": {"verdict": "fail", "argocd-result": "done"}},
        "rollback": {
            "result": "success",
            "outputs": {"commit": "b" * 40, "rolled-back-to": "ghcr.io/acme/web:1.4.1"},
        },
    }
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    for key, value in {
        "GITHUB_TOKEN": fake.token,
        "GITHUB_REPOSITORY": "acme/gitops",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "9",
    }.items():
        monkeypatch.setenv(key, value)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        rsps.add_passthru("http://127.0.0.1")
        yield fake


def _record(*extra: str) -> int:
    return cli.main(
        [
            "record",
            "deploy",
            "--environment",
            "production",
            "--ref",
            "d" * 40,
            "--needs",
            NEEDS,
            "--app",
            "web",
            *extra,
        ]
    )


def test_every_channel_is_told(
    receiver: Receiver,
    github: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", f"{receiver.url}/slack/T000/B000/secretpart")
    monkeypatch.setenv("TEAMS_WEBHOOK_URL", f"{receiver.url}/teams")
    monkeypatch.setenv("NOTIFY_WEBHOOK_URL", f"{receiver.url}/hook")
    assert _record() == 0
    slack = receiver.posts["/slack/T000/B000/secretpart"]
    assert len(slack) == 2  # the deploy's verdict and the rollback
    assert slack[0]["text"].startswith("❌ gitops-guard SLO verdict of web in production: failure")
    assert [b["type"] for b in slack[0]["blocks"]][:2] == ["header", "section"]
    assert slack[0]["blocks"][-1]["elements"][0]["text"] == (
        "<https://github.com/acme/gitops/actions/runs/9|workflow run>"
    )
    assert len(receiver.posts["/teams"]) == 2
    deploy_card = receiver.posts["/teams"][0]
    assert deploy_card["type"] == "message"
    attachment = deploy_card["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["type"] == "AdaptiveCard"
    assert attachment["content"]["version"] == "1.4"
    facts = {f["title"]: f["value"] for f in attachment["content"]["body"][2]["facts"]}
    assert facts["Verdict"] == "fail" and facts["Commit"] == "a" * 12
    events = receiver.posts["/hook"]
    assert [e["event"] for e in events] == ["verdict", "rollback"]
    assert events[1]["facts"]["reverts"] == "a" * 40
    assert all(e["schema"] == "gitops-guard/event/v1" for e in events)
    out = capsys.readouterr()
    assert "secretpart" not in out.out + out.err
    assert "slack notified" in out.out


def test_failing_webhook_warns_and_never_fails(
    receiver: Receiver,
    github: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    receiver.fail_paths.add("/hook")
    monkeypatch.setenv("NOTIFY_WEBHOOK_URL", f"{receiver.url}/hook")
    assert _record() == 0
    attempts = http.RetryPolicy().attempts
    assert len(receiver.posts["/hook"]) == 2 * attempts  # two events, every attempt
    err = capsys.readouterr().err
    assert "the webhook notification was not sent" in err and "500" in err
    assert "The deploy is not affected." in err
    assert len(github.deployments) == 2


@pytest.mark.skipif(not promstack.available()["pushgateway"], reason="no Pushgateway")
def test_gauges_reach_the_pushgateway(
    github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    with promstack.start_pushgateway() as gateway:
        assert (
            _record(
                "--pushgateway-url",
                gateway.url,
                "--stage",
                "verify=120",
                "--committed-at",
                "2026-12-01T10:00:00Z",
                "--synced-at",
                "2026-12-01T10:30:00Z",
            )
            == 0
        )
        groups = httpx.get(f"{gateway.url}/api/v1/metrics", timeout=5).json()["data"]
    ours = [g for g in groups if g["labels"].get("job") == "gitops-guard"]
    assert len(ours) == 1, json.dumps(groups)[:3000]
    group = ours[0]
    assert group["labels"] == {"job": "gitops-guard", "environment": "production", "app": "web"}
    verdicts = {
        m["labels"]["verdict"]: m["value"] for m in group["gitops_guard_last_verdict"]["metrics"]
    }
    assert verdicts["fail"] == "1" and verdicts["pass"] == "0"
    assert group["gitops_guard_last_lead_time_seconds"]["metrics"][0]["value"] == "1800"
    assert (
        group["gitops_guard_pipeline_stage_duration_seconds"]["metrics"][0]["labels"]["stage"]
        == "verify"
    )
    assert "gitops_guard_last_rollback_timestamp_seconds" in group
    assert "gauges pushed" in capsys.readouterr().out


def test_unreachable_pushgateway_is_a_warning(
    github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{promstack.free_port()}"
    assert _record("--pushgateway-url", url) == 0
    out = capsys.readouterr()
    assert "the gauges were not pushed. The deploy is not affected." in out.err
    assert "gauges NOT pushed" in out.out
