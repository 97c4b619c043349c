"""What now? Blue-green's pure step planning over Git (and cluster) state.

:func:`decide` reads a :class:`~.models.Layout` (the tip of the branch), the
service's blue-green history (trailers) and the target image, and says where the
rollout stands; the flow then does what the phase needs, and a rerun decides again
from the new state, never from memory:

==========  =========================================================================
phase       when, and what the flow does next
==========  =========================================================================
done        the live colour runs the image and the old colour is scaled down: exit 0
switched    the live colour runs the image, the old one is still warm: post-switch
            gate, then scale down (or switch back)
prepare     the idle colour lacks the image, its replicas or the preview selector:
            one prepare commit, then as ``verify``
verify      the idle colour is prepared: readiness, preview gate, switch
==========  =========================================================================

:func:`argocd_problem` refuses set-ups where ArgoCD would undo a cluster-mode patch
or silently drop a Git switch. A quarantined image is refused by the flow before it
asks (the quarantine file, like update-manifest). Data in, value out: no I/O here.
"""

from __future__ import annotations

from collections.abc import Sequence

from gitops_guard.argocd import models as argo_models
from gitops_guard.strategies.bluegreen import models, render


def decide(
    layout: models.Layout,
    *,
    image: str,
    history: Sequence[models.HistoryEntry] = (),
    preview_replicas: int | None = None,
    live: str | None = None,
) -> models.Decision:
    """Where the rollout of ``image`` stands; ``live`` overrides the Git selector (cluster mode)."""
    live = live or layout.live
    idle = layout.other(live)
    live_dep = layout.deployments[live]
    idle_dep = layout.deployments[idle]
    if live_dep.image == image:
        if idle_dep.replicas > 0:
            switch = next(
                (
                    h.sha
                    for h in history
                    if h.action == render.ACTION_SWITCH and h.colour == live and h.image == image
                ),
                "",
            )
            return models.Decision(
                "switched",
                live,
                idle,
                f"{live} already serves {image}; {idle} is still warm ({idle_dep.replicas} "
                "replicas)",
                switch_commit=switch,
            )
        return models.Decision("done", live, idle, f"{live} already serves {image}")
    wanted = preview_replicas if preview_replicas is not None else max(1, live_dep.replicas)
    set_image = idle_dep.image != image
    set_replicas = wanted if idle_dep.replicas != wanted else None
    point_preview = layout.preview is not None and layout.preview.colour != idle
    if set_image or set_replicas is not None or point_preview:
        needs = [
            *(["image"] if set_image else []),
            *([f"{wanted} replicas"] if set_replicas is not None else []),
            *(["the preview selector"] if point_preview else []),
        ]
        return models.Decision(
            "prepare",
            live,
            idle,
            f"the idle colour {idle} needs {', '.join(needs)}",
            set_image=set_image,
            set_replicas=set_replicas,
            point_preview=point_preview,
        )
    return models.Decision("verify", live, idle, f"the idle colour {idle} is prepared")


def _covers_selector(entry: argo_models.ResourceIgnoreDifferences, service: str) -> bool:
    if entry.kind != "Service" or entry.group not in ("", "core"):
        return False
    if entry.name and entry.name != service:
        return False
    pointers = any(p.rstrip("/") in ("/spec/selector", "/spec") for p in entry.json_pointers)
    jq = any(e.strip() in (".spec.selector", ".spec") for e in entry.jq_path_expressions)
    return pointers or jq or bool(entry.managed_fields_managers)


def argocd_problem(
    spec: argo_models.ApplicationSpec, *, service: str, mode: models.Mode
) -> str | None:
    """Why ArgoCD's settings break this mode, or None when they do not.

    * cluster mode: with ``selfHeal`` and no ``ignoreDifferences`` for the Service's
      selector, ArgoCD would put the Git selector back right after our patch;
    * git mode: with ``RespectIgnoreDifferences=true`` and an ``ignoreDifferences`` for
      the selector, ArgoCD would never apply the switch commit.
    """
    ignored = any(_covers_selector(e, service) for e in spec.ignore_differences)
    policy = spec.sync_policy
    if mode == "cluster":
        self_heal = bool(policy and policy.automated and policy.automated.self_heal)
        if self_heal and not ignored:
            return (
                f"ArgoCD self-heals this application and does not ignore Service {service}'s "
                "selector: it would undo the cluster-mode switch within seconds. Add an "
                "ignoreDifferences entry (kind: Service, jsonPointers: [/spec/selector]) "
                "or use --mode git"
            )
        return None
    respect = any(
        o.replace(" ", "") == "RespectIgnoreDifferences=true"
        for o in (policy.sync_options if policy else ())
    )
    if respect and ignored:
        return (
            f"ArgoCD ignores Service {service}'s selector and respects that on sync "
            "(RespectIgnoreDifferences=true): a switch commit would never reach the cluster. "
            "Use --mode cluster, or drop the ignoreDifferences entry"
        )
    return None
