"""The canary flow: step by step, each step one commit, each step gated; abort in one revert.

Traffic moves by the replica ratio of the two colours' Deployments behind one
Service: step ``p`` of a service with ``N`` replicas runs ``p*N/100`` canary pods and
the rest stable (every step must be expressible, :func:`.plan.replica_plan`). Each
run reads Git and asks :func:`.plan.decide` what is left, so a rerun continues::

    step commit (image on the first, replicas) -> argocd-wait -> canary rollout (kube)
      -> step gate (share check, then the sequential test after every scrape)
         -> pass/warn: next step; step 100 is the promotion (the old colour to 0)
         -> fail/inconclusive: one abort commit reverting every step commit, argocd-wait

With ``--traffic gateway`` the canary runs at full size and the HTTPRoute's weights
split the traffic; its first step is two commits, so no weight reaches a Service with
no ready endpoint (as Argo Rollouts and Flagger scale up before they shift)::

    scale commit (canary image + replicas, weight 0) -> argocd-wait -> canary rollout
      -> step commit (weights only) -> argocd-wait -> route Accepted/ResolvedRefs -> gate

A rerun after the scale commit sees the canary *scaled* (:func:`.plan.decide_weights`)
and goes on from its rollout; an abort reverts the scale commit with the steps.

Commits go through the publish engine (:func:`gitops_guard.rollback.publish.publish`);
ArgoCD, the gate and the Kubernetes API come in as callables (:class:`Deps`).

Before each step commit, ArgoCD's sync windows are read: inside a deny window the run
stops with ``frozen`` (exit 1, "frozen until T") or waits (``--wait-for-window``) and
then asks ArgoCD to sync the commit itself (auto-sync does not retry a commit pushed
while blocked, argo-cd #21692).

Outcomes: ``promoted``/``in-place`` 0, ``aborted``/``rejected``/``frozen`` 1,
``aborted-inconclusive``/``undecided`` 3; bad input raises before the first write (2).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from gitops_guard import gitops, kube
from gitops_guard.argocd import syncwindows
from gitops_guard.rollback import gitrepo, publish
from gitops_guard.strategies import runs
from gitops_guard.strategies.bluegreen import edits
from gitops_guard.strategies.bluegreen import models as bg_models
from gitops_guard.strategies.canary import layout, plan, render
from gitops_guard.strategies.canary import route as route_mod
from gitops_guard.strategies.canary.models import (
    Deps,
    KubeReader,
    Settings,
    StepGate,
    Traffic,
)

__all__ = ["Deps", "KubeReader", "Settings", "StepGate", "Traffic", "run"]


class _Stop(Exception):
    """Ends the run with the result as it stands."""


class _Run(runs.TwoColourRun):
    STEP_WIDTH = 14

    def __init__(self, settings: Settings, deps: Deps) -> None:
        self.s = settings
        self.d = deps
        self.image = settings.image.text
        self.result = render.Result(
            service=settings.service, image=self.image, traffic=settings.traffic
        )
        super().__init__(settings.dir, deps, self.result.timeline)

    # ------------------------------------------------------------ helpers
    def finish(self, outcome: str, reason: str) -> render.Result:
        self.result.outcome = outcome
        self.result.reason = reason
        return self.result

    def read(self, root: Path | None = None) -> bg_models.Layout:
        return layout.read(
            (root or self.wc.root) / self.rel,
            service=self.s.service,
            paths=self.s.paths,
            colours=self.s.colours,
            colour_key=self.s.colour_key,
            service_name=self.s.service_name,
            namespace=self.s.namespace,
            prefix=self.prefix,
            check_service=self.s.traffic == "replicas",
        )

    def decide(
        self, root: Path | None = None, tree: gitops.WorkingCopy | None = None
    ) -> tuple[bg_models.Layout, plan.Decision]:
        lay = self.read(root)
        history = render.parse_history(self.log_text(tree), service=self.s.service)
        if self.s.traffic == "gateway":
            found = self.route(root)
            return lay, plan.decide_weights(
                lay,
                {c: found.share(c) for c in lay.colours},
                image=self.image,
                steps=self.s.steps,
                history=history,
                step_action=render.ACTION_STEP,
                abort_action=render.ACTION_ABORT,
            )
        decision = plan.decide(
            lay,
            image=self.image,
            steps=self.s.steps,
            history=history,
            step_action=render.ACTION_STEP,
            abort_action=render.ACTION_ABORT,
        )
        return lay, decision

    def route(self, root: Path | None = None) -> route_mod.Route:
        return route_mod.read(
            (root or self.wc.root) / self.rel,
            route=self.s.route_name or self.s.service,
            backends={c: f"{self.s.service}-{c}" for c in self.s.colours},
            paths=self.s.paths,
            prefix=self.prefix,
        )

    def route_ready(self, lay: bg_models.Layout) -> tuple[bool, str]:
        """After a sync: the HTTPRoute Accepted, its references resolved (gateway only)."""
        kube_api = self.d.kube
        if self.s.traffic != "gateway" or kube_api is None:
            return True, "not checked"
        name = self.s.route_name or self.s.service
        deadline = self.d.clock() + self.s.ready_timeout_seconds
        while True:
            obj = kube_api.get_http_route(name, namespace=self.s.namespace or lay.namespace)
            ok, hopeless, message = route_mod.route_ready(obj)
            if ok or hopeless:
                return ok, f"HTTPRoute {name}: {message}"
            if self.d.clock() >= deadline:
                return False, f"HTTPRoute {name}: {message} (still so after the ready timeout)"
            self.d.sleep(self.s.poll_seconds)

    def publish(
        self,
        label: str,
        change: Callable[[gitops.WorkingCopy, Path], tuple[list[str], str] | None],
    ) -> str:
        def make_change(tree: gitops.WorkingCopy) -> publish.Change:
            made = change(tree, tree.root / self.rel)
            if made is None or not made[0]:
                return publish.Change(skip_code="in-place", skip_reason=f"{label}: in place")
            files, message = made
            return publish.Change(sha=tree.commit(message, files), files=tuple(files))

        done = publish.publish(
            self.wc,
            make_change,
            publish.PublishSettings(mode="commit", branch=self.s.branch),
            target="",
            head_branch=f"gitops-guard/canary-{self.s.service}",
            title=lambda ch: label,
            body=lambda ch: label,
        )
        return done.rollback_sha or ""

    def ready(self, lay: bg_models.Layout, colour: str, replicas: int) -> tuple[bool, str]:
        """The canary colour's rollout status with the new image (skipped without kube)."""
        kube_api = self.d.kube
        if kube_api is None or replicas == 0:
            return True, "not checked"
        name = lay.deployments[colour].name
        deadline = self.d.clock() + self.s.ready_timeout_seconds
        while True:
            dep = kube_api.get_deployment(name, namespace=self.s.namespace or lay.namespace)
            status = kube.rollout_status(dep, image=self.image)
            if status.done or status.failed:
                return status.done, status.message
            if self.d.clock() >= deadline:
                return (
                    False,
                    f"{status.message} (still so after {self.s.ready_timeout_seconds:g} s)",
                )
            self.d.sleep(self.s.poll_seconds)

    # ------------------------------------------------------------ steps
    def run(self) -> render.Result:
        try:
            return self._run()
        except _Stop:
            return self.result

    def _run(self) -> render.Result:
        s = self.s
        gitrepo.sync_to_remote(self.wc, publish.resolve_branch(self.wc, s.branch))
        lay, decision = self.decide()
        self.result.stable, self.result.canary = decision.stable, decision.canary
        self.d.echo(f"canary {s.service}: {decision.phase}: {decision.reason}")
        if decision.phase == "rejected":
            return self.finish("rejected", decision.reason)
        if decision.phase == "done":
            return self.finish("in-place", decision.reason)
        if s.traffic == "gateway":
            # The canary runs at full size; the route's weights split the traffic.
            counts = {p: (decision.total, 0 if p == 100 else decision.total) for p in s.steps}
        else:
            counts = dict(zip(s.steps, plan.replica_plan(s.steps, decision.total), strict=True))
        canary, stable = decision.canary, decision.stable
        if s.traffic == "gateway" and decision.share == 0:
            self.scale_up(decision)
        verdict = ""
        for step in decision.next_steps:
            canary_n, stable_n = counts[step]
            waited = self.window(f"step {step}%")
            sha = self.step(step, canary_n, stable_n, verdict)
            if waited and sha and self.d.request_sync is not None:
                self.d.request_sync(sha)
            failed = self.await_sync(self.d.wait, f"step {step}%", sha)
            lay = self.read()
            if failed is not None:
                self.abort(
                    lay,
                    step,
                    "inconclusive" if failed.undecided else "fail",
                    f"ArgoCD did not run the {step}% step: {failed.reason}",
                )
            started = self.d.clock()
            ok, message = self.ready(lay, canary, canary_n)
            if self.d.kube is not None:
                self.event("ready", "done" if ok else "fail", started, message)
            if not ok:
                self.abort(lay, step, "fail", f"the canary is not ready: {message}")
            if s.traffic == "gateway" and self.d.kube is not None:
                started = self.d.clock()
                ok, message = self.route_ready(lay)
                self.event("route", "done" if ok else "fail", started, message)
                if not ok:
                    self.abort(lay, step, "fail", message)
            if step == 100:
                return self.finish(
                    "promoted",
                    f"{canary} serves {self.image} with all {canary_n} replicas; "
                    f"{stable} scaled to 0",
                )
            verdict = self.gate(step, lay)
        return self.finish("promoted", "every step passed")  # pragma: no cover (100 ends it)

    def scale_up(self, decision: plan.Decision) -> None:
        """Gateway: the canary's image and replicas at weight 0, then its pods ready."""
        sha = ""
        if not decision.scaled:
            waited = self.window("the scale commit")
            sha = self.scale(decision.total)
            if waited and sha and self.d.request_sync is not None:
                self.d.request_sync(sha)
            failed = self.await_sync(self.d.wait, "scale", sha)
            if failed is not None:
                self.abort(
                    self.read(),
                    0,
                    "inconclusive" if failed.undecided else "fail",
                    f"ArgoCD did not run the scale commit: {failed.reason}",
                )
        lay = self.read()
        started = self.d.clock()
        ok, message = self.ready(lay, decision.canary, decision.total)
        if self.d.kube is not None:
            self.event("ready", "done" if ok else "fail", started, message)
        if not ok:
            self.abort(lay, 0, "fail", f"the canary is not ready (no weight moved): {message}")

    def scale(self, total: int) -> str:
        s = self.s
        started = self.d.clock()

        def change(tree: gitops.WorkingCopy, base: Path) -> tuple[list[str], str] | None:
            _, fresh = self.decide(tree.root, tree)
            if fresh.phase != "step" or fresh.share != 0 or fresh.scaled:
                return None
            canary = self.read(tree.root).deployments[fresh.canary]
            written = edits.set_image(base, canary, s.image)
            canary = self.read(tree.root).deployments[fresh.canary]
            written += edits.set_replicas(base, canary, total)
            message = render.scale_message(
                service=s.service,
                canary=fresh.canary,
                stable=fresh.stable,
                image=self.image,
                stable_image=self.read(tree.root).deployments[fresh.stable].image,
                canary_replicas=total,
                run_url=s.run_url,
                exemption=s.exemption,
            )
            return self.files(sorted(set(written))), message

        sha = self.publish("scale", change)
        if sha:
            self.result.commits["scale"] = sha
        self.event(
            "scale",
            "done" if sha else "skipped",
            started,
            f"{total} canary replicas at weight 0",
            commit=sha,
        )
        return sha

    def window(self, what: str) -> bool:
        """Stop with ``frozen`` inside a sync window, or wait for it; True after a wait."""
        if self.d.window is None:
            return False
        started = self.d.clock()
        reason, until = self.d.window()
        if reason == "open":
            return False
        text = syncwindows.describe(reason, until)
        if not self.s.wait_for_window:
            self.event("window", "fail", started, text)
            self.finish(
                "frozen",
                f"ArgoCD is {text}: {what} was not pushed (rerun after it, or pass "
                "--wait-for-window)",
            )
            raise _Stop
        self.d.echo(f"canary {self.s.service}: ArgoCD is {text}; waiting")
        deadline = started + self.s.window_timeout_seconds
        while True:
            left = (until - datetime.now(timezone.utc)).total_seconds() if until else 0
            pause = min(self.s.window_poll_seconds, max(left, 1.0)) if until else None
            self.d.sleep(pause or self.s.window_poll_seconds)
            reason, until = self.d.window()
            if reason == "open":
                self.event("window", "done", started, f"waited: it was {text}")
                return True
            if self.d.clock() >= deadline:
                text = syncwindows.describe(reason, until)
                self.event("window", "fail", started, text)
                self.finish(
                    "frozen",
                    f"ArgoCD is still {text} after {self.s.window_timeout_seconds:g} s: "
                    f"{what} was not pushed",
                )
                raise _Stop

    def step(self, step: int, canary_n: int, stable_n: int, verdict: str) -> str:
        s = self.s
        started = self.d.clock()

        def change(tree: gitops.WorkingCopy, base: Path) -> tuple[list[str], str] | None:
            now, fresh = self.decide(tree.root, tree)
            if fresh.phase != "step" or step not in fresh.next_steps:
                return None
            canary = now.deployments[fresh.canary]
            stable = now.deployments[fresh.stable]
            written = edits.set_image(base, canary, s.image)
            canary = self.read(tree.root).deployments[fresh.canary]
            written += edits.set_replicas(base, canary, canary_n)
            written += edits.set_replicas(base, stable, stable_n)
            if s.traffic == "gateway":
                weights = {fresh.canary: step, fresh.stable: 100 - step}
                written += route_mod.set_weights(base, self.route(tree.root), weights)
            message = render.step_message(
                service=s.service,
                canary=fresh.canary,
                stable=fresh.stable,
                image=self.image,
                stable_image=stable.image,
                step=step,
                canary_replicas=canary_n,
                stable_replicas=stable_n,
                verdict=verdict,
                run_url=s.run_url,
                exemption=s.exemption,
            )
            return self.files(sorted(set(written))), message

        label = "promote" if step == 100 else f"step-{step}"
        sha = self.publish(label, change)
        if sha:
            self.result.commits[label] = sha
            self.result.steps.append(step)
        self.event(
            label,
            "done" if sha else "skipped",
            started,
            f"{canary_n} canary / {stable_n} stable replicas",
            commit=sha,
        )
        return sha

    def gate(self, step: int, lay: bg_models.Layout) -> str:
        label = f"gate-{step}"
        if self.d.gate is None:
            started = self.d.clock()
            if self.s.pause_seconds > 0:
                self.d.sleep(self.s.pause_seconds)
            self.event(label, "skipped", started, "no --slo-config: not gated")
            return ""
        started = self.d.clock()
        outcome = self.d.gate(
            StepGate(
                step=step,
                share=step / 100,
                canary=self.result.canary,
                stable=self.result.stable,
                image=self.image,
                stable_image=lay.deployments[self.result.stable].image,
                service=self.s.service,
            )
        )
        self.result.verdicts[f"step-{step}"] = outcome.verdict
        self.event(label, outcome.verdict, started, outcome.reason, figures=outcome.figures)
        if outcome.verdict in ("fail", "inconclusive"):
            if outcome.verdict == "fail":
                self.result.detection_seconds = round(self.d.clock() - started, 3)
            self.abort(lay, step, outcome.verdict, outcome.reason)
        return outcome.verdict

    def abort(self, lay: bg_models.Layout, step: int, verdict: str, reason: str) -> None:
        """Revert every step commit of this canary in one commit; ends the run."""
        s = self.s
        started = self.d.clock()
        canary, stable = self.result.canary, self.result.stable
        stable_image = lay.deployments[stable].image

        def change(tree: gitops.WorkingCopy, base: Path) -> tuple[list[str], str] | None:
            text = self.log_text(tree)
            history = render.parse_history(text, service=s.service)
            mine = itertools.takewhile(
                lambda e: (
                    e.action in (render.ACTION_STEP, render.ACTION_PROMOTE)
                    and e.image == self.image
                    and e.colour == canary
                ),
                history,
            )
            shas = list(reversed([e.sha for e in mine]))
            if not shas:
                return None
            now = self.read(tree.root)
            staged = self._revert_all(tree, shas)
            if staged is None:
                shas = []
                total = sum(d.replicas for d in now.deployments.values())
                if s.traffic == "gateway":
                    total = max(d.replicas for d in now.deployments.values())
                    route_mod.set_weights(base, self.route(tree.root), {canary: 0, stable: 100})
                written = edits.set_replicas(base, now.deployments[canary], 0)
                written += edits.set_replicas(base, now.deployments[stable], total)
                if s.traffic == "gateway":
                    written.append(self.route(tree.root).file)
                staged = self.files(sorted(set(written)))
            message = render.abort_message(
                service=s.service,
                canary=canary,
                stable=stable,
                image=self.image,
                stable_image=stable_image,
                step=step,
                reverts=shas,
                verdict=verdict,
                reason=reason,
                run_url=s.run_url,
            )
            return staged, message

        sha = self.publish("abort", change)
        if sha:
            self.result.commits["abort"] = sha
        self.event("abort", "done" if sha else "skipped", started, reason, commit=sha)
        failed = self.await_sync(self.d.wait, "abort", sha)
        self.result.abort_seconds = round(self.d.clock() - started, 3)
        if failed is not None:
            self.finish(
                "undecided",
                f"{reason}; the abort {sha[:12]} is pushed but ArgoCD did not run it: "
                f"{failed.reason}",
            )
            raise _Stop
        self.finish(
            "aborted" if verdict == "fail" else "aborted-inconclusive",
            f"step {step}%: {reason}; aborted: {stable} ({stable_image}) serves all traffic again",
        )
        raise _Stop

    @staticmethod
    def _revert_all(tree: gitops.WorkingCopy, shas: list[str]) -> list[str] | None:
        """Stage the revert of ``shas`` (newest first) as one change; None on a conflict."""
        if not shas or not all(gitrepo.is_ancestor(tree, sha, "HEAD") for sha in shas):
            return None
        return gitrepo.try_revert(tree, *reversed(shas))


def run(settings: Settings, deps: Deps) -> render.Result:
    """Run the canary of ``settings.service`` (see the module docstring)."""
    return _Run(settings, deps).run()
