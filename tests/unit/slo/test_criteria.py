"""Criteria and durations of the SLO file.

Behaviours covered:
- absolute criteria with every operator, units (ms, s, m, h, bytes) and unsigned percent;
- relative criteria: signed percent and signed difference against a baseline;
- NaN never holds; a relative criterion without a baseline refuses to resolve;
- unreadable criteria and unknown units raise ValueError showing the syntax;
- durations in Prometheus syntax, bare seconds, and their formatting;
- values and thresholds shown with their unit (ms, s, MiB, GiB) in reasons.
- Keptn's = operator; unsigned percentages are marked (absolute here, relative in Keptn);
- three-valued AND / OR over criteria and criteria sets, and their descriptions.
"""

from __future__ import annotations

import math

import pytest

from gitops_guard.slo import criteria


@pytest.mark.parametrize(
    ("text", "op", "number", "relative"),
    [
        (">= 0.995", ">=", 0.995, "absolute"),
        ("<0.5", "<", 0.5, "absolute"),
        ("< 500ms", "<", 0.5, "absolute"),
        ("<= 2s", "<=", 2.0, "absolute"),
        ("<= 1m", "<=", 60.0, "absolute"),
        ("<= 1h", "<=", 3600.0, "absolute"),
        ("<= 99.5%", "<=", 0.995, "absolute"),
        ("<= 512MiB", "<=", 512 * 2**20, "absolute"),
        ("<= 1GB", "<=", 1e9, "absolute"),
        ("== 1", "==", 1.0, "absolute"),
        ("!= 0", "!=", 0.0, "absolute"),
        ("> 1e-3", ">", 0.001, "absolute"),
        ("<= +10%", "<=", 10.0, "percent"),
        (">= -5%", ">=", -5.0, "percent"),
        ("<= +0.002", "<=", 0.002, "delta"),
        ("<= +50ms", "<=", 0.05, "delta"),
    ],
)
def test_parse(text: str, op: str, number: float, relative: str) -> None:
    crit = criteria.parse(text)
    assert (crit.op, crit.relative) == (op, relative)
    assert crit.number == pytest.approx(number)
    assert crit.needs_baseline is (relative != "absolute")


@pytest.mark.parametrize(
    ("text", "value", "baseline", "holds"),
    [
        (">= 0.995", 0.996, None, True),
        (">= 0.995", 0.994, None, False),
        ("< 500ms", 0.5, None, False),
        ("<= 500ms", 0.5, None, True),
        ("<= +10%", 0.011, 0.01, True),
        ("<= +10%", 0.0111, 0.01, False),
        (">= -5%", 95.0, 100.0, True),
        (">= -5%", 94.9, 100.0, False),
        ("<= +0.002", 0.012, 0.01, True),
        ("<= +0.002", 0.0121, 0.01, False),
        ("<= +10%", 0.0, 0.0, True),
        (">= 0", math.nan, None, False),
        ("<= 1", math.nan, None, False),
        ("!= 0", math.nan, None, False),
    ],
)
def test_holds(text: str, value: float, baseline: float | None, holds: bool) -> None:
    assert criteria.parse(text).holds(value, baseline) is holds


def test_relative_threshold_and_description() -> None:
    crit = criteria.parse("<= +10%")
    assert crit.threshold(0.01) == pytest.approx(0.011)
    assert crit.describe(0.01) == "<= 0.011 (baseline 0.01 +10%)"
    with pytest.raises(ValueError, match="needs a baseline"):
        crit.threshold(None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0.995", "cannot read criterion"),
        (">= ", "cannot read criterion"),
        ("about 3", "cannot read criterion"),
        (">= 3 parsecs", "unknown unit 'parsecs'"),
        (">= 3 furlongs", "unknown unit 'furlongs'"),
        ("=> 1", "cannot read criterion"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        criteria.parse(text)
    assert "'>= 0.995'" in str(info.value) or "use one of" in str(info.value)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30s", 30.0),
        ("10m", 600.0),
        ("1h30m", 5400.0),
        ("500ms", 0.5),
        ("1d", 86400.0),
        ("45", 45.0),
        (12, 12.0),
        (1.5, 1.5),
        ("0s", 0.0),
    ],
)
def test_parse_duration(value: object, seconds: float) -> None:
    assert criteria.parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["", "ten minutes", "10 m", "5x", "-5s", True, "1h-5m"])
