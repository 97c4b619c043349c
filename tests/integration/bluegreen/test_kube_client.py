"""kube.client against the Kubernetes stand-in over real HTTP.

Covers: the kubeconfig's namespace is the default; reads parse into models; a watch
yields the EndpointSlice changes a selector patch causes; the patch is a strategic
merge patch under our field manager; a JSON merge patch (another client's) is served
too; 401 is a ConfigError naming the kubeconfig (exit 2) and never shows the token;
404 is an InputError (exit 2); 503 is retried, then DependencyUnavailable (exit 3); a
server that is gone is DependencyUnavailable; a kubeconfig that does not load is exit 2.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from bgrepo import NAMESPACE, TOKEN, BlueGreenRepo, Cluster

from gitops_guard import actions, errors
from gitops_guard.kube import client as kube_client


def test_reads_watch_and_patch(bg: BlueGreenRepo, cluster: Cluster) -> None:
    with cluster.client() as api:
        assert api.namespace == NAMESPACE
        dep = api.get_deployment("web-blue")
        assert (dep.spec_replicas, dep.available_replicas) == (2, 2)
        assert api.get_service("web").selector["color"] == "blue"
        assert len(api.list_pods({"color": "blue"})) == 2

        def later() -> None:
            time.sleep(0.3)
            with cluster.client() as other:
                other.patch_service_selector("web", {"color": "green"})

        thread = threading.Thread(target=later)
        thread.start()
        events = list(api.watch_endpoint_slices("web", timeout_seconds=2))
        thread.join()
        assert events[0] == "ADDED" and len(events) > 1
        svc = api.get_service("web")
        assert svc.selector["color"] == "green"
        assert "gitops-guard-blue-green" in svc.managers
    patch = [r for r in cluster.server.requests if r[0] == "PATCH"][-1]
    assert patch[2] == "application/strategic-merge-patch+json"
    assert "fieldManager=gitops-guard-blue-green" in patch[1]


def test_json_merge_patch_is_served(bg: BlueGreenRepo, cluster: Cluster) -> None:
    request = urllib.request.Request(
        f"{cluster.server.url}/api/v1/namespaces/{NAMESPACE}/services/web?fieldManager=kubectl",
        data=json.dumps({"spec": {"selector": {"color": "green"}}}).encode(),
        method="PATCH",
        headers={
            "Content-Type": "application/merge-patch+json",
            "Authorization": f"Bearer {TOKEN}",
        },
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        body = json.loads(answer.read())
    assert body["spec"]["selector"] == {"app.kubernetes.io/name": "web", "color": "green"}


def test_errors_are_translated(
    bg: BlueGreenRepo, cluster: Cluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text(cluster.server.kubeconfig(namespace=NAMESPACE, token="not-the-token-123"))
    settings = kube_client.Settings(kubeconfig=str(wrong))
    with kube_client.KubeClient(settings) as api, pytest.raises(errors.ConfigError) as refused:
        api.get_service("web")
    assert refused.value.exit_code == 2 and "HTTP 401" in refused.value.message
    assert refused.value.source == str(wrong)
    assert "not-the-token-123" not in str(refused.value)
    assert actions.redact("x not-the-token-123 y") == "x *** y"
    with cluster.client() as api:
        with pytest.raises(errors.InputError) as missing:
            api.get_service("nope")
        assert missing.value.exit_code == 2 and "does not exist" in missing.value.message
        cluster.server.fail_next = 1
        assert api.get_service("web").name == "web"  # one 503, then the retry answers
        cluster.server.fail_next = 10
        with pytest.raises(errors.DependencyUnavailable):
            api.get_service("web")
        cluster.server.fail_next = 0
    cluster.server.stop()
    with cluster.client() as api, pytest.raises(errors.DependencyUnavailable) as gone:
        api.get_deployment("web-blue")
    assert gone.value.exit_code == 3


def test_a_kubeconfig_that_does_not_load(tmp_path: Path) -> None:
    broken = tmp_path / "config"
    broken.write_text("apiVersion: v1\nkind: Config\nclusters: []\n")
    with pytest.raises(errors.ConfigError) as info:
        kube_client.KubeClient(kube_client.Settings(kubeconfig=str(broken)))
    assert info.value.exit_code == 2 and info.value.source == str(broken)
    with pytest.raises(errors.ConfigError):
        kube_client.KubeClient(kube_client.Settings(kubeconfig=str(tmp_path / "absent")))
