"""The canary step gate (slo.canary) and the canary objectives of the SLO file.

Covers: a 5x regression fails within seconds of data, long before the step ends; a
healthy canary passes only at the end of the step; a canary that got far less than
its share is inconclusive with both shares named; too little traffic and a
Prometheus that keeps failing are inconclusive, never a pass; the loader refuses a
canary objective without a stable arm and an alpha outside (0, 0.5), naming
FILE:LINE; a canary-only SLO file loads and lists its queries.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from gitops_guard import errors
from gitops_guard.slo import canary, config, models

SLO = textwrap.dedent(
    """\
    name: web-canary
    analysis:
      duration: 2m
      interval: 1s
    canary:
      - name: errors
        canary:
          errors: sum(http_requests_total{color="${color}",code=~"5.."})
          requests: sum(http_requests_total{color="${color}"})
        stable:
          errors: sum(http_requests_total{color="${baseline_color}",code=~"5.."})
          requests: sum(http_requests_total{color="${baseline_color}"})
        alpha: 0.01
    """
)


class FakeProm:
    """Counters of two arms that grow once per second of the fake clock."""

    def __init__(
        self, *, rps: float, share: float, stable_ratio: float, canary_ratio: float, seed: int = 1
    ) -> None:
        self.now = 0.0
        self.rng = np.random.default_rng(seed)
        self.rps, self.share = rps, share
        self.ratios = {"green": canary_ratio, "blue": stable_ratio}
        self.totals = {"green": [0.0, 0.0], "blue": [0.0, 0.0]}
        self.fail = False

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        for _ in range(round(seconds)):
            self.now += 1.0
            for colour, ratio in self.ratios.items():
                mean = self.rps * (self.share if colour == "green" else 1 - self.share)
                n = float(self.rng.poisson(mean))
                self.totals[colour][0] += n
                self.totals[colour][1] += float(self.rng.binomial(int(n), ratio))

    def query(self, promql: str, at: object) -> models.QueryOutcome:
        if self.fail:
            return models.QueryOutcome(error="connection refused")
        colour = "green" if 'color="green"' in promql else "blue"
        value = self.totals[colour][1 if "5.." in promql else 0]
        return models.QueryOutcome(samples=(models.Sample({}, value),))


def _cfg() -> config.SloConfig:
    return config.load_text(SLO, overrides={"color": "green", "baseline_color": "blue"})


def _judge(prom: FakeProm, share: float = 0.25) -> canary.StepVerdict:
    cfg = _cfg()
    return canary.judge_step(
        cfg.canary,
        cfg.analysis,
        query=prom.query,
        intended_share=share,
        clock=prom.clock,
        sleep=prom.sleep,
    )


def test_a_five_fold_regression_fails_within_seconds() -> None:
    prom = FakeProm(rps=200, share=0.25, stable_ratio=0.02, canary_ratio=0.10)
    verdict = _judge(prom)
    assert verdict.verdict == "fail", verdict.reason
    assert verdict.seconds <= 10, verdict.seconds
    assert "worse than the stable" in verdict.reason
    assert "errors: fail: canary" in verdict.evidence()


def test_a_healthy_canary_passes_at_the_end_of_the_step_only() -> None:
    prom = FakeProm(rps=50, share=0.25, stable_ratio=0.02, canary_ratio=0.02)
    verdict = _judge(prom)
    assert verdict.verdict == "pass", verdict.reason
    assert verdict.seconds >= 120
    assert verdict.looks >= 100


def test_a_canary_far_below_its_share_is_inconclusive() -> None:
    prom = FakeProm(rps=100, share=0.03, stable_ratio=0.02, canary_ratio=0.02)
    verdict = _judge(prom, share=0.25)
    assert verdict.verdict == "inconclusive"
    assert "the canary got " in verdict.reason and "the step asked for 25%" in verdict.reason
    (objective,) = verdict.objectives
    assert objective.share is not None and objective.share < 0.125


def test_too_little_traffic_is_inconclusive() -> None:
    prom = FakeProm(rps=0.2, share=0.25, stable_ratio=0.02, canary_ratio=0.02)
    verdict = _judge(prom)
    assert verdict.verdict == "inconclusive", verdict.reason


def test_a_prometheus_that_keeps_failing_is_inconclusive() -> None:
    prom = FakeProm(rps=100, share=0.25, stable_ratio=0.02, canary_ratio=0.02)
    prom.fail = True
    verdict = _judge(prom)
    assert verdict.verdict == "inconclusive"
    assert "connection refused" in verdict.reason


def test_a_canary_only_file_lists_its_queries() -> None:
    cfg = _cfg()
    assert cfg.objectives == ()
    assert len(cfg.queries) == 4
    assert all("color=" in q for q in cfg.queries)


@pytest.mark.parametrize(
    ("edit", "line", "words"),
    [
        (lambda t: t.split("    stable:")[0] + "    alpha: 0.01\n", 6, "stable"),
        (lambda t: t.replace("alpha: 0.01", "alpha: 0.6"), 13, "alpha"),
        (lambda t: t.replace("alpha: 0.01", "alpha: 0"), 13, "alpha"),
    ],
)
def test_bad_canary_objectives_are_refused_naming_the_line(
    tmp_path: Path, edit: object, line: int, words: str
) -> None:
    path = tmp_path / "slo.yaml"
    path.write_text(edit(SLO))  # type: ignore[operator]
    with pytest.raises(errors.ConfigError) as caught:
        config.load(path)
    assert f"{path}:{line}" in str(caught.value), str(caught.value)
    assert words in str(caught.value)
