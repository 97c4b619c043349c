"""What to tell people about a deploy, a verdict, a switch or a rollback, per service.

One :class:`Event` becomes three payloads, each in its service's documented format:

* Slack incoming webhook: ``text`` (the fallback) plus Block Kit ``blocks`` (header,
  section with fields, context with the run link);
* Microsoft Teams workflow webhook ("When a Teams webhook request is received"):
  a ``message`` whose one attachment is an Adaptive Card 1.4
  (``application/vnd.microsoft.card.adaptive``) with a FactSet and an OpenUrl action;
* a generic JSON webhook: the event itself (``schema: gitops-guard/event/v1``).

Webhook URLs come from ``SLACK_WEBHOOK_URL``, ``TEAMS_WEBHOOK_URL`` and
``NOTIFY_WEBHOOK_URL``; :func:`send` posts through :func:`gitops_guard.notify.post_json`
(the one client with retries) and never raises: a failing webhook is a warning.
Payload builders are pure; only :func:`send` does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from gitops_guard import credentials, notify

Kind = Literal["deploy", "verdict", "switch", "rollback"]
SCHEMA = "gitops-guard/event/v1"
CHANNELS = {
    "slack": credentials.webhook_url,
    "teams": credentials.teams_webhook_url,
    "webhook": credentials.json_webhook_url,
}
"""Channel -> its resolver in the one token resolver (the URLs are secrets)."""
_ICON = {"success": "✅", "failure": "❌", "error": "⚠️", "queued": "⏳"}


@dataclass(frozen=True)
class Event:
    """Something that happened to an environment."""

    kind: Kind
    environment: str
    state: str
    """success, failure, error or queued (the deployment status)."""
    description: str
    app: str = ""
    image: str = ""
    commit: str = ""
    verdict: str = ""
    run_url: str = ""
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        icon = _ICON.get(self.state, "")
        what = {
            "deploy": "deploy",
            "verdict": "SLO verdict",
            "switch": "switch",
            "rollback": "rollback",
        }[self.kind]
        subject = f" of {self.app}" if self.app else ""
        return f"{icon} gitops-guard {what}{subject} in {self.environment}: {self.state}".strip()

    def fields(self) -> list[tuple[str, str]]:
        rows = [
            ("Environment", self.environment),
            ("Image", self.image),
            ("Commit", self.commit[:12]),
            ("Verdict", self.verdict),
        ]
        return [(k, v) for k, v in rows if v]


def slack(event: Event) -> dict[str, Any]:
    """Slack incoming-webhook payload (text fallback + Block Kit)."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": event.title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": event.description}},
    ]
    if event.fields():
        blocks.append(
            {
                "type": "section",
                "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in event.fields()],
            }
        )
    if event.run_url:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"<{event.run_url}|workflow run>"}],
            }
        )
    return {"text": f"{event.title}: {event.description}", "blocks": blocks}


def teams(event: Event) -> dict[str, Any]:
    """Teams workflow-webhook payload: a message with one Adaptive Card."""
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": event.title,
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
            },
            {"type": "TextBlock", "text": event.description, "wrap": True},
            {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in event.fields()]},
        ],
    }
    if event.run_url:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": "Workflow run", "url": event.run_url}
        ]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def webhook(event: Event) -> dict[str, Any]:
    """The generic JSON webhook payload: the event as data."""
    return {
        "schema": SCHEMA,
        "event": event.kind,
        "environment": event.environment,
        "app": event.app,
        "state": event.state,
        "description": event.description,
        "image": event.image,
        "commit": event.commit,
        "verdict": event.verdict or None,
        "run_url": event.run_url,
        "facts": dict(event.facts),
    }


_BUILDERS = {"slack": slack, "teams": teams, "webhook": webhook}


def send(event: Event, environ: Mapping[str, str] | None = None) -> dict[str, bool]:
    """Post the event to every configured channel; channel -> delivered (never raises)."""
    sent: dict[str, bool] = {}
    for channel, resolve in CHANNELS.items():
        url = resolve(environ)
        if url is not None:
            sent[channel] = notify.post_json(
                url.value, _BUILDERS[channel](event), channel=channel, env_name=url.source
            )
    return sent
