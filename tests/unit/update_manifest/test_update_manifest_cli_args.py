"""update-manifest's flag validation: every bad combination is exit 2 before any I/O.

Behaviours covered:
- --label, --auto-merge and --base need --pull-request; --merge-method is checked;
- two --image of one repository with different versions are refused; a repeated
  identical --image is fine to parse;
- --max-retries must be a whole number from 0 to 100;
- a missing --image is argparse's exit 2;
- a --pull-request without any token is exit 2 naming GITHUB_TOKEN;
- the token comes from the action's token input first, then GITOPS_TOKEN, then
  GITHUB_TOKEN.
"""

from __future__ import annotations

import pytest

from gitops_guard import cli, credentials


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main(["update-manifest", *argv])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--image", "nginx:1", "--label", "x"], "--label and --auto-merge need --pull-request"),
        (["--image", "nginx:1", "--auto-merge"], "need --pull-request"),
        (["--image", "nginx:1", "--base", "main"], "--base needs --pull-request"),
        (
            ["--image", "nginx:1", "--pull-request", "--merge-method", "octopus"],
            "--merge-method must be merge, squash or rebase",
        ),
        (
            ["--image", "nginx:1", "--image", "docker.io/library/nginx:2"],
            "name the same repository",
        ),
        (["--image", "nginx:1", "--max-retries", "many"], "--max-retries"),
        (["--image", "nginx:1", "--max-retries", "101"], "from 0 to 100"),
        (["--image", "nginx:1", "--pull-request"], "GITHUB_TOKEN"),
        (["--image", "UPPER/Case:1"], "--image"),
    ],
)
def test_bad_flags_are_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, err = _run(capsys, *argv)
    assert code == 2
    assert message in err


def test_missing_image_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(capsys, "--dir", ".")
    assert code == 2
    assert "--image" in err


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"GITHUB_TOKEN": "gh-token"}, ("GITHUB_TOKEN", "gh-token")),
        (
            {"GITOPS_TOKEN": "gitops-token", "GITHUB_TOKEN": "gh-token"},
            ("GITOPS_TOKEN", "gitops-token"),
        ),
        (
            {"INPUT_TOKEN": "input-token", "GITOPS_TOKEN": "gitops-token"},
            ("INPUT_TOKEN", "input-token"),
        ),
        ({"INPUT_TOKEN": "", "GITOPS_TOKEN": "gitops-token"}, ("GITOPS_TOKEN", "gitops-token")),
    ],
)
def test_token_order(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: tuple[str, str] | None
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    found = credentials.github_token()  # the one resolver update-manifest reads
    assert ((found.source, found.value) if found is not None else None) == expected
