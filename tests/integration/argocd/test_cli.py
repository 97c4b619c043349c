"""`gitops-guard argocd-wait` as a process against the fake ArgoCD server replaying real states.

Behaviours covered:
- the race: Synced/Healthy at the OLD commit first, then our sync: returns only after
  the final state appeared, with a timeline that starts at the old commit (stream and poll);
- a failed sync exits 1 fast; Degraded past the grace period exits 1; a timeout exits 1
  with the last observed state in the report;
- 5xx then recovery succeeds; an unreachable server exits 3;
- a rejected token exits 2 naming ARGOCD_TOKEN; an unknown app exits 2 naming --app; the
  token never appears in stdout, stderr, the report, outputs or the summary;
- --sync syncs our revision when auto-sync is off (and the fake's syncer hook sees it);
- the stream refused (404) or silent falls back to polling;
- --repo accepts a later commit that contains ours; without it the wait times out;
- --from-action-inputs reads the kebab-case inputs and writes outputs and a summary;
- ?refresh=normal is asked on the first read.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from argocd_cli import LATER, OLD, OURS, TOKEN, deployed, on_first_read, rollout, run_cli

from gitops_guard_lab import argocd_api

POLL = ["--poll-interval", "0.2"]


@pytest.mark.parametrize("mode", ["stream", "poll"])
def test_race_at_old_commit_then_sync(
    argocd: argocd_api.FakeArgoServer, store: argocd_api.ApplicationStore, tmp_path: Path, mode: str
) -> None:
    replay = on_first_read(store, argocd_api.Replay(store, "web", rollout(OURS)))
    extra = [*POLL, "--no-stream"] if mode == "poll" else POLL
    run = run_cli(argocd.url, report=tmp_path / "r.json", extra=extra)
    assert run.code == 0, run.text
    assert replay.finished.is_set()
    assert run.ended > replay.applied_at[-1]
    # Well before the 600 s timeout; the ~2 s figure is the benchmark's to measure.
    assert run.ended - replay.applied_at[-1] < 15.0
    report = run.report
    assert report is not None
    assert report["result"] == "done"
    assert report["synced_revision"] == OURS
    assert report["mode"] == mode
    first = report["timeline"][0]
    assert first["revision"] == OLD
    assert (first["sync"], first["health"], first["operation_phase"]) == (
        "Synced",
        "Healthy",
        "Succeeded",
    )
    assert "not " + OURS[:12] in first["note"]
    assert report["timeline"][-1]["health"] == "Healthy"
    first_get = next(r for r in argocd.requests if r.method == "GET")
    assert first_get.query.get("refresh") == "normal"


def test_failed_sync_exits_1_fast(
    argocd: argocd_api.FakeArgoServer, store: argocd_api.ApplicationStore, tmp_path: Path
) -> None:
    steps = [
        *rollout(OURS)[:2],
        argocd_api.ReplayStep(
            0.3,
            {
                "phase": "Failed",
                "op_message": "one or more objects failed to apply: Deployment.apps is invalid",
                "sync_status": "OutOfSync",
                "health": "Degraded",
            },
        ),
    ]
    on_first_read(store, argocd_api.Replay(store, "web", steps))
    run = run_cli(argocd.url, report=tmp_path / "r.json", extra=[*POLL, "--timeout", "120"])
    assert run.code == 1, run.text
    assert run.report is not None and run.report["result"] == "sync-failed"
    assert "Deployment.apps is invalid" in run.stderr
    assert run.report["elapsed_seconds"] < 30  # fast: not waiting for the timeout


def test_degraded_past_grace_exits_1(
    argocd: argocd_api.FakeArgoServer, store: argocd_api.ApplicationStore, tmp_path: Path
) -> None:
    steps = [
        *rollout(OURS)[:3],
        argocd_api.ReplayStep(
            0.2, {"health": "Degraded", "health_message": "Back-off restarting failed container"}
        ),
    ]
    on_first_read(store, argocd_api.Replay(store, "web", steps))
    run = run_cli(
        argocd.url,
        report=tmp_path / "r.json",
        extra=[*POLL, "--degraded-grace", "1", "--timeout", "30"],
    )
    assert run.code == 1, run.text
    assert run.report is not None and run.report["result"] == "degraded"
    assert "Back-off restarting failed container" in run.report["reason"]


def test_timeout_exits_1_with_the_last_state(
    argocd: argocd_api.FakeArgoServer, tmp_path: Path
) -> None:
    run = run_cli(argocd.url, report=tmp_path / "r.json", extra=[*POLL, "--timeout", "1.5"])
    assert run.code == 1, run.text
    report = run.report
    assert report is not None
    assert report["result"] == "timed-out"
    assert report["health"] == "Healthy"
    assert report["synced_revision"] is None
    assert f"reports {OLD[:12]}" in report["reason"]
    assert "WaitTimedOut" in run.stderr or "timed out" in run.stderr


def test_5xx_then_recovery(
    argocd: argocd_api.FakeArgoServer, store: argocd_api.ApplicationStore
) -> None:
    store.set_state("web", **deployed(OURS))
    argocd.fail_next(2, status=503)
    run = run_cli(argocd.url, extra=[*POLL, "--no-stream"])
    assert run.code == 0, run.text
    statuses = [r for r in argocd.requests if r.method == "GET"]
    assert len(statuses) >= 3


def test_unreachable_exits_3(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    run = run_cli(f"http://127.0.0.1:{port}", report=tmp_path / "r.json", extra=["--attempts", "2"])
    assert run.code == 3, run.text
    assert "unreachable after 2 attempts" in run.stderr
    assert run.report is not None and run.report["result"] == "unreachable"


def test_rejected_token_is_clear_and_never_printed(
    argocd: argocd_api.FakeArgoServer, tmp_path: Path, runner_env: dict[str, Path]
) -> None:
    wrong = "wrong-token-9a8b7c6d"
    run = run_cli(argocd.url, token=wrong, report=tmp_path / "r.json")
    assert run.code == 2, run.text
    assert "ARGOCD_TOKEN" in run.text
    assert "argocd account generate-token" in run.text
    assert f"::add-mask::{wrong}" in run.stdout  # the runner hides it; we never print it else
    written = [run.text.replace(f"::add-mask::{wrong}", ""), (tmp_path / "r.json").read_text()]
    written += [runner_env["output"].read_text(), runner_env["summary"].read_text()]
    for text in written:
        assert wrong not in text
        assert TOKEN not in text


def test_token_never_printed_on_success(
    argocd: argocd_api.FakeArgoServer,
    store: argocd_api.ApplicationStore,
    tmp_path: Path,
    runner_env: dict[str, Path],
) -> None:
    store.set_state("web", **deployed(OURS))
    run = run_cli(argocd.url, report=tmp_path / "r.json", extra=["--verbose"])
    assert run.code == 0, run.text
    everything = run.text.replace(f"::add-mask::{TOKEN}", "")
    everything += (tmp_path / "r.json").read_text()
    everything += runner_env["output"].read_text() + runner_env["summary"].read_text()
    assert TOKEN not in everything
    assert all(r.authorized for r in argocd.requests)


def test_unknown_app_names_the_flag(argocd: argocd_api.FakeArgoServer) -> None:
    run = run_cli(argocd.url, app="nope")
    assert run.code == 2, run.text
    assert "--app" in run.stderr
    assert "'nope'" in run.stderr


def test_sync_when_auto_sync_is_off(
    argocd: argocd_api.FakeArgoServer, store: argocd_api.ApplicationStore, tmp_path: Path
) -> None:
    store.put(argocd_api.make_application("web", auto_sync=False, **deployed(OLD)))
    asked: list[dict[str, object]] = []
    replay = argocd_api.Replay(store, "web", rollout(OURS, step=0.2))

    def syncer(name: str, namespace: str, body: object) -> None:
        asked.append(dict(body))  # type: ignore[call-overload]
        replay.start()

    store.on_sync.append(syncer)
    run = run_cli(argocd.url, report=tmp_path / "r.json", extra=[*POLL, "--sync"])
    assert run.code == 0, run.text
    assert [a["revision"] for a in asked] == [OURS]
    assert run.report is not None and run.report["sync_requested"] is True


def test_without_sync_a_manual_app_times_out_with_a_hint(
    argocd: argocd_api.FakeArgoServer, store: argocd_api.ApplicationStore
) -> None:
    store.put(argocd_api.make_application("web", auto_sync=False, **deployed(OLD)))
    run = run_cli(argocd.url, extra=[*POLL, "--timeout", "1"])
    assert run.code == 1
    assert "pass --sync" in run.text
    assert not [r for r in argocd.requests if r.method == "POST"]


@pytest.mark.parametrize("stream", ["off", "silent"])
def test_stream_unavailable_falls_back_to_polling(
    store: argocd_api.ApplicationStore, tmp_path: Path, stream: argocd_api.StreamMode
) -> None:
    with argocd_api.FakeArgoServer(store, token=TOKEN, stream=stream) as server:
        on_first_read(store, argocd_api.Replay(store, "web", rollout(OURS)))
        run = run_cli(server.url, report=tmp_path / "r.json", extra=POLL)
    assert run.code == 0, run.text
    assert run.report is not None and run.report["mode"] == "poll"


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_repo_accepts_a_later_commit_that_contains_ours(
    argocd: argocd_api.FakeArgoServer, store: argocd_api.ApplicationStore, tmp_path: Path
) -> None:
    repo = tmp_path / "gitops"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "a.yaml").write_text("image: web:1\n")
    _git(repo, "add", "a.yaml")
    _git(repo, "commit", "-q", "-m", "deploy web:1")
    ours = _git(repo, "rev-parse", "HEAD")
    (repo / "b.yaml").write_text("image: other:2\n")
    _git(repo, "add", "b.yaml")
    _git(repo, "commit", "-q", "-m", "someone else's deploy")
    later = _git(repo, "rev-parse", "HEAD")
    store.set_state("web", **deployed(later))

    without = run_cli(argocd.url, revision=ours, extra=[*POLL, "--timeout", "1"])
    assert without.code == 1
    run = run_cli(
        argocd.url, revision=ours, report=tmp_path / "r.json", extra=["--repo", str(repo)]
    )
    assert run.code == 0, run.text
    assert run.report is not None and run.report["synced_revision"] == later
    short = run_cli(argocd.url, revision=ours[:10], extra=["--repo", str(repo)])
    assert short.code == 0, short.text
    unrelated = run_cli(argocd.url, revision=LATER[:10])
    assert unrelated.code == 2
    assert "--revision" in unrelated.stderr


def test_from_action_inputs_writes_outputs_and_summary(
    argocd: argocd_api.FakeArgoServer,
    store: argocd_api.ApplicationStore,
    tmp_path: Path,
    runner_env: dict[str, Path],
) -> None:
    on_first_read(store, argocd_api.Replay(store, "web", rollout(OURS, step=0.2)))
    env = dict(os.environ)
    env.update(
        {
            "ARGOCD_TOKEN": TOKEN,
            "INPUT_ARGOCD-SERVER": argocd.url,
            "INPUT_ARGOCD-APP": "web",
            "INPUT_REVISION": OURS,
            "INPUT_TIMEOUT": "1m",
            "INPUT_ARGOCD-SYNC": "false",
            "INPUT_ARGOCD-INSECURE": "false",
            "INPUT_ARGOCD-NO-STREAM": "false",
            "INPUT_ARGOCD-POLL-INTERVAL": "0.2",
            "INPUT_ARGOCD-REPORT": str(tmp_path / "r.json"),
        }
    )
    done = subprocess.run(
        [sys.executable, "-m", "gitops_guard", "argocd-wait", "--from-action-inputs"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    outputs = runner_env["output"].read_text()
    assert "result=done\n" in outputs
    assert f"synced-revision={OURS}\n" in outputs
    assert "health=Healthy\n" in outputs
    # the instant it saw ours Synced and Healthy: the report's last timeline entry
    timeline = json.loads((tmp_path / "r.json").read_text())["timeline"]
    assert f"synced-at={timeline[-1]['at']}\n" in outputs
    assert re.search(r"^duration-seconds=\d+\.\d$", outputs, re.MULTILINE), outputs
    summary = runner_env["summary"].read_text()
    assert "ArgoCD runs the revision" in summary
    assert "| after | time | revision |" in summary
    assert (tmp_path / "r.json").exists()
