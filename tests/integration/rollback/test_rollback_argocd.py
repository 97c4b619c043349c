"""Waiting for the rollback in ArgoCD (the swagger-shaped fake ArgoCD server).

- an operation stuck on the bad revision is terminated (DELETE .../operation) before
  the rollback revision is synced, and the command waits until Synced and Healthy
- with no stuck operation nothing is terminated; a rollback that never becomes
  Healthy in time exits 1
- with --argocd-selector, every selected app stuck on the bad revision is unstuck
  and the command waits until each runs the one revert, naming each app
- the ArgoCD token never appears in the output
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rollbackrepo import GitopsRepo

from gitops_guard_lab import argocd_api

WEB1, WEB2 = "ghcr.io/acme/web:1.0.0", "ghcr.io/acme/web:1.1.0"
TOKEN = "argocd-token-for-tests-0001"


def _store(bad: str) -> argocd_api.ApplicationStore:
    store = argocd_api.ApplicationStore()
    store.put(
        argocd_api.make_application(
            "web",
            revision=bad,
            sync_status="OutOfSync",
            health="Degraded",
            phase="Running",
            op_revision=bad,
            op_message="one or more objects failed to apply (retrying)",
        )
    )
    return store


def _on_sync_become(store: argocd_api.ApplicationStore, health: str) -> None:
    """After each sync, the app is Synced on the synced revision with ``health``."""

    def hook(name: str, namespace: str, body: Mapping[str, Any]) -> None:
        rev = str(body.get("revision") or "")
        store.set_state(
            name,
            namespace=namespace,
            revision=rev,
            sync_status="Synced",
            health=health,
            phase="Succeeded",
            op_revision=rev,
            operation=None,
        )

    store.on_sync.append(hook)


def _revert_waiting_for_argo(
    gitops: GitopsRepo, run_cli, store: argocd_api.ApplicationStore, bad: str, timeout: str
) -> tuple[int, str, list[tuple[str, str]]]:
    """Revert ``bad`` and wait for app ``web`` on a fake ArgoCD; returns the calls made too."""
    with argocd_api.FakeArgoServer(store, token=TOKEN, stream="off") as server:
        code, out = run_cli(
            "revert",
            "--dir",
            gitops.work,
            "--commit",
            bad,
            "--argocd-server",
            server.url,
            "--argocd-app",
            "web",
            "--argocd-timeout",
            timeout,
        )
        calls = [(r.method, r.path) for r in server.requests]
    return code, out, calls


def test_stuck_operation_is_terminated_then_rollback_synced(
    gitops: GitopsRepo, run_cli, monkeypatch
) -> None:
    monkeypatch.setenv("ARGOCD_TOKEN", TOKEN)
    bad = gitops.deploy("web", WEB1, WEB2)
    store = _store(bad)
    _on_sync_become(store, "Healthy")
    code, out, calls = _revert_waiting_for_argo(gitops, run_cli, store, bad, "20")
    assert code == 0, out
    rollback = gitops.remote_head()
    assert f"terminated the operation stuck on {bad}" in out
    delete = calls.index(("DELETE", "/api/v1/applications/web/operation"))
    sync = calls.index(("POST", "/api/v1/applications/web/sync"))
    assert delete < sync
    app = store.get("web")
    assert app is not None
    assert app["status"]["sync"]["revision"] == rollback
    assert app["status"]["health"]["status"] == "Healthy"
    assert TOKEN not in out


def test_rollback_that_stays_degraded_exits_1(gitops: GitopsRepo, run_cli, monkeypatch) -> None:
    monkeypatch.setenv("ARGOCD_TOKEN", TOKEN)
    bad = gitops.deploy("web", WEB1, WEB2)
    store = argocd_api.ApplicationStore()
    store.put(
        argocd_api.make_application(
            "web", revision=bad, sync_status="Synced", health="Healthy", phase="Succeeded"
        )
    )
    _on_sync_become(store, "Degraded")
    code, out, calls = _revert_waiting_for_argo(gitops, run_cli, store, bad, "3")
    assert code == 1, out
    assert ("DELETE", "/api/v1/applications/web/operation") not in calls
    assert gitops.image_of("web") == WEB1


def test_rerun_waits_for_the_existing_revert(gitops: GitopsRepo, run_cli, monkeypatch) -> None:
    monkeypatch.setenv("ARGOCD_TOKEN", TOKEN)
    bad = gitops.deploy("web", WEB1, WEB2)
    code, out = run_cli("revert", "--dir", gitops.work, "--commit", bad)
    assert code == 0, out
    revert = gitops.remote_head()
    store = argocd_api.ApplicationStore()
    store.put(
        argocd_api.make_application(
            "web", revision=revert, sync_status="Synced", health="Healthy", phase="Succeeded"
        )
    )
    code, out, _ = _revert_waiting_for_argo(gitops, run_cli, store, bad, "10")
    assert code == 0, out
    assert "already-reverted" in out
    assert "ArgoCD: done" in out
    assert gitops.remote_head() == revert


def test_selector_unsticks_every_app_and_waits_for_all(
    gitops: GitopsRepo, run_cli, monkeypatch
) -> None:
    monkeypatch.setenv("ARGOCD_TOKEN", TOKEN)
    bad = gitops.deploy("web", WEB1, WEB2)
    store = argocd_api.ApplicationStore()
    for name in ("web-eu", "web-us"):
        app = argocd_api.make_application(
            name,
            revision=bad,
            sync_status="OutOfSync",
            health="Degraded",
            phase="Running",
            op_revision=bad,
            op_message="one or more objects failed to apply (retrying)",
        )
        app["metadata"]["labels"] = {"team": "web"}
        store.put(app)
    _on_sync_become(store, "Healthy")
    with argocd_api.FakeArgoServer(store, token=TOKEN, stream="off") as server:
        code, out = run_cli(
            "revert",
            "--dir",
            gitops.work,
            "--commit",
            bad,
            "--argocd-server",
            server.url,
            "--argocd-selector",
            "team=web",
            "--argocd-timeout",
            "10",
        )
        calls = [(r.method, r.path) for r in server.requests]
    assert code == 0, out
    rollback = gitops.remote_head()
    for name in ("web-eu", "web-us"):
        assert ("DELETE", f"/api/v1/applications/{name}/operation") in calls
        assert f"{name}: terminated the operation stuck on {bad}" in out
        assert f"ArgoCD {name}: done" in out
        app = store.get(name)
        assert app is not None
        assert app["status"]["sync"]["revision"] == rollback
    assert "ArgoCD: done: all 2 applications run our revision" in out
    assert TOKEN not in out
