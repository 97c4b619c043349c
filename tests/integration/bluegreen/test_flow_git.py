"""Blue-green in Git mode against a real remote and the Kubernetes stand-in.

Covers: a good version prepared, proven, switched and the old colour scaled down,
each step one commit with trailers and byte-exact edits; the preview gate stopping
a bad version before the switch; the post-switch gate switching back by reverting
the switch commit (old colour serving again, time measured) and quarantining the
image (a rerun is exit 2); an inconclusive post-switch gate switching back without
quarantine (a rerun retries); an idle colour that never becomes ready; reruns that
continue where a run stopped (nothing done twice); an unreachable API mid-way (3).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from bgrepo import NAMESPACE, BlueGreenRepo, Cluster, Gates, code, git

from gitops_guard import errors
from gitops_guard.strategies.bluegreen import flow

NEW = "ghcr.io/gitops-guard/web:1.1.0"
OLD = "ghcr.io/gitops-guard/web:1.0.0"

MakeDeps = Callable[..., flow.Deps]
MakeSettings = Callable[..., flow.Settings]


def _endpoint_colours(cluster: Cluster, service: str = "web") -> set[str]:
    colours = set()
    for piece in cluster.store.select(
        "EndpointSlice", NAMESPACE, {"kubernetes.io/service-name": service}
    ):
        for endpoint in piece["endpoints"]:
            pod = cluster.store.get("Pod", NAMESPACE, endpoint["targetRef"]["name"])
            assert pod is not None
            colours.add(pod["metadata"]["labels"]["color"])
    return colours


def test_good_version_is_prepared_switched_and_the_old_colour_scaled_down(
    bg: BlueGreenRepo, cluster: Cluster, make_deps: MakeDeps, make_settings: MakeSettings
) -> None:
    seed = bg.tip()
    before_green = bg.show("web-green.yaml")
    result = flow.run(make_settings(NEW), make_deps())

    assert (result.outcome, code(result)) == ("promoted", 0), result.reason
    assert (result.live_before, result.live_after) == ("blue", "green")
    assert list(result.commits) == ["prepare", "switch", "scale-down"]
    assert bg.log()[:3] == [
        "blue-green: scale down web blue",
        f"blue-green: switch web to green ({NEW})",
        f"blue-green: prepare web green with {NEW}",
    ]
    # Byte exact: the prepare commit changed the image and replicas lines and nothing else.
    after_green = bg.show("web-green.yaml", result.commits["prepare"])
    assert after_green == before_green.replace(OLD, NEW).replace("replicas: 0", "replicas: 2")
    assert "color: green" in bg.show("service.yaml", result.commits["prepare"]).split("---")[1]
    # The switch commit changes only the active Service's colour.
    diff = bg.show("service.yaml", result.commits["switch"])
    assert diff == bg.show("service.yaml", result.commits["prepare"]).replace(
        "    color: blue\n", "    color: green\n", 1
    )
    assert "replicas: 0" in bg.show("web-blue.yaml")
    trailers = bg.trailers(result.commits["switch"])
    assert trailers["Gitops-Guard-Action"] == "blue-green-switch"
    assert trailers["Gitops-Guard-Service"] == "web"
    assert (trailers["Gitops-Guard-Color"], trailers["Gitops-Guard-Previous-Color"]) == (
        "green",
        "blue",
    )
    assert (trailers["Gitops-Guard-Image"], trailers["Gitops-Guard-Previous-Image"]) == (NEW, OLD)
    assert bg.trailers(result.commits["prepare"])["Gitops-Guard-Action"] == "blue-green-prepare"
    assert bg.trailers(result.commits["scale-down"])["Gitops-Guard-Action"] == (
        "blue-green-scale-down"
    )
    assert bg.synced[1:] == [result.commits[k] for k in ("prepare", "switch", "scale-down")]
    assert _endpoint_colours(cluster) == {"green"}
    assert result.switch_seconds is not None and result.switch_seconds < 5
    assert result.verdicts == {"preview": "pass", "post-switch": "pass"}
    assert seed in bg.log("%H")


def test_preview_gate_failure_stops_before_the_switch(
    bg: BlueGreenRepo,
    cluster: Cluster,
    gates: Gates,
    make_deps: MakeDeps,
    make_settings: MakeSettings,
) -> None:
    gates.verdicts[("preview", NEW)] = "fail"
    result = flow.run(make_settings(NEW), make_deps())

    assert (result.outcome, code(result)) == ("rejected", 1)
    assert list(result.commits) == ["prepare"]
    assert "color: blue" in bg.show("service.yaml").split("---")[0]
    assert _endpoint_colours(cluster) == {"blue"}
    asked = [(r.role, r.colour, r.baseline) for r in gates.asked]
    assert asked == [("preview", "green", "blue")]
    assert result.live_after == "blue"


def test_inconclusive_preview_gate_switches_nothing_and_exits_3(
    bg: BlueGreenRepo, gates: Gates, make_deps: MakeDeps, make_settings: MakeSettings
) -> None:
    gates.verdicts[("preview", NEW)] = "inconclusive"
    result = flow.run(make_settings(NEW), make_deps())
    assert (result.outcome, code(result)) == ("undecided", 3)
    assert list(result.commits) == ["prepare"]
    # A rerun continues: the prepare is in place, nothing is committed again.
    gates.verdicts.clear()
    again = flow.run(make_settings(NEW), make_deps())
    assert (again.outcome, code(again)) == ("promoted", 0)
    assert list(again.commits) == ["switch", "scale-down"]


def test_post_switch_failure_switches_back_by_reverting_the_switch(
    bg: BlueGreenRepo,
    cluster: Cluster,
    gates: Gates,
    make_deps: MakeDeps,
    make_settings: MakeSettings,
) -> None:
    gates.verdicts[("post-switch", NEW)] = "fail"
    result = flow.run(make_settings(NEW), make_deps())

    assert (result.outcome, code(result)) == ("switched-back", 1), result.reason
    assert list(result.commits) == ["prepare", "switch", "switch-back"]
    back = bg.trailers(result.commits["switch-back"])
    assert back["Gitops-Guard-Action"] == "blue-green-switch-back"
    assert back["Gitops-Guard-Reverts"] == result.commits["switch"]
    assert back["Gitops-Guard-Image"] == OLD and back["Gitops-Guard-Previous-Image"] == NEW
    assert bg.show("service.yaml") == bg.show("service.yaml", result.commits["prepare"])
    assert _endpoint_colours(cluster) == {"blue"}
    assert "replicas: 2" in bg.show("web-green.yaml")  # still warm, nothing scaled down
    assert result.switch_back_seconds is not None and result.switch_back_seconds < 5
    assert result.live_after == "blue"

    # The failed gate quarantined the image in the switch-back commit, as rollback does.
    assert "image: ghcr.io/gitops-guard/web:1.1.0" in git(
        bg.root, "--git-dir", str(bg.remote), "show", "main:.gitops-guard/quarantine.yaml"
    )
    tip = bg.tip()
    with pytest.raises(errors.InputError) as refused:
        flow.run(make_settings(NEW), make_deps())
    assert refused.value.exit_code == 2 and "quarantined image" in refused.value.message
    assert bg.tip() == tip


def test_the_switch_back_commit_carries_the_gates_evidence(
    bg: BlueGreenRepo, gates: Gates, make_deps: MakeDeps, make_settings: MakeSettings
) -> None:
    # A report shaped as slo-gate writes it (slo.evidence.build_report).
    gates.verdicts[("post-switch", NEW)] = "fail"
    gates.reports[("post-switch", NEW)] = {
        "verdict": "fail",
        "score": 50.0,
        "reason": "error-ratio failed",
        "objectives": [
            {
                "name": "error-ratio",
                "state": "fail",
                "value": 0.07,
                "threshold": 0.01,
                "baseline": 0.002,
                "window": {"range": "5m", "start": "", "end": ""},
                "reason": "0.07 > 0.01",
            },
            {"name": "p99-latency", "state": "pass", "value": 0.2, "threshold": 0.5},
        ],
    }
    result = flow.run(make_settings(NEW), make_deps())

    assert result.outcome == "switched-back", result.reason
    body = git(bg.root, "--git-dir", str(bg.remote), "log", "-1", "--format=%B", "main")
    assert "| objective | state | value | threshold | baseline | window | reason |" in body
    row = next(line for line in body.splitlines() if line.startswith("| error-ratio"))
    assert [c.strip() for c in row.strip("|").split("|")] == [
        "error-ratio",
        "fail",
        "0.07",
        "0.01",
        "0.002",
        "5m",
        "0.07 > 0.01",
    ]
    assert "p99-latency" not in body  # only the failing objectives


def test_without_a_gate_or_the_kubernetes_api_nothing_is_written(
    bg: BlueGreenRepo, make_deps: MakeDeps, make_settings: MakeSettings
) -> None:
    tip = bg.tip()
    with pytest.raises(errors.InputError) as no_gate:
        flow.run(make_settings(NEW), make_deps(gate=None))
    assert (no_gate.value.exit_code, no_gate.value.source) == (2, "--slo-config")
    with pytest.raises(errors.InputError) as no_kube:
        flow.run(make_settings(NEW), make_deps(kube=None))
    assert (no_kube.value.exit_code, no_kube.value.source) == (2, "--kubeconfig")
    assert "--readiness argocd-only" in (no_kube.value.hint or "")
    assert bg.tip() == tip


def test_explicit_opt_outs_are_warned_and_recorded_in_the_switch_commit(
    bg: BlueGreenRepo, make_deps: MakeDeps, make_settings: MakeSettings
) -> None:
    warned: list[str] = []
    result = flow.run(
        make_settings(NEW, skip_gates=True, readiness="argocd-only"),
        make_deps(gate=None, kube=None, warn=warned.append),
    )

    assert result.outcome == "promoted", result.reason
    assert result.unverified == ["gates", "readiness"]
    assert len(warned) == 2 and "--skip-gates" in warned[0] and "argocd-only" in warned[1]
    steps = {e.step: e.outcome for e in result.timeline}
    assert steps["ready"] == steps["preview-gate"] == steps["post-switch-gate"] == "skipped"
    body = git(
        bg.root, "--git-dir", str(bg.remote), "log", "-1", "--format=%B", result.commits["switch"]
    )
    assert "Gitops-Guard-Unverified: gates\nGitops-Guard-Unverified: readiness" in body
    assert "Not verified: the SLO gates were skipped (--skip-gates)." in body


def test_timeout_bounds_the_run_exit_3_and_a_rerun_continues(
    bg: BlueGreenRepo, make_deps: MakeDeps, make_settings: MakeSettings
) -> None:
    def slow_argocd(sha: str) -> flow.WaitOutcome:
        time.sleep(3.2)  # ArgoCD is still syncing when the whole --timeout is spent
        return flow.WaitOutcome("timed-out", "timed-out: OutOfSync")

    started = time.monotonic()
    # 3 s, not less: the prepare commit and push must fit in it on a loaded runner.
    result = flow.run(make_settings(NEW, timeout_seconds=3.0), make_deps(wait=slow_argocd))
    elapsed = time.monotonic() - started

    assert (result.outcome, code(result)) == ("undecided", 3), result.reason
    took = float(re.search(r"timed out after ([0-9.]+) s", result.reason).group(1))  # type: ignore[union-attr]
    # the message gives the elapsed time to a tenth of a second
    assert 3.0 <= took <= elapsed + 0.05 and "--timeout 3 s" in result.reason
    assert "waiting for ArgoCD to run" in result.reason and "(prepare)" in result.reason
    assert "ready" not in [e.step for e in result.timeline]  # nothing after the deadline
    assert list(result.commits) == ["prepare"]  # nothing switched
    assert bg.log()[0] == f"blue-green: prepare web green with {NEW}"

    again = flow.run(make_settings(NEW), make_deps())
    assert again.outcome == "promoted", again.reason
    assert list(again.commits) == ["switch", "scale-down"]  # the prepare is not redone


def test_a_readiness_wait_cut_by_the_timeout_is_undecided_not_rejected(
    bg: BlueGreenRepo, cluster: Cluster, make_deps: MakeDeps, make_settings: MakeSettings
) -> None:
    cluster.bad_images.add(NEW)
    result = flow.run(
        make_settings(NEW, ready_timeout_seconds=30, timeout_seconds=4.0), make_deps()
    )
    assert (result.outcome, code(result)) == ("undecided", 3), result.reason
    assert "waiting for the idle colour green to be ready" in result.reason
    assert result.timeline[-1].step == "timeout"
    assert sum(e.seconds for e in result.timeline) < 10


def test_inconclusive_post_switch_gate_switches_back_and_exits_3(
    bg: BlueGreenRepo,
    cluster: Cluster,
    gates: Gates,
    make_deps: MakeDeps,
    make_settings: MakeSettings,
) -> None:
    gates.verdicts[("post-switch", NEW)] = "inconclusive"
    result = flow.run(make_settings(NEW), make_deps())
    assert (result.outcome, code(result)) == ("switched-back-inconclusive", 3)
    assert _endpoint_colours(cluster) == {"blue"}
    # Nothing quarantined: a rerun retries from the preview, without a new prepare.
    gates.verdicts.clear()
    again = flow.run(make_settings(NEW), make_deps())
    assert (again.outcome, code(again)) == ("promoted", 0), again.reason
    assert list(again.commits) == ["switch", "scale-down"]


def test_an_idle_colour_that_never_gets_ready_is_not_switched_to(
    bg: BlueGreenRepo,
    cluster: Cluster,
    gates: Gates,
    make_deps: MakeDeps,
    make_settings: MakeSettings,
) -> None:
    cluster.bad_images.add(NEW)
    result = flow.run(make_settings(NEW, ready_timeout_seconds=0.5), make_deps())
    assert (result.outcome, code(result)) == ("rejected", 1)
    assert "not ready" in result.reason and "0 of 2 updated replicas" in result.reason
    assert list(result.commits) == ["prepare"]
    assert gates.asked == []
    assert _endpoint_colours(cluster) == {"blue"}


def test_keeping_the_old_colour_and_rerunning_changes_nothing(
    bg: BlueGreenRepo, make_deps: MakeDeps, make_settings: MakeSettings
) -> None:
    first = flow.run(make_settings(NEW, scale_down_delay_seconds=0), make_deps())
    assert (first.outcome, code(first)) == ("promoted", 0)
    assert list(first.commits) == ["prepare", "switch"]
    tip = bg.tip()
    again = flow.run(make_settings(NEW, scale_down_delay_seconds=0), make_deps())
    assert (again.phase, again.outcome, code(again)) == ("switched", "promoted", 0)
    assert again.commits == {} and bg.tip() == tip
    # With the old colour scaled down, the rollout is done: nothing to do at all.
    flow.run(make_settings(NEW), make_deps())
    done = flow.run(make_settings(NEW), make_deps())
    assert (done.phase, done.outcome, code(done)) == ("done", "in-place", 0)


def test_an_api_that_goes_away_mid_way_is_undecided_and_a_rerun_continues(
    bg: BlueGreenRepo, cluster: Cluster, make_deps: MakeDeps, make_settings: MakeSettings
) -> None:
    cluster.server.fail_next = 1000  # every read fails with 503 from now on
    try:
        flow.run(make_settings(NEW), make_deps())
    except Exception as exc:  # the CLI turns this into exit 3
        from gitops_guard import errors

        assert errors.exit_code_for(exc) == 3
        assert "Kubernetes API failed" in str(exc)
    else:
        raise AssertionError("expected the unreachable API to stop the run")
    assert "color: blue" in bg.show("service.yaml").split("---")[0]
    cluster.server.fail_next = 0
    again = flow.run(make_settings(NEW), make_deps())
    assert (again.outcome, code(again)) == ("promoted", 0)
    assert "prepare" not in again.commits  # done by the first run, not repeated


def test_the_preview_test_runs_against_the_preview_and_can_reject(
    bg: BlueGreenRepo, cluster: Cluster, make_deps: MakeDeps, make_settings: MakeSettings
) -> None:
    from gitops_guard.strategies.bluegreen import steps

    failing = steps.preview_test(
        "sh -c 'echo smoke failed on $PREVIEW_COLOR; exit 3'",
        service="web-preview",
        namespace=NAMESPACE,
    )
    result = flow.run(make_settings(NEW), make_deps(preview_test=failing))
    assert (result.outcome, code(result)) == ("rejected", 1)
    assert "preview test failed (exit 3): smoke failed on green" in result.reason
    assert list(result.commits) == ["prepare"] and _endpoint_colours(cluster) == {"blue"}
    passing = steps.preview_test(
        'sh -c \'test "$PREVIEW_SERVICE/$PREVIEW_COLOR/$PREVIEW_NAMESPACE" = '
        "web-preview/green/sre-demo'",
        service="web-preview",
        namespace=NAMESPACE,
    )
    again = flow.run(make_settings(NEW), make_deps(preview_test=passing))
    assert (again.outcome, code(again)) == ("promoted", 0), again.reason
