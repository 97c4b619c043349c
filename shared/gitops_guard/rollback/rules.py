"""Watch rules: when a signal after a deploy means "roll back", and when it may not.

A rules file (``examples/rollback-rules.yaml``)::

    version: 1
    defaults: {cooldown: 30m, maxRollbacks: 1, window: 24h}
    rules:
      - name: error-rate-alert
        alert: {alertname: HighErrorRate, labels: {app: web}}
      - name: fast-burn
        prometheus:                     # every condition must hold
          - {query: "...burn rate over 5m...", above: 14.4}
          - {query: "...burn rate over 1h...", above: 14.4}
        cooldown: 1h

A rule *matches* when an Alertmanager alert with that name and labels is firing, or
when every Prometheus condition holds. A matching rule *rolls back* unless a rollback
caused by the same rule happened less than ``cooldown`` ago, or ``maxRollbacks``
rollbacks by it already happened within ``window``: a flapping signal cannot loop.
Past rollbacks come from the GitOps repository's history (``Gitops-Guard-Rule``
trailers), so the limits hold across workflow runs.

Pure: the config model, duration parsing and the decision. This module must not
talk to Alertmanager or Prometheus, read the clock, or run git.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, WithJsonSchema, field_validator, model_validator

from gitops_guard import config as loader
from gitops_guard import durations

parse_duration = durations.parse_duration
"""Kept for callers; the grammar is :func:`gitops_guard.durations.parse_duration`."""


_Model = loader.Model
_OptionalDuration = Annotated[
    str | float | None, WithJsonSchema({"anyOf": [loader.DURATION_SCHEMA, {"type": "null"}]})
]


def _key(canonical: str, legacy: str) -> AliasChoices:
    # camelCase is the one key style; the kebab-case keys of earlier files still read.
    return AliasChoices(canonical, legacy)


def _seconds(value: Any) -> float:
    try:
        return durations.parse_duration(value)
    except durations.DurationError as exc:
        raise ValueError(exc.message) from exc


class AlertMatch(_Model):
    """An Alertmanager alert by name and labels (every label must be equal)."""

    alertname: str = Field(min_length=1)
    labels: dict[str, str] = Field(default_factory=dict)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """True when an alert with ``labels`` is this one."""
        if labels.get("alertname") != self.alertname:
            return False
        return all(labels.get(k) == v for k, v in self.labels.items())


class PromCondition(_Model):
    """A PromQL query whose every returned sample must be above (or below) a threshold."""

    query: str = Field(min_length=1)
    above: float | None = None
    below: float | None = None

    @field_validator("query")
    @classmethod
    def _promql(cls, value: str) -> str:
        error = loader.promql_error(value)
        if error is not None:
            raise ValueError(f"not valid PromQL: {error}")
        return value

    @model_validator(mode="after")
    def _one_threshold(self) -> PromCondition:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of `above` or `below`")
        return self

    def holds(self, values: Sequence[float]) -> bool:
        """True when the query returned samples and any of them crosses the threshold.

        No data never holds: a rollback needs evidence.
        """
        finite = [v for v in values if v == v]  # NaN is not evidence
        if not finite:
            return False
        if self.above is not None:
            return any(v > self.above for v in finite)
        assert self.below is not None
        return any(v < self.below for v in finite)


class Limits(_Model):
    """How often a rule may roll back."""

    cooldown_seconds: loader.Duration = Field(1800.0, alias="cooldown")
    """No second rollback by the same rule within this time (default 30m)."""
    max_rollbacks: int = Field(1, validation_alias=_key("maxRollbacks", "max-rollbacks"), ge=1)
    """At most this many rollbacks by the rule within ``window`` (default 1)."""
    window_seconds: loader.Duration = Field(86400.0, alias="window")
    """The window ``maxRollbacks`` counts in (default 24h)."""


class Rule(_Model):
    """One watch rule."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    alert: AlertMatch | None = None
    prometheus: list[PromCondition] = Field(default_factory=list)
    cooldown: _OptionalDuration = None
    max_rollbacks: int | None = Field(
        None, validation_alias=_key("maxRollbacks", "max-rollbacks"), ge=1
    )
    window: _OptionalDuration = None

    @model_validator(mode="after")
    def _one_signal(self) -> Rule:
        if (self.alert is None) == (not self.prometheus):
            raise ValueError("give exactly one of `alert` or `prometheus`")
        for value in (self.cooldown, self.window):
            if value is not None:
                _seconds(value)
        return self

    def limits(self, defaults: Limits) -> Limits:
        """This rule's limits, defaults filled in."""
        return Limits.model_validate(
            {
                "cooldown": defaults.cooldown_seconds if self.cooldown is None else self.cooldown,
                "maxRollbacks": self.max_rollbacks or defaults.max_rollbacks,
                "window": defaults.window_seconds if self.window is None else self.window,
            }
        )


class RulesFile(_Model):
    """The whole rules file."""

    version: Literal[1] = 1
    defaults: Limits = Field(default_factory=lambda: Limits.model_validate({}))
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> RulesFile:
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"rule names must be unique: {', '.join(dupes)}")
        return self


KIND = loader.Kind("rollback rules file", "rules", "docs/rollback.md")


def parse_rules(text: str, *, source: str) -> RulesFile:
    """Parse a rules file; every problem is listed with its file:line (exit 2)."""
    return loader.load_text(RulesFile, text, kind=KIND, source=source)


def load_rules(path: Path) -> RulesFile:
    """Read and parse a rules file (exit 2 when missing or invalid)."""
    return loader.load_file(RulesFile, path, kind=KIND, flag="--rules")


@dataclass(frozen=True)
class PastRollback:
    """A rollback that happened (from git history) or was decided in this run."""

    rule: str
    at: float
    """Seconds since the epoch."""
    sha: str = ""


@dataclass(frozen=True)
class WatchDecision:
    """What one rule says now."""

    rule: str
    action: Literal["rollback", "cooldown", "limit", "quiet"]
    reason: str


def decide(
    rule: Rule,
    *,
    matched: bool,
    evidence: str,
    past: Sequence[PastRollback],
    defaults: Limits,
    now: float,
) -> WatchDecision:
    """Roll back now, or not (quiet, in cooldown, or over the limit)."""
    if not matched:
        return WatchDecision(rule.name, "quiet", f"{rule.name}: no signal")
    limits = rule.limits(defaults)
    mine = sorted((p for p in past if p.rule == rule.name), key=lambda p: p.at)
    if mine and now - mine[-1].at < limits.cooldown_seconds:
        last = mine[-1]
        wait = limits.cooldown_seconds - (now - last.at)
        return WatchDecision(
            rule.name,
            "cooldown",
            f"{rule.name} matched ({evidence}) but it rolled back {int(now - last.at)}s ago"
            f"{' (' + last.sha[:12] + ')' if last.sha else ''}; cooldown "
            f"{int(limits.cooldown_seconds)}s, {int(wait)}s left",
        )
    in_window = [p for p in mine if now - p.at < limits.window_seconds]
    if len(in_window) >= limits.max_rollbacks:
        return WatchDecision(
            rule.name,
            "limit",
            f"{rule.name} matched ({evidence}) but it already rolled back {len(in_window)} "
            f"time(s) within {int(limits.window_seconds)}s (maxRollbacks "
            f"{limits.max_rollbacks}); a person must look",
        )
    return WatchDecision(rule.name, "rollback", f"{rule.name} matched: {evidence}")
