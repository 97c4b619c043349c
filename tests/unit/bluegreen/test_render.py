"""strategies.bluegreen.render: commit messages carry the trailers history reads back.

Covers: each message's action, service, colours and images trailers; parse_history
keeping only this service's blue-green commits, newest first; the summary timeline
with both colours side by side.
"""

from __future__ import annotations

from gitops_guard.strategies.bluegreen import models, render


def _trailers(message: str) -> dict[str, str]:
    block = message.strip().split("\n\n")[-1]
    return dict(line.split(": ", 1) for line in block.splitlines())


def test_messages_carry_the_trailers() -> None:
    prepare = _trailers(
        render.prepare_message(
            service="web", idle="green", live="blue", image="r:2", live_image="r:1", replicas=3
        )
    )
    assert prepare == {
        "Gitops-Guard-Action": "blue-green-prepare",
        "Gitops-Guard-Service": "web",
        "Gitops-Guard-Color": "green",
        "Gitops-Guard-Previous-Color": "blue",
        "Gitops-Guard-Image": "r:2",
        "Gitops-Guard-Previous-Image": "r:1",
        "Gitops-Guard-Replicas": "3",
    }
    back = _trailers(
        render.switch_back_message(
            service="web",
            active="web",
            back_to="blue",
            leaving="green",
            image="r:1",
            bad_image="r:2",
            reverts="c" * 40,
            verdict="fail",
            reason="errors",
            run_url="u",
        )
    )
    assert back["Gitops-Guard-Reverts"] == "c" * 40
    assert back["Gitops-Guard-Run"] == "u"
    assert back["Gitops-Guard-Verdict"] == "fail"


def test_parse_history_keeps_this_services_commits() -> None:
    def record(sha: str, message: str) -> str:
        return f"{sha}\x1f{message}\x1e"

    switch = render.switch_message(
        service="web", active="web", new="green", old="blue", image="r:2", old_image="r:1"
    )
    other = render.switch_message(
        service="api", active="api", new="green", old="blue", image="a:2", old_image="a:1"
    )
    text = record("1" * 40, switch) + record("2" * 40, other) + f"{'3' * 40}\x1fno trailers\n\x1e"
    found = render.parse_history(text, service="web")
    assert found == [
        models.HistoryEntry(
            sha="1" * 40,
            action="blue-green-switch",
            colour="green",
            image="r:2",
            previous_image="r:1",
        )
    ]


def test_summary_has_both_colours_side_by_side() -> None:
    result = models.Result(
        service="web",
        image="r:2",
        mode="git",
        live_before="blue",
        live_after="green",
        outcome="promoted",
        switch_seconds=1.25,
    )
    result.timeline.append(
        models.Event(
            "preview-gate",
            "pass",
            20.0,
            "ok",
            figures={"green": "pass 100%", "blue": "baseline 98%"},
        )
    )
    text = render.summary_markdown(result)
    assert "promoted r:2 on green" in text
    assert "| step | outcome | time | blue | green | commit | detail |" in text
    assert "baseline 98%" in text and "pass 100%" in text
    assert "switch 1.2 s" in text or "switch 1.3 s" in text
