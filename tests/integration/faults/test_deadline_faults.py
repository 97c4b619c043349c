"""One overall ``--timeout`` per subcommand (issue 9 §2), against hanging dependencies.

Behaviours covered, each as a real ``gitops-guard`` process:
- update-manifest whose push goes to a git remote that hangs (smart HTTP: it reads the
  request and answers nothing) ends within ``--timeout`` + 5 s, exit 3, with the real
  elapsed time and the remote it waited for; the real remote's refs are unchanged
  (without the overall deadline it waited 300 s per git network command);
- rollback revert and rollback to against the same hanging push: the same;
- rollback revert whose ArgoCD hangs, with ``--argocd-timeout 60`` and ``--timeout 4``:
  the wait never outlives the overall deadline (exit 3 within 4 + 5 s);
- record against a hanging GitHub API (120 s per operation before) and metrics reading
  GitHub deployments from a hanging API: exit 3 within ``--timeout`` + 5 s.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from faultkit import SLACK, Run
from faultserver import HANG, FaultServer

sys.path.insert(0, str(Path(__file__).parent.parent / "gitops"))

from gitrepo import Remote, apps_repo, git

TIMEOUT = 3.0
OLD = "ghcr.io/acme/web:1.0.0"


def _refs(remote: Remote) -> str:
    return git(remote.bare, "for-each-ref", "--format=%(refname) %(objectname)")


def _checkout(tmp_path: Path, push_url: str | None = None) -> tuple[Remote, Path]:
    """A GitOps remote with one deploy commit, and a checkout whose pushes go to ``push_url``."""
    remote = apps_repo(tmp_path / "srv", {"web": OLD})
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(remote.bare), str(work))
    for key, value in (("user.name", "t"), ("user.email", "t@example.invalid")):
        git(work, "config", key, value)
    path = "apps/web/deployment.yaml"
    text = (work / path).read_text().replace(OLD, "ghcr.io/acme/web:1.0.1")
    (work / path).write_text(text)
    git(work, "commit", "-qam", "deploy web 1.0.1")
    git(work, "push", "-q", "origin", f"HEAD:{remote.branch}")
    if push_url:
        git(work, "remote", "set-url", "--push", "origin", push_url)
    return remote, work


def _assert_deadline(run: Run, seconds: float) -> None:
    assert run.code == 3, run.text
    assert run.elapsed <= seconds + SLACK, run.elapsed
    assert "--timeout" in run.text
    assert "elapsed" in run.text
    assert "Traceback" not in run.text and "internal error" not in run.text


def test_update_manifest_push_to_a_hanging_remote_ends_at_the_timeout(
    tmp_path: Path, cli: Callable[..., Run], fault_server: FaultServer
) -> None:
    fault_server.script("/", HANG)
    remote, work = _checkout(tmp_path, f"{fault_server.url}/gitops.git")
    before = _refs(remote)
    run = cli(
        "update-manifest",
        "--dir",
        str(work),
        "--image",
        "ghcr.io/acme/web:1.0.2",
        "--push",
        "--timeout",
        f"{TIMEOUT:g}s",
        timeout=30,
    )
    _assert_deadline(run, TIMEOUT)
    assert "git push" in run.text  # what it was waiting for
    assert _refs(remote) == before


def test_rollback_revert_and_to_against_a_hanging_remote_end_at_the_timeout(
    tmp_path: Path, cli: Callable[..., Run], fault_server: FaultServer
) -> None:
    fault_server.script("/", HANG)
    remote, work = _checkout(tmp_path, f"{fault_server.url}/gitops.git")
    deploy = git(work, "rev-parse", "HEAD").strip()
    before = _refs(remote)
    for command in (["revert", "--commit", deploy], ["to", "--image", OLD]):
        run = cli(
            "rollback",
            *command,
            "--dir",
            str(work),
            "--reason",
            "the gate failed",
            "--timeout",
            f"{TIMEOUT:g}",
            timeout=30,
        )
        _assert_deadline(run, TIMEOUT)
        assert _refs(remote) == before, command


def test_rollback_argocd_wait_never_outlives_the_timeout(
    tmp_path: Path, cli: Callable[..., Run], fault_server: FaultServer
) -> None:
    fault_server.script("/api/v1/applications/web", HANG)
    remote, work = _checkout(tmp_path)
    deploy = git(work, "rev-parse", "HEAD").strip()
    run = cli(
        "rollback",
        "revert",
        "--dir",
        str(work),
        "--commit",
        deploy,
        "--reason",
        "the gate failed",
        "--argocd-server",
        fault_server.url,
        "--argocd-app",
        "web",
        "--argocd-timeout",
        "60s",
        "--timeout",
        "4s",
        timeout=40,
    )
    _assert_deadline(run, 4.0)
    # The revert itself is whole: published before the wait ran out of time.
    assert OLD in git(remote.bare, "show", "HEAD:apps/web/deployment.yaml")


def test_record_against_a_hanging_github_ends_at_the_timeout(
    tmp_path: Path, cli: Callable[..., Run], fault_server: FaultServer
) -> None:
    fault_server.script("/", HANG)
    needs = (
        '{"promote": {"result": "success", "outputs": {"image": "ghcr.io/acme/web:1.4.2",'
        ' "commit": "' + "a" * 40 + '"}}, "verify": {"result": "success", "outputs":'
        ' {"verdict": "pass", "argocd-result": "done"}}, "rollback": {"result": "skipped"}}'
    )
    run = cli(
        "record",
        "deploy",
        "--environment",
        "production",
        "--repository",
        "acme/gitops",
        "--ref",
        "d" * 40,
        "--needs",
        needs,
        "--timeout",
        f"{TIMEOUT:g}s",
        env={"GITHUB_API_URL": fault_server.url},
        timeout=30,
    )
    _assert_deadline(run, TIMEOUT)
    assert fault_server.url in run.text


def test_metrics_reading_a_hanging_github_ends_at_the_timeout(
    tmp_path: Path, cli: Callable[..., Run], fault_server: FaultServer
) -> None:
    fault_server.script("/", HANG)
    _, work = _checkout(tmp_path)
    deploy = cli(
        "update-manifest", "--dir", str(work), "--image", "ghcr.io/acme/web:1.0.3", "--commit"
    )
    assert deploy.code == 0, deploy.text
    run = cli(
        "metrics",
        "--dir",
        str(work),
        "--github-repository",
        "acme/gitops",
        "--timeout",
        f"{TIMEOUT:g}s",
        env={"GITHUB_API_URL": fault_server.url},
        timeout=30,
    )
    _assert_deadline(run, TIMEOUT)
