"""Tell people: chat webhooks (Slack, Microsoft Teams, any JSON endpoint) and GitHub comments.

Every channel is optional and best effort: the deploy or rollback already happened
when they run, so a failed notification is a warning that says so, never a failed job.
:func:`post_json` is the one webhook client (timeouts, retries of 5xx/429 and
connection errors); the payloads are built in :mod:`gitops_guard.observe.notifications`.

* Webhook: ``POST {"text": ...}`` to the URL in ``SLACK_WEBHOOK_URL`` (Slack,
  Mattermost, Rocket.Chat and Teams' Slack-compatible connectors accept it). The
  URL is a secret: it is registered for masking and never printed.
* GitHub: a comment on an issue or pull request (PyGithub, ``GITHUB_TOKEN``).

:func:`compose` is pure; the senders do one HTTP call each. This module must not
decide whether to roll back or read any file.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from gitops_guard import actions

log = logging.getLogger(__name__)

WEBHOOK_ENV = "SLACK_WEBHOOK_URL"


@dataclass(frozen=True)
class Message:
    """What was rolled back, why, and where the evidence is."""

    title: str
    what: Sequence[str]
    """One line per image change, e.g. ``ghcr.io/acme/web:1.4.0 -> 1.3.2``."""
    why: str
    where: Sequence[tuple[str, str]] = ()
    """(label, URL) pairs: the run, the pull request, the commit."""

    def text(self) -> str:
        """Plain text with Slack's ``<url|label>`` links."""
        lines = [f"*{self.title}*"]
        lines += [f"• {line}" for line in self.what]
        if self.why:
            lines.append(f"Why: {self.why}")
        links = [f"<{url}|{label}>" for label, url in self.where if url]
        if links:
            lines.append("Evidence: " + " · ".join(links))
        return "\n".join(lines)

    def markdown(self) -> str:
        """GitHub Markdown for an issue comment."""
        lines = [f"### {self.title}", ""]
        lines += [f"- `{line}`" for line in self.what]
        if self.why:
            lines += ["", f"**Why:** {self.why}"]
        links = [f"[{label}]({url})" for label, url in self.where if url]
        if links:
            lines += ["", "**Evidence:** " + " · ".join(links)]
        return "\n".join(lines)


def compose(
    *,
    app: str,
    moves: Sequence[tuple[str, str]],
    why: str,
    rollback_sha: str = "",
    pull_request_url: str = "",
    run_url: str = "",
    dry_run: bool = False,
) -> Message:
    """The message for a rollback of ``moves`` (bad image, restored image) pairs."""
    verb = "would roll back" if dry_run else "rolled back"
    title = f"gitops-guard {verb} {app}".strip()
    where = [("run", run_url), ("pull request", pull_request_url)]
    if rollback_sha:
        where.append(("commit", rollback_sha[:12]))
    return Message(
        title=title,
        what=[f"{bad} -> {good}" for bad, good in moves],
        why=why,
        where=[(label, url) for label, url in where if url and url.startswith("http")],
    )


def post_json(
    url: str,
    payload: Mapping[str, Any],
    *,
    channel: str,
    env_name: str,
    timeout_seconds: float = 10,
    attempts: int = 3,
    wait_seconds: float = 0.5,
) -> bool:
    """POST ``payload`` to a webhook, retrying 429/5xx and connection errors.

    The URL is a secret (it carries the webhook's key): masked, never printed. On
    failure: False and a warning naming ``channel`` and ``env_name``, saying the
    deploy is not affected.
    """
    actions.register_secret(url)
    problem = ""
    for attempt in range(attempts):
        try:
            response = httpx.post(url, json=dict(payload), timeout=timeout_seconds)
        except httpx.HTTPError as exc:
            problem = f"could not be reached ({type(exc).__name__})"
        else:
            if response.status_code < 300:
                return True
            problem = f"answered {response.status_code}"
            if response.status_code != 429 and response.status_code < 500:
                break
        if attempt + 1 < attempts:
            time.sleep(wait_seconds * 2**attempt)
    actions.warning(
        f"the {channel} notification was not sent: the webhook {problem}; check {env_name}. "
        "The deploy is not affected.",
        title="Notification failed",
    )
    return False


def send_webhook(message: Message, *, url: str | None = None, timeout_seconds: float = 10) -> bool:
    """POST the message to the Slack-compatible incoming webhook; False when it fails."""
    target = url if url is not None else os.environ.get(WEBHOOK_ENV, "")
    if not target:
        return False
    return post_json(
        target,
        {"text": message.text()},
        channel="chat",
        env_name=WEBHOOK_ENV,
        timeout_seconds=timeout_seconds,
    )


def comment_on_github(
    message: Message, *, repository: str, number: int, token: str, base_url: str | None = None
) -> str:
    """Comment on issue or pull request ``number``; returns the comment URL ("" on failure)."""
    from github import Auth, Github, GithubException

    actions.register_secret(token)
    client = Github(
        auth=Auth.Token(token), base_url=base_url or "https://api.github.com", lazy=True
    )
    try:
        issue = client.get_repo(repository).get_issue(number)
        comment = issue.create_comment(message.markdown())
        return str(comment.html_url)
    except GithubException as exc:
        actions.warning(
            f"the GitHub comment on {repository}#{number} was not posted ({exc.status}); "
            "the token needs issues: write",
            title="Notification failed",
        )
        return ""
    except Exception as exc:  # best effort: the rollback is done, a comment must not undo it
        actions.warning(
            f"the GitHub comment on {repository}#{number} was not posted: {type(exc).__name__}",
            title="Notification failed",
        )
        return ""
    finally:
        client.close()
