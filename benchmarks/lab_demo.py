"""Run the lab's story N times and print the figure that matters to an SRE.

For each run: seconds from the bad revision Synced to the revert pushed, and whether
the good version was ever rolled back. Then the median, the worst, and how many
runs met the 45-second aim. Not a timed test: a script that prints figures.

    .venv/bin/python benchmarks/lab_demo.py --runs 5 [--dir .lab/bench]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from gitops_guard_lab import demo, up


def _breakdown(story: demo.Story) -> str:
    """Where the figure's seconds went: the wait's tail, the failing gate, the rollback."""
    names = [step.name for step in story.steps]
    gate_at = next((i for i, n in enumerate(names) if n.endswith("(new bad version)")), None)
    if gate_at is None or gate_at < 1:
        return "-"
    wait, gate = story.steps[gate_at - 1], story.steps[gate_at]
    parts = []
    if story.bad_synced_at is not None:
        parts.append(f"{wait.started_at + wait.seconds - story.bad_synced_at:.1f}")
    parts.append(f"{gate.seconds:.1f}")
    if gate_at + 1 < len(story.steps):
        parts.append(f"{story.steps[gate_at + 1].seconds:.1f}")
    return " / ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", default=".lab/bench")
    args = parser.parse_args()
    figures: list[float] = []
    good_rolled_back = 0
    failed = 0
    print(
        f"{'run':>3}  {'ok':<3} {'synced->revert s':>16}  {'good rolled back':<16} {'total s':>8}"
    )
    for run in range(1, args.runs + 1):
        started = time.monotonic()
        try:
            story = demo.run_story(args.dir, echo=lambda line: None)
        finally:
            up.down(args.dir)
        figure = story.revert_seconds
        if figure is not None:
            figures.append(figure)
        good_rolled_back += story.good_reverted
        failed += not story.ok
        shown = f"{figure:.1f}" if figure is not None else "-"
        print(
            f"{run:>3}  {'yes' if story.ok else 'NO':<3} {shown:>16}  "
            f"{'YES' if story.good_reverted else 'no':<16} {time.monotonic() - started:8.1f}"
            f"   {_breakdown(story)}"
        )
        if not story.ok:
            for problem in story.problems:
                print(f"       {problem}")
    if figures:
        within = sum(f <= demo.TARGET_REVERT_SECONDS for f in figures)
        print(
            f"\nbad Synced -> revert pushed: median {statistics.median(figures):.1f} s, "
            f"worst {max(figures):.1f} s, {within}/{len(figures)} runs within "
            f"{demo.TARGET_REVERT_SECONDS:.0f} s"
        )
    print(f"good version rolled back in {good_rolled_back} of {args.runs} runs")
    print(f"stories not as expected: {failed} of {args.runs}")
    return 0 if failed == 0 and good_rolled_back == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
