"""Opening and updating pull requests through PyGithub against a fake GitHub API.

Behaviours covered:
- no open PR for the head branch: one is created with title, body and labels;
- an open PR for the same head branch is updated (PATCH), never duplicated;
- auto-merge goes through GraphQL enablePullRequestAutoMerge with the merge method;
- a GraphQL refusal of auto-merge is a warning, the PR still stands;
- 401 is a ConfigError naming the token variable; 403 names the permissions;
- 5xx after retries is DependencyUnavailable; a refused connection too;
- the API base URL is configurable (GHES) and the repository is read from remote URLs.
"""

from __future__ import annotations

import re

import pytest
import responses
from fakegithub import API, FakeGitHub

from gitops_guard import errors, github


def _settings(fake: FakeGitHub, **extra: object) -> github.ApiSettings:
    values: dict[str, object] = {
        "token": fake.token,
        "token_env": "GITOPS_TOKEN",
        "retries": 0,
        "seconds_between_writes": None,
    }
    values.update(extra)
    return github.ApiSettings(**values)  # type: ignore[arg-type]


def _spec(**extra: object) -> github.PullRequestSpec:
    values: dict[str, object] = {
        "repository": "acme/gitops",
        "head": "gitops-guard/main/web-1.4.2",
        "base": "main",
        "title": "deploy: web 1.4.1 -> 1.4.2",
        "body": "| image | file:line |\n",
    }
    values.update(extra)
    return github.PullRequestSpec(**values)  # type: ignore[arg-type]


def test_creates_pull_request_with_labels(fake_github: FakeGitHub) -> None:
    result = github.open_or_update_pull_request(
        _spec(labels=("deploy", "gitops-guard")), settings=_settings(fake_github)
    )
    assert result.created is True
    assert result.url == "https://github.com/acme/gitops/pull/1"
    assert result.number == 1
    created = fake_github.requests_to("POST", "/pulls")
    assert created == [
        {
            "base": "main",
            "head": "gitops-guard/main/web-1.4.2",
            "title": "deploy: web 1.4.1 -> 1.4.2",
            "body": "| image | file:line |\n",
            "maintainer_can_modify": True,
        }
    ]
    assert fake_github.requests_to("POST", "/issues/1/labels") == [["deploy", "gitops-guard"]]
    assert [label["name"] for label in fake_github.pulls[1]["labels"]] == ["deploy", "gitops-guard"]
    listing = [c for c in fake_github.calls if c[0] == "GET"]
    assert listing and listing[0][1] == "/repos/acme/gitops/pulls"


def test_rerun_updates_instead_of_duplicating(fake_github: FakeGitHub) -> None:
    settings = _settings(fake_github)
    first = github.open_or_update_pull_request(_spec(), settings=settings)
    second = github.open_or_update_pull_request(
        _spec(title="deploy: web 1.4.1 -> 1.4.3", body="new body"), settings=settings
    )
    assert (first.created, second.created) == (True, False)
    assert second.url == first.url
    assert len(fake_github.pulls) == 1
    assert fake_github.pulls[1]["title"] == "deploy: web 1.4.1 -> 1.4.3"
    assert fake_github.requests_to("PATCH", "/pulls/1") == [
        {"title": "deploy: web 1.4.1 -> 1.4.3", "body": "new body"}
    ]
    assert len(fake_github.requests_to("POST", "/pulls")) == 1


def test_auto_merge_through_graphql(fake_github: FakeGitHub) -> None:
    result = github.open_or_update_pull_request(
        _spec(auto_merge=True, merge_method="rebase"), settings=_settings(fake_github)
    )
    assert result.auto_merge is True and result.warnings == ()
    (mutation,) = fake_github.requests_to("POST", "/graphql")
    assert "enablePullRequestAutoMerge" in mutation["query"]
    assert mutation["variables"]["input"] == {
        "pullRequestId": fake_github.pulls[1]["node_id"],
        "mergeMethod": "REBASE",
    }
    assert fake_github.pulls[1]["auto_merge"]["merge_method"] == "rebase"


def test_auto_merge_refused_is_a_warning(fake_github: FakeGitHub) -> None:
    fake_github.auto_merge_error = "Auto merge is not allowed for this repository"
    result = github.open_or_update_pull_request(
        _spec(auto_merge=True), settings=_settings(fake_github)
    )
    assert result.auto_merge is False
    assert result.url.endswith("/pull/1")
    assert "Auto merge is not allowed" in result.warnings[0]
    assert "Allow auto-merge" in result.warnings[0]


