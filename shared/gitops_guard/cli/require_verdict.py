"""`gitops-guard require-verdict`: refuse an image that did not pass in an earlier environment.

Lists the deployment records of ``--repository`` in ``--environment`` through the
one GitHub client and asks :mod:`gitops_guard.promote.verdicts`. Exit 0 when every
image passed there (or ``--force``, with a warning), 1 when one did not (the answer
is no: nothing was promoted), 2 for bad input or a token GitHub refuses, 3 when
GitHub cannot be reached. Outputs ``verdict`` and ``evidence`` (one line of JSON,
carried into the next environment's gate evidence). This module only translates.
"""

from __future__ import annotations

import argparse
import json
import os

from gitops_guard import actions, errors, github, images, report
from gitops_guard.cli import InputSpec
from gitops_guard.promote import verdicts

HELP = "Refuse an image without a passing SLO verdict in an earlier environment."

TOKEN_ENV = "GITHUB_TOKEN"  # noqa: S105 (a variable name, not a secret)

INPUTS = (
    InputSpec("repository", "--repository"),
    InputSpec("environment", "--environment"),
    InputSpec("images", "--image", "lines"),
    InputSpec("force", "--force", "bool"),
    InputSpec("report", "--report"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``require-verdict``."""
    parser.add_argument("--repository", help="OWNER/NAME with the records ($GITHUB_REPOSITORY)")
    parser.add_argument("--environment", required=True, help="the earlier environment (staging)")
    parser.add_argument("--image", action="append", default=[], help="an image of the deploy")
    parser.add_argument("--force", action="store_true", help="go ahead anyway, with a warning")
    parser.add_argument("--report", help="write the decision as JSON")


def run(args: argparse.Namespace) -> str:
    """Decide for every image; 0 allowed, 1 refused."""
    if not args.image:
        raise errors.InputError("no image given", source="--image", hint="Pass --image REF.")
    for ref in args.image:
        images.parse(ref, source="--image")
    repository = args.repository or actions.repository()
    if not repository:
        raise errors.InputError(
            "no repository to read the records from",
            source="--repository",
            hint="Pass --repository OWNER/NAME (GITHUB_REPOSITORY inside a runner).",
        )
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        raise errors.ConfigError(
            f"{TOKEN_ENV} is not set",
            source=TOKEN_ENV,
            hint="Pass a token that can read deployments (permissions: deployments: read).",
        )
    actions.register_secret(token)
    settings = github.ApiSettings(token=token, api_url=github.api_url_from_env())
    seen = github.list_deployments(repository, settings=settings, environment=args.environment)
    records = [verdicts.Record(d.id, d.task, d.environment, d.created_at, d.payload) for d in seen]
    decisions = [
        verdicts.decide(records, image=ref, environment=args.environment, force=args.force)
        for ref in args.image
    ]
    allowed = all(d.allowed for d in decisions)
    evidence = {
        "action": "require-verdict",
        "repository": repository,
        "environment": args.environment,
        "allowed": allowed,
        "images": {ref: d.evidence() for ref, d in zip(args.image, decisions, strict=True)},
    }
    if args.report:
        report.write_json(args.report, evidence)
    worst = next((d for d in decisions if not d.allowed), decisions[0])
    actions.set_outputs(
        {
            "verdict": worst.verdict if allowed else "",
            "evidence": json.dumps(evidence, separators=(",", ":")),
        }
    )
    for decision in decisions:
        print(decision.reason)
        if decision.forced:
            actions.warning(decision.reason, title="require-verdict")
    if allowed:
        return "succeeded"
    actions.error(worst.reason, title=f"no passing verdict in {args.environment}")
    actions.append_summary(
        f"### Not promoted: no passing verdict in {args.environment}\n\n"
        + "\n".join(f"- {d.reason}" for d in decisions)
        + "\n\nDeploy the image to "
        + f"{args.environment} first, or set `force: true` to promote it anyway.\n"
    )
    return "failed"
