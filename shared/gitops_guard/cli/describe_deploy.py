"""`gitops-guard describe-deploy`: what a GitOps commit deployed, for the gate.

Reads the commit's ``Gitops-Guard-*`` trailers (a merge of a promotion pull request:
those of the deploy commits it merged) and prints the images it set, the images they
replaced and the SLO variables of :mod:`gitops_guard.promote.deployed` (``image``,
``version``, ``revision``, ``previous_image``, ``baseline_version``), as step outputs
inside a runner. Exit 0, also for a commit that is not a gitops-guard deploy
(``is-deploy`` is ``false``: a workflow that runs on every push skips the gate);
2 when the commit is not in the checkout. This module only translates.
"""

from __future__ import annotations

import argparse

from gitops_guard import actions, gitops, report
from gitops_guard.cli import InputSpec
from gitops_guard.promote import deployed
from gitops_guard.rollback import flows

HELP = "Show what a GitOps commit deployed (images, previous images, gate variables)."

INPUTS = (
    InputSpec("dir", "--dir"),
    InputSpec("commit", "--commit"),
    InputSpec("report", "--report"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``describe-deploy``."""
    parser.add_argument("--dir", default=".", help="checkout of the GitOps repository")
    parser.add_argument("--commit", default="HEAD", help="the commit (default HEAD)")
    parser.add_argument("--report", help="write the description as JSON")


def run(args: argparse.Namespace) -> str:
    """Describe, print, set outputs; exit 0 (or 2 for an unknown commit)."""
    wc = gitops.open_checkout(args.dir)
    found = deployed.describe(flows.deployed_record(wc, args.commit))
    outputs = deployed.outputs(found)
    if args.report:
        report.write_json(
            args.report,
            {"action": "describe-deploy", **{k.replace("-", "_"): v for k, v in outputs.items()}},
        )
    actions.set_outputs(outputs)
    if not found.is_deploy:
        print(f"{found.revision[:12]} ({found.subject}) is not a gitops-guard deploy commit")
        return "skipped"
    print(f"{found.revision[:12]} deployed {', '.join(found.images)}")
    for swap in found.swaps:
        print(f"  {swap.previous or '(none)'} -> {swap.image}")
    print("gate variables:\n  " + outputs["vars"].replace("\n", "\n  "))
    return "succeeded"
