"""The metrics report as JSON, a text table, a Markdown job summary and an HTML page.

The JSON object is the contract (``schema: gitops-guard/metrics/v1``): ``deploys``,
``rollbacks``, ``failed_deploys``, ``deployment_frequency_per_day`` and
``_per_week``, ``time_between_deploys_seconds``, ``change_fail_rate``,
``rework_rate``, ``lead_time_seconds`` and ``recovery_time_seconds`` (each
``{median, p90, count}``); a metric without data is ``null``. The table, the
summary and the page show exactly those numbers, "no data" where JSON says null.

The HTML page is one self-contained file: inline CSS and SVG, no script, no
network. Pure: metrics in, text out; this module must not read or write files.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import Any

from gitops_guard import report
from gitops_guard.observe import dora

SCHEMA = "gitops-guard/metrics/v1"
NO_DATA = "no data"


def _iso(t: float) -> str:
    return (
        datetime.fromtimestamp(t, tz=timezone.utc)
        .replace(microsecond=0)
        .isoformat()
        .replace("+00:00", "Z")
    )


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _spread(value: dora.Spread | None) -> dict[str, float | int] | None:
    if value is None:
        return None
    return {"median": round(value.median, 3), "p90": round(value.p90, 3), "count": value.count}


def as_json(
    metrics: dora.Metrics,
    *,
    environment: str | None,
    since: str,
    sources: dict[str, Any],
) -> dict[str, Any]:
    """The one JSON object of ``--format json`` (and the numbers of every other format)."""
    return {
        "schema": SCHEMA,
        "environment": environment,
        "since": since,
        "period": {
            "start": _iso(metrics.start),
            "end": _iso(metrics.end),
            "days": round(metrics.days, 6),
        },
        "deploys": metrics.deploys,
        "rollbacks": metrics.rollbacks,
        "failed_deploys": metrics.failed,
        "deployment_frequency_per_day": _rate(metrics.frequency_per_day),
        "deployment_frequency_per_week": _rate(metrics.frequency_per_week),
        "time_between_deploys_seconds": _spread(metrics.time_between),
        "change_fail_rate": _rate(metrics.change_fail_rate),
        "rework_rate": _rate(metrics.rework_rate),
        "lead_time_seconds": _spread(metrics.lead_time),
        "recovery_time_seconds": _spread(metrics.recovery_time),
        "reason": metrics.reason,
        "sources": sources,
        "series": {
            "deploys_per_week": [{"week": w, "deploys": n} for w, n in metrics.weeks],
            "lead_time": [
                {"at": _iso(p.at), "commit": p.sha, "seconds": round(p.seconds, 3)}
                for p in metrics.lead_times
            ],
            "recovery_time": [
                {"at": _iso(p.at), "commit": p.sha, "seconds": round(p.seconds, 3)}
                for p in metrics.recoveries
            ],
        },
    }


def human_seconds(value: float) -> str:
    """``45s``, ``12m 5s``, ``3h 20m``, ``2d 4h``."""
    total = round(value)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {seconds}s"
    return f"{seconds}s"


def _show_spread(value: dict[str, Any] | None) -> str:
    if value is None:
        return NO_DATA
    return (
        f"median {human_seconds(value['median'])}, p90 {human_seconds(value['p90'])} "
        f"({value['count']})"
    )


def _show_rate(value: float | None) -> str:
    return NO_DATA if value is None else f"{value * 100:.2f}%"


def rows(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(metric, shown value) pairs, in the order every format lists them."""
    per_day = data["deployment_frequency_per_day"]
    return [
        ("deploys", str(data["deploys"])),
        ("rollbacks", str(data["rollbacks"])),
        (
            "deployment frequency",
            NO_DATA
            if per_day is None
            else f"{per_day:.2f}/day, {data['deployment_frequency_per_week']:.2f}/week",
        ),
        ("time between deploys", _show_spread(data["time_between_deploys_seconds"])),
        ("change lead time", _show_spread(data["lead_time_seconds"])),
        ("change fail rate", _show_rate(data["change_fail_rate"])),
        ("failed deployment recovery time", _show_spread(data["recovery_time_seconds"])),
        ("deployment rework rate", _show_rate(data["rework_rate"])),
    ]


def _title(data: dict[str, Any]) -> str:
    where = data["environment"] or "all environments"
    period = data["period"]
    return f"DORA metrics: {where}, {period['start'][:10]} to {period['end'][:10]}"


def table(data: dict[str, Any]) -> str:
    """The plain-text table of ``--format table``."""
    width = max(len(name) for name, _ in rows(data))
    lines = [_title(data), ""]
    lines += [f"  {name.ljust(width)}  {value}" for name, value in rows(data)]
    if data["reason"]:
        lines += ["", f"  ({data['reason']})"]
    return "\n".join(lines)


