"""The one duration grammar (:mod:`gitops_guard.durations`).

Covers: every Prometheus unit and their combinations; plain seconds where allowed
and refused where not; order and repetition of units; nan/inf/negative/absurd
values and booleans refused with the input named; the minimum switch; pydantic
sees a ValueError; format_duration round-trips through parse_duration; every
caller that reads a duration (argocd-wait flags, rollback rules, the SLO file,
rollback and slo-gate flags) uses the same grammar.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pytest

from gitops_guard import cli, durations, errors
from gitops_guard.cli import argocd_wait, checks
from gitops_guard.rollback import rules
from gitops_guard.slo import criteria

ROOT = Path(__file__).resolve().parents[3]

GOOD = [
    ("500ms", 0.5),
    ("30s", 30.0),
    ("15m", 900.0),
    ("1h", 3600.0),
    ("1h30m", 5400.0),
    ("2d", 172800.0),
    ("1w", 604800.0),
    ("1y", 31536000.0),
    ("1h0m30s500ms", 3630.5),
    ("1m5s", 65.0),
    ("5m0s", 300.0),
    ("0", 0.0),
    ("0s", 0.0),
    ("  10m ", 600.0),
    ("90", 90.0),
    ("0.5", 0.5),
    (45, 45.0),
    (1.5, 1.5),
]


@pytest.mark.parametrize(("value", "seconds"), GOOD)
def test_good(value: object, seconds: float) -> None:
    assert durations.parse_duration(value) == pytest.approx(seconds)


BAD = [
    ("", "empty"),
    ("   ", "empty"),
    ("ten", "not a duration"),
    ("15x", "not a duration"),
    ("m", "not a duration"),
    ("10 m", "not a duration"),
    ("1.5h", "not a duration"),
    ("30m1h", "not a duration"),
    ("1h1h", "not a duration"),
    ("1ms5s", "not a duration"),
    ("1H", "not a duration"),
    ("1h-5m", "not a duration"),
    ("-5", "negative"),
    ("-5s", "negative"),
    (-1, "negative"),
    ("nan", "finite"),
    ("inf", "finite"),
    (math.nan, "finite"),
    (math.inf, "finite"),
    ("11y", "maximum"),
    (1e20, "maximum"),
    ("99999999999999999999d", "maximum"),
    (True, "expected a duration"),
    (None, "expected a duration"),
]


@pytest.mark.parametrize(("value", "words"), BAD)
def test_bad_names_the_input(value: object, words: str) -> None:
    with pytest.raises(durations.DurationError) as caught:
        durations.parse_duration(value, source="--timeout")
    assert words in caught.value.message
    assert caught.value.source == "--timeout"
    assert caught.value.exit_code == errors.EXIT_INPUT
    assert caught.value.render().startswith("--timeout: ")


@pytest.mark.parametrize("value", ["90", 90, "0.5"])
def test_plain_numbers_only_where_allowed(value: object) -> None:
    with pytest.raises(durations.DurationError, match="unit"):
        durations.parse_duration(value, allow_number=False)
    assert durations.parse_duration("0", allow_number=False) == 0.0
    assert durations.parse_duration("90s", allow_number=False) == 90.0


def test_minimum_and_maximum() -> None:
    with pytest.raises(durations.DurationError, match="minimum"):
        durations.parse_duration("0", minimum=0.001, source="--interval")
    assert durations.parse_duration("1ms", minimum=0.001) == 0.001
    with pytest.raises(durations.DurationError, match="maximum"):
        durations.parse_duration("2h", maximum=3600)


def test_is_a_value_error_for_pydantic() -> None:
    with pytest.raises(ValueError, match="not a duration"):
        durations.parse_duration("1.5h")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(3600, "1h"), (90, "1m30s"), (0.25, "250ms"), (0, "0s"), (86400, "1d"), (1209600, "14d")],
)
def test_format_round_trips(seconds: float, text: str) -> None:
    assert durations.format_duration(seconds) == text
    assert durations.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["1h30m", "500ms", "2d", "1w", "90"])
def test_every_reader_agrees(text: str) -> None:
    expected = durations.parse_duration(text)
    assert checks.duration_arg("--timeout")(text) == expected
    assert rules.parse_duration(text) == expected
    assert criteria.parse_duration(text) == expected
    parsed = rules.parse_rules(
        f"rules:\n  - name: r\n    alert: {{alertname: A}}\n    cooldown: {text}\n", source="r.yaml"
    )
    assert parsed.rules[0].limits(parsed.defaults).cooldown_seconds == expected


@pytest.mark.parametrize("text", ["1.5h", "nan", "-1", "30m1h"])
def test_every_reader_refuses(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):  # argparse names the flag
        checks.duration_arg("--timeout")(text)
    with pytest.raises(errors.InputError):
        rules.parse_duration(text)


@pytest.mark.parametrize("flag", ["--poll-interval", "--refresh-interval"])
def test_argocd_wait_intervals_refuse_zero(flag: str) -> None:
    parser = argparse.ArgumentParser()
    argocd_wait.add_arguments(parser)
    base = ["--server", "http://a", "--app", "x", "--revision", "a" * 40]
    assert getattr(parser.parse_args([*base, flag, "1s"]), flag[2:].replace("-", "_")) == 1.0
    with pytest.raises(SystemExit):
        parser.parse_args([*base, flag, "0"])


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--query-timeout", "nan"),
        ("--query-timeout", "inf"),
        ("--query-timeout", "0"),
        ("--query-timeout", "2h"),
        ("--history", "-5m"),
        ("--history", "1.5h"),
    ],
)
def test_slo_gate_duration_flags_are_exit_2_naming_the_flag(
    flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(ROOT / "examples" / "slo.yaml")
    argv = ["slo-gate", "--config", config, "--prometheus-url", "http://prometheus.test"]
    assert cli.main([*argv, flag, value]) == errors.EXIT_INPUT  # before any request
    assert f"{flag}:" in capsys.readouterr().err
