"""The canary by replica ratio against a real remote and the Kubernetes stand-in.

Covers: a good version taken step by step (25%, 50%, 100%), each step one commit with
its replicas and trailers, the last one the promotion (old colour at 0), the canary's
rollout proven after each step; a bad version aborted at its first step by one commit
that reverts the step commits (bytes back as they were) and a rerun refusing it; an
inconclusive step aborting with exit 3; a canary that never becomes ready; a rerun
continuing after a step; steps the replicas cannot express and a Service that selects
one colour refused with nothing committed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from canaryrepo import FIXTURE, CanaryRepo, Cluster, Gates, git, seed_repo

from gitops_guard import errors, gitops
from gitops_guard.cli import outcomes
from gitops_guard.strategies.canary import flow, render

NEW = "ghcr.io/gitops-guard/web:1.1.0"
OLD = "ghcr.io/gitops-guard/web:1.0.0"

MakeDeps = Callable[..., flow.Deps]
MakeSettings = Callable[..., flow.Settings]


def _code(result: render.Result) -> int:
    return outcomes.exit_code(result.outcome)


def test_good_version_goes_step_by_step_and_is_promoted(
    repo: CanaryRepo,
    cluster: Cluster,
    gates: Gates,
    make_deps: MakeDeps,
    make_settings: MakeSettings,
) -> None:
    result = flow.run(make_settings(NEW), make_deps())

    assert (result.outcome, _code(result)) == ("promoted", 0), result.reason
    assert (result.stable, result.canary) == ("blue", "green")
    assert result.steps == [25, 50, 100]
    assert repo.log()[:3] == [
        f"canary: promote web green ({NEW})",
        f"canary: web green at 50% ({NEW})",
        f"canary: web green at 25% ({NEW})",
    ]
    assert repo.replicas(result.commits["step-25"]) == {"blue": 3, "green": 1}
    assert repo.replicas(result.commits["step-50"]) == {"blue": 2, "green": 2}
    assert repo.replicas() == {"blue": 0, "green": 4}
    assert NEW in repo.show("web-green.yaml") and OLD in repo.show("web-blue.yaml")
    step = dict(repo.trailers(result.commits["step-25"]))
    assert step["Gitops-Guard-Action"] == "canary-step"
    assert (step["Gitops-Guard-Step"], step["Gitops-Guard-Color"]) == ("25%", "green")
    assert (step["Gitops-Guard-Image"], step["Gitops-Guard-Previous-Image"]) == (NEW, OLD)
    assert dict(repo.trailers(result.commits["promote"]))["Gitops-Guard-Action"] == (
        "canary-promote"
    )
    # The gate judged the steps below 100% only, with the intended share.
    assert [(g.step, g.share, g.canary, g.stable) for g in gates.asked] == [
        (25, 0.25, "green", "blue"),
        (50, 0.5, "green", "blue"),
    ]
    assert repo.synced[1:] == [result.commits[k] for k in ("step-25", "step-50", "promote")]
    assert [e.step for e in result.timeline if e.step == "ready"] == ["ready"] * 3
    # A rerun finds the version in place and commits nothing.
    tip = repo.tip()
    again = flow.run(make_settings(NEW), make_deps())
    assert (again.outcome, _code(again), repo.tip()) == ("in-place", 0, tip)


def test_bad_version_is_aborted_at_its_first_step_by_one_revert(
    repo: CanaryRepo, gates: Gates, make_deps: MakeDeps, make_settings: MakeSettings
) -> None:
    before = {c: repo.show(f"web-{c}.yaml") for c in ("blue", "green")}
    gates.verdicts[(25, NEW)] = "fail"
    result = flow.run(make_settings(NEW), make_deps())

    assert (result.outcome, _code(result)) == ("aborted", 1), result.reason
    assert list(result.commits) == ["step-25", "abort"]
    assert result.detection_seconds is not None and result.abort_seconds is not None
    assert {c: repo.show(f"web-{c}.yaml") for c in ("blue", "green")} == before
    abort = repo.trailers(result.commits["abort"])
    assert ("Gitops-Guard-Action", "canary-abort") in abort
    assert ("Gitops-Guard-Reverts", result.commits["step-25"]) in abort
    assert ("Gitops-Guard-Verdict", "fail") in abort
    body = git(repo.root, "--git-dir", str(repo.remote), "log", "-1", "--format=%B", "main")
    assert "step 25%: fail" in body
    assert repo.synced[-1] == result.commits["abort"]
    # The aborted image is refused on a rerun: nothing is committed.
    tip = repo.tip()
    again = flow.run(make_settings(NEW), make_deps())
    assert (again.outcome, _code(again), repo.tip()) == ("rejected", 1, tip)


def test_a_later_failing_step_reverts_every_step_commit_at_once(
    repo: CanaryRepo, gates: Gates, make_deps: MakeDeps, make_settings: MakeSettings
) -> None:
    gates.verdicts[(50, NEW)] = "inconclusive"
    result = flow.run(make_settings(NEW), make_deps())

    assert (result.outcome, _code(result)) == ("aborted-inconclusive", 3), result.reason
    abort = repo.trailers(result.commits["abort"])
    reverted = [v for k, v in abort if k == "Gitops-Guard-Reverts"]
    assert reverted == [result.commits["step-25"], result.commits["step-50"]]
    assert repo.replicas() == {"blue": 4, "green": 0}
    assert result.detection_seconds is None  # inconclusive is not a detection


def test_a_canary_that_never_gets_ready_is_aborted(
    repo: CanaryRepo, cluster: Cluster, make_deps: MakeDeps, make_settings: MakeSettings
) -> None:
    cluster.bad_images.add(NEW)
    result = flow.run(make_settings(NEW, ready_timeout_seconds=0.5), make_deps())

    assert (result.outcome, _code(result)) == ("aborted", 1), result.reason
    assert "not ready" in result.reason
    assert repo.replicas() == {"blue": 4, "green": 0}


def test_a_rerun_continues_after_the_steps_already_in_git(
    repo: CanaryRepo, gates: Gates, make_deps: MakeDeps, make_settings: MakeSettings
) -> None:
    def unreachable(request: flow.StepGate) -> object:
        raise errors.DependencyUnavailable("Prometheus is down")

    with pytest.raises(errors.DependencyUnavailable):
        flow.run(make_settings(NEW), make_deps(gate=unreachable))
    assert repo.replicas() == {"blue": 3, "green": 1}  # the 25% step stays in Git

    result = flow.run(make_settings(NEW), make_deps())
    assert (result.outcome, result.steps) == ("promoted", [50, 100]), result.reason
    assert [g.step for g in gates.asked] == [50]
    assert repo.replicas() == {"blue": 0, "green": 4}

    # The next version starts from green, the stable colour now, and goes to blue.
    newer = "ghcr.io/gitops-guard/web:1.2.0"
    gates.verdicts[(50, newer)] = "fail"
    aborted = flow.run(make_settings(newer), make_deps())
    assert (aborted.outcome, aborted.stable, aborted.canary) == ("aborted", "green", "blue")
    assert repo.replicas() == {"blue": 0, "green": 4}
    assert NEW in repo.show("web-blue.yaml") or OLD in repo.show("web-blue.yaml")
    assert newer not in repo.show("web-blue.yaml")


def test_steps_the_replicas_cannot_express_are_refused_before_any_commit(
    repo: CanaryRepo, make_deps: MakeDeps, make_settings: MakeSettings
) -> None:
    tip = repo.tip()
    with pytest.raises(errors.InputError) as caught:
        flow.run(make_settings(NEW, steps=(5, 25, 50, 100)), make_deps())
    assert caught.value.source == "--steps"
    assert "cannot express 5%" in caught.value.message
    assert "25, 50, 75, 100" in str(caught.value.hint)
    assert repo.tip() == tip


def test_a_service_that_selects_one_colour_is_refused(
    tmp_path: Path, cluster: Cluster, make_settings: MakeSettings
) -> None:
    fixture = tmp_path / "fixture"
    shutil.copytree(FIXTURE, fixture)
    svc = fixture / "service.yaml"
    text = svc.read_text().replace("name: web\n  ports", "name: web\n    color: blue\n  ports")
    svc.write_text(text)
    root = tmp_path / "other"
    root.mkdir()
    other = seed_repo(root, cluster.store, fixture)
    settings = make_settings(NEW, dir=other.work)
    tip = other.tip()
    with pytest.raises(errors.InputError) as caught:
        flow.run(settings, flow.Deps(wc=gitops.open_checkout(other.work), echo=lambda s: None))
    assert str(caught.value.source) == "deploy/web/service.yaml:12"
    assert "routes to one colour only" in caught.value.message
    assert other.tip() == tip


def test_a_deny_sync_window_stops_before_any_push(
    repo: CanaryRepo, make_deps: MakeDeps, make_settings: MakeSettings
) -> None:
    from datetime import datetime, timezone

    until = datetime(2026, 12, 2, 1, 0, tzinfo=timezone.utc)
    tip = repo.tip()
    result = flow.run(make_settings(NEW), make_deps(window=lambda: ("deny", until)))
    assert (result.outcome, _code(result)) == ("frozen", 1)
    assert "frozen until 2026-12-02T01:00:00Z" in result.reason
    assert repo.tip() == tip and result.commits == {}


def test_waiting_for_a_window_then_requesting_the_sync(
    repo: CanaryRepo, make_deps: MakeDeps, make_settings: MakeSettings
) -> None:
    answers = iter([("deny", None), ("deny", None), ("open", None)])
    asked: list[str] = []
    slept: list[float] = []
    deps = make_deps(
        window=lambda: next(answers, ("open", None)),
        request_sync=asked.append,
        sleep=slept.append,
    )
    settings = make_settings(NEW, steps=(25, 100), wait_for_window=True, window_poll_seconds=5)
    result = flow.run(settings, deps)
    assert result.outcome == "promoted", result.reason
    assert asked == [result.commits["step-25"]]  # only the step pushed after the wait
    assert slept[:2] == [5, 5]
    assert [e.outcome for e in result.timeline if e.step == "window"] == ["done"]


def test_every_step_commit_records_the_exemption_it_went_out_under(
    repo: CanaryRepo, make_deps: MakeDeps, make_settings: MakeSettings
) -> None:
    text = "alice@example.com until 2026-12-03T00:00:00Z: security fix"
    result = flow.run(make_settings(NEW, steps=(25, 100), exemption=text), make_deps())
    assert result.outcome == "promoted", result.reason
    for key in ("step-25", "promote"):
        assert ("Gitops-Guard-Exemption", text) in repo.trailers(result.commits[key])
