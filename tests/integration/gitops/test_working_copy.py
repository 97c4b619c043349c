"""The git engine against real repositories with a bare repository as the remote.

Behaviours covered:
- opening a directory that is missing or not a checkout is an InputError naming --dir;
- commit() commits exactly the given paths with the message (trailers readable by git);
- push_with_retry(): a push rejected because someone pushed first fetches, resets to the
  new tip, calls mutate again on that tip (recompute, never merge) and lands both changes;
- mutate returning None pushes nothing; retries are bounded (DependencyUnavailable);
- reset to the new tip keeps a user's unrelated uncommitted edit;
- a protected branch (a hook declines) is a ConfigError naming --branch, not a retry loop;
- the tracked branch is read from the checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from gitrepo import Remote, git

from gitops_guard import errors, gitops


def _bump(path: str, old: str, new: str):
    def mutate(wc: gitops.WorkingCopy) -> str | None:
        target = wc.root / path
        text = target.read_text()
        if new in text:
            return None
        target.write_text(text.replace(old, new))
        return wc.commit(f"deploy: {new}\n\nGitops-Guard-Image: {new}\n", [path])

    return mutate


def test_open_missing_dir_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(errors.InputError) as info:
        gitops.open_checkout(tmp_path / "nope")
    assert info.value.source == "--dir"
    assert info.value.exit_code == 2


def test_open_plain_dir_is_input_error(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(errors.InputError, match="not inside a git checkout"):
        gitops.open_checkout(tmp_path / "plain")


def test_commit_only_given_paths_with_trailers(remote: Remote, tmp_path: Path) -> None:
    wc = gitops.open_checkout(remote.clone(tmp_path / "ci"))
    (wc.root / "apps/web/deployment.yaml").write_text("changed: web\n")
    (wc.root / "README.md").write_text("unrelated local edit\n")
    message = (
        "deploy: web\n\nbody\n\nGitops-Guard-Action: update-manifest\n"
        "Gitops-Guard-Image: nginx:1.25.1\nGitops-Guard-Previous-Image: nginx:1.25.0\n"
    )
    sha = wc.commit(message, ["apps/web/deployment.yaml"])
    assert sha == wc.head()
    files = git(wc.root, "show", "--name-only", "--format=", sha).split()
    assert files == ["apps/web/deployment.yaml"]
    trailers = git(wc.root, "log", "-1", "--format=%(trailers:key=Gitops-Guard-Image,valueonly)")
    assert trailers.strip() == "nginx:1.25.1"
    assert wc.dirty_paths(["README.md"]) == ["README.md"]


def test_tracked_branch(remote: Remote, tmp_path: Path) -> None:
    wc = gitops.open_checkout(remote.clone(tmp_path / "ci"))
    assert wc.current_branch() == "main"
    assert wc.tracked_branch() == "main"
    git(wc.root, "checkout", "-q", "--detach")
    assert wc.tracked_branch() is None


def test_push_with_retry_recomputes_after_someone_pushed_first(
    remote: Remote, tmp_path: Path, fast_policy: gitops.RetryPolicy
) -> None:
    mine = gitops.open_checkout(remote.clone(tmp_path / "mine"), policy=fast_policy)
    other = gitops.open_checkout(remote.clone(tmp_path / "other"), policy=fast_policy)
    # The other pipeline lands first.
    sha_other, attempts_other = other.push_with_retry(
        _bump("apps/api/deployment.yaml", "api:1.0.0", "api:1.1.0"), branch="main"
    )
    assert attempts_other == 1
    calls: list[str] = []
    bump = _bump("apps/web/deployment.yaml", "nginx:1.25.0", "nginx:1.25.1")

    def mutate(wc: gitops.WorkingCopy) -> str | None:
        calls.append(wc.head())
        return bump(wc)

    retried: list[int] = []
    sha, attempts = mine.push_with_retry(
        mutate, branch="main", on_retry=lambda n, tip: retried.append(n)
    )
    assert attempts == 2 and retried == [1]
    # The second call saw the other pipeline's commit as its base: recomputed, not merged.
    assert calls[1] == sha_other
    assert remote.tip() == sha
    assert "api:1.1.0" in remote.show("apps/api/deployment.yaml")
    assert "nginx:1.25.1" in remote.show("apps/web/deployment.yaml")
    assert len(remote.log()) == 3  # seed + two deploys, no merge commit
    assert remote.log("%P", "-1")[0] == sha_other


def test_mutate_none_pushes_nothing(remote: Remote, tmp_path: Path) -> None:
    wc = gitops.open_checkout(remote.clone(tmp_path / "ci"))
    before = remote.tip()
    assert wc.push_with_retry(lambda _: None, branch="main") == (None, 1)
    assert remote.tip() == before


def test_retries_are_bounded(remote: Remote, tmp_path: Path) -> None:
    policy = gitops.RetryPolicy(attempts=3, wait_initial_seconds=0.01, wait_max_seconds=0.02)
    wc = gitops.open_checkout(remote.clone(tmp_path / "ci"), policy=policy)
    rival = remote.clone(tmp_path / "rival")
    counter = iter(range(100))

    def mutate(w: gitops.WorkingCopy) -> str | None:
        # Someone always pushes just before us.
        n = next(counter)
        (rival / "README.md").write_text(f"rival {n}\n")
        git(rival, "commit", "-qam", f"rival {n}")
        git(rival, "push", "-q", "origin", "HEAD:main")
        (w.root / "apps/web/deployment.yaml").write_text(f"mine {n}\n")
        return w.commit("mine", ["apps/web/deployment.yaml"])

    with pytest.raises(errors.DependencyUnavailable, match="after 3 attempts"):
        wc.push_with_retry(mutate, branch="main")


def test_reset_keeps_unrelated_uncommitted_edit(
    remote: Remote, tmp_path: Path, fast_policy: gitops.RetryPolicy
) -> None:
    mine = gitops.open_checkout(remote.clone(tmp_path / "mine"), policy=fast_policy)
    other = gitops.open_checkout(remote.clone(tmp_path / "other"), policy=fast_policy)
    other.push_with_retry(_bump("apps/api/deployment.yaml", "1.0.0", "1.1.0"), branch="main")
    (mine.root / "README.md").write_text("my notes\n")
    mine.push_with_retry(_bump("apps/web/deployment.yaml", "1.25.0", "1.25.1"), branch="main")
    assert (mine.root / "README.md").read_text() == "my notes\n"


def test_protected_branch_is_config_error(remote: Remote, tmp_path: Path) -> None:
    hook = remote.bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'protected branch: pushes need a pull request' >&2\nexit 1\n")
    os.chmod(hook, 0o700)
    wc = gitops.open_checkout(remote.clone(tmp_path / "ci"))
    before = remote.tip()
    with pytest.raises(errors.ConfigError) as info:
        wc.push_with_retry(_bump("apps/web/deployment.yaml", "1.25.0", "1.25.1"), branch="main")
    assert info.value.source == "--branch"
    assert remote.tip() == before


def test_pushes_to_the_remote_the_branch_tracks(remote: Remote, tmp_path: Path) -> None:
    checkout = remote.clone(tmp_path / "ci")
    git(checkout, "remote", "rename", "origin", "upstream")
    wc = gitops.open_checkout(checkout)
    assert wc.remote == "upstream"
    sha, _ = wc.push_with_retry(
        _bump("apps/web/deployment.yaml", "nginx:1.25.0", "nginx:1.25.1"), branch="main"
    )
    assert remote.tip() == sha
