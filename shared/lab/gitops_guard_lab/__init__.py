"""The local lab: production played on one machine.

A bare git repository stands in for the GitOps remote, a small demo app serves
Prometheus metrics whose behaviour depends on the image version it "runs", a load
generator keeps traffic flowing, the real Prometheus scrapes it, and a syncer plays
ArgoCD: it watches the repository, "deploys" the image its manifests name and
serves the ArgoCD REST endpoints that ``argocd-wait`` reads.

Nothing here is used by the actions themselves; the lab must not be imported by
any other part of the package except :mod:`gitops_guard.cli.lab`.
"""
