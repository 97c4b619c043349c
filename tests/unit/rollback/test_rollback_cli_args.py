"""rollback's command line, without running a rollback (no git, no sockets).

Covers: each command has its own parser (watch's help lists no revert flag, a flag of
another command is exit 2 naming it); --argocd-server and --argocd-app go together,
ARGOCD_SERVER counting as the server for --argocd-app but asking for nothing alone;
--argocd-selector stands for --argocd-app (every app with the labels), never both;
action inputs reach only the commands that read them.
"""

from __future__ import annotations

import argparse

import pytest

from gitops_guard import cli, errors
from gitops_guard.cli import rollback


def _parser() -> argparse.ArgumentParser:
    return cli.build_parser("rollback", rollback)


def test_watch_help_lists_only_what_watch_reads(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["watch", "--help"])
    text = capsys.readouterr().out
    assert "--rules" in text and "--interval" in text
    for foreign in ("--evidence", "--previous", "--force", "--quarantine "):
        assert foreign not in text


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["watch", "--rules", "r.yaml", "--evidence", "g.json"], "--evidence"),
        (["revert", "--commit", "abc", "--rules", "r.yaml"], "--rules"),
        (["to", "--image", "a/b:1", "--commit", "abc"], "--commit"),
        (["to"], "--previous"),
    ],
)
def test_flags_of_another_command_are_refused_by_name(argv: list[str], flag: str) -> None:
    with pytest.raises(errors.InputError) as caught:
        _parser().parse_args(argv)
    assert flag in caught.value.render()


@pytest.mark.parametrize(
    ("flags", "env", "missing"),
    [
        (["--argocd-server", "https://argocd"], {}, "--argocd-app"),
        (["--argocd-app", "web"], {}, "--argocd-server"),
        (["--argocd-app", "web"], {"ARGOCD_SERVER": "argocd:443"}, None),
        ([], {"ARGOCD_SERVER": "argocd:443"}, None),  # set for the job: no wait asked
        (["--argocd-server", "https://argocd", "--argocd-app", "web"], {}, None),
        (["--argocd-server", "https://argocd", "--argocd-selector", "team=web"], {}, None),
        (["--argocd-selector", "team=web"], {}, "--argocd-server"),
        (
            ["--argocd-server", "https://argocd", "--argocd-app", "w", "--argocd-selector", "a=b"],
            {},
            "--argocd-selector",
        ),
        ([], {}, None),
    ],
)
def test_argocd_flags_go_together(
    monkeypatch: pytest.MonkeyPatch, flags: list[str], env: dict[str, str], missing: str | None
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    args = _parser().parse_args(["revert", "--commit", "abc", *flags])
    if missing is None:
        rollback._check_pairs(args)
    else:
        with pytest.raises(errors.InputError) as caught:
            rollback._check_pairs(args)
        assert caught.value.source == missing


def test_inputs_reach_only_the_commands_that_read_them() -> None:
    env = {
        "INPUT_COMMAND": "watch",
        "INPUT_RULES": "r.yaml",
        "INPUT_FOR": "15m",
        "INPUT_GATE-REPORT": "g.json",
        "INPUT_PREVIOUS": "false",
        "INPUT_ARGOCD-TIMEOUT": "600",
    }
    argv = cli.argv_from_inputs(rollback.INPUTS, env)
    assert argv[0] == "watch"
    assert "--evidence" not in argv and "--rules" in argv and "--for" in argv
    args = _parser().parse_args(argv)
    assert args.for_ == 900.0 and args.argocd_timeout == 600.0
