"""`gitops-guard update-manifest`: set image tags/digests in a GitOps repository.

Translates flags (or action inputs) into a :class:`promote.UpdateRequest`, calls the
flow once (:func:`gitops_guard.promote.run.run`: open or clone the repository, plan,
publish), and turns the result into human output, ``$GITHUB_OUTPUT`` outputs, a job
summary and the ``--report`` JSON. It decides nothing itself.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from typing import Any

from gitops_guard import actions, credentials, errors, images, promote, report
from gitops_guard.cli import InputSpec, checks, timeout
from gitops_guard.observe import records

HELP = "Set image tags/digests in a GitOps repository; commit, push or open a pull request."

INPUTS = (
    InputSpec("dir", "--dir"),
    InputSpec("image", "--image", "list"),
    InputSpec("path", "--path", "list"),
    InputSpec("helm", "--helm", "list"),
    InputSpec("commit", "--commit", "bool"),
    InputSpec("push", "--push", "bool"),
    InputSpec("pull-request", "--pull-request", "bool"),
    InputSpec("dry-run", "--dry-run", "bool"),
    InputSpec("report", "--report"),
    InputSpec("repo-url", "--repo-url"),
    InputSpec("branch", "--branch"),
    InputSpec("base", "--base"),
    InputSpec("message", "--message"),
    InputSpec("labels", "--label", "items"),
    InputSpec("auto-merge", "--auto-merge", "bool"),
    InputSpec("merge-method", "--merge-method"),
    InputSpec("force", "--force", "bool"),
    InputSpec("exemption", "--exemption"),
    InputSpec("max-retries", "--max-retries"),
    InputSpec("timeout", "--timeout"),
    InputSpec("github-repository", "--github-repository"),
)

TOKEN_INPUT = "INPUT_TOKEN"  # noqa: S105 (a variable name, not a secret)
"""The variable that carries the action's ``token`` input; it wins over ``TOKEN_ENVS``."""

TOKEN_ENVS = ("GITOPS_TOKEN", "GITHUB_TOKEN")
"""Where the token is read from when the ``token`` input is empty, first set wins.
Never a flag value."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of update-manifest."""
    parser.add_argument(
        "--dir", help="the GitOps checkout, default . (with --repo-url: where to clone)"
    )
    parser.add_argument(
        "--image",
        action="append",
        default=[],
        metavar="REF",
        required=True,
        help="image to set, e.g. ghcr.io/acme/web:1.4.2 (repeatable)",
    )
    parser.add_argument(
        "--path", action="append", default=[], metavar="PATH", help="only these files/folders"
    )
    parser.add_argument(
        "--helm",
        action="append",
        default=[],
        metavar="SPEC",
        help="Helm values: FILE:REPO_KEY[:TAG_KEY], e.g. values.yaml:image.repository:image.tag",
    )
    parser.add_argument("--commit", action="store_true", help="commit the change")
    parser.add_argument("--push", action="store_true", help="commit and push to the branch")
    parser.add_argument(
        "--pull-request", action="store_true", help="push a branch and open/update a PR"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the plan and diff only")
    parser.add_argument(
        "--report", metavar="FILE", type=checks.report_arg("--report"), help="write a JSON report"
    )
    parser.add_argument(
        "--repo-url",
        metavar="URL",
        type=checks.repo_url_arg("--repo-url"),
        help="clone this repository (token from GITOPS_TOKEN)",
    )
    parser.add_argument(
        "--branch",
        type=checks.branch_arg("--branch"),
        help="branch to push to, or the pull request's head branch",
    )
    parser.add_argument(
        "--base", type=checks.branch_arg("--base"), help="the pull request's base branch"
    )
    parser.add_argument("--message", help="commit subject / PR title instead of the generated one")
    parser.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="NAME",
        type=checks.nonempty_arg("--label"),
        help="PR label (repeatable)",
    )
    parser.add_argument("--auto-merge", action="store_true", help="enable auto-merge on the PR")
    parser.add_argument(
        "--merge-method", default="squash", help="auto-merge method: merge, squash or rebase"
    )
    parser.add_argument("--force", action="store_true", help="promote a quarantined image")
    parser.add_argument(
        "--exemption",
        metavar="TEXT",
        help="record the error-budget exemption the deploy goes out under "
        "(slo-gate --phase pre's exemption output) as a Gitops-Guard-Exemption trailer",
    )
    parser.add_argument(
        "--max-retries",
        default="10",
        metavar="N",
        help="push retries when someone pushed first (default 10)",
    )
    timeout.add_flag(parser)
    parser.add_argument(
        "--github-repository",
        metavar="OWNER/NAME",
        type=checks.repository_arg("--github-repository"),
        help="repository for the PR (default: from the remote URL)",
    )


