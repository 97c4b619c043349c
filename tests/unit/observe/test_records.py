"""The deployment records a workflow run asks for (pure).

Covers: every branch of the gitops-deploy record rules (pass, warn, fail,
inconclusive, ArgoCD said no, not verified, promotion PR, promotion failed,
rollback commit / PR / failed); the facts in the payload (never ``updated_at``);
the by-hand rollback record; times from the evidence reports; description limit.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gitops_guard.observe import records

FACTS = records.Facts(
    committed_at="2026-12-01T10:00:00Z",
    promoted_at="2026-12-01T10:05:00Z",
    synced_at="2026-12-01T10:07:00Z",
    verdict_at="2026-12-01T10:17:00Z",
    restored_at="2026-12-01T10:20:00Z",
)


def _needs(**jobs: tuple[str, dict[str, str]]) -> records.Needs:
    return records.Needs({j: {"result": r, "outputs": o} for j, (r, o) in jobs.items()})


PROMOTED = ("success", {"image": "ghcr.io/acme/web:1.4.2", "commit": "a" * 40})


@pytest.mark.parametrize(
    ("verify", "state", "words"),
    [
        (("success", {"verdict": "pass", "argocd-result": "done"}), "success", "gate pass"),
        (("success", {"verdict": "warn", "argocd-result": "done"}), "success", "gate warn"),
        (("failure", {"verdict": "fail", "argocd-result": "done"}), "failure", "gate fail"),
        (("failure", {"verdict": "inconclusive"}), "failure", "gate inconclusive"),
        (("failure", {"verdict": "", "argocd-result": "degraded"}), "failure", "ArgoCD degraded"),
        (("failure", {"verdict": "", "argocd-result": "unreachable"}), "error", "not be verified"),
        (("cancelled", {}), "error", "verify: cancelled"),
    ],
)
def test_deploy_record_state(verify: tuple[str, dict[str, str]], state: str, words: str) -> None:
    [record] = records.for_deploy(_needs(promote=PROMOTED, verify=verify), FACTS)
    assert record.task == "deploy"
    assert record.state == state
    assert words in record.description
    assert record.payload["gitops_commit"] == "a" * 40


def test_deploy_payload_carries_the_immutable_facts() -> None:
    needs = _needs(promote=PROMOTED, verify=("success", {"verdict": "pass"}))
    [record] = records.for_deploy(needs, FACTS)
    payload = record.payload
    assert payload["committed_at"] == "2026-12-01T10:00:00Z"
    assert payload["promoted_at"] == "2026-12-01T10:05:00Z"
    assert payload["synced_at"] == "2026-12-01T10:07:00Z"
    assert payload["verdict"] == "pass"
    assert payload["verdict_at"] == "2026-12-01T10:17:00Z"
    assert "updated_at" not in payload


def test_the_earlier_environments_verdict_rides_in_the_deploy_payload() -> None:
    evidence = {
        "action": "require-verdict",
        "environment": "staging",
        "allowed": True,
        "images": {
            "ghcr.io/acme/web:1.4.2": {
                "allowed": True,
                "forced": False,
                "reason": "ghcr.io/acme/web:1.4.2 passed in staging (deployment 7)",
                "verdict": "pass",
                "environment": "staging",
                "deployment_id": 7,
                "gitops_commit": "b" * 40,
                "recorded_at": "2026-12-01T09:00:00Z",
            }
        },
    }
    plan = ("success", {"required-evidence": json.dumps(evidence)})
    needs = _needs(plan=plan, promote=PROMOTED, verify=("failure", {"verdict": "fail"}))
    [record] = records.for_deploy(needs, FACTS)
    assert record.payload["required_verdict"] == {
        "environment": "staging",
        "images": {
            "ghcr.io/acme/web:1.4.2": {
                "verdict": "pass",
                "deployment_id": 7,
                "gitops_commit": "b" * 40,
                "forced": False,
            }
        },
    }
    # without require-verdict-from (or with output that is not its JSON): nothing
    for outputs in ({}, {"required-evidence": "not json"}, {"required-evidence": "[1]"}):
        needs = _needs(plan=("success", outputs), promote=PROMOTED, verify=("success", {}))
        [record] = records.for_deploy(needs, FACTS)
        assert "required_verdict" not in record.payload


def test_no_verdict_means_no_verdict_time() -> None:
    needs = _needs(promote=PROMOTED, verify=("failure", {"argocd-result": "timed-out"}))
    [record] = records.for_deploy(needs, FACTS)
    assert record.payload["verdict"] is None
    assert record.payload["verdict_at"] is None


def test_promotion_pull_request_is_queued() -> None:
    promote = ("success", {"image": "web:1", "pull-request": "https://github.com/a/b/pull/3"})
    [record] = records.for_deploy(_needs(promote=promote), FACTS)
    assert (record.task, record.state) == ("deploy", "queued")
    assert record.payload["pull_request"].endswith("/pull/3")


@pytest.mark.parametrize("result", ["failure", "cancelled"])
def test_failed_promotion_is_an_error(result: str) -> None:
    [record] = records.for_deploy(_needs(promote=(result, {})), FACTS)
    assert record.state == "error"


def test_skipped_promotion_records_nothing() -> None:
    assert records.for_deploy(_needs(promote=("skipped", {})), FACTS) == []


def test_rollback_commit_records_reverts_and_restored_at() -> None:
    needs = _needs(
        promote=PROMOTED,
        verify=("failure", {"verdict": "fail"}),
        rollback=("success", {"commit": "b" * 40, "rolled-back-to": "web:1.4.1\nweb-side:2"}),
    )
    deploy, rollback = records.for_deploy(needs, FACTS)
    assert deploy.state == "failure"
    assert (rollback.task, rollback.state) == ("deploy:rollback", "success")
    assert rollback.payload["reverts"] == "a" * 40
    assert rollback.payload["gitops_commit"] == "b" * 40
    assert rollback.payload["image"] == "web:1.4.1, web-side:2"
    assert rollback.payload["restored_at"] == "2026-12-01T10:20:00Z"
    assert "ArgoCD runs the revert" in rollback.description


def test_unconfirmed_revert_is_a_failure_without_restored_at() -> None:
    needs = _needs(
        promote=PROMOTED,
        verify=("failure", {"verdict": "fail"}),
        rollback=("failure", {"commit": "b" * 40}),
    )
    rollback = records.for_deploy(needs, FACTS)[1]
    assert rollback.state == "failure"
    assert rollback.payload["restored_at"] is None


def test_revert_pull_request_and_failed_rollback() -> None:
    pr = _needs(promote=PROMOTED, rollback=("success", {"pull-request": "https://x/pull/9"}))
    assert records.for_deploy(pr, FACTS)[1].state == "queued"
    failed = _needs(promote=PROMOTED, rollback=("failure", {}))
    record = records.for_deploy(failed, FACTS)[1]
    assert (record.state, record.payload["reverts"]) == ("error", "a" * 40)


def test_outputs_of_a_job_that_did_not_run_are_ignored() -> None:
    needs = records.Needs({"promote": {"result": "skipped", "outputs": {"commit": "${{ x }}"}}})
    assert needs.output("promote", "commit") == ""
    assert needs.result("missing") == "skipped"


def test_by_hand_rollback() -> None:
    needs = _needs(rollback=("success", {"commit": "c" * 40, "rolled-back-to": "web:1.3"}))
    [record] = records.for_rollback(needs, FACTS, reason="pager at 3am")
    assert (record.task, record.state) == ("deploy:rollback", "success")
    assert record.description == "rolled back to web:1.3: pager at 3am"
    assert record.payload["restored_at"] == FACTS.restored_at
    [failed] = records.for_rollback(_needs(rollback=("failure", {})), FACTS)
    assert failed.state == "error"
    assert failed.payload["restored_at"] is None


def test_description_fits_githubs_limit() -> None:
    needs = _needs(
        promote=("success", {"image": "ghcr.io/" + "x" * 200, "commit": "a" * 40}),
        verify=("success", {"verdict": "pass"}),
    )
    [record] = records.for_deploy(needs, FACTS)
    assert len(record.description) == records.DESCRIPTION_MAX
    assert record.description.endswith("...")


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        ({"result": "done", "timeline": [{"at": "t1"}, {"at": "t2"}]}, "t2"),
        ({"result": "degraded", "timeline": [{"at": "t1"}]}, None),
        ({"result": "done", "timeline": []}, None),
        ({}, None),
    ],
)
def test_synced_at_from_argocd_report(report: dict[str, Any], expected: str | None) -> None:
    assert records.synced_at(report) == expected


def test_verdict_at_and_time_parsing() -> None:
    assert records.verdict_at({"ended_at": "2026-12-01T10:17:00Z"}) == "2026-12-01T10:17:00Z"
    assert records.verdict_at({}) is None
    assert records.iso(records.parse_time("2026-12-01T11:17:00+01:00")) == "2026-12-01T10:17:00Z"
    assert records.iso(records.parse_time("0")) == "1970-01-01T00:00:00Z"
    with pytest.raises(ValueError, match="not an ISO 8601"):
        records.parse_time("yesterday")


def test_deploy_summary_tells_the_story() -> None:
    needs = _needs(
        promote=PROMOTED,
        verify=("failure", {"verdict": "fail", "argocd-result": "done"}),
        rollback=("success", {"commit": "b" * 40, "rolled-back-to": "web:1.4.1"}),
    )
    context = records.RunContext("production", "push", "commit", "acme/gitops", "web")
    text = records.deploy_summary(needs, context, ["#1 deploy: failure"], failed=False)
    assert "## gitops-guard: production" in text
    assert "| record | done | #1 deploy: failure |" in text
    assert "rejected (fail) and rolled back" in text


def test_instants_and_stage_durations_come_from_the_jobs_that_wrote_them() -> None:
    needs = _needs(
        plan=("success", {"plan-seconds": "1.5"}),
        promote=(
            "success",
            {**PROMOTED[1], "promoted-at": "2026-12-01T10:05:00Z", "promote-seconds": "3.0"},
        ),
        verify=(
            "failure",
            {
                "verdict": "fail",
                "synced-at": "2026-12-01T10:07:00Z",
                "verdict-at": "2026-12-01T10:17:00Z",
                "wait-seconds": "120.0",
                "gate-seconds": "600.0",
            },
        ),
        rollback=(
            "success",
            {"commit": "b" * 40, "restored-at": "2026-12-01T10:20:00Z", "rollback-seconds": "9"},
        ),
    )
    assert records.instants(needs) == {
        "promoted_at": "2026-12-01T10:05:00Z",
        "synced_at": "2026-12-01T10:07:00Z",
        "verdict_at": "2026-12-01T10:17:00Z",
        "restored_at": "2026-12-01T10:20:00Z",
    }
    assert records.stage_outputs(needs) == {
        "plan": "1.5",
        "promote": "3.0",
        "wait": "120.0",
        "gate": "600.0",
        "rollback": "9",
    }


def test_a_revert_during_the_bake_gives_its_restored_at() -> None:
    needs = _needs(
        promote=PROMOTED,
        bake=("success", {"commit": "c" * 40, "restored-at": "2026-12-01T11:00:00Z"}),
        # act shows a skipped job's outputs unevaluated: never read
        rollback=("skipped", {"restored-at": "${{ steps.revert.outputs.restored-at }}"}),
    )
    assert records.instants(needs) == {"restored_at": "2026-12-01T11:00:00Z"}
    assert records.stage_outputs(needs) == {}
