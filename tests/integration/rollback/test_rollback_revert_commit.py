"""``rollback revert --mode commit`` against a real repository with a bare remote.

- the deploy commit is reverted; a later unrelated commit (another app) is kept
- the rollback commit carries Action/Reverts/Image/Previous-Image trailers and git's
  "This reverts commit" line; outputs rollback-sha and rolled-back-to are set
- a rerun pushes nothing, exits 0 and says "already-reverted"
- a deploy superseded by a newer deploy of the same image is reported, not reverted
- a failing gate report quarantines the bad image in the same commit
- a textual conflict falls back to setting the image from the trailers
- a stale checkout (someone pushed after our fetch) re-applies on the new tip
- concurrent pushers all land, and so does the revert
- a commit that is not on the branch is exit 2 and changes nothing
- an --evidence file that is missing or not JSON is exit 2 naming the file
- --dry-run pushes nothing and leaves the checkout as it was
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from rollbackrepo import GitopsRepo, gate_report, git, outputs

from gitops_guard import quarantine
from gitops_guard.gitops import publish as publish_engine
from gitops_guard.rollback import gitrepo

WEB1, WEB2, WEB3 = (f"ghcr.io/acme/web:1.{n}.0" for n in (0, 1, 2))
API1, API2 = "ghcr.io/acme/api:1.0.0", "ghcr.io/acme/api:2.0.0"


def test_revert_keeps_later_unrelated_commits_and_rerun_is_noop(
    gitops: GitopsRepo, run_cli, runner_env: dict[str, Path]
) -> None:
    deploy = gitops.deploy("web", WEB1, WEB2)
    gitops.deploy("api", API1, API2)
    gitops.commit_file("README.md", "docs\n", "docs: unrelated")
    code, out = run_cli("revert", "--dir", gitops.work, "--commit", deploy)
    assert code == 0, out
    assert gitops.image_of("web") == WEB1
    assert gitops.image_of("api") == API2
    assert gitops.remote_file("README.md") == "docs\n"
    body = git(gitops.remote, "log", "-1", "--format=%B", "main")
    assert f"Gitops-Guard-Reverts: {deploy}" in body
    assert f"Gitops-Guard-Image: {WEB1}" in body
    assert f"Gitops-Guard-Previous-Image: {WEB2}" in body
    assert "Gitops-Guard-Action: rollback" in body
    assert f"This reverts commit {deploy}." in body
    out1 = outputs(runner_env["output"])
    assert out1["rollback-sha"] == gitops.remote_head()
    assert out1["rolled-back-to"] == WEB1
    assert out1["skipped-reason"] == ""
    assert "Rolled back" in runner_env["summary"].read_text()

    head = gitops.remote_head()
    runner_env["output"].write_text("")
    code, out = run_cli("revert", "--dir", gitops.work, "--commit", deploy)
    assert code == 0, out
    assert gitops.remote_head() == head
    assert outputs(runner_env["output"])["skipped-reason"].startswith("already-reverted")
    assert "already reverted" in out


def test_superseded_deploy_is_reported_not_reverted(gitops: GitopsRepo, run_cli) -> None:
    first = gitops.deploy("web", WEB1, WEB2)
    gitops.deploy("web", WEB2, WEB3)
    head = gitops.remote_head()
    code, out = run_cli("revert", "--dir", gitops.work, "--commit", first)
    assert code == 0
    assert "superseded" in out
    assert gitops.remote_head() == head
    assert gitops.image_of("web") == WEB3


def test_failed_gate_quarantines_in_the_same_commit(gitops: GitopsRepo, run_cli) -> None:
    deploy = gitops.deploy("web", WEB1, WEB2)
    report = gate_report(gitops.root / "gate.json")
    code, out = run_cli(
        "revert",
        "--dir",
        gitops.work,
        "--commit",
        deploy,
        "--evidence",
        report,
        "--report",
        gitops.root / "result.json",
    )
    assert code == 0, out
    changed = git(gitops.remote, "show", "--name-only", "--format=", "main").split()
    assert sorted(changed) == [".gitops-guard/quarantine.yaml", "apps/web/deployment.yaml"]
    text = gitops.remote_file(".gitops-guard/quarantine.yaml")
    assert WEB2 in text and "error-ratio" in text
    assert "Reason: slo-gate fail: error-ratio (0.07 vs 0.01)" in git(
        gitops.remote, "log", "-1", "--format=%B", "main"
    )
    gitops.sync_work()
    assert [e.image for e in quarantine.refused(gitops.work, [WEB2, WEB1])] == [WEB2]
    import json

    result = json.loads((gitops.root / "result.json").read_text())
    assert result["quarantined"] == [WEB2]
    assert result["method"] == "revert"


def test_conflicting_revert_falls_back_to_trailers(gitops: GitopsRepo, run_cli) -> None:
    deploy = gitops.deploy("web", WEB1, WEB2)
    where = gitops.clone("ci")
    path = where / "apps/web/deployment.yaml"
    # Touch the lines around the image: a textual revert of the deploy now conflicts.
    text = path.read_text().replace("        - name: app\n", "        - name: app-main\n")
    text = text.replace(
        "          ports:\n", "          imagePullPolicy: Always\n          ports:\n"
    )
    gitops.commit_file("apps/web/deployment.yaml", text, "web: rename container")
    code, out = run_cli(
        "revert", "--dir", gitops.work, "--commit", deploy, "--report", gitops.root / "r.json"
    )
    assert code == 0, out
    assert gitops.image_of("web") == WEB1
    final = gitops.remote_file("apps/web/deployment.yaml")
    assert "name: app-main" in final and "imagePullPolicy: Always" in final
    assert "# managed by gitops-guard" in final
    import json

    assert json.loads((gitops.root / "r.json").read_text())["method"] == "images"


def test_stale_checkout_reapplies_on_new_tip(
    gitops: GitopsRepo, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy = gitops.deploy("web", WEB1, WEB2)
    gitops.sync_work()
    gitops.commit_file("notes.txt", "x\n", "someone else pushed first", clone="other")
    # Our checkout does not fetch before working: the first push must be rejected.
    monkeypatch.setattr(gitrepo, "sync_to_remote", lambda wc, branch: wc.head())
    monkeypatch.setattr(publish_engine, "remote_tip", lambda wc, branch: wc.head())
    code, out = run_cli("revert", "--dir", gitops.work, "--commit", deploy)
    assert code == 0, out
    subjects = gitops.remote_log()
    assert subjects[0].startswith("rollback(web)")
    assert "someone else pushed first" in subjects
    assert "pushed after 2 attempts" in out
    assert gitops.image_of("web") == WEB1


def test_concurrent_pushers_all_land(gitops: GitopsRepo, run_cli) -> None:
    deploy = gitops.deploy("web", WEB1, WEB2)
    for n in range(3):
        gitops.clone(f"pusher{n}")

    def pusher(n: int) -> None:
        where = gitops.root / f"pusher{n}"
        for i in range(2):
            (where / f"p{n}-{i}.txt").write_text(f"{n}{i}\n")
            git(where, "add", ".")
            git(where, "commit", "-q", "-m", f"pusher {n} commit {i}")
            for _ in range(30):
                try:
                    git(where, "push", "-q", "origin", "HEAD:main")
                    break
                except AssertionError:
                    git(where, "pull", "-q", "--rebase")

    threads = [threading.Thread(target=pusher, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    code, out = run_cli("revert", "--dir", gitops.work, "--commit", deploy)
    for t in threads:
        t.join()
    assert code == 0, out
    subjects = gitops.remote_log()
    assert sum(s.startswith("pusher") for s in subjects) == 6
    assert sum(s.startswith("rollback(web)") for s in subjects) == 1
    assert gitops.image_of("web") == WEB1


def test_unknown_or_foreign_commit_is_input_error(gitops: GitopsRepo, run_cli) -> None:
    head = gitops.remote_head()
    code, out = run_cli("revert", "--dir", gitops.work, "--commit", "0" * 40)
    assert code == 2
    assert "--commit" in out
    side = gitops.clone("side")
    git(side, "checkout", "-q", "-b", "side")
    (side / "x").write_text("x")
    git(side, "add", "x")
    git(side, "commit", "-q", "-m", "side")
    git(side, "push", "-q", "origin", "side")
    sha = git(side, "rev-parse", "HEAD").strip()
    git(gitops.work, "fetch", "-q", "origin", "side")
    code, out = run_cli("revert", "--dir", gitops.work, "--commit", sha)
    assert code == 2
    assert "not in the history of main" in out
    assert gitops.remote_head() == head


def test_unreadable_evidence_is_input_error(gitops: GitopsRepo, run_cli, tmp_path: Path) -> None:
    deploy = gitops.deploy("web", WEB1, WEB2)
    head = gitops.remote_head()
    missing = tmp_path / "missing.json"
    code, out = run_cli("revert", "--dir", gitops.work, "--commit", deploy, "--evidence", missing)
    assert code == 2
    assert "cannot read the gate report" in out
    assert str(missing) in out
    garbled = tmp_path / "garbled.json"
    garbled.write_text("{not json")
    code, out = run_cli("revert", "--dir", gitops.work, "--commit", deploy, "--evidence", garbled)
    assert code == 2
    assert "the gate report is not JSON" in out
    assert gitops.remote_head() == head


def test_dry_run_pushes_nothing(gitops: GitopsRepo, run_cli) -> None:
    deploy = gitops.deploy("web", WEB1, WEB2)
    head = gitops.remote_head()
    code, out = run_cli("revert", "--dir", gitops.work, "--commit", deploy, "--dry-run")
    assert code == 0, out
    assert "dry run" in out.lower()
    assert f"{WEB2} -> {WEB1}" in out
    assert gitops.remote_head() == head
    assert git(gitops.work, "status", "--porcelain") == ""
    assert git(gitops.work, "rev-parse", "HEAD").strip() == head


def test_uncommitted_edits_in_the_checkout_are_not_swept_in(gitops: GitopsRepo, run_cli) -> None:
    deploy = gitops.deploy("web", WEB1, WEB2)
    gitops.sync_work()
    scratch = gitops.work / "apps/api/deployment.yaml"
    scratch.write_text(scratch.read_text() + "# local experiment\n")
    code, out = run_cli("revert", "--dir", gitops.work, "--commit", deploy)
    assert code == 0, out
    changed = git(gitops.remote, "show", "--name-only", "--format=", "main").split()
    assert changed == ["apps/web/deployment.yaml"]
    assert "# local experiment" in scratch.read_text()
    assert git(gitops.work, "rev-parse", "HEAD").strip() == gitops.remote_head()


def test_webhook_notification(
    gitops: GitopsRepo, run_cli, runner_env: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/secretpart"
    monkeypatch.setenv("SLACK_WEBHOOK_URL", url)
    try:
        deploy = gitops.deploy("web", WEB1, WEB2)
        code, out = run_cli(
            "revert", "--dir", gitops.work, "--commit", deploy, "--reason", "p99 doubled"
        )
    finally:
        server.shutdown()
        server.server_close()
    assert code == 0, out
    (message,) = received
    assert f"{WEB2} -> {WEB1}" in message["text"]
    assert "Why: p99 doubled" in message["text"]
    assert "rolled back web" in message["text"]
    shown = "\n".join(line for line in out.splitlines() if not line.startswith("::add-mask::"))
    assert url not in shown + runner_env["output"].read_text() + runner_env["summary"].read_text()


def test_merge_of_a_deploy_pull_request_is_reverted(gitops: GitopsRepo, run_cli) -> None:
    where = gitops.clone("ci")
    git(where, "checkout", "-q", "-b", "deploy-web")
    path = where / "apps/web/deployment.yaml"
    path.write_text(path.read_text().replace(WEB1, WEB2))
    git(
        where,
        "commit",
        "-q",
        "-a",
        "-F",
        "-",
        input_text=(
            f"deploy web\n\nGitops-Guard-Action: update-manifest\n"
            f"Gitops-Guard-Image: {WEB2}\nGitops-Guard-Previous-Image: {WEB1}\n"
        ),
    )
    git(where, "checkout", "-q", "main")
    gitops.commit_file("README.md", "x\n", "docs while the PR was open")
    git(
        where,
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "Merge pull request #3 from acme/deploy-web",
        "deploy-web",
    )
    git(where, "push", "-q", "origin", "HEAD:main")
    merge = gitops.remote_head()
    code, out = run_cli("revert", "--dir", gitops.work, "--commit", merge)
    assert code == 0, out
    assert gitops.image_of("web") == WEB1
    assert gitops.remote_file("README.md") == "x\n"
    body = git(gitops.remote, "log", "-1", "--format=%B", "main")
    assert f"Gitops-Guard-Image: {WEB1}" in body
    assert f"Gitops-Guard-Previous-Image: {WEB2}" in body
