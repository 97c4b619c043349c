"""One blue-green run's state and means: the layout and plan read from Git (and the
cluster), commits through the one publish engine (:mod:`gitops_guard.gitops.publish`:
a worktree at the remote tip, the change recomputed on every push attempt), the
ArgoCD wait and the traffic checks. The order of the steps is :mod:`.flow`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path

from gitops_guard import errors, gitops, quarantine
from gitops_guard.gitops import publish as engine
from gitops_guard.strategies import runs
from gitops_guard.strategies.bluegreen import layout, models, plan, render, traffic
from gitops_guard.strategies.bluegreen.ports import Deps, Settings, WaitOutcome


class Stop(Exception):
    """Ends the run with the result as it stands."""


class Session(runs.TwoColourRun):
    """The state of one run and its means: read, decide, publish, wait."""

    def __init__(self, settings: Settings, deps: Deps) -> None:
        self.s = settings
        self.d = deps
        self.image = settings.image.text
        self.result = models.Result(service=settings.service, image=self.image, mode=settings.mode)
        super().__init__(settings.dir, deps, self.result.timeline)
        self.started = deps.clock()
        self.deadline = self.started + settings.timeout_seconds

    # ------------------------------------------------------------ the deadline
    def remaining(self) -> float:
        """Seconds left of ``--timeout`` (never below 0)."""
        return max(0.0, self.deadline - self.d.clock())

    def bounded(self, seconds: float) -> float:
        """A step's own timeout, cut to what is left of the whole command's."""
        return min(seconds, self.remaining())

    def expired(self, waiting_for: str) -> None:
        """When ``--timeout`` is spent: end the run undecided (exit 3), saying how long it
        ran and what it waited for; what is pushed stays, so a rerun continues."""
        if self.remaining() > 0:
            return
        elapsed = self.d.clock() - self.started
        self.event("timeout", "error", self.d.clock(), f"waiting for {waiting_for}")
        self.result.outcome = "undecided"
        self.result.reason = (
            f"timed out after {elapsed:.1f} s (--timeout {self.s.timeout_seconds:g} s) "
            f"waiting for {waiting_for}; what is pushed stays, a rerun continues from there"
        )
        raise Stop

    # ------------------------------------------------------------ helpers
    def finish(self, outcome: models.Outcome, reason: str) -> models.Result:
        self.result.outcome = outcome
        self.result.reason = reason
        return self.result

    def read(self, root: Path | None = None) -> models.Layout:
        base = (root or self.wc.root) / self.rel
        return layout.read(
            base,
            service=self.s.service,
            paths=self.s.paths,
            colours=self.s.colours,
            colour_key=self.s.colour_key,
            active_service=self.s.active_service,
            preview_service=self.s.preview_service,
            mode=self.s.mode,
            namespace=self.s.namespace,
            prefix=self.prefix,
        )

    def history(self, tree: gitops.WorkingCopy | None = None) -> list[models.HistoryEntry]:
        return render.parse_history(self.log_text(tree), service=self.s.service)

    @property
    def namespace(self) -> str | None:
        return self.s.namespace or self._layout_ns or None

    _layout_ns = ""

    def active_name(self) -> str:
        return self.s.active_service or self.s.service

    def cluster_live(self, lay: models.Layout) -> str | None:
        if self.s.mode != "cluster":
            return None
        if self.d.kube is None:
            raise errors.InputError(
                "--mode cluster needs the Kubernetes API", source="--mode"
            )  # pragma: no cover (the CLI always connects in cluster mode)
        svc = self.d.kube.get_service(self.active_name(), namespace=self.namespace)
        colour = svc.selector.get(self.s.colour_key)
        if colour not in self.s.colours:
            raise errors.InputError(
                f"Service {svc.name} in the cluster selects {self.s.colour_key}: "
                f"{colour!r}, not one of {' or '.join(self.s.colours)}",
                source="--active-service",
                hint="Set the selector's colour key once by hand (kubectl edit), then rerun.",
            )
        return colour

    def decide(
        self, root: Path | None = None, tree: gitops.WorkingCopy | None = None
    ) -> tuple[models.Layout, models.Decision]:
        lay = self.read(root)
        self._layout_ns = lay.namespace
        decision = plan.decide(
            lay,
            image=self.image,
            history=self.history(tree),
            preview_replicas=self.s.preview_replicas,
            live=self.cluster_live(lay),
        )
        return lay, decision

    def publish(
        self,
        label: str,
        change: Callable[[gitops.WorkingCopy, Path], tuple[list[str], str] | None],
    ) -> str | None:
        """One commit through the publish engine; ``change(tree, base)`` edits and returns
        (files relative to the checkout, message), or None when in place."""

        def make_change(tree: gitops.WorkingCopy) -> engine.Change:
            made = change(tree, tree.root / self.rel)
            files, message = made if made is not None else ([], "")
            if not files:
                return engine.Change(skip_code="in-place", skip_reason=f"{label}: in place")
            sha = tree.commit(message, files)
            return engine.Change(sha=sha, files=tuple(files))

        done = engine.publish(
            self.wc, make_change, engine.PublishSettings(mode="commit", branch=self.s.branch)
        )
        return done.sha or None

    # ------------------------------------------------------------ waits
    def wait_argocd(self, step: str, sha: str) -> None:
        if self.d.wait is None or not sha:
            return
        what = f"ArgoCD to run {sha[:12]} ({step})"
        self.expired(what)
        failed = self.await_sync(self.d.wait, step, sha)
        if failed is None:
            return
        self.expired(what)
        raise WaitFailed(failed)

    def traffic(self) -> traffic.Traffic:
        assert self.d.kube is not None
        return traffic.Traffic(
            api=self.d.kube,
            namespace=self.namespace,
            colour_key=self.s.colour_key,
            clock=self.d.clock,
            sleep=self.d.sleep,
            poll_seconds=self.s.poll_seconds,
        )

    def ready(self, lay: models.Layout, colour: str) -> tuple[bool, str]:
        """Rollout status of ``colour``'s Deployment, then its endpoints on the preview."""
        return self.traffic().ready(
            lay.deployments[colour].name,
            colour,
            self.image,
            preview=lay.preview.name if lay.preview is not None else None,
            timeout=self.bounded(self.s.ready_timeout_seconds),
        )

    def serving(self, lay: models.Layout, colour: str, image: str | None) -> tuple[bool, str]:
        """Wait until the active Service routes only to ``colour``."""
        if self.s.readiness != "traffic-path" or self.d.kube is None:
            return True, "not checked (--readiness argocd-only)"
        return self.traffic().serving(
            self.active_name(), colour, image, timeout=self.bounded(self.s.switch_timeout_seconds)
        )

    def quarantine(
        self, tree: gitops.WorkingCopy, verdict: str, reason: str, commit: str
    ) -> list[str]:
        """Quarantine the image a failed post-switch gate took out (as rollback does);
        the files written. An inconclusive gate quarantines nothing: a rerun may retry."""
        if verdict != "fail":
            return []
        current = quarantine.load(tree.root)
        if current.find(self.image) is not None:
            return []
        entry = quarantine.QuarantineEntry(
            image=self.image,
            reason=one_line(f"blue-green post-switch gate {verdict}: {reason}"),
            since=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            commit=commit,
            run_url=self.s.run_url,
        )
        quarantine.save(tree.root, quarantine.with_added(current, [entry]))
        return [quarantine.PATH]


def one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def evidence_table(report: Mapping[str, object] | None) -> str:
    """The gate report's failing objectives as a table, for the switch-back commit."""
    if not report:
        return ""
    from gitops_guard.rollback import evidence

    try:
        return evidence.table(evidence.from_report(dict(report)))
    except errors.GitopsGuardError:
        return ""


class WaitFailed(Exception):
    def __init__(self, outcome: WaitOutcome) -> None:
        super().__init__(outcome.reason)
        self.outcome = outcome