# ---------------------------------------------------------------- validation
def _parse_images(texts: list[str]) -> tuple[images.ImageRef, ...]:
    problems: list[str] = []
    refs: list[images.ImageRef] = []
    for text in texts:
        try:
            ref = images.parse_update(text, source="--image")
        except errors.InputError as exc:
            problems.append(exc.message)  # the source and the hint are said once, below
            continue
        clash = next((r for r in refs if r.same_repository(ref)), None)
        if clash is not None and str(clash) != str(ref):
            problems.append(f"--image {clash.text} and {ref.text} name the same repository")
        elif clash is None:
            refs.append(ref)
    if problems:
        raise errors.InputError(
            "; ".join(problems),
            source="--image",
            hint=images.BAD_REFERENCE_HINT,
        )
    if not refs:
        raise errors.InputError("no image given", source="--image", hint="Pass --image REF.")
    return tuple(refs)


def _max_retries(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 100:
        raise errors.InputError(
            f"expected a whole number from 0 to 100, got {text!r}",
            source="--max-retries",
        )
    return value


def _request(args: argparse.Namespace) -> promote.UpdateRequest:
    problems: list[str] = []
    if args.merge_method not in ("merge", "squash", "rebase"):
        problems.append(
            f"--merge-method must be merge, squash or rebase, not {args.merge_method!r}"
        )
    if (args.label or args.auto_merge) and not args.pull_request:
        problems.append("--label and --auto-merge need --pull-request")
    if args.base and not args.pull_request:
        problems.append("--base needs --pull-request")
    if problems:
        raise errors.InputError("; ".join(problems), source="update-manifest")
    return promote.UpdateRequest(
        images=_parse_images(args.image),
        paths=tuple(args.path),
        helm=tuple(args.helm),
        commit=args.commit,
        push=args.push,
        pull_request=args.pull_request,
        dry_run=args.dry_run,
        branch=args.branch or None,
        base=args.base or None,
        message=args.message or None,
        labels=tuple(args.label),
        auto_merge=args.auto_merge,
        merge_method=args.merge_method,
        force=args.force,
        run_url=actions.run_url(),
        exemption=args.exemption or "",
    )


# ---------------------------------------------------------------- output
def _print_human(result: promote.UpdateResult) -> None:
    for path, reason in result.skipped:
        actions.notice(f"skipped: {reason}", file=path)
    if result.quarantine_overridden:
        actions.warning(
            "promoting quarantined image(s) because of --force: "
            + ", ".join(result.quarantine_overridden),
            title="Quarantine overridden",
        )
    for warning in result.warnings:
        actions.warning(warning)
    if not result.changed:
        actions.info("update-manifest: every image is already in place; nothing to do")
        return
    for c in result.changes:
        actions.info(f"{c.file}:{c.line}  {c.target}  {c.old} -> {c.new}")
    if result.dry_run:
        with actions.group("diff (dry run: nothing written)"):
            actions.info(result.diff.rstrip("\n"))
        return
    if result.pull_request_url:
        verb = "opened" if result.pull_request_created else "updated"
        actions.info(f"pull request {verb}: {result.pull_request_url}")
    elif result.pushed:
        tries = f" after {result.push_attempts} attempts" if result.push_attempts > 1 else ""
        actions.info(f"pushed {result.commit_sha} to {result.branch}{tries}")
    elif result.commit_sha:
        actions.info(f"committed {result.commit_sha} (not pushed)")
    else:
        actions.info("files changed: " + ", ".join(result.changed_files))


def _write_report(path: str | None, data: dict[str, Any]) -> None:
    if path:
        report.write_json(path, data)


# ---------------------------------------------------------------- run
def run(args: argparse.Namespace) -> str:
    """Plan, apply, commit, push or open a pull request; ``skipped`` when nothing changed."""
    try:
        with timeout.overall(args):
            result = _run(args)
    except errors.GitopsGuardError as exc:
        _write_report(
            args.report,
            {
                "action": promote.ACTION,
                "changed": False,
                "error": {
                    "type": type(exc).__name__,
                    "message": actions.redact(exc.render()),
                    "exit_code": exc.exit_code,
                },
            },
        )
        raise
    # The push has just returned: the deploy commit is on the branch ArgoCD follows.
    promoted_at = records.iso(datetime.now(timezone.utc)) if result.pushed else ""
    _print_human(result)
    actions.set_outputs({**result.outputs(), "promoted-at": promoted_at})
    actions.append_summary(promote.summary_markdown(result))
    _write_report(args.report, result.to_report())
    return "succeeded" if result.changed else "skipped"


def _run(args: argparse.Namespace) -> promote.UpdateResult:
    from gitops_guard.promote import run as promote_run

    request = _request(args)
    input_token = actions.get_input("token")
    actions.register_secret(input_token)
    where = promote_run.Where(
        directory=args.dir,
        repo_url=args.repo_url,
        github_repository=args.github_repository,
        token=credentials.github_token(),
        token_env=TOKEN_INPUT if input_token else None,
        max_retries=_max_retries(args.max_retries),
    )
    return promote_run.run(request, where)
