"""`gitops-guard preflight`: check a deploy offline before anything is promoted.

Exit 0 when every check passes, 2 with every problem listed (each naming the
workflow input and the repository it is read from); see
:mod:`gitops_guard.promote.preflight`. This module only translates flags and prints.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gitops_guard import actions, report
from gitops_guard.cli import InputSpec
from gitops_guard.promote import preflight

HELP = "Check a deploy before promoting: images, manifest paths, SLO file, rollback rules."

INPUTS = (
    InputSpec("dir", "--dir"),
    InputSpec("images", "--image", "lines"),
    InputSpec("manifest-paths", "--path", "list"),
    InputSpec("helm", "--helm", "lines"),
    InputSpec("slo-file", "--slo-file"),
    InputSpec("slo-vars", "--var", "lines"),
    InputSpec("rollback-rules", "--rules-file"),
    InputSpec("where", "--where"),
    InputSpec("report", "--report"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``preflight``."""
    parser.add_argument("--dir", default=".", type=Path, help="the GitOps checkout")
    parser.add_argument("--image", action="append", default=[], help="an image to deploy")
    parser.add_argument("--path", action="append", default=[], help="a manifest path")
    parser.add_argument("--helm", action="append", default=[], help="FILE:REPO_KEY[:TAG_KEY]")
    parser.add_argument("--slo-file", help="the SLO file, relative to --dir")
    parser.add_argument("--var", action="append", default=[], help="KEY=VALUE for the SLO file")
    parser.add_argument("--rules-file", help="the rollback rules file, relative to --dir")
    parser.add_argument("--where", default="", help="where the files come from, for messages")
    parser.add_argument("--report", help="write the result as JSON")


def run(args: argparse.Namespace) -> str:
    """Check, print, report; ``succeeded`` (0) or ``invalid`` (2)."""
    request = preflight.Request(
        images=tuple(args.image),
        paths=tuple(args.path),
        helm=tuple(args.helm),
        slo_file=args.slo_file,
        rules_file=args.rules_file,
        variables=preflight.variables(args.var),
        where=args.where,
    )
    result = preflight.check(args.dir, request)
    if args.report:
        report.write_json(args.report, preflight.as_report(result))
    text = preflight.render(result)
    actions.set_outputs({"ok": str(result.ok).lower(), "problems": str(len(result.problems))})
    if result.ok:
        print(text)
        return "succeeded"
    print(text)
    for problem in result.problems:
        actions.error(
            f"{problem.input}: {problem.message}",
            title="preflight",
            file=problem.file,
            line=problem.line,
        )
    actions.append_summary("### Preflight: nothing was promoted\n\n```\n" + text + "\n```\n")
    return "invalid"
