"""The lab syncer: ArgoCD's auto-sync played over a bare repository.

- at start it deploys what the tip names: Synced, operation Succeeded, Healthy, history 1;
- a pushed image goes OutOfSync(new) -> operation Running -> Synced(new) Progressing ->
  Healthy, with history, reconciledAt, summary.images and a restarted demo app;
- a version whose health checks fail ends Degraded; an image not in the catalogue stays
  Progressing (ImagePullBackOff) then turns Degraded, and the old version keeps running;
- a sync request through the API store syncs the asked revision, initiated by a user;
- a terminate during the operation ends it Failed ("Operation terminated"), OutOfSync;
- a kustomization ``images:`` override wins over the Deployment's image;
- every published payload parses as an ArgoCD Application, and each key it holds is in
  the swagger description of the real API.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gitops_guard.argocd import models
from gitops_guard_lab import argocd_api, gitrepo, pod, syncer


class Harness:
    def __init__(self, bare: Path, tmp: Path) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.deployer = pod.Deployer(
            port=_free_port(), pid_file=tmp / "demoapp.pid", log_file=tmp / "demoapp.log"
        )
        self.syncer = syncer.Syncer(
            repo=gitrepo.BareRepo(bare),
            deployer=self.deployer,
            publish=self.payloads.append,
            poll_seconds=0.2,
        )

    def status(self) -> dict[str, Any]:
        return self.syncer.status.payload()["status"]

    def until(self, check: Callable[[dict[str, Any]], bool], timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check(self.status()):
                return
            time.sleep(0.1)
        raise AssertionError(f"state not reached; last: {json.dumps(self.status())[:800]}")


def _free_port() -> int:
    from gitops_guard_lab import net

    return net.free_port()


@pytest.fixture
def harness(bare_repo: Path, tmp_path: Path) -> Iterator[Harness]:
    h = Harness(bare_repo, tmp_path)
    yield h
    h.syncer.stop()


def _at(sha: str, health: str) -> Callable[[dict[str, Any]], bool]:
    """Synced at ``sha`` by a finished operation, with ``health`` (not the OutOfSync race)."""

    def check(s: dict[str, Any]) -> bool:
        result = s.get("operationState", {}).get("syncResult", {})
        return (
            s["sync"] == s["sync"] | {"status": "Synced", "revision": sha}
            and result.get("revision") == sha
            and s["health"]["status"] == health
        )

    return check


def _healthy_at(sha: str) -> Callable[[dict[str, Any]], bool]:
    return _at(sha, "Healthy")


def test_start_deploys_the_tip(harness: Harness, bare_repo: Path) -> None:
    harness.syncer.start()
    tip = gitrepo.BareRepo(bare_repo).tip()
    harness.until(_healthy_at(tip))
    status = harness.status()
    assert status["sync"]["status"] == "Synced"
    assert status["operationState"]["phase"] == "Succeeded"
    assert status["operationState"]["syncResult"]["revision"] == tip
    assert [h["revision"] for h in status["history"]] == [tip]
    assert status["summary"]["images"] == ["ghcr.io/gitops-guard/sre-demo-app:1.0.0"]
    assert httpx.get(f"{harness.deployer.url}/version").json()["version"] == "1.0.0"


def test_a_pushed_image_goes_through_argocd_states(harness: Harness, pusher: Any) -> None:
    harness.syncer.start()
    harness.until(lambda s: s["health"]["status"] == "Healthy")
    old_pid = harness.deployer.process.pid if harness.deployer.process else None
    sha = pusher.set_version("1.1.0")
    harness.until(_healthy_at(sha))
    seen = [(t[0], t[1], t[2], t[3]) for t in harness.syncer.transitions]
    start = seen.index(("OutOfSync", sha, "Healthy", "Succeeded"))
    assert seen[start:] == [
        ("OutOfSync", sha, "Healthy", "Succeeded"),
        ("OutOfSync", sha, "Healthy", "Running"),
        ("Synced", sha, "Progressing", "Succeeded"),
        ("Synced", sha, "Healthy", "Succeeded"),
    ]
    status = harness.status()
    assert [h["id"] for h in status["history"]] == [0, 1]
    assert status["history"][-1]["revision"] == sha
    assert status["history"][-1]["initiatedBy"] == {"automated": True}
    assert status["reconciledAt"] >= status["operationState"]["startedAt"]
    assert status["operationState"]["finishedAt"] >= status["operationState"]["startedAt"]
    assert status["summary"]["images"] == ["ghcr.io/gitops-guard/sre-demo-app:1.1.0"]
    assert harness.deployer.process is not None and harness.deployer.process.pid != old_pid
    assert httpx.get(f"{harness.deployer.url}/version").json()["version"] == "1.1.0"


def test_failing_health_checks_end_degraded(
    harness: Harness, pusher: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.syncer.start()
    harness.until(lambda s: s["health"]["status"] == "Healthy")
    monkeypatch.setattr(syncer, "DEGRADED_AFTER_SECONDS", 1.0)
    sha = pusher.set_version("1.3.0")
    harness.until(_at(sha, "Degraded"))
    status = harness.status()
    assert status["sync"]["status"] == "Synced"
    assert "Readiness probe failed" in status["health"]["message"]


def test_unknown_image_stays_progressing_then_degraded_and_old_version_runs(
    harness: Harness, pusher: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.syncer.start()
    harness.until(lambda s: s["health"]["status"] == "Healthy")
    monkeypatch.setattr(syncer, "DEGRADED_AFTER_SECONDS", 1.5)
    sha = pusher.set_version("9.9.9")
    harness.until(_at(sha, "Progressing"))
    assert "ImagePullBackOff" in harness.status()["health"].get("message", "")
    harness.until(_at(sha, "Degraded"))
    assert httpx.get(f"{harness.deployer.url}/version").json()["version"] == "1.0.0"


def test_sync_request_through_the_api_store(harness: Harness, pusher: Any) -> None:
    store = argocd_api.ApplicationStore()
    harness.syncer.publish = store.put
    store.on_sync.append(lambda name, ns, body: harness.syncer.request_sync(body.get("revision")))
    harness.syncer.start()
    harness.until(lambda s: s["health"]["status"] == "Healthy")
    tip = gitrepo.BareRepo(pusher.work.parent / "gitops.git").tip()
    code, _ = store.request_sync("sre-demo-app", None, {"revision": tip})
    assert code == 200
    harness.until(
        lambda s: len(s["history"]) == 2 and s["health"]["status"] == "Healthy", timeout=20
    )
    last = harness.status()["history"][-1]
    assert last["revision"] == tip
    assert last["initiatedBy"] == {"username": "gitops-guard"}
    served = store.get("sre-demo-app")
    assert served is not None and served["status"]["history"][-1]["revision"] == tip


def test_terminate_during_the_operation_fails_it(
    harness: Harness, pusher: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.syncer.start()
    harness.until(lambda s: s["health"]["status"] == "Healthy")
    deploy = harness.deployer.deploy
    asked = threading.Event()

    def slow_deploy(version: str) -> None:
        harness.syncer.request_terminate()
        asked.set()
        deploy(version)

    monkeypatch.setattr(harness.deployer, "deploy", slow_deploy)
    sha = pusher.set_version("1.1.0")
    assert asked.wait(20)
    harness.until(lambda s: s.get("operationState", {}).get("phase") == "Failed")
    status = harness.status()
    assert status["operationState"]["message"] == "Operation terminated"
    assert status["sync"] == status["sync"] | {"status": "OutOfSync", "revision": sha}
    assert ("OutOfSync", sha, "Healthy", "Terminating") in [
        t[:4] for t in harness.syncer.transitions
    ]


def test_kustomize_images_override_wins(bare_repo: Path, pusher: Any) -> None:
    kustomization = pusher.work / "deploy" / "sre-demo-app" / "kustomization.yaml"
    kustomization.write_text(
        kustomization.read_text(encoding="utf-8")
        + "images:\n  - name: ghcr.io/gitops-guard/sre-demo-app\n    newTag: 1.1.0\n",
        encoding="utf-8",
    )
    pusher.git("commit", "-q", "-am", "kustomize override")
    pusher.git("push", "-q", "origin", "HEAD:main")
    repo = gitrepo.BareRepo(bare_repo)
    desired = gitrepo.desired_state(repo, repo.tip())
    assert desired.version == "1.1.0"
    assert desired.path == "deploy/sre-demo-app"


def test_an_overlay_is_followed_to_its_base_and_its_images_win(
    bare_repo: Path, pusher: Any
) -> None:
    """Two environments as kustomize overlays of one base: each Application runs the
    base's Deployment with its own overlay's image; a change to one overlay moves
    only that Application."""
    work = pusher.work
    overlays = work / "deploy" / "sre-demo-app" / "overlays"
    for env, tag in (("staging", "1.1.0"), ("production", "1.0.0")):
        (overlays / env).mkdir(parents=True)
        (overlays / env / "kustomization.yaml").write_text(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
            "resources:\n  - ../..\n"
            f"images:\n  - name: ghcr.io/gitops-guard/sre-demo-app\n    newTag: {tag}\n",
            encoding="utf-8",
        )
        app = (work / "apps" / "sre-demo-app.yaml").read_text(encoding="utf-8")
        (work / "apps" / f"sre-demo-app-{env}.yaml").write_text(
            app.replace("name: sre-demo-app\n", f"name: sre-demo-app-{env}\n", 1).replace(
                "path: deploy/sre-demo-app", f"path: deploy/sre-demo-app/overlays/{env}"
            ),
            encoding="utf-8",
        )
    pusher.git("add", "-A")
    pusher.git("commit", "-q", "-m", "staging and production overlays")
    pusher.git("push", "-q", "origin", "HEAD:main")
    repo = gitrepo.BareRepo(bare_repo)
    tip = repo.tip()
    staging = gitrepo.desired_state(repo, tip, app_file="apps/sre-demo-app-staging.yaml")
    production = gitrepo.desired_state(repo, tip, app_file="apps/sre-demo-app-production.yaml")
    assert (staging.path, staging.version) == ("deploy/sre-demo-app/overlays/staging", "1.1.0")
    assert production.image == "ghcr.io/gitops-guard/sre-demo-app:1.0.0"
    assert (
        gitrepo.application(repo, tip, "apps/sre-demo-app-staging.yaml")["metadata"]["name"]
        == "sre-demo-app-staging"
    )


def _check_against_swagger(
    value: Any, schema: dict[str, Any], defs: dict[str, Any], where: str
) -> None:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[1]]
    if isinstance(value, dict) and "properties" in schema:
        for key, item in value.items():
            assert key in schema["properties"], f"{where}.{key} is not in the swagger schema"
            _check_against_swagger(item, schema["properties"][key], defs, f"{where}.{key}")
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            _check_against_swagger(item, schema["items"], defs, f"{where}[{index}]")


def test_payloads_parse_and_follow_the_swagger(
    harness: Harness, pusher: Any, reference_dir: Path
) -> None:
    harness.syncer.start()
    sha = pusher.set_version("1.1.0")
    harness.until(_healthy_at(sha))
    swagger = json.loads((reference_dir / "argocd-swagger.json").read_text(encoding="utf-8"))
    defs = swagger["definitions"]
    assert harness.payloads
    for payload in harness.payloads:
        app = models.Application.model_validate(payload)
        assert app.metadata is not None and app.metadata.name == "sre-demo-app"
        _check_against_swagger(payload, defs["v1alpha1Application"], defs, "app")
