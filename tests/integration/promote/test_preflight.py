"""``gitops-guard preflight``: a deploy checked offline before anything is promoted.

- a good request (the example GitOps repository) is exit 0 and says what it checked;
- each caller mistake is exit 2 naming the workflow input and where the file is read
  from: an SLO file path with a typo, an SLO file that does not validate (with its
  line), an image that does not parse, a manifest path that does not exist, an image
  whose repository no manifest under the paths holds, a rules file that does not parse;
- several mistakes are all reported in one run; the checkout is never changed;
- under --from-action-inputs the inputs come from INPUT_* variables.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gitops_guard import cli

SEED = Path(__file__).resolve().parents[3] / "examples" / "gitops-repo"
GOOD = "ghcr.io/gitops-guard/sre-demo-app:1.1.0"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    target = tmp_path / "gitops"
    shutil.copytree(SEED, target)
    return target


def _run(repo: Path, *extra: str) -> int:
    return cli.main(["preflight", "--dir", str(repo), "--where", "acme/gitops@main", *extra])


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_good_deploy_passes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = _run(
        repo,
        "--image",
        GOOD,
        "--path",
        "deploy/sre-demo-app",
        "--slo-file",
        "slo.yaml",
        "--rules-file",
        "rollback-rules.yaml",
        "--var",
        "version=1.1.0",
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "preflight: ok" in out and "SLO file slo.yaml" in out


@pytest.mark.parametrize(
    ("extra", "edit", "named", "says"),
    [
        (["--slo-file", "slo/checkout-prod.yaml"], None, "slo-file", "acme/gitops@main"),
        (
            ["--slo-file", "slo.yaml"],
            ("slo.yaml", "scoring:", "scoring: 7\nx:"),
            "slo-file",
            "slo.yaml:",
        ),
        (["--image", "ghcr.io/acme/WEB::1"], None, "images", "images"),
        (["--path", "deploy/nope"], None, "manifest-paths", "does not exist in acme/gitops@main"),
        (["--image", "ghcr.io/acme/other:1.0"], None, "manifest-paths", "ghcr.io/acme/other"),
        (
            ["--rules-file", "rollback-rules.yaml"],
            ("rollback-rules.yaml", "rules:", "rulez:"),
            "rollback-rules",
            "rollback-rules.yaml",
        ),
    ],
)
def test_each_mistake_is_exit_2_naming_the_input(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    edit: tuple[str, str, str] | None,
    named: str,
    says: str,
) -> None:
    if edit:
        path = repo / edit[0]
        path.write_text(path.read_text("utf-8").replace(edit[1], edit[2], 1), "utf-8")
    before = _tree(repo)
    argv = ["--path", "deploy/sre-demo-app", *extra]
    if "--image" not in extra:
        argv += ["--image", GOOD]
    assert _run(repo, *argv) == 2
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert f"  {named}: " in text
    assert says in text
    assert "nothing was promoted" in text
    assert _tree(repo) == before


def test_every_problem_is_reported_at_once(repo: Path, tmp_path: Path) -> None:
    report = tmp_path / "preflight.json"
    code = _run(
        repo,
        "--image",
        "not a ref",
        "--path",
        "deploy/nope",
        "--slo-file",
        "missing.yaml",
        "--rules-file",
        "../etc/passwd",
        "--report",
        str(report),
    )
    assert code == 2
    data = json.loads(report.read_text("utf-8"))
    assert data["ok"] is False
    assert {p["input"] for p in data["problems"]} == {
        "images",
        "manifest-paths",
        "slo-file",
        "rollback-rules",
    }


def test_inputs_from_the_action(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INPUT_DIR", str(repo))
    monkeypatch.setenv("INPUT_IMAGES", f"{GOOD}\n")
    monkeypatch.setenv("INPUT_MANIFEST-PATHS", "deploy/sre-demo-app")
    monkeypatch.setenv("INPUT_SLO-FILE", "slo.yaml")
    monkeypatch.setenv("INPUT_SLO-VARS", "version=1.1.0\napp=sre-demo-app\n")
    assert cli.main(["preflight", "--from-action-inputs"]) == 0
    assert "preflight: ok" in capsys.readouterr().out
    monkeypatch.setenv("INPUT_SLO-FILE", "slo/typo.yaml")
    assert cli.main(["preflight", "--from-action-inputs"]) == 2
