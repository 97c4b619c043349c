"""scripts/install-action, the install step of every action, run as a runner runs it.

Covers:
- a cold install puts gitops-guard and uv.lock's runtime dependencies (no lab, no
  kubernetes, no prometheus-client, no pip) into a venv named by version, Python and
  key, and writes ``python=`` to $GITHUB_OUTPUT; the next step reuses it (warm);
- the ``kube`` extra gets a venv of its own with kubernetes in it;
- every action-*/action.yml (and the workflow's own .github/actions/*) installs through
  this one script, first;
- bad input stops with one ``::error`` that says what to do, exit 1, and leaves no
  venv behind: Windows, a Python older than requires-python (3.11), a ref without
  uv.lock, a lock whose hash does not match the downloaded file, and a Python
  without pip to bootstrap uv with (told apart only once the install fails, so a
  Python with pip starts pip once); the script's floor is requires-python's.

uv comes from .venv (scripts/setup installed it from the same hashed requirements)
and the packages from uv's cache, so nothing is downloaded when the cache is warm.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
UV = ROOT / ".venv" / "bin" / "uv"
SCRIPT = ROOT / "scripts" / "install-action"
UV_VERSION = re.search(
    r"^uv==(\S+)", (ROOT / "scripts" / "uv-requirements.txt").read_text(), re.MULTILINE
)

pytestmark = pytest.mark.skipif(not UV.exists(), reason="no uv in .venv; run scripts/setup")


def _home(tmp_path: Path) -> Path:
    """A tool cache with the pinned uv already in it (as after a first job)."""
    assert UV_VERSION
    home = tmp_path / "tool-cache" / "gitops-guard"
    bin_dir = home / f"uv-{UV_VERSION.group(1)}" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "uv").symlink_to(UV)
    return home


def _install(
    home: Path, tmp_path: Path, script: Path = SCRIPT, **env: str
) -> tuple[subprocess.CompletedProcess[str], str]:
    output = tmp_path / "github_output"
    output.write_text("")
    keep = ("PATH", "HOME", "SSL_CERT_FILE", "SSL_CERT_DIR", "UV_CACHE_DIR")
    done = subprocess.run(
        ["bash", str(script)],
        env={
            **{k: v for k, v in os.environ.items() if k in keep},
            "GITOPS_GUARD_HOME": str(home),
            "GITHUB_OUTPUT": str(output),
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    return done, output.read_text()


def _venvs(home: Path) -> list[Path]:
    return [p for p in home.iterdir() if not p.name.startswith(("uv-", "."))]


def _modules(python: str) -> set[str]:
    code = (
        "import importlib.util as u; names = ['gitops_guard', 'gitops_guard_lab', 'kubernetes',"
        " 'prometheus_client', 'pip', 'github', 'httpx', 'pydantic', 'ruamel.yaml'];"
        " print(' '.join(n for n in names if u.find_spec(n.split('.')[0]) is not None))"
    )
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_cold_install_then_every_later_step_reuses_the_venv(tmp_path: Path) -> None:
    home = _home(tmp_path)
    done, output = _install(home, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    (venv,) = _venvs(home)
    assert re.fullmatch(r"\d+\.\d+\.\d+[\w.]*-py3\.\d+-[0-9a-f]{16}", venv.name), venv.name
    assert output == f"python={venv}/bin/python\n"
    assert _modules(f"{venv}/bin/python") == {
        "gitops_guard",
        "github",
        "httpx",
        "pydantic",
        "ruamel.yaml",
    }
    version = subprocess.run(
        [f"{venv}/bin/python", "-m", "gitops_guard", "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert version.startswith("gitops-guard " + venv.name.split("-")[0])

    started = time.monotonic()
    again, output_again = _install(home, tmp_path)
    warm = time.monotonic() - started
    assert again.returncode == 0, again.stdout + again.stderr
    assert "using" in again.stdout and output_again == output
    assert warm < 3, f"warm install took {warm:.1f}s"
    assert _venvs(home) == [venv]


def test_the_kube_extra_gets_a_venv_of_its_own(tmp_path: Path) -> None:
    home = _home(tmp_path)
    done, output = _install(home, tmp_path, GITOPS_GUARD_EXTRAS="kube")
    assert done.returncode == 0, done.stdout + done.stderr
    python = output.removeprefix("python=").strip()
    assert "kubernetes" in _modules(python)


def _refused(done: subprocess.CompletedProcess[str], home: Path, words: str) -> None:
    errors = [line for line in done.stdout.splitlines() if line.startswith("::error")]
    assert done.returncode == 1, done.stdout + done.stderr
    assert len(errors) == 1, done.stdout
    assert words in errors[0], errors[0]
    assert not _venvs(home) if home.exists() else True


def test_windows_is_refused_with_what_to_use_instead(tmp_path: Path) -> None:
    home = _home(tmp_path)
    done, output = _install(home, tmp_path, RUNNER_OS="Windows")
    _refused(done, home, "runs-on: ubuntu-latest")
    assert output == ""


def test_a_python_older_than_3_11_is_refused(tmp_path: Path) -> None:
    old = tmp_path / "python3"
    old.write_text("#!/bin/sh\nexec python3 -c 'import sys; sys.exit(1)'\n")
    old.chmod(0o755)
    home = _home(tmp_path)
    done, output = _install(home, tmp_path, GITOPS_GUARD_PYTHON=str(old))
    _refused(done, home, "needs Python 3.11 or later")
    assert "actions/setup-python" in done.stdout and output == ""


def test_a_python_without_pip_is_refused_with_what_to_install(tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    subprocess.run(["python3", "-m", "venv", "--without-pip", str(bare)], check=True)
    home = tmp_path / "empty-tool-cache"  # no uv yet: it has to be bootstrapped with pip
    done, output = _install(home, tmp_path, GITOPS_GUARD_PYTHON=str(bare / "bin" / "python"))
    _refused(done, home, "has no pip to install uv with")
    assert "python3-pip" in done.stdout and output == ""
    assert not any(p.name.startswith("uv-") for p in home.iterdir())


def _checkout_copy(tmp_path: Path) -> Path:
    """The files an action's checkout holds that the install step reads."""
    copy = tmp_path / "checkout"
    (copy / "scripts").mkdir(parents=True)
    for name in ("pyproject.toml", "uv.lock", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, copy / name)
    for name in ("install-action", "uv-requirements.txt"):
        shutil.copy2(ROOT / "scripts" / name, copy / "scripts" / name)
    shutil.copytree(
        ROOT / "shared" / "gitops_guard",
        copy / "shared" / "gitops_guard",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return copy


def test_a_ref_without_a_lock_is_refused(tmp_path: Path) -> None:
    copy = _checkout_copy(tmp_path)
    (copy / "uv.lock").unlink()
    home = _home(tmp_path)
    done, output = _install(home, tmp_path, copy / "scripts" / "install-action")
    _refused(done, home, "has no uv.lock: use a released tag")
    assert output == ""


def test_a_hash_that_does_not_match_installs_nothing(tmp_path: Path) -> None:
    copy = _checkout_copy(tmp_path)
    lock = copy / "uv.lock"
    text = lock.read_text()
    # Every hash recorded for tenacity's files, replaced by a wrong one.
    block = text[text.index('[[package]]\nname = "tenacity"') :]
    block = block[: block.index("\n[[package]]", 1)]
    assert "sha256:" in block
    wrong = re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, block)
    lock.write_text(text.replace(block, wrong))
    home = _home(tmp_path)
    done, output = _install(home, tmp_path, copy / "scripts" / "install-action")
    _refused(done, home, "from uv.lock failed")
    assert "hash" in (done.stdout + done.stderr).lower()
    assert output == ""
    assert not list(home.glob(".venv-*")), "the staging venv was left behind"


