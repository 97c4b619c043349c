"""``gitops-guard lab up`` and ``lab down`` through the CLI, as a user runs them.

- up returns exit 0 once every part is healthy: the demo app is Healthy at the seed
  revision, the ArgoCD API answers with the token (401 without), Prometheus has
  scraped the demo app, the load generator's traffic shows up;
- DIR/lab.env is sourceable, mode 0600, and names the bare repository, the branch,
  the URLs, the app and the token; the bare repository holds the seed at its tip;
- every process up started is recorded under DIR/pids and carries the lab marker;
- up on a running lab reuses it (same URLs); down stops every process it started,
  leaves no process behind, and a second down is a no-op (exit 0);
- a seed without apps/ is bad input (exit 2) and starts nothing.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from gitops_guard_lab import layout

pytestmark = pytest.mark.usefixtures("needs_prometheus")


def _lab(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gitops_guard", "lab", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )


def test_up_healthy_env_then_down_leaves_nothing(no_stray_processes: Path) -> None:
    lab_dir = no_stray_processes
    try:
        done = _lab("up", "--dir", str(lab_dir))
        assert done.returncode == 0, done.stdout + done.stderr
        env_file = lab_dir / "lab.env"
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        env = layout.parse_env(env_file.read_text(encoding="utf-8"))
        assert env["ARGOCD_TOKEN"] not in done.stdout + done.stderr
        root = layout.Layout.at(lab_dir).root
        assert env["LAB_DIR"] == str(root)
        assert env["GITOPS_REPO"] == str(root / "gitops.git")
        assert env["GITOPS_BRANCH"] == "main"
        assert env["ARGOCD_APP"] == "sre-demo-app"
        for key in ("ARGOCD_SERVER", "PROMETHEUS_URL", "DEMO_APP_URL"):
            assert env[key].startswith("http://127.0.0.1:"), key

        # the shell reads it the same way
        shell = subprocess.run(
            ["sh", "-c", f'. "{env_file}"; printf %s "$ARGOCD_SERVER"'],
            capture_output=True,
            text=True,
            check=True,
        )
        assert shell.stdout == env["ARGOCD_SERVER"]

        tip = subprocess.run(
            ["git", "--git-dir", env["GITOPS_REPO"], "log", "-1", "--format=%H %s", "main"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split(" ", 1)
        app_url = f"{env['ARGOCD_SERVER']}/api/v1/applications/sre-demo-app"
        app = httpx.get(app_url, headers={"Authorization": f"Bearer {env['ARGOCD_TOKEN']}"})
        assert app.status_code == 200
        status = app.json()["status"]
        assert status["sync"]["status"] == "Synced"
        assert status["sync"]["revision"] == tip[0]
        assert status["health"]["status"] == "Healthy"
        assert httpx.get(app_url).status_code == 401
        assert httpx.get(f"{env['DEMO_APP_URL']}/version").json()["version"] == "1.0.0"
        query = httpx.get(
            f"{env['PROMETHEUS_URL']}/api/v1/query",
            params={"query": 'sum(http_requests_total{app="sre-demo-app",version="1.0.0"})'},
        ).json()
        assert float(query["data"]["result"][0]["value"][1]) > 0

        pids = layout.Layout.at(lab_dir).recorded_pids()
        assert set(pids) == {"supervisor", "demoapp", "prometheus", "loadgen"}
        for name, pid in pids.items():
            assert layout.alive(pid), name
            assert layout.belongs_to(pid, root), name
        assert set(pids.values()) <= set(layout.lab_processes(root))

        again = _lab("up", "--dir", str(lab_dir))
        assert again.returncode == 0, again.stderr
        assert layout.parse_env(env_file.read_text(encoding="utf-8")) == env
    finally:
        down = _lab("down", "--dir", str(lab_dir))
    assert down.returncode == 0, down.stderr
    assert "supervisor" in down.stdout
    deadline = time.monotonic() + 5
    while layout.lab_processes(layout.Layout.at(lab_dir).root) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert layout.lab_processes(layout.Layout.at(lab_dir).root) == []
    assert not list((lab_dir / "pids").glob("*.pid"))
    second = _lab("down", "--dir", str(lab_dir))
    assert second.returncode == 0
    assert "nothing" in second.stdout


def test_a_bad_seed_is_bad_input(no_stray_processes: Path, tmp_path: Path) -> None:
    seed = tmp_path / "not-a-gitops-repo"
    seed.mkdir()
    done = _lab("up", "--dir", str(no_stray_processes), "--seed", str(seed))
    assert done.returncode == 2
    assert "apps/" in done.stderr + done.stdout
    assert not (no_stray_processes / "lab.env").exists()


def test_down_kills_what_a_killed_supervisor_left(no_stray_processes: Path) -> None:
    lab_dir = no_stray_processes
    done = _lab("up", "--dir", str(lab_dir))
    assert done.returncode == 0, done.stdout + done.stderr
    paths = layout.Layout.at(lab_dir)
    pids = paths.recorded_pids()
    workdir = Path(paths.prometheus_workdir_file.read_text(encoding="utf-8").strip())
    assert workdir.is_dir()
    os.kill(pids["supervisor"], 9)
    down = _lab("down", "--dir", str(lab_dir))
    assert down.returncode == 0
    assert {"demoapp", "loadgen", "prometheus"} <= set(down.stdout.replace(",", " ").split())
    assert layout.lab_processes(paths.root) == []
    assert not workdir.exists()