def test_parse_duration_errors(value: object) -> None:
    with pytest.raises(ValueError):
        criteria.parse_duration(value)


@pytest.mark.parametrize(
    ("seconds", "text"), [(3600, "1h"), (90, "1m30s"), (0.25, "250ms"), (0, "0s"), (86400, "1d")]
)
def test_format_duration(seconds: float, text: str) -> None:
    assert criteria.format_duration(seconds) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "n/a"), (math.nan, "NaN"), (math.inf, "+Inf"), (-math.inf, "-Inf"), (0.995, "0.995")],
)
def test_format_number(value: float | None, text: str) -> None:
    assert criteria.format_number(value) == text


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.3816, "s", "381.6ms"),
        (2.2, "s", "2.2s"),
        (200 * 2**20, "bytes", "200MiB"),
        (1.5 * 2**30, "bytes", "1.5GiB"),
        (512, "bytes", "512B"),
        (0.993, "ratio", "0.993"),
        (math.nan, "s", "NaN"),
        (None, "bytes", "n/a"),
    ],
)
def test_format_value_with_units(value: float | None, unit: str, text: str) -> None:
    assert criteria.format_value(value, unit) == text


def test_describe_with_unit() -> None:
    assert criteria.parse("<= 400MiB").describe(unit="bytes") == "<= 400MiB"
    assert criteria.parse("< 500ms").describe(unit="s") == "< 500ms"


@pytest.mark.parametrize(
    ("text", "value", "holds"), [("= 0", 0.0, True), ("=0", 1.0, False), ("= 5ms", 0.005, True)]
)
def test_keptn_equality_operator(text: str, value: float, holds: bool) -> None:
    crit = criteria.parse(text)
    assert crit.op == "="
    assert crit.holds(value) is holds


@pytest.mark.parametrize(
    ("text", "unsigned"),
    [("<= 10%", True), ("<= 99.5 %", True), ("<= +10%", False), ("<= 0.1", False)],
)
def test_unsigned_percent_is_marked(text: str, unsigned: bool) -> None:
    assert criteria.parse(text).unsigned_percent is unsigned


@pytest.mark.parametrize(
    ("texts", "value", "baseline", "expected"),
    [
        (["<= +20%", "< 500"], 1011.0, None, False),
        (["<= +20%", "< 500"], 400.0, None, None),
        (["<= +20%", "< 500"], 400.0, 400.0, True),
        (["< 500"], 400.0, None, True),
    ],
)
def test_check_all_is_three_valued(
    texts: list[str], value: float, baseline: float | None, expected: bool | None
) -> None:
    crits = tuple(criteria.parse(t) for t in texts)
    assert criteria.check_all(crits, value, baseline) is expected


@pytest.mark.parametrize(
    ("sets", "value", "baseline", "expected"),
    [
        ([["< 500"], ["<= +20%"]], 400.0, None, True),
        ([["< 500"], ["<= +20%"]], 600.0, None, None),
        ([["< 500"], ["<= +20%"]], 600.0, 400.0, False),
        ([["< 500"], ["> 900"]], 600.0, None, False),
    ],
)
def test_check_any_is_three_valued(
    sets: list[list[str]], value: float, baseline: float | None, expected: bool | None
) -> None:
    parsed = tuple(tuple(criteria.parse(t) for t in s) for s in sets)
    assert criteria.check_any(parsed, value, baseline) is expected


def test_sets_described() -> None:
    sets = ((criteria.parse("<= +10%"), criteria.parse("< 1000")), (criteria.parse("< 600"),))
    assert criteria.text_of_sets(sets) == "(<= +10% and < 1000) or < 600"
    assert criteria.describe_sets(sets, 100.0) == "(<= 110 (baseline 100 +10%) and < 1000) or < 600"
    assert criteria.text_of_sets(sets[:1]) == "<= +10% and < 1000"
