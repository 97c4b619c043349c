"""The canary's pure plan (strategies.canary.plan): steps, replica counts, where a run stands.

Covers: the steps grammar (rising whole percentages ending at 100, a % sign allowed)
and what it refuses, naming --steps; the percentages N replicas can express; the
replica split per step and the refusal of a step that needs a fraction of a pod,
naming the steps that would work; the stable and canary colours read from the
replicas and images, before, during and after a canary, and an ambiguous start; with
the route's weights, a canary scaled up at weight 0 is prepared (not done, not rejected).
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


def _weights(
    lay: bg.Layout, blue: int, green: int, history: list[plan.HistoryEntry] | None = None
) -> plan.Decision:
    return plan.decide_weights(
        lay,
        {"blue": blue, "green": green},
        image=IMAGE,
        steps=(25, 50, 100),
        history=history or [],
        step_action="canary-step",
        abort_action="canary-abort",
    )


def test_a_gateway_canary_scaled_at_weight_0_is_prepared_not_done() -> None:
    fresh = _weights(_layout((OLD, 4), (OLD, 0)), 100, 0)
    assert (fresh.phase, fresh.canary, fresh.scaled, fresh.next_steps) == (
        "step",
        "green",
        False,
        (25, 50, 100),
    )
    scale = plan.HistoryEntry("a" * 40, "canary-step", "green", IMAGE, "0%")
    scaled = _weights(_layout((OLD, 4), (IMAGE, 4)), 100, 0, [scale])
    assert (scaled.phase, scaled.stable, scaled.canary, scaled.share) == (
        "step",
        "blue",
        "green",
        0,
    )
    assert scaled.scaled is True and scaled.next_steps == (25, 50, 100)
    assert scaled.step_commits == ("a" * 40,)
    assert "at weight 0" in scaled.reason
    # the image on the canary colour without replicas is not scaled yet
    assert _weights(_layout((OLD, 4), (IMAGE, 0)), 100, 0).scaled is False
    # once weight moved it is a step under way, and the scale commit is one of its commits
    step = plan.HistoryEntry("b" * 40, "canary-step", "green", IMAGE, "25%")
    moving = _weights(_layout((OLD, 4), (IMAGE, 4)), 75, 25, [step, scale])
    assert (moving.share, moving.scaled, moving.next_steps) == (25, False, (50, 100))
    assert moving.step_commits == ("a" * 40, "b" * 40)
