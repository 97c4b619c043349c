"""Staging and production in one lab: the seed, and the example caller run under act.

``write_seed(dest)`` writes a GitOps repository as an application with two
environments keeps it: ``examples/gitops-repo`` with the demo app's manifests moved
to a kustomize base (``deploy/sre-demo-app/base``), a ``staging`` and a
``production`` overlay (each with its own ``images:`` entry and namespace), one
ArgoCD Application per overlay (``apps/sre-demo-app-staging.yaml``,
``apps/sre-demo-app-production.yaml``; production's is annotated for user traffic,
so a release that fails only under real users passes staging and fails production)
and one SLO file per environment under ``slo/``, each selecting its own demo app's
series (``app="sre-demo-app-<environment>"``). ``slo/rejected-query.yaml`` uses a
function the offline parser leaves to Prometheus and Prometheus refuses.

``example_caller()`` is ``examples/app-repo/.github/workflows/staging-then-production.yml``
itself, with only what a run against the lab must change: a workflow_dispatch trigger
whose inputs carry the lab's URLs and the image (the build is the example's, and
there is no registry here), gitops-guard at the snapshot SHA, the lab's app names,
overlays and SLO files, and GITOPS_TOKEN instead of the App key. The jobs, their
``needs``, the approval job, its ``if:``, the image handed from staging to
production and ``require-verdict-from`` are the example's, unchanged.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "app-repo" / ".github" / "workflows" / "staging-then-production.yml"
ENVIRONMENTS = ("staging", "production")
IMAGE = "ghcr.io/gitops-guard/sre-demo-app"


def app_name(environment: str) -> str:
    return f"sre-demo-app-{environment}"


def overlay(environment: str) -> str:
    return f"deploy/sre-demo-app/overlays/{environment}"


def slo_file(environment: str) -> str:
    return f"slo/sre-demo-app-{environment}.yaml"


def app_files() -> list[str]:
    return [f"apps/{app_name(e)}.yaml" for e in ENVIRONMENTS]


_KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: sre-demo-{environment}
resources:
  - ../../base
images:
  - name: {image}
    newTag: "1.0.0"
"""

_SLO = """\
# The {environment} gate of the demo app: its own series (app="{app}").
name: {app}
variables:
  app: {app}
  version: "1.0.0"
  window: 30s
analysis:
  duration: 12s
  interval: 2s
  initialDelay: 2s
  # Overlapping 30s windows measured every 2s see one slow or failed request many
  # times; a measurement counts only with 150 requests behind it (about 8 s of the
  # lab's load), and an objective trips on its third failure in a row, so one stall
  # of a busy machine does not fail a good version, while 1.4.0 under user traffic
  # (a third of requests fail) fails every measurement.
  failureLimit: 2
  allowOverlap: true
  minRequests:
    query: sum(increase(http_requests_total{{app="${{app}}",version="${{version}}"}}[${{window}}]))
    value: 150
scoring: {{pass: 90, warn: 75}}
objectives:
  - name: availability
    query: >-
      sum(rate(http_requests_total{{app="${{app}}",version="${{version}}",code!~"5.."}}[${{window}}]))
      / sum(rate(http_requests_total{{app="${{app}}",version="${{version}}"}}[${{window}}]))
    # 0.98, not 0.99: 1.0.0 and 1.4.0 fail 0.4% of requests, so 2 errors in the 150
    # requests of one window (1 in 8 windows) would warn, and a warning availability
    # scores the gate below `warn`; 4 errors (1 in 300) are needed now. Under user
    # traffic 1.4.0 answers about 65%.
    pass: ">= 0.98"
    warn: ">= 0.95"
    key: true
    weight: 2
    unit: ratio
  - name: latency-p95
    query: >-
      histogram_quantile(0.95, sum by (le)
      (rate(http_request_duration_seconds_bucket{{app="${{app}}",version="${{version}}"}}[${{window}}])))
    # Loose on purpose: the chain is judged by availability (1.4.0 fails a third of
    # user requests); the lab's latency on a busy 2-core runner is not the question.
    pass: "< 1s"
    warn: "< 2500ms"
    key: true
    weight: 1
    unit: s
"""

