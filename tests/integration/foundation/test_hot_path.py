"""update-manifest's hot path stays light (issue 12: the whole command in <= 150 ms).

Covers: ``gitops-guard update-manifest`` over a repository without a quarantine file
loads none of pydantic, httpx, PyGithub, ruamel, kubernetes, numpy, tenacity (retries
are for network commands) or ssl, neither for a plain edit nor for a local
``--commit``; with a
quarantine file it still refuses a quarantined image (the lazy import changes
nothing but the time); the promote flow's name for the quarantine file is the
quarantine module's own.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gitops_guard import quarantine
from gitops_guard.promote import flow

HEAVY = ("pydantic", "httpx", "github", "ruamel", "kubernetes", "numpy", "tenacity", "ssl")

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        image: ghcr.io/acme/web:1.0.0
"""


def _update(root: Path, *extra: str) -> tuple[int, list[str], str]:
    code = (
        "import sys\n"
        "from gitops_guard import cli\n"
        f"rc = cli.main(['update-manifest', '--dir', {str(root)!r}, "
        f"'--image', 'ghcr.io/acme/web:1.1.0', *{list(extra)!r}])\n"
        f"print('LOADED=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
        "sys.exit(rc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    loaded = done.stdout.strip().splitlines()[-1].removeprefix("LOADED=")
    return done.returncode, [m for m in loaded.split(",") if m], done.stderr


def test_no_heavy_library_without_a_quarantine_file(tmp_path: Path) -> None:
    (tmp_path / "deployment.yaml").write_text(DEPLOYMENT)
    rc, loaded, _ = _update(tmp_path)
    assert rc == 0
    assert loaded == []
    assert "ghcr.io/acme/web:1.1.0" in (tmp_path / "deployment.yaml").read_text()


def test_a_local_commit_loads_no_retry_library(tmp_path: Path) -> None:
    (tmp_path / "deployment.yaml").write_text(DEPLOYMENT)
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "start"], check=True)
    rc, loaded, err = _update(tmp_path, "--commit")
    assert rc == 0, err
    assert loaded == []
    log = subprocess.run(
        [*git, "log", "-1", "--format=%s"], capture_output=True, text=True, check=True
    ).stdout
    assert "ghcr.io/acme/web:1.1.0" in log or "1.1.0" in log


def test_a_quarantine_file_is_still_read(tmp_path: Path) -> None:
    (tmp_path / "deployment.yaml").write_text(DEPLOYMENT)
    listed = tmp_path / quarantine.PATH
    listed.parent.mkdir(parents=True)
    listed.write_text(
        "version: 1\nimages:\n- image: ghcr.io/acme/web:1.1.0\n  reason: failed the gate\n"
    )
    rc, _, err = _update(tmp_path)
    assert rc == 2
    assert "quarantined image: ghcr.io/acme/web:1.1.0" in err
    assert "ghcr.io/acme/web:1.0.0" in (tmp_path / "deployment.yaml").read_text()


def test_the_flow_names_the_quarantine_file_as_the_module_does() -> None:
    assert flow.QUARANTINE_FILE == quarantine.PATH
