"""strategies.bluegreen.plan: what now? and which ArgoCD set-ups each mode refuses.

Covers every phase of :func:`plan.decide` (prepare with each missing piece, verify,
switched with and without a known switch commit, done, verify again after a switch-back,
a cluster-side live colour), the preview replicas default (the live count, at least
one) and :func:`plan.argocd_problem` for self-heal, ignoreDifferences by pointer, jq
and managers, and RespectIgnoreDifferences in git mode.
"""

from __future__ import annotations

from typing import Any

import pytest

from gitops_guard.argocd import models as argo
from gitops_guard.strategies.bluegreen import models, plan, render

OLD = "r/web:1.0.0"
NEW = "r/web:1.1.0"
SITE = models.Site("x.yaml", 0, 1)


def layout(
    *,
    live: str = "blue",
    blue: tuple[str, int] = (OLD, 2),
    green: tuple[str, int] = (OLD, 0),
    preview: str | None = "green",
) -> models.Layout:
    deps = {
        c: models.ColourDeployment(c, f"web-{c}", SITE, img, n, SITE, {"color": c})
        for c, (img, n) in (("blue", blue), ("green", green))
    }

    def svc(name: str, colour: str) -> models.ServiceSelector:
        return models.ServiceSelector(name, SITE, {"color": colour}, colour, SITE)

    return models.Layout(
        service="web",
        colour_key="color",
        colours=("blue", "green"),
        deployments=deps,
        active=svc("web", live),
        preview=svc("web-preview", preview) if preview else None,
        namespace="shop",
    )


def entry(action: str, **kw: str) -> models.HistoryEntry:
    return models.HistoryEntry(sha=kw.pop("sha", "a" * 40), action=action, **kw)


@pytest.mark.parametrize(
    ("lay", "history", "kwargs", "expected"),
    [
        (layout(), [], {}, ("prepare", True, 2, False)),
        (layout(green=(NEW, 0)), [], {}, ("prepare", False, 2, False)),
        (layout(green=(NEW, 2), preview="blue"), [], {}, ("prepare", False, None, True)),
        (layout(green=(NEW, 2)), [], {}, ("verify", False, None, False)),
        (layout(green=(NEW, 1)), [], {"preview_replicas": 1}, ("verify", False, None, False)),
        (layout(green=(NEW, 2)), [], {"preview_replicas": 1}, ("prepare", False, 1, False)),
        (layout(blue=(OLD, 0), green=(OLD, 0)), [], {}, ("prepare", True, 1, False)),
        (layout(green=(NEW, 2), preview=None), [], {}, ("verify", False, None, False)),
    ],
)
def test_prepare_and_verify(
    lay: models.Layout,
    history: list[models.HistoryEntry],
    kwargs: dict[str, Any],
    expected: tuple[str, bool, int | None, bool],
) -> None:
    got = plan.decide(lay, image=NEW, history=history, **kwargs)
    assert (got.phase, got.set_image, got.set_replicas, got.point_preview) == expected
    assert (got.live, got.idle) == ("blue", "green")


def test_switched_done_and_after_a_switch_back() -> None:
    switched = layout(live="green", blue=(OLD, 2), green=(NEW, 2))
    history = [entry(render.ACTION_SWITCH, colour="green", image=NEW, sha="s" * 40)]
    got = plan.decide(switched, image=NEW, history=history)
    assert (got.phase, got.live, got.idle, got.switch_commit) == (
        "switched",
        "green",
        "blue",
        "s" * 40,
    )
    assert plan.decide(switched, image=NEW).switch_commit == ""
    done = layout(live="green", blue=(OLD, 0), green=(NEW, 2))
    assert plan.decide(done, image=NEW).phase == "done"
    # After a switch-back the new colour is still prepared: a rerun retries from the
    # preview (the flow refuses the image first when the failed gate quarantined it).
    back = [entry(render.ACTION_SWITCH_BACK, image=OLD, previous_image=NEW, sha="b" * 40)]
    assert plan.decide(layout(green=(NEW, 2)), image=NEW, history=back).phase == "verify"
    assert plan.decide(layout(green=(NEW, 2)), image="r/web:1.2.0", history=back).phase == "prepare"


def test_cluster_live_colour_overrides_git() -> None:
    got = plan.decide(layout(live="blue", green=(NEW, 2)), image=NEW, live="green")
    assert (got.phase, got.live) == ("switched", "green")


def spec(**raw: Any) -> argo.ApplicationSpec:
    return argo.ApplicationSpec.model_validate(raw)


SELF_HEAL = {"automated": {"selfHeal": True}}
IGNORE_POINTER = [{"kind": "Service", "name": "web", "jsonPointers": ["/spec/selector"]}]
IGNORE_JQ = [{"kind": "Service", "jqPathExpressions": [".spec.selector"]}]
IGNORE_OTHER = [{"kind": "Service", "name": "api", "jsonPointers": ["/spec/selector"]}]


@pytest.mark.parametrize(
    ("raw", "mode", "refused"),
    [
        ({"syncPolicy": SELF_HEAL}, "cluster", "would undo"),
        ({"syncPolicy": SELF_HEAL, "ignoreDifferences": IGNORE_POINTER}, "cluster", None),
        ({"syncPolicy": SELF_HEAL, "ignoreDifferences": IGNORE_JQ}, "cluster", None),
        ({"syncPolicy": SELF_HEAL, "ignoreDifferences": IGNORE_OTHER}, "cluster", "would undo"),
        ({"syncPolicy": {"automated": {}}}, "cluster", None),
        ({"syncPolicy": SELF_HEAL}, "git", None),
        (
            {
                "syncPolicy": {"syncOptions": ["RespectIgnoreDifferences=true"]},
                "ignoreDifferences": IGNORE_POINTER,
            },
            "git",
            "never reach the cluster",
        ),
        ({"ignoreDifferences": IGNORE_POINTER}, "git", None),
    ],
)
def test_argocd_problem(raw: dict[str, Any], mode: models.Mode, refused: str | None) -> None:
    problem = plan.argocd_problem(spec(**raw), service="web", mode=mode)
    if refused is None:
        assert problem is None
    else:
        assert problem is not None and refused in problem
