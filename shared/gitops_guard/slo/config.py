"""The SLO file (``slo.yaml``): its model, ``${var}`` substitution and FILE:LINE errors.

The keys are the contract documented in ``docs/slo-gate.md``::

    name, description, variables,
    analysis{duration, interval, initialDelay, failureLimit, failureLimitMode,
             consecutiveErrorLimit, inconclusiveLimit, consecutiveSuccessLimit,
             allowOverlap, minRequests{query, value}},
    scoring{pass, warn},
    objectives[{name, description, query | burnRate{target, errors, total, windows},
                baseline, pass, warn, key, weight, unit, window}],
    canary[{name, description, canary{errors, requests}, stable{errors, requests},
            alpha, nullRatio, minRequests, shareTolerance}]

Loading collects *every* problem (YAML syntax, unknown keys, bad criteria,
unknown variables, missing queries) and raises one :class:`errors.ConfigError`
whose lines each name ``FILE:LINE`` and the key, found through ruamel.yaml's
position data. Models are frozen and forbid unknown keys.

The models are in :mod:`spec` and importable from here.

This module reads the file it is given and nothing else: no network, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gitops_guard import config as loader
from gitops_guard import errors
from gitops_guard.slo.spec import (
    DOCS,
    Analysis,
    BurnRate,
    BurnRateWindow,
    CanaryArm,
    CanaryObjective,
    CriteriaSets,
    Duration,
    MinRequests,
    Objective,
    Scoring,
    SloConfig,
    queries_of,
)

__all__ = [
    "DOCS",
    "KIND",
    "Analysis",
    "BurnRate",
    "BurnRateWindow",
    "CanaryArm",
    "CanaryObjective",
    "CriteriaSets",
    "Duration",
    "MinRequests",
    "Objective",
    "Scoring",
    "SloConfig",
    "load",
    "load_text",
    "parse_overrides",
    "promql_error",
]

KIND = loader.Kind(
    "SLO file",
    "slo",
    DOCS,
    syntax_hint="Quote criteria that start with '>' (pass: '>= 0.995').",
)
_VAR = re.compile(r"\$\$|\$\{([^}]*)\}")


def _substitute_all(
    node: Any,
    loc: loader.Loc,
    doc: loader.Document,
    variables: Mapping[str, str],
    problems: loader.Problems,
) -> Any:
    """``node`` with ``${var}`` replaced in every string (``$$`` is a literal ``$``)."""
    if isinstance(node, dict):
        return {
            key: value
            if not loc and key == "variables"
            else _substitute_all(value, (*loc, key), doc, variables, problems)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [
            _substitute_all(item, (*loc, index), doc, variables, problems)
            for index, item in enumerate(node)
        ]
    if isinstance(node, str) and "$" in node:
        return _substitute(node, loc, variables, problems, doc.line_of(loc))
    return node


def _substitute(
    text: str,
    path: loader.Loc,
    variables: Mapping[str, str],
    problems: loader.Problems,
    line: int | None,
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
            f"{loader.dotted(path)}: unknown variable ${{{name}}} (defined: {known}); "
            f"add it under 'variables:' or pass --var {name}=VALUE",
        )
        return match[0]

    return _VAR.sub(replace, text)


def _check_promql(cfg: SloConfig, doc: loader.Document, problems: loader.Problems) -> None:
    """Parse every query offline; a query that does not parse is a problem at its line."""
    for loc, query in queries_of(cfg):
        error = promql_error(query)
        if error is not None:
            problems.add(
                doc.line_of(loc),
                f"{loader.dotted(loc)}: not valid PromQL: {error} (query: {_short(query)})",
            )


def _short(query: str) -> str:
    flat = " ".join(query.split())
    return flat if len(flat) <= 120 else flat[:117] + "..."


promql_error = loader.promql_error
"""Why a query is not PromQL, or None (see :func:`gitops_guard.config.promql_error`)."""


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


def _build(
    doc: loader.Document, problems: loader.Problems, overrides: Mapping[str, str] | None
) -> SloConfig:
    data = doc.data
    if not problems and not isinstance(data, dict):
        problems.add(1, "the SLO file must be a mapping with 'name' and 'objectives'")
    problems.raise_if_any()
    assert isinstance(data, dict)
    raw_vars = data.get("variables")
    variables: dict[str, str] = {}
    if isinstance(raw_vars, Mapping):
        variables = {str(k): str(v) for k, v in raw_vars.items()}
    variables.update(overrides or {})
    substituted = _substitute_all(data, (), doc, variables, problems)
    if overrides or "variables" in substituted:
        substituted["variables"] = variables
    cfg = loader.validate(SloConfig, doc, problems, data=substituted)
    if cfg is not None:
        _check_promql(cfg, doc, problems)
    problems.raise_if_any()
    assert cfg is not None
    cfg._source = problems.source
    for loc, query in queries_of(cfg):
        line = doc.line_of(loc)
        if line is not None:
            cfg._query_lines.setdefault(query, line)
    return cfg


def load_text(
    text: str, *, source: str = "slo.yaml", overrides: Mapping[str, str] | None = None
) -> SloConfig:
    """Parse and validate SLO file text; ``source`` names it in messages."""
    problems = loader.Problems(source, KIND)
    doc = loader.read_text(text, problems)
    return _build(doc, problems, overrides)


def load(path: str | Path, *, overrides: Mapping[str, str] | None = None) -> SloConfig:
    """Read and validate an SLO file; every problem is listed in one ConfigError (exit 2)."""
    problems = loader.Problems(str(path), KIND)
    doc = loader.read_file(path, problems, flag="--config")
    return _build(doc, problems, overrides)
