"""Parsing ``git log --format=LOG_FORMAT`` output.

- trailers become image swaps paired in order, with action, reverts and rule
- git's own "This reverts commit <sha>." counts as a revert
- commits without trailers parse with empty fields
- abbreviated shas match full ones (7+ characters), short strings do not
"""

from __future__ import annotations

from gitops_guard.rollback import history, models

F, R, M = "\x1f", "\x1e", "\x1d"


def _record(sha: str, *fields: str, body: str = "") -> str:
    return F.join([sha, "1700000000", "subject " + sha, *fields, body]) + R + "\n"


def test_deploy_and_rollback_records() -> None:
    out = _record(
        "b" * 40,
        "rollback",
        "web:1",
        "web:2",
        "a" * 40,
        "error-rate",
        body="This reverts commit " + "a" * 40 + ".\n",
    ) + _record("a" * 40, "update-manifest", f"web:2{M}api:5", f"web:1{M}api:4", "", "")
    rb, deploy = history.parse_log(out)
    assert rb.is_rollback and not rb.is_deploy
    assert rb.reverts == ("a" * 40,)
    assert rb.rule == "error-rate"
    assert deploy.is_deploy
    assert deploy.swaps == (
        models.ImageSwap(image="web:2", previous="web:1"),
        models.ImageSwap(image="api:5", previous="api:4"),
    )
    assert deploy.timestamp == 1700000000
    assert rb.reverts_commit("a" * 7)


def test_plain_git_revert_and_plain_commit() -> None:
    out = _record("c" * 40, "", "", "", "", "", body="Revert\n\nThis reverts commit abcdef1234.\n")
    out += _record("d" * 40, "", "", "", "", "")
    revert, plain = history.parse_log(out)
    assert revert.reverts == ("abcdef1234",)
    assert revert.reverts_commit("abcdef1234" + "0" * 30)
    assert plain.action == "" and plain.swaps == () and plain.reverts == ()
    assert not plain.reverts_commit("")


def test_log_format_names_every_trailer() -> None:
    for key in ("Gitops-Guard-Action", "Gitops-Guard-Image", "Gitops-Guard-Previous-Image"):
        assert f"key={key}," in history.LOG_FORMAT
