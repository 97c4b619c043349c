"""How gentle and how quick `gitops-guard argocd-wait` is, against the fake ArgoCD server.

For each mode (stream, then poll with ``--no-stream``) and each run, the fake server
holds the app Synced and Healthy at the OLD commit (the race) for WAIT seconds after
the command's first read, then replays ArgoCD noticing our commit, syncing it and
the app turning Healthy. It prints:

- requests a minute to ArgoCD while waiting (first request to the final state);
- the latency from the final state appearing in the server to the command printing its
  verdict, and to its process having exited.

It is a figure for humans, not a test.
Usage: python benchmarks/argocd_wait.py [RUNS] [WAIT_SECONDS]
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import time

from gitops_guard_lab import argocd_api

TOKEN = "benchmark-token"  # noqa: S105 - a throwaway token for the local fake server
OLD = "1" * 40
OURS = "2" * 40


def state(revision: str, **over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "revision": revision,
        "sync_status": "Synced",
        "health": "Healthy",
        "phase": "Succeeded",
        "op_revision": revision,
    }
    base.update(over)
    return base


def one_run(mode: str, wait_seconds: float) -> tuple[float, float, float, int]:
    """(requests a minute while waiting, seconds to the verdict line, to the exit, exit code)."""
    store = argocd_api.ApplicationStore()
    store.put(argocd_api.make_application("web", **state(OLD)))
    steps = [
        argocd_api.ReplayStep(wait_seconds, {"revision": OURS, "sync_status": "OutOfSync"}),
        argocd_api.ReplayStep(
            1.0, {"phase": "Running", "op_revision": OURS, "health": "Progressing"}
        ),
        argocd_api.ReplayStep(1.5, {"phase": "Succeeded", "sync_status": "Synced"}),
        argocd_api.ReplayStep(1.0, {"health": "Healthy"}),
    ]
    replay = argocd_api.Replay(store, "web", steps)
    store.on_refresh.append(lambda name, namespace: replay.start())
    argv = [sys.executable, "-m", "gitops_guard", "argocd-wait", "--server", "", "--app", "web"]
    argv += ["--revision", OURS, "--timeout", str(wait_seconds + 60)]
    if mode == "poll":
        argv.append("--no-stream")
    env = dict(os.environ, ARGOCD_TOKEN=TOKEN)
    with argocd_api.FakeArgoServer(store, token=TOKEN) as server:
        argv[argv.index("--server") + 1] = server.url
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        printed = math.inf
        for line in proc.stdout:
            if line.startswith("done:"):
                printed = time.monotonic()
        code = proc.wait()
        ended = time.monotonic()
        requests = server.requests
    replay.stop()
    final = replay.applied_at[-1]
    first = requests[0].at
    waiting = [r for r in requests if r.at <= final]
    # n requests spread over d seconds are n - 1 intervals: the rate is (n - 1) / d.
    per_minute = (len(waiting) - 1) / max(final - first, 1e-9) * 60
    return per_minute, printed - final, ended - final, code


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    wait_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
    print(
        f"argocd-wait against the replay server: {runs} runs, {wait_seconds:g}s at the old commit"
    )
    for mode in ("stream", "poll"):
        rates, noticed, exited = [], [], []
        for _ in range(runs):
            rate, printed, ended, code = one_run(mode, wait_seconds)
            if code != 0:
                print(f"  {mode}: exit code {code}, run discarded")
                continue
            rates.append(rate)
            noticed.append(printed)
            exited.append(ended)
        if not rates:
            continue
        print(
            f"  {mode:6}  requests/minute while waiting: max {max(rates):5.1f}, "
            f"median {statistics.median(rates):5.1f}\n"
            f"          final state -> verdict printed: median {statistics.median(noticed):.2f}s, "
            f"max {max(noticed):.2f}s; -> process exited: median "
            f"{statistics.median(exited):.2f}s, max {max(exited):.2f}s"
        )


if __name__ == "__main__":
    main()
