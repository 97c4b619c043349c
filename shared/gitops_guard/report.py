"""Evidence a person can read: JSON reports, Markdown tables, Mermaid charts.

Pure formatting plus one atomic file write; it decides nothing and knows no
runner (``actions`` appends what it renders to the job summary). Every file written
here passes :func:`gitops_guard.credentials.redact` first: a server's error body that
echoes a token never reaches a report.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import gitops_guard
from gitops_guard import credentials

VERSION_KEY = "gitops_guard_version"
"""Every JSON report names the gitops-guard that wrote it, first."""


def write_json(path: str | os.PathLike[str], data: Mapping[str, Any]) -> Path:
    """Write ``data`` as indented JSON, atomically (temp file + rename), secrets redacted.

    The report opens with ``gitops_guard_version`` (``gitops-guard --version``), so a
    report read months later says which release decided it.
    """
    data = {VERSION_KEY: gitops_guard.__version__, **data}
    text = json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"
    return write_text(path, text)


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` atomically (temp file + rename), secrets redacted."""
    text = credentials.redact(text)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", "<br>")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table; pipes and newlines in cells are escaped."""
    lines = [
        "| " + " | ".join(_cell(h) for h in headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def json_safe(value: Any) -> Any:
    """``value`` with NaN and infinities as the strings ``"NaN"``, ``"+Inf"``, ``"-Inf"``.

    Strict JSON has no such numbers; Prometheus writes them as these strings too.
    """
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            return "NaN"
        return "+Inf" if value > 0 else "-Inf"
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _mermaid_text(text: str) -> str:
    return text.replace('"', "'").replace("\n", " ")


def _axis_number(value: float) -> str:
    return f"{value:.6g}"


def mermaid_xychart(
    title: str,
    x_labels: Sequence[str],
    lines: Sequence[Sequence[float | None]],
    *,
    y_label: str = "value",
) -> str:
    """A Mermaid ``xychart-beta`` line chart, fenced for Markdown.

    ``lines`` are drawn in order (e.g. the measurements, then the threshold), each
    with one value per x label; points that are ``None`` or not finite (no data)
    are dropped together with their x label from every line, since the chart
    type has no gaps. Returns ``""`` when nothing is left to draw.
    """
    if not lines:
        return ""
    first = lines[0]
    keep = [i for i in range(len(x_labels)) if i < len(first) and _finite(first[i])]
    if not keep:
        return ""
    series: list[list[float]] = []
    for line in lines:
        values: list[float] = []
        for i in keep:
            point = line[i] if i < len(line) else None
            if not _finite(point):
                point = values[-1] if values else None
            values.append(math.nan if point is None else point)
        if any(math.isnan(v) for v in values):
            continue
        series.append(values)
    flat = [v for line in series for v in line]
    low, high = min(flat), max(flat)
    pad = (high - low) * 0.1 or abs(high) * 0.1 or 1.0
    x_axis = ", ".join(f'"{_mermaid_text(x_labels[i])}"' for i in keep)
    out = [
        "```mermaid",
        "xychart-beta",
        f'    title "{_mermaid_text(title)}"',
        f"    x-axis [{x_axis}]",
        f'    y-axis "{_mermaid_text(y_label)}" {_axis_number(low - pad)} --> '
        f"{_axis_number(high + pad)}",
    ]
    out += [f"    line [{', '.join(_axis_number(v) for v in line)}]" for line in series]
    out.append("```")
    return "\n".join(out)
