"""The text of every file ``gitops-guard init`` writes, with ``@NAME@`` placeholders.

``@NAME@`` is used instead of ``${name}`` or ``{{ name }}`` because the files
themselves hold SLO-file variables (``${app}``) and GitHub expressions (``${{ }}``).
This module is data and one pure function.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_PLACEHOLDER = re.compile(r"@([A-Z_]+)@")


def render(text: str, values: Mapping[str, str], extra: Mapping[str, str] | None = None) -> str:
    """Replace every ``@NAME@``; an unknown name is a bug (KeyError), never left in a file."""
    table = {**values, **(extra or {})}
    return _PLACEHOLDER.sub(lambda m: table[m.group(1)], text)


APPLICATION = """\
# The ArgoCD Application of @APP@ (written by gitops-guard init).
# Apply it once: kubectl apply -n argocd -f apps/@APP@.yaml
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: @APP@
  namespace: argocd
  finalizers:
    - resources-finalizer.argocd.argoproj.io
spec:
  project: default
  source:
    repoURL: @GITOPS_URL@
    targetRevision: main
    path: @PATH@
  destination:
    server: https://kubernetes.default.svc
    namespace: @NAMESPACE@
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
    syncOptions:
      - CreateNamespace=true
    retry:
      limit: 3
      backoff:
        duration: 5s
        factor: 2
        maxDuration: 1m
"""

KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: @NAMESPACE@
resources:
  - deployment.yaml
  - service.yaml
labels:
  - pairs:
      app.kubernetes.io/part-of: @APP@
"""

KUSTOMIZATION_BLUE_GREEN = """\
# Blue-green: two Deployments that differ only in their colour; the active Service
# selects the live colour, the preview Service the idle one (docs/blue-green.md).
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: @NAMESPACE@
resources:
  - deployment-blue.yaml
  - deployment-green.yaml
  - service.yaml
  - service-preview.yaml
labels:
  - pairs:
      app.kubernetes.io/part-of: @APP@
"""

_CONTAINER = """\
      containers:
        - name: app
          image: @IMAGE@:@TAG@
          ports:
            - name: http
              containerPort: @PORT@
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 5
            failureThreshold: 3
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            initialDelaySeconds: 10
            periodSeconds: 10
          resources:
            requests:
              cpu: 50m
              memory: 64Mi
            limits:
              memory: 256Mi
"""

DEPLOYMENT = (
    """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: @APP@
  labels:
    app.kubernetes.io/name: @APP@
spec:
  replicas: @REPLICAS@
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: @APP@
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app.kubernetes.io/name: @APP@
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "@PORT@"
        prometheus.io/path: /metrics
    spec:
"""
    + _CONTAINER
)

DEPLOYMENT_COLOUR = (
    """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: @APP@-@COLOUR@
  labels:
    app.kubernetes.io/name: @APP@
    color: @COLOUR@
spec:
  replicas: @COLOUR_REPLICAS@
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: @APP@
      color: @COLOUR@
  template:
    metadata:
      labels:
        app.kubernetes.io/name: @APP@
        color: @COLOUR@
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "@PORT@"
        prometheus.io/path: /metrics
    spec:
"""
    + _CONTAINER
)

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: @APP@
  labels:
    app.kubernetes.io/name: @APP@
spec:
  selector:
    app.kubernetes.io/name: @APP@
  ports:
    - name: http
      port: 80
      targetPort: http
"""

SERVICE_ACTIVE = """\
# The active Service: user traffic goes to the colour it selects (blue at first).
apiVersion: v1
kind: Service
metadata:
  name: @APP@
  labels:
    app.kubernetes.io/name: @APP@
spec:
  selector:
    app.kubernetes.io/name: @APP@
    color: blue
  ports:
    - name: http
      port: 80
      targetPort: http
"""

SERVICE_PREVIEW = """\
# The preview Service: always the idle colour, where a new version is proven first.
apiVersion: v1
kind: Service
metadata:
  name: @APP@-preview
  labels:
    app.kubernetes.io/name: @APP@
spec:
  selector:
    app.kubernetes.io/name: @APP@
    color: green
  ports:
    - name: http
      port: 80
      targetPort: http
"""

SLO = """\
# The SLO gate of @APP@ (written by gitops-guard init): the five checks a deploy must
# keep. The queries assume the usual metric names (http_requests_total,
# http_request_duration_seconds, business_operations_total,
# process_resident_memory_bytes) with an `app` label: rename them to what @APP@
# exports, then check the file offline:
#   gitops-guard slo-gate --check --config .gitops-guard/@APP@/slo.yaml
version: 1
name: @APP@
description: Production gate of @APP@ after a deploy.
variables:
  app: @APP@
  window: 5m              # the rate() window of each measurement
analysis:
  minRequests:            # the traffic guard: fewer requests -> inconclusive (exit 3)
    query: sum(increase(http_requests_total{app="${app}"}[10m]))
    value: 100
scoring:
  pass: 90
  warn: 75
