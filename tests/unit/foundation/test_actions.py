"""The runner contract in gitops_guard.actions.

Covers: single- and multi-line outputs with a random delimiter, refusing a value
that contains the delimiter, JSON for lists/dicts, booleans; job summary appends;
annotations with file/line escaping inside a runner and plain text outside;
::add-mask:: for secrets and redaction of registered secrets everywhere; strict
boolean inputs naming the input; groups; no-ops outside a runner.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from gitops_guard import actions, errors


def test_single_line_output_is_name_equals_value() -> None:
    assert actions.format_output("changed", "true") == "changed=true\n"


def test_multiline_output_uses_random_heredoc_delimiter() -> None:
    text = actions.format_output("table", "a\nb")
    match = re.fullmatch(r"table<<(ghadelimiter_[0-9a-f-]{36})\na\nb\n\1\n", text)
    assert match, text
    assert actions.format_output("t", "x\ny") != actions.format_output("t", "x\ny")


def test_output_containing_the_delimiter_is_refused() -> None:
    with pytest.raises(ValueError, match="delimiter"):
        actions.format_output("evil", "x\nghadelimiter_1\n", delimiter="ghadelimiter_1")


def test_set_outputs_writes_json_and_booleans(runner_env: dict[str, Path]) -> None:
    actions.set_outputs({"changed": False, "previous-images": ["a:1", "b:2"], "sha": "abc"})
    written = runner_env["output"].read_text()
    assert "changed=false\n" in written
    assert 'previous-images=["a:1", "b:2"]\n' in written
    assert "sha=abc\n" in written


def test_set_outputs_outside_runner_writes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("nothing may be opened outside a runner")

    monkeypatch.setattr("builtins.open", refuse)
    actions.set_outputs({"changed": True})  # no GITHUB_OUTPUT
    actions.append_summary("# nothing")  # no GITHUB_STEP_SUMMARY


def test_summary_is_appended(runner_env: dict[str, Path]) -> None:
    actions.append_summary("# one")
    actions.append_summary("two")
    assert runner_env["summary"].read_text() == "# one\n\ntwo\n\n"


def test_error_annotation_escapes_properties(
    runner_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    actions.error("bad\nvalue 100%", title="T", file="a,b:c.yaml", line=7)
    out = capsys.readouterr().out
    assert out == "::error title=T,file=a%2Cb%3Ac.yaml,line=7::bad%0Avalue 100%25\n"


def test_error_outside_runner_is_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    actions.error("it broke", file="slo.yaml", line=3)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error: slo.yaml:3: it broke\n"


def test_secret_is_masked_and_redacted(
    runner_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    actions.register_secret("s3cr3t-token")
    actions.info("token is s3cr3t-token")
    actions.set_outputs({"x": "s3cr3t-token"})
    actions.append_summary("s3cr3t-token")
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "::add-mask::s3cr3t-token"
    assert out.splitlines()[1] == "token is ***"
    assert "s3cr3t" not in runner_env["output"].read_text()
    assert "s3cr3t" not in runner_env["summary"].read_text()


def test_env_secrets_are_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARGOCD_TOKEN", "argo-very-secret")
    actions.register_env_secrets()
    assert actions.redact("Bearer argo-very-secret") == "Bearer ***"


def test_logging_filter_redacts(caplog: pytest.LogCaptureFixture) -> None:
    actions.register_secret("hunter2-hunter2")
    logger = logging.getLogger("test.redact")
    logger.addFilter(actions.RedactingFilter())
    with caplog.at_level(logging.INFO, logger="test.redact"):
        logger.info("auth %s", "hunter2-hunter2")
    assert caplog.records[0].getMessage() == "auth ***"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("TRUE", True), ("false", False), ("", False), (" False ", False)],
)
def test_parse_bool_accepts_true_and_false(value: str, expected: bool) -> None:
    assert actions.parse_bool(value, name="push") is expected


@pytest.mark.parametrize("value", ["ture", "yes", "1", "on", "no", "0", "off", "y"])
def test_parse_bool_refuses_anything_but_true_and_false(value: str) -> None:
    with pytest.raises(errors.InputError) as info:
        actions.parse_bool(value, name="input 'push'")
    assert info.value.exit_code == 2
    assert "input 'push'" in str(info.value)


def test_get_input_reads_kebab_and_snake_names() -> None:
    env = {"INPUT_DRY-RUN": " true ", "INPUT_PROMETHEUS_URL": "http://p"}
    assert actions.get_input("dry-run", environ=env) == "true"
    assert actions.get_input("prometheus-url", environ=env) == "http://p"
    assert actions.get_input("missing", "dflt", environ=env) == "dflt"


def test_group_in_runner(runner_env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    with actions.group("Plan"):
        print("inside")
    assert capsys.readouterr().out == "::group::Plan\ninside\n::endgroup::\n"


def test_report_failure_two_channels(
    runner_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    exc = errors.ConfigError(
        "objective 'x' has no query", source="slo.yaml:12", hint="Add a query: key."
    )
    actions.report_failure(exc)
    out = capsys.readouterr().out
    assert out.startswith("::error title=ConfigError,file=slo.yaml,line=12::")
    summary = runner_env["summary"].read_text()
    assert "slo.yaml:12: objective 'x' has no query" in summary
    assert "Add a query: key." in summary


def test_run_url() -> None:
    env = {
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_RUN_ID": "42",
    }
    assert actions.run_url(env) == "https://github.com/o/r/actions/runs/42"
    assert actions.run_url({}) is None