REJECTED_QUERY_SLO = """\
# A query the offline parser accepts (it leaves unknown functions to Prometheus) and
# Prometheus refuses at gate time (HTTP 400 bad_data: unknown function).
name: rejected-query
variables:
  app: sre-demo-app-staging
  version: "1.0.0"
analysis:
  duration: 10s
  interval: 2s
  initialDelay: 1s
objectives:
  - name: availability
    query: >-
      a_function_from_a_newer_prometheus(http_requests_total{app="${app}",version="${version}"})
    pass: ">= 0.99"
"""


def write_seed(dest: Path) -> Path:
    """Write the two-environment GitOps seed into ``dest``; returns ``dest``."""
    shutil.copytree(ROOT / "examples" / "gitops-repo", dest)
    app = dest / "deploy" / "sre-demo-app"
    base = dest / "base-tmp"
    app.rename(base)
    app.mkdir()
    base.rename(app / "base")
    definition = yaml.safe_load((dest / "apps" / "sre-demo-app.yaml").read_text())
    (dest / "apps" / "sre-demo-app.yaml").unlink()
    (dest / "slo").mkdir()
    for environment in ENVIRONMENTS:
        folder = dest / overlay(environment)
        folder.mkdir(parents=True)
        (folder / "kustomization.yaml").write_text(
            _KUSTOMIZATION.format(environment=environment, image=IMAGE)
        )
        item: dict[str, Any] = yaml.safe_load(yaml.safe_dump(definition))
        item["metadata"]["name"] = app_name(environment)
        if environment == "production":
            item["metadata"]["annotations"] = {"lab.gitops-guard.dev/traffic": "users"}
        item["spec"]["source"]["path"] = overlay(environment)
        item["spec"]["destination"]["namespace"] = f"sre-demo-{environment}"
        (dest / "apps" / f"{app_name(environment)}.yaml").write_text(
            yaml.safe_dump(item, sort_keys=False)
        )
        (dest / slo_file(environment)).write_text(
            _SLO.format(environment=environment, app=app_name(environment))
        )
    (dest / "slo" / "rejected-query.yaml").write_text(REJECTED_QUERY_SLO)
    return dest


def example_caller(*, argocd_timeout: int = 120) -> str:
    """The example staging-then-production caller, pointed at the lab (see above)."""
    workflow = yaml.safe_load(EXAMPLE.read_text())
    workflow.pop(True, None)  # YAML 1.1 reads the key `on` as True
    workflow.pop("on", None)
    workflow.pop("name", None)
    inputs = {key: {"type": "string", "default": ""} for key in _INPUTS}
    shaped: dict[str, Any] = {"name": "e2e-staging-then-production"}
    shaped["on"] = {"workflow_dispatch": {"inputs": inputs}}
    shaped.update(workflow)
    for environment in ENVIRONMENTS:
        job = shaped["jobs"][environment]
        job["uses"] = "acme/gitops-guard/.github/workflows/gitops-deploy.yml@__REF__"
        settings = job["with"]
        for key in _BUILD_AND_REAL_SERVERS:
            settings.pop(key, None)
        if environment == "staging":
            settings["image"] = "${{ inputs.image }}"
        settings.update(
            {
                "manifest-paths": overlay(environment),
                "argocd-server": "${{ inputs.argocd-server }}",
                "argocd-app": app_name(environment),
                "argocd-insecure": True,
                "argocd-timeout-seconds": argocd_timeout,
                "prometheus-url": "${{ inputs.prometheus-url }}",
                "slo-file": "${{ inputs." + environment + "-slo-file }}",
                "gitops-guard-repository": "acme/gitops-guard",
                "gitops-guard-ref": "__REF__",
            }
        )
        job["secrets"] = {
            "GITOPS_TOKEN": "${{ secrets.GITOPS_TOKEN }}",
            "ARGOCD_TOKEN": "${{ secrets.ARGOCD_TOKEN }}",
        }
    return yaml.safe_dump(shaped, sort_keys=False, width=200)


_INPUTS = ("image", "argocd-server", "prometheus-url", "staging-slo-file", "production-slo-file")
_BUILD_AND_REAL_SERVERS = (
    "test-command",  # the example's `make test`: the caller here has no Makefile
    "image-name",  # the build: no registry here, the image comes as an input
    "image-tag",
    "gitops-app-id",  # GITOPS_TOKEN instead of the App
    "environment-url",
    "rollback-rules",  # the bake of 15 minutes: docs/workflows.md, tested on its own
    "bake-duration",
)
