"""argocd-wait against a fault server playing ArgoCD.

Behaviours covered, each through the real CLI in a pretend runner with a canary token
in every token variable:
- a fault (hang, slow drip, 503, 429 with a long Retry-After, a 500 echoing the
  Authorization header, ``{}``, an app without status, invalid JSON, a truncated body,
  wrong types) exits 3: never 0, never 1, never 2;
- every run ends within ``--timeout`` + 5 s, with no traceback, and the message states
  the real elapsed time;
- a stream that only sends blank lines cannot hold the wait open: the wait falls back
  to polling and finishes;
- transient faults that clear within the deadline (503 twice, 429 with Retry-After: 1)
  are recovered: exit 0;
- the canary (raw, URL-encoded, base64) is in no channel and no file, also when it is
  URL-encoded in the user info of ``--server``.
"""

from __future__ import annotations

import re
import urllib.parse

import pytest
from faultkit import CANARY, SLACK, scan
from faultserver import ECHO_AUTH, HANG, Fault, FaultServer, blank_lines, drip, truncated

from gitops_guard_lab.argocd_payloads import make_application

OLD = "1" * 40
OURS = "2" * 40
APP_PATH = "/api/v1/applications/web"
STREAM_PATH = "/api/v1/stream/applications"
TIMEOUT = 3.0

DONE = make_application(
    "web",
    revision=OURS,
    sync_status="Synced",
    health="Healthy",
    phase="Succeeded",
    op_revision=OURS,
)
WAITING = make_application("web", revision=OLD, sync_status="OutOfSync", health="Healthy")
NO_STATUS = {k: v for k, v in DONE.items() if k != "status"}
WRONG_TYPES = {**DONE, "status": {"sync": "Synced", "health": ["Healthy"]}}


def args(server: str, timeout: float = TIMEOUT, *extra: str) -> list[str]:
    return [
        "argocd-wait",
        "--server",
        server,
        "--app",
        "web",
        "--revision",
        OURS,
        "--timeout",
        f"{timeout:g}",
        "--poll-interval",
        "0.2",
        *extra,
    ]


FAULTS = {
    "hang": HANG,
    "slow-drip": drip(DONE, interval=0.2),
    "503": Fault.status_only(503),
    "429-long-retry-after": Fault.status_only(429, Retry_After="60"),
    "500-echoes-authorization": ECHO_AUTH,
    "empty-object": Fault.json({}),
    "no-status": Fault.json(NO_STATUS),
    "invalid-json": Fault.raw(b'{"metadata": {"name": "web"'),
    "truncated": truncated(DONE),
    "wrong-types": Fault.json(WRONG_TYPES),
}


@pytest.mark.parametrize("fault", list(FAULTS.values()), ids=list(FAULTS))
def test_a_fault_is_exit_3_within_the_deadline(
    fault_server: FaultServer, cli, fault: Fault
) -> None:  # type: ignore[no-untyped-def]
    fault_server.script(APP_PATH, fault)
    run = cli(*args(fault_server.url))
    assert run.code == 3, run.text
    assert run.elapsed <= TIMEOUT + SLACK, run.elapsed
    assert "Traceback" not in run.text
    assert "internal error" not in run.text
    assert scan(run) == []
    assert '"result": "unreachable"' in run.files["report"]


def test_the_deadline_message_states_the_real_elapsed_time(fault_server: FaultServer, cli) -> None:  # type: ignore[no-untyped-def]
    fault_server.script(APP_PATH, HANG)
    run = cli(*args(fault_server.url))
    assert run.code == 3
    match = re.search(
        r"within 5s \(--timeout 3s \+ 2s for the last answer\): (\d+\.\d)s elapsed", run.stderr
    )
    assert match, run.stderr
    assert 4.5 <= float(match.group(1)) <= run.elapsed
    assert f"GET {APP_PATH}" in run.stderr


def test_a_blank_line_stream_cannot_hold_the_wait_open(fault_server: FaultServer, cli) -> None:  # type: ignore[no-untyped-def]
    fault_server.script(APP_PATH, Fault.json(WAITING), Fault.json(DONE))
    fault_server.script(STREAM_PATH, blank_lines(0.2))
    run = cli(*args(fault_server.url, 6.0))
    assert run.code == 0, run.text
    assert run.elapsed < 6.0
    assert fault_server.count(STREAM_PATH) == 1
    assert "polling instead" in run.stdout
    assert scan(run) == []


def test_a_blank_line_stream_after_events_ends_at_the_deadline(
    fault_server: FaultServer, cli
) -> None:  # type: ignore[no-untyped-def]
    """An event, then only keep-alives: the wait re-judges by time and never outlives it."""
    fault_server.script(APP_PATH, Fault.json(WAITING), HANG)
    fault_server.script(
        STREAM_PATH, Fault.lines({"result": {"type": "MODIFIED", "application": WAITING}})
    )
    run = cli(*args(fault_server.url))
    assert run.code in (1, 3), run.text  # 1 only because ArgoCD did answer "not yet"
    assert run.elapsed <= TIMEOUT + SLACK
    assert "Traceback" not in run.text


@pytest.mark.parametrize(
    "transient",
    [Fault.status_only(503), Fault.status_only(429, Retry_After="1"), truncated(DONE)],
    ids=["503-twice", "429-retry-after-1", "truncated-twice"],
)
def test_transient_faults_are_recovered(fault_server: FaultServer, cli, transient: Fault) -> None:  # type: ignore[no-untyped-def]
    fault_server.script(APP_PATH, transient, transient, Fault.json(DONE))
    run = cli(*args(fault_server.url, 8.0))
    assert run.code == 0, run.text
    assert fault_server.count(APP_PATH) == 3
    assert scan(run) == []


def test_canary_in_the_servers_user_info_is_stripped(fault_server: FaultServer, cli) -> None:  # type: ignore[no-untyped-def]
    fault_server.script(APP_PATH, ECHO_AUTH, Fault.json(DONE))
    encoded = urllib.parse.quote(CANARY, safe="")
    server = fault_server.url.replace("http://", f"http://admin:{encoded}@")
    run = cli(
        *args(server, 8.0),
        env={"ARGOCD_TOKEN": "", "ARGOCD_AUTH_TOKEN": ""},
    )
    assert run.code == 0, run.text
    assert scan(run) == []
    assert f'"server": "{fault_server.url}"' in run.files["report"]
    # The user info became the bearer token: the only way ArgoCD takes a credential.
    assert fault_server.seen[0].headers["Authorization"] == f"Bearer {CANARY}"
