"""The blue-green flow: prepare, prove, gate, switch, gate again, switch back or scale down.

Each step reads the state again (the layout at the tip of the branch, the cluster)
and asks :func:`.plan.decide` what is left, so a rerun continues where a run
stopped. The run's state and means (reading, planning, commits through the one
publish engine, waits) are :class:`.session.Session`'s; ArgoCD, the SLO gate, the
preview test and the Kubernetes API come in as callables (:class:`Deps`), so this
module holds the order of the steps and nothing of HTTP or flags::

    prepare commit (image, replicas, preview selector) -> argocd-wait
      -> rollout status + preview endpoints (kube) -> preview test + preview gate
      -> switch commit (or Service patch) -> argocd-wait -> active endpoints all new
      -> post-switch gate -> pass: scale-down commit after the delay
                          -> fail/inconclusive: switch back (revert), old colour serving

Outcomes: 0 promoted (or already in place), 1 rejected (before the switch, or
switched back after a failed gate), 3 could not decide (nothing switched, or
switched back after an inconclusive gate), 2 bad input raised before any write.
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import Any, Literal

from gitops_guard import deadline, errors, gitops, quarantine, trailers
from gitops_guard.gitops import publish as engine
from gitops_guard.rollback import gitrepo
from gitops_guard.strategies.bluegreen import edits, models, render, session
from gitops_guard.strategies.bluegreen.ports import (
    Deps,
    GateOutcome,
    GateRequest,
    KubeReader,
    Settings,
    WaitOutcome,
)

__all__ = ["Deps", "GateOutcome", "GateRequest", "KubeReader", "Settings", "WaitOutcome", "run"]


class _Run(session.Session):
    # ------------------------------------------------------------ steps
    def run(self) -> models.Result:
        try:
            return self._run()
        except session.Stop:
            return self.result

    def opt_outs(self) -> None:
        """A missing gate or Kubernetes API is exit 2 unless the user opted out; an opt-out
        is announced and recorded (report, switch commit)."""
        s = self.s
        if self.d.gate is None and not s.skip_gates:
            raise errors.InputError(
                "no SLO gate: the colours would be switched without a verdict",
                source="--slo-config",
                hint="Give --slo-config and --prometheus-url, or opt out with --skip-gates.",
            )
        if self.d.kube is None and s.readiness == "traffic-path":
            raise errors.InputError(
                "no Kubernetes credentials: readiness on the traffic path cannot be proven",
                source="--kubeconfig",
                hint="Pass --kubeconfig (or set KUBECONFIG, or run in the cluster), "
                "or opt out with --readiness argocd-only.",
            )
        if s.skip_gates:
            self.result.unverified.append("gates")
        if s.readiness == "argocd-only":
            self.result.unverified.append("readiness")
        warn = self.d.warn or self.d.echo
        for what in self.result.unverified:
            warn(f"blue-green {s.service}: {render.UNVERIFIED_TEXT[what]}")

    def _run(self) -> models.Result:
        s = self.s
        self.opt_outs()
        engine.sync_to_remote(self.wc, engine.resolve_branch(self.wc, s.branch))
        refused = quarantine.refused(self.wc.root, [self.image])
        if refused:
            raise errors.InputError(
                f"quarantined image: {refused[0].image} ({refused[0].reason or 'no reason given'})",
                source=quarantine.PATH,
                hint="It failed a post-switch gate or a gate before. Roll out a fixed version, "
                "or lift the quarantine (gitops-guard rollback quarantine lift --image REF).",
            )
        lay, decision = self.decide()
        if self.d.argocd_spec_problem is not None:
            problem = self.d.argocd_spec_problem(s.mode)
            if problem:
                raise errors.ConfigError(problem, source="--mode")
        self.result.live_before = self.result.live_after = decision.live
        self.result.phase = decision.phase
        self.d.echo(
            f"blue-green {s.service}: live {decision.live}, idle {decision.idle}; "
            f"{decision.phase}: {decision.reason}"
        )
        if decision.phase == "done":
            return self.finish("in-place", decision.reason)
        if decision.phase in ("prepare", "verify"):
            if decision.phase == "prepare":
                self.prepare(lay, decision)
                lay, decision = self.decide()
            else:  # a rerun: an earlier run may have stopped before ArgoCD ran the prepare
                self.wait_prepared(self.wc.head())
            if not self.prove(lay, decision):
                return self.result
            lay, decision = self.switch(lay, decision)
        return self.after_switch(lay, decision)

    def prepare(self, lay: models.Layout, decision: models.Decision) -> None:
        started = self.d.clock()
        s = self.s

        def change(tree: gitops.WorkingCopy, base: Path) -> tuple[list[str], str] | None:
            now, fresh = self.decide(tree.root, tree)
            if fresh.phase != "prepare":
                return None
            idle = now.deployments[fresh.idle]
            written = []
            if fresh.set_image:
                written += edits.set_image(base, idle, s.image)
            if fresh.set_replicas is not None:
                idle = self.read(tree.root).deployments[fresh.idle]
                written += edits.set_replicas(base, idle, fresh.set_replicas)
            if fresh.point_preview and now.preview is not None:
                written += edits.set_selector_colour(base, now.preview, s.colour_key, fresh.idle)
            replicas = fresh.set_replicas if fresh.set_replicas is not None else idle.replicas
            message = render.prepare_message(
                service=s.service,
                idle=fresh.idle,
                live=fresh.live,
                image=self.image,
                live_image=now.deployments[fresh.live].image,
                replicas=replicas,
                preview=now.preview.name if now.preview else "",
                run_url=s.run_url,
            )
            return self.files(sorted(set(written))), message

        sha = self.publish("prepare", change)
        if sha:
            self.result.commits["prepare"] = sha
        self.event(
            "prepare",
            "done" if sha else "skipped",
            started,
            f"{decision.idle}: {self.image}" + ("" if sha else " (already prepared)"),
            commit=sha or "",
        )
        self.wait_prepared(sha or self.wc.head())

    def wait_prepared(self, sha: str) -> None:
        try:
            self.wait_argocd("prepare", sha)
        except session.WaitFailed as exc:
            self.finish(
                "undecided" if exc.outcome.undecided else "rejected",
                f"ArgoCD did not run the prepared colour: {exc.outcome.reason}; nothing was "
                "switched",
            )
            raise session.Stop from exc

    def prove(self, lay: models.Layout, decision: models.Decision) -> bool:
        """Readiness on the traffic path, the preview test, the preview gate."""
        idle, live = decision.idle, decision.live
        if self.s.readiness == "traffic-path" and self.d.kube is not None:
            started = self.d.clock()
            ok, message = self.ready(lay, idle)
            self.event("ready", "done" if ok else "fail", started, message)
            if not ok:
                self.expired(f"the idle colour {idle} to be ready: {message}")
                self.finish(
                    "rejected",
                    f"the idle colour {idle} is not ready: {message}; nothing was switched",
                )
                return False
        else:
            self.event(
                "ready", "skipped", self.d.clock(), "--readiness argocd-only: readiness unproven"
            )
        if self.d.preview_test is not None:
            self.expired("the preview test to start")
            started = self.d.clock()
            code, tail = self.d.preview_test(idle)
            self.event("preview-test", "pass" if code == 0 else "fail", started, tail)
            if code != 0:
                self.finish(
                    "rejected",
                    f"the preview test failed (exit {code}): {tail}; nothing was switched",
                )
                return False
        verdict = self.gate("preview", idle, live, lay.deployments[live].image)
        self.result.verdicts["preview"] = verdict.verdict
        if verdict.verdict == "fail":
            self.finish(
                "rejected",
                f"the preview gate failed on {idle}: {verdict.reason}; nothing was switched",
            )
            return False
        if verdict.verdict == "inconclusive":
            self.finish(
                "undecided",
                f"the preview gate was inconclusive on {idle}: {verdict.reason}; nothing was "
                "switched (rerun to continue)",
            )
            return False
        return True

    def gate(
        self,
        role: Literal["preview", "post-switch"],
        colour: str,
        baseline: str,
        baseline_image: str,
    ) -> GateOutcome:
        step = f"{role}-gate"
        if self.d.gate is None or self.s.skip_gates:
            self.event(step, "skipped", self.d.clock(), "--skip-gates: not gated")
            return GateOutcome("pass", "not gated (--skip-gates)")
        self.expired(f"the {role} gate to start")
        started = self.d.clock()
        outcome = self.d.gate(
            GateRequest(
                role=role,
                colour=colour,
                baseline=baseline,
                baseline_image=baseline_image,
                image=self.image,
                service=self.s.service,
            )
        )
        self.event(step, outcome.verdict, started, outcome.reason, figures=outcome.figures)
        return outcome

    def switch(
        self, lay: models.Layout, decision: models.Decision
    ) -> tuple[models.Layout, models.Decision]:
        s = self.s
        new, old = decision.idle, decision.live
        started = self.d.clock()
        verdict = self.result.verdicts.get("preview", "")
        sha = ""
        if s.mode == "cluster":
            assert self.d.kube is not None
            self.d.kube.patch_service_selector(
                self.active_name(), {s.colour_key: new}, namespace=self.namespace
            )
            pushed_at = self.d.clock()
            self.event(
                "switch", "done", started, f"patched Service {self.active_name()}: {old} -> {new}"
            )
        else:

            def change(tree: gitops.WorkingCopy, base: Path) -> tuple[list[str], str] | None:
                now, fresh = self.decide(tree.root, tree)
                if fresh.phase != "verify" or now.active is None:
                    return None
                written = edits.set_selector_colour(base, now.active, s.colour_key, fresh.idle)
                message = render.switch_message(
                    service=s.service,
                    active=now.active.name,
                    new=fresh.idle,
                    old=fresh.live,
                    image=self.image,
                    old_image=now.deployments[fresh.live].image,
                    verdict=verdict,
                    run_url=s.run_url,
                    unverified=self.result.unverified,
                )
                return self.files(written), message

            sha = self.publish("switch", change) or ""
            pushed_at = self.d.clock()
            if sha:
                self.result.commits["switch"] = sha
            self.event(
                "switch", "done" if sha else "skipped", started, f"{old} -> {new}", commit=sha
            )
            try:
                self.wait_argocd("switch", sha)
            except session.WaitFailed as exc:
                lay, decision = self.decide()
                return self.switch_back(
                    lay,
                    dataclasses.replace(decision, switch_commit=sha),
                    "inconclusive" if exc.outcome.undecided else "fail",
                    f"ArgoCD did not run the switch: {exc.outcome.reason}",
                )
        started = self.d.clock()
        ok, message = self.serving(lay, new, self.image)
        self.result.switch_seconds = round(self.d.clock() - pushed_at, 3)
        self.event("serving", "done" if ok else "fail", started, message)
        self.result.live_after = new
        lay, decision = self.decide()
        if not ok:  # cut by --timeout: undecided, so switched back without quarantine
            return self.switch_back(
                lay,
                dataclasses.replace(decision, switch_commit=decision.switch_commit or sha),
                "fail" if self.remaining() > 0 else "inconclusive",
                f"the active Service did not route to {new}: {message}",
            )
        return lay, decision

    def after_switch(self, lay: models.Layout, decision: models.Decision) -> models.Result:
        new, old = decision.live, decision.idle
        self.result.live_after = new
        if self.remaining() <= 0:  # undecided under user traffic: as an inconclusive gate
            elapsed = self.d.clock() - self.started
            self.switch_back(
                lay,
                decision,
                "inconclusive",
                f"timed out after {elapsed:.1f} s (--timeout {self.s.timeout_seconds:g} s) "
                "before the post-switch gate",
            )
        verdict = self.gate("post-switch", new, old, lay.deployments[old].image)
        self.result.verdicts["post-switch"] = verdict.verdict
        if verdict.verdict in ("fail", "inconclusive"):
            self.switch_back(
                lay,
                decision,
                verdict.verdict,
                verdict.reason,
                session.evidence_table(verdict.report),
            )
            return self.result
        self.scale_down(decision)
        return self.finish(
            "promoted",
            f"{new} serves {self.image}" + (f"; post-switch gate {verdict.verdict}"),
        )

    def switch_back(self, *args: Any, **kwargs: Any) -> tuple[models.Layout, models.Decision]:
        """:meth:`_switch_back` outside ``--timeout``: the old colour must serve again."""
        self.deadline = float("inf")
        with deadline.overall(deadline.Deadline(None, source="the switch-back")):
            return self._switch_back(*args, **kwargs)

    def _switch_back(
        self,
        lay: models.Layout,
        decision: models.Decision,
        verdict: str,
        reason: str,
        evidence: str = "",
    ) -> tuple[models.Layout, models.Decision]:
        """Put the old colour back on the active Service; ends the run."""
        s = self.s
        leaving, back = decision.live, decision.idle
        if lay.deployments[leaving].image != self.image:  # the switch never landed in Git
            leaving, back = decision.idle, decision.live
        started = self.d.clock()
        old_image = lay.deployments[back].image
        sha = ""
        if s.mode == "cluster":
            assert self.d.kube is not None
            self.d.kube.patch_service_selector(
                self.active_name(), {s.colour_key: back}, namespace=self.namespace
            )
            self.event("switch-back", "done", started, f"patched Service back to {back}")

            def record(tree: gitops.WorkingCopy, base: Path) -> tuple[list[str], str] | None:
                files = self.quarantine(tree, verdict, reason, "")
                if not files:
                    return None
                message = f"quarantine {self.image}\n\nPost-switch gate: {verdict}: {reason}"
                return files, trailers.append(message, [(trailers.ACTION, "quarantine")])

            self.publish("quarantine", record)
        else:
            switch_sha = decision.switch_commit

            def change(tree: gitops.WorkingCopy, base: Path) -> tuple[list[str], str] | None:
                now = self.read(tree.root)
                if now.active is None or now.active.colour == back:
                    return None
                staged = None
                if switch_sha and gitrepo.is_ancestor(tree, switch_sha, "HEAD"):
                    staged = gitrepo.try_revert(tree, switch_sha)
                if staged is None:
                    staged = self.files(
                        edits.set_selector_colour(base, now.active, s.colour_key, back)
                    )
                staged = sorted(
                    set(staged) | set(self.quarantine(tree, verdict, reason, switch_sha))
                )
                message = render.switch_back_message(
                    service=s.service,
                    active=now.active.name,
                    back_to=back,
                    leaving=leaving,
                    image=old_image,
                    bad_image=self.image,
                    reverts=switch_sha,
                    verdict=verdict,
                    reason=reason,
                    run_url=s.run_url,
                    evidence=evidence,
                )
                return staged, message

            sha = self.publish("switch-back", change) or ""
            if sha:
                self.result.commits["switch-back"] = sha
            self.event(
                "switch-back",
                "done" if sha else "skipped",
                started,
                f"{leaving} -> {back}",
                commit=sha,
            )
            try:
                self.wait_argocd("switch-back", sha)
            except session.WaitFailed as exc:
                self.result.live_after = back
                self.finish(
                    "undecided",
                    f"{reason}; the switch-back {sha[:12]} is pushed but ArgoCD did not run it: "
                    f"{exc.outcome.reason}",
                )
                raise session.Stop from exc
        ok, message = self.serving(lay, back, None)
        self.result.switch_back_seconds = round(self.d.clock() - started, 3)
        self.event("serving", "done" if ok else "fail", started, message)
        self.result.live_after = back
        self.finish(
            "switched-back" if verdict == "fail" else "switched-back-inconclusive",
            f"{reason}; switched back to {back} in {self.result.switch_back_seconds:.1f} s"
            + ("" if ok else f", but {message}"),
        )
        raise session.Stop

    def scale_down(self, decision: models.Decision) -> None:
        s = self.s
        old = decision.idle
        if s.scale_down_delay_seconds <= 0:
            self.event(
                "scale-down", "skipped", self.d.clock(), f"kept {old} (--scale-down-delay 0)"
            )
            return
        started = self.d.clock()
        self.d.sleep(self.bounded(s.scale_down_delay_seconds))
        self.expired(f"the scale-down delay of {s.scale_down_delay_seconds:g} s")

        def change(tree: gitops.WorkingCopy, base: Path) -> tuple[list[str], str] | None:
            now, fresh = self.decide(tree.root, tree)
            if fresh.phase != "switched":
                return None
            dep = now.deployments[fresh.idle]
            written = edits.set_replicas(base, dep, 0)
            return self.files(written), render.scale_down_message(
                service=s.service,
                colour=fresh.idle,
                live=fresh.live,
                image=self.image,
                run_url=s.run_url,
            )

        sha = self.publish("scale-down", change) or ""
        if sha:
            self.result.commits["scale-down"] = sha
        self.event(
            "scale-down",
            "done" if sha else "skipped",
            started,
            f"{old} to 0 replicas after {s.scale_down_delay_seconds:g} s",
            commit=sha,
        )
        # The new colour serves and passed its gate; a failed wait shows in the timeline.
        with contextlib.suppress(session.WaitFailed):
            self.wait_argocd("scale-down", sha)


def run(settings: Settings, deps: Deps) -> models.Result:
    """Run blue-green for ``settings.service`` (see the module docstring)."""
    return _Run(settings, deps).run()
