"""Evidence a person can read: the gate's JSON report and its Markdown job summary.

Report (``--report FILE``), top level: ``verdict``, ``score``, ``reason``, ``name``,
``mode``, ``started_at``, ``ended_at``, ``stopped_early``, ``measurement_count``,
``interval_seconds`` and ``note`` (live mode: the spacing and why it differs from
``analysis.interval``), ``traffic``,
``failed_objectives``, ``no_data_objectives``, ``objectives``. Each objective:
``name``, ``key``, ``weight``, ``query`` (as sent), ``baseline_query``,
``window``, ``value``, ``threshold``, ``warn_threshold``, ``baseline``,
``criteria`` (``pass``/``warn``: every criterion; ``pass_any_of``/``warn_any_of``:
the sets, any of which holds when all its criteria hold), ``state``, ``reason``,
``series`` (each judged series),
``measurements`` (one point per measurement) and ``history`` (the points before a
single measurement, fetched for the chart; empty in live mode). NaN and infinities are written as
the strings ``"NaN"``, ``"+Inf"`` and ``"-Inf"``.

Pure formatting over a :class:`~gitops_guard.slo.gate.GateRun`: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from gitops_guard import report
from gitops_guard.slo import config, criteria, gate, models

_ICON = {
    "pass": "✅",
    "warn": "⚠️",
    "fail": "❌",
    "inconclusive": "❔",
    "no-data": "❔",
    "error": "💥",
    "info": "ℹ️",
}
_fmt = criteria.format_number

History = Mapping[str, Sequence[tuple[datetime, float]]]
"""Objective name -> (time, value) points before a single measurement, for the chart."""


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _series(s: models.SeriesResult) -> dict[str, Any]:
    return {
        "labels": dict(s.labels),
        "value": s.value,
        "baseline": s.baseline,
        "threshold": s.threshold,
        "state": s.state,
        "reason": s.reason,
    }


def _points(run: gate.GateRun, name: str) -> list[dict[str, Any]]:
    points = []
    for m in run.measurements:
        for r in m.results:
            if r.name == name:
                points.append(
                    {
                        "at": _iso(m.at),
                        "value": r.value,
                        "threshold": r.threshold,
                        "state": r.state,
                        "labels": dict(r.worst_labels),
                    }
                )
    return points


def build_report(
    cfg: config.SloConfig, run: gate.GateRun, history: History | None = None
) -> dict[str, Any]:
    """The JSON report as a plain dict (JSON-safe: no NaN numbers)."""
    by_name = {o.name: o for o in cfg.objectives}
    objectives = []
    for r in run.results:
        objective = by_name[r.name]
        objectives.append(
            {
                "name": r.name,
                "key": r.key,
                "weight": r.weight,
                "query": r.query,
                "baseline_query": r.baseline_query,
                "window": {
                    "range": objective.display_window,
                    "start": _iso(run.measurements[0].at),
                    "end": _iso(run.measurements[-1].at),
                },
                "value": r.value,
                "threshold": r.threshold,
                "warn_threshold": r.warn_threshold,
                "baseline": r.baseline,
                "criteria": {
                    "pass": [c.text for c in objective.pass_criteria],
                    "warn": [c.text for c in objective.warn_criteria],
                    "pass_any_of": [[c.text for c in s] for s in objective.pass_sets],
                    "warn_any_of": [[c.text for c in s] for s in objective.warn_sets],
                },
                "state": r.state,
                "reason": r.reason,
                "series": [_series(s) for s in r.series],
                "measurements": _points(run, r.name),
                "history": [
                    {"at": _iso(at), "value": value}
                    for at, value in (history or {}).get(r.name, ())
                ],
            }
        )
    traffic = run.traffic
    data: dict[str, Any] = report.json_safe(
        {
            "verdict": run.verdict.verdict,
            "score": run.verdict.score,
            "reason": run.verdict.reason,
            "name": run.name,
            "mode": run.mode,
            "started_at": _iso(run.started_at),
            "ended_at": _iso(run.ended_at),
            "stopped_early": run.stopped_early,
            "measurement_count": len(run.measurements),
            "interval_seconds": run.interval_seconds,
            "note": run.note,
            "scoring": {
                "pass": cfg.scoring.pass_percent,
                "warn": cfg.scoring.warn_percent,
            },
            "traffic": None
            if traffic is None
            else {
                "query": traffic.query,
                "required": traffic.required,
                "seen": traffic.seen,
                "error": traffic.error,
                "enough": traffic.enough,
            },
            "failed_objectives": list(run.verdict.failed),
            "no_data_objectives": list(run.verdict.no_data),
            "warned_objectives": list(run.verdict.warned),
            "objectives": objectives,
        }
    )
    return data


def _chart(run: gate.GateRun, r: models.ObjectiveResult, history: History | None) -> str:
    labels: list[str] = []
    values: list[float | None] = []
    thresholds: list[float | None] = []
    for at, value in (history or {}).get(r.name, ()):
        if at < run.measurements[0].at:
            labels.append(at.strftime("%H:%M:%S"))
            values.append(value)
            thresholds.append(r.threshold)
    for m in run.measurements:
        for item in m.results:
            if item.name == r.name:
                labels.append(m.at.strftime("%H:%M:%S"))
                values.append(item.value)
                thresholds.append(item.threshold)
    lines: list[list[float | None]] = [values]
    if any(t is not None for t in thresholds):
        lines.append(thresholds)
    return report.mermaid_xychart(
        f"{r.name}: value (line 1) vs threshold (line 2)", labels, lines, y_label=r.name
    )


def summary_markdown(
    cfg: config.SloConfig, run: gate.GateRun, history: History | None = None
) -> str:
    """The job summary: verdict, a table of objectives, one Mermaid chart per objective.

    With ``history`` (a single measurement), each chart shows the points before it too.
    """
    v = run.verdict
    head = [
        f"## {_ICON[v.verdict]} SLO gate `{run.name}`: **{v.verdict}** (score {v.score:g}%)",
        "",
        v.reason,
        "",
    ]
    if run.mode == "live":
        head += [
            f"Live mode: {len(run.measurements)} measurements from {_iso(run.started_at)} to "
            f"{_iso(run.ended_at)}" + (" (stopped early)." if run.stopped_early else "."),
            "",
        ]
        if run.note:
            head += [f"Note: {run.note}.", ""]
    if run.traffic is not None:
        seen = _fmt(run.traffic.seen)
        head += [
            f"Traffic: {seen} requests (at least {_fmt(run.traffic.required)} required).",
            "",
        ]
    units = {o.name: o.unit for o in cfg.objectives}
    rows = []
    for r in run.results:
        rows.append(
            [
                f"{_ICON[r.state]} {r.state}",
                f"{r.name}{' 🔑' if r.key else ''}",
                criteria.format_value(r.value, units.get(r.name, "")),
                r.criteria or "-",
                criteria.format_value(r.baseline, units.get(r.name, ""))
                if r.baseline_query
                else "-",
                f"{r.weight:g}",
                r.reason,
            ]
        )
    table = report.markdown_table(
        ["state", "objective", "value", "pass", "baseline", "weight", "reason"], rows
    )
    charts = []
    for r in run.results:
        chart = _chart(run, r, history)
        if chart:
            charts += [f"#### {r.name}", "", chart, ""]
    queries = [f"- `{r.name}`: `{r.query}`" for r in run.results]
    tail = ["<details><summary>queries as sent</summary>", "", *queries, "", "</details>"]
    return "\n".join([*head, table, "", *charts, *tail])


def one_line(run: gate.GateRun) -> str:
    """A one-line human summary for the log."""
    v = run.verdict
    line = f"slo-gate {run.name}: {v.verdict} (score {v.score:g}%): {v.reason}"
    return f"{line}; {run.note}" if run.note else line
