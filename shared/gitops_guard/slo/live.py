"""The stop rule of live mode: the measurements so far in, "measure again" or "stop" out.

Each objective's result at each measurement is one *outcome*:

* ``error``: its query failed (``consecutiveErrorLimit`` budgets these);
* ``inconclusive``: no data (empty, NaN, missing baseline), or the measurement had
  too little traffic (``minRequests``), whatever the objective's state;
* ``failure``: it failed, with enough traffic;
* ``success``: it passed, warned, or is informational.

Per objective the rule keeps a :class:`Tally`. A failure adds to the total and to
the current streak; **only a success ends a streak**: inconclusive measurements
and query errors neither count as failures nor reset them. ``failureLimit`` is
held against the longest streak (``failureLimitMode: consecutive``, the default)
or against the total (``total``, as Argo Rollouts counts); more failures than the
limit *trips* the objective.

The rule, first that applies, after every measurement:

1. a key objective tripped -> stop, ``fail``;
2. a key objective's query failed more than ``consecutiveErrorLimit`` times in a
   row -> stop, ``inconclusive``;
3. a key objective was inconclusive more than ``inconclusiveLimit`` times in
   total (when set) -> stop, ``inconclusive``;
4. ``consecutiveSuccessLimit`` (when > 0) consecutive measurements whose own
   verdict was pass or warn -> stop early and decide (see :func:`final_results`);
5. fewer measurements than planned -> measure again;
6. a scored objective's last decisive outcome is a failure within the limit (an
   *unresolved* failure) -> measure again, at most ``failureLimit + 1`` times past
   the plan: the gate never ends on a failure it would have tolerated mid-run,
   nor ignores it; it waits for a recovery or for the limit;
7. ``consecutiveSuccessLimit`` set and not reached -> stop, ``inconclusive``
   (Argo Rollouts' rule when both limits apply);
8. otherwise stop and decide over :func:`final_results`.

Measurements are spaced ``analysis.interval`` apart, widened to the longest
``[range]`` of the objectives' queries (up to ``duration``) unless ``allowOverlap``
is set, so that no two measurements share data (:func:`effective_interval`).

This module is pure: no I/O, no clock; it only reads measurements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from gitops_guard import durations
from gitops_guard.slo import config, models, verdict

Outcome = Literal["success", "failure", "inconclusive", "error"]


def classify(result: models.ObjectiveResult, traffic: models.TrafficCheck | None) -> Outcome:
    """One objective at one measurement, as the stop rule counts it."""
    if result.state == "error":
        return "error"
    if (traffic is not None and not traffic.enough) or result.state == "no-data":
        return "inconclusive"
    if result.state == "fail":
        return "failure"
    return "success"


@dataclass(frozen=True)
class Tally:
    """What one objective's outcomes add up to."""

    failures: int = 0
    """Failed measurements in total."""
    streak: int = 0
    """The current run of failures; only a success ends it."""
    longest_streak: int = 0
    inconclusive: int = 0
    """Inconclusive measurements in total."""
    errors_in_row: int = 0
    successes_in_row: int = 0

    def add(self, outcome: Outcome) -> Tally:
        if outcome == "error":
            return replace(self, errors_in_row=self.errors_in_row + 1, successes_in_row=0)
        if outcome == "inconclusive":
            return replace(
                self, inconclusive=self.inconclusive + 1, errors_in_row=0, successes_in_row=0
            )
        if outcome == "failure":
            streak = self.streak + 1
            return replace(
                self,
                failures=self.failures + 1,
                streak=streak,
                longest_streak=max(self.longest_streak, streak),
                errors_in_row=0,
                successes_in_row=0,
            )
        return replace(self, streak=0, errors_in_row=0, successes_in_row=self.successes_in_row + 1)

    def counted(self, analysis: config.Analysis) -> int:
        """The failures ``failureLimit`` is held against."""
        return self.failures if analysis.failure_limit_mode == "total" else self.longest_streak

    def tripped(self, analysis: config.Analysis) -> bool:
        return self.counted(analysis) > analysis.failure_limit

    def unresolved(self, analysis: config.Analysis) -> bool:
        """The last decisive outcome was a failure that the limit still tolerates."""
        return self.streak > 0 and not self.tripped(analysis)


def tallies(cfg: config.SloConfig, measurements: Sequence[models.Measurement]) -> dict[str, Tally]:
    """Every objective's tally over the measurements, by name."""
    out = {o.name: Tally() for o in cfg.objectives}
    for m in measurements:
        for r in m.results:
            out[r.name] = out[r.name].add(classify(r, m.traffic))
    return out


def effective_interval(cfg: config.SloConfig) -> tuple[float, str | None]:
    """Seconds between measurements, and why they differ from ``analysis.interval``.

    Overlapping windows share data: one 45-second burst in a 5m window fails every
    measurement taken in the next 5 minutes, and a consecutive failure limit then
    counts one event several times. Burn-rate objectives are left out: their long
    windows overlap by design and their short window must agree. So are windows
    longer than ``duration``.
    """
    interval = cfg.analysis.interval_seconds
    duration = cfg.analysis.duration_seconds or 0.0
    if cfg.analysis.allow_overlap:
        return interval, None
    # A window longer than the whole run looks back past it by design (a day's
    # average in a 15-minute gate): no spacing within the run makes it independent.
    ranges = [
        (o.range_seconds, o.name)
        for o in cfg.objectives
        if o.range_seconds and o.range_seconds <= duration
    ]
    if not ranges:
        return interval, None
    longest, name = max(ranges)
    if longest <= interval:
        return interval, None
    return longest, (
        f"measuring every {durations.format_duration(longest)} instead of every "
        f"{durations.format_duration(interval)} (analysis.interval), the longest query window "
        f"(objective {name}), so that no two measurements share data; set "
        "analysis.allowOverlap: true to measure on overlapping windows"
    )


