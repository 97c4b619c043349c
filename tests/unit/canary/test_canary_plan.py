"""The canary's pure plan (strategies.canary.plan): steps, replica counts, where a run stands.

Covers: the steps grammar (rising whole percentages ending at 100, a % sign allowed)
and what it refuses, naming --steps; the percentages N replicas can express; the
replica split per step and the refusal of a step that needs a fraction of a pod,
naming the steps that would work; the stable and canary colours read from the
replicas and images, before, during and after a canary, and an ambiguous start.
"""

from __future__ import annotations

import pytest

from gitops_guard import errors
from gitops_guard.strategies.bluegreen import models as bg
from gitops_guard.strategies.canary import plan

IMAGE = "ghcr.io/acme/web:2"
OLD = "ghcr.io/acme/web:1"


def _layout(blue: tuple[str, int], green: tuple[str, int]) -> bg.Layout:
    def dep(colour: str, image: str, replicas: int) -> bg.ColourDeployment:
        site = bg.Site(f"web-{colour}.yaml", 0, 1)
        return bg.ColourDeployment(colour, f"web-{colour}", site, image, replicas, site, {})

    return bg.Layout(
        service="web",
        colour_key="color",
        colours=("blue", "green"),
        deployments={"blue": dep("blue", *blue), "green": dep("green", *green)},
        active=None,
        preview=None,
        namespace="",
    )


def _decide(lay: bg.Layout, history: list[plan.HistoryEntry] | None = None) -> plan.Decision:
    return plan.decide(
        lay,
        image=IMAGE,
        steps=(25, 50, 100),
        history=history or [],
        step_action="canary-step",
        abort_action="canary-abort",
    )


def test_steps_grammar() -> None:
    assert plan.parse_steps("5, 25%,50,100") == (5, 25, 50, 100)
    assert plan.parse_steps("100") == (100,)


@pytest.mark.parametrize("text", ["", "25,50", "50,25,100", "0,100", "10,101", "1.5,100"])
def test_steps_that_do_not_add_up(text: str) -> None:
    with pytest.raises(errors.InputError) as caught:
        plan.parse_steps(text)
    assert caught.value.source == "--steps"


def test_replica_split_and_what_cannot_be_expressed() -> None:
    assert plan.expressible(4) == [25, 50, 75, 100]
    assert plan.replica_plan((25, 50, 100), 4) == ((1, 3), (2, 2), (4, 0))
    with pytest.raises(errors.InputError) as caught:
        plan.replica_plan((5, 20, 100), 4)
    assert "cannot express 5%, 20%" in caught.value.message
    assert "25, 50, 75, 100" in str(caught.value.hint)
    assert plan.replica_plan((10, 50, 100), 10)[0] == (1, 9)


def test_before_during_and_after_a_canary() -> None:
    before = _decide(_layout((OLD, 4), (OLD, 0)))
    assert (before.phase, before.stable, before.canary, before.total) == (
        "step",
        "blue",
        "green",
        4,
    )
    assert before.next_steps == (25, 50, 100)
    during = _decide(_layout((OLD, 3), (IMAGE, 1)))
    assert (during.phase, during.share, during.next_steps) == ("step", 25, (50, 100))
    after = _decide(_layout((OLD, 0), (IMAGE, 4)))
    assert (after.phase, after.stable) == ("done", "green")


def test_an_aborted_image_is_rejected_and_an_ambiguous_start_refused() -> None:
    aborted = [plan.HistoryEntry("f" * 40, "canary-abort", "green", IMAGE)]
    assert _decide(_layout((OLD, 4), (OLD, 0)), aborted).phase == "rejected"
    with pytest.raises(errors.InputError) as caught:
        _decide(_layout((OLD, 2), (OLD, 2)))
    assert "cannot tell the stable colour" in caught.value.message
