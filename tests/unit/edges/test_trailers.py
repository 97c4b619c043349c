"""The Gitops-Guard-* trailer vocabulary (:mod:`gitops_guard.trailers`).

Covers: render writes ``Key: value`` lines and refuses empty or multi-line values
(no forged trailer through a newline); append makes the block its own last
paragraph; parse follows git's rules (last paragraph only, every line a trailer,
continuation lines fold, cherry-pick lines allowed, keys case-insensitive and
repeated, a subject-only message has none); action words old and new map to
their kinds; round trips of every writer's message (update-manifest, rollback,
quarantine) through parse; git_format names only known keys.
"""

from __future__ import annotations

import pytest

from gitops_guard import promote, trailers
from gitops_guard.manifests import ImageChange
from gitops_guard.rollback import models, policy


def test_render_and_round_trip_every_key() -> None:
    pairs = [(key, f"value-{i}") for i, key in enumerate(trailers.KEYS)]
    block = trailers.render(pairs)
    assert block.splitlines()[0] == "Gitops-Guard-Action: value-0"
    parsed = trailers.parse(trailers.append("subject\n\nbody", pairs))
    assert parsed.pairs == tuple(pairs)


@pytest.mark.parametrize("value", ["", "   ", "x\nGitops-Guard-Image: evil", "a\rb"])
def test_render_refuses_values_that_are_not_one_line(value: str) -> None:
    with pytest.raises(ValueError, match="one-line"):
        trailers.render([(trailers.RULE, value)])


def test_render_refuses_a_bad_key() -> None:
    with pytest.raises(ValueError, match="not a trailer key"):
        trailers.render([("Bad Key", "x")])


def test_append_keeps_a_key_value_body_paragraph_out_of_the_block() -> None:
    message = trailers.append("subject\n\nReason: slow", [(trailers.ACTION, "quarantine")])
    assert message == "subject\n\nReason: slow\n\nGitops-Guard-Action: quarantine\n"
    assert trailers.parse(message).pairs == ((trailers.ACTION, "quarantine"),)


PARSE = [
    ("subject only", ()),
    ("Gitops-Guard-Action: deploy", ()),  # one paragraph: a subject, not trailers
    ("s\n\nGitops-Guard-Action: rollback\n", ((trailers.ACTION, "rollback"),)),
    ("s\n\ngitops-guard-image : a:1\n", ((trailers.IMAGE, "a:1"),)),
    (
        "s\n\nGitops-Guard-Image: a:2\nGitops-Guard-Image: b:3\n",
        ((trailers.IMAGE, "a:2"), (trailers.IMAGE, "b:3")),
    ),
    ("s\n\nGitops-Guard-Rule: long\n  rule name\n", ((trailers.RULE, "long rule name"),)),
    (
        "s\n\nSigned-off-by: A <a@b>\n(cherry picked from commit abc123)\n",
        (("Signed-off-by", "A <a@b>"),),
    ),
    ("s\n\nGitops-Guard-Action: x\nnot a trailer line\n", ()),
    ("s\n\nGitops-Guard-Action: old\n\nlast paragraph is prose\n", ()),
    ("s\r\n\r\nGitops-Guard-Action: rollback\r\n", ((trailers.ACTION, "rollback"),)),
    ("s\n\nbody\n\nGitops-Guard-Action: rollback\n\n\n", ((trailers.ACTION, "rollback"),)),
]


@pytest.mark.parametrize(("message", "pairs"), PARSE)
def test_parse_follows_git_rules(message: str, pairs: tuple[tuple[str, str], ...]) -> None:
    assert trailers.parse(message).pairs == pairs


def test_get_all_and_pairs() -> None:
    parsed = trailers.parse(
        "s\n\nGitops-Guard-Action: update-manifest\nGitops-Guard-Image: web:2\n"
        "Gitops-Guard-Previous-Image: web:1\nGitops-Guard-Image: api:5\n"
        "Gitops-Guard-Previous-Image: api:4\nGitops-Guard-Action: rollback\n"
    )
    assert parsed.get(trailers.ACTION) == "rollback"  # git: the last one wins
    assert parsed.get(trailers.COLOR, "none") == "none"
    assert parsed.image_pairs == (("web:2", "web:1"), ("api:5", "api:4"))
    assert parsed.action is trailers.Action.ROLLBACK


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("update-manifest", trailers.Action.DEPLOY),
        ("deploy", trailers.Action.DEPLOY),
        ("rollback", trailers.Action.ROLLBACK),
        ("revert", trailers.Action.ROLLBACK),
        ("rollback-to", trailers.Action.ROLLBACK),
        (" Quarantine ", trailers.Action.QUARANTINE),
        ("blue-green-prepare", trailers.Action.BLUE_GREEN_PREPARE),
        ("blue-green-switch", trailers.Action.BLUE_GREEN_SWITCH),
        ("blue-green-switch-back", trailers.Action.BLUE_GREEN_SWITCH_BACK),
        ("blue-green-scale-down", trailers.Action.BLUE_GREEN_SCALE_DOWN),
        ("canary-step", trailers.Action.CANARY_STEP),
        ("something-else", None),
        ("", None),
    ],
)
def test_action_words(word: str, kind: trailers.Action | None) -> None:
    assert trailers.kind_of(word) is kind


@pytest.mark.parametrize(("word", "deploy"), [("deploy", True), ("revert", False)])
def test_history_records_read_new_words(word: str, deploy: bool) -> None:
    record = models.CommitRecord(
        sha=models.CommitSha("a" * 40), timestamp=0, subject="s", action=word
    )
    assert record.is_deploy is deploy
    assert record.is_rollback is not deploy


def test_rollback_message_parses_back() -> None:
    target = models.CommitRecord(
        sha=models.CommitSha("a" * 40), timestamp=0, subject="deploy web", action="update-manifest"
    )
    message = policy.commit_message(
        swaps=(models.ImageSwap(image="web:1", previous="web:2"),),
        reverts=target,
        rule="error-rate",
        reason="gate failed",
    )
    parsed = trailers.parse(message)
    assert parsed.action is trailers.Action.ROLLBACK
    assert parsed.get(trailers.REVERTS) == "a" * 40
    assert parsed.get(trailers.RULE) == "error-rate"
    assert parsed.image_pairs == (("web:1", "web:2"),)


def test_git_format_knows_only_the_vocabulary() -> None:
    assert trailers.git_format(trailers.IMAGE) == (
        "%(trailers:key=Gitops-Guard-Image,valueonly,separator=%x1d)"
    )
    with pytest.raises(ValueError, match="not a gitops-guard trailer"):
        trailers.git_format("Gitops-Guard-Typo")


def test_update_manifest_message_parses_back() -> None:
    changes = [
        ImageChange(
            file="apps/web/deployment.yaml",
            line=20,
            kind="workload",
            old="nginx:1.25.0",
            new="nginx:1.25.1",
            target="Deployment/web container app",
        )
    ]
    message = promote.commit_message(changes, run_url="https://github.com/acme/app/actions/runs/7")
    parsed = trailers.parse(message)
    assert parsed.action is trailers.Action.DEPLOY
    assert parsed.image_pairs == (("nginx:1.25.1", "nginx:1.25.0"),)
    assert parsed.get(trailers.RUN) == "https://github.com/acme/app/actions/runs/7"
