"""The fake ArgoCD server's payloads follow ../shared/reference/argocd-swagger.json.

Behaviours covered:
- GET application, sync response, terminate response, error bodies and each stream event
  validate against their swagger definitions, with unknown field names refused
  (``additionalProperties: false`` added to every object definition with properties);
- single-source, multi-source, pending-operation and conditions/history states;
- our models read every field we rely on from those payloads;
- every field name our models read exists in the swagger definition it claims.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from argocd_cli import OLD, OURS, TOKEN, deployed

from gitops_guard.argocd import models
from gitops_guard_lab import argocd_api


def strict_definitions(reference_dir: Path) -> dict[str, Any]:
    swagger = json.loads((reference_dir / "argocd-swagger.json").read_text())
    definitions = copy.deepcopy(swagger["definitions"])
    for definition in definitions.values():
        if definition.get("properties") and "additionalProperties" not in definition:
            definition["additionalProperties"] = False
    return definitions


def validate(definitions: dict[str, Any], name: str, payload: Any) -> None:
    schema = {"$ref": f"#/definitions/{name}", "definitions": definitions}
    jsonschema.Draft4Validator(schema).validate(payload)


STATES = {
    "single-source": argocd_api.make_application("web", **deployed(OURS, history_revision=OURS)),
    "multi-source": argocd_api.make_application(
        "web",
        multi_source_paths=("apps/web", "apps/web-config"),
        revisions=[OLD, OURS],
        sync_status="Synced",
        health="Healthy",
        phase="Succeeded",
        op_revision=OURS,
    ),
    "pending-operation": argocd_api.make_application(
        "web", auto_sync=False, **deployed(OLD, operation={"sync": {"revision": OURS}})
    ),
    "conditions": argocd_api.make_application(
        "web",
        **deployed(
            OURS,
            conditions=[("ComparisonError", "failed to generate manifests")],
            health="Degraded",
            health_message="Back-off restarting failed container",
        ),
    ),
    "running": argocd_api.make_application(
        "web", **deployed(OURS, phase="Running", health="Progressing")
    ),
}


@pytest.mark.parametrize("state", list(STATES), ids=list(STATES))
def test_served_payloads_follow_the_swagger(reference_dir: Path, state: str) -> None:
    definitions = strict_definitions(reference_dir)
    store = argocd_api.ApplicationStore()
    store.put(STATES[state])
    with argocd_api.FakeArgoServer(store, token=TOKEN) as server:
        http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"})
        with http:
            got = http.get("/api/v1/applications/web", params={"refresh": "normal"})
            assert got.status_code == 200
            validate(definitions, "v1alpha1Application", got.json())
            app = models.Application.model_validate(got.json())
            assert app.metadata.name == "web"
            assert app.status.sync.status == "Synced"
            assert app.status.reconciled_at is not None

            with http.stream("GET", "/api/v1/stream/applications", params={"name": "web"}) as s:
                line = next(s.iter_lines())
            event = json.loads(line)
            assert set(event) == {"result"}
            validate(definitions, "v1alpha1ApplicationWatchEvent", event["result"])
            assert event["result"]["type"] == "ADDED"

            missing = http.get("/api/v1/applications/nope")
            assert missing.status_code == 404
            validate(definitions, "runtimeError", missing.json())


def test_sync_terminate_and_errors_follow_the_swagger(reference_dir: Path) -> None:
    definitions = strict_definitions(reference_dir)
    store = argocd_api.ApplicationStore()
    store.put(argocd_api.make_application("web", auto_sync=False, **deployed(OLD)))
    with argocd_api.FakeArgoServer(store, token=TOKEN) as server:
        http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"})
        with http:
            body = {"name": "web", "revision": OURS, "prune": False}
            validate(definitions, "applicationApplicationSyncRequest", body)
            synced = http.post("/api/v1/applications/web/sync", json=body)
            assert synced.status_code == 200
            validate(definitions, "v1alpha1Application", synced.json())
            assert synced.json()["operation"]["sync"]["revision"] == OURS

            again = http.post("/api/v1/applications/web/sync", json=body)
            assert again.status_code == 400
            validate(definitions, "runtimeError", again.json())

            stopped = http.delete("/api/v1/applications/web/operation")
            assert stopped.status_code == 200
            validate(definitions, "applicationOperationTerminateResponse", stopped.json())
            after = http.get("/api/v1/applications/web").json()
            validate(definitions, "v1alpha1Application", after)
            assert after["status"]["operationState"]["phase"] == "Failed"

            nothing = http.delete("/api/v1/applications/web/operation")
            assert nothing.status_code == 400
            validate(definitions, "runtimeError", nothing.json())

        unauthorized = httpx.get(f"{server.url}/api/v1/applications/web")
        assert unauthorized.status_code == 401
        validate(definitions, "runtimeError", unauthorized.json())


MODEL_DEFINITIONS = {
    models.ObjectMeta: "v1ObjectMeta",
    models.ApplicationSource: "v1alpha1ApplicationSource",
    models.SyncPolicyAutomated: "v1alpha1SyncPolicyAutomated",
    models.SyncPolicy: "v1alpha1SyncPolicy",
    models.ApplicationSpec: "v1alpha1ApplicationSpec",
    models.SyncStatus: "v1alpha1SyncStatus",
    models.HealthStatus: "v1alpha1AppHealthStatus",
    models.SyncOperation: "v1alpha1SyncOperation",
    models.Operation: "v1alpha1Operation",
    models.SyncOperationResult: "v1alpha1SyncOperationResult",
    models.OperationState: "v1alpha1OperationState",
    models.ApplicationCondition: "v1alpha1ApplicationCondition",
    models.RevisionHistory: "v1alpha1RevisionHistory",
    models.ApplicationStatus: "v1alpha1ApplicationStatus",
    models.Application: "v1alpha1Application",
    models.ApplicationWatchEvent: "v1alpha1ApplicationWatchEvent",
}


@pytest.mark.parametrize(
    "model", list(MODEL_DEFINITIONS), ids=[m.__name__ for m in MODEL_DEFINITIONS]
)
def test_model_field_names_exist_in_the_swagger(reference_dir: Path, model: type) -> None:
    definitions = strict_definitions(reference_dir)
    properties = definitions[MODEL_DEFINITIONS[model]]["properties"]
    for name, info in model.model_fields.items():  # type: ignore[attr-defined]
        wire = info.alias or name
        assert wire in properties, f"{model.__name__}.{name} reads {wire!r}, not in the swagger"
