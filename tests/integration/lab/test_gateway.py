"""The lab's Gateway routes real HTTP by an HTTPRoute's weights, through Services.

- weights 0/100: every request reaches the weight-100 Service's backend, none the other;
- 25/75: exactly one request in every four reaches the 25 (smooth round robin), over
  real sockets (gateway listener -> Service endpoints -> backend process);
- weights relative to their total, up to 1,000,000 each: 250000/750000 is 25/75,
  1000000/1000000 is 50/50, 999999/1 sends nothing to the 1 in a thousand requests;
  an absent weight counts 1, all weights 0 answer 500;
- a backendRef whose Service does not exist: ResolvedRefs False (BackendNotFound) in
  the route's status (the canary's readiness check calls it hopeless), its share of
  requests answers 500 from the gateway and nothing reaches a backend for it; once the
  Service exists the condition turns True and it gets its share;
- a new sync of the route takes effect at the next request; a path picks its rule by
  the Gateway API's precedence (Exact before the longest PathPrefix); no route: 404;
- ``lab --traffic`` outside ``lab demo --strategy canary`` is exit 2 naming the flag.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from gitops_guard.strategies.canary import route as canary_route
from gitops_guard_lab import colours, gateway, kube_api

NS = colours.NAMESPACE


class Backends:
    """One tiny HTTP server per colour; each answers its colour and counts what it got."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.hits: Counter[str] = Counter()
        self.servers: dict[str, ThreadingHTTPServer] = {}
        for name in names:
            self.servers[name] = self._serve(name)

    def _serve(self, name: str) -> ThreadingHTTPServer:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                outer.hits[name] += 1
                body = json.dumps({"colour": name, "path": self.path}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return server

    def port(self, colour: str) -> int:
        return int(self.servers[colour].server_address[1])

    def stop(self) -> None:
        for server in self.servers.values():
            server.shutdown()
            server.server_close()


@pytest.fixture
def backends() -> Iterator[Backends]:
    made = Backends(("blue", "green"))
    yield made
    made.stop()


def deployment(colour: str) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": "web", "color": colour}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"web-{colour}", "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": "ghcr.io/x/web:1.0.0"}]},
            },
        },
    }


