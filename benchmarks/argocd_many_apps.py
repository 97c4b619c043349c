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

Then, unless ``--no-gate``, the gate per app (:mod:`gitops_guard.slo.per_app`, as
``slo-gate --apps-from`` runs it) on the wait's apps against the real Prometheus
(Debian's ``prometheus`` and ``promtool`` on PATH): one fixed-seed backfilled hour
with one series per app (``http_requests_total{app=...}``, 100 rps, 0.1% errors; app
``web-007`` at 5% errors), an SLO file of two objectives plus the traffic guard,
judged at a fixed instant. Prints the gate's verdict, its time, and the time from the
last app Healthy to the gate's verdict.

Run: ``python benchmarks/argocd_many_apps.py [--apps 200] [--spread 20] [--poll 2]``.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from gitops_guard.argocd import client as argo_client
from gitops_guard.argocd import many, wait
from gitops_guard.slo import per_app
from gitops_guard.slo import run as slo_run
from gitops_guard_lab import argocd_api, promstack

OLD = "a" * 40
NEW = "b" * 40
TOKEN = "bench-token-0123456789"  # noqa: S105 - a throwaway token for the local stand-in
T0 = 1767225600.0  # 2026-01-01T00:00:00Z: the backfilled hour starts here
AT = datetime.fromtimestamp(T0 + 3000, tz=timezone.utc)  # judged at minute 50
BAD_APP = "web-007"
SLO = """\
name: web-fleet
analysis:
  minRequests:
    query: sum(increase(http_requests_total{app="${app}"}[10m]))
    value: 100
objectives:
  - name: availability
    key: true
    query: >-
      sum(rate(http_requests_total{app="${app}",code!~"5.."}[5m]))
      / sum(rate(http_requests_total{app="${app}"}[5m]))
    pass: [">= 0.99"]
  - name: error-rate
    query: sum(rate(http_requests_total{app="${app}",code=~"5.."}[5m]))
    pass: ["<= 1"]
"""


def _history(names: list[str]) -> str:
    """One hour, 15 s steps, 100 rps per app; BAD_APP answers 5% errors."""

    def samples() -> Iterator[tuple[str, dict[str, str], float, float]]:
        for name in names:
            ratio = 0.05 if name == BAD_APP else 0.001
            for step in range(241):
                n = 100.0 * 15 * step
                t = T0 + 15 * step
                yield ("http_requests_total", {"app": name, "code": "200"}, n * (1 - ratio), t)
                yield ("http_requests_total", {"app": name, "code": "500"}, n * ratio, t)

    return promstack.openmetrics_lines(samples())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=200)
    parser.add_argument("--spread", type=float, default=20.0)
    parser.add_argument("--poll", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-gate", action="store_true", help="only the wait")
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
    if not args.no_gate:
        _gate(names, result, healthy_to_wait_verdict=verdict_at - last_healthy)


def _gate(names: list[str], result: many.ManyResult, *, healthy_to_wait_verdict: float) -> None:
    """The gate per app on the wait's apps, against the real Prometheus.

    The backfill and Prometheus's start are set-up, not counted: the figure is the
    wait's "last Healthy -> verdict" plus the gate's own time (load, query, judge).
    """
    with tempfile.TemporaryDirectory(prefix="gg-bench-") as tmp:
        started = time.monotonic()
        promstack.backfill(_history(names), Path(tmp) / "data")
        backfill_seconds = time.monotonic() - started
        slo = Path(tmp) / "slo.yaml"
        slo.write_text(SLO)
        with promstack.start_prometheus(data_dir=Path(tmp) / "data") as prometheus:
            gate_started = time.monotonic()
            targets = [
                per_app.AppTarget(a.name, a.namespace, a.cluster, a.outcome, a.reason)
                for a in result.apps
            ]
            cfgs = per_app.load_each(slo, targets, {})
            loaded = time.monotonic()
            request = slo_run.GateRequest(
                config_path=slo, prometheus_url=prometheus.url, at=AT, history_seconds=0
            )
            done = per_app.run(request, targets, cfgs)
            gate_verdict = time.monotonic()
    print(
        f"gate per app ({len(targets)} apps, {per_app.ONCE_WORKERS} at a time): "
        f"{done.verdict}: {done.reason}"
    )
    print(
        f"  SLO file loaded {len(cfgs)} times in {loaded - gate_started:.2f} s, judged in "
        f"{gate_verdict - loaded:.2f} s (set-up not counted: backfill {backfill_seconds:.1f} s)"
    )
    total = healthy_to_wait_verdict + (gate_verdict - gate_started)
    print(f"last app Healthy -> gate verdict: {total:.2f} s")


if __name__ == "__main__":
    main()
