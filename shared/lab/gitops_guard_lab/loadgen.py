"""The lab's load generator: a bounded request loop against the demo app.

Run it as ``python -m gitops_guard_lab.loadgen --url http://127.0.0.1:PORT/``. A few
worker threads share a fixed request rate (at most :data:`MAX_RPS`), each request has
a short timeout, and connection errors (the app restarting during a deploy) only
slow the loop down. It stops on SIGTERM/SIGINT or after ``--duration`` seconds.
``--user-sessions`` sends every request with a user session (the demo app's
``X-Lab-User`` header), as real users' traffic; without it the load is anonymous
smoke traffic.
It talks to loopback addresses only and must not judge the answers it gets.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from types import FrameType

import httpx

from gitops_guard import durations, errors
from gitops_guard_lab import demoapp, net

MAX_RPS = 200.0
"""Upper bound of the request rate: the lab shares two cores with Prometheus."""
MAX_CONCURRENCY = 32


class LoadGenerator:
    """``concurrency`` workers sending ``rps`` requests per second in total to ``url``."""

    def __init__(
        self,
        *,
        url: str,
        rps: float,
        concurrency: int,
        timeout: float = 2.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        net.require_loopback_url(url, source="--url")
        if not 0 < rps <= MAX_RPS:
            raise errors.InputError(
                f"rate {rps} is out of range",
                source="--rps",
                hint=f"Use a rate between 0 and {MAX_RPS:.0f}.",
            )
        if not 0 < concurrency <= MAX_CONCURRENCY:
            raise errors.InputError(
                f"concurrency {concurrency} is out of range",
                source="--concurrency",
                hint=f"Use 1 to {MAX_CONCURRENCY} workers.",
            )
        self.url = url
        self.rps = rps
        self.concurrency = concurrency
        self.timeout = timeout
        self.stopped = threading.Event()
        self.headers = dict(headers or {})
        self.outcomes: Counter[str] = Counter()
        self.failures: list[tuple[float, str]] = []
        """(time.time(), outcome) of every failed request: a 5xx or no answer."""
        self._lock = threading.Lock()

    def _record(self, outcome: str) -> None:
        with self._lock:
            self.outcomes[outcome] += 1
            if outcome in ("error", "timeout") or outcome.startswith("5"):
                self.failures.append((time.time(), outcome))

    def _worker(self, index: int) -> None:
        interval = self.concurrency / self.rps
        next_at = time.monotonic() + interval * index / self.concurrency
        with httpx.Client(timeout=self.timeout, headers=self.headers) as client:
            while not self.stopped.is_set():
                delay = next_at - time.monotonic()
                if delay > 0 and self.stopped.wait(delay):
                    return
                # Skip missed slots instead of bursting after a slow answer.
                next_at = max(next_at + interval, time.monotonic())
                try:
                    response = client.get(self.url)
                    self._record(str(response.status_code))
                except httpx.TimeoutException:
                    # An answer slower than the timeout: the user gave up waiting (on a
                    # busy machine, the lab's own processes may be slow to answer).
                    self._record("timeout")
                except httpx.HTTPError:
                    self._record("error")
                    self.stopped.wait(0.2)

    def run(self, duration: float | None = None) -> Counter[str]:
        """Send requests until :meth:`stop` or ``duration`` seconds; returns the outcomes."""
        threads = [
            threading.Thread(target=self._worker, args=(i,), daemon=True)
            for i in range(self.concurrency)
        ]
        for thread in threads:
            thread.start()
        self.stopped.wait(duration)
        self.stopped.set()
        for thread in threads:
            thread.join(timeout=self.timeout + 1)
        return Counter(self.outcomes)

    def stop(self) -> None:
        self.stopped.set()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gitops_guard_lab.loadgen")
    parser.add_argument("--url", required=True, help="loopback URL to send GET requests to")
    parser.add_argument("--rps", type=float, default=20.0, help="requests per second, in total")
    parser.add_argument("--concurrency", type=int, default=8, help="worker threads")
    parser.add_argument(
        "--user-sessions",
        action="store_true",
        help=f"send every request with a user session ({demoapp.USER_HEADER})",
    )
    parser.add_argument(
        "--duration",
        type=durations.parse_duration,
        default=None,
        help="seconds or a duration (90s, 10m); default: forever",
    )
    args = parser.parse_args(argv)
    try:
        generator = LoadGenerator(
            url=args.url,
            rps=args.rps,
            concurrency=args.concurrency,
            headers={demoapp.USER_HEADER: "lab-user"} if args.user_sessions else None,
        )
    except errors.GitopsGuardError as exc:
        print(f"loadgen: {exc}", file=sys.stderr)
        return exc.exit_code

    def stop(signum: int, frame: FrameType | None) -> None:
        generator.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    kind = "user sessions" if args.user_sessions else "smoke traffic"
    print(f"loadgen: {args.rps:g} req/s to {args.url} ({kind})", flush=True)
    outcomes = generator.run(args.duration)
    print(f"loadgen: done {dict(outcomes)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
