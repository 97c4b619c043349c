"""Watch rules: the file model, durations, matching, cooldown and limits.

- durations: 30s, 15m, 1h30m, 2d, plain seconds; anything else is exit 2 with the fix
- a rule needs exactly one of alert/prometheus; names are unique; errors carry file:line
- alert matching: same alertname and every listed label equal
- Prometheus conditions: above/below, no data and NaN never hold
- decide: quiet without signal; rollback; cooldown after a recent rollback by the same
  rule (another rule's rollback does not count); limit once max-rollbacks in window
"""

from __future__ import annotations

import math

import pytest

from gitops_guard import errors
from gitops_guard.rollback import rules

GOOD = """\
version: 1
defaults:
  cooldown: 30m
  max-rollbacks: 2
  window: 24h
rules:
  - name: error-rate-alert
    alert:
      alertname: HighErrorRate
      labels: {app: web}
  - name: fast-burn
    prometheus:
      - query: burn5m
        above: 14.4
      - query: burn1h
        above: 14.4
    cooldown: 1h
    max-rollbacks: 1
"""


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("15m", 900),
        ("1h30m", 5400),
        ("2d", 172800),
        ("90", 90),
        (45, 45),
        ("500ms", 0.5),
    ],
)
def test_parse_duration(text: str | int, seconds: float) -> None:
    assert rules.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "15x", "m", "-5", "1.5h"])
def test_bad_duration(text: str) -> None:
    with pytest.raises(errors.InputError) as caught:
        rules.parse_duration(text, source="--for")
    assert caught.value.source == "--for"


def test_parse_good_file() -> None:
    parsed = rules.parse_rules(GOOD, source="r.yaml")
    assert [r.name for r in parsed.rules] == ["error-rate-alert", "fast-burn"]
    alert_rule, burn = parsed.rules
    assert alert_rule.limits(parsed.defaults).cooldown_seconds == 1800
    assert alert_rule.limits(parsed.defaults).max_rollbacks == 2
    assert burn.limits(parsed.defaults).cooldown_seconds == 3600
    assert burn.limits(parsed.defaults).max_rollbacks == 1
    assert burn.limits(parsed.defaults).window_seconds == 86400


def test_errors_name_file_and_line() -> None:
    bad = GOOD.replace("    alert:\n", "    prometheus: [{query: q, above: 1}]\n    alert:\n", 1)
    bad = bad.replace("      - query: burn5m\n        above: 14.4\n", "      - query: burn5m\n")
    with pytest.raises(errors.ConfigError) as caught:
        rules.parse_rules(bad, source="r.yaml")
    text = caught.value.message
    assert "exactly one of `alert` or `prometheus`" in text
    assert "exactly one of `above` or `below`" in text
    assert "r.yaml:" in text
    assert caught.value.file_line is not None


def test_duplicate_names_and_unknown_keys() -> None:
    dup = "rules:\n  - {name: a, alert: {alertname: X}}\n  - {name: a, alert: {alertname: Y}}\n"
    with pytest.raises(errors.ConfigError, match="unique"):
        rules.parse_rules(dup, source="r.yaml")
    with pytest.raises(errors.ConfigError, match="colour"):
        rules.parse_rules("rules:\n  - {name: a, alert: {alertname: X}, colour: 1}\n", source="r")


def test_alert_matching() -> None:
    match = rules.AlertMatch(alertname="HighErrorRate", labels={"app": "web"})
    assert match.matches({"alertname": "HighErrorRate", "app": "web", "severity": "page"})
    assert not match.matches({"alertname": "HighErrorRate", "app": "api"})
    assert not match.matches({"alertname": "Other", "app": "web"})


def test_conditions() -> None:
    above = rules.PromCondition(query="q", above=14.4)
    assert above.holds([1.0, 20.0])
    assert not above.holds([14.4])
    assert not above.holds([])
    assert not above.holds([math.nan])
    below = rules.PromCondition(query="q", below=0.99)
    assert below.holds([0.5]) and not below.holds([1.0])


def _decide(matched: bool, past: list[rules.PastRollback], now: float) -> rules.WatchDecision:
    parsed = rules.parse_rules(GOOD, source="r.yaml")
    return rules.decide(
        parsed.rules[0],
        matched=matched,
        evidence="HighErrorRate",
        past=past,
        defaults=parsed.defaults,
        now=now,
    )


def test_decide_outcomes() -> None:
    assert _decide(False, [], 0).action == "quiet"
    assert _decide(True, [], 0).action == "rollback"
    recent = [rules.PastRollback("error-rate-alert", at=1000, sha="f" * 40)]
    cooling = _decide(True, recent, 1000 + 600)
    assert cooling.action == "cooldown"
    assert "1200s left" in cooling.reason
    assert _decide(True, recent, 1000 + 1800).action == "rollback"
    other = [rules.PastRollback("fast-burn", at=1000)]
    assert _decide(True, other, 1001).action == "rollback"
    two = [rules.PastRollback("error-rate-alert", at=t) for t in (0, 4000)]
    limited = _decide(True, two, 8000)
    assert limited.action == "limit"
    assert _decide(True, two, 86400 + 10).action == "rollback"


def test_example_rules_file_parses() -> None:
    from pathlib import Path

    example = Path(__file__).resolve().parents[3] / "examples" / "rollback-rules.yaml"
    parsed = rules.load_rules(example)
    names = [r.name for r in parsed.rules]
    assert names == ["error-rate-alert", "fast-burn"]
    burn = parsed.rules[1]
    assert len(burn.prometheus) == 2
    assert burn.limits(parsed.defaults).cooldown_seconds == 3600
