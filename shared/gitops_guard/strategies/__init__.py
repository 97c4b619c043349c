"""Delivery strategies beyond a rolling update: pure step planning, then flows.

* :mod:`.bluegreen`: two colours, the idle one proven before the switch, the
  switch and the switch-back each one commit (or one Service patch).
* :mod:`.canary`: the same two colours, traffic moved step by step, each step a commit.
* :mod:`.render`: the words both share: trailer messages, history records, the
  timeline table of the job summary;
* :mod:`.runs`: the base of both runs: the folder in the checkout, the timeline, the
  history read from Git, the ArgoCD wait after a commit.

A strategy's planning modules decide from Git and cluster state alone (never from
memory), so every step can be rerun; its flow does the I/O through the publish
engine, argocd-wait, the SLO gate and :mod:`gitops_guard.kube`.
"""
