"""What gitops-guard ships: the lock, the release files, the install step's uv.

Covers:
- uv.lock is current with pyproject.toml (``uv lock --check --offline``), and the same
  check fails once pyproject.toml asks for a dependency the lock lacks;
- scripts/build (what release.yml runs, least-privileged per job) builds an sdist
  and a wheel that pass twine check and hold the runtime package only, no lab and
  no tests;
- the runtime requirements are ranges, kubernetes sits behind the ``kube`` extra and
  prometheus-client is no runtime requirement (the lab's and the tests' only);
- one uv everywhere: the version in scripts/uv-requirements.txt (with a hash for
  every wheel) is the uv pinned for development, and within the uv_build range (so uv builds with
  its own backend, offline).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
UV = ROOT / ".venv" / "bin" / "uv"

pytestmark = pytest.mark.skipif(not UV.exists(), reason="no uv in .venv; run scripts/setup")


def _uv(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(UV), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(Path.home()),
            "UV_NO_PROGRESS": "1",
            "UV_PYTHON": sys.executable,
            "UV_PYTHON_DOWNLOADS": "never",
        },
    )


def _project_copy(tmp_path: Path) -> Path:
    for name in ("pyproject.toml", "uv.lock", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, tmp_path / name)
    return tmp_path


def test_the_lock_is_current_with_pyproject(tmp_path: Path) -> None:
    done = _uv("lock", "--check", "--offline", cwd=_project_copy(tmp_path))
    assert done.returncode == 0, f"uv.lock is stale: run scripts/lock\n{done.stderr}"


def test_a_dependency_missing_from_the_lock_is_caught(tmp_path: Path) -> None:
    project = _project_copy(tmp_path)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    added = text.replace("dependencies = [\n", 'dependencies = [\n    "idna>=3",\n', 1)
    pyproject.write_text(added)
    done = _uv("lock", "--check", "--offline", cwd=project)
    assert done.returncode != 0, done.stderr


def test_the_release_build_holds_the_runtime_only(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "build"), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASSED" in done.stdout and "are clean" in done.stdout
    (wheel,) = out.glob("gitops_guard-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n == "gitops_guard/cli/__init__.py" for n in names)
    assert not [n for n in names if "gitops_guard_lab" in n or n.startswith("tests/")]
    meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
    metadata = Parser().parsestr(zipfile.ZipFile(wheel).read(meta).decode())
    requires = metadata.get_all("Requires-Dist") or []
    runtime = [r for r in requires if "extra ==" not in r]
    pinned = [r for r in runtime if "==" in r]
    assert runtime and [r.split("==")[0] for r in pinned] in ([], ["grafana-foundation-sdk"])
    assert not [r for r in runtime if r.lower().startswith(("kubernetes", "prometheus"))]
    assert [r for r in requires if r.startswith("kubernetes") and "extra == 'kube'" in r]
    assert metadata["License-Expression"] == "Apache-2.0"


def test_a_wheel_with_the_lab_in_it_is_refused(tmp_path: Path) -> None:
    """scripts/build's own check can fail: feed it a wheel that carries the lab."""
    out = tmp_path / "dist"
    out.mkdir()
    done = subprocess.run(
        [str(UV), "build", "--quiet", "--offline", "--out-dir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel, "a") as archive:
        archive.writestr("gitops_guard_lab/__init__.py", "")
    script = (ROOT / "scripts" / "build").read_text()
    checker = script[script.index("<<'PY'\n") + len("<<'PY'\n") : script.rindex("\nPY")]
    checked = subprocess.run(
        [sys.executable, "-", str(out), "", ""],
        input=checker,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert checked.returncode != 0
    assert "gitops_guard_lab/__init__.py" in checked.stderr


def test_one_uv_version_everywhere() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    (dev_pin,) = re.findall(r'^    "(uv==[^;"]+)', pyproject, re.MULTILINE)
    pinned = (ROOT / "scripts" / "uv-requirements.txt").read_text()
    found = re.search(r"^uv==(\S+)", pinned, re.MULTILINE)
    assert found and f"uv=={found.group(1)}" == dev_pin
    assert len(re.findall(r"--hash=sha256:[0-9a-f]{64}", pinned)) >= 10  # every platform
    # uv builds with its built-in backend (nothing downloaded) when its version is in
    # the range uv_build asks for; pip takes uv_build from PyPI instead.
    backend = re.search(r'^requires = \["uv_build>=([\d.]+),<([\d.]+)"\]', pyproject, re.M)
    assert backend, "build-system.requires is not a uv_build range"
    low, high, uv = (tuple(map(int, v.split("."))) for v in (*backend.groups(), found.group(1)))
    assert low <= uv < high, (backend.groups(), found.group(1))


def test_the_release_workflow_builds_with_the_script_ci_runs() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    assert workflow["permissions"] == {}
    assert workflow[True]["push"]["tags"] == ["v[0-9]+.[0-9]+.[0-9]+"]  # `on` reads as True
    jobs = workflow["jobs"]
    runs = [step.get("run", "") for step in jobs["build"]["steps"]]
    assert any(run.strip() == "scripts/build dist" for run in runs)
    assert any("--require-hashes" in run and "uv-requirements.txt" in run for run in runs)
    assert jobs["build"]["permissions"] == {"contents": "read"}
    assert jobs["publish"]["permissions"] == {"id-token": "write"}
    assert jobs["publish"]["environment"]["name"] == "pypi"
    assert jobs["attest"]["permissions"]["attestations"] == "write"
    assert jobs["major-tag"]["needs"] == "publish"
    uses = [s["uses"] for job in jobs.values() for s in job.get("steps", []) if "uses" in s]
    assert all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", u) for u in uses), uses
