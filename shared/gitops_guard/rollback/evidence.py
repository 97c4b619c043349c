"""The evidence a rollback carries: the gate's failing objectives, as Markdown and Mermaid.

Reads the slo-gate JSON report (top-level ``verdict``, ``score``, ``objectives``,
each objective with ``name``, ``query``, ``window``, ``value``, ``threshold``,
``baseline``, ``state``, ``reason``) and renders the pull-request body and the
reason line of the commit message.

Pure formatting: this module must not read files, the environment or the network
(the flow loads the report and passes it in).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ConfigDict, Field

from gitops_guard import config as loader
from gitops_guard import errors, report
from gitops_guard.rollback import models

_FAILING = {"fail", "failed", "failing", "breach", "breached"}


Number = float | str | None
"""A measured number; slo-gate writes NaN and infinities as the strings ``NaN``/``+Inf``."""


class _Lenient(loader.Model):
    # Inside an objective's series and points only the shape matters to a rollback.
    model_config = ConfigDict(extra="allow", frozen=True)


class ReportObjective(loader.Model):
    """One objective of a slo-gate report: the keys ``slo-gate --report`` writes."""

    name: str = Field(min_length=1)
    key: bool = False
    weight: float = 1.0
    query: str | None = None
    baseline_query: str | None = None
    window: str | dict[str, str | None] | None = None
    value: Number = None
    threshold: Number = None
    warn_threshold: Number = None
    baseline: Number = None
    criteria: dict[str, list[str] | list[list[str]]] | None = None
    """``pass``/``warn``: every criterion; ``pass_any_of``/``warn_any_of``: the sets."""
    state: str = ""
    reason: str = ""
    series: list[_Lenient] = Field(default_factory=list)
    measurements: list[_Lenient] = Field(default_factory=list)
    history: list[_Lenient] = Field(default_factory=list)


class GateReport(loader.Model):
    """The slo-gate JSON report as ``rollback --evidence`` reads it: unknown keys are exit 2.

    A key slo-gate starts writing must be added here too (a test builds a real
    report and validates it), so that a file that is not a gate report is never
    taken for one and an image quarantined on its word.
    """

    gitops_guard_version: str = ""
    """The release that wrote the report (report.VERSION_KEY, in every JSON report)."""
    verdict: str = Field(min_length=1)
    score: Number = None
    reason: str = ""
    name: str = ""
    mode: str = ""
    started_at: str | None = None
    ended_at: str | None = None
    stopped_early: bool = False
    measurement_count: int = 0
    interval_seconds: float | None = None
    note: str | None = None
    scoring: dict[str, float] | None = None
    traffic: _Lenient | None = None
    failed_objectives: list[str] = Field(default_factory=list)
    no_data_objectives: list[str] = Field(default_factory=list)
    warned_objectives: list[str] = Field(default_factory=list)
    objectives: list[ReportObjective] = Field(default_factory=list)
    apps: list[_Lenient] = Field(default_factory=list)
    """The per-app gate (``slo-gate --apps-from``): one entry per application."""
    failed_apps: list[str] = Field(default_factory=list)
    inconclusive_apps: list[str] = Field(default_factory=list)


KIND = loader.Kind("gate report", "gate-report", "docs/rollback.md", syntax="JSON")


@dataclass(frozen=True)
class GateEvidence:
    """The parts of a slo-gate report a rollback shows."""

    verdict: str
    score: float | None
    failing: tuple[Mapping[str, Any], ...]
    """The objectives whose state is a failure, as written in the report."""
    objectives: int


def from_model(gate: GateReport) -> GateEvidence:
    """The evidence in a validated report."""
    return from_report(gate.model_dump(mode="json", exclude_none=False))


def from_report(data: Any, *, source: str = "--report") -> GateEvidence:
    """The evidence in a parsed report."""
    if not isinstance(data, dict) or "verdict" not in data:
        raise errors.InputError(
            "not a slo-gate report: no top-level `verdict`",
            source=source,
            hint="Pass the file `gitops-guard slo-gate --report FILE` wrote.",
        )
    objectives = [o for o in data.get("objectives") or [] if isinstance(o, dict)]
    failing = tuple(o for o in objectives if str(o.get("state", "")).lower() in _FAILING)
    score = data.get("score")
    return GateEvidence(
        verdict=str(data["verdict"]),
        score=float(score) if isinstance(score, (int, float)) else None,
        failing=failing,
        objectives=len(objectives),
    )


def gate_failed(evidence: GateEvidence | None) -> bool:
    """True when the report says the gate failed (the trigger for quarantine)."""
    return evidence is not None and evidence.verdict.lower() in _FAILING


def reason(evidence: GateEvidence | None, fallback: str = "") -> str:
    """One line: ``slo-gate fail: error-ratio (0.07 > 0.01), p99-latency``."""
    if evidence is None:
        return fallback
    names = []
    for objective in evidence.failing:
        name = str(objective.get("name", "?"))
        value, threshold = objective.get("value"), objective.get("threshold")
        if _number(value) is not None and _number(threshold) is not None:
            name += f" ({_fmt(value)} vs {_fmt(threshold)})"
        names.append(name)
    head = f"slo-gate {evidence.verdict}"
    return f"{head}: {', '.join(names)}" if names else head


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(float(value)) else None


def _fmt(value: Any) -> str:
    number = _number(value)
    return "" if number is None else f"{number:.4g}"


def _window(value: Any) -> str:
    """slo-gate writes ``{"range": "5m", "start": ..., "end": ...}``; older reports a string."""
    if isinstance(value, dict):
        return str(value.get("range") or "")
    return "" if value is None else str(value)


def table(evidence: GateEvidence) -> str:
    """The failing objectives as a Markdown table."""
    rows = [
        (
            o.get("name", ""),
            o.get("state", ""),
            _fmt(o.get("value")),
            _fmt(o.get("threshold")),
            _fmt(o.get("baseline")),
            _window(o.get("window")),
            o.get("reason", ""),
        )
        for o in evidence.failing
    ]
    return report.markdown_table(
        ["objective", "state", "value", "threshold", "baseline", "window", "reason"], rows
    )


def _label(text: str) -> str:
    return '"' + text.replace('"', "'").replace("\n", " ")[:40] + '"'


def mermaid(evidence: GateEvidence) -> str:
    """A Mermaid ``xychart-beta``: value against threshold for each failing objective.

    Values are shown as a percentage of their threshold so objectives of different
    units share one axis (100 = the threshold).
    """
    names, ratios = [], []
    for objective in evidence.failing:
        value, threshold = _number(objective.get("value")), _number(objective.get("threshold"))
        if value is None or threshold is None or threshold == 0:
            continue
        names.append(_label(str(objective.get("name", "?"))))
        ratios.append(round(100 * value / threshold, 1))
    if not names:
        return ""
    top = max([*ratios, 100.0]) * 1.1
    return "\n".join(
        [
            "```mermaid",
            "xychart-beta",
            '    title "Failing objectives: value as % of threshold"',
            f"    x-axis [{', '.join(names)}]",
            f'    y-axis "% of threshold" 0 --> {top:.0f}',
            f"    bar [{', '.join(f'{r:g}' for r in ratios)}]",
            f"    line [{', '.join('100' for _ in ratios)}]",
            "```",
        ]
    )


def pull_request_body(
    *,
    swaps: Sequence[models.ImageSwap],
    target: models.CommitRecord | None,
    evidence: GateEvidence | None,
    why: str,
    run_url: str | None,
    method: str,
    quarantined: Sequence[str],
) -> str:
    """The rollback pull request's body: what, why, the gate's evidence, the run link."""
    lines = ["## Rollback", ""]
    if target is not None:
        lines.append(f"Reverts deploy commit `{target.sha}` ({target.subject}).")
    for swap in swaps:
        lines.append(f"- `{swap.previous}` → `{swap.image}`")
    lines.append("")
    how = (
        "a `git revert` of the deploy commit"
        if method == "revert"
        else "setting the images back through the manifest edit engine"
    )
    lines.append(f"Made by {how}; later unrelated commits are kept.")
    if why:
        lines += ["", f"**Why:** {why}"]
    if quarantined:
        lines += [
            "",
            "**Quarantined** (update-manifest refuses them until lifted with "
            "`gitops-guard rollback quarantine lift --image REF`): "
            + ", ".join(f"`{q}`" for q in quarantined),
        ]
    if evidence is not None:
        score = f", score {evidence.score:.4g}%" if evidence.score is not None else ""
        lines += [
            "",
            "## Gate evidence",
            "",
            f"Verdict **{evidence.verdict}**{score}; {len(evidence.failing)} of "
            f"{evidence.objectives} objectives failing.",
        ]
        if evidence.failing:
            lines += ["", table(evidence)]
            chart = mermaid(evidence)
            if chart:
                lines += ["", chart]
    if run_url:
        lines += ["", f"Run: {run_url}"]
    return "\n".join(lines) + "\n"