objectives:
  - name: availability
    description: Requests answered without a server error.
    query: >-
      sum(rate(http_requests_total{app="${app}",code!~"5.."}[${window}]))
      / sum(rate(http_requests_total{app="${app}"}[${window}]))
    pass: ">= 0.995"
    warn: ">= 0.99"
    key: true
    weight: 2
    unit: ratio
  - name: latency-p99
    description: 99% of requests answered within 500ms.
    query: >-
      histogram_quantile(0.99,
      sum by (le) (rate(http_request_duration_seconds_bucket{app="${app}"}[${window}])))
    pass: "<= 500ms"
    warn: "<= 750ms"
    key: true
    weight: 1
    unit: s
  - name: error-rate
    description: Server errors per request.
    query: >-
      (sum(rate(http_requests_total{app="${app}",code=~"5.."}[${window}])) or vector(0))
      / sum(rate(http_requests_total{app="${app}"}[${window}]))
    pass: "<= 0.5%"
    warn: "<= 1%"
    weight: 1
    unit: ratio
  - name: business-success
    description: Business operations that succeed (a deploy can break them with HTTP 200s).
    query: >-
      sum(rate(business_operations_total{app="${app}",result="success"}[${window}]))
      / sum(rate(business_operations_total{app="${app}"}[${window}]))
    pass: ">= 0.98"
    warn: ">= 0.95"
    weight: 1
    unit: ratio
  - name: memory-saturation
    description: Resident memory of the largest instance.
    query: max(process_resident_memory_bytes{app="${app}"})
    pass: "<= 200MiB"
    warn: "<= 240MiB"
    weight: 1
    unit: bytes
"""

RULES = """\
# Post-deploy guard of @APP@ (written by gitops-guard init): `gitops-guard rollback
# watch --rules .gitops-guard/@APP@/rollback-rules.yaml` rolls the watched deploy back
# when a rule matches. The burn-rate pair is the SRE workbook's page (14.4x over 5m
# and 1h) for a 99.5% availability SLO.
version: 1
defaults:
  cooldown: 30m
  maxRollbacks: 1
  window: 24h
rules:
  - name: availability-fast-burn
    prometheus:
      - query: >-
          (sum(rate(http_requests_total{app="@APP@",code=~"5.."}[5m])) or vector(0))
          / sum(rate(http_requests_total{app="@APP@"}[5m])) / 0.005
        above: 14.4
      - query: >-
          (sum(rate(http_requests_total{app="@APP@",code=~"5.."}[1h])) or vector(0))
          / sum(rate(http_requests_total{app="@APP@"}[1h])) / 0.005
        above: 14.4
    cooldown: 1h
"""

DEPLOY_WORKFLOW = """\
# The deploy pipeline of @APP@ (written by gitops-guard init).
# Every branch runs the tests; a push to main runs the whole chain:
# test -> build -> promote -> verify (ArgoCD + SLO gate) -> rollback if the gate
# says no -> record. The reusable workflow is pinned by commit SHA with its version
# in a comment (Dependabot updates both); replace the SHA with that release's commit.
name: deploy

on:
  push:
    branches: ["**"]

permissions: {}

jobs:
  pipeline:
    uses: @GG_REPOSITORY@/.github/workflows/gitops-deploy.yml@@GG_REF@ # @GG_VERSION@
    permissions:
      contents: read # check out the application (tests, build context)
      packages: write # push the image to ghcr.io (build job only)
      deployments: write # record deploys and rollbacks (record job only)
    with:
      environment: @ENVIRONMENT@
      deploy: ${{ github.ref == 'refs/heads/main' }}
      test-command: make test
      image-name: @IMAGE@
      gitops-repository: @GITOPS_REPOSITORY@
      gitops-branch: main
      manifest-paths: @PATH@
      argocd-server: @ARGOCD_SERVER@
      argocd-app: @APP@
      prometheus-url: @PROMETHEUS_URL@
      slo-file: .gitops-guard/@APP@/slo.yaml
      rollback-mode: commit
      # Checked before every promotion; set bake-duration (e.g. 15m) to watch them
      # after the gate passes.
      rollback-rules: .gitops-guard/@APP@/rollback-rules.yaml
    secrets:
      GITOPS_TOKEN: ${{ secrets.GITOPS_TOKEN }}
      ARGOCD_TOKEN: ${{ secrets.ARGOCD_TOKEN }}
      PROMETHEUS_TOKEN: ${{ secrets.PROMETHEUS_TOKEN }}
"""

ROLLBACK_WORKFLOW = """\
# Roll @APP@ back by hand (written by gitops-guard init): Actions -> rollback -> Run
# workflow, then "previous" or the version to go back to. It shares the deploy's
# concurrency group, so it waits for a running deploy instead of racing it.
name: rollback

on:
  workflow_dispatch:
    inputs:
      target:
        description: "'previous', or the version (image tag) to go back to"
        type: string
        default: previous
      mode:
        description: Push the rollback commit, or open a rollback pull request
        type: choice
        options: [commit, pull-request]
        default: commit
      reason:
        description: Why (one line, goes into the commit message)
        type: string
        default: ""

permissions: {}

jobs:
  rollback:
    uses: @GG_REPOSITORY@/.github/workflows/rollback.yml@@GG_REF@ # @GG_VERSION@
    permissions:
      contents: read # read gitops-guard's actions
      deployments: write # record the rollback
    with:
      environment: @ENVIRONMENT@
      target: ${{ inputs.target }}
      image-name: @IMAGE@
      mode: ${{ inputs.mode }}
      reason: ${{ inputs.reason }}
      gitops-repository: @GITOPS_REPOSITORY@
      manifest-paths: @PATH@
      argocd-server: @ARGOCD_SERVER@
      argocd-app: @APP@
    secrets:
      GITOPS_TOKEN: ${{ secrets.GITOPS_TOKEN }}
      ARGOCD_TOKEN: ${{ secrets.ARGOCD_TOKEN }}
"""
