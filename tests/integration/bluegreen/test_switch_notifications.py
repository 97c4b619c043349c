"""Blue-green tells people about the switch and the switch-back, through the one client.

Covers: a full `gitops-guard blue-green` run posts one ``switch`` event to Slack (text
+ Block Kit), Teams (a workflow-webhook message with an Adaptive Card 1.4) and the
generic JSON webhook (schema gitops-guard/event/v1), naming the environment, the
image and the switch commit, and no webhook URL appears in any output; a webhook
answering 500 is retried, then a warning says the deploy is not affected, the
switch still exits 0 and the report says the channel was NOT notified; a post-switch
gate that says no gives ``switch`` then ``switch-back`` (the reason with it); a run
rejected on the preview moved no traffic and tells nobody.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bgrepo import TOKEN, BlueGreenRepo, Cluster, Gates

from gitops_guard import cli
from gitops_guard.cli import blue_green as bg_cli
from gitops_guard.observe import notifications
from gitops_guard.strategies.bluegreen import flow

sys.path.insert(0, str(Path(__file__).parents[1] / "observe"))
from webhooks import Receiver

NEW = "ghcr.io/gitops-guard/web:1.1.0"
SLACK_PATH = "/slack/T000/B000/secretpart"


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    r = Receiver()
    monkeypatch.setenv("SLACK_WEBHOOK_URL", f"{r.url}{SLACK_PATH}")
    monkeypatch.setenv("TEAMS_WEBHOOK_URL", f"{r.url}/teams")
    monkeypatch.setenv("NOTIFY_WEBHOOK_URL", f"{r.url}/hook")
    yield r
    r.close()


@pytest.fixture
def argocd(bg: BlueGreenRepo) -> Iterator[None]:
    """A background 'ArgoCD' that applies every new tip of the remote to the stand-in."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(0.05):
            tip = bg.tip()
            if tip != bg.synced[-1]:
                bg.sync(tip)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=5)


def _switch(bg: BlueGreenRepo, cluster: Cluster, report: Path) -> list[str]:
    return [
        "blue-green",
        *("--dir", str(bg.work), "--service", "web", "--image", NEW, "--path", "deploy/web"),
        *("--scale-down-delay", "100ms", "--switch-timeout", "10s", "--ready-timeout", "10s"),
        *("--kubeconfig", str(cluster.kubeconfig), "--skip-gates", "--report", str(report)),
        *("--environment", "production"),
    ]


def test_a_switch_is_told_to_every_channel_in_its_format(
    bg: BlueGreenRepo,
    cluster: Cluster,
    argocd: None,
    receiver: Receiver,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = tmp_path / "bg.json"
    assert cli.main(_switch(bg, cluster, report)) == 0, capsys.readouterr().out
    out = capsys.readouterr()
    data = json.loads(report.read_text())
    switch = data["commits"]["switch"]
    assert data["notifications"] == [
        "switch: slack notified",
        "switch: teams notified",
        "switch: webhook notified",
    ]
    assert set(receiver.posts) == {SLACK_PATH, "/teams", "/hook"}
    (slack,) = receiver.posts[SLACK_PATH]
    assert slack["text"].startswith("✅ gitops-guard switch of web in production: success")
    assert slack["blocks"][0]["type"] == "header"
    assert "live traffic switched from blue to green" in slack["blocks"][1]["text"]["text"]
    fields = {f["text"] for f in slack["blocks"][2]["fields"]}
    assert f"*Image*\n{NEW}" in fields and f"*Commit*\n{switch[:12]}" in fields
    (teams,) = receiver.posts["/teams"]
    assert teams["type"] == "message"
    (attachment,) = teams["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    facts = {f["title"]: f["value"] for f in card["body"][2]["facts"]}
    assert facts["Environment"] == "production" and facts["Image"] == NEW
    (hook,) = receiver.posts["/hook"]
    assert hook["schema"] == "gitops-guard/event/v1"
    assert (hook["event"], hook["environment"], hook["app"], hook["state"]) == (
        "switch",
        "production",
        "web",
        "success",
    )
    assert hook["commit"] == switch
    assert hook["facts"] == {"strategy": "blue-green", "outcome": "promoted", "commit": switch}
    for where in (out.out, out.err, report.read_text()):
        assert "secretpart" not in where and receiver.url not in where
        assert TOKEN not in where


def test_a_failing_webhook_never_fails_the_switch_and_says_so(
    bg: BlueGreenRepo,
    cluster: Cluster,
    argocd: None,
    receiver: Receiver,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    receiver.fail_paths.add("/teams")
    report = tmp_path / "bg.json"
    assert cli.main(_switch(bg, cluster, report)) == 0
    out = capsys.readouterr()
    data = json.loads(report.read_text())
    assert data["outcome"] == "promoted"
    assert "switch: teams NOT notified" in data["notifications"]
    assert "switch: slack notified" in data["notifications"]
    assert len(receiver.posts["/teams"]) > 1  # retried before giving up
    assert "the teams notification was not sent" in out.out + out.err
    assert "The deploy is not affected." in out.out + out.err


def test_a_switch_back_is_told_after_the_switch(
    bg: BlueGreenRepo,
    gates: Gates,
    receiver: Receiver,
    make_deps: Callable[..., flow.Deps],
    make_settings: Callable[..., flow.Settings],
) -> None:
    gates.verdicts[("post-switch", NEW)] = "fail"
    result = flow.run(make_settings(NEW), make_deps())
    assert result.outcome == "switched-back", result.reason
    events = notifications.strategy_events(
        bg_cli.strategy_run(result), environment="production", app="web"
    )
    assert [(e.kind, e.commit) for e in events] == [
        ("switch", result.commits["switch"]),
        ("switch-back", result.commits["switch-back"]),
    ]
    assert notifications.tell(events) == [
        f"{kind}: {channel} notified"
        for kind in ("switch", "switch-back")
        for channel in ("slack", "teams", "webhook")
    ]
    back = receiver.posts["/hook"][1]
    assert back["event"] == "switch-back" and back["facts"]["outcome"] == "switched-back"
    assert "switched back to blue" in back["description"]
    assert "switch-back of web in production" in receiver.posts[SLACK_PATH][1]["text"]


def test_a_run_that_moved_no_traffic_tells_nobody(
    gates: Gates,
    receiver: Receiver,
    make_deps: Callable[..., flow.Deps],
    make_settings: Callable[..., flow.Settings],
) -> None:
    gates.verdicts[("preview", NEW)] = "fail"
    result = flow.run(make_settings(NEW), make_deps())
    assert result.outcome == "rejected", result.reason
    run = bg_cli.strategy_run(result)
    assert notifications.strategy_events(run, environment="production") == []
    assert receiver.posts == {}
