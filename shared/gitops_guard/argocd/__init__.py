"""ArgoCD: an httpx client, the models of what we read, and "wait until revision R runs".

Modules (import them as namespaces, e.g. ``from gitops_guard.argocd import wait``):

* :mod:`~gitops_guard.argocd.models`: pydantic models of the fields we read from
  ``v1alpha1Application`` (see ``../shared/reference/argocd-swagger.json``);
* :mod:`~gitops_guard.argocd.client`: :class:`~gitops_guard.argocd.client.ArgoClient`,
  the only module here that does I/O;
* :mod:`~gitops_guard.argocd.exceptions`: the client errors callers handle;
* :mod:`~gitops_guard.argocd.decision`: the pure decision (done, keep waiting,
  sync-failed, degraded, timed-out);
* :mod:`~gitops_guard.argocd.wait`: the polling/watching flow around it
  (``wait_for_revision``), re-exporting the decision's names.

This package must not know the Actions runner or the command line.
"""
