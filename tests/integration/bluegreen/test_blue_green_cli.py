"""`gitops-guard blue-green` as users call it: exit codes, outputs, nothing changed on bad input.

Covers: bad input (a missing colour, two active colours, a selector without the
colour key, replicas that are not a number, an image that does not parse, a
kubeconfig that does not load) exits 2 with file:line or the input named, and the
remote is unchanged; a full run through the CLI with the Kubernetes stand-in and
ArgoCD played by a background syncer writes outputs, a report and a summary and
no token anywhere; action inputs reach the flags (--from-action-inputs).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import twocolour
from bgrepo import TOKEN, BlueGreenRepo, Cluster, git

from gitops_guard import cli

NEW = "ghcr.io/gitops-guard/web:1.1.0"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main(["blue-green", *argv])
    out = capsys.readouterr()
    return code, out.out + out.err


def commit_edit(bg: BlueGreenRepo, path: str, old: str, new: str) -> None:
    file = bg.work / "deploy" / "web" / path
    text = file.read_text()
    assert old in text
    file.write_text(text.replace(old, new, 1))
    git(bg.work, "commit", "-qam", f"edit {path}")
    git(bg.work, "push", "-q", "origin", "main")


@pytest.mark.parametrize(
    ("path", "old", "new", "needle"),
    [
        ("web-green.yaml", "name: web-green", "name: web-red", "the green colour is missing"),
        ("service.yaml", "    color: blue\n", "", "deploy/web/service.yaml:11"),
        ("web-blue.yaml", "replicas: 2", "replicas: two", "deploy/web/web-blue.yaml:12"),
        ("web-green.yaml", "        color: green\n", "        color: blue\n", "but its name"),
    ],
)
def test_an_unclear_layout_is_exit_2_and_changes_nothing(
    bg: BlueGreenRepo,
    capsys: pytest.CaptureFixture[str],
    path: str,
    old: str,
    new: str,
    needle: str,
) -> None:
    commit_edit(bg, path, old, new)
    tip = bg.tip()
    code, out = run(
        capsys,
        *("--dir", str(bg.work), "--service", "web", "--image", NEW),
        *("--skip-gates", "--readiness", "argocd-only"),
    )
    assert code == 2, out
    assert needle in out
    assert bg.tip() == tip


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (["--image", "ghcr.io/Bad::"], "--image"),
        (["--image", NEW, "--preview-replicas", "many"], "--preview-replicas"),
        (["--image", NEW, "--colors", "blue"], "--colors"),
        (["--image", NEW, "--scale-down-delay", "soon"], "--scale-down-delay"),
        (["--image", NEW, "--timeout", "soon"], "--timeout"),
        (["--image", NEW, "--slo-config", "slo.yaml"], "--slo-config and --prometheus-url"),
    ],
)
def test_bad_flags_are_exit_2(
    bg: BlueGreenRepo, capsys: pytest.CaptureFixture[str], flags: list[str], needle: str
) -> None:
    tip = bg.tip()
    code, out = run(capsys, "--dir", str(bg.work), "--service", "web", *flags)
    assert code == 2, out
    assert needle in out
    assert bg.tip() == tip


def test_no_gate_or_no_credentials_is_exit_2_naming_the_input(
    bg: BlueGreenRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/config
    tip = bg.tip()
    base = ["--dir", str(bg.work), "--service", "web", "--image", NEW]
    code, out = run(capsys, *base)
    assert code == 2, out
    assert "--slo-config" in out and "--skip-gates" in out
    code, out = run(capsys, *base, "--skip-gates")
    assert code == 2, out
    assert "--kubeconfig" in out and "--readiness argocd-only" in out
    # Under --from-action-inputs the message names the action inputs.
    for key, value in {"dir": str(bg.work), "service": "web", "image": NEW}.items():
        monkeypatch.setenv(f"INPUT_{key.upper()}", value)
    code, out = run(capsys, "--from-action-inputs")
    assert code == 2, out
    assert "input 'slo-config'" in out and "input 'skip-gates'" in out
    assert bg.tip() == tip


def test_a_spent_timeout_is_exit_3_naming_it_and_changes_nothing(
    bg: BlueGreenRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    tip = bg.tip()
    code, out = run(
        capsys,
        *("--dir", str(bg.work), "--service", "web", "--image", NEW, "--timeout", "1ms"),
        *("--skip-gates", "--readiness", "argocd-only"),
    )
    assert code == 3, out
    assert "--timeout" in out and ("elapsed" in out or "timed out after" in out)
    assert bg.tip() == tip


def test_a_kubeconfig_that_does_not_load_is_exit_2(
    bg: BlueGreenRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken-kubeconfig"
    broken.write_text("clusters: [\n")
    tip = bg.tip()
    code, out = run(
        capsys,
        "--dir",
        str(bg.work),
        "--service",
        "web",
        "--image",
        NEW,
        "--kubeconfig",
        str(broken),
    )
    assert code == 2, out
    assert f"{broken}: the kubeconfig does not load" in out
    assert bg.tip() == tip


@pytest.fixture
def argocd(bg: BlueGreenRepo) -> Iterator[None]:
    """A background 'ArgoCD' that applies every new tip of the remote to the stand-in."""
    with twocolour.syncing(bg):
        yield


def test_a_full_run_through_the_cli_writes_outputs_and_a_report(
    bg: BlueGreenRepo,
    cluster: Cluster,
    argocd: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outputs = tmp_path / "outputs"
    summary = tmp_path / "summary"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    for key, value in {
        "dir": str(bg.work),
        "service": "web",
        "image": NEW,
        "path": "deploy/web",
        "scale-down-delay": "100ms",
        "switch-timeout": "10s",
        "ready-timeout": "10s",
        "report": str(tmp_path / "bg.json"),
        "skip-gates": "true",
    }.items():
        monkeypatch.setenv(f"INPUT_{key.upper()}", value)
    code, out = run(capsys, "--from-action-inputs")
    assert code == 0, out
    report = json.loads((tmp_path / "bg.json").read_text())
    assert report["outcome"] == "promoted"
    assert (report["live_before"], report["live_after"]) == ("blue", "green")
    assert set(report["commits"]) == {"prepare", "switch", "scale-down"}
    assert report["unverified"] == ["gates"]
    assert "warning: " in out and "the SLO gates were skipped (--skip-gates)" in out
    assert [e["step"] for e in report["timeline"]] == [
        "prepare",
        "ready",
        "preview-gate",
        "switch",
        "serving",
        "post-switch-gate",
        "scale-down",
    ]
    text = outputs.read_text()
    assert "live-color-before=blue\n" in text and "live-color-after=green\n" in text
    assert f"switch-commit={report['commits']['switch']}\n" in text
    assert "| step | outcome |" in summary.read_text()
    for where in (out, text, summary.read_text(), json.dumps(report)):
        assert TOKEN not in where
