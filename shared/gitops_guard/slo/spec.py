"""The SLO file's model: frozen pydantic models of every key, with their validators.

Keys and their meaning are in ``docs/slo-gate.md``; :mod:`config` loads a file into
:class:`SloConfig` (``${var}`` substitution, FILE:LINE problems, offline PromQL
checks). The models are frozen and forbid unknown keys.

This module must not read files, the network or the clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from gitops_guard import config as loader
from gitops_guard import durations
from gitops_guard.slo import burnrate, criteria

DOCS = "docs/slo-gate.md"


def _criteria_list(value: object) -> tuple[criteria.Criterion, ...]:
    if value is None:
        return ()
    if isinstance(value, criteria.Criterion):
        return (value,)
    items = value if isinstance(value, (list, tuple)) else [value]
    parsed = []
    for item in items:
        if isinstance(item, criteria.Criterion):
            parsed.append(item)
        elif isinstance(item, str):
            parsed.append(criteria.parse(item))
        else:
            raise ValueError(
                f"expected a criterion string such as '>= 0.995', got {item!r}. "
                "Quote it: YAML reads a leading '>' as a folded block."
            )
    return tuple(parsed)


def _criteria_sets(value: object) -> object:
    """``">= 1"`` or a list (all must hold), or Keptn's sets ``[{criteria: [...]}, ...]`` (OR)."""
    if value is None:
        return ()
    items = value if isinstance(value, (list, tuple)) else [value]
    if items and all(isinstance(item, tuple) for item in items):
        return tuple(_criteria_list(item) for item in items)  # already parsed sets
    mappings = [item for item in items if isinstance(item, Mapping)]
    if not mappings:
        parsed = _criteria_list(items)
        return (parsed,) if parsed else ()
    if len(mappings) != len(items):
        raise ValueError(
            "write either criteria strings (all must hold) or a list of "
            "{criteria: [...]} sets (any set may hold), not both in one list"
        )
    sets = []
    for item in mappings:
        if set(item) != {"criteria"}:
            extra = ", ".join(sorted(str(k) for k in item if k != "criteria")) or "none"
            raise ValueError(
                "each criteria set is a mapping with one key, 'criteria' "
                f"(a list of criteria that must all hold); other keys: {extra}"
            )
        crits = _criteria_list(item["criteria"])
        if not crits:
            raise ValueError("a criteria set needs at least one criterion")
        sets.append(crits)
    return tuple(sets)


Duration = loader.Duration
"""Seconds, written as a Prometheus duration (``30s``, ``10m``) or a number."""
_CRITERION_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": r"^\s*(<=|>=|==|!=|<|>|=)",
    "description": "An operator and a number: '>= 0.995', '<= +10%', '< 500ms' (quote it).",
}
_CRITERIA_SCHEMA: dict[str, Any] = {
    "anyOf": [_CRITERION_SCHEMA, {"type": "array", "items": _CRITERION_SCHEMA}]
}
_SET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"criteria": _CRITERIA_SCHEMA},
    "required": ["criteria"],
    "additionalProperties": False,
    "description": "Keptn's criteria set: all of its criteria must hold.",
}
CriteriaSets = Annotated[
    tuple[tuple[criteria.Criterion, ...], ...],
    BeforeValidator(_criteria_sets),
    WithJsonSchema(
        {"anyOf": [*_CRITERIA_SCHEMA["anyOf"], {"type": "array", "items": _SET_SCHEMA}]}
    ),
]
"""Criteria sets: the objective holds when every criterion of any one set holds."""


_Model = loader.Model


class MinRequests(_Model):
    """The traffic guard: below ``value``, the gate is inconclusive."""

    query: str = Field(min_length=1)
    """PromQL returning one number: the requests seen (e.g. ``sum(increase(...[10m]))``)."""
    value: float = Field(ge=0)
    """The fewest requests worth judging."""


