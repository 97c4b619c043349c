"""The canary tells people when it takes all traffic, or when it is aborted.

Covers: a full `gitops-guard canary` run posts one ``switch`` event (the promote
commit) to Slack, Teams and the generic JSON webhook, with the environment; a
failing step's abort gives one ``abort`` event with the reason and the abort commit;
no webhook configured: nothing is posted and the run is unchanged.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from canaryrepo import CanaryRepo, Gates

from gitops_guard import cli
from gitops_guard.cli import canary as canary_cli
from gitops_guard.observe import notifications
from gitops_guard.strategies.canary import flow

sys.path.insert(0, str(Path(__file__).parents[1] / "observe"))
from webhooks import Receiver

NEW = "ghcr.io/gitops-guard/web:1.1.0"


@pytest.fixture(autouse=True)
def _no_kube(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    r = Receiver()
    monkeypatch.setenv("SLACK_WEBHOOK_URL", f"{r.url}/slack")
    monkeypatch.setenv("TEAMS_WEBHOOK_URL", f"{r.url}/teams")
    monkeypatch.setenv("NOTIFY_WEBHOOK_URL", f"{r.url}/hook")
    yield r
    r.close()


@pytest.fixture
def syncer(repo: CanaryRepo) -> Iterator[None]:
    """Plays ArgoCD in the background: applies every new tip to the Kubernetes stand-in."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(0.05):
            tip = repo.tip()
            if repo.synced[-1] != tip:
                repo.sync(tip)

    worker = threading.Thread(target=loop, daemon=True)
    worker.start()
    yield
    stop.set()
    worker.join(timeout=2)


def test_a_promoted_canary_is_told_as_a_switch(
    repo: CanaryRepo,
    receiver: Receiver,
    syncer: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = tmp_path / "canary.json"
    argv = ["canary", "--dir", str(repo.work), "--service", "web", "--image", NEW]
    argv += ["--path", "deploy/web", "--steps", "25,50,100", "--report", str(report)]
    assert cli.main([*argv, "--environment", "staging"]) == 0, capsys.readouterr().out
    data = json.loads(report.read_text())
    assert data["outcome"] == "promoted"
    assert data["notifications"] == [
        "switch: slack notified",
        "switch: teams notified",
        "switch: webhook notified",
    ]
    (hook,) = receiver.posts["/hook"]
    assert (hook["event"], hook["environment"], hook["commit"]) == (
        "switch",
        "staging",
        data["commits"]["promote"],
    )
    assert hook["facts"]["strategy"] == "canary"
    (slack,) = receiver.posts["/slack"]
    assert slack["text"].startswith("✅ gitops-guard switch of web in staging: success")
    (teams,) = receiver.posts["/teams"]
    assert teams["attachments"][0]["content"]["version"] == "1.4"


def test_an_aborted_canary_is_told_with_its_reason(
    gates: Gates,
    receiver: Receiver,
    make_deps: Callable[..., flow.Deps],
    make_settings: Callable[..., flow.Settings],
) -> None:
    gates.verdicts[(25, NEW)] = "fail"
    result = flow.run(make_settings(NEW), make_deps())
    assert result.outcome == "aborted", result.reason
    events = notifications.strategy_events(canary_cli.strategy_run(result), environment="prod")
    assert [(e.kind, e.commit) for e in events] == [("abort", result.commits["abort"])]
    notifications.tell(events)
    (hook,) = receiver.posts["/hook"]
    assert hook["event"] == "abort" and hook["facts"]["outcome"] == "aborted"
    assert result.reason in hook["description"]
    assert "canary abort of web in prod" in receiver.posts["/slack"][0]["text"]


def test_without_webhooks_nothing_is_posted(
    gates: Gates,
    make_deps: Callable[..., flow.Deps],
    make_settings: Callable[..., flow.Settings],
) -> None:
    gates.verdicts[(25, NEW)] = "fail"
    result = flow.run(make_settings(NEW), make_deps())
    events = notifications.strategy_events(canary_cli.strategy_run(result), environment="prod")
    assert len(events) == 1
    assert notifications.tell(events, environ={}) == []