def test_bad_token_names_the_variable(fake_github: FakeGitHub) -> None:
    settings = _settings(fake_github, token="ghs_wrongTOKEN999")
    with pytest.raises(errors.ConfigError) as info:
        github.open_or_update_pull_request(_spec(), settings=settings)
    assert info.value.source == "GITOPS_TOKEN"
    assert "Bad credentials" in str(info.value)
    assert "ghs_wrongTOKEN999" not in str(info.value)


def test_forbidden_names_the_permissions(fake_github: FakeGitHub) -> None:
    fake_github.fail_status = 403
    with pytest.raises(errors.ConfigError) as info:
        github.open_or_update_pull_request(_spec(), settings=_settings(fake_github))
    assert "pull-requests: write" in str(info.value)
    assert "Resource not accessible by integration" in str(info.value)


def test_server_errors_are_unavailable_after_retries(fake_github: FakeGitHub) -> None:
    fake_github.fail_status = 502
    with pytest.raises(errors.DependencyUnavailable) as info:
        github.open_or_update_pull_request(_spec(), settings=_settings(fake_github, retries=1))
    assert info.value.exit_code == 3
    assert len([c for c in fake_github.calls if c[0] == "GET"]) == 2  # first try + 1 retry


def test_connection_error_is_unavailable() -> None:
    with responses.RequestsMock() as rsps:
        rsps.add(
            responses.GET,
            re.compile(re.escape(API) + r"(:443)?/repos/acme/gitops/pulls"),
            body=responses.ConnectionError("connection refused"),
        )
        with pytest.raises(errors.DependencyUnavailable, match="could not be reached"):
            github.open_or_update_pull_request(
                _spec(), settings=github.ApiSettings(token="t0ken-xyz", retries=0)
            )


def test_enterprise_api_url() -> None:
    fake = FakeGitHub()
    with responses.RequestsMock() as rsps:
        rsps.add(
            responses.GET,
            re.compile(r"https://ghe\.example\.com(:443)?/api/v3/repos/acme/gitops/pulls"),
            json=[],
        )
        rsps.add(
            responses.POST,
            re.compile(r"https://ghe\.example\.com(:443)?/api/v3/repos/acme/gitops/pulls"),
            status=201,
            json=fake._pull_payload(7, "b", "main", "t", "x")
            | {"html_url": "https://ghe.example.com/acme/gitops/pull/7"},
        )
        result = github.open_or_update_pull_request(
            _spec(),
            settings=github.ApiSettings(
                token="t0ken-xyz",
                api_url="https://ghe.example.com/api/v3",
                retries=0,
                seconds_between_writes=None,
            ),
        )
    assert result.url == "https://ghe.example.com/acme/gitops/pull/7"


def test_api_url_from_env() -> None:
    assert github.api_url_from_env({}) == "https://api.github.com"
    assert github.api_url_from_env({"GITHUB_API_URL": "https://ghe.example.com/api/v3/"}) == (
        "https://ghe.example.com/api/v3"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/acme/gitops.git", "acme/gitops"),
        ("https://github.com/acme/gitops", "acme/gitops"),
        ("git@github.com:acme/gitops.git", "acme/gitops"),
        ("ssh://git@github.com/acme/gitops.git", "acme/gitops"),
        ("https://ghe.example.com/acme/gitops.git/", "acme/gitops"),
        ("/srv/git/gitops.git", None),
        ("", None),
    ],
)
def test_repository_from_remote(url: str, expected: str | None) -> None:
    assert github.repository_from_remote(url) == expected


def test_create_race_falls_back_to_update(fake_github: FakeGitHub) -> None:
    """Another run opened the PR between our lookup and our create: 422, then update."""
    settings = _settings(fake_github)
    github.open_or_update_pull_request(_spec(), settings=settings)
    original = fake_github._list
    hidden = iter([True])

    def list_once_empty(request: object) -> tuple[int, dict[str, str], str]:
        if next(hidden, False):
            fake_github._record(request)
            return 200, {}, "[]"
        return original(request)

    fake_github._list = list_once_empty  # type: ignore[method-assign]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake_github.install(rsps)
        result = github.open_or_update_pull_request(_spec(title="again"), settings=settings)
    assert result.created is False
    assert len(fake_github.pulls) == 1
    assert fake_github.pulls[1]["title"] == "again"


def test_check_repository(fake_github: FakeGitHub) -> None:
    github.check_repository("acme/gitops", settings=_settings(fake_github))
    assert fake_github.calls[-1][:2] == ("GET", "/repos/acme/gitops")
    with pytest.raises(errors.ConfigError) as info:
        github.check_repository("acme/gitops", settings=_settings(fake_github, token="nope-42"))
    assert info.value.source == "GITOPS_TOKEN"
