"""argocd-wait over many applications: requests per minute and time to the verdict.

200 applications (``team=web``, as an ApplicationSet would generate one per cluster)
in the lab's ArgoCD stand-in, served over real HTTP; each reaches our revision,
Synced and Healthy, at a fixed-seed random time within ``--spread`` seconds. The
wait (:func:`gitops_guard.argocd.many.wait_for_many` on the one ArgoCD client, one
``GET /api/v1/applications?selector=team=web`` per poll) runs until every app is
final.

Prints: the requests sent and the rate per minute (it does not grow with the number
of apps: one list request per poll), the time from the last app Healthy to the
verdict (at most one poll interval, plus one list over HTTP), and the wall time.

Run: ``python benchmarks/argocd_many_apps.py [--apps 200] [--spread 20] [--poll 2]``.
"""

from __future__ import annotations

import argparse
import random
import time

from gitops_guard.argocd import client as argo_client
from gitops_guard.argocd import many, wait
from gitops_guard_lab import argocd_api

OLD = "a" * 40
NEW = "b" * 40
TOKEN = "bench-token-0123456789"  # noqa: S105 - a throwaway token for the local stand-in


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=200)
    parser.add_argument("--spread", type=float, default=20.0)
    parser.add_argument("--poll", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    store = argocd_api.ApplicationStore()
    names = [f"web-{i:03d}" for i in range(args.apps)]
    for name in names:
        app = argocd_api.make_application(
            name, revision=OLD, sync_status="Synced", health="Healthy", phase="Succeeded"
        )
        app["metadata"]["labels"] = {"team": "web"}
        store.put(app)
    done_state = {
        "revision": NEW,
        "sync_status": "Synced",
        "health": "Healthy",
        "phase": "Succeeded",
    }
    with argocd_api.FakeArgoServer(store, token=TOKEN) as server:
        replays = [
            argocd_api.Replay(
                store, n, [argocd_api.ReplayStep(rng.uniform(0, args.spread), done_state)]
            ).start()
            for n in names
        ]
        started = time.monotonic()
        with argo_client.ArgoClient(server.url, token=TOKEN) as argo:
            result = many.wait_for_many(
                argo,
                selector="team=web",
                names=[],
                expected=wait.Expectation(revision=NEW),
                timing=wait.Timing(
                    timeout_seconds=args.spread + 60, poll_interval_seconds=args.poll
                ),
            )
        verdict_at = time.monotonic()
        for replay in replays:
            replay.stop()
    last_healthy = max(r.applied_at[-1] for r in replays if r.applied_at)
    minutes = (verdict_at - started) / 60
    print(
        f"{args.apps} apps, poll {args.poll:g} s, spread {args.spread:g} s: {result.outcome} "
        f"({len(result.failed)} failed)"
    )
    print(
        f"requests: {result.requests} in {verdict_at - started:.1f} s = "
        f"{result.requests / minutes:.1f} per minute"
    )
    print(f"last app Healthy -> verdict: {verdict_at - last_healthy:.2f} s")


if __name__ == "__main__":
    main()
