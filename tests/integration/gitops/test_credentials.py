"""Clone and fetch over HTTP with a token, and the failures of a remote.

Behaviours covered:
- the token is sent as an Authorization header (x-access-token basic auth) taken from
  GITOPS_TOKEN at call time, and never written to .git/config;
- a URL that carries credentials is refused (exit 2) and shown redacted;
- a rejected token is a ConfigError naming the token variable, without the token;
- an extraHeader persisted by actions/checkout is replaced, never sent twice;
- a 5xx or a closed port is retried, then DependencyUnavailable (exit 3);
- cloning into a non-empty directory is an InputError naming --dir.
"""

from __future__ import annotations

import base64
import socket
from pathlib import Path

import pytest
from gitrepo import Remote, git

from gitops_guard import errors, gitops

TOKEN = "ghp_s3cretTOKENvalue000111"


def _basic(token: str) -> str:
    return "Basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()


def test_clone_from_path_keeps_token_out_of_config(
    remote: Remote, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITOPS_TOKEN", TOKEN)
    wc = gitops.clone(remote.url, tmp_path / "work")
    assert (wc.root / "apps/web/deployment.yaml").is_file()
    assert TOKEN not in (wc.root / ".git/config").read_text()
    assert wc.tracked_branch() == "main"


def test_url_with_credentials_is_refused_and_redacted(tmp_path: Path) -> None:
    with pytest.raises(errors.InputError) as info:
        gitops.clone(f"https://user:{TOKEN}@github.com/acme/gitops.git", tmp_path / "w")
    assert TOKEN not in str(info.value)
    assert "https://***@github.com/acme/gitops.git" in str(info.value)
    assert info.value.source == "--repo-url"


def test_redact_url() -> None:
    text = f"fatal: unable to access 'https://x:{TOKEN}@example.com/r.git/'"
    assert gitops.redact_url(text) == "fatal: unable to access 'https://***@example.com/r.git/'"


def test_rejected_token_names_the_variable(
    git_host, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast_policy
) -> None:
    base, seen, _ = git_host
    monkeypatch.setenv("GITOPS_TOKEN", TOKEN)
    with pytest.raises(errors.ConfigError) as info:
        gitops.clone(f"{base}/acme/gitops.git", tmp_path / "work", policy=fast_policy)
    assert info.value.source == "GITOPS_TOKEN"
    assert info.value.exit_code == 2
    assert TOKEN not in str(info.value)
    assert _basic(TOKEN) not in str(info.value)
    assert seen and seen[0]["authorization"] == [_basic(TOKEN)]
    assert not (tmp_path / "work").exists()


def test_github_token_is_the_fallback(
    git_host, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast_policy
) -> None:
    base, seen, _ = git_host
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_fallbackTOKEN42")
    with pytest.raises(errors.ConfigError) as info:
        gitops.clone(f"{base}/acme/gitops.git", tmp_path / "work", policy=fast_policy)
    assert info.value.source == "GITHUB_TOKEN"
    assert seen[0]["authorization"] == [_basic("ghs_fallbackTOKEN42")]


def test_persisted_checkout_header_is_replaced(
    git_host, remote: Remote, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast_policy
) -> None:
    base, seen, _ = git_host
    checkout = remote.clone(tmp_path / "ci")
    git(checkout, "remote", "set-url", "origin", f"{base}/acme/gitops.git")
    git(checkout, "config", f"http.{base}/.extraheader", "AUTHORIZATION: basic b2xkOm9sZA==")
    monkeypatch.setenv("GITOPS_TOKEN", TOKEN)
    wc = gitops.open_checkout(checkout, policy=fast_policy)
    with pytest.raises(errors.ConfigError):
        wc.fetch("main")
    assert seen[0]["authorization"] == [_basic(TOKEN)]
    assert TOKEN not in (checkout / ".git/config").read_text()


def test_server_error_is_retried_then_unavailable(git_host, tmp_path: Path, fast_policy) -> None:
    base, seen, handler = git_host
    handler.status = 503
    with pytest.raises(errors.DependencyUnavailable) as info:
        gitops.clone(f"{base}/acme/gitops.git", tmp_path / "work", policy=fast_policy)
    assert info.value.exit_code == 3
    assert len(seen) == fast_policy.network_attempts


def test_closed_port_is_unavailable(tmp_path: Path, fast_policy) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(errors.DependencyUnavailable, match="could not reach"):
        gitops.clone(f"http://127.0.0.1:{port}/r.git", tmp_path / "work", policy=fast_policy)


def test_clone_into_non_empty_dir_is_input_error(remote: Remote, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    with pytest.raises(errors.InputError) as info:
        gitops.clone(remote.url, tmp_path / "busy")
    assert info.value.source == "--dir"


def test_clone_and_push_over_http_with_token(
    http_remote, remote: Remote, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast_policy
) -> None:
    server, url = http_remote
    monkeypatch.setenv("GITOPS_TOKEN", "ghs_httpRemoteTOKEN0451")
    wc = gitops.clone(url, tmp_path / "work", policy=fast_policy)
    assert "ghs_httpRemoteTOKEN0451" not in (wc.root / ".git/config").read_text()

    def mutate(w: gitops.WorkingCopy) -> str | None:
        (w.root / "README.md").write_text("changed over http\n")
        return w.commit("docs: over http", ["README.md"])

    sha, attempts = wc.push_with_retry(mutate, branch="main")
    assert remote.tip() == sha and attempts == 1
    assert server.seen and all(len(auth) == 1 for auth in server.seen)
    assert "ghs_httpRemoteTOKEN0451" not in (wc.root / ".git/config").read_text()


def test_wrong_token_over_http(
    http_remote, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast_policy
) -> None:
    _, url = http_remote
    monkeypatch.setenv("GITOPS_TOKEN", "ghs_notTheOne")
    with pytest.raises(errors.ConfigError) as info:
        gitops.clone(url, tmp_path / "work", policy=fast_policy)
    assert info.value.source == "GITOPS_TOKEN"
    assert "ghs_notTheOne" not in str(info.value)
