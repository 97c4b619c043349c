"""A seeded campaign of bad inputs across every subcommand: exit 2, named, nothing changed.

Covers, for several hundred generated cases (bad flag values of argocd-wait, slo-gate,
update-manifest and rollback revert|to|watch|quarantine, flags of one rollback command
given to another, strict booleans and bad values from action inputs):

- the exit code is 2 (never 3: a bad input is not a fault; never 1: not a "no");
- the message names the flag, or under ``--from-action-inputs`` the action input;
- no traceback and no "internal error";
- NOTHING changed: the checkout's files, its local refs and the bare remote's refs
  are identical before and after (``rollback revert --argocd-timeout abc`` used to
  push the revert, then exit 2);
- inside a runner the same error is an ``::error`` annotation and is in the job summary.

Every case runs ``cli.main()`` in-process, so the campaign takes a few seconds.
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gitops_guard import cli

SEED = 20261201
ROOT = Path(__file__).resolve().parents[3]
SLO_FILE = ROOT / "examples" / "slo.yaml"
SHA = "a" * 40

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

RULES = """\
rules:
  - name: errors
    alert:
      alertname: HighErrorRate
"""


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


@dataclass
class World:
    """A GitOps checkout with a deploy commit, its bare remote and files to point at."""

    checkout: Path
    remote: Path
    deploy: str
    files: dict[str, Path] = field(default_factory=dict)

    def snapshot(self) -> tuple[str, str, str, str]:
        digest = hashlib.sha256()
        for path in sorted(self.checkout.rglob("*")):
            if ".git" in path.relative_to(self.checkout).parts or not path.is_file():
                continue
            digest.update(str(path.relative_to(self.checkout)).encode())
            digest.update(path.read_bytes())
        return (
            digest.hexdigest(),
            _git(self.checkout, "status", "--porcelain", "--untracked-files=all"),
            _git(self.checkout, "for-each-ref", "--format=%(refname) %(objectname)"),
            _git(self.remote, "for-each-ref", "--format=%(refname) %(objectname)"),
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("campaign")
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    remote, checkout = base / "remote.git", base / "checkout"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True, env=env)
    subprocess.run(["git", "clone", "-q", str(remote), str(checkout)], check=True, env=env)
    (checkout / "apps/web").mkdir(parents=True)
    (checkout / "apps/web/deployment.yaml").write_text(DEPLOYMENT)
    for args in (["add", "-A"], ["commit", "-qm", "init"], ["push", "-q", "origin", "HEAD:main"]):
        subprocess.run(["git", *args], cwd=checkout, check=True, env=env)
    subprocess.run(["git", "branch", "-q", "-u", "origin/main"], cwd=checkout, check=True, env=env)
    mp = pytest.MonkeyPatch()
    for key, value in env.items():
        if key.startswith("GIT_"):
            mp.setenv(key, value)
    try:
        assert (
            cli.main(
                [
                    "update-manifest",
                    "--dir",
                    str(checkout),
                    "--image",
                    "ghcr.io/acme/web:1.1.0",
                    "--push",
                ]
            )
            == 0
        )
    finally:
        mp.undo()
    deploy = _git(checkout, "rev-parse", "HEAD").strip()
    files = {
        "dir": base / "a-directory",
        "text": base / "not-a-cert.pem",
        "json": base / "not-json.json",
        "rules": base / "rules.yaml",
        "missing": base / "missing" / "file.json",
    }
    files["dir"].mkdir()
    files["text"].write_text("this is not a certificate\n")
    files["json"].write_text("{not json")
    files["rules"].write_text(RULES)
    yield World(checkout=checkout, remote=remote, deploy=deploy, files=files)


@dataclass(frozen=True)
class Case:
    argv: tuple[str, ...]
    names: str
    """What the message must name: a flag, an input (``input 'x'``) or a file."""
    env: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return " ".join(self.argv) + "".join(f" {k}={v}" for k, v in self.env)


def _bad_values(w: World) -> dict[str, dict[str, list[str]]]:
    """Subcommand -> flag -> bad values."""
    f = {k: str(v) for k, v in w.files.items()}
    durations = ["abc", "-1", "nan", "inf", "1.5h", "1x", "10 m", ""]
    urls = ["http://", "http://a b", "http://h:99999", "http://[::1", "ftp://h", ""]
    branches = ["a b", "a..b", "main:evil", "-x", "x.lock", "/x", "x/", "a~1", "a^", "a*"]
    return {
        "argocd-wait": {
            "--server": ["http://", "http://a b", "http://h:99999", "http://[::1", "ftp://h"],
            "--app": ["", "  "],
            "--revision": ["abc", "xyz", "HEAD"],
            "--timeout": [*durations, "0"],
            "--degraded-grace": durations,
            "--poll-interval": durations,
            "--refresh-interval": durations,
            "--attempts": ["0", "abc", "101", "-3"],
            "--source-position": ["0", "x"],
            "--ca-bundle": [f["dir"], f["text"], f["missing"]],
            "--report": [f["dir"], f["missing"]],
        },
        "slo-gate": {
            "--prometheus-url": urls,
            "--query-timeout": ["nan", "inf", "0", "-1", "abc", ""],
            "--at": ["1e20", "-1e20", "yesterday", "2026-01-01T00:00:00"],
            "--ca-bundle": [f["dir"], f["text"], f["missing"]],
            "--report": [f["dir"], f["missing"]],
            "--history": ["abc", "-5m", "nan"],
        },
        "update-manifest": {
            "--image": ["UPPER/Case:1", "web@sha256:bad", "", "a b"],
            "--branch": branches,
            "--repo-url": [str(w.checkout.parent / "nope"), "ftp://x/y", "http://"],
            "--max-retries": ["-1", "abc", "101"],
            "--merge-method": ["sideways"],
            "--report": [f["dir"], f["missing"]],
            "--label": [""],
            "--github-repository": ["nope", "a/b/c", ""],
        },
        "rollback revert": {
            "--argocd-timeout": durations,
            "--argocd-server": urls[:-1],
            "--notify-issue": ["abc", "0", "-1", "1.5"],
            "--notify-repository": ["x", "a/b/c"],
            "--mode": ["sideways"],
            "--quarantine": ["maybe"],
            "--branch": branches,
            "--report": [f["dir"], f["missing"]],
            "--github-repository": ["nope"],
            "--label": [""],
            "--merge-method": ["rebase-ish"],
        },
        "rollback to": {
            "--image": ["UPPER/Case:1", "web@sha256:bad"],
            "--argocd-timeout": durations[:4],
            "--branch": branches[:4],
            "--notify-issue": ["abc"],
        },
        "rollback watch": {
            "--interval": ["0", "abc", "-1", "nan"],
            "--for": ["abc", "-1", "inf"],
            "--alertmanager-url": urls[:-1],
            "--prometheus-url": urls[:-1],
            "--argocd-timeout": durations[:3],
            "--branch": branches[:3],
        },
    }


def _base(w: World, sub: str) -> list[str]:
    co = str(w.checkout)
    return {
        "argocd-wait": [
            "argocd-wait",
            "--server",
            "http://127.0.0.1:9",
            "--app",
            "web",
            "--revision",
            SHA,
        ],
        "slo-gate": [
            "slo-gate",
            "--config",
            str(SLO_FILE),
            "--prometheus-url",
            "http://127.0.0.1:9",
        ],
        "update-manifest": [
            "update-manifest",
            "--dir",
            co,
            "--image",
            "ghcr.io/acme/web:1.2.0",
            "--push",
        ],
        "rollback revert": ["rollback", "revert", "--dir", co, "--commit", w.deploy],
        "rollback to": ["rollback", "to", "--dir", co, "--image", "ghcr.io/acme/web:1.0.0"],
        "rollback watch": [
            "rollback",
            "watch",
            "--dir",
            co,
            "--rules",
            str(w.files["rules"]),
            "--for",
            "0s",
            "--alertmanager-url",
            "http://127.0.0.1:9",
        ],
    }[sub]


_NEEDS = {
    # A flag that only means something with another one: give it its partner.
    ("update-manifest", "--label"): ["--pull-request", "--dry-run"],
    ("update-manifest", "--github-repository"): ["--pull-request", "--dry-run"],
    ("rollback revert", "--argocd-timeout"): [
        "--argocd-server",
        "http://127.0.0.1:9",
        "--argocd-app",
        "web",
    ],
    ("rollback to", "--argocd-timeout"): [
        "--argocd-server",
        "http://127.0.0.1:9",
        "--argocd-app",
        "web",
    ],
    ("rollback watch", "--argocd-timeout"): [
        "--argocd-server",
        "http://127.0.0.1:9",
        "--argocd-app",
        "web",
    ],
}
_EXTRAS = {
    "update-manifest": [["--dry-run"], ["--path", "apps"], ["--max-retries", "3"]],
    "rollback revert": [["--dry-run"], ["--app", "web"], ["--reason", "bad deploy"]],
    "rollback to": [["--dry-run"], ["--app", "web"], ["--path", "apps"]],
    "rollback watch": [["--dry-run"], ["--interval", "1s"], ["--app", "web"]],
    "argocd-wait": [["--no-stream"], ["--sync"], ["--insecure"]],
    "slo-gate": [["--once"], ["--insecure"], ["--var", "app=web"]],
}
# Flags of one rollback command that another does not have: refused by name.
_FOREIGN = [
    ("rollback watch", "--evidence", "x.json"),
    ("rollback watch", "--previous", None),
    ("rollback revert", "--rules", "r.yaml"),
    ("rollback revert", "--interval", "30s"),
    ("rollback to", "--commit", SHA),
    ("rollback quarantine", "--argocd-server", "http://h"),
    ("rollback quarantine", "--commit", SHA),
]
# Action inputs: INPUT_* values, and the input the message must name.
_INPUT_CASES = [
    ("update-manifest", {"INPUT_PUSH": "yes"}, "input 'push'"),
    ("update-manifest", {"INPUT_COMMIT": "1"}, "input 'commit'"),
    ("update-manifest", {"INPUT_DRY-RUN": "on"}, "input 'dry-run'"),
    ("update-manifest", {"INPUT_PULL-REQUEST": "True!"}, "input 'pull-request'"),
    ("update-manifest", {"INPUT_MAX-RETRIES": "many"}, "input 'max-retries'"),
    ("update-manifest", {"INPUT_BRANCH": "a..b", "INPUT_PUSH": "true"}, "input 'branch'"),
    ("argocd-wait", {"INPUT_TIMEOUT": "soon"}, "input 'timeout'"),
    ("argocd-wait", {"INPUT_ARGOCD-DEGRADED-GRACE": "abc"}, "input 'argocd-degraded-grace'"),
    ("argocd-wait", {"INPUT_ARGOCD-SYNC": "yes"}, "input 'argocd-sync'"),
    ("slo-gate", {"INPUT_QUERY-TIMEOUT": "nan"}, "input 'query-timeout'"),
    ("slo-gate", {"INPUT_PROMETHEUS-URL": "ftp://x"}, "input 'prometheus-url'"),
    ("slo-gate", {"INPUT_ONCE": "1"}, "input 'once'"),
    ("rollback revert", {"INPUT_ARGOCD-TIMEOUT": "abc"}, "input 'argocd-timeout'"),
    ("rollback revert", {"INPUT_NOTIFY-ISSUE": "abc"}, "input 'notify-issue'"),
    ("rollback revert", {"INPUT_DRY-RUN": "yes"}, "input 'dry-run'"),
    ("rollback watch", {"INPUT_INTERVAL": "0"}, "input 'interval'"),
    ("rollback revert", {"INPUT_COMMAND": "sideways"}, "input 'command'"),
    ("rollback watch", {"INPUT_FOR": "forever"}, "input 'for'"),
]


def _input_env(w: World, sub: str) -> dict[str, str]:
    co = str(w.checkout)
    return {
        "argocd-wait": {
            "INPUT_ARGOCD-SERVER": "http://127.0.0.1:9",
            "INPUT_ARGOCD-APP": "web",
            "INPUT_REVISION": SHA,
        },
        "slo-gate": {"INPUT_CONFIG": str(SLO_FILE), "INPUT_PROMETHEUS-URL": "http://127.0.0.1:9"},
        "update-manifest": {"INPUT_DIR": co, "INPUT_IMAGE": "ghcr.io/acme/web:1.2.0"},
        "rollback revert": {
            "INPUT_COMMAND": "revert",
            "INPUT_DIR": co,
            "INPUT_COMMIT": w.deploy,
            "INPUT_ARGOCD-SERVER": "http://127.0.0.1:9",
            "INPUT_ARGOCD-APP": "web",
            "INPUT_ARGOCD-TIMEOUT": "600",
            "INPUT_FOR": "15m",
            "INPUT_MODE": "commit",
        },
        "rollback watch": {
            "INPUT_COMMAND": "watch",
            "INPUT_DIR": co,
            "INPUT_RULES": str(w.files["rules"]),
            "INPUT_FOR": "0s",
            "INPUT_ALERTMANAGER-URL": "http://127.0.0.1:9",
        },
    }[sub]


def generate(w: World, rng: random.Random) -> list[Case]:
    """Every bad value of every flag, in a shuffled argv with random valid extras."""
    cases: list[Case] = []
    for sub, flags in _bad_values(w).items():
        for flag, values in flags.items():
            for value in values:
                for _ in range(2):  # two shuffles of each: flag order must not matter
                    extra = list(_NEEDS.get((sub, flag), []))
                    for more in rng.sample(_EXTRAS[sub], k=rng.randint(0, 2)):
                        extra += more
                    head = 2 if sub.startswith("rollback") else 1
                    base = _base(w, sub)
                    pairs = [p for p in _pairs(base[head:] + extra) if p[0] != flag]
                    pairs.append([flag, value])
                    rng.shuffle(pairs)
                    argv = base[:head] + [x for p in pairs for x in p]
                    cases.append(Case(tuple(argv), flag))
    for sub, flag, value in _FOREIGN:
        base = (
            ["rollback", "quarantine", "add", "--dir", str(w.checkout), "--image", "web:1"]
            if sub == "rollback quarantine"
            else _base(w, sub)
        )
        cases.append(Case((*base, flag, *([value] if value else [])), flag))
    for sub, bad, names in _INPUT_CASES:
        env = {**_input_env(w, sub), **bad}
        word = sub.split()[0]
        cases.append(Case((word, "--from-action-inputs"), names, tuple(sorted(env.items()))))
    cases += [
        Case(("rollback", "to", "--dir", str(w.checkout)), "--previous"),
        Case(("rollback", "quarantine", "add", "--dir", str(w.checkout)), "--image"),
        Case(("rollback", "quarantine", "bogus", "--dir", str(w.checkout)), "quarantine_action"),
        Case(("rollback",), "COMMAND"),
        Case(("rollback", "revert", "--dir", str(w.checkout)), "--commit"),
        Case(("rollback", "revert", "--dir", str(w.checkout), "--commit", "0" * 40), "--commit"),
        Case(
            (
                "rollback",
                "revert",
                "--dir",
                str(w.checkout),
                "--commit",
                w.deploy,
                "--argocd-server",
                "http://127.0.0.1:9",
            ),
            "--argocd-app",
        ),
        Case(
            (
                "rollback",
                "revert",
                "--dir",
                str(w.checkout),
                "--commit",
                w.deploy,
                "--evidence",
                str(w.files["json"]),
            ),
            str(w.files["json"]),
        ),
        Case(
            ("rollback", "watch", "--dir", str(w.checkout), "--rules", str(w.files["rules"])),
            "--alertmanager-url",
        ),
        Case(("argocd-wait", "--app", "web", "--revision", SHA), "--server"),
        Case(
            ("update-manifest", "--dir", str(w.files["missing"]), "--image", "a/b:1", "--push"),
            "--dir",
        ),
    ]
    return cases


def _pairs(argv: list[str]) -> list[list[str]]:
    """Flags with their values, so they can be shuffled as units."""
    out: list[list[str]] = []
    for item in argv:
        if item.startswith("--") or not out:
            out.append([item])
        else:
            out[-1].append(item)
    return out


def test_the_campaign_is_big_and_seeded(world: World) -> None:
    first = generate(world, random.Random(SEED))
    again = generate(world, random.Random(SEED))
    assert [str(c) for c in first] == [str(c) for c in again]
    assert len(first) >= 300


def test_every_bad_input_is_exit_2_named_and_changes_nothing(
    world: World,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    cases = generate(world, random.Random(SEED))
    before = world.snapshot()
    summary = tmp_path / "summary.md"
    failures: list[str] = []
    for index, case in enumerate(cases):
        in_runner = index % 5 == 0
        with monkeypatch.context() as mp:
            for key, value in case.env:
                mp.setenv(key, value)
            if in_runner:
                summary.write_text("")
                mp.setenv("GITHUB_ACTIONS", "true")
                mp.setenv("GITHUB_OUTPUT", str(tmp_path / "output"))
                mp.setenv("GITHUB_STEP_SUMMARY", str(summary))
            capsys.readouterr()
            code = cli.main(list(case.argv))
            out, err = capsys.readouterr()
        text = out + err
        problems = []
        if code != 2:
            problems.append(f"exit {code}")
        if case.names not in text:
            problems.append(f"message does not name {case.names!r}")
        if case.names.startswith("input '") and _flag_of(case) in text:
            problems.append("message names the flag, not the input")
        if "Traceback" in text or "internal error" in text:
            problems.append("internal error")
        if in_runner and ("::error" not in out or case.names not in summary.read_text()):
            problems.append("not in the annotation and the job summary")
        if world.snapshot() != before:
            problems.append("CHANGED the checkout or the remote")
            before = world.snapshot()
        if problems:
            failures.append(f"{case}: {', '.join(problems)}\n    {text.strip()[:300]}")
    assert not failures, f"{len(failures)} of {len(cases)} cases:\n" + "\n".join(failures[:25])


def _flag_of(case: Case) -> str:
    name = case.names.removeprefix("input '").removesuffix("'")
    aliases = {"argocd-degraded-grace": "--degraded-grace", "argocd-sync": "--sync"}
    return aliases.get(name, f"--{name}")


@pytest.mark.parametrize(
    "name",
    [
        "main",
        "feature/x",
        "a.b",
        "release-1.2",
        "user/a_b",
        "x@y",
        "a.b/c",
        "a b",
        "a..b",
        "main:evil",
        "-x",
        "x.lock",
        "/x",
        "x/",
        "a~1",
        "a^",
        "a*",
        "a[",
        "a\\b",
        "a@{1}",
        "HEAD",
        ".x",
        "x/.y",
        "x.",
        "a//b",
        "a?",
    ],
)
def test_branch_rules_match_git_check_ref_format(name: str) -> None:
    from gitops_guard.cli import checks

    by_git = (
        subprocess.run(
            ["git", "check-ref-format", "--branch", name], capture_output=True, check=False
        ).returncode
        == 0
    )
    ours = checks.branch_problem(name) is None
    assert ours == by_git, name


PINNED = [
    (command, flag, value)
    for command in ("rollback revert", "rollback to")
    for flag, value in (
        ("--argocd-timeout", "abc"),
        ("--argocd-server", "http://"),
        ("--notify-issue", "x"),
        ("--timeout", "abc"),
    )
]


@pytest.mark.parametrize(("command", "flag", "value"), PINNED, ids=[" ".join(p) for p in PINNED])
def test_rollback_bad_flags_exit_2_and_push_nothing(
    world: World, capsys: pytest.CaptureFixture[str], command: str, flag: str, value: str
) -> None:
    """Issue 9 §3, pinned (not left to the seeded draw): every bad flag of a rollback
    that would otherwise publish is exit 2 naming it, and the bare remote's refs stay."""
    extra = ["--argocd-app", "web"] if flag == "--argocd-server" else []
    before = world.snapshot()
    code = cli.main([*_base(world, command), flag, value, *extra])
    text = "".join(capsys.readouterr())
    assert code == 2, text
    assert flag in text
    assert world.snapshot() == before
