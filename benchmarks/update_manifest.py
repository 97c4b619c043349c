"""Time one image update over a GitOps tree of 2,000 manifests, against `sed -i`.

Builds a tree in a temporary folder: 2,000 manifest files (Deployments with
comments, probes, env values and annotations, a Service document, CronJobs,
and one kustomization.yaml per app folder), of which 1% hold the target image.
Then times, on a fresh copy each run:

- ``manifests.plan`` + ``manifests.apply`` in this process;
- ``gitops-guard update-manifest --dir ... --image ...`` as a command (process
  start included, bytecode cached as after a job's first command), when the
  subcommand is available;
- ``sed -i`` over all the manifest files, and ``grep -rl | xargs sed -i`` over
  only the files that hold the image — the two usual shell ways.

Prints medians and ratios, with issue 12's goals for the whole command: at most
150 ms, and at most 3x ``grep -rl | xargs sed -i``. It is a figure for humans, not
a test.
Usage: python benchmarks/update_manifest.py [RUNS] [FILES]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from gitops_guard import images, manifests

TARGET_OLD = "ghcr.io/acme/checkout:1.4.2"
TARGET_NEW = "ghcr.io/acme/checkout:1.5.0"

DEPLOYMENT = """\
# {name}: owned by team-{team}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
    app.kubernetes.io/version: "1.4.2"
  annotations:
    acme.io/build: "{image}"
spec:
  replicas: 3
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      initContainers:
      - name: migrate
        image: "{image}"
        args: [migrate, --to, latest]
      containers:
      - name: app
        image: {image}   # bumped by CI
        ports:
        - containerPort: 8080
        env:
        - name: SELF_IMAGE
          value: {image}
        readinessProbe:
          httpGet: {{path: /ready, port: 8080}}
        resources:
          requests: {{cpu: 50m, memory: 64Mi}}
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector: {{app: {name}}}
  ports: [{{port: 80, targetPort: 8080}}]
"""

CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {name}
spec:
  schedule: "*/15 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: job
            image: '{image}'
"""


def build_tree(root: Path, files: int) -> list[Path]:
    """Write ``files`` manifests under ``root``; 1% hold the target image."""
    written = []
    every = 100
    for i in range(files):
        folder = root / "apps" / f"team-{i % 40:02d}" / f"svc-{i:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        image = TARGET_OLD if i % every == 7 else f"ghcr.io/acme/svc-{i:04d}:1.4.2"
        template = CRONJOB if i % 5 == 0 else DEPLOYMENT
        name = "checkout" if image == TARGET_OLD else f"svc-{i:04d}"
        path = folder / ("cronjob.yaml" if template is CRONJOB else "deployment.yaml")
        path.write_text(template.format(name=name, team=i % 40, image=image))
        (folder / "kustomization.yaml").write_text(f"resources:\n- {path.name}\n")
        written.append(path)
    return written


def _median(runs: int, prepare: Callable[[], Path], action: Callable[[Path], object]) -> float:
    samples = []
    for _ in range(runs):
        tree = prepare()
        start = time.perf_counter()
        action(tree)
        samples.append(time.perf_counter() - start)
        shutil.rmtree(tree)
    return statistics.median(samples)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    with tempfile.TemporaryDirectory() as tmp:
        pristine = Path(tmp) / "pristine"
        manifest_files = build_tree(pristine, count)
        rel_files = [str(p.relative_to(pristine)) for p in manifest_files]
        holders = sum(TARGET_OLD in p.read_text() for p in manifest_files)
        copies = iter(range(10**6))

        def prepare() -> Path:
            dest = Path(tmp) / f"run-{next(copies)}"
            shutil.copytree(pristine, dest)
            return dest

        def engine(tree: Path) -> None:
            plan = manifests.plan(tree, [images.parse(TARGET_NEW)])
            assert len(manifests.apply(tree, plan)) == holders

        # As on a runner: Python caches bytecode in the venv, so only a job's first
        # command compiles. PYTHONDONTWRITEBYTECODE (set on some machines) would make
        # every run compile every module; one warm-up run below fills the cache.
        cli_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

        def cli(tree: Path) -> None:
            cmd = [sys.executable, "-m", "gitops_guard", "update-manifest"]
            cmd += ["--dir", str(tree), "--image", TARGET_NEW]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=tree, env=cli_env)

        sed_expr = f"s#{TARGET_OLD}#{TARGET_NEW}#g"

        def sed_all(tree: Path) -> None:
            subprocess.run(["sed", "-i", sed_expr, *rel_files], check=True, cwd=tree)

        def grep_sed(tree: Path) -> None:
            script = f"grep -rlF '{TARGET_OLD}' apps | xargs -r sed -i '{sed_expr}'"
            subprocess.run(["sh", "-c", script], check=True, cwd=tree)

        engine_s = _median(runs, prepare, engine)
        sed_s = _median(runs, prepare, sed_all)
        grep_s = _median(runs, prepare, grep_sed)
        cli_probe = subprocess.run(
            [sys.executable, "-m", "gitops_guard", "update-manifest", "--help"],
            capture_output=True,
            text=True,
            check=False,
        )
        cli_s = None
        if "--image" in cli_probe.stdout:
            _median(1, prepare, cli)  # warm-up: writes the bytecode cache
            cli_s = _median(runs, prepare, cli)

    print(f"tree: {count} manifests (+{count} kustomization.yaml), {holders} hold {TARGET_OLD}")
    print(f"runs: {runs} (median)")
    print(f"manifests.plan+apply      {engine_s * 1000:8.1f} ms")
    if cli_s is not None:
        print(f"gitops-guard update-manifest {cli_s * 1000:5.1f} ms (process start included)")
    print(f"sed -i over all files     {sed_s * 1000:8.1f} ms")
    print(f"grep -l | xargs sed -i    {grep_s * 1000:8.1f} ms")
    print(f"ratio engine / sed -i      {engine_s / sed_s:8.2f}x")
    print(f"ratio engine / grep+sed    {engine_s / grep_s:8.2f}x")
    if cli_s is not None:
        print(f"ratio CLI / sed -i         {cli_s / sed_s:8.2f}x")
        print(f"ratio CLI / grep+sed       {cli_s / grep_s:8.2f}x   (goal <= 3x)")
        print(f"whole command              {cli_s * 1000:8.1f} ms  (goal <= 150 ms)")


if __name__ == "__main__":
    main()
