"""Before a deploy: the remaining error budget of every burn-rate objective.

``slo-gate --phase pre`` applies the SRE workbook's error budget policy: while an
objective's budget over its SLO period (``burnRate.period``, 30 days by default) is
spent, releases are frozen. For each burn-rate objective one query asks::

    1 - (errors over the period / requests over the period) / (1 - target)

the share of the budget left (1 = untouched, 0 = spent, below 0 = overspent). A
window without any error series counts as zero errors; without traffic there is no
answer, and the phase is ``inconclusive`` (exit 3), never a pass.

* every budget left -> ``pass``;
* a budget spent -> ``fail`` (exit 1, naming the objective and how much is used),
  unless an exemption (:mod:`gitops_guard.exemptions`) covers the change: then
  ``pass`` with the exemption reported (the deploy commit records it).

Pure over the gate's :data:`gitops_guard.slo.gate.Query`; the clock comes in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from gitops_guard import durations, exemptions
from gitops_guard.slo import config, gate

Verdict = Literal["pass", "fail", "inconclusive"]


@dataclass(frozen=True)
class Budget:
    """One objective's error budget over its period."""

    objective: str
    target: float
    period: str
    remaining: float | None
    """Share of the budget left (1 untouched, 0 spent, < 0 overspent); None without data."""
    query: str
    error: str = ""

    @property
    def spent(self) -> bool:
        return self.remaining is not None and self.remaining <= 0

    def describe(self) -> str:
        if self.remaining is None:
            return f"{self.objective}: no budget figure ({self.error or 'no data'})"
        used = (1 - self.remaining) * 100
        return (
            f"{self.objective}: {used:.0f}% of the {self.period} error budget used "
            f"(target {self.target:.4g}), {max(self.remaining, 0) * 100:.0f}% left"
        )


@dataclass(frozen=True)
class PreVerdict:
    """The pre-deploy verdict: the budgets, and the exemption that let a change through."""

    verdict: Verdict
    reason: str
    budgets: tuple[Budget, ...] = field(default_factory=tuple)
    exemption: exemptions.Exemption | None = None


def promql(objective: config.Objective) -> str:
    """The remaining-budget query of a burn-rate objective."""
    burn = objective.burn_rate
    assert burn is not None
    rng = durations.format_duration(burn.period_seconds)
    ratio = (
        f"((sum(increase({burn.errors}[{rng}])) or vector(0)) / sum(increase({burn.total}[{rng}])))"
    )
    return f"1 - {ratio} / {1.0 - burn.target:.10g}"


def measure(cfg: config.SloConfig, query: gate.Query, *, at: datetime | None) -> list[Budget]:
    """Every burn-rate objective's remaining budget."""
    out = []
    for objective in cfg.objectives:
        burn = objective.burn_rate
        if burn is None:
            continue
        text = promql(objective)
        outcome = query(text, at)
        period = durations.format_duration(burn.period_seconds)
        values = [s.value for s in outcome.samples if math.isfinite(s.value)]
        if outcome.error is not None or not values:
            out.append(Budget(objective.name, burn.target, period, None, text, outcome.error or ""))
            continue
        out.append(Budget(objective.name, burn.target, period, min(values), text))
    return out


def judge(
    budgets: Sequence[Budget],
    *,
    allowed: Sequence[exemptions.Exemption],
    kind: str,
    now: datetime,
) -> PreVerdict:
    """pass / fail / inconclusive from the budgets and the exemptions."""
    if not budgets:
        return PreVerdict(
            "inconclusive",
            "the SLO file has no burn-rate objective: there is no error budget to check",
        )
    spent = [b for b in budgets if b.spent]
    unknown = [b for b in budgets if b.remaining is None]
    if spent:
        exemption = exemptions.covering(
            allowed, kind=kind, objectives=[b.objective for b in spent], now=now
        )
        listed = "; ".join(b.describe() for b in spent)
        if exemption is None:
            return PreVerdict(
                "fail",
                f"error budget spent, releases are frozen: {listed}",
                tuple(budgets),
            )
        return PreVerdict(
            "pass",
            f"error budget spent ({listed}), but exempted for {kind}: {exemption.describe()}",
            tuple(budgets),
            exemption,
        )
    if unknown:
        return PreVerdict(
            "inconclusive",
            "could not read every error budget: " + "; ".join(b.describe() for b in unknown),
            tuple(budgets),
        )
    return PreVerdict(
        "pass", "error budget left: " + "; ".join(b.describe() for b in budgets), tuple(budgets)
    )
