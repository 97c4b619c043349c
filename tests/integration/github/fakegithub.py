"""A stateful stand-in for the parts of GitHub's API that update-manifest and
record use, served through ``responses`` (PyGithub speaks ``requests``).

Deployments follow ``POST/GET /repos/{owner}/{repo}/deployments`` and
``POST /repos/{owner}/{repo}/deployments/{id}/statuses``.

Payloads follow GitHub's REST API (``GET/POST /repos/{owner}/{repo}/pulls``,
``PATCH /repos/{owner}/{repo}/pulls/{number}``,
``POST /repos/{owner}/{repo}/issues/{number}/labels``,
``PUT /repos/{owner}/{repo}/pulls/{number}/merge``,
``POST /repos/{owner}/{repo}/issues/{number}/comments``,
``GET/POST /repos/{owner}/{repo}/deployments`` and ``.../deployments/{id}/statuses``)
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
    """Deployments by id (statuses apart, in :attr:`statuses`), as GitHub lists them."""
    statuses: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    comments: list[dict[str, Any]] = field(default_factory=list)
    """Issue and pull request comments, oldest first."""
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
        rsps.add_callback(responses.PUT, re.compile(rf"{base}/pulls/\d+/merge$"), self._merge)
        rsps.add_callback(
            responses.POST, re.compile(rf"{base}/issues/\d+/comments$"), self._comment
        )
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
        # PyGithub sends "token X"; GitHub takes "Bearer X" as well.
        if request.headers.get("Authorization") not in (
            f"token {self.token}",
            f"Bearer {self.token}",
        ):
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

    # ------------------------------------------------------------ merges and comments
    def merge(self, number: int, sha: str) -> dict[str, Any]:
        """Mark pull request ``number`` merged as ``sha`` (what a person's merge does)."""
        pull = self.pulls[number]
        pull.update(
            state="closed",
            merged=True,
            merged_at="2026-11-26T06:10:00Z",
            closed_at="2026-11-26T06:10:00Z",
            merge_commit_sha=sha,
            merged_by=_user("octocat", 583231),
        )
        return pull

    def _merge(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = self._record(request) or {}
        if denied := self._denied(request):
            return denied
        number = int(urlsplit(request.url).path.split("/")[-2])
        sha = body.get("sha") or f"{number:040x}"
        self.merge(number, sha)
        return (
            200,
            {},
            json.dumps({"sha": sha, "merged": True, "message": "Pull Request successfully merged"}),
        )

    def _comment(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = self._record(request) or {}
        if denied := self._denied(request):
            return denied
        number = int(urlsplit(request.url).path.split("/")[-2])
        cid = 7000 + len(self.comments)
        comment = {
            "id": cid,
            "node_id": f"IC_{cid}",
            "url": f"{API}/repos/{self.repository}/issues/comments/{cid}",
            "html_url": f"{WEB}/{self.repository}/issues/{number}#issuecomment-{cid}",
            "issue_url": f"{API}/repos/{self.repository}/issues/{number}",
            "body": body.get("body", ""),
            "user": _user("github-actions[bot]", 41898282),
            "created_at": "2026-11-26T06:20:00Z",
            "updated_at": "2026-11-26T06:20:00Z",
            "author_association": "NONE",
        }
        self.comments.append(comment)
        return 201, {}, json.dumps(comment)

    # ------------------------------------------------------------ deployments
    def add_deployment(
        self,
        *,
        environment: str,
        task: str = "deploy",
        payload: dict[str, Any] | None = None,
        state: str | None = None,
        ref: str = "main",
    ) -> dict[str, Any]:
        """Store a deployment as ``POST .../deployments`` would, and optionally one status
        (records an earlier run made)."""
        deployment = self._store(
            {"ref": ref, "task": task, "environment": environment, "payload": payload or {}}
        )
        if state:
            statuses = self.statuses.setdefault(int(deployment["id"]), [])
            statuses.append({"id": 9000 + len(statuses), "state": state})
        return deployment

    def _store(self, body: dict[str, Any]) -> dict[str, Any]:
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
        return self.deployments[number]

    def _deploy(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = self._record(request) or {}
        if denied := self._denied(request):
            return denied
        return 201, {}, json.dumps(self._store(body))

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


class _Routes:
    """Collects the routes :meth:`FakeGitHub.install` registers (``responses``'s API)."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Any]] = []

    def add_callback(self, method: str, url: re.Pattern[str], callback: Any) -> None:
        self.routes.append((method, url, callback))


def serve(fake: FakeGitHub) -> tuple[str, Any]:
    """Serve ``fake`` over real HTTP on loopback (for processes outside the test, such as
    act's steps); returns (base URL, server). The same state and payloads as through
    ``responses``; stop it with ``server.shutdown()``."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from types import SimpleNamespace

    routes = _Routes()
    fake.install(routes)  # type: ignore[arg-type]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length", "0") or 0)
            body = self.rfile.read(length) if length else b""
            request = SimpleNamespace(
                method=self.command,
                url=API + self.path,
                body=body.decode() if body else None,
                headers={"Authorization": self.headers.get("Authorization", "")},
            )
            for method, pattern, callback in routes.routes:
                if method == self.command and pattern.match(request.url):
                    with lock:
                        code, _, text = callback(request)
                    break
            else:  # kept too: a webhook pointed here is seen by the test
                with lock:
                    parsed = json.loads(request.body) if request.body else None
                    fake.calls.append((self.command, urlsplit(request.url).path, parsed))
                code, text = 404, json.dumps({"message": "Not Found", "status": "404"})
            # Links in payloads point back here, as PyGithub follows them (a status is
            # POSTed to the deployment's own ``url``).
            data = text.replace(API, base).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return base, server
