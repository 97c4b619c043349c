"""Print how much `gitops-guard --help` costs over a bare `python -c pass`.

The goal (issue: foundation) is at most about 150 ms more; heavy libraries
(PyGithub, kubernetes, httpx) are imported only by the subcommand that needs
them. Usage: python benchmarks/cli_startup.py [RUNS]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time


def _median_seconds(argv: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    bare = _median_seconds([sys.executable, "-c", "pass"], runs)
    helped = _median_seconds([sys.executable, "-m", "gitops_guard", "--help"], runs)
    for sub in ("update-manifest", "slo-gate", "argocd-wait"):
        sub_t = _median_seconds([sys.executable, "-m", "gitops_guard", sub, "--help"], runs // 2)
        print(f"gitops-guard {sub} --help: {sub_t * 1000:.0f} ms")
    print(f"python -c pass:           {bare * 1000:.0f} ms (median of {runs})")
    print(f"gitops-guard --help:      {helped * 1000:.0f} ms (median of {runs})")
    print(f"overhead:                 {(helped - bare) * 1000:.0f} ms (goal: <= 150 ms)")


if __name__ == "__main__":
    main()