class Analysis(_Model):
    """When and how often to measure. Without ``duration``: one evaluation, now."""

    duration_seconds: Duration | None = Field(default=None, alias="duration")
    """Live mode: keep measuring this long. ``None`` (the default) measures once."""
    interval_seconds: Duration = Field(default=30.0, alias="interval", gt=0)
    """Seconds between measurements in live mode; 30s matches a common scrape interval.
    Widened to the longest query window unless ``allow_overlap`` (see ``slo.live``)."""
    initial_delay_seconds: Duration = Field(default=0.0, alias="initialDelay")
    """Seconds to wait before the first measurement, so that new pods are scraped."""
    failure_limit: int = Field(default=0, alias="failureLimit", ge=0)
    """Failed measurements of a key objective tolerated; one more stops with fail."""
    failure_limit_mode: Literal["consecutive", "total"] = Field(
        default="consecutive", alias="failureLimitMode"
    )
    """How failures are counted: ``consecutive`` (a success resets) or ``total`` (Argo Rollouts)."""
    inconclusive_limit: int | None = Field(default=None, alias="inconclusiveLimit", ge=0)
    """Inconclusive measurements (no data, too little traffic) of a key objective tolerated
    in total before stopping as inconclusive; ``None``: never stop early for them."""
    consecutive_success_limit: int = Field(default=0, alias="consecutiveSuccessLimit", ge=0)
    """Stop early once this many consecutive measurements passed or warned; 0: off."""
    allow_overlap: bool = Field(default=False, alias="allowOverlap")
    """Measure every ``interval`` even when query windows are longer (dependent measurements)."""
    consecutive_error_limit: int = Field(default=4, alias="consecutiveErrorLimit", ge=0)
    """Consecutive query errors tolerated per objective (Argo Rollouts' default: 4)."""
    min_requests: MinRequests | None = Field(default=None, alias="minRequests")


