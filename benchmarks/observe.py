"""Figures of the observability capability.

- ``metrics`` over a GitOps history of N deploy commits (default 10,000, one in 20 a
  revert), built with git fast-import: the time of the whole command (git log
  included), in process and as a fresh process; goal <= 2 s.
- ``render monitoring`` of examples/slo.yaml and examples/monitoring/slo.yaml: the
  time of the command; goal <= 1 s.
- Rule cost: for each alert expression of the rendered rules, the series it reads
  (recorded series are one per objective and window; gauges one per group); goal
  under 10 per objective.

It is a figure for humans, not a test.
Usage: python benchmarks/observe.py [COMMITS]
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration" / "observe"))

from gitops_history import Step, build  # noqa: E402

from gitops_guard import cli  # noqa: E402
from gitops_guard.observe import monitoring  # noqa: E402
from gitops_guard.slo import config  # noqa: E402

T0 = 1_764_547_200


def _quiet(argv: list[str]) -> float:
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(argv)
    elapsed = time.perf_counter() - started
    assert code == 0, argv
    return elapsed


def metrics(commits: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        steps = []
        for i in range(commits):
            if i % 20 == 19:
                steps.append(Step(T0 + i * 600, reverts=i - 1))
            else:
                steps.append(Step(T0 + i * 600, version=f"1.{i}"))
        started = time.perf_counter()
        build(Path(tmp) / "gitops", steps)
        print(f"history of {commits} commits built in {time.perf_counter() - started:.2f} s")
        argv = [
            "metrics",
            "--dir",
            str(Path(tmp) / "gitops"),
            "--since",
            "1y",
            "--until",
            "2027-01-01T00:00:00Z",
            "--format",
            "json",
        ]
        runs = [_quiet(argv) for _ in range(3)]
        print(f"metrics, in process: best {min(runs):.3f} s of 3 (goal <= 2 s)")
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "gitops_guard", *argv], check=True, capture_output=True
        )
        print(f"metrics, fresh process: {time.perf_counter() - started:.3f} s")
        argv += ["--environment", "production"]
        print(f"metrics --environment: best {min(_quiet(argv) for _ in range(3)):.3f} s")


def render() -> None:
    for example in (ROOT / "examples" / "slo.yaml", ROOT / "examples" / "monitoring" / "slo.yaml"):
        with tempfile.TemporaryDirectory() as tmp:
            argv = ["render", "monitoring", "--config", str(example), "--out", tmp]
            runs = [_quiet(argv) for _ in range(3)]
            print(
                f"render monitoring {example.relative_to(ROOT)}: best {min(runs):.3f} s of 3 "
                "(goal <= 1 s)"
            )


def series() -> None:
    cfg = config.load(ROOT / "examples" / "monitoring" / "slo.yaml")
    for group in monitoring.alert_groups(cfg, monitoring.Settings()):
        for rule in group["rules"]:
            if "alert" not in rule:
                continue
            expr = rule["expr"]
            recorded = re.findall(r"gitops_guard:[a-z_:0-9]+\{slo=\"[^\"]+\"\}", expr)
            if recorded:
                what = f"{len(recorded)} recorded series (one per window)"
            else:
                what = "one series per (job, environment, app) group or ArgoCD app"
            print(f"  {rule['alert']:30} {rule.get('labels', {}).get('burn_window', ''):7} {what}")


def main() -> None:
    commits = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    metrics(commits)
    render()
    print("series read per alert expression (examples/monitoring/slo.yaml):")
    series()


if __name__ == "__main__":
    main()
