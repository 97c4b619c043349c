"""The blue-green flow: prepare, prove, gate, switch, gate again, switch back or scale down.

Each step reads the state again (the layout at the tip of the branch, the cluster)
and asks :func:`.plan.decide` what is left, so a rerun continues where a run
stopped. Commits go through the publish engine (:func:`gitops_guard.rollback.
publish.publish`: a worktree at the remote tip, the change recomputed on every
push attempt); ArgoCD, the SLO gate, the preview test and the Kubernetes API
come in as callables (:class:`Deps`), so this module holds the order of the steps
and nothing of HTTP or flags::

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
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from gitops_guard import errors, gitops, quarantine, trailers
from gitops_guard.rollback import gitrepo, publish
from gitops_guard.strategies.bluegreen import edits, layout, models, plan, render, traffic
from gitops_guard.strategies.bluegreen.ports import (
    Deps,
    GateOutcome,
    GateRequest,
    KubeReader,
    Settings,
    WaitOutcome,
)

__all__ = ["Deps", "GateOutcome", "GateRequest", "KubeReader", "Settings", "WaitOutcome", "run"]


class _Stop(Exception):
    """Ends the run with the result as it stands."""


class _Run:
    def __init__(self, settings: Settings, deps: Deps) -> None:
        self.s = settings
        self.d = deps
        self.wc = deps.wc
        self.image = settings.image.text
        self.rel = settings.dir.resolve().relative_to(self.wc.root.resolve())
        self.result = models.Result(service=settings.service, image=self.image, mode=settings.mode)
        self.started = deps.clock()

    # ------------------------------------------------------------ helpers
    def event(
        self,
        step: str,
        outcome: str,
        started: float,
        detail: str = "",
        *,
        commit: str = "",
        figures: Mapping[str, str] | None = None,
    ) -> None:
        seconds = self.d.clock() - started
        self.result.timeline.append(
            models.Event(step, outcome, seconds, detail, commit, dict(figures or {}))
        )
        self.d.echo(f"  {step:<17} {outcome:<12} {seconds:6.1f} s  {detail}")

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
            prefix="" if str(self.rel) == "." else f"{self.rel.as_posix()}/",
        )

    def history(self, tree: gitops.WorkingCopy | None = None) -> list[models.HistoryEntry]:
        text = (tree or self.wc).git("log", "-n", "200", f"--format={render.LOG_FORMAT}", "HEAD")
        return render.parse_history(text, service=self.s.service)

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

        def make_change(tree: gitops.WorkingCopy) -> publish.Change:
            made = change(tree, tree.root / self.rel)
            if made is None:
                return publish.Change(skip_code="in-place", skip_reason=f"{label}: in place")
            files, message = made
            if not files:
                return publish.Change(skip_code="in-place", skip_reason=f"{label}: in place")
            sha = tree.commit(message, files)
            return publish.Change(sha=sha, files=tuple(files))

        done = publish.publish(
            self.wc,
            make_change,
            publish.PublishSettings(mode="commit", branch=self.s.branch),
            target="",
            head_branch=f"gitops-guard/blue-green-{self.s.service}",
            title=lambda ch: label,
            body=lambda ch: label,
        )
        return done.rollback_sha or None

    def files(self, written: list[str]) -> list[str]:
        return [(self.rel / f).as_posix() for f in written]

    # ------------------------------------------------------------ waits
    def wait_argocd(self, step: str, sha: str) -> None:
        if self.d.wait is None or not sha:
            return
        started = self.d.clock()
        outcome = self.d.wait(sha)
        if outcome.outcome == "done":
            self.event("wait", "done", started, f"ArgoCD runs {sha[:12]} ({step})", commit=sha)
            return
        self.event("wait", "error" if outcome.undecided else "fail", started, outcome.reason)
        raise _WaitFailed(outcome)

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
            timeout=self.s.ready_timeout_seconds,
        )

    def serving(self, lay: models.Layout, colour: str, image: str | None) -> tuple[bool, str]:
        """Wait until the active Service routes only to ``colour``."""
        if self.d.kube is None:
            return True, "not checked (no Kubernetes API)"
        return self.traffic().serving(
            self.active_name(), colour, image, timeout=self.s.switch_timeout_seconds
        )

    # ------------------------------------------------------------ steps
    def run(self) -> models.Result:
        try:
            return self._run()
        except _Stop:
            return self.result

    def _run(self) -> models.Result:
        s = self.s
        gitrepo.sync_to_remote(self.wc, publish.resolve_branch(self.wc, s.branch))
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
        try:
            self.wait_argocd("prepare", sha or self.wc.head())
        except _WaitFailed as exc:
            self.finish(
                "undecided" if exc.outcome.undecided else "rejected",
                f"ArgoCD did not run the prepared colour: {exc.outcome.reason}; nothing was "
                "switched",
            )
            raise _Stop from exc

    def prove(self, lay: models.Layout, decision: models.Decision) -> bool:
        """Readiness on the traffic path, the preview test, the preview gate."""
        idle, live = decision.idle, decision.live
        if self.d.kube is not None:
            started = self.d.clock()
            ok, message = self.ready(lay, idle)
            self.event("ready", "done" if ok else "fail", started, message)
            if not ok:
                self.finish(
                    "rejected",
                    f"the idle colour {idle} is not ready: {message}; nothing was switched",
                )
                return False
        else:
            self.event("ready", "skipped", self.d.clock(), "no Kubernetes API: readiness unproven")
        if self.d.preview_test is not None:
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
        if self.d.gate is None:
            self.event(step, "skipped", self.d.clock(), "no --slo-config: not gated")
            return GateOutcome("pass", "not gated")
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
            except _WaitFailed as exc:
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
        if not ok:
            return self.switch_back(
                lay,
                dataclasses.replace(decision, switch_commit=decision.switch_commit or sha),
                "fail",
                f"the active Service did not route to {new}: {message}",
            )
        return lay, decision

    def after_switch(self, lay: models.Layout, decision: models.Decision) -> models.Result:
        new, old = decision.live, decision.idle
        self.result.live_after = new
        verdict = self.gate("post-switch", new, old, lay.deployments[old].image)
        self.result.verdicts["post-switch"] = verdict.verdict
        if verdict.verdict in ("fail", "inconclusive"):
            self.switch_back(
                lay, decision, verdict.verdict, verdict.reason, _evidence(verdict.report)
            )
            return self.result
        self.scale_down(decision)
        return self.finish(
            "promoted",
            f"{new} serves {self.image}" + (f"; post-switch gate {verdict.verdict}"),
        )

    def switch_back(
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
            except _WaitFailed as exc:
                self.result.live_after = back
                self.finish(
                    "undecided",
                    f"{reason}; the switch-back {sha[:12]} is pushed but ArgoCD did not run it: "
                    f"{exc.outcome.reason}",
                )
                raise _Stop from exc
        ok, message = self.serving(lay, back, None)
        self.result.switch_back_seconds = round(self.d.clock() - started, 3)
        self.event("serving", "done" if ok else "fail", started, message)
        self.result.live_after = back
        self.finish(
            "switched-back" if verdict == "fail" else "switched-back-inconclusive",
            f"{reason}; switched back to {back} in {self.result.switch_back_seconds:.1f} s"
            + ("" if ok else f", but {message}"),
        )
        raise _Stop

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
            reason=_one_line(f"blue-green post-switch gate {verdict}: {reason}"),
            since=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            commit=commit,
            run_url=self.s.run_url,
        )
        quarantine.save(tree.root, quarantine.with_added(current, [entry]))
        return [quarantine.PATH]

    def scale_down(self, decision: models.Decision) -> None:
        s = self.s
        old = decision.idle
        if s.scale_down_delay_seconds <= 0:
            self.event(
                "scale-down", "skipped", self.d.clock(), f"kept {old} (--scale-down-delay 0)"
            )
            return
        started = self.d.clock()
        self.d.sleep(s.scale_down_delay_seconds)

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
        with contextlib.suppress(_WaitFailed):
            self.wait_argocd("scale-down", sha)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def _evidence(report: Mapping[str, object] | None) -> str:
    """The gate report's failing objectives as a table, for the switch-back commit."""
    if not report:
        return ""
    from gitops_guard.rollback import evidence

    try:
        return evidence.table(evidence.from_report(dict(report)))
    except errors.GitopsGuardError:
        return ""


class _WaitFailed(Exception):
    def __init__(self, outcome: WaitOutcome) -> None:
        super().__init__(outcome.reason)
        self.outcome = outcome


def run(settings: Settings, deps: Deps) -> models.Result:
    """Run blue-green for ``settings.service`` (see the module docstring)."""
    return _Run(settings, deps).run()