class Scoring(_Model):
    """Keptn's scoring: total score in percent; at least ``pass`` passes, ``warn`` warns."""

    pass_percent: float = Field(default=90.0, alias="pass", ge=0, le=100)
    warn_percent: float = Field(default=75.0, alias="warn", ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> Scoring:
        if self.warn_percent > self.pass_percent:
            raise ValueError(
                f"scoring.warn ({self.warn_percent:g}) must not be above "
                f"scoring.pass ({self.pass_percent:g})"
            )
        return self


class BurnRateWindow(_Model):
    """One multiwindow pair of the SRE workbook: alert when both windows burn faster."""

    long_seconds: Duration = Field(alias="long", gt=0)
    short_seconds: Duration = Field(alias="short", gt=0)
    factor: float = Field(gt=0)
    """Burn-rate factor: 14.4 spends 2% of a 30-day budget in one hour."""


class BurnRate(_Model):
    """An objective written as an SLO target; the gate generates the PromQL."""

    target: float = Field(gt=0, lt=1)
    """The SLO, e.g. 0.999 for 99.9% good events."""
    errors: str = Field(min_length=1)
    """A counter selector of bad events, e.g. ``http_requests_total{app="x",code=~"5.."}``."""
    total: str = Field(min_length=1)
    """A counter selector of all events, e.g. ``http_requests_total{app="x"}``."""
    windows: tuple[BurnRateWindow, ...] = Field(
        default_factory=lambda: tuple(
            BurnRateWindow.model_validate(
                {"long": w.long_seconds, "short": w.short_seconds, "factor": w.factor}
            )
            for w in burnrate.PAGE_WINDOWS
        ),
        min_length=1,
    )
    """Defaults to the workbook's paging pairs: 14.4x over 1h and 5m, 6x over 6h and 30m."""
    period_seconds: Duration = Field(default=30 * 86400.0, alias="period", gt=0)
    """The SLO period the error budget is counted over (``30d``, ``28d``), for
    ``slo-gate --phase pre``."""

    def promql(self) -> str:
        return burnrate.promql(
            errors=self.errors,
            total=self.total,
            target=self.target,
            windows=[
                burnrate.Window(w.long_seconds, w.short_seconds, w.factor) for w in self.windows
            ],
        )


def _range_seconds(text: str) -> float:
    # Display only: a range PromQL accepts (``[20y]``) must never fail the report.
    try:
        return durations.parse_duration(text, maximum=float("inf"))
    except durations.DurationError:
        return 0.0


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_RANGES = re.compile(r"\[(\d+(?:ms|[smhdwy])[0-9smhdwy]*)(?::[^\]]*)?\]")
"""Range selectors and subqueries (``[5m]``, ``[1h30m:1m]``) in PromQL."""


class Objective(_Model):
    """One measured objective."""

    name: str
    description: str = ""
    query: str | None = None
    """PromQL measuring the new version; several series are judged one by one."""
    burn_rate: BurnRate | None = Field(default=None, alias="burnRate")
    baseline: str | None = None
    """PromQL measuring the old version (or the other colour), for relative criteria."""
    pass_sets: CriteriaSets = Field(default=(), alias="pass")
    """All of one set must hold to pass. Without any, the objective is informational."""
    warn_sets: CriteriaSets = Field(default=(), alias="warn")
    """All of one set must hold to warn when pass does not hold; otherwise it fails."""
    key: bool = False
    """A failing key objective fails the gate; a key objective without data makes it
    inconclusive."""
    weight: float = Field(default=1.0, ge=0)
    unit: str = ""
    """Display only: ``s``, ``ratio``, ``bytes``..."""
    window: str | None = None
    """Display only: the period the query looks at; read from the query when absent."""

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                f"objective names use letters, digits, '-', '_' and '.', got {value!r}"
            )
        return value

    @model_validator(mode="before")
    @classmethod
    def _burn_rate_default_pass(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "burnRate" in data and "pass" not in data:
            return {**data, "pass": "< 1"}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Objective:
        if (self.query is None) == (self.burn_rate is None):
            raise ValueError("write exactly one of 'query' (PromQL) or 'burnRate' (an SLO target)")
        if self.query is not None and not self.query.strip():
            raise ValueError("'query' is empty")
        every = (*self.pass_criteria, *self.warn_criteria)
        relative = [c.text for c in every if c.needs_baseline]
        unsigned = [c.text for c in every if c.unsigned_percent]
        if unsigned and self.baseline:
            raise ValueError(
                f"the unsigned percentage {', '.join(unsigned)} is ambiguous next to a "
                "'baseline': here it is absolute (0.1 for 10%), in Keptn relative. Write "
                "'<= +10%' for relative to the baseline, or '<= 0.1' for absolute"
            )
        if relative and not self.baseline:
            raise ValueError(
                f"the relative criteria {', '.join(relative)} need a 'baseline' query "
                "(the old version's value); add one or write absolute criteria"
            )
        if self.warn_criteria and not self.pass_criteria:
            raise ValueError("'warn' needs 'pass' too")
        return self

    @property
    def pass_criteria(self) -> tuple[criteria.Criterion, ...]:
        """Every pass criterion of every set, in the order written."""
        return tuple(c for s in self.pass_sets for c in s)

    @property
    def warn_criteria(self) -> tuple[criteria.Criterion, ...]:
        """Every warn criterion of every set, in the order written."""
        return tuple(c for s in self.warn_sets for c in s)

    @property
    def range_seconds(self) -> float | None:
        """The longest ``[range]`` of the query and baseline (None for burn-rate objectives)."""
        if self.burn_rate is not None:
            return None
        found = _RANGES.findall(f"{self.query or ''} {self.baseline or ''}")
        return max((_range_seconds(r) for r in found), default=None) or None

    @property
    def promql(self) -> str:
        """The query as sent to Prometheus (generated for burn-rate objectives)."""
        if self.burn_rate is not None:
            return self.burn_rate.promql()
        assert self.query is not None
        return self.query

    @property
    def scored(self) -> bool:
        return bool(self.pass_criteria) and self.weight > 0

    @property
    def display_window(self) -> str | None:
        if self.window:
            return self.window
        if self.burn_rate is not None:
            return ", ".join(
                f"{durations.format_duration(w.long_seconds)}/"
                f"{durations.format_duration(w.short_seconds)} x{w.factor:g}"
                for w in self.burn_rate.windows
            )
        ranges = _RANGES.findall(self.promql)
        return max(ranges, key=_range_seconds) if ranges else None


class CanaryArm(_Model):
    """One arm of a canary objective: two PromQL counters, read after every scrape."""

    errors: str = Field(min_length=1)
    """PromQL of the arm's failed requests as a counter total, e.g.
    ``sum(http_requests_total{app="x",color="${color}",code=~"5.."})``; no series is 0."""
    requests: str = Field(min_length=1)
    """PromQL of the arm's requests as a counter total, e.g.
    ``sum(http_requests_total{app="x",color="${color}"})``."""


class CanaryObjective(_Model):
    """Counts, canary against stable, judged by the anytime-valid test (docs/canary.md).

    The gate reads both arms' counters after every scrape (``analysis.interval``),
    checks the canary's share of requests against the step's, and stops with ``fail``
    as soon as the canary's error ratio is certainly worse than the stable arm's at
    ``alpha``; it passes only at the end of the step (``analysis.duration``).
    """

    name: str
    description: str = ""
    canary: CanaryArm
    """The canary colour's counters (``${color}`` in the queries)."""
    stable: CanaryArm
    """The stable colour's counters (``${baseline_color}``): what the canary is held to."""
    alpha: float = Field(default=0.01, gt=0, lt=0.5)
    """The bound on false ``fail`` however often the gate looks; in (0, 0.5)."""
    null_ratio: float = Field(default=1.0, alias="nullRatio", ge=1, le=100)
    """How many times the stable arm's error ratio the canary may have and still pass."""
    min_requests: int = Field(default=100, alias="minRequests", ge=1)
    """Requests each arm must serve in a step before it can pass."""
    share_tolerance: float = Field(default=0.5, alias="shareTolerance", gt=0, lt=1)
    """Relative: with 0.5 a 25% step accepts an observed canary share of 12.5% to 37.5%."""

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                f"objective names use letters, digits, '-', '_' and '.', got {value!r}"
            )
        return value