def test_every_action_installs_through_the_one_script() -> None:
    actions = sorted(ROOT.glob("action-*/action.yml")) + sorted(
        ROOT.glob(".github/actions/*/action.yml")
    )
    assert actions
    for path in actions:
        steps = yaml.safe_load(path.read_text())["runs"]["steps"]
        first = steps[0]
        assert first.get("id") == "install", f"{path}: the first step is not the install"
        up = "/".join([".."] * (len(path.relative_to(ROOT).parts) - 1))
        assert first["run"].strip() == f'bash "$ACTION_PATH/{up}/scripts/install-action"', path
        assert first["env"]["ACTION_PATH"] == "${{ github.action_path }}", path
        for step in steps[1:]:
            assert "pip install" not in str(step.get("run", "")), f"{path}: a second install"


def test_a_broken_venv_is_replaced_not_reused(tmp_path: Path) -> None:
    """A self-hosted runner whose base Python went away: the venv is built again."""
    home = _home(tmp_path)
    done, output = _install(home, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    (venv,) = _venvs(home)
    (venv / "bin" / "python").unlink()
    (venv / "bin" / "python").symlink_to(tmp_path / "no-such-python")
    again, output_again = _install(home, tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "installed into" in again.stdout and output_again == output
    assert _modules(output_again.removeprefix("python=").strip()) >= {"gitops_guard"}


def test_the_python_floor_is_requires_python() -> None:
    floor = re.search(r"sys\.version_info < \((\d+), (\d+)\)", SCRIPT.read_text())
    declared = re.search(
        r'^requires-python = ">=(\d+)\.(\d+)"', (ROOT / "pyproject.toml").read_text(), re.M
    )
    assert floor and declared and floor.groups() == declared.groups()
    assert f"needs Python {floor.group(1)}.{floor.group(2)} or later" in SCRIPT.read_text()


def test_the_reusable_workflows_install_through_the_same_script() -> None:
    for name in ("gitops-deploy.yml", "rollback.yml"):
        text = (ROOT / ".github" / "workflows" / name).read_text()
        assert "pip install" not in text, f"{name} installs gitops-guard a second way"
        assert "python3 -m venv" not in text, name
