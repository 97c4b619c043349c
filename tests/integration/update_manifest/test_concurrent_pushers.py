"""Eight pipelines updating eight apps in one GitOps repository at the same moment.

Behaviours covered:
- eight `gitops-guard update-manifest --push` processes, each in its own checkout,
  started together against one bare remote: all exit 0 and all eight changes land,
  none lost, in a linear history without merge commits;
- every deploy commit carries its own image/previous-image trailers;
- the wall time and the total push attempts are printed (-s shows them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from gitrepo import Remote, git


def test_eight_concurrent_pipelines_all_land(remote: Remote, tmp_path: Path) -> None:
    n = 8
    checkouts = [remote.clone(tmp_path / f"pipeline{i}") for i in range(n)]
    env = dict(os.environ)
    start = time.monotonic()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gitops_guard",
                "update-manifest",
                "--dir",
                str(checkouts[i]),
                "--image",
                f"ghcr.io/acme/app{i}:2.0.{i}",
                "--push",
                "--max-retries",
                "30",
                "--report",
                str(tmp_path / f"report{i}.json"),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(n)
    ]
    results = [(p.communicate(timeout=120), p.returncode) for p in procs]
    elapsed = time.monotonic() - start
    for (out, err), code in results:
        assert code == 0, out + err
    reports = [json.loads((tmp_path / f"report{i}.json").read_text()) for i in range(n)]
    attempts = sum(r["push_attempts"] for r in reports)
    print(f"\n8 concurrent pushers: {elapsed:.2f}s wall, {attempts} push attempts in all")

    for i in range(n):
        assert f"image: ghcr.io/acme/app{i}:2.0.{i}" in remote.show(f"apps/app{i}/deployment.yaml")
    assert remote.log("%P", f"-{n}") and all(
        len(parents.split()) == 1 for parents in remote.log("%P")[:n]
    )
    assert len(remote.log()) == n + 1
    shas = {r["commit_sha"] for r in reports}
    assert shas == set(remote.log()[:n])
    images = remote.log("%(trailers:key=Gitops-Guard-Image,valueonly,separator=)")[:n]
    assert sorted(images) == sorted(f"ghcr.io/acme/app{i}:2.0.{i}" for i in range(n))
    # Every pipeline's checkout ends at its own commit, on top of what others pushed.
    for i, report in enumerate(reports):
        assert git(checkouts[i], "rev-parse", "HEAD").strip() == report["commit_sha"]
