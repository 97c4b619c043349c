"""Shared test set-up.

- Every test is marked ``unit``, ``integration`` or ``e2e`` from its folder.
- The environment is cleared of variables that change behaviour (httpx's
  ``clean_environ``): ``GITHUB_*``, ``RUNNER_*``, ``INPUT_*``, ``ARGOCD_*``,
  ``PROMETHEUS_*`` and the token variables.
- Unit tests may not open network connections or start processes.
- Registered secrets are forgotten after each test.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops_guard import actions

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "reference"
_CLEARED_PREFIXES = (
    "GITHUB_",
    "RUNNER_",
    "INPUT_",
    "ARGOCD_",
    "PROMETHEUS_",
    "GITOPS_",
    "ALERTMANAGER_",
    "SLACK_",
    "ACTIONS_",
)
_CLEARED = ("CI",)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).relative_to(ROOT / "tests").parts
        if parts and parts[0] in ("unit", "integration", "e2e"):
            item.add_marker(getattr(pytest.mark, parts[0]))


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in list(os.environ):
        if key.startswith(_CLEARED_PREFIXES) or key in _CLEARED:
            monkeypatch.delenv(key, raising=False)
    # git must not read the developer's identity or config.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "gitops-guard tests")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "tests@example.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "gitops-guard tests")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "tests@example.invalid")
    yield
    actions.clear_secrets()


@pytest.fixture(autouse=True)
def _no_io_in_unit_tests(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("unit") is None:
        return

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError(
            "unit tests must not open connections or start processes; "
            "move this test to tests/integration/"
        )

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)


@pytest.fixture
def reference_dir() -> Path:
    """../shared/reference beside the repository; skips cleanly when absent."""
    if not REFERENCE.is_dir():
        pytest.skip("../shared/reference is not present on this machine")
    return REFERENCE


@pytest.fixture
def runner_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Pretend to be inside a GitHub Actions runner; returns the output/summary files."""
    out = tmp_path / "github_output"
    summary = tmp_path / "step_summary"
    out.touch()
    summary.touch()
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    return {"output": out, "summary": summary}
