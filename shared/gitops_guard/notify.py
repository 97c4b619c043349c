"""Tell people: chat webhooks (Slack, Microsoft Teams, any JSON endpoint) and GitHub comments.

Every channel is optional and best effort: the deploy or rollback already happened
when they run, so a failed notification is a warning that says so, never a failed job.
:func:`post_json` is the one webhook client, on the one HTTP base; the payloads
for Slack, Teams and the generic webhook are built in
:mod:`gitops_guard.observe.notifications`.

* Webhook: ``POST {"text": ...}`` to the URL in ``SLACK_WEBHOOK_URL`` (Slack,
  Mattermost, Rocket.Chat and Teams' Slack-compatible connectors accept it), through
  the one HTTP base (:mod:`gitops_guard.http`): retried on connect errors, 5xx and 429
  within a deadline. The URL is a secret: it is registered for masking and never
  printed; the payload is redacted.
* GitHub: a comment on an issue or pull request through the one GitHub client
  (:func:`gitops_guard.github.comment_on_issue`).

:func:`compose` is pure; the senders do one call each. This module must not
decide whether to roll back or read any file.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from gitops_guard import actions, credentials, errors, github, http

log = logging.getLogger(__name__)

WEBHOOK_ENV = credentials.WEBHOOK_VARS[0]
WEBHOOK_DEADLINE_SECONDS = 30.0
"""A notification (every retry included) gives up after this long: the rollback is done."""


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
    deadline: http.Deadline | None = None,
    transport: httpx.BaseTransport | None = None,
    retry: http.RetryPolicy | None = None,
) -> bool:
    """POST ``payload`` to a webhook through the one HTTP base (retries, one deadline).

    The URL is a secret (it carries the webhook's key): masked, never printed. On
    failure: False and a warning naming ``channel`` and ``env_name``, saying the
    deploy is not affected.
    """
    credentials.register(url)
    # httpx ends a base URL with "/": post to the path itself, as the service gave it
    # (Slack and Teams answer 404 for ".../secret/").
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}"
    path = url[len(base) :] or "/"
    credentials.register(path)  # the path carries the webhook's key: never in a message
    try:
        with http.Client(
            base,
            service=f"the {channel} webhook",
            url_source=env_name,
            timeouts=http.Timeouts(
                connect_seconds=min(5.0, timeout_seconds), request_seconds=timeout_seconds
            ),
            retry=retry,
            deadline=deadline or http.Deadline(WEBHOOK_DEADLINE_SECONDS, source=env_name),
            transport=transport,
        ) as client:
            client.request("POST", path, json=dict(payload))
    except errors.GitopsGuardError as exc:
        actions.warning(
            f"the {channel} notification was not sent: {exc.message}; check {env_name}. "
            "The deploy is not affected.",
            title="Notification failed",
        )
        return False
    return True


def send_webhook(
    message: Message,
    *,
    url: str | None = None,
    timeout_seconds: float = 10,
    deadline: http.Deadline | None = None,
    transport: httpx.BaseTransport | None = None,
) -> bool:
    """POST the message to the incoming webhook; False (and a warning) when it fails."""
    if url is None:
        found = credentials.webhook_url()
        target = found.value if found else ""
    else:
        target = url
    if not target:
        return False
    return post_json(
        target,
        {"text": credentials.redact(message.text())},
        channel="chat",
        env_name=WEBHOOK_ENV,
        timeout_seconds=timeout_seconds,
        deadline=deadline,
        transport=transport,
    )


def comment_on_github(
    message: Message, *, repository: str, number: int, token: str, base_url: str | None = None
) -> str:
    """Comment on issue or pull request ``number``; returns the comment URL ("" on failure)."""
    settings = github.ApiSettings(
        token=token, api_url=(base_url or github.DEFAULT_API_URL).rstrip("/")
    )
    try:
        return github.comment_on_issue(repository, number, message.markdown(), settings=settings)
    except errors.GitopsGuardError as exc:
        actions.warning(
            f"the GitHub comment on {repository}#{number} was not posted: {exc.message}; "
            "the token needs issues: write",
            title="Notification failed",
        )
        return ""
