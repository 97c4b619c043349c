"""``argocd-wait --selector`` / ``--app`` repeated against the ArgoCD stand-in.

Covers: every selected app reaching our revision is ``done`` (exit 0) with one list
request per poll whatever the number of apps, and a line per app in the report;
one app whose sync fails makes the wait fail (exit 1) naming that app, after the
others are judged; an app that never gets there times out by name; a selector that
matches nothing is exit 2; names given with repeated ``--app``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops_guard import cli
from gitops_guard_lab import argocd_api

OLD = "a" * 40
NEW = "b" * 40
TOKEN = "argo-many-token-0123456789"


def _app(name: str, team: str = "web") -> dict[str, object]:
    app = argocd_api.make_application(
        name, revision=OLD, sync_status="Synced", health="Healthy", phase="Succeeded"
    )
    app["metadata"]["labels"] = {"team": team}  # type: ignore[index]
    return app


@pytest.fixture
def store() -> argocd_api.ApplicationStore:
    store = argocd_api.ApplicationStore()
    for i in range(5):
        store.put(_app(f"web-{i}"))
    store.put(_app("other", team="payments"))
    return store


@pytest.fixture
def server(
    store: argocd_api.ApplicationStore, monkeypatch: pytest.MonkeyPatch
) -> Iterator[argocd_api.FakeArgoServer]:
    monkeypatch.setenv("ARGOCD_TOKEN", TOKEN)
    with argocd_api.FakeArgoServer(store, token=TOKEN) as running:
        yield running


def _replays(store: argocd_api.ApplicationStore, names: list[str], **last: object) -> None:
    for i, name in enumerate(names):
        state = {
            "revision": NEW,
            "sync_status": "Synced",
            "health": "Healthy",
            "phase": "Succeeded",
        }
        if name in last:
            state = dict(last[name])  # type: ignore[call-overload]
        argocd_api.Replay(store, name, [argocd_api.ReplayStep(0.1 + 0.05 * i, state)]).start()


def _wait(server: argocd_api.FakeArgoServer, tmp_path: Path, *extra: str) -> tuple[int, dict]:
    report = tmp_path / "wait.json"
    code = cli.main(
        [
            "argocd-wait",
            "--server",
            server.url,
            "--revision",
            NEW,
            "--timeout",
            "4",
            "--poll-interval",
            "0.2",
            "--report",
            str(report),
            *extra,
        ]
    )
    return code, json.loads(report.read_text()) if report.exists() else {}


def test_every_selected_app_done(
    store: argocd_api.ApplicationStore, server: argocd_api.FakeArgoServer, tmp_path: Path
) -> None:
    _replays(store, [f"web-{i}" for i in range(5)])
    code, data = _wait(server, tmp_path, "--selector", "team=web")
    assert code == 0, data
    assert data["result"] == "done"
    assert [a["name"] for a in data["apps"]] == [f"web-{i}" for i in range(5)]
    assert all(a["outcome"] == "done" for a in data["apps"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["done_at"])  # every app done
    listed = [r for r in server.requests if r.path == "/api/v1/applications"]
    assert len(listed) == data["requests"]  # one list request per poll, none per app
    assert all(r.query.get("selector") == "team=web" for r in listed)


def test_one_failed_sync_fails_the_wait_naming_the_app(
    store: argocd_api.ApplicationStore,
    server: argocd_api.FakeArgoServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    failed = {
        "revision": OLD,
        "sync_status": "OutOfSync",
        "health": "Healthy",
        "phase": "Failed",
        "op_revision": NEW,
        "op_message": "one or more objects failed to apply",
    }
    _replays(store, [f"web-{i}" for i in range(5)], **{"web-3": failed})
    code, data = _wait(server, tmp_path, "--selector", "team=web")
    assert code == 1, data
    assert data["result"] == "sync-failed"
    assert data["failed_apps"] == ["web-3"]
    assert data["done_at"] is None
    assert "web-3 (sync-failed)" in data["reason"]


def test_an_app_that_never_gets_there_times_out_by_name(
    store: argocd_api.ApplicationStore, server: argocd_api.FakeArgoServer, tmp_path: Path
) -> None:
    _replays(store, ["web-0"])
    code, data = _wait(server, tmp_path, "--app", "web-0", "--app", "web-1", "--timeout", "1")
    assert code == 1, data
    assert data["result"] == "timed-out"
    assert data["failed_apps"] == ["web-1"]


def test_a_selector_that_matches_nothing_is_exit_2(
    server: argocd_api.FakeArgoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = _wait(server, tmp_path, "--selector", "team=nobody")
    assert code == 2
    assert "no ArgoCD application matches selector 'team=nobody'" in capsys.readouterr().err
