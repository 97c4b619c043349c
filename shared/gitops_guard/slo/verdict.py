"""The gate's verdict over objective results: Keptn-style scoring with evidence rules.

Score (percent) = sum(weight of passing) + half the sum(weight of warning),
divided by the total weight of scored objectives; objectives without data earn
nothing. The verdict, first rule that applies:

1. too little traffic (``minRequests`` not met, or its query had no data) -> inconclusive;
2. a key objective failed -> fail;
3. a key objective has no data (or a query error) -> inconclusive;
4. the score is below ``scoring.warn`` even if every objective without data had
   passed -> fail (the measured objectives alone decide it);
5. some objective has no data -> inconclusive (missing evidence never passes);
6. score >= ``scoring.pass`` -> pass; score >= ``scoring.warn`` -> warn; else fail.

This module is pure: results in, a :class:`GateVerdict` out. The exit code of a
verdict is not decided here but in ``cli.outcomes``.
"""

from __future__ import annotations

from collections.abc import Sequence

from gitops_guard.slo import config, criteria, models


def score(results: Sequence[models.ObjectiveResult], *, missing_as_pass: bool = False) -> float:
    """Keptn's score in percent (100 when nothing is scored)."""
    scored = [r for r in results if r.scored]
    total = sum(r.weight for r in scored)
    if total <= 0:
        return 100.0
    earned = 0.0
    for r in scored:
        if r.state == "pass" or (missing_as_pass and r.state in models.NO_EVIDENCE):
            earned += r.weight
        elif r.state == "warn":
            earned += r.weight / 2
    return round(100.0 * earned / total, 2)


def decide(
    results: Sequence[models.ObjectiveResult],
    scoring: config.Scoring,
    traffic: models.TrafficCheck | None = None,
) -> models.GateVerdict:
    """The verdict for one set of results (see the module docstring for the rules)."""
    points = score(results)
    failed = tuple(r.name for r in results if r.state == "fail")
    no_data = tuple(r.name for r in results if r.state in models.NO_EVIDENCE)
    warned = tuple(r.name for r in results if r.state == "warn")
    key_failed = [r.name for r in results if r.key and r.state == "fail"]
    key_missing = [r.name for r in results if r.key and r.state in models.NO_EVIDENCE]

    def verdict(kind: models.Verdict, reason: str) -> models.GateVerdict:
        return models.GateVerdict(kind, points, reason, failed, no_data, warned)

    if traffic is not None and not traffic.enough:
        if traffic.error:
            seen = f"the traffic query failed ({traffic.error})"
        elif traffic.seen is None:
            seen = "the traffic query returned no data"
        else:
            seen = f"{criteria.format_number(traffic.seen)} requests"
        return verdict(
            "inconclusive",
            f"too little traffic to judge: {seen}, at least "
            f"{criteria.format_number(traffic.required)} needed (analysis.minRequests)",
        )
    if key_failed:
        return verdict("fail", f"key objective failed: {', '.join(key_failed)}")
    if key_missing:
        return verdict("inconclusive", f"key objective without data: {', '.join(key_missing)}")
    best_case = score(results, missing_as_pass=True)
    if best_case < scoring.warn_percent:
        return verdict(
            "fail",
            f"score {points:g}% (at most {best_case:g}% even with the missing data) is below "
            f"warn {scoring.warn_percent:g}%; failed: {', '.join(failed) or 'none'}"
            + (f", warned: {', '.join(warned)}" if warned else ""),
        )
    if no_data:
        return verdict(
            "inconclusive",
            f"no data for {', '.join(no_data)}: a gate never passes on missing evidence",
        )
    if points >= scoring.pass_percent:
        return verdict("pass", f"score {points:g}% >= pass {scoring.pass_percent:g}%")
    if points >= scoring.warn_percent:
        return verdict(
            "warn",
            f"score {points:g}% is below pass {scoring.pass_percent:g}% but reaches warn "
            f"{scoring.warn_percent:g}%",
        )
    return verdict("fail", f"score {points:g}% is below warn {scoring.warn_percent:g}%")
