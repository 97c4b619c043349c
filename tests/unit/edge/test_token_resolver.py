"""The one token resolver and the secret registry.

Behaviours covered:
- which variable supplies which token, first set wins (ArgoCD's own names included);
- a token is registered the moment it is read;
- redaction of raw, URL-encoded (quote, quote_plus) and base64 forms, also inside a
  longer base64 text (``user:token`` basic auth) at every byte offset;
- URL user info is stripped, percent-decoded and registered; URLs in text lose it;
- reports written by ``report.write_json`` are redacted;
- a Token's repr never shows the value.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from pathlib import Path

import pytest

from gitops_guard import actions, credentials, report

CANARY = "canary-S3cr3t/+=value"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"ARGOCD_TOKEN": "a-token", "ARGOCD_AUTH_TOKEN": "b-token"}, ("a-token", "ARGOCD_TOKEN")),
        ({"ARGOCD_AUTH_TOKEN": "b-token"}, ("b-token", "ARGOCD_AUTH_TOKEN")),
        ({"ARGOCD_TOKEN": "  "}, None),
    ],
)
def test_argocd_token(environ: dict[str, str], expected: tuple[str, str] | None) -> None:
    token = credentials.argocd_token(environ)
    assert (token.value, token.source) == expected if token else expected is None


def test_github_token_order_and_prefer() -> None:
    env = {"GITHUB_TOKEN": "gh-token", "GITOPS_TOKEN": "ops-token", "INPUT_TOKEN": "in-token"}
    assert credentials.github_token(env) == credentials.Token("in-token", "INPUT_TOKEN")
    assert credentials.github_token({"GITHUB_TOKEN": "gh-token", "GITOPS_TOKEN": "ops-token"}) == (
        credentials.Token("ops-token", "GITOPS_TOKEN")
    )
    assert credentials.github_token({"MINE": "mine-token", **env}, prefer="MINE") == (
        credentials.Token("mine-token", "MINE")
    )
    assert credentials.github_token({}) is None


def test_other_tokens_and_server() -> None:
    env = {
        "PROMETHEUS_TOKEN": "p-token",
        "ALERTMANAGER_TOKEN": "am-token",
        "SLACK_WEBHOOK_URL": "https://hooks.example/x",
        "ARGOCD_SERVER": "argocd.example.com",
    }
    assert credentials.prometheus_token(env) == credentials.Token("p-token", "PROMETHEUS_TOKEN")
    assert credentials.alertmanager_token(env).source == "ALERTMANAGER_TOKEN"  # type: ignore[union-attr]
    assert credentials.webhook_url(env).value == "https://hooks.example/x"  # type: ignore[union-attr]
    assert credentials.argocd_server(env) == "argocd.example.com"
    assert credentials.argocd_server({}) is None


def test_read_token_is_registered_and_repr_hides_it() -> None:
    token = credentials.prometheus_token({"PROMETHEUS_TOKEN": CANARY})
    assert token is not None
    assert CANARY not in repr(token)
    assert credentials.redact(f"x {CANARY} y") == "x *** y"


@pytest.mark.parametrize(
    "form",
    [
        CANARY,
        urllib.parse.quote(CANARY, safe=""),
        urllib.parse.quote(CANARY),
        urllib.parse.quote_plus(CANARY),
        base64.b64encode(CANARY.encode()).decode(),
        base64.urlsafe_b64encode(CANARY.encode()).decode(),
        base64.b64encode(f"x-access-token:{CANARY}".encode()).decode(),
        base64.b64encode(f"a:{CANARY}".encode()).decode(),
        base64.b64encode(f"ab:{CANARY}".encode()).decode(),
        base64.b64encode(json.dumps({"auth": CANARY}).encode()).decode(),
    ],
)
def test_every_form_is_redacted(form: str) -> None:
    credentials.register(CANARY)
    out = credentials.redact(f"Authorization: Basic {form} end")
    assert CANARY not in out
    assert form not in out


def test_short_values_are_not_registered() -> None:
    credentials.register("abc")
    assert credentials.redact("abc abc") == "abc abc"


def test_split_userinfo_strips_decodes_and_registers() -> None:
    encoded = urllib.parse.quote(CANARY, safe="")
    url, auth = credentials.split_userinfo(f"https://admin:{encoded}@prom.example:9090/p?q=1")
    assert url == "https://prom.example:9090/p?q=1"
    assert auth == ("admin", CANARY)
    assert CANARY not in credentials.redact(f"{CANARY} {encoded}")
    assert credentials.split_userinfo("https://prom.example/") == ("https://prom.example/", None)
    bare, auth = credentials.split_userinfo("http://tok3n-value@h")
    assert (bare, auth) == ("http://h", ("tok3n-value", ""))
    assert credentials.redact("tok3n-value") == "***"


def test_userinfo_in_text_is_hidden() -> None:
    assert credentials.redact("see https://u:p@h/x and ssh://git@h/r") == (
        "see https://***@h/x and ssh://***@h/r"
    )


def test_report_files_are_redacted(tmp_path: Path) -> None:
    actions.register_secret(CANARY)
    path = report.write_json(
        tmp_path / "r.json",
        {"reason": f"server said Bearer {CANARY}", "url": f"http://a:{CANARY}@h"},
    )
    text = path.read_text()
    assert CANARY not in text
    assert json.loads(text)["url"] == "http://***@h"
