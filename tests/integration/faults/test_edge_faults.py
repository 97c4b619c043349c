"""GitHub, Alertmanager, the chat webhook and git against faults; secrets in git.

Behaviours covered:
- GitHub (PyGithub through the one GitHub client): a hang ends within the operation's
  deadline + 5 s; invalid JSON, 429 with a long Retry-After, 503 and a 500 echoing the
  token are DependencyUnavailable (3), never 2 and never an internal error; a 503 that
  clears is recovered; a comment body is redacted before it is sent;
- Alertmanager: hang, invalid JSON, wrong types are DependencyUnavailable within the
  deadline; a 503 that clears is recovered;
- the webhook is retried (503, 503, 200 arrives) and its payload is redacted; a fault
  is a warning that does not show the URL or the canary;
- git: a remote that hangs ends within the network deadline + 5 s with a message naming
  the remote and the real wait;
- update-manifest pushing over HTTP with the canary as GITOPS_TOKEN: the canary is in
  no channel, not in ``.git/config``, and in no git object of the checkout or remote.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from faultkit import CANARY, SLACK, Run, canary_forms, scan
from faultserver import ECHO_AUTH, HANG, Fault, FaultServer

from gitops_guard import credentials, errors, github, gitops, http, notify
from gitops_guard.prometheus import alertmanager

sys.path.insert(0, str(Path(__file__).parent.parent / "gitops"))

from gitrepo import SmartHttpGit, apps_repo, git

REPO = {"full_name": "acme/gitops", "name": "gitops", "owner": {"login": "acme"}, "id": 1}
GH_DEADLINE = 3.0


def settings(url: str) -> github.ApiSettings:
    credentials.register(CANARY)
    return github.ApiSettings(
        token=CANARY, api_url=url, timeout_seconds=2, retries=3, deadline_seconds=GH_DEADLINE
    )


GITHUB_FAULTS = {
    "hang": HANG,
    "invalid-json": Fault.raw(b'{"full_name": "acme/gitops", '),
    "429-long-retry-after": Fault.status_only(429, Retry_After="60"),
    "503": Fault.status_only(503),
    "500-echoes-authorization": ECHO_AUTH,
}


@pytest.mark.parametrize("fault", list(GITHUB_FAULTS.values()), ids=list(GITHUB_FAULTS))
def test_github_faults_are_dependency_unavailable(fault_server: FaultServer, fault: Fault) -> None:
    fault_server.script("/repos/acme/gitops", fault)
    started = time.monotonic()
    with pytest.raises(errors.DependencyUnavailable) as info:
        github.check_repository("acme/gitops", settings=settings(fault_server.url))
    assert time.monotonic() - started <= GH_DEADLINE + SLACK
    assert not any(form in info.value.render() for form in canary_forms())


def test_github_transient_fault_is_recovered(fault_server: FaultServer) -> None:
    fault_server.script("/repos/acme/gitops", Fault.status_only(503), Fault.json(REPO))
    github.check_repository("acme/gitops", settings=settings(fault_server.url))
    assert fault_server.count("/repos/acme/gitops") == 2


def test_github_comment_is_redacted(fault_server: FaultServer) -> None:
    fault_server.script(
        "/repos/acme/gitops/issues/7/comments",
        Fault.json({"id": 1, "html_url": "https://github.example/acme/gitops/issues/7#c1"}, 201),
    )
    url = github.comment_on_issue(
        "acme/gitops", 7, f"rolled back; token was {CANARY}", settings=settings(fault_server.url)
    )
    assert url.endswith("#c1")
    posted = fault_server.seen[-1].body.decode()
    assert CANARY not in posted and "***" in posted


ALERTMANAGER_FAULTS = {
    "hang": HANG,
    "invalid-json": Fault.raw(b"[{"),
    "wrong-types": Fault.json([{"labels": "x", "status": "firing"}]),
    "500-echoes-authorization": ECHO_AUTH,
}


@pytest.mark.parametrize("fault", list(ALERTMANAGER_FAULTS.values()), ids=list(ALERTMANAGER_FAULTS))
def test_alertmanager_faults(fault_server: FaultServer, fault: Fault) -> None:
    fault_server.script("/api/v2/alerts", fault)
    started = time.monotonic()
    with (
        alertmanager.AlertmanagerClient(
            fault_server.url,
            token=CANARY,
            timeout_seconds=1,
            deadline=http.Deadline(3, source="--for"),
        ) as client,
        pytest.raises(errors.DependencyUnavailable) as info,
    ):
        client.alerts(matchers={"alertname": "HighErrorRate"})
    assert time.monotonic() - started <= 3 + SLACK
    assert not any(form in info.value.render() for form in canary_forms())


def test_alertmanager_transient_fault_is_recovered(fault_server: FaultServer) -> None:
    alert = {"labels": {"alertname": "HighErrorRate"}, "status": {"state": "active"}}
    fault_server.script("/api/v2/alerts", Fault.status_only(503), Fault.json([alert]))
    with alertmanager.AlertmanagerClient(fault_server.url, token=CANARY) as client:
        assert [a.name for a in client.alerts()] == ["HighErrorRate"]


def test_webhook_is_retried_and_redacted(fault_server: FaultServer) -> None:
    credentials.register(CANARY)
    fault_server.script(
        "/hook", Fault.status_only(503), Fault.status_only(503), Fault.json({"ok": True})
    )
    message = notify.compose(app="web", moves=[("a:2", "a:1")], why=f"leaked {CANARY}")
    assert notify.send_webhook(message, url=f"{fault_server.url}/hook/T0/B0/{CANARY}")
    assert fault_server.count("/hook") == 3
    assert CANARY not in fault_server.seen[-1].body.decode()


def test_webhook_fault_is_a_warning_without_secrets(
    fault_server: FaultServer, capsys: pytest.CaptureFixture[str]
) -> None:
    fault_server.script("/hook", ECHO_AUTH)
    message = notify.compose(app="web", moves=[], why="x")
    url = f"{fault_server.url}/hook/{CANARY}"
    assert not notify.send_webhook(message, url=url, deadline=http.Deadline(2))
    err = capsys.readouterr().err
    assert "chat notification was not sent" in err
    assert not any(form in err for form in canary_forms())
    assert "/hook/" not in err


def test_git_hanging_remote_ends_at_the_network_deadline(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    fault_server.script("/", HANG)
    policy = gitops.RetryPolicy(network_attempts=3, network_timeout_seconds=2)
    started = time.monotonic()
    with pytest.raises(errors.DependencyUnavailable) as info:
        gitops.clone(f"{fault_server.url}/gitops.git", tmp_path / "c", policy=policy)
    elapsed = time.monotonic() - started
    assert elapsed <= 2 + SLACK
    assert "did not finish within 2s" in info.value.message
    assert fault_server.url in info.value.message


def test_no_secret_in_git_config_or_objects(
    tmp_path: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = apps_repo(tmp_path / "srv", {"web": "ghcr.io/acme/web:1.0.0"})
    server = SmartHttpGit(remote.bare.parent, CANARY)
    try:
        url = f"{server.base}/{remote.bare.name}"
        work = tmp_path / "work"
        run = cli(
            "update-manifest",
            "--repo-url",
            url,
            "--dir",
            str(work),
            "--image",
            "ghcr.io/acme/web:1.0.1",
            "--push",
        )
    finally:
        server.close()
    assert run.code == 0, run.text
    assert "ghcr.io/acme/web:1.0.1" in git(remote.bare, "show", "HEAD:" + _manifest(remote.bare))
    assert scan(run, [work / ".git" / "config", remote.bare / "config"]) == []
    for repo in (work, remote.bare):
        objects = subprocess.run(
            ["git", "-C", str(repo), "cat-file", "--batch-all-objects", "--batch"],
            capture_output=True,
            check=True,
        ).stdout.decode(errors="replace")
        assert not any(form in objects for form in canary_forms()), repo


def _manifest(bare: Path) -> str:
    files = git(bare, "ls-tree", "-r", "--name-only", "HEAD").split()
    return next(f for f in files if "web" in f and f.endswith((".yaml", ".yml")))


def test_a_commit_message_never_carries_a_secret(tmp_path: Path) -> None:
    remote = apps_repo(tmp_path / "srv", {"web": "ghcr.io/acme/web:1.0.0"})
    checkout = remote.clone(tmp_path / "c")
    credentials.register(CANARY)
    (checkout / "note.txt").write_text("x\n")
    wc = gitops.open_checkout(checkout)
    wc.commit(f"deploy; the gate said Bearer {CANARY}", ["note.txt"])
    message = git(checkout, "log", "-1", "--format=%B")
    assert CANARY not in message and "Bearer ***" in message


def test_rollback_with_the_canary_everywhere(
    tmp_path: Path, cli: Callable[..., Run], fault_server: FaultServer
) -> None:
    """Deploy and revert over HTTP; ArgoCD echoes the token and then hangs; a webhook."""
    remote = apps_repo(tmp_path / "srv", {"web": "ghcr.io/acme/web:1.0.0"})
    server = SmartHttpGit(remote.bare.parent, CANARY)
    fault_server.script("/api/v1/applications/web", ECHO_AUTH, HANG)
    fault_server.script("/hook", Fault.status_only(503), Fault.json({"ok": True}))
    work = tmp_path / "work"
    try:
        url = f"{server.base}/{remote.bare.name}"
        deploy = cli(
            "update-manifest",
            "--repo-url",
            url,
            "--dir",
            str(work),
            "--image",
            "ghcr.io/acme/web:1.0.1",
            "--push",
        )
        assert deploy.code == 0, deploy.text
        sha = git(work, "rev-parse", "HEAD").strip()
        run = cli(
            "rollback",
            "revert",
            "--dir",
            str(work),
            "--commit",
            sha,
            "--reason",
            f"gate failed; the proxy said Bearer {CANARY}",
            "--argocd-app",
            "web",
            "--argocd-timeout",
            "2",
            env={
                "ARGOCD_SERVER": fault_server.url,
                "SLACK_WEBHOOK_URL": f"{fault_server.url}/hook/{CANARY}",
            },
        )
    finally:
        server.close()
    assert run.code == 3, run.text  # rolled back, but ArgoCD could not tell: undecided
    assert run.elapsed <= 2 + SLACK + 5  # the ArgoCD wait, plus git and the webhook
    assert "Traceback" not in run.text
    assert "ghcr.io/acme/web:1.0.0" in git(remote.bare, "show", "HEAD:" + _manifest(remote.bare))
    assert scan(deploy) == [] and scan(run, [work / ".git" / "config"]) == []
    assert fault_server.count("/hook") == 2
    assert not any(form in fault_server.seen[-1].body.decode() for form in canary_forms())
    for repo in (work, remote.bare):
        objects = subprocess.run(
            ["git", "-C", str(repo), "cat-file", "--batch-all-objects", "--batch"],
            capture_output=True,
            check=True,
        ).stdout.decode(errors="replace")
        assert not any(form in objects for form in canary_forms()), repo
