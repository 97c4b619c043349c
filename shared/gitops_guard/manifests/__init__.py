"""Surgical, byte-exact image edits in a GitOps tree.

The public surface is :func:`plan` (read the tree, compute and verify every
edit, write nothing) and :func:`apply` (write a plan all or nothing), and the
plan's values :class:`EditPlan`, :class:`FileEdit`, :class:`ImageChange`,
:class:`Skipped`. See docs/manifests.md for targets and guarantees.

Modules: ``yamledit`` (the splice engine, on ``yamlnodes``, ``yamlscalars`` and
``yamlbounds``), ``workloads``, ``kustomize``, ``helm``, ``argocd`` (where images
live), ``tree`` (which files, reading them), ``plan`` (on ``planner``,
``plan_kustomize`` and ``plan_argocd``).
This package must not run git or talk to the network.
"""

from __future__ import annotations

from gitops_guard.manifests.models import EditPlan, FileEdit, ImageChange, Skipped
from gitops_guard.manifests.plan import apply, plan

__all__ = ["EditPlan", "FileEdit", "ImageChange", "Skipped", "apply", "plan"]
