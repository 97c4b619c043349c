"""What now? The canary's steps, the replica counts they need, and where a run stands.

Pure: the layout read from Git (the two colours' Deployments), the history's
trailers and the target image in; a :class:`Decision` out. It must not run git,
read files or talk to servers.

* :func:`parse_steps` reads ``--steps 5,25,50,100``: whole percentages, rising,
  ending at 100 (exit 2 naming the input otherwise);
* :func:`replica_plan` turns each step into canary/stable replica counts out of the
  service's total; a step the total cannot express exactly is refused (exit 2),
  naming the step and the steps that would work;
* :func:`decide` reads which colour is stable and which is the canary from the
  Deployments (the canary runs the target image; the stable one serves the rest),
  and which steps are left.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from gitops_guard import errors
from gitops_guard.strategies.bluegreen import models as bg_models

STEPS_HINT = "Write rising whole percentages that end at 100, e.g. --steps 5,25,50,100."

Phase = Literal["step", "done", "rejected"]


def parse_steps(text: str, *, source: str = "--steps") -> tuple[int, ...]:
    """``"5,25,50,100"`` -> (5, 25, 50, 100); exit 2 naming ``source`` when they do not add up."""
    parts = [p.strip().removesuffix("%") for p in text.replace(" ", ",").split(",") if p.strip()]
    if not parts:
        raise errors.InputError("no steps given", source=source, hint=STEPS_HINT)
    steps: list[int] = []
    for part in parts:
        if not part.isdigit():
            raise errors.InputError(
                f"step {part!r} is not a whole percentage", source=source, hint=STEPS_HINT
            )
        value = int(part)
        if not 1 <= value <= 100:
            raise errors.InputError(
                f"step {value}% is outside 1..100", source=source, hint=STEPS_HINT
            )
        if steps and value <= steps[-1]:
            raise errors.InputError(
                f"step {value}% does not rise after {steps[-1]}%: steps must grow",
                source=source,
                hint=STEPS_HINT,
            )
        steps.append(value)
    if steps[-1] != 100:
        raise errors.InputError(
            f"the steps end at {steps[-1]}%, not 100%: the canary would never be promoted",
            source=source,
            hint=STEPS_HINT,
        )
    return tuple(steps)


def expressible(total: int) -> list[int]:
    """The percentages ``total`` replicas can express exactly (1/N granularity)."""
    return [100 * k // total for k in range(1, total + 1) if (100 * k) % total == 0]


def replica_plan(
    steps: Sequence[int], total: int, *, source: str = "--steps"
) -> tuple[tuple[int, int], ...]:
    """(canary, stable) replicas per step out of ``total``; exit 2 for a step that does not fit."""
    if total < 1:
        raise errors.InputError(
            "the stable colour runs 0 replicas: there is no traffic to split",
            source=source,
            hint="Give the stable Deployment its replicas in Git first.",
        )
    bad = [s for s in steps if (s * total) % 100 != 0]
    if bad:
        fits = expressible(total)
        listed = ", ".join(f"{s}%" for s in bad)
        shown = ", ".join(str(f) for f in fits)
        raise errors.InputError(
            f"with {total} replicas a replica-ratio canary moves traffic in steps of "
            f"1/{total}; it cannot express {listed}",
            source=source,
            hint=f"With {total} replicas use steps from {shown}, change the replica count, "
            "or use --traffic gateway (HTTPRoute weights).",
        )
    return tuple((s * total // 100, total - s * total // 100) for s in steps)


@dataclass(frozen=True)
class Decision:
    """Where the canary stands, from Git alone."""

    phase: Phase
    stable: str
    canary: str
    total: int
    """The replicas both colours share (the stable colour's count before the first step)."""
    share: int
    """The canary's share now, in percent of ``total`` (0 before the first step)."""
    reason: str
    next_steps: tuple[int, ...] = ()
    step_commits: tuple[str, ...] = ()
    """This image's step commits in Git, oldest first (what an abort reverts)."""
    scaled: bool = False
    """``--traffic gateway``: the canary colour already runs the image with its replicas at
    weight 0 (the scale commit is in Git; its pods come up before any weight moves)."""


@dataclass(frozen=True)
class HistoryEntry:
    """One canary commit of this service, as its trailers tell it."""

    sha: str
    action: str
    colour: str = ""
    image: str = ""
    step: str = ""
    reverts: tuple[str, ...] = ()


def _share(canary: int, total: int) -> int:
    return math.floor(100 * canary / total) if total else 0


def decide(
    layout: bg_models.Layout,
    *,
    image: str,
    steps: Sequence[int],
    history: Sequence[HistoryEntry],
    step_action: str,
    abort_action: str,
) -> Decision:
    """The phase: ``step`` (more steps to take), ``done`` or ``rejected``; exit 2 when unclear."""
    a, b = (layout.deployments[c] for c in layout.colours)
    for entry in history:
        if entry.action == abort_action and entry.image == image:
            return Decision(
                "rejected",
                entry.colour,
                layout.other(entry.colour),
                0,
                0,
                f"the canary of {image} was aborted in {entry.sha[:12]}; promote a fixed version",
            )
        if entry.action == step_action:
            break
    running = [d for d in (a, b) if d.image == image and d.replicas > 0]
    alone = bool(running) and (
        len(running) == 2 or layout.deployments[layout.other(running[0].colour)].replicas == 0
    )
    if alone:
        colour = running[0].colour
        return Decision(
            "done",
            colour,
            layout.other(colour),
            running[0].replicas,
            100,
            f"{colour} serves {image} alone",
        )
    if running:
        canary = running[0]
        stable = layout.deployments[layout.other(canary.colour)]
        total = canary.replicas + stable.replicas
        share = _share(canary.replicas, total)
        mine = itertools.takewhile(
            lambda e: e.action == step_action and e.image == image and e.colour == canary.colour,
            history,
        )
        commits = tuple(reversed([e.sha for e in mine]))
        left = tuple(s for s in steps if s > share)
        return Decision(
            "step",
            stable.colour,
            canary.colour,
            total,
            share,
            f"{canary.colour} runs {image} with {canary.replicas} of {total} replicas ({share}%)",
            left,
            commits,
        )
    serving = [d for d in (a, b) if d.replicas > 0]
    if len(serving) != 1:
        detail = (
            "both colours serve and neither runs the new image: finish or abort the canary "
            "that is under way first"
            if serving
            else "neither colour has replicas"
        )
        raise errors.InputError(
            f"cannot tell the stable colour of {layout.service}: {detail}",
            source=str(a.replicas_site),
            hint="The stable colour is the one with replicas; the canary colour has 0 "
            "before a canary starts (see docs/canary.md).",
        )
    stable = serving[0]
    canary_colour = layout.other(stable.colour)
    return Decision(
        "step",
        stable.colour,
        canary_colour,
        stable.replicas,
        0,
        f"{stable.colour} serves {stable.image} with {stable.replicas} replicas; "
        f"{canary_colour} is idle",
        tuple(steps),
    )


def decide_weights(
    layout: bg_models.Layout,
    weights: dict[str, int],
    *,
    image: str,
    steps: Sequence[int],
    history: Sequence[HistoryEntry],
    step_action: str,
    abort_action: str,
) -> Decision:
    """As :func:`decide`, for ``--traffic gateway``: the share is the route's weights.

    ``weights``: colour -> its share of the route in whole percent. The canary runs
    ``image`` with a weight above 0; the stable colour has the rest. Done when a colour
    runs ``image`` with all the weight and the other colour is scaled to 0.
    """
    for entry in history:
        if entry.action == abort_action and entry.image == image:
            return Decision(
                "rejected",
                entry.colour,
                layout.other(entry.colour),
                0,
                0,
                f"the canary of {image} was aborted in {entry.sha[:12]}; promote a fixed version",
            )
        if entry.action == step_action:
            break
    deps = layout.deployments
    for colour in layout.colours:
        other = layout.other(colour)
        if deps[colour].image == image and weights[colour] == 100 and deps[other].replicas == 0:
            return Decision(
                "done", colour, other, deps[colour].replicas, 100, f"{colour} serves {image} alone"
            )
    running = [c for c in layout.colours if deps[c].image == image and weights[c] > 0]
    if running:
        canary = running[0]
        stable = layout.other(canary)
        mine = itertools.takewhile(
            lambda e: e.action == step_action and e.image == image and e.colour == canary,
            history,
        )
        return Decision(
            "step",
            stable,
            canary,
            deps[stable].replicas,
            weights[canary],
            f"{canary} runs {image} with {weights[canary]}% of the route's weight",
            tuple(s for s in steps if s > weights[canary]),
            tuple(reversed([e.sha for e in mine])),
        )
    serving = [c for c in layout.colours if weights[c] > 0]
    if len(serving) != 1 or deps[serving[0]].replicas < 1:
        raise errors.InputError(
            f"cannot tell the stable colour of {layout.service}: the route should give one "
            "colour, which has replicas, all the weight before a canary starts",
            source=str(deps[layout.colours[0]].replicas_site),
            hint="Set the stable colour's weight to 100 and the other's to 0 (see docs/canary.md).",
        )
    stable = serving[0]
    canary = layout.other(stable)
    if deps[canary].image == image and deps[canary].replicas > 0:
        mine = itertools.takewhile(
            lambda e: e.action == step_action and e.image == image and e.colour == canary,
            history,
        )
        return Decision(
            "step",
            stable,
            canary,
            deps[stable].replicas,
            0,
            f"{canary} runs {image} with {deps[canary].replicas} replicas at weight 0 "
            f"(scaled up, no traffic yet); {stable} has all the route's weight",
            tuple(steps),
            tuple(reversed([e.sha for e in mine])),
            scaled=True,
        )
    return Decision(
        "step",
        stable,
        canary,
        deps[stable].replicas,
        0,
        f"{stable} serves {deps[stable].image} with all the route's weight",
        tuple(steps),
    )