class SloConfig(_Model):
    """A whole SLO file after ``${var}`` substitution."""

    version: Literal[1] = 1
    """The file format's version; absent means 1."""
    name: str = Field(min_length=1)
    description: str = ""
    variables: dict[str, str] = Field(default_factory=dict)
    analysis: Analysis = Field(default_factory=Analysis)
    scoring: Scoring = Field(default_factory=Scoring)
    canary: tuple[CanaryObjective, ...] = ()
    """Canary objectives: counts, canary against stable, for ``gitops-guard canary``."""
    objectives: tuple[Objective, ...] = ()
    """May be empty only in a file of canary objectives."""

    @field_validator("variables", mode="before")
    @classmethod
    def _stringify(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): v if isinstance(v, str) else str(v) for k, v in value.items()}
        return value

    @field_validator("objectives")
    @classmethod
    def _unique_and_scored(
        cls, value: tuple[Objective, ...], info: ValidationInfo
    ) -> tuple[Objective, ...]:
        if not value and info.data.get("canary"):
            return value  # a file of canary objectives only
        if not value:
            raise ValueError("list at least one objective")
        seen: set[str] = set()
        dupes = []
        for objective in value:
            if objective.name in seen:
                dupes.append(objective.name)
            seen.add(objective.name)
        if dupes:
            raise ValueError(f"objective names must be unique; repeated: {', '.join(dupes)}")
        if not any(o.scored for o in value):
            raise ValueError(
                "no objective has 'pass' criteria and a weight above 0: nothing to gate on"
            )
        return value

    @model_validator(mode="after")
    def _some_objective(self) -> SloConfig:
        if not self.objectives and not self.canary:
            raise ValueError("list at least one objective (or canary objective)")
        names = [o.name for o in self.objectives] + [c.name for c in self.canary]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"objective names must be unique; repeated: {', '.join(dupes)}")
        return self

    _query_lines: dict[str, int] = PrivateAttr(default_factory=dict)
    _source: str = PrivateAttr(default="")

    @property
    def live(self) -> bool:
        return bool(self.analysis.duration_seconds)

    @property
    def queries(self) -> tuple[str, ...]:
        """Every PromQL the gate sends for this file (traffic guard, objectives, baselines)."""
        return tuple(query for _, query in queries_of(self))

    def where(self, promql: str) -> str:
        """``FILE:LINE`` of the key holding ``promql`` (the file alone when unknown)."""
        line = self._query_lines.get(promql)
        if not self._source:
            return f"line {line}" if line else ""
        return f"{self._source}:{line}" if line else self._source


def queries_of(cfg: SloConfig) -> list[tuple[loader.Loc, str]]:
    """Every PromQL of the file with the location of the key that holds it."""
    out: list[tuple[loader.Loc, str]] = []
    if cfg.analysis.min_requests is not None:
        out.append((("analysis", "minRequests", "query"), cfg.analysis.min_requests.query))
    for index, objective in enumerate(cfg.objectives):
        if objective.query is not None:
            out.append((("objectives", index, "query"), objective.query))
        else:
            out.append((("objectives", index, "burnRate"), objective.promql))
        if objective.baseline:
            out.append((("objectives", index, "baseline"), objective.baseline))
    for index, canary in enumerate(cfg.canary):
        for arm in ("canary", "stable"):
            counters = getattr(canary, arm)
            for key in ("errors", "requests"):
                out.append((("canary", index, arm, key), getattr(counters, key)))
    return out
