"""Parsed answers of the Prometheus HTTP API (``/api/v1/query``, ``/api/v1/query_range``).

The shapes follow the API's own words: a ``vector`` is one sample per series, a
``matrix`` a list of samples per series, a ``scalar`` one bare sample, a
``string`` one bare string. Values arrive as strings; ``"NaN"``, ``"+Inf"`` and
``"-Inf"`` become the float values they name, and :attr:`Sample.finite` tells
them apart from numbers a gate may judge.

Every answer is validated with pydantic before it becomes one of these values.

This module must not do I/O and must not judge anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

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


class _Api(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class ApiAnswer(_Api):
    """The envelope of every Prometheus API answer."""

    status: Literal["success", "error"]
    data: Any = None
    error_type: str | None = Field(default=None, alias="errorType")
    error: str | None = None
    warnings: tuple[str, ...] | None = None


class _VectorItem(_Api):
    metric: dict[str, str] = Field(default_factory=dict)
    value: tuple[float, str]


class _MatrixItem(_Api):
    metric: dict[str, str] = Field(default_factory=dict)
    values: tuple[tuple[float, str], ...]


class _Data(_Api):
    result_type: ResultType = Field(alias="resultType")
    result: Any


_VECTOR = TypeAdapter(tuple[_VectorItem, ...])
_MATRIX = TypeAdapter(tuple[_MatrixItem, ...])
_SCALAR = TypeAdapter(tuple[float, str])


def parse_data(data: Mapping[str, Any], warnings: Sequence[str] = ()) -> QueryResult:
    """Build a :class:`QueryResult` from the ``data`` object of an API answer.

    Every shape is validated (pydantic): a ``result`` that is not the API's
    (``"result": "oops"``), a value that is not a number, an unknown ``resultType``
    raise ``ValueError`` (pydantic's ``ValidationError`` is one), never anything else.
    """
    parsed = _Data.model_validate(data)
    kind = parsed.result_type
    warns = tuple(str(w) for w in warnings)
    if kind == "vector":
        return QueryResult(
            "vector",
            tuple(
                Series(labels=dict(item.metric), samples=(_sample(*item.value),))
                for item in _VECTOR.validate_python(parsed.result)
            ),
            warnings=warns,
        )
    if kind == "matrix":
        return QueryResult(
            "matrix",
            tuple(
                Series(labels=dict(item.metric), samples=tuple(_sample(*v) for v in item.values))
                for item in _MATRIX.validate_python(parsed.result)
            ),
            warnings=warns,
        )
    ts, val = _SCALAR.validate_python(parsed.result)
    if kind == "scalar":
        return QueryResult("scalar", (Series({}, (_sample(ts, val),)),), warnings=warns)
    return QueryResult("string", (), text=val, warnings=warns)


def _sample(ts: float, value: str) -> Sample:
    try:
        return Sample(float(ts), _to_float(value))
    except ValueError as exc:
        raise ValueError(f"the sample value {value[:40]!r} is not a number") from exc
