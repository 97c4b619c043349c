"""Pure parts of the git engine: error translation, URL redaction, auth environment.

Behaviours covered:
- git's own failure messages map to our tree: rejected credentials -> ConfigError
  naming the token variable; unreachable hosts and 5xx -> retryable
  DependencyUnavailable; missing repositories -> ConfigError naming --repo-url;
  anything else -> GitopsGuardError (exit 3);
- secrets and URL user info never survive into a message;
- the auth environment scopes the header to the remote's origin, resets an earlier
  header first, and appends after GIT_CONFIG_* entries already present.
"""

from __future__ import annotations

import base64
import subprocess

import pytest

from gitops_guard import actions, errors, gitops
from gitops_guard.gitops import _git

URL = "https://github.com/acme/gitops.git"


def _proc(stderr: str, code: int = 128) -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess(["git"], code, stdout="", stderr=stderr)


def _translate(stderr: str, token_name: str | None = "GITOPS_TOKEN"):  # noqa: S107
    return _git.translate(["fetch", "origin"], _proc(stderr), where=URL, token_name=token_name)


@pytest.mark.parametrize(
    "stderr",
    [
        f"fatal: Authentication failed for '{URL}/'",
        "fatal: could not read Username for 'https://github.com': terminal prompts disabled",
        "remote: Permission to acme/gitops.git denied to bot.\n"
        f"fatal: unable to access '{URL}/': The requested URL returned error: 403",
        "git@github.com: Permission denied (publickey).",
    ],
)
def test_rejected_credentials(stderr: str) -> None:
    problem = _translate(stderr)
    assert isinstance(problem, errors.ConfigError)
    assert problem.source == "GITOPS_TOKEN"
    assert "GITOPS_TOKEN" in (problem.hint or "")


def test_rejected_credentials_without_token_names_both_variables() -> None:
    problem = _translate(f"fatal: Authentication failed for '{URL}/'", token_name=None)
    assert isinstance(problem, errors.ConfigError)
    assert problem.source == "GITOPS_TOKEN or GITHUB_TOKEN"


@pytest.mark.parametrize(
    "stderr",
    [
        f"fatal: unable to access '{URL}/': Could not resolve host: github.com",
        f"fatal: unable to access '{URL}/': Failed to connect to github.com port 443: "
        "Connection refused",
        f"fatal: unable to access '{URL}/': The requested URL returned error: 502",
        "fatal: the remote end hung up unexpectedly",
    ],
)
def test_unreachable_is_retryable(stderr: str) -> None:
    problem = _translate(stderr)
    assert isinstance(problem, _git.Retryable)
    assert isinstance(problem.error, errors.DependencyUnavailable)
    assert problem.error.exit_code == 3


@pytest.mark.parametrize(
    "stderr",
    [
        "remote: Repository not found.\n"
        "fatal: repository 'https://github.com/acme/nope.git/' not found",
        "fatal: '/srv/none.git' does not appear to be a git repository",
    ],
)
def test_missing_repository(stderr: str) -> None:
    problem = _translate(stderr)
    assert isinstance(problem, errors.ConfigError)
    assert problem.source == "--repo-url"


def test_anything_else_is_exit_3() -> None:
    problem = _translate("fatal: bad object 1234")
    assert type(problem) is errors.GitopsGuardError
    assert problem.exit_code == 3


def test_secrets_and_user_info_are_redacted() -> None:
    actions.register_secret("ghs_SECRETvalue123")
    problem = _translate(
        "fatal: unable to access 'https://bot:ghs_other@github.com/acme/gitops.git/': "
        "Authentication failed ghs_SECRETvalue123"
    )
    text = str(problem)
    assert "ghs_SECRETvalue123" not in text and "ghs_other" not in text
    assert "https://***@github.com/acme/gitops.git/" in text


def test_auth_env_scoped_and_reset() -> None:
    env = _git.auth_env("https://github.com/acme/gitops.git", "tok3n-value", {})
    header = "Basic " + base64.b64encode(b"x-access-token:tok3n-value").decode()
    assert env == {
        "GIT_CONFIG_KEY_0": "http.https://github.com/.extraheader",
        "GIT_CONFIG_VALUE_0": "",
        "GIT_CONFIG_KEY_1": "http.https://github.com/.extraheader",
        "GIT_CONFIG_VALUE_1": f"Authorization: {header}",
        "GIT_CONFIG_COUNT": "2",
    }
    assert actions.redact(header) == "Basic ***"


def test_auth_env_appends_to_existing_entries() -> None:
    env = _git.auth_env("http://127.0.0.1:8080/r.git", "tok3n-value", {"GIT_CONFIG_COUNT": "3"})
    assert env["GIT_CONFIG_KEY_3"] == "http.http://127.0.0.1:8080/.extraheader"
    assert env["GIT_CONFIG_COUNT"] == "5"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://u:p@h.example/r.git", "https://***@h.example/r.git"),
        ("ssh://git@h.example/r.git", "ssh://***@h.example/r.git"),
        ("see https://h.example/r.git", "see https://h.example/r.git"),
    ],
)
def test_redact_url(text: str, expected: str) -> None:
    assert gitops.redact_url(text) == expected


@pytest.mark.parametrize(
    ("last", "attempt", "ceiling"),
    [(0.0, 1, 0.2), (0.0, 3, 0.8), (1.5, 1, 1.5), (1.5, 2, 3.0), (1.5, 5, 8.0)],
)
def test_push_retry_jitter_scales_with_attempt_time(
    monkeypatch: pytest.MonkeyPatch, last: float, attempt: int, ceiling: float
) -> None:
    """The wait is uniform in [0, max(initial, last attempt) * 2**(n-1)], capped."""
    monkeypatch.setattr(_git.random, "uniform", lambda low, high: (low, high))
    jitter = _git.ScaledJitter(gitops.RetryPolicy())
    jitter.last_attempt_seconds = last

    class State:
        attempt_number = attempt

    assert jitter(State()) == (0, pytest.approx(ceiling))  # type: ignore[arg-type]
