"""Error-budget exemptions (exemptions.py) and the pre-deploy verdict (slo.budget.judge).

Covers: an exemption covers a change of a listed kind until its end, and only the
objectives it lists; a spent budget fails without an exemption and passes with one,
whose words go into the deploy commit's Gitops-Guard-Exemption trailer; an unknown
budget is inconclusive, never a pass; a file without burn-rate objectives is
inconclusive; the exemptions schema is served by `gitops-guard schema exemptions`.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from gitops_guard import cli, exemptions, trailers
from gitops_guard.promote import render
from gitops_guard.slo import budget

NOW = datetime(2026, 12, 1, 23, 0, tzinfo=timezone.utc)
TEXT = """\
version: 1
exemptions:
  - who: alice@example.com
    why: security fix
    until: "2026-12-02T00:00:00Z"
    kinds: [deploy, security-fix]
    objectives: [availability]
"""


def _budget(name: str, remaining: float | None) -> budget.Budget:
    return budget.Budget(name, 0.999, "30d", remaining, "q")


def test_an_exemption_covers_listed_kinds_and_objectives_until_its_end() -> None:
    (one,) = exemptions.parse(TEXT)
    assert one.covers(kind="deploy", objective="availability", now=NOW)
    assert not one.covers(kind="config", objective="availability", now=NOW)
    assert not one.covers(kind="deploy", objective="latency", now=NOW)
    assert not one.covers(
        kind="deploy", objective="availability", now=datetime(2026, 12, 2, tzinfo=timezone.utc)
    )


def test_a_spent_budget_fails_and_an_exemption_lets_it_pass() -> None:
    spent = [_budget("availability", -0.2), _budget("latency", 0.5)]
    failed = budget.judge(spent, allowed=(), kind="deploy", now=NOW)
    assert failed.verdict == "fail"
    assert "120% of the 30d error budget used" in failed.reason
    passed = budget.judge(spent, allowed=exemptions.parse(TEXT), kind="deploy", now=NOW)
    assert passed.verdict == "pass" and passed.exemption is not None
    assert "exempted for deploy" in passed.reason


def test_unknown_budgets_and_no_burn_rate_objectives_are_inconclusive() -> None:
    assert budget.judge([_budget("a", None)], allowed=(), kind="deploy", now=NOW).verdict == (
        "inconclusive"
    )
    assert budget.judge([], allowed=(), kind="deploy", now=NOW).verdict == "inconclusive"


def test_the_exemption_is_recorded_in_the_deploy_commit() -> None:
    (one,) = exemptions.parse(TEXT)
    message = render.commit_message([], subject="deploy web 1.2.0", exemption=one.describe())
    assert trailers.parse(message).get(trailers.EXEMPTION) == (
        "alice@example.com until 2026-12-02T00:00:00Z: security fix"
    )


def test_the_schema_is_served(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["schema", "exemptions"]) == 0
    assert '"until"' in capsys.readouterr().out
