"""How quickly the one loader reads good files and refuses bad ones.

For each example file it prints the median load time (parse, validate, PromQL check);
for each class of bad file (an alias bomb of 10^7 leaves, deep nesting, a file
beyond the size bound, a !!python tag, a merge key, duplicate keys, binary bytes)
the median time to the exit-2 refusal and its peak memory. It is a figure for
humans, not a test.
Usage: python benchmarks/config_bounds.py [RUNS]
"""

from __future__ import annotations

import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from gitops_guard import errors
from gitops_guard.rollback import rules
from gitops_guard.slo import config

ROOT = Path(__file__).resolve().parent.parent


def _bomb() -> str:
    lines = ['l0: &l0 ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 7):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


BAD: dict[str, str] = {
    "alias bomb (10^7 leaves)": _bomb(),
    "nesting 5000 deep": "a: " + "[" * 5000 + "]" * 5000 + "\n",
    "2 MiB file": "a: " + "x" * (2 * 1024 * 1024) + "\n",
    "!!python/object tag": "a: !!python/object/apply:os.system [id]\n",
    "merge key": "b: &b {x: 1}\nc:\n  <<: *b\n",
    "duplicate keys": "name: a\nname: b\n",
    "binary": "a: 1\n\x00\x01",
}


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _refuse(text: str) -> None:
    try:
        config.load_text(text, source="bad.yaml")
    except errors.ConfigError:
        return
    raise AssertionError("accepted a bad file")


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    print(f"{'file':48} {'median ms':>10}")
    for path in sorted(ROOT.joinpath("examples").rglob("slo.yaml")):
        print(
            f"{path.relative_to(ROOT)!s:48} {_median_ms(lambda p=path: config.load(p), runs):10.2f}"
        )
    for path in sorted(ROOT.joinpath("examples").rglob("rollback-rules.yaml")):
        ms = _median_ms(lambda p=path: rules.load_rules(p), runs)
        print(f"{path.relative_to(ROOT)!s:48} {ms:10.2f}")
    print(f"\n{'refused (exit 2)':48} {'median ms':>10} {'peak MiB':>9}")
    for name, text in BAD.items():
        ms = _median_ms(lambda t=text: _refuse(t), max(3, runs // 4))
        tracemalloc.start()
        _refuse(text)
        peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        tracemalloc.stop()
        print(f"{name:48} {ms:10.2f} {peak:9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
