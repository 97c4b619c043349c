"""Judge one objective's measurement: samples in, an :class:`ObjectiveResult` out.

Rules:

* no sample at all (empty result, missing series) -> ``no-data``;
* a query error -> ``error`` (no evidence either), never a pass;
* each series is judged on its own; NaN or +/-Inf -> ``no-data`` for that series;
* a relative criterion needs the baseline's value: the baseline series with the
  same labels, or the only baseline series; without one -> ``no-data``;
* pass criteria all hold -> ``pass``; else warn criteria all hold -> ``warn``;
  else ``fail``; no pass criteria at all -> ``info`` (measured, not judged);
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


def _all_hold(crits: Sequence[criteria.Criterion], value: float, baseline: float | None) -> bool:
    return all(c.holds(value, baseline) for c in crits)


def _describe(crits: Sequence[criteria.Criterion], baseline: float | None, unit: str = "") -> str:
    return " and ".join(c.describe(baseline, unit) for c in crits)


def judge_series(
    objective: config.Objective, sample: models.Sample, baseline: models.QueryOutcome | None
) -> models.SeriesResult:
    """One series against the objective's criteria."""
    value = sample.value
    needs_baseline = any(
        c.needs_baseline for c in (*objective.pass_criteria, *objective.warn_criteria)
    )
    base, why_not = _baseline_for(sample.labels, baseline)
    where = sample.describe()
    unit = objective.unit

    def shown(number: float | None) -> str:
        return criteria.format_value(number, unit)

    if not math.isfinite(value):
        return models.SeriesResult(
            sample.labels, value, base, None, "no-data", f"{where} is {_fmt(value)}: no data"
        )
    if needs_baseline and base is None:
        return models.SeriesResult(
            sample.labels, value, None, None, "no-data", f"{where}: {why_not or 'no baseline'}"
        )
    if not objective.pass_criteria:
        return models.SeriesResult(
            sample.labels, value, base, None, "info", f"{where} = {shown(value)} (not judged)"
        )
    threshold = objective.pass_criteria[0].threshold(base)
    if _all_hold(objective.pass_criteria, value, base):
        state: models.State = "pass"
        reason = f"{where} = {shown(value)} meets {_describe(objective.pass_criteria, base, unit)}"
    elif objective.warn_criteria and _all_hold(objective.warn_criteria, value, base):
        state = "warn"
        reason = (
            f"{where} = {shown(value)} misses {_describe(objective.pass_criteria, base, unit)} "
            f"but meets warn {_describe(objective.warn_criteria, base, unit)}"
        )
    else:
        state = "fail"
        reason = (
            f"{where} = {shown(value)} breaches {_describe(objective.pass_criteria, base, unit)}"
        )
        if objective.warn_criteria:
            reason += f" and warn {_describe(objective.warn_criteria, base, unit)}"
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
        criteria=" and ".join(c.text for c in objective.pass_criteria),
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
