"""The error tree, exit codes and the CLI dispatcher.

Covers: each error class's exit code; source parsing for annotations; the
CLI's top-level help, unknown subcommands (2), --version; mapping of raised
errors to exit codes; unexpected exceptions exit 3 ("internal error"), never 1;
argparse errors exit 2; action inputs turned into flags with strict booleans;
the public surface (``__all__``) of the package; the one outcome table (every
outcome of every subcommand, unknown outcomes exit 3); argparse errors reach the
runner's channels (annotation and summary) naming the flag, and name the action
input under --from-action-inputs; ``items`` inputs split on commas and newlines
only; docs links at the running version.
"""

from __future__ import annotations

import argparse
import inspect
import re
import types
from pathlib import Path

import pytest

import gitops_guard
from gitops_guard import cli, errors
from gitops_guard.cli import outcomes


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (errors.InputError, 2),
        (errors.ConfigError, 2),
        (errors.Rejected, 1),
        (errors.DependencyUnavailable, 3),
        (errors.GitopsGuardError, 3),
    ],
)
def test_exit_codes(cls: type[errors.GitopsGuardError], code: int) -> None:
    assert cls("x").exit_code == code
    assert errors.exit_code_for(cls("x")) == code


def test_unexpected_exception_is_undecided_not_rejected() -> None:
    assert errors.exit_code_for(RuntimeError("boom")) == 3


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("slo.yaml:12", ("slo.yaml", 12)),
        ("deploy/app.yaml", ("deploy/app.yaml", None)),
        ("--image", None),
        ("input 'push'", None),
        (None, None),
    ],
)
def test_file_line(source: str | None, expected: tuple[str, int | None] | None) -> None:
    assert errors.InputError("m", source=source).file_line == expected


def test_render_names_source_and_hint() -> None:
    exc = errors.InputError("no such image", source="--image", hint="Check the name.")
    assert str(exc) == "--image: no such image\nCheck the name."


def test_top_help_lists_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("update-manifest", "argocd-wait", "slo-gate", "rollback", "lab"):
        assert name in out


def test_no_arguments_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2


def test_unknown_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["deploy-everything"]) == 2
    assert "unknown subcommand 'deploy-everything'" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"gitops-guard {gitops_guard.__version__}"


def _fake_module(run: object) -> types.ModuleType:
    module = types.ModuleType("fake")
    module.HELP = "fake"  # type: ignore[attr-defined]

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--flag", required=True)

    module.add_arguments = add_arguments  # type: ignore[attr-defined]
    module.run = run  # type: ignore[attr-defined]
    module.INPUTS = (cli.InputSpec("flag", "--flag"),)  # type: ignore[attr-defined]
    return module


@pytest.mark.parametrize(
    ("raised", "code"),
    [
        (errors.Rejected("no"), 1),
        (errors.InputError("bad"), 2),
        (errors.DependencyUnavailable("down"), 3),
        (RuntimeError("bug"), 3),
        (KeyError("bug"), 3),
    ],
)
def test_main_maps_exceptions(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    raised: Exception,
    code: int,
) -> None:
    def run(args: argparse.Namespace) -> int:
        raise raised

    monkeypatch.setattr(cli, "_load", lambda name: _fake_module(run))
    assert cli.main(["lab", "--flag", "x"]) == code
    err = capsys.readouterr().err
    if not isinstance(raised, errors.GitopsGuardError):
        assert "internal error" in err


def test_argparse_error_is_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "_load", lambda name: _fake_module(lambda a: 0))
    assert cli.main(["lab"]) == 2
    assert "--flag" in capsys.readouterr().err


def _in_runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    return summary


def test_a_bad_flag_value_reaches_the_annotation_and_the_summary(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    summary = _in_runner(monkeypatch, tmp_path)
    assert (
        cli.main(
            [
                "argocd-wait",
                "--server",
                "http://a",
                "--app",
                "x",
                "--revision",
                "a" * 40,
                "--timeout",
                "soon",
            ]
        )
        == 2
    )
    out = capsys.readouterr().out
    assert "::error" in out
    assert "--timeout" in out
    assert "--timeout" in summary.read_text()


def test_under_action_inputs_the_message_names_the_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    summary = _in_runner(monkeypatch, tmp_path)
    monkeypatch.setenv("INPUT_ARGOCD-SERVER", "http://a")
    monkeypatch.setenv("INPUT_ARGOCD-APP", "x")
    monkeypatch.setenv("INPUT_REVISION", "a" * 40)
    monkeypatch.setenv("INPUT_TIMEOUT", "soon")
    assert cli.main(["argocd-wait", "--from-action-inputs"]) == 2
    captured = capsys.readouterr()
    text = captured.out + captured.err + summary.read_text()
    assert "input 'timeout'" in text
    assert "--timeout" not in text


def test_name_inputs_renames_source_message_and_hint() -> None:
    specs = [cli.InputSpec("argocd-timeout", "--argocd-timeout"), cli.InputSpec("x", "--x")]
    exc = errors.InputError(
        "--argocd-timeout is not a number", source="--argocd-timeout", hint="Fix --argocd-timeout."
    )
    renamed = cli.name_inputs(exc, specs)
    assert renamed.render() == (
        "input 'argocd-timeout': input 'argocd-timeout' is not a number\n"
        "Fix input 'argocd-timeout'."
    )
    # A flag that merely starts like another is left alone.
    other = cli.name_inputs(errors.InputError("--xy", source="--xy"), specs)
    assert other.render() == "--xy: --xy"


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        ("succeeded", 0),
        ("skipped", 0),
        ("failed", 1),
        ("errored", 3),
        ("pass", 0),
        ("warn", 0),
        ("fail", 1),
        ("inconclusive", 3),
        ("done", 0),
        ("sync-failed", 1),
        ("degraded", 1),
        ("timed-out", 1),
        ("unreachable", 3),
        ("rolled-back", 0),
        ("pull-request", 0),
        ("dry-run", 0),
        ("invalid", 2),
        ("no-such-outcome", 3),
    ],
)
def test_the_one_outcome_table(outcome: str, code: int) -> None:
    assert outcomes.exit_code(outcome) == code


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ((), "succeeded"),
        (("rolled-back", "done"), "done"),
        (("rolled-back", "timed-out"), "timed-out"),
        (("timed-out", "unreachable"), "unreachable"),
        (("skipped",), "skipped"),
    ],
)
def test_worst_outcome_decides(steps: tuple[str, ...], expected: str) -> None:
    assert outcomes.worst(*steps) == expected


