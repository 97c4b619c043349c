"""promote.verdicts: production takes only what passed in staging.

Table of outcomes, records newest first:
- the newest staging deploy of the image passed (pass or warn): allowed;
- it failed or was inconclusive, even after an older pass: refused;
- it passed but a later deploy:rollback reverted its commit: refused;
- no record of the image (another tag, another environment only): refused;
- force turns a refusal into an allowed, forced decision that keeps the reason;
- the same image by digest matches whatever its tag; another repository never does.
"""

from __future__ import annotations

import pytest

from gitops_guard.promote import verdicts

IMAGE = "ghcr.io/acme/web:1.4.2"
DIGEST = "sha256:" + "d" * 64


def _deploy(rid: int, verdict: str, image: str = IMAGE, env: str = "staging") -> verdicts.Record:
    payload = {"image": image, "verdict": verdict, "gitops_commit": f"{rid:040d}"}
    return verdicts.Record(rid, "deploy", env, f"2026-12-01T10:{rid:02d}:00Z", payload)


def _rollback(rid: int, reverts: int) -> verdicts.Record:
    payload = {"reverts": f"{reverts:040d}", "image": "ghcr.io/acme/web:1.4.1"}
    return verdicts.Record(rid, "deploy:rollback", "staging", "2026-12-01T11:00:00Z", payload)


@pytest.mark.parametrize(
    ("records", "allowed", "verdict", "says"),
    [
        ([_deploy(2, "pass")], True, "pass", "passed the gate in staging: pass (deployment 2)"),
        ([_deploy(2, "warn"), _deploy(1, "fail")], True, "warn", "warn"),
        ([_deploy(3, "fail"), _deploy(1, "pass")], False, "fail", "verdict 'fail'"),
        ([_deploy(3, "inconclusive")], False, "inconclusive", "verdict 'inconclusive'"),
        ([_rollback(4, 2), _deploy(2, "pass")], False, "pass", "but was rolled back"),
        ([_deploy(2, "pass", image="ghcr.io/acme/web:1.4.1")], False, "", "no deployment record"),
        ([_deploy(2, "pass", env="production")], False, "", "no deployment record in staging"),
        ([], False, "", "no deployment record"),
    ],
)
def test_the_newest_record_of_the_image_decides(
    records: list[verdicts.Record], allowed: bool, verdict: str, says: str
) -> None:
    decision = verdicts.decide(records, image=IMAGE, environment="staging")
    assert (decision.allowed, decision.verdict, decision.forced) == (allowed, verdict, False)
    assert says in decision.reason


def test_force_lets_a_refused_image_through_and_says_why() -> None:
    decision = verdicts.decide([_deploy(3, "fail")], image=IMAGE, environment="staging", force=True)
    assert decision.allowed and decision.forced
    assert decision.reason.startswith("forced: ") and "verdict 'fail'" in decision.reason
    assert decision.evidence()["forced"] is True
    assert decision.evidence()["deployment_id"] == 3


def test_images_match_by_digest_else_by_tag_and_never_across_repositories() -> None:
    assert verdicts.same_image(f"ghcr.io/acme/web:1.4.2@{DIGEST}", f"ghcr.io/acme/web@{DIGEST}")
    assert not verdicts.same_image(
        f"ghcr.io/acme/web:1.4.2@{DIGEST}", "ghcr.io/acme/web@sha256:" + "e" * 64
    )
    assert verdicts.same_image("ghcr.io/acme/web:1.4.2", f"ghcr.io/acme/web:1.4.2@{DIGEST}")
    assert not verdicts.same_image("ghcr.io/acme/api:1.4.2", IMAGE)
    assert not verdicts.same_image(f"ghcr.io/acme/web@{DIGEST}", IMAGE)