def summary(data: dict[str, Any]) -> str:
    """The job summary: the table, then Mermaid charts of deploys, lead and recovery time."""
    parts = [f"## {_title(data)}", "", report.markdown_table(("metric", "value"), rows(data))]
    if data["reason"]:
        parts += ["", f"_{data['reason']}_"]
    weeks = data["series"]["deploys_per_week"]
    if weeks:
        chart = report.mermaid_xychart(
            "Deploys per week",
            [w["week"] for w in weeks],
            [[float(w["deploys"]) for w in weeks]],
            y_label="deploys",
        )
        parts += ["", chart]
    for key, title in (
        ("lead_time", "Lead time (minutes)"),
        ("recovery_time", "Recovery time (minutes)"),
    ):
        points = data["series"][key]
        if points:
            parts += [
                "",
                report.mermaid_xychart(
                    title,
                    [p["at"][:16] for p in points],
                    [[p["seconds"] / 60 for p in points]],
                    y_label="minutes",
                ),
            ]
    return "\n".join(p for p in parts if p is not None)


# ---------------------------------------------------------------- HTML with inline SVG
_W, _H, _PAD = 640, 220, 36


def _svg_bars(chart_id: str, title: str, labels: list[str], values: list[float]) -> str:
    if not values:
        return f'<p class="empty" id="{chart_id}">{html.escape(title)}: {NO_DATA}</p>'
    top = max(values) or 1.0
    step = (_W - 2 * _PAD) / len(values)
    bars = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = (_H - 2 * _PAD) * value / top
        x = _PAD + i * step + step * 0.1
        y = _H - _PAD - height
        bars.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{step * 0.8:.1f}" '
            f'height="{height:.1f}" data-label="{html.escape(label)}" data-value="{value:g}">'
            f"<title>{html.escape(label)}: {value:g}</title></rect>"
        )
    axis = (
        f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - _PAD}" y2="{_H - _PAD}" class="axis"/>'
        f'<text x="{_PAD}" y="{_PAD - 10}" class="label">max {top:g}</text>'
        f'<text x="{_PAD}" y="{_H - 10}" class="label">{html.escape(labels[0])}</text>'
        f'<text x="{_W - _PAD}" y="{_H - 10}" class="label" text-anchor="end">'
        f"{html.escape(labels[-1])}</text>"
    )
    return (
        f"<figure><figcaption>{html.escape(title)}</figcaption>"
        f'<svg id="{chart_id}" xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
        f'viewBox="0 0 {_W} {_H}" role="img" aria-label="{html.escape(title)}">'
        f'<rect width="{_W}" height="{_H}" fill="#ffffff"/>{axis}{"".join(bars)}</svg></figure>'
    )


_CSS = """
body { font-family: sans-serif; margin: 2em; color: #1f2328; background: #ffffff; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
td, th { border: 1px solid #d0d7de; padding: 4px 10px; text-align: left; }
.bar { fill: #0969da; }
.axis { stroke: #57606a; stroke-width: 1; }
.label { font-size: 11px; fill: #57606a; }
figure { margin: 0 0 1.5em 0; }
figcaption { font-weight: bold; margin-bottom: 4px; }
.empty { color: #57606a; font-style: italic; }
"""


def page(data: dict[str, Any]) -> str:
    """The self-contained HTML report of ``--format html``."""
    title = _title(data)
    keys = [
        "deploys",
        "rollbacks",
        "deployment_frequency",
        "time_between_deploys",
        "lead_time",
        "change_fail_rate",
        "recovery_time",
        "rework_rate",
    ]
    cells = "".join(
        f'<tr><th>{html.escape(name)}</th><td id="metric-{key}">{html.escape(value)}</td></tr>'
        for key, (name, value) in zip(keys, rows(data), strict=True)
    )
    weeks = data["series"]["deploys_per_week"]
    charts = [
        _svg_bars(
            "chart-deploys",
            "Deploys per week",
            [w["week"] for w in weeks],
            [float(w["deploys"]) for w in weeks],
        )
    ]
    for key, chart_title in (
        ("lead_time", "Lead time (minutes)"),
        ("recovery_time", "Recovery time (minutes)"),
    ):
        points = data["series"][key]
        charts.append(
            _svg_bars(
                f"chart-{key.replace('_', '-')}",
                chart_title,
                [p["at"][:16] for p in points],
                [round(p["seconds"] / 60, 3) for p in points],
            )
        )
    reason = f'<p class="empty">{html.escape(data["reason"])}</p>' if data["reason"] else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{reason}"
        f'<table id="metrics">{cells}</table>{"".join(charts)}'
        "</body></html>\n"
    )
