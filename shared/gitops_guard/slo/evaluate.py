"""Judge one objective's measurement: samples in, an :class:`ObjectiveResult` out.

Rules:

* no sample at all (empty result, missing series) -> ``no-data``;
* a query error -> ``error`` (no evidence either), never a pass;
* each series is judged on its own; NaN or +/-Inf -> ``no-data`` for that series;
* a relative criterion needs the baseline's value: the baseline series with the
  same labels, or the only baseline series; without one it is *unknown*;
* ``pass`` and ``warn`` are criteria sets: a set holds when all its criteria hold,
  ``pass`` holds when any of its sets holds (Keptn's AND within a set, OR across);
* pass holds -> ``pass``; else warn holds -> ``warn``; else ``fail``; no pass
  criteria at all -> ``info`` (measured, not judged);
* unknown criteria decide nothing, known ones still do: a breached absolute
  criterion fails the series without a baseline (``<= +20%`` and ``< 500`` with
  1011 and no baseline -> ``fail``); whatever the baseline could still change
  -> ``no-data`` (never a pass without the baseline);
* the objective takes the worst series' state (fail > no data > warn > pass) and
  its reason names that series' labels.

This module is pure: no I/O, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

from gitops_guard.slo import config, criteria, models

_fmt = criteria.format_number


def _baseline_for(
    labels: Mapping[str, str], baseline: models.QueryOutcome | None
) -> tuple[float | None, str | None]:
    """The baseline value matching ``labels``, or why there is none."""
    if baseline is None:
        return None, None
    if baseline.error:
        return None, f"the baseline query failed: {baseline.error}"
    if not baseline.samples:
        return None, "the baseline query returned no data"
    match = [s for s in baseline.samples if dict(s.labels) == dict(labels)]
    if not match and len(baseline.samples) == 1:
        match = list(baseline.samples)
    if not match:
        return None, f"no baseline series has the labels {models.Sample(labels, 0).describe()}"
    value = match[0].value
    if not math.isfinite(value):
        return None, f"the baseline value is {_fmt(value)}"
    return value, None


def _reference(
    sets: Sequence[criteria.CriteriaSet], value: float, base: float | None, state: models.State
) -> float | None:
    """The threshold a series is reported against: the set it met, or what it breached."""
    every = [c for crits in sets for c in crits]
    if state == "pass":
        held = next(s for s in sets if criteria.check_all(s, value, base) is True)
        return held[0].threshold(base)
    breached = [c for c in every if c.check(value, base) is False]
    known = breached or [c for c in every if not c.needs_baseline or base is not None]
    return known[0].threshold(base) if known else None


def judge_series(
    objective: config.Objective, sample: models.Sample, baseline: models.QueryOutcome | None
) -> models.SeriesResult:
    """One series against the objective's criteria sets (three-valued, see the module doc)."""
    value = sample.value
    base, why_not = _baseline_for(sample.labels, baseline)
    where = sample.describe()
    unit = objective.unit
    passes, warns = objective.pass_sets, objective.warn_sets

    def shown(number: float | None) -> str:
        return criteria.format_value(number, unit)

    def told(sets: Sequence[criteria.CriteriaSet]) -> str:
        return criteria.describe_sets(tuple(sets), base, unit)

    if not math.isfinite(value):
        return models.SeriesResult(
            sample.labels, value, base, None, "no-data", f"{where} is {_fmt(value)}: no data"
        )
    if not passes:
        return models.SeriesResult(
            sample.labels, value, base, None, "info", f"{where} = {shown(value)} (not judged)"
        )
    passed = criteria.check_any(passes, value, base)
    warned = criteria.check_any(warns, value, base) if warns else False
    missing = why_not or "no baseline"
    if passed is True:
        state: models.State = "pass"
        reason = f"{where} = {shown(value)} meets {told(passes)}"
    elif passed is False and warned is True:
        state = "warn"
        reason = f"{where} = {shown(value)} misses {told(passes)} but meets warn {told(warns)}"
    elif passed is False and warned is False:
        state = "fail"
        reason = f"{where} = {shown(value)} breaches {told(passes)}"
        if warns:
            reason += f" and warn {told(warns)}"
        if base is None and baseline is not None:
            reason += f" whatever the baseline ({missing})"
    elif passed is False:
        state = "no-data"
        reason = (
            f"{where} = {shown(value)} breaches {told(passes)}; whether it meets warn "
            f"{told(warns)} needs the baseline: {missing}"
        )
    else:
        state = "no-data"
        reason = f"{where} = {shown(value)}: cannot judge {told(passes)}: {missing}"
    threshold = _reference(passes, value, base, state)
    return models.SeriesResult(sample.labels, value, base, threshold, state, reason)


def evaluate_objective(
    objective: config.Objective,
    outcome: models.QueryOutcome,
    baseline: models.QueryOutcome | None = None,
) -> models.ObjectiveResult:
    """Judge every series of one measurement and keep the worst."""
    static_threshold = (
        objective.pass_criteria[0].number
        if objective.pass_criteria and not objective.pass_criteria[0].needs_baseline
        else None
    )
    static_warn = (
        objective.warn_criteria[0].number
        if objective.warn_criteria and not objective.warn_criteria[0].needs_baseline
        else None
    )
    empty = models.ObjectiveResult(
        name=objective.name,
        key=objective.key,
        weight=objective.weight if objective.scored else 0.0,
        state="no-data",
        reason="the query returned no data (no series matched)",
        query=objective.promql,
        threshold=static_threshold,
        warn_threshold=static_warn,
        baseline_query=objective.baseline,
        criteria=criteria.text_of_sets(objective.pass_sets),
    )
    if outcome.error is not None:
        return replace(empty, state="error", reason=f"query error: {outcome.error}")
    if not outcome.samples:
        return empty
    series = tuple(judge_series(objective, s, baseline) for s in outcome.samples)
    worst = max(series, key=lambda s: (models.SEVERITY[s.state], _badness(objective, s)))
    reason = worst.reason
    if len(series) > 1:
        counts: dict[str, int] = {}
        for s in series:
            counts[s.state] = counts.get(s.state, 0) + 1
        tally = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
        reason = f"worst of {len(series)} series ({tally}): {reason}"
    warn_threshold = (
        objective.warn_criteria[0].threshold(worst.baseline)
        if objective.warn_criteria
        and (worst.baseline is not None or not objective.warn_criteria[0].needs_baseline)
        else None
    )
    return replace(
        empty,
        state=worst.state,
        reason=reason,
        value=worst.value,
        threshold=worst.threshold if worst.threshold is not None else static_threshold,
        warn_threshold=warn_threshold,
        baseline=worst.baseline,
        worst_labels=worst.labels,
        series=series,
    )


def _badness(objective: config.Objective, series: models.SeriesResult) -> float:
    """Among series of equal state, how far on the wrong side of the threshold."""
    if series.value is None or series.threshold is None or not math.isfinite(series.value):
        return 0.0
    op = objective.pass_criteria[0].op if objective.pass_criteria else ">="
    distance = series.value - series.threshold
    return distance if op in ("<", "<=") else -distance
