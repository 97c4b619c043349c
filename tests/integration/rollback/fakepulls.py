"""A stateful stand-in for GitHub's pull request API, served through ``responses``.

Covers what a rollback pull request uses: ``GET /repos/{o}/{r}/pulls`` (filtered by
``head`` and ``state``), ``POST /repos/{o}/{r}/pulls``, ``PATCH /repos/{o}/{r}/pulls/{n}``,
``POST /repos/{o}/{r}/issues/{n}/labels``, ``POST /repos/{o}/{r}/issues/{n}/comments``
and the GraphQL ``enablePullRequestAutoMerge`` mutation. Payloads carry the fields
PyGithub reads, named and nested as GitHub sends them.
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


def _user(login: str) -> dict[str, Any]:
    return {
        "login": login,
        "id": 41898282,
        "node_id": "MDM6Qm90NDE4OTgyODI=",
        "type": "Bot",
        "site_admin": False,
        "url": f"{API}/users/{login}",
        "html_url": f"{WEB}/apps/github-actions",
    }


@dataclass
class FakePulls:
    repository: str = "acme/gitops"
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)

    def install(self, rsps: responses.RequestsMock) -> None:
        base = r"https://api\.github\.com(?::443)?" + re.escape(f"/repos/{self.repository}")
        rsps.add_callback("GET", re.compile(base + r"/pulls(\?.*)?$"), callback=self._list)
        rsps.add_callback("POST", re.compile(base + r"/pulls$"), callback=self._create)
        rsps.add_callback("PATCH", re.compile(base + r"/pulls/\d+$"), callback=self._edit)
        rsps.add_callback("POST", re.compile(base + r"/issues/\d+/labels$"), callback=self._labels)
        rsps.add_callback(
            "POST", re.compile(base + r"/issues/\d+/comments$"), callback=self._comment
        )
        rsps.add_callback("GET", re.compile(base + r"/issues/\d+$"), callback=self._issue)
        rsps.add_callback(
            "POST",
            re.compile(r"https://api\.github\.com(?::443)?/graphql$"),
            callback=self._graphql,
        )

    def _seen(self, request: Any) -> None:
        self.calls.append((request.method, urlsplit(request.url).path))
        self.auth_headers.append(str(request.headers.get("Authorization", "")))

    def _payload(self, number: int, head: str, base: str, title: str, body: str) -> dict:
        owner = self.repository.split("/")[0]
        url = f"{API}/repos/{self.repository}"
        return {
            "url": f"{url}/pulls/{number}",
            "id": 1000 + number,
            "node_id": f"PR_kwDOAAAB{number:04d}",
            "html_url": f"{WEB}/{self.repository}/pull/{number}",
            "issue_url": f"{url}/issues/{number}",
            "number": number,
            "state": "open",
            "locked": False,
            "title": title,
            "body": body,
            "user": _user("github-actions[bot]"),
            "labels": [],
            "draft": False,
            "merged": False,
            "auto_merge": None,
            "head": {"label": f"{owner}:{head}", "ref": head, "sha": "0" * 40},
            "base": {"label": f"{owner}:{base}", "ref": base, "sha": "1" * 40},
            "created_at": "2026-11-26T06:00:00Z",
            "updated_at": "2026-11-26T06:00:00Z",
        }

    def _list(self, request: Any) -> tuple[int, dict[str, str], str]:
        self._seen(request)
        query = parse_qs(urlsplit(request.url).query)
        head = query.get("head", [""])[0].split(":", 1)[-1]
        state = query.get("state", ["open"])[0]
        found = [
            p
            for p in self.pulls.values()
            if (not head or p["head"]["ref"] == head) and (state == "all" or p["state"] == state)
        ]
        return 200, {"Content-Type": "application/json"}, json.dumps(found)

    def _create(self, request: Any) -> tuple[int, dict[str, str], str]:
        self._seen(request)
        data = json.loads(request.body)
        for pull in self.pulls.values():
            if pull["head"]["ref"] == data["head"] and pull["state"] == "open":
                error = {
                    "message": "Validation Failed",
                    "errors": [
                        {
                            "resource": "PullRequest",
                            "code": "custom",
                            "message": f"A pull request already exists for {data['head']}.",
                        }
                    ],
                }
                return 422, {"Content-Type": "application/json"}, json.dumps(error)
        number = len(self.pulls) + 1
        pull = self._payload(number, data["head"], data["base"], data["title"], data["body"])
        self.pulls[number] = pull
        return 201, {"Content-Type": "application/json"}, json.dumps(pull)

    def _edit(self, request: Any) -> tuple[int, dict[str, str], str]:
        self._seen(request)
        number = int(urlsplit(request.url).path.rsplit("/", 1)[1])
        self.pulls[number].update(json.loads(request.body))
        return 200, {"Content-Type": "application/json"}, json.dumps(self.pulls[number])

    def _labels(self, request: Any) -> tuple[int, dict[str, str], str]:
        self._seen(request)
        number = int(urlsplit(request.url).path.split("/")[-2])
        names = json.loads(request.body)
        pull = self.pulls[number]
        for name in names:
            if name not in [label["name"] for label in pull["labels"]]:
                pull["labels"].append(
                    {
                        "id": 1,
                        "node_id": "LA_1",
                        "name": name,
                        "color": "d73a4a",
                        "default": False,
                        "url": f"{API}/repos/{self.repository}/labels/{name}",
                    }
                )
        return 200, {"Content-Type": "application/json"}, json.dumps(pull["labels"])

    def _issue(self, request: Any) -> tuple[int, dict[str, str], str]:
        self._seen(request)
        number = int(urlsplit(request.url).path.rsplit("/", 1)[1])
        issue = {
            "url": f"{API}/repos/{self.repository}/issues/{number}",
            "html_url": f"{WEB}/{self.repository}/issues/{number}",
            "number": number,
            "state": "open",
            "title": "deploy tracking",
            "user": _user("octocat"),
            "labels": [],
            "comments_url": f"{API}/repos/{self.repository}/issues/{number}/comments",
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(issue)

    def _comment(self, request: Any) -> tuple[int, dict[str, str], str]:
        self._seen(request)
        number = int(urlsplit(request.url).path.split("/")[-2])
        body = json.loads(request.body)["body"]
        comment = {
            "id": 500 + len(self.comments),
            "node_id": "IC_1",
            "url": f"{API}/repos/{self.repository}/issues/comments/{500 + len(self.comments)}",
            "html_url": f"{WEB}/{self.repository}/issues/{number}#issuecomment-1",
            "body": body,
            "user": _user("github-actions[bot]"),
            "created_at": "2026-11-26T06:00:00Z",
            "updated_at": "2026-11-26T06:00:00Z",
        }
        self.comments.append(comment)
        return 201, {"Content-Type": "application/json"}, json.dumps(comment)

    def _graphql(self, request: Any) -> tuple[int, dict[str, str], str]:
        self._seen(request)
        data = json.loads(request.body)
        node = data["variables"]["input"]["pullRequestId"]
        for pull in self.pulls.values():
            if pull["node_id"] == node:
                pull["auto_merge"] = {
                    "merge_method": data["variables"]["input"]["mergeMethod"].lower()
                }
        answer = {
            "data": {
                "enablePullRequestAutoMerge": {
                    "actor": {
                        "avatarUrl": "",
                        "login": "github-actions[bot]",
                        "resourcePath": "/apps/github-actions",
                        "url": "",
                    },
                    "clientMutationId": None,
                }
            }
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(answer)

    def count(self, method: str, suffix: str) -> int:
        return sum(1 for m, p in self.calls if m == method and p.endswith(suffix))
