"""slo-gate against a fault server playing Prometheus.

Behaviours covered, through the real CLI in a pretend runner with the canary set:
- a fault (hang, slow drip, 503, 429 with a long Retry-After, a 500 echoing the
  Authorization header, invalid JSON, a truncated body, ``"result": "oops"``, wrong
  types) is inconclusive, exit 3, within the query deadline (3 x (--query-timeout + 1s))
  + 5 s, with no traceback and no canary in any channel or the report;
- ``--query-timeout`` bounds a slow-drip answer (each attempt, not each read);
- a 503 or a 429 with Retry-After: 1 that clears is recovered: the gate passes (0);
- the canary URL-encoded in the user info of ``--prometheus-url`` is stripped from
  every channel and sent as basic auth.
"""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import pytest
from faultkit import CANARY, SLACK, Run, scan
from faultserver import ECHO_AUTH, HANG, Fault, FaultServer, drip, truncated

QUERY_PATH = "/api/v1/query"
QUERY_TIMEOUT = 1.0
QUERY_DEADLINE = 3 * (QUERY_TIMEOUT + 1.0)

SLO = """\
name: faults
objectives:
  - name: availability
    query: sum(up{job="web"})
    pass: ">= 1"
"""


def vector(value: str = "1") -> dict[str, object]:
    return {
        "status": "success",
        "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1767225600, value]}]},
    }


@pytest.fixture
def slo_file(tmp_path: Path) -> Path:
    path = tmp_path / "slo.yaml"
    path.write_text(SLO)
    return path


def gate(cli: Callable[..., Run], url: str, slo_file: Path, **env: str) -> Run:
    return cli(
        "slo-gate",
        "--config",
        str(slo_file),
        "--prometheus-url",
        url,
        "--query-timeout",
        f"{QUERY_TIMEOUT:g}",
        env=env,
    )


FAULTS = {
    "hang": HANG,
    "slow-drip": drip(vector(), interval=0.1),
    "503": Fault.status_only(503),
    "429-long-retry-after": Fault.status_only(429, Retry_After="60"),
    "500-echoes-authorization": ECHO_AUTH,
    "invalid-json": Fault.raw(b'{"status": "success", "data": '),
    "truncated": truncated(vector()),
    "result-oops": Fault.json(
        {"status": "success", "data": {"resultType": "vector", "result": "oops"}}
    ),
    "wrong-types": Fault.json(
        {"status": "success", "data": {"resultType": "vector", "result": [{"value": "x"}]}}
    ),
    "html": Fault.raw(b"<html>login</html>", content_type="text/html"),
}


@pytest.mark.parametrize("fault", list(FAULTS.values()), ids=list(FAULTS))
def test_a_fault_is_inconclusive_within_the_deadline(
    fault_server: FaultServer, cli: Callable[..., Run], slo_file: Path, fault: Fault
) -> None:
    fault_server.script(QUERY_PATH, fault)
    run = gate(cli, fault_server.url, slo_file)
    assert run.code == 3, run.text
    assert run.elapsed <= QUERY_DEADLINE + SLACK, run.elapsed
    assert "Traceback" not in run.text and "internal error" not in run.text
    assert scan(run) == []
    assert '"verdict": "inconclusive"' in run.files.get("report", ""), run.files


@pytest.mark.parametrize(
    "transient",
    [Fault.status_only(503), Fault.status_only(429, Retry_After="1")],
    ids=["503", "429-retry-after-1"],
)
def test_transient_faults_are_recovered(
    fault_server: FaultServer, cli: Callable[..., Run], slo_file: Path, transient: Fault
) -> None:
    fault_server.script(QUERY_PATH, transient, Fault.json(vector()))
    run = gate(cli, fault_server.url, slo_file)
    assert run.code == 0, run.text
    assert fault_server.count(QUERY_PATH) >= 2
    assert scan(run) == []


def test_user_info_is_stripped_and_sent_as_basic_auth(
    fault_server: FaultServer, cli: Callable[..., Run], slo_file: Path
) -> None:
    fault_server.script(QUERY_PATH, ECHO_AUTH, Fault.json(vector()))
    encoded = urllib.parse.quote(CANARY, safe="")
    url = fault_server.url.replace("http://", f"http://admin:{encoded}@")
    run = gate(cli, url, slo_file, PROMETHEUS_TOKEN="")
    assert run.code == 0, run.text
    assert scan(run) == []
    assert fault_server.url in run.stdout
    basic = base64.b64encode(f"admin:{CANARY}".encode()).decode()
    assert fault_server.seen[-1].headers["Authorization"] == f"Basic {basic}"


def test_a_hanging_argocd_list_ends_within_the_query_timeout(
    fault_server: FaultServer, cli: Callable[..., Run], slo_file: Path
) -> None:
    """The gate per app asks ArgoCD for the apps' destinations: a hanging ArgoCD is a
    fault bounded by --query-timeout, not a wait of its own."""
    fault_server.script("/api/v1/applications", HANG)
    fault_server.script(QUERY_PATH, Fault.json(vector()))
    run = cli(
        "slo-gate",
        "--config",
        str(slo_file),
        "--prometheus-url",
        fault_server.url,
        "--argocd-server",
        fault_server.url,
        "--app",
        "web",
        "--query-timeout",
        f"{QUERY_TIMEOUT:g}",
    )
    assert run.code == 3, run.text
    assert run.elapsed <= QUERY_DEADLINE + SLACK, run.elapsed
    assert "--query-timeout" in run.text
    assert fault_server.count(QUERY_PATH) == 0
    assert scan(run) == []
