"""A stateful stand-in for the parts of GitHub's API that update-manifest and
record use, served through ``responses`` (PyGithub speaks ``requests``).

Deployments follow ``POST/GET /repos/{owner}/{repo}/deployments`` and
``POST /repos/{owner}/{repo}/deployments/{id}/statuses``.

Payloads follow GitHub's REST API (``GET/POST /repos/{owner}/{repo}/pulls``,
``PATCH /repos/{owner}/{repo}/pulls/{number}``,
``POST /repos/{owner}/{repo}/issues/{number}/labels``)
and GraphQL (``enablePullRequestAutoMerge``): the fields PyGithub reads, spelled and
nested as GitHub sends them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import responses

API = "https://api.github.com"
WEB = "https://github.com"


def _user(login: str, uid: int) -> dict[str, Any]:
    return {
        "login": login,
        "id": uid,
        "node_id": f"U_{uid}",
        "type": "Bot" if login.endswith("[bot]") else "User",
        "site_admin": False,
        "url": f"{API}/users/{login}",
        "html_url": f"{WEB}/{login}",
    }


def _repo(full_name: str) -> dict[str, Any]:
    owner = full_name.split("/")[0]
    return {
        "id": 4242,
        "node_id": "R_kgDOAAAQkg",
        "name": full_name.split("/")[1],
        "full_name": full_name,
        "private": True,
        "owner": _user(owner, 100),
        "html_url": f"{WEB}/{full_name}",
        "url": f"{API}/repos/{full_name}",
        "default_branch": "main",
    }


@dataclass
class FakeGitHub:
    """Open pull requests by number, and every request seen (method, path, body)."""

    repository: str = "acme/gitops"
    token: str = "ghs_fakeGitHubToken0001"
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    deployments: dict[int, dict[str, Any]] = field(default_factory=dict)
    statuses: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    auto_merge_error: str | None = None
    fail_status: int | None = None
    """Answer every REST call with this status (401, 403, 500...)."""

    def install(self, rsps: responses.RequestsMock) -> None:
        # PyGithub spells the port out (https://api.github.com:443/...).
        host = re.escape(API) + "(?::443)?"
        base = host + re.escape(f"/repos/{self.repository}")
        rsps.add_callback(responses.GET, re.compile(rf"{base}$"), self._repo)
        rsps.add_callback(responses.GET, re.compile(rf"{base}/pulls(\?.*)?$"), self._list)
        rsps.add_callback(responses.POST, re.compile(rf"{base}/pulls$"), self._create)
        rsps.add_callback(responses.PATCH, re.compile(rf"{base}/pulls/\d+$"), self._edit)
        rsps.add_callback(responses.POST, re.compile(rf"{base}/issues/\d+/labels$"), self._labels)
        rsps.add_callback(responses.POST, re.compile(rf"{host}/graphql$"), self._graphql)
        rsps.add_callback(responses.POST, re.compile(rf"{base}/deployments$"), self._deploy)
        rsps.add_callback(
            responses.GET, re.compile(rf"{base}/deployments(\?.*)?$"), self._deployments
        )
        rsps.add_callback(
            responses.POST, re.compile(rf"{base}/deployments/\d+/statuses$"), self._status
        )

    # ------------------------------------------------------------ helpers
    def _record(self, request: Any) -> dict[str, Any] | None:
        body = json.loads(request.body) if request.body else None
        self.calls.append((request.method, urlsplit(request.url).path, body))
        return body

    def _denied(self, request: Any) -> tuple[int, dict[str, str], str] | None:
        if request.headers.get("Authorization") != f"token {self.token}":
            return (
                401,
                {},
                json.dumps(
                    {
                        "message": "Bad credentials",
                        "documentation_url": "https://docs.github.com/rest",
                        "status": "401",
                    }
                ),
            )
        if self.fail_status:
            messages = {
                403: "Resource not accessible by integration",
                500: "Server Error",
                502: "Bad Gateway",
                503: "Service Unavailable",
            }
            return (
                self.fail_status,
                {},
                json.dumps(
                    {
                        "message": messages.get(self.fail_status, "Error"),
                        "documentation_url": "https://docs.github.com/rest",
                        "status": str(self.fail_status),
                    }
                ),
            )
        return None

    def _pull_payload(self, number: int, head: str, base: str, title: str, body: str) -> dict:
        owner = self.repository.split("/")[0]
        url = f"{API}/repos/{self.repository}/pulls/{number}"
        return {
            "url": url,
            "id": 1000 + number,
            "node_id": f"PR_kwDOAAAQks{number:04d}",
            "html_url": f"{WEB}/{self.repository}/pull/{number}",
            "diff_url": f"{WEB}/{self.repository}/pull/{number}.diff",
            "patch_url": f"{WEB}/{self.repository}/pull/{number}.patch",
            "issue_url": f"{API}/repos/{self.repository}/issues/{number}",
            "commits_url": f"{url}/commits",
            "comments_url": f"{API}/repos/{self.repository}/issues/{number}/comments",
            "statuses_url": f"{API}/repos/{self.repository}/statuses/{'0' * 40}",
            "number": number,
            "state": "open",
            "locked": False,
            "title": title,
            "user": _user("github-actions[bot]", 41898282),
            "body": body,
            "labels": [],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": "2026-11-26T06:00:00Z",
            "updated_at": "2026-11-26T06:00:00Z",
            "closed_at": None,
            "merged_at": None,
            "merge_commit_sha": None,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": {
                "label": f"{owner}:{head}",
                "ref": head,
                "sha": "a" * 40,
                "user": _user(owner, 100),
                "repo": _repo(self.repository),
            },
            "base": {
                "label": f"{owner}:{base}",
                "ref": base,
                "sha": "b" * 40,
                "user": _user(owner, 100),
                "repo": _repo(self.repository),
            },
            "author_association": "NONE",
            "auto_merge": None,
            "draft": False,
            "merged": False,
            "mergeable": None,
            "mergeable_state": "unknown",
            "maintainer_can_modify": True,
        }

    # ------------------------------------------------------------ endpoints
    def _repo(self, request: Any) -> tuple[int, dict[str, str], str]:
        self._record(request)
        if denied := self._denied(request):
            return denied
        payload = _repo(self.repository) | {
            "permissions": {
                "admin": False,
                "maintain": False,
                "push": True,
                "triage": True,
                "pull": True,
            },
            "allow_auto_merge": True,
            "visibility": "private",
        }
        return 200, {}, json.dumps(payload)

    def _list(self, request: Any) -> tuple[int, dict[str, str], str]:
        self._record(request)
        if denied := self._denied(request):
            return denied
        query = parse_qs(urlsplit(request.url).query)
        found = [
            p
            for p in self.pulls.values()
            if p["state"] == query.get("state", ["open"])[0]
            and ("head" not in query or p["head"]["label"] == query["head"][0])
            and ("base" not in query or p["base"]["ref"] == query["base"][0])
        ]
        return 200, {}, json.dumps(found)

    def _create(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = self._record(request) or {}
        if denied := self._denied(request):
            return denied
        owner = self.repository.split("/")[0]
        exists = f"A pull request already exists for {owner}:{body['head']}."
        if any(
            p["head"]["ref"] == body["head"] and p["state"] == "open" for p in self.pulls.values()
        ):
            return (
                422,
                {},
                json.dumps(
                    {
                        "message": "Validation Failed",
                        "errors": [
                            {
                                "resource": "PullRequest",
                                "code": "custom",
                                "message": exists,
                            }
                        ],
                        "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
                        "status": "422",
                    }
                ),
            )
        number = len(self.pulls) + 1
        self.pulls[number] = self._pull_payload(
            number, body["head"], body["base"], body.get("title", ""), body.get("body", "")
        )
        return 201, {}, json.dumps(self.pulls[number])

    def _edit(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = self._record(request) or {}
        if denied := self._denied(request):
            return denied
        number = int(urlsplit(request.url).path.rsplit("/", 1)[1])
        pull = self.pulls[number]
        pull.update({k: v for k, v in body.items() if k in ("title", "body", "state")})
        pull["updated_at"] = "2026-11-26T06:05:00Z"
        return 200, {}, json.dumps(pull)

    def _labels(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = self._record(request) or {}
        if denied := self._denied(request):
            return denied
        number = int(urlsplit(request.url).path.split("/")[-2])
        pull = self.pulls[number]
        names = body.get("labels", body) if isinstance(body, dict) else body
        for name in names:
            if name not in [label["name"] for label in pull["labels"]]:
                pull["labels"].append(
                    {
                        "id": 9000 + len(pull["labels"]),
                        "node_id": f"LA_{name}",
                        "url": f"{API}/repos/{self.repository}/labels/{name}",
                        "name": name,
                        "color": "ededed",
                        "default": False,
                        "description": None,
                    }
                )
        return 200, {}, json.dumps(pull["labels"])

    def _graphql(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = self._record(request) or {}
        if denied := self._denied(request):
            return denied
        assert "enablePullRequestAutoMerge" in body["query"]
        pr_id = body["variables"]["input"]["pullRequestId"]
        if self.auto_merge_error:
            return (
                200,
                {},
                json.dumps(
                    {
                        "data": {"enablePullRequestAutoMerge": None},
                        "errors": [
                            {
                                "type": "UNPROCESSABLE",
                                "path": ["enablePullRequestAutoMerge"],
                                "locations": [{"line": 1, "column": 58}],
                                "message": self.auto_merge_error,
                            }
                        ],
                    }
                ),
            )
        for pull in self.pulls.values():
            if pull["node_id"] == pr_id:
                pull["auto_merge"] = {
                    "enabled_by": _user("github-actions[bot]", 41898282),
                    "merge_method": body["variables"]["input"]["mergeMethod"].lower(),
                    "commit_title": None,
                    "commit_message": None,
                }
        return (
            200,
            {},
            json.dumps(
                {
                    "data": {
                        "enablePullRequestAutoMerge": {
                            "actor": {
                                "avatarUrl": "https://avatars.githubusercontent.com/in/15368",
                                "login": "github-actions",
                                "resourcePath": "/apps/github-actions",
                                "url": "https://github.com/apps/github-actions",
                            },
                            "clientMutationId": None,
                        }
                    },
                }
            ),
        )

    def _deploy(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = self._record(request) or {}
        if denied := self._denied(request):
            return denied
        number = 7000 + len(self.deployments) + 1
        url = f"{API}/repos/{self.repository}/deployments/{number}"
        ref = body["ref"]
        environment = body.get("environment", "production")
        self.deployments[number] = {
            "url": url,
            "id": number,
            "node_id": f"DE_kwDOAAAQks{number}",
            "task": body.get("task", "deploy"),
            "original_environment": environment,
            "environment": environment,
            "description": body.get("description"),
            "created_at": f"2026-11-26T06:{len(self.deployments):02d}:00Z",
            "updated_at": f"2026-11-26T06:{len(self.deployments):02d}:00Z",
            "statuses_url": f"{url}/statuses",
            "repository_url": f"{API}/repos/{self.repository}",
            "creator": _user("github-actions[bot]", 41898282),
            "sha": ref if re.fullmatch(r"[0-9a-f]{40}", ref) else "c" * 40,
            "ref": ref,
            "payload": body.get("payload", {}),
            "transient_environment": body.get("transient_environment", False),
            "production_environment": environment == "production",
            "performed_via_github_app": None,
        }
        return 201, {}, json.dumps(self.deployments[number])

    def _deployments(self, request: Any) -> tuple[int, dict[str, str], str]:
        self._record(request)
        if denied := self._denied(request):
            return denied
        query = parse_qs(urlsplit(request.url).query)
        found = [
            d
            for d in sorted(self.deployments.values(), key=lambda d: -int(d["id"]))
            if ("environment" not in query or d["environment"] == query["environment"][0])
            and ("task" not in query or d["task"] == query["task"][0])
        ]
        return 200, {}, json.dumps(found)

    def _status(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = self._record(request) or {}
        if denied := self._denied(request):
            return denied
        number = int(urlsplit(request.url).path.split("/")[-2])
        deployment = self.deployments.get(number)
        if deployment is None:
            return 404, {}, json.dumps({"message": "Not Found", "status": "404"})
        statuses = self.statuses.setdefault(number, [])
        sid = 8000 + sum(len(v) for v in self.statuses.values()) + 1
        log_url = body.get("log_url") or body.get("target_url") or ""
        status = {
            "url": f"{deployment['url']}/statuses/{sid}",
            "id": sid,
            "node_id": f"DES_kwDOAAAQks{sid}",
            "state": body["state"],
            "creator": _user("github-actions[bot]", 41898282),
            "description": body.get("description", ""),
            "environment": body.get("environment", deployment["environment"]),
            "target_url": log_url,
            "log_url": log_url,
            "created_at": "2026-11-26T06:30:00Z",
            "updated_at": "2026-11-26T06:30:00Z",
            "deployment_url": deployment["url"],
            "repository_url": deployment["repository_url"],
            "environment_url": body.get("environment_url", ""),
            "performed_via_github_app": None,
        }
        statuses.append(status)
        return 201, {}, json.dumps(status)

    def requests_to(self, method: str, suffix: str) -> list[Any]:
        return [body for m, path, body in self.calls if m == method and path.endswith(suffix)]
