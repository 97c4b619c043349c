"""The Kubernetes stand-in serves what the real API serves.

Covers: every object the stand-in holds after a blue-green run (Deployments,
Services, Pods, EndpointSlices) and its list and watch envelopes validate against
../shared/reference/kubernetes-swagger.json (Kubernetes 1.36): known fields only,
the right JSON types, required fields present; and the official client's models
deserialise each of them. Skips cleanly where ../shared/reference is absent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bgrepo import NAMESPACE, BlueGreenRepo, Cluster, code

from gitops_guard.strategies.bluegreen import flow

DEFINITIONS = {
    "Deployment": "io.k8s.api.apps.v1.Deployment",
    "Service": "io.k8s.api.core.v1.Service",
    "Pod": "io.k8s.api.core.v1.Pod",
    "EndpointSlice": "io.k8s.api.discovery.v1.EndpointSlice",
}
CLIENT_MODELS = {
    "Deployment": "V1Deployment",
    "Service": "V1Service",
    "Pod": "V1Pod",
    "EndpointSlice": "V1EndpointSlice",
}


def check(value: Any, schema: dict[str, Any], defs: dict[str, Any], where: str) -> list[str]:
    """Problems of ``value`` against a swagger schema (a subset of JSON Schema)."""
    if "$ref" in schema:
        return check(value, defs[schema["$ref"].rsplit("/", 1)[-1]], defs, where)
    kind = schema.get("type")
    fmt = schema.get("format")
    if fmt == "int-or-string":
        return [] if isinstance(value, (int, str)) else [f"{where}: not int-or-string"]
    if kind == "string":
        return [] if isinstance(value, str) else [f"{where}: {value!r} is not a string"]
    if kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{where}: {value!r} is not an integer"]
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{where}: {value!r} is not a boolean"]
    if kind == "array":
        if not isinstance(value, list):
            return [f"{where}: not an array"]
        out: list[str] = []
        for index, item in enumerate(value):
            out += check(item, schema.get("items", {}), defs, f"{where}[{index}]")
        return out
    if kind == "object" or "properties" in schema:
        if not isinstance(value, dict):
            return [f"{where}: not an object"]
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        out = [f"{where}: {r} is required" for r in schema.get("required", []) if r not in value]
        for key, item in value.items():
            if props is not None and key in props:
                out += check(item, props[key], defs, f"{where}.{key}")
            elif isinstance(extra, dict):
                out += check(item, extra, defs, f"{where}.{key}")
            elif props is not None:
                out.append(f"{where}: unknown field {key!r}")
        return out
    return []


@pytest.fixture
def definitions(reference_dir: Path) -> dict[str, Any]:
    path = reference_dir / "kubernetes-swagger.json"
    if not path.is_file():
        pytest.skip("kubernetes-swagger.json is not in ../shared/reference")
    return dict(json.loads(path.read_text())["definitions"])


def test_every_object_the_stand_in_serves_follows_the_swagger(
    bg: BlueGreenRepo,
    cluster: Cluster,
    definitions: dict[str, Any],
    make_deps: Callable[..., flow.Deps],
    make_settings: Callable[..., flow.Settings],
) -> None:
    result = flow.run(
        make_settings("ghcr.io/gitops-guard/web:1.1.0", scale_down_delay_seconds=0), make_deps()
    )
    assert code(result) == 0
    from kubernetes import client as k8s

    api = k8s.ApiClient()
    seen = set()
    problems: list[str] = []
    for (kind, _, name), obj in sorted(cluster.store.objects.items()):
        seen.add(kind)
        problems += check(obj, definitions[DEFINITIONS[kind]], definitions, f"{kind}/{name}")
        model = api._ApiClient__deserialize(obj, CLIENT_MODELS[kind])  # type: ignore[attr-defined]
        assert model.metadata.name == name
    assert seen == set(DEFINITIONS)
    assert problems == []
    list_schema = definitions["io.k8s.api.discovery.v1.EndpointSliceList"]
    listed = {
        "kind": "EndpointSliceList",
        "apiVersion": "discovery.k8s.io/v1",
        "metadata": {"resourceVersion": str(cluster.store.version)},
        "items": cluster.store.select("EndpointSlice", NAMESPACE),
    }
    assert check(listed, list_schema, definitions, "list") == []
    event_schema = definitions["io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent"]
    event = {"type": "MODIFIED", "object": cluster.store.select("Service", NAMESPACE)[0]}
    assert check(event, event_schema, definitions, "event") == []


def test_the_checker_finds_what_is_wrong(definitions: dict[str, Any]) -> None:
    bad = {"metadata": {"name": 3}, "spec": {"replicas": "two", "colour": "x"}}
    found = check(bad, definitions[DEFINITIONS["Deployment"]], definitions, "d")
    assert "d.metadata.name: 3 is not a string" in found
    assert "d.spec.replicas: 'two' is not an integer" in found
    assert "d.spec: unknown field 'colour'" in found