def planned_measurements(cfg: config.SloConfig) -> int:
    """Measurements of a run that nothing stops early: one at the start, one per interval."""
    duration = cfg.analysis.duration_seconds or 0.0
    interval, _ = effective_interval(cfg)
    return int(duration // interval) + 1


@dataclass(frozen=True)
class Step:
    """The rule's answer: measure again, or stop (with a verdict, or to decide)."""

    action: Literal["measure", "stop"]
    verdict: models.Verdict | None = None
    """Set when the rule itself decides; ``None``: decide over :func:`final_results`."""
    reason: str = ""
    early: bool = False


def _failed_text(names: Sequence[str], tally: dict[str, Tally], a: config.Analysis) -> str:
    count = max(tally[n].counted(a) for n in names)
    how = "consecutive measurements" if a.failure_limit_mode == "consecutive" else "measurements"
    mode = "" if a.failure_limit_mode == "consecutive" else ", counted in total"
    return f"failed {count} {how} (failureLimit {a.failure_limit}{mode})"


def next_step(
    cfg: config.SloConfig, measurements: Sequence[models.Measurement], planned: int
) -> Step:
    """The stop rule (module docstring) after the latest of ``measurements``."""
    a = cfg.analysis
    tally = tallies(cfg, measurements)
    keys = [o.name for o in cfg.objectives if o.key]
    tripped = [n for n in keys if tally[n].tripped(a)]
    if tripped:
        why = f"key objective {', '.join(tripped)} {_failed_text(tripped, tally, a)}"
        return Step("stop", "fail", why, early=len(measurements) < planned)
    errored = [n for n in keys if tally[n].errors_in_row > a.consecutive_error_limit]
    if errored:
        return Step(
            "stop",
            "inconclusive",
            f"the query of key objective {', '.join(errored)} failed more than "
            f"{a.consecutive_error_limit} consecutive times",
            early=len(measurements) < planned,
        )
    limit = a.inconclusive_limit
    vague = [n for n in keys if limit is not None and tally[n].inconclusive > limit]
    if vague:
        return Step(
            "stop",
            "inconclusive",
            f"key objective {', '.join(vague)} had no data or too little traffic "
            f"{max(tally[n].inconclusive for n in vague)} times (inconclusiveLimit {limit})",
            early=len(measurements) < planned,
        )
    good = 0
    for m in reversed(measurements):
        if m.verdict.verdict not in ("pass", "warn"):
            break
        good += 1
    wanted = a.consecutive_success_limit
    if wanted and good >= wanted:
        return Step(
            "stop",
            None,
            f"{good} consecutive measurements passed or warned (consecutiveSuccessLimit {wanted})",
            early=len(measurements) < planned,
        )
    if len(measurements) < planned:
        return Step("measure")
    scored = [o.name for o in cfg.objectives if o.scored]
    if any(tally[n].unresolved(a) for n in scored) and len(measurements) - planned <= (
        a.failure_limit
    ):
        return Step("measure", reason="the last failure is within failureLimit: measure again")
    if wanted:
        return Step(
            "stop",
            "inconclusive",
            f"the duration ended before {wanted} consecutive measurements passed "
            f"(consecutiveSuccessLimit {wanted}; the last {good} did)",
        )
    return Step("stop")


def final_results(
    cfg: config.SloConfig, measurements: Sequence[models.Measurement]
) -> tuple[models.ObjectiveResult, ...]:
    """Each objective's result for the verdict: its last measurement, with two rules.

    A query error within ``consecutiveErrorLimit`` is bridged by the latest result
    before it (a fault of the query path, not evidence about the service); no data
    is not bridged: an objective without data at the end is without data, and the
    gate cannot pass on it. An objective that tripped ``failureLimit`` is failed.
    """
    a = cfg.analysis
    tally = tallies(cfg, measurements)
    out = []
    for objective in cfg.objectives:
        name = objective.name
        seq = [r for m in measurements for r in m.results if r.name == name]
        result = seq[-1]
        if result.state == "error" and tally[name].errors_in_row <= a.consecutive_error_limit:
            result = next((r for r in reversed(seq) if r.state != "error"), result)
        t = tally[name]
        if t.tripped(a):
            prefix = _failed_text([name], tally, a)
            result = replace(
                result,
                state="fail",
                reason=f"{prefix}; last: {result.reason}"
                if result.state != "fail"
                else f"{prefix}: {result.reason}",
            )
        out.append(result)
    return tuple(out)


def conclude(
    cfg: config.SloConfig, measurements: Sequence[models.Measurement], step: Step
) -> tuple[tuple[models.ObjectiveResult, ...], models.GateVerdict]:
    """The final results and the gate's verdict for a stopped run."""
    final = final_results(cfg, measurements)
    if step.verdict is None:
        decided = verdict.decide(final, cfg.scoring, measurements[-1].traffic)
        if step.reason:
            decided = replace(decided, reason=f"{decided.reason}; {step.reason}")
        return final, decided
    decided = verdict.decide(final, cfg.scoring)
    prefix = "stopped early: " if step.early else ""
    return final, replace(decided, verdict=step.verdict, reason=f"{prefix}{step.reason}")
