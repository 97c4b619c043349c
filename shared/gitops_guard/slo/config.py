"""The SLO file (``slo.yaml``): its model, ``${var}`` substitution and FILE:LINE errors.

The keys are the contract documented in ``docs/slo-gate.md``::

    name, description, variables,
    analysis{duration, interval, initialDelay, failureLimit, failureLimitMode,
             consecutiveErrorLimit, inconclusiveLimit, consecutiveSuccessLimit,
             allowOverlap, minRequests{query, value}},
    scoring{pass, warn},
    objectives[{name, description, query | burnRate{target, errors, total, windows},
                baseline, pass, warn, key, weight, unit, window}]

Loading collects *every* problem (YAML syntax, unknown keys, bad criteria,
unknown variables, missing queries) and raises one :class:`errors.ConfigError`
whose lines each name ``FILE:LINE`` and the key, found through ruamel.yaml's
position data. Models are frozen and forbid unknown keys.

This module reads the file it is given and nothing else: no network, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from gitops_guard import errors
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


Duration = Annotated[float, BeforeValidator(criteria.parse_duration)]
"""Seconds, written as a Prometheus duration (``30s``, ``10m``)."""
CriteriaSets = Annotated[
    tuple[tuple[criteria.Criterion, ...], ...], BeforeValidator(_criteria_sets)
]
"""Criteria sets: the objective holds when every criterion of any one set holds."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


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

    def promql(self) -> str:
        return burnrate.promql(
            errors=self.errors,
            total=self.total,
            target=self.target,
            windows=[
                burnrate.Window(w.long_seconds, w.short_seconds, w.factor) for w in self.windows
            ],
        )


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
        return max((criteria.parse_duration(r) for r in found), default=None)

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
                f"{criteria.format_duration(w.long_seconds)}/"
                f"{criteria.format_duration(w.short_seconds)} x{w.factor:g}"
                for w in self.burn_rate.windows
            )
        ranges = _RANGES.findall(self.promql)
        return max(ranges, key=criteria.parse_duration) if ranges else None


class SloConfig(_Model):
    """A whole SLO file after ``${var}`` substitution."""

    name: str = Field(min_length=1)
    description: str = ""
    variables: dict[str, str] = Field(default_factory=dict)
    analysis: Analysis = Field(default_factory=Analysis)
    scoring: Scoring = Field(default_factory=Scoring)
    objectives: tuple[Objective, ...]

    @field_validator("variables", mode="before")
    @classmethod
    def _stringify(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): v if isinstance(v, str) else str(v) for k, v in value.items()}
        return value

    @field_validator("objectives")
    @classmethod
    def _unique_and_scored(cls, value: tuple[Objective, ...]) -> tuple[Objective, ...]:
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

    @property
    def live(self) -> bool:
        return bool(self.analysis.duration_seconds)


# --------------------------------------------------------------------- loading
_VAR = re.compile(r"\$\$|\$\{([^}]*)\}")
Path_ = tuple[str | int, ...]


class _Problems:
    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[tuple[int | None, str]] = []

    def add(self, line: int | None, text: str) -> None:
        self.items.append((line, text))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        first = min((line for line, _ in self.items if line), default=None)
        count = len(self.items)
        lines = [
            f"  {self.source}:{line}: {text}" if line else f"  {self.source}: {text}"
            for line, text in sorted(self.items, key=lambda it: it[0] or 0)
        ]
        raise errors.ConfigError(
            f"the SLO file is invalid ({count} problem{'s' if count > 1 else ''}):\n"
            + "\n".join(lines),
            source=f"{self.source}:{first}" if first else self.source,
            hint=f"Fix each line above; {DOCS} describes every key.",
        )


