"""`gitops-guard update-manifest`: set image tags/digests in a GitOps repository.

Translates flags (or action inputs) into a :class:`promote.UpdateRequest`, opens or
clones the repository, runs :func:`promote.update`, and turns the result into human
output, ``$GITHUB_OUTPUT`` outputs, a job summary and the ``--report`` JSON. It
decides nothing itself.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gitops_guard import actions, credentials, errors, images, promote, report
from gitops_guard.cli import InputSpec

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
    InputSpec("labels", "--label", "list"),
    InputSpec("auto-merge", "--auto-merge", "bool"),
    InputSpec("merge-method", "--merge-method"),
    InputSpec("force", "--force", "bool"),
    InputSpec("max-retries", "--max-retries"),
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
    parser.add_argument("--report", metavar="FILE", help="write a JSON report")
    parser.add_argument(
        "--repo-url", metavar="URL", help="clone this repository (token from GITOPS_TOKEN)"
    )
    parser.add_argument("--branch", help="branch to push to, or the pull request's head branch")
    parser.add_argument("--base", help="the pull request's base branch")
    parser.add_argument("--message", help="commit subject / PR title instead of the generated one")
    parser.add_argument(
        "--label", action="append", default=[], metavar="NAME", help="PR label (repeatable)"
    )
    parser.add_argument("--auto-merge", action="store_true", help="enable auto-merge on the PR")
    parser.add_argument(
        "--merge-method", default="squash", help="auto-merge method: merge, squash or rebase"
    )
    parser.add_argument("--force", action="store_true", help="promote a quarantined image")
    parser.add_argument(
        "--max-retries",
        default="10",
        metavar="N",
        help="push retries when someone pushed first (default 10)",
    )
    parser.add_argument(
        "--github-repository",
        metavar="OWNER/NAME",
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
            problems.append(exc.render())
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
    )


def _token() -> tuple[str, str] | None:
    found = credentials.github_token()
    return (found.source, found.value) if found is not None else None


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
def run(args: argparse.Namespace) -> int:
    """Plan, apply, commit, push or open a pull request; exit 0 also when nothing changed."""
    try:
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
    _print_human(result)
    actions.set_outputs(result.outputs())
    actions.append_summary(promote.summary_markdown(result))
    _write_report(args.report, result.to_report())
    return errors.EXIT_OK


def _run(args: argparse.Namespace) -> promote.UpdateResult:
    from gitops_guard import gitops

    request = _request(args)
    input_token = actions.get_input("token")
    token_env = TOKEN_INPUT if input_token else None
    actions.register_secret(input_token)
    policy = gitops.RetryPolicy(attempts=_max_retries(args.max_retries) + 1)
    github_settings = None
    if request.pull_request and not request.dry_run:
        from gitops_guard import github

        token = _token()
        if token is None:
            raise errors.ConfigError(
                "no token to open the pull request with",
                source="GITHUB_TOKEN",
                hint=(
                    "Set GITOPS_TOKEN or GITHUB_TOKEN in the step's env: (a token with "
                    "contents: write and pull-requests: write on the GitOps repository)."
                ),
            )
        github_settings = github.ApiSettings(
            token=token[1], token_env=token[0], api_url=github.api_url_from_env()
        )
    working_copy = None
    if args.repo_url:
        dest = Path(args.dir) if args.dir else gitops.temporary_clone_dir()
        # Check out the branch the change is made on: the PR's base, or the push target.
        start = request.base if request.pull_request else request.branch
        working_copy = gitops.clone(
            args.repo_url, dest, branch=start, token_env=token_env, policy=policy
        )
        root = working_copy.root
    else:
        root = Path(args.dir or ".")
        if not root.is_dir():
            raise errors.InputError(
                f"{root} is not a directory",
                source="--dir",
                hint="Point --dir at the GitOps checkout, or pass --repo-url to clone it.",
            )
    if request.commits and not request.dry_run and working_copy is None:
        working_copy = gitops.open_checkout(root, token_env=token_env, policy=policy)
    open_pr = None
    repository = None
    if github_settings is not None and working_copy is not None:
        from gitops_guard import github

        repository = args.github_repository or github.repository_from_remote(
            working_copy.remote_url()
        )
        if not repository:
            raise errors.ConfigError(
                f"cannot tell the GitHub repository from the remote "
                f"{gitops.redact_url(working_copy.remote_url())!r}",
                source="--github-repository",
                hint="Pass --github-repository OWNER/NAME.",
            )
        settings = github_settings
        if not request.dry_run:
            github.check_repository(repository, settings=settings)

        def open_pr(spec: github.PullRequestSpec) -> github.PullRequestResult:
            return github.open_or_update_pull_request(spec, settings=settings)

    return promote.update(
        root,
        request,
        working_copy=working_copy,
        open_pull_request=open_pr,
        github_repository=repository,
    )
