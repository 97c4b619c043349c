"""`gitops-guard init`: start a new service in one command.

Writes the ArgoCD Application, the manifests (rolling or blue-green), the SLO file,
the rollback rules and the caller workflows into the GitOps and application
checkouts given (see :mod:`gitops_guard.scaffold`). Never overwrites a file without
``--force``; with an existing file it exits 2 and writes nothing. This module only
translates flags and prints.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gitops_guard import actions, scaffold

HELP = "Start a new service: ArgoCD Application, manifests, SLO file, rules, workflows."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``init``."""
    parser.add_argument("--app", required=True, help="the service's name (a Kubernetes name)")
    parser.add_argument(
        "--image", required=True, help="the image repository, e.g. ghcr.io/acme/web[:tag]"
    )
    parser.add_argument(
        "--gitops-repository", required=True, metavar="OWNER/NAME", help="the GitOps repository"
    )
    parser.add_argument(
        "--path", required=True, help="the manifests' folder in the GitOps repo, e.g. deploy/web"
    )
    parser.add_argument("--strategy", default="rolling", help="rolling (default) or blue-green")
    parser.add_argument(
        "--app-dir", default=".", type=Path, help="the application checkout (default .)"
    )
    parser.add_argument(
        "--gitops-dir", required=True, type=Path, help="the GitOps repository checkout"
    )
    parser.add_argument("--namespace", help="the Kubernetes namespace (default: the app's name)")
    parser.add_argument("--port", type=int, default=8080, help="the container port (default 8080)")
    parser.add_argument("--replicas", type=int, default=2, help="replicas (default 2)")
    parser.add_argument("--environment", default="production", help="default production")
    parser.add_argument(
        "--gitops-guard-ref",
        metavar="SHA",
        help="the gitops-guard release commit the caller workflows pin (default: a placeholder)",
    )
    parser.add_argument(
        "--gitops-guard-repository", default="gitops-guard/gitops-guard", metavar="OWNER/NAME"
    )
    parser.add_argument("--argocd-server", default="https://argocd.example.com")
    parser.add_argument("--prometheus-url", default="https://prometheus.example.com")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    parser.add_argument("--dry-run", action="store_true", help="list the files; write none")


def run(args: argparse.Namespace) -> str:
    """Plan, then write (or list) the files."""
    settings = scaffold.Settings(
        app=args.app,
        image=args.image,
        gitops_repository=args.gitops_repository,
        path=args.path,
        strategy=args.strategy,
        namespace=args.namespace,
        port=args.port,
        replicas=args.replicas,
        environment=args.environment,
        gitops_guard_repository=args.gitops_guard_repository,
        gitops_guard_ref=args.gitops_guard_ref,
        argocd_server=args.argocd_server,
        prometheus_url=args.prometheus_url,
    )
    files = scaffold.plan(settings)
    roots = {"app": args.app_dir, "gitops": args.gitops_dir}
    if args.dry_run:
        for item in files:
            print(f"would write {roots[item.checkout] / item.path}")
        return "dry-run"
    done = scaffold.write(files, app_dir=args.app_dir, gitops_dir=args.gitops_dir, force=args.force)
    for item in files:
        print(f"wrote {roots[item.checkout] / item.path}")
    if done.overwritten:
        print(f"(overwrote {len(done.overwritten)} existing file(s): --force)")
    if not args.gitops_guard_ref:
        actions.warning(
            "the caller workflows pin gitops-guard at a placeholder commit "
            f"({scaffold.PLACEHOLDER_SHA[:12]}...): replace it with the release's commit SHA, "
            "or rerun with --gitops-guard-ref SHA --force",
            title="init",
        )
    print(
        "Next: commit both checkouts, apply apps/"
        f"{settings.app}.yaml to ArgoCD once, and add the secrets GITOPS_TOKEN, ARGOCD_TOKEN "
        "and PROMETHEUS_TOKEN to the application repository."
    )
    return "succeeded"
