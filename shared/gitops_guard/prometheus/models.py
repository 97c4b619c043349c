"""Parsed answers of the Prometheus HTTP API (``/api/v1/query``, ``/api/v1/query_range``).

The shapes follow the API's own words: a ``vector`` is one sample per series, a
``matrix`` a list of samples per series, a ``scalar`` one bare sample, a
``string`` one bare string. Values arrive as strings; ``"NaN"``, ``"+Inf"`` and
``"-Inf"`` become the float values they name, and :attr:`Sample.finite` tells
them apart from numbers a gate may judge.

This module must not do I/O and must not judge anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

ResultType = Literal["vector", "matrix", "scalar", "string"]


def _to_float(raw: object) -> float:
    # Prometheus writes NaN, +Inf and -Inf; Python's float() reads all three.
    return float(str(raw))


@dataclass(frozen=True)
class Sample:
    """One point: a Unix timestamp in seconds and a value (possibly NaN or Inf)."""

    timestamp: float
    value: float

    @property
    def finite(self) -> bool:
        """False for NaN, +Inf and -Inf: values no gate may judge."""
        return math.isfinite(self.value)

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp, tz=timezone.utc)


@dataclass(frozen=True)
class Series:
    """One time series: its labels and its samples (one for a vector)."""

    labels: Mapping[str, str]
    samples: tuple[Sample, ...]

    @property
    def last(self) -> Sample | None:
        return self.samples[-1] if self.samples else None

    def describe(self) -> str:
        """``{app="web", code="500"}``, or ``{}`` for a series without labels."""
        inner = ", ".join(f'{key}="{value}"' for key, value in sorted(self.labels.items()))
        return "{" + inner + "}"


@dataclass(frozen=True)
class QueryResult:
    """The ``data`` of a successful query, whatever its result type."""

    result_type: ResultType
    series: tuple[Series, ...] = ()
    """Every series for a vector or matrix; one label-less series for a scalar."""
    text: str | None = None
    """The value of a ``string`` result."""
    warnings: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not any(s.samples for s in self.series)


def parse_data(data: Mapping[str, Any], warnings: Sequence[str] = ()) -> QueryResult:
    """Build a :class:`QueryResult` from the ``data`` object of an API answer.

    Raises ``ValueError`` (or ``KeyError``/``TypeError``) when the shape is not
    the Prometheus API's.
    """
    kind = data["resultType"]
    result = data["result"]
    warns = tuple(str(w) for w in warnings)
    if kind == "vector":
        return QueryResult(
            "vector",
            tuple(
                Series(
                    labels=dict(item.get("metric") or {}),
                    samples=(Sample(float(item["value"][0]), _to_float(item["value"][1])),),
                )
                for item in result
            ),
            warnings=warns,
        )
    if kind == "matrix":
        return QueryResult(
            "matrix",
            tuple(
                Series(
                    labels=dict(item.get("metric") or {}),
                    samples=tuple(Sample(float(ts), _to_float(val)) for ts, val in item["values"]),
                )
                for item in result
            ),
            warnings=warns,
        )
    if kind == "scalar":
        ts, val = result
        return QueryResult(
            "scalar", (Series({}, (Sample(float(ts), _to_float(val)),)),), warnings=warns
        )
    if kind == "string":
        return QueryResult("string", (), text=str(result[1]), warnings=warns)
    raise ValueError(f"unknown resultType {kind!r}")
