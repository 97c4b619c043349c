"""ArgoClient and the wait flow in-process against the fake server (real HTTP, no subprocess).

Behaviours covered:
- apps in any namespace: ``appNamespace`` reaches every endpoint; the wrong namespace is
  a 404 naming --app and the namespace;
- sync, a second sync refused while the operation runs, terminate (True), terminate with
  nothing running (False), as the rollback flow uses them;
- the stream delivers the current state first, then each change;
- a multi-source app is waited for through the stream at --source-position;
- the lab's hooks see sync and refresh requests.
"""

from __future__ import annotations

import pytest
from argocd_cli import OLD, OURS, TOKEN, deployed

from gitops_guard import errors
from gitops_guard.argocd import client, exceptions, wait
from gitops_guard_lab import argocd_api


@pytest.fixture
def namespaced() -> argocd_api.ApplicationStore:
    store = argocd_api.ApplicationStore()
    store.put(
        argocd_api.make_application("web", namespace="team-a", auto_sync=False, **deployed(OLD))
    )
    return store


def test_app_namespace_reaches_every_endpoint(namespaced: argocd_api.ApplicationStore) -> None:
    refreshed: list[tuple[str, str]] = []
    synced: list[tuple[str, str, object]] = []
    namespaced.on_refresh.append(lambda name, ns: refreshed.append((name, ns)))
    namespaced.on_sync.append(lambda name, ns, body: synced.append((name, ns, body)))
    with argocd_api.FakeArgoServer(namespaced, token=TOKEN) as server:
        with client.ArgoClient(server.url, token=TOKEN, app_namespace="team-a") as argo:
            app = argo.get_application("web", refresh="normal")
            assert app.metadata.namespace == "team-a"
            requested = argo.sync("web", OURS)
            assert requested.operation is not None
            assert requested.operation.sync is not None
            assert requested.operation.sync.revision == OURS
            with pytest.raises(exceptions.OperationInProgress):
                argo.sync("web", OURS)
            assert argo.terminate_operation("web") is True
            assert argo.terminate_operation("web") is False
            after = argo.get_application("web")
            assert after.status.operation_state is not None
            assert after.status.operation_state.phase == "Failed"
            assert after.operation is None
            first = next(iter(argo.watch_application("web", idle_timeout_seconds=2)))
            assert first.metadata.namespace == "team-a"
        with client.ArgoClient(server.url, token=TOKEN) as argo:
            with pytest.raises(errors.ConfigError) as caught:
                argo.get_application("web")
            assert caught.value.source == "--app"
    assert refreshed == [("web", "team-a")]
    assert [(n, ns) for n, ns, _ in synced] == [("web", "team-a")]
    for request in server.requests[:7]:
        where = request.body if request.method == "POST" else request.query
        assert where is not None and where.get("appNamespace") == "team-a", request


def test_stream_sends_the_current_state_then_changes() -> None:
    store = argocd_api.ApplicationStore()
    store.put(argocd_api.make_application("web", **deployed(OLD)))
    replay = argocd_api.Replay(
        store,
        "web",
        [
            argocd_api.ReplayStep(0.2, {"revision": OURS, "sync_status": "OutOfSync"}),
            argocd_api.ReplayStep(0.2, {"phase": "Running", "op_revision": OURS}),
        ],
    )
    with (
        argocd_api.FakeArgoServer(store, token=TOKEN) as server,
        client.ArgoClient(server.url, token=TOKEN) as argo,
    ):
        seen = []
        replay.start()
        with pytest.raises(exceptions.StreamIdle) as idle:
            for app in argo.watch_application("web", idle_timeout_seconds=1.5):
                op = app.status.operation_state
                seen.append((app.status.sync.revision, op.phase if op else None))
        assert idle.value.events == 3
    assert seen == [(OLD, "Succeeded"), (OURS, "Succeeded"), (OURS, "Running")]


def test_multi_source_wait_through_the_stream() -> None:
    store = argocd_api.ApplicationStore()
    store.put(
        argocd_api.make_application(
            "web",
            multi_source_paths=("charts/web", "apps/web"),
            revisions=["f" * 40, OLD],
            sync_status="Synced",
            health="Healthy",
            phase="Succeeded",
            op_revision=OLD,
        )
    )
    steps = [
        argocd_api.ReplayStep(0.2, {"revisions": ["f" * 40, OURS], "sync_status": "OutOfSync"}),
        argocd_api.ReplayStep(0.2, {"phase": "Running", "op_revision": OURS}),
        argocd_api.ReplayStep(0.2, {"phase": "Succeeded", "sync_status": "Synced"}),
    ]
    replay = argocd_api.Replay(store, "web", steps)
    store.on_refresh.append(lambda name, ns: replay.start())
    with (
        argocd_api.FakeArgoServer(store, token=TOKEN) as server,
        client.ArgoClient(server.url, token=TOKEN) as argo,
    ):
        result = wait.wait_for_revision(
            argo,
            app_name="web",
            expected=wait.Expectation(OURS, source_position=2),
            timing=wait.Timing(timeout_seconds=20),
        )
    assert result.outcome == "done", result.reason
    assert result.mode == "stream"
    assert result.synced_revision == OURS
    assert result.requests == 2