def _dotted(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _plain(
    node: Any,
    path: Path_,
    lines: dict[Path_, int],
    variables: Mapping[str, str] | None,
    problems: _Problems,
    line: int,
) -> Any:
    """Convert ruamel nodes to plain data, record line numbers, substitute ``${var}``."""
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key in node:
            key_line = node.lc.key(key)[0] + 1
            key_path: Path_ = (*path, str(key))
            lines[key_path] = key_line
            if not path and key == "variables":
                out[str(key)] = _plain(
                    node[key], (*path, str(key)), lines, None, problems, key_line
                )
            else:
                out[str(key)] = _plain(
                    node[key], (*path, str(key)), lines, variables, problems, key_line
                )
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for index, item in enumerate(node):
            item_line = node.lc.item(index)[0] + 1
            item_path: Path_ = (*path, index)
            lines[item_path] = item_line
            items.append(_plain(item, (*path, index), lines, variables, problems, item_line))
        return items
    if isinstance(node, str) and variables is not None and "$" in node:
        return _substitute(str(node), path, variables, problems, line)
    if isinstance(node, str):
        return str(node)
    return node


def _substitute(
    text: str, path: Path_, variables: Mapping[str, str], problems: _Problems, line: int
) -> str:
    def replace(match: re.Match[str]) -> str:
        if match[0] == "$$":
            return "$"
        name = match[1].strip()
        if name in variables:
            return variables[name]
        known = ", ".join(sorted(variables)) or "none"
        problems.add(
            line,
            f"{_dotted(path)}: unknown variable ${{{name}}} (defined: {known}); "
            f"add it under 'variables:' or pass --var {name}=VALUE",
        )
        return match[0]

    return _VAR.sub(replace, text)


def _line_for(loc: Sequence[str | int], lines: Mapping[Path_, int]) -> int | None:
    path = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


def _clean_loc(loc: Sequence[str | int], lines: Mapping[Path_, int]) -> tuple[str | int, ...]:
    # pydantic adds union/function tags (e.g. 'function-before[...]') to locations.
    out: list[str | int] = []
    for part in loc:
        candidate = (*out, part)
        if (
            isinstance(part, int)
            or candidate in lines
            or not str(part).startswith(
                ("function-", "tagged-union", "list[", "tuple[", "str", "float", "int")
            )
        ):
            out.append(part)
    return tuple(out)


def parse_overrides(pairs: Sequence[str], *, source: str = "--var") -> dict[str, str]:
    """``["app=web", "ns=prod"]`` -> ``{"app": "web", "ns": "prod"}``; exit 2 on a bad pair."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise errors.InputError(
                f"expected KEY=VALUE, got {pair!r}",
                source=source,
                hint="Write e.g. --var app=checkout (one --var per variable).",
            )
        out[key.strip()] = value
    return out


def load_text(
    text: str, *, source: str = "slo.yaml", overrides: Mapping[str, str] | None = None
) -> SloConfig:
    """Parse and validate SLO file text; ``source`` names it in messages."""
    problems = _Problems(source)
    yaml = YAML(typ="rt")
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problems.add(
            line,
            f"not valid YAML: {exc.problem or exc}. Quote criteria that start with '>' "
            "(pass: '>= 0.995').",
        )
        problems.raise_if_any()
        raise AssertionError("unreachable") from exc
    except YAMLError as exc:
        problems.add(None, f"not valid YAML: {exc}")
        problems.raise_if_any()
        raise AssertionError("unreachable") from exc
    if not isinstance(tree, CommentedMap):
        problems.add(1, "the SLO file must be a mapping with 'name' and 'objectives'")
        problems.raise_if_any()
    raw_vars = tree.get("variables") if isinstance(tree, CommentedMap) else None
    variables: dict[str, str] = {}
    if isinstance(raw_vars, Mapping):
        variables = {str(k): str(v) for k, v in raw_vars.items()}
    variables.update(overrides or {})
    lines: dict[Path_, int] = {}
    data = _plain(tree, (), lines, variables, problems, 1)
    if isinstance(data, dict) and (overrides or "variables" in data):
        data["variables"] = variables
    try:
        config = SloConfig.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = _clean_loc(err["loc"], lines)
            message = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = f"unknown key '{loc[-1]}'; see {DOCS} for the keys this level takes"
            elif err["type"] == "missing":
                message = f"'{loc[-1]}' is required"
            problems.add(_line_for(loc, lines) or 1, f"{_dotted(loc)}: {message}")
        problems.raise_if_any()
        raise AssertionError("unreachable") from exc
    problems.raise_if_any()
    return config


def load(path: str | Path, *, overrides: Mapping[str, str] | None = None) -> SloConfig:
    """Read and validate an SLO file; every problem is listed in one ConfigError (exit 2)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise errors.ConfigError(
            f"the SLO file {file} does not exist",
            source="--config",
            hint="Pass the path of your slo.yaml relative to the working directory.",
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise errors.ConfigError(
            f"cannot read the SLO file {file}: {exc}", source="--config"
        ) from exc
    return load_text(text, source=str(path), overrides=overrides)