def service(name: str, colour: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {
            "selector": {"app.kubernetes.io/name": "web", "color": colour},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }


def route(*rules: list[dict[str, Any]], matches: list[Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "web"},
        "spec": {
            "parentRefs": [{"name": "public"}],
            "rules": [
                {"backendRefs": refs} | ({"matches": matches[i]} if matches else {})
                for i, refs in enumerate(rules)
            ],
        },
    }


def ref(name: str, weight: int | None) -> dict[str, Any]:
    return {"name": name, "port": 80} | ({} if weight is None else {"weight": weight})


@pytest.fixture
def store(backends: Backends) -> kube_api.KubeStore:
    made = kube_api.KubeStore(port_of=lambda pod: backends.port(pod["metadata"]["labels"]["color"]))
    for colour in ("blue", "green"):
        made.apply(deployment(colour), namespace=NS)
        made.apply(service(f"web-{colour}", colour), namespace=NS)
    return made


def send(door: gateway.Gateway, n: int, path: str = "/") -> list[tuple[int, str]]:
    out = []
    for _ in range(n):
        status, _, body = door.forward(path, {})
        out.append((status, json.loads(body)["colour"] if status == 200 else ""))
    return out


def conditions(store: kube_api.KubeStore) -> dict[str, tuple[str, str]]:
    obj = store.get("HTTPRoute", NS, "web")
    assert obj is not None
    (parent,) = obj["status"]["parents"]
    assert parent["parentRef"] == {"name": "public"}
    return {c["type"]: (c["status"], c["reason"]) for c in parent["conditions"]}


def test_weights_0_100_send_everything_to_one_service(
    store: kube_api.KubeStore, backends: Backends
) -> None:
    store.apply(route([ref("web-blue", 0), ref("web-green", 100)]), namespace=NS)
    assert conditions(store) == {
        "Accepted": ("True", "Accepted"),
        "ResolvedRefs": ("True", "ResolvedRefs"),
    }
    door = gateway.Gateway(store, route="web")
    answers = send(door, 50)
    assert answers == [(200, "green")] * 50
    assert backends.hits == {"green": 50}
    assert door.picks({"web-blue": 0, "web-green": 100}) == {"web-green": 50}


def test_weights_25_75_over_real_sockets(store: kube_api.KubeStore, backends: Backends) -> None:
    store.apply(route([ref("web-green", 25), ref("web-blue", 75)]), namespace=NS)
    door = gateway.Gateway(store, route="web").start()
    try:
        seen = []
        for _ in range(200):
            with urllib.request.urlopen(door.url + "/", timeout=5) as answer:
                seen.append(json.loads(answer.read())["colour"])
    finally:
        door.stop()
    assert backends.hits == {"green": 50, "blue": 150}
    # smooth: each window of four requests holds exactly one for the 25
    assert all(seen[i : i + 4].count("green") == 1 for i in range(0, 200, 4))
    (period,) = door.periods
    assert period.weights == {"web-green": 25, "web-blue": 75}
    assert period.share("web-green") == 0.25


@pytest.mark.parametrize(
    ("blue", "green", "n", "expected"),
    [
        (250_000, 750_000, 400, {"blue": 100, "green": 300}),
        (1_000_000, 1_000_000, 100, {"blue": 50, "green": 50}),
        (999_999, 1, 1000, {"blue": 1000}),
        (None, None, 10, {"blue": 5, "green": 5}),
    ],
)
def test_weights_are_relative_to_their_total(
    store: kube_api.KubeStore,
    backends: Backends,
    blue: int | None,
    green: int | None,
    n: int,
    expected: dict[str, int],
) -> None:
    store.apply(route([ref("web-blue", blue), ref("web-green", green)]), namespace=NS)
    assert conditions(store)["ResolvedRefs"] == ("True", "ResolvedRefs")
    door = gateway.Gateway(store, route="web")
    assert all(status == 200 for status, _ in send(door, n))
    assert backends.hits == expected


def test_all_weights_zero_answer_500(store: kube_api.KubeStore, backends: Backends) -> None:
    store.apply(route([ref("web-blue", 0), ref("web-green", 0)]), namespace=NS)
    door = gateway.Gateway(store, route="web")
    assert [s for s, _ in send(door, 5)] == [500] * 5
    assert backends.hits == {}


def test_a_missing_backend_is_not_resolved_and_gets_no_traffic(
    store: kube_api.KubeStore, backends: Backends
) -> None:
    store.apply(route([ref("web-blue", 50), ref("web-gone", 50)]), namespace=NS)
    status = conditions(store)
    assert status["Accepted"] == ("True", "Accepted")
    assert status["ResolvedRefs"] == ("False", "BackendNotFound")
    obj = store.get("HTTPRoute", NS, "web")
    assert obj is not None
    ready, hopeless, message = canary_route.route_ready(obj)
    assert (ready, hopeless) == (False, True) and "web-gone" in message
    door = gateway.Gateway(store, route="web")
    answers = Counter(send(door, 100))
    assert answers == {(200, "blue"): 50, (500, ""): 50}
    assert backends.hits == {"blue": 50}
    # the Service appears (selecting green's pods): resolved, and it gets its share
    store.apply(service("web-gone", "green"), namespace=NS)
    assert conditions(store)["ResolvedRefs"] == ("True", "ResolvedRefs")
    assert Counter(send(door, 100)) == {(200, "blue"): 50, (200, "green"): 50}


def test_a_backend_of_another_kind_is_invalid(
    store: kube_api.KubeStore, backends: Backends
) -> None:
    other = {"group": "example.com", "kind": "Bucket", "name": "web-blue", "weight": 1}
    store.apply(route([other, ref("web-green", 1)]), namespace=NS)
    assert conditions(store)["ResolvedRefs"] == ("False", "InvalidKind")
    door = gateway.Gateway(store, route="web")
    assert Counter(send(door, 10)) == {(200, "green"): 5, (500, ""): 5}
    assert backends.hits == {"green": 5}


def test_a_new_sync_and_path_precedence(store: kube_api.KubeStore, backends: Backends) -> None:
    door = gateway.Gateway(store, route="web")
    assert door.forward("/", {})[0] == 404  # no route yet
    store.apply(
        route(
            [ref("web-blue", 1)],
            [ref("web-green", 1)],
            [ref("web-green", 1)],
            matches=[
                [{"path": {"type": "PathPrefix", "value": "/"}}],
                [{"path": {"type": "Exact", "value": "/version"}}],
                [{"path": {"type": "PathPrefix", "value": "/api"}, "method": "POST"}],
            ],
        ),
        namespace=NS,
    )
    assert send(door, 1, "/version") == [(200, "green")]
    assert send(door, 1, "/version/x") == [(200, "blue")]
    assert send(door, 1, "/api/x") == [(200, "blue")]  # a method match is not modeled
    store.apply(route([ref("web-blue", 0), ref("web-green", 1)]), namespace=NS)
    assert send(door, 3, "/anything?x=1") == [(200, "green")] * 3


@pytest.mark.parametrize(
    "argv",
    [
        ["lab", "demo", "--traffic", "gateway"],
        ["lab", "demo", "--strategy", "blue-green", "--traffic", "gateway"],
        ["lab", "up", "--traffic", "replicas"],
    ],
)
def test_traffic_is_for_the_canary_demo_only(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from gitops_guard import cli

    assert cli.main(argv) == 2
    assert "--traffic" in capsys.readouterr().err