def test_main_maps_a_returned_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_load", lambda name: _fake_module(lambda a: "inconclusive"))
    assert cli.main(["lab", "--flag", "x"]) == 3


def test_an_int_returned_by_run_is_a_bug_not_an_exit_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only the one table turns outcomes into exit codes: a bare 0 is not "done"."""
    monkeypatch.setattr(cli, "_load", lambda name: _fake_module(lambda a: 0))
    assert cli.main(["lab", "--flag", "x"]) == 3
    assert "internal error" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(cli.SUBCOMMANDS))
def test_every_subcommand_returns_an_outcome(name: str) -> None:
    """record, metrics, render, schema, init, preflight and lab too (issue 8)."""
    module = cli._load(name)
    assert inspect.signature(module.run).return_annotation in ("str", str), name


def test_items_inputs_split_on_commas_and_newlines_only() -> None:
    specs = [cli.InputSpec("labels", "--label", "items")]
    env = {"INPUT_LABELS": "needs review, rollback\nsev 1,,"}
    assert cli.argv_from_inputs(specs, env) == [
        "--label",
        "needs review",
        "--label",
        "rollback",
        "--label",
        "sev 1",
    ]


@pytest.mark.parametrize("value", ["yes", "1", "on", "True!"])
def test_booleans_from_inputs_are_strictly_true_or_false(value: str) -> None:
    with pytest.raises(errors.InputError, match="input 'push'"):
        cli.argv_from_inputs([cli.InputSpec("push", "--push", "bool")], {"INPUT_PUSH": value})


def test_docs_links_point_at_the_running_version() -> None:
    url = errors.docs_url("docs/slo-gate.md", "objectives")
    assert url == (
        f"https://github.com/gitops-guard/gitops-guard/blob/v{gitops_guard.__version__}"
        "/docs/slo-gate.md#objectives"
    )


def test_from_action_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def run(args: argparse.Namespace) -> str:
        seen.append(args.flag)
        return "succeeded"

    monkeypatch.setattr(cli, "_load", lambda name: _fake_module(run))
    monkeypatch.setenv("INPUT_FLAG", "from-env")
    assert cli.main(["lab", "--from-action-inputs"]) == 0
    assert seen == ["from-env"]


def test_argv_from_inputs_kinds() -> None:
    specs = [
        cli.InputSpec("image", "--image", "list"),
        cli.InputSpec("var", "--var", "lines"),
        cli.InputSpec("push", "--push", "bool"),
        cli.InputSpec("dry-run", "--dry-run", "bool"),
        cli.InputSpec("dir", "--dir"),
        cli.InputSpec("empty", "--empty"),
    ]
    env = {
        "INPUT_IMAGE": "a:1, b:2\nc:3",
        "INPUT_VAR": "app=web\nquery=a b\n",
        "INPUT_PUSH": "true",
        "INPUT_DRY-RUN": "false",
        "INPUT_DIR": "repo",
    }
    assert cli.argv_from_inputs(specs, env) == [
        "--image",
        "a:1",
        "--image",
        "b:2",
        "--image",
        "c:3",
        "--var",
        "app=web",
        "--var",
        "query=a b",
        "--push",
        "--dir",
        "repo",
    ]


def test_argv_from_inputs_bad_boolean_names_input() -> None:
    with pytest.raises(errors.InputError, match="input 'push'"):
        cli.argv_from_inputs([cli.InputSpec("push", "--push", "bool")], {"INPUT_PUSH": "yes!"})


def test_exported_members() -> None:
    assert set(gitops_guard.__all__) == {
        "__version__",
        "GitopsGuardError",
        "InputError",
        "ConfigError",
        "Rejected",
        "Undecided",
        "DependencyUnavailable",
    }
    for name in gitops_guard.__all__:
        assert hasattr(gitops_guard, name)


def test_every_command_run_in_a_runner_writes_its_duration(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _in_runner(monkeypatch, tmp_path)
    # a run that raises (the stage failed) still says how long it took
    assert cli.main(["argocd-wait", "--server", "http://a", "--revision", "a" * 40]) == 2
    assert re.fullmatch(r"duration-seconds=\d+\.\d\n", (tmp_path / "out").read_text())
    # a flag refused while parsing ran nothing: no duration
    (tmp_path / "out").unlink()
    assert cli.main(["argocd-wait", "--timeout", "soon"]) == 2
    assert not (tmp_path / "out").exists()
    capsys.readouterr()
