"""`gitops-guard update-manifest` as a pipeline calls it, on real git repositories.

Behaviours covered:
- --push: exit 0; outputs changed/commit-sha/changed-files/previous-images/
  pull-request-url in $GITHUB_OUTPUT; a job summary table (image, file:line, old -> new);
  the report holds the same values plus the change table; trailers readable by git;
- a rerun is a no-op: exit 0, changed=false, no commit, the remote unchanged;
- bad input (unknown image, bad reference, quarantined image) is exit 2 and changes
  nothing: working tree, HEAD and remote are as before; the report names the error;
- --force promotes a quarantined image with a warning;
- --dry-run prints the diff and writes nothing; no --commit only writes files;
  --commit without --push commits locally only;
- uncommitted edits in a target file are refused (exit 2) rather than committed;
- a push refused by the remote (protected branch) is exit 2 and the checkout is put back;
- an unreachable remote is exit 3;
- --from-action-inputs reads INPUT_* variables; booleans are strict (exit 2);
- --repo-url clones with GITOPS_TOKEN, which never reaches .git/config, stdout,
  stderr, the report or the summary.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from gitrepo import Remote, SmartHttpGit, git, tree_state

TOKEN = "ghp_updateManifestSECRET0042"


def _outputs(path: Path) -> dict[str, str]:
    """Parse $GITHUB_OUTPUT (name=value and heredoc entries)."""
    lines = path.read_text().splitlines()
    out: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and "=" not in line.split("<<")[0]:
            name, delim = line.split("<<", 1)
            j = lines.index(delim, i + 1)
            out[name] = "\n".join(lines[i + 1 : j])
            i = j + 1
            continue
        name, _, value = line.partition("=")
        out[name] = value
        i += 1
    return out


def test_push_outputs_summary_report(
    checkout: Path, remote: Remote, run_cli, runner_env, tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    result = run_cli(
        "--dir", str(checkout), "--image", "nginx:1.25.1", "--push", "--report", str(report)
    )
    assert result.code == 0, result.err
    outputs = _outputs(runner_env["output"])
    sha = remote.tip()
    assert outputs["changed"] == "true"
    assert outputs["commit-sha"] == sha
    assert json.loads(outputs["changed-files"]) == ["apps/web/deployment.yaml"]
    assert json.loads(outputs["previous-images"]) == [
        {"image": "nginx:1.25.1", "previous": "nginx:1.25.0"}
    ]
    assert outputs["pull-request-url"] == ""
    summary = runner_env["summary"].read_text()
    assert "| image | file:line | target | old -> new |" in summary
    assert "| nginx | apps/web/deployment.yaml:20 |" in summary
    assert "`nginx:1.25.0` -> `nginx:1.25.1`" in summary
    data = json.loads(report.read_text())
    assert data["commit_sha"] == sha and data["changed"] is True
    assert data["previous_images"] == json.loads(outputs["previous-images"])
    assert data["changes"][0]["line"] == 20
    assert data["changes"][0]["target"] == "Deployment/web container app"
    subject = git(remote.bare, "log", "-1", "--format=%s", "main").strip()
    assert subject == "deploy: nginx 1.25.0 -> 1.25.1"
    trailers = git(
        remote.bare,
        "log",
        "-1",
        "--format=%(trailers:key=Gitops-Guard-Action,valueonly)"
        "%(trailers:key=Gitops-Guard-Image,valueonly)"
        "%(trailers:key=Gitops-Guard-Previous-Image,valueonly)",
        "main",
    ).split()
    assert trailers == ["update-manifest", "nginx:1.25.1", "nginx:1.25.0"]


def test_rerun_is_a_noop(checkout: Path, remote: Remote, run_cli, runner_env) -> None:
    assert run_cli("--dir", str(checkout), "--image", "nginx:1.25.1", "--push").code == 0
    tip = remote.tip()
    runner_env["output"].write_text("")
    again = run_cli("--dir", str(checkout), "--image", "nginx:1.25.1", "--push")
    assert again.code == 0
    assert "already in place" in again.out
    assert remote.tip() == tip
    outputs = _outputs(runner_env["output"])
    assert outputs["changed"] == "false" and outputs["commit-sha"] == ""


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ("redis:7.2", "matches no image"),
        ("ghcr.io/acme/web:Not Valid", "--image"),
        ("nginx@sha256:abc", "--image"),
    ],
)
def test_bad_input_changes_nothing(
    checkout: Path, remote: Remote, run_cli, tmp_path: Path, image: str, message: str
) -> None:
    before, tip = tree_state(checkout), remote.tip()
    report = tmp_path / "report.json"
    result = run_cli("--dir", str(checkout), "--image", image, "--push", "--report", str(report))
    assert result.code == 2
    assert message in result.err
    assert tree_state(checkout) == before
    assert remote.tip() == tip
    data = json.loads(report.read_text())
    assert data["changed"] is False and data["error"]["exit_code"] == 2


def _quarantine(checkout: Path, image: str) -> None:
    path = checkout / ".gitops-guard" / "quarantine.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        f"version: 1\nimages:\n  - image: {image}\n    reason: 'slo-gate failed: error-ratio'\n"
    )
    git(checkout, "add", ".gitops-guard")
    git(checkout, "commit", "-qm", "quarantine")
    git(checkout, "push", "-q", "origin", "HEAD:main")


def test_quarantined_image_is_refused(checkout: Path, remote: Remote, run_cli) -> None:
    _quarantine(checkout, "nginx:1.25.1")
    before, tip = tree_state(checkout), remote.tip()
    result = run_cli("--dir", str(checkout), "--image", "docker.io/library/nginx:1.25.1", "--push")
    assert result.code == 2
    assert "quarantined image: nginx:1.25.1 (slo-gate failed: error-ratio)" in result.err
    assert "--force" in result.err
    assert (tree_state(checkout), remote.tip()) == (before, tip)


def test_force_promotes_quarantined_image(checkout: Path, remote: Remote, run_cli) -> None:
    _quarantine(checkout, "nginx:1.25.1")
    result = run_cli("--dir", str(checkout), "--image", "nginx:1.25.1", "--push", "--force")
    assert result.code == 0
    assert "Quarantine overridden" in result.err
    assert "nginx:1.25.1" in remote.show("apps/web/deployment.yaml")


def test_dry_run_writes_nothing(checkout: Path, remote: Remote, run_cli, runner_env) -> None:
    before, tip = tree_state(checkout), remote.tip()
    result = run_cli("--dir", str(checkout), "--image", "nginx:1.25.1", "--push", "--dry-run")
    assert result.code == 0
    assert "-          image: nginx:1.25.0  # pinned by gitops-guard" in result.out
    assert "+          image: nginx:1.25.1  # pinned by gitops-guard" in result.out
    assert (tree_state(checkout), remote.tip()) == (before, tip)
    assert _outputs(runner_env["output"])["commit-sha"] == ""


def test_without_commit_only_files_change(checkout: Path, remote: Remote, run_cli) -> None:
    head, tip = git(checkout, "rev-parse", "HEAD"), remote.tip()
    assert run_cli("--dir", str(checkout), "--image", "nginx:1.25.1").code == 0
    assert git(checkout, "rev-parse", "HEAD") == head and remote.tip() == tip
    assert git(checkout, "status", "--porcelain").strip() == "M apps/web/deployment.yaml"


def test_commit_without_push(checkout: Path, remote: Remote, run_cli) -> None:
    tip = remote.tip()
    result = run_cli("--dir", str(checkout), "--image", "nginx:1.25.1", "--commit")
    assert result.code == 0 and "not pushed" in result.out
    assert remote.tip() == tip
    assert git(checkout, "log", "-1", "--format=%s").strip() == "deploy: nginx 1.25.0 -> 1.25.1"
    assert git(checkout, "status", "--porcelain") == ""


def test_uncommitted_edit_in_target_is_refused(checkout: Path, remote: Remote, run_cli) -> None:
    target = checkout / "apps/web/deployment.yaml"
    target.write_text(target.read_text() + "# local note\n")
    before, tip = tree_state(checkout), remote.tip()
    result = run_cli("--dir", str(checkout), "--image", "nginx:1.25.1", "--push")
    assert result.code == 2
    assert "uncommitted changes in apps/web/deployment.yaml" in result.err
    assert (tree_state(checkout), remote.tip()) == (before, tip)
    assert target.read_text().endswith("# local note\n")


def test_protected_branch_puts_checkout_back(checkout: Path, remote: Remote, run_cli) -> None:
    hook = remote.bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'protected branch hook declined' >&2\nexit 1\n")
    os.chmod(hook, 0o700)
    before, tip = tree_state(checkout), remote.tip()
    result = run_cli("--dir", str(checkout), "--image", "nginx:1.25.1", "--push")
    assert result.code == 2
    assert "--pull-request" in result.err
    assert (tree_state(checkout), remote.tip()) == (before, tip)


def test_unreachable_remote_is_exit_3(checkout: Path, run_cli) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    git(checkout, "remote", "set-url", "origin", f"http://127.0.0.1:{port}/gitops.git")
    before = tree_state(checkout)
    result = run_cli(
        "--dir", str(checkout), "--image", "nginx:1.25.1", "--push", "--max-retries", "0"
    )
    assert result.code == 3
    assert "could not reach" in result.err
    assert tree_state(checkout) == before


def test_from_action_inputs(
    checkout: Path, remote: Remote, run_cli, runner_env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INPUT_DIR", str(checkout))
    monkeypatch.setenv("INPUT_IMAGE", "ghcr.io/acme/app1:1.1.0\nghcr.io/acme/app2:1.2.0\n")
    monkeypatch.setenv("INPUT_PUSH", "true")
    monkeypatch.setenv("INPUT_DRY-RUN", "false")
    monkeypatch.setenv("INPUT_MAX-RETRIES", "3")
    result = run_cli("--from-action-inputs")
    assert result.code == 0, result.err
    assert git(remote.bare, "log", "-1", "--format=%s", "main").strip() == (
        "deploy: app1 1.1.0, app2 1.2.0"
    )
    outputs = _outputs(runner_env["output"])
    assert json.loads(outputs["changed-files"]) == [
        "apps/app1/deployment.yaml",
        "apps/app2/deployment.yaml",
    ]


def test_action_boolean_inputs_are_strict(
    checkout: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INPUT_DIR", str(checkout))
    monkeypatch.setenv("INPUT_IMAGE", "nginx:1.25.1")
    monkeypatch.setenv("INPUT_PUSH", "yes please")
    before = tree_state(checkout)
    assert run_cli("--from-action-inputs").code == 2
    assert tree_state(checkout) == before


def test_token_never_leaks(
    remote: Remote, run_cli, runner_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clone and push over smart HTTP with GITOPS_TOKEN; the token shows up nowhere."""
    server = SmartHttpGit(remote.bare.parent, TOKEN)
    try:
        monkeypatch.setenv("GITOPS_TOKEN", TOKEN)
        work = tmp_path / "cloned"
        report = tmp_path / "report.json"
        result = run_cli(
            "--repo-url",
            f"{server.base}/{remote.bare.name}",
            "--dir",
            str(work),
            "--image",
            "nginx:1.25.1",
            "--push",
            "--report",
            str(report),
            "--verbose",
        )
    finally:
        server.close()
    assert result.code == 0, result.err
    assert "nginx:1.25.1" in remote.show("apps/web/deployment.yaml")
    assert server.seen and all(len(auth) == 1 for auth in server.seen)
    # The runner's mask command is the one line that must carry the raw value.
    assert f"::add-mask::{TOKEN}" in result.out.splitlines()
    stdout = "\n".join(x for x in result.out.splitlines() if not x.startswith("::add-mask::"))
    for text in (
        stdout,
        result.err,
        report.read_text(),
        runner_env["summary"].read_text(),
        runner_env["output"].read_text(),
        (work / ".git" / "config").read_text(),
        git(work, "config", "--list", "--show-origin"),
    ):
        assert TOKEN not in text


def test_token_rejected_names_variable_without_leaking(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Deny(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Deny)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        monkeypatch.setenv("GITOPS_TOKEN", TOKEN)
        url = f"http://127.0.0.1:{server.server_address[1]}/acme/gitops.git"
        result = run_cli("--repo-url", url, "--dir", str(tmp_path / "w"), "--image", "nginx:1")
    finally:
        server.shutdown()
        server.server_close()
    assert result.code == 2
    assert "GITOPS_TOKEN" in result.err
    assert TOKEN not in result.err + result.out
