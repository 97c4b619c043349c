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

from gitops_guard import errors, report
from gitops_guard.rollback import models

_FAILING = {"fail", "failed", "failing", "breach", "breached"}


@dataclass(frozen=True)
class GateEvidence:
    """The parts of a slo-gate report a rollback shows."""

    verdict: str
    score: float | None
    failing: tuple[Mapping[str, Any], ...]
    """The objectives whose state is a failure, as written in the report."""
    objectives: int


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
