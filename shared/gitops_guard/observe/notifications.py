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
:func:`strategy_events` turns a blue-green or canary run into its ``switch``,
``switch-back`` or ``abort`` events. Payload builders and events are pure; only
:func:`send` and :func:`tell` do I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from gitops_guard import credentials, notify

Kind = Literal["deploy", "verdict", "switch", "switch-back", "abort", "rollback"]
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
            "switch-back": "switch-back",
            "abort": "canary abort",
            "rollback": "rollback",
        }[self.kind]
        subject = f" of {self.app}" if self.app else ""
        where = f" in {self.environment}" if self.environment else ""
        return f"{icon} gitops-guard {what}{subject}{where}: {self.state}".strip()

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


@dataclass(frozen=True)
class StrategyRun:
    """What a blue-green or canary run did, as far as people are told about it."""

    strategy: Literal["blue-green", "canary"]
    service: str
    image: str
    outcome: str
    reason: str
    commits: Mapping[str, str]
    switched: bool = False
    """blue-green: live traffic moved to the new colour (a commit, or a Service patch)."""
    switched_back: bool = False
    """blue-green: live traffic moved back to the old colour."""
    live_before: str = ""
    live_after: str = ""


def strategy_events(
    run: StrategyRun, *, environment: str, app: str = "", run_url: str = ""
) -> list[Event]:
    """The events of one blue-green or canary run, in the order they happened (pure).

    * blue-green: ``switch`` when live traffic moved to the new colour, then
      ``switch-back`` when it moved back (the post-switch gate said no);
    * canary: ``switch`` when the canary took all traffic (``promote``), or ``abort``
      when one revert put the stable colour back.

    A run that never moved live traffic (rejected on the preview, already in place,
    undecided before the switch) tells nobody: the record job reports the deploy.
    """
    base = {
        "environment": environment,
        "app": app or run.service,
        "image": run.image,
        "run_url": run_url,
    }
    facts = {"strategy": run.strategy, "outcome": run.outcome}
    events: list[Event] = []

    def add(kind: Kind, key: str, description: str) -> None:
        commit = run.commits.get(key, "")
        events.append(
            Event(
                kind=kind,
                state="success",
                description=description,
                commit=commit,
                facts=facts | ({"commit": commit} if commit else {}),
                **base,
            )
        )

    if run.strategy == "blue-green":
        if run.switched:
            # After a switch-back the live colour is the old one again.
            new = "the new colour" if run.switched_back or not run.live_after else run.live_after
            old = f" from {run.live_before}" if run.live_before else ""
            add(
                "switch",
                "switch",
                f"{run.service}: live traffic switched{old} to {new}, running {run.image}",
            )
        if run.switched_back:
            add(
                "switch-back",
                "switch-back",
                f"{run.service}: switched back to {run.live_after or 'the old colour'}: "
                f"{run.reason} ({run.outcome})",
            )
    else:
        if run.commits.get("promote"):
            add("switch", "promote", f"{run.service}: the canary of {run.image} takes all traffic")
        if run.commits.get("abort"):
            add(
                "abort",
                "abort",
                f"{run.service}: canary of {run.image} aborted, the stable colour takes all "
                f"traffic again: {run.reason} ({run.outcome})",
            )
    return events


def tell(events: list[Event], environ: Mapping[str, str] | None = None) -> list[str]:
    """Send every event to every configured channel; one note per delivery.

    ``slack notified`` or ``slack NOT notified`` (the warning that says why, and that
    the deploy is not affected, comes from :func:`gitops_guard.notify.post_json`).
    """
    notes: list[str] = []
    for event in events:
        for channel, ok in send(event, environ).items():
            notes.append(f"{event.kind}: {channel} {'notified' if ok else 'NOT notified'}")
    return notes


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
