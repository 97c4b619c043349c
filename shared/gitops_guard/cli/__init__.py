"""Command-line entry point: one subcommand per capability.

``main()`` is the only place that turns outcomes and exceptions into exit codes
(see ``errors``). Subcommand modules are imported only when their subcommand
runs, so ``gitops-guard --help`` stays fast: no PyGithub, kubernetes or httpx.

Each subcommand module defines:

* ``HELP``: one line for the top-level help;
* ``add_arguments(parser)``: its flags;
* ``run(args) -> str``: the work, returning an *outcome* (``succeeded``,
  ``failed``, a verdict...) that :mod:`gitops_guard.cli.outcomes` maps to the exit
  code (anything else is a bug: exit 3);
* ``INPUTS``: optional, a tuple of :class:`InputSpec` that maps action inputs
  (``INPUT_*`` variables set through ``env:`` by an action.yml) to flags; used by
  ``gitops-guard <subcommand> --from-action-inputs``.
* ``build(parser)``: optional, instead of ``add_arguments``, for a subcommand with
  sub-subcommands of its own (``rollback revert|to|watch|quarantine``).

A bad flag value is an :class:`errors.InputError` like any other: exit 2, the
``::error`` annotation and the job summary, not just argparse's stderr line. Under
``--from-action-inputs`` every message names the action input the user set
(``argocd-timeout``), not the flag it became (``--argocd-timeout``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Literal, NoReturn

from gitops_guard import __version__, actions, errors
from gitops_guard.cli import outcomes

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "update-manifest": ("update_manifest", "Set image tags/digests in a GitOps repository."),
    "argocd-wait": ("argocd_wait", "Wait until ArgoCD runs exactly a revision and it is Healthy."),
    "slo-gate": ("slo_gate", "Judge SLOs in Prometheus: pass, warn, fail or inconclusive."),
    "rollback": ("rollback", "Put production back through Git: revert, to, watch, quarantine."),
    "metrics": ("metrics", "DORA metrics of an environment from the GitOps history."),
    "render": ("render", "Render Prometheus rules and Grafana dashboards from an SLO file."),
    "record": ("record", "Record a deploy or rollback as GitHub Deployments, with its facts."),
    "schema": ("schema", "Print the JSON Schema of slo.yaml, rollback rules or quarantine.yaml."),
    "preflight": ("preflight", "Check a deploy offline before promoting: images, paths, SLO file."),
    "describe-deploy": ("describe_deploy", "Show what a GitOps commit deployed, for the gate."),
    "require-verdict": ("require_verdict", "Refuse an image that did not pass in staging."),
    "init": ("init", "Start a new service: ArgoCD Application, manifests, SLO file, workflows."),
    "blue-green": ("blue_green", "Blue-green: prove the idle colour, switch, switch back on a no."),
    "canary": ("canary", "Canary: move traffic step by step, each step a commit; abort in one."),
    "lab": ("lab", "A local rehearsal: real git, real Prometheus, a demo app, an ArgoCD stand-in."),
}
"""Subcommand name -> (module under gitops_guard.cli, one-line help)."""


@dataclass(frozen=True)
class InputSpec:
    """How one action input becomes command-line flags."""

    name: str
    """The input's kebab-case name, as in action.yml (read from ``INPUT_<NAME>``)."""
    flag: str
    """The flag it becomes, e.g. ``--image``; empty for a positional word."""
    kind: Literal["str", "bool", "list", "items", "lines"] = "str"
    """``str``: one value; ``bool``: the flag alone when ``true`` (strictly ``true`` or
    ``false``); ``list``: repeated flag, values split on whitespace, commas and newlines
    (for values that never hold a space: images, paths); ``items``: repeated flag, split
    on commas and newlines only (labels: "needs review" is one label); ``lines``:
    repeated flag, one value per non-empty line."""
    commands: tuple[str, ...] = ()
    """For a subcommand with commands of its own (``rollback``): the commands that take
    this input; empty means all. The command is the first input without a flag."""


def argv_from_inputs(
    specs: Sequence[InputSpec], environ: dict[str, str] | None = None
) -> list[str]:
    """Translate action inputs into flags; booleans are parsed strictly (exit 2)."""
    env = dict(os.environ) if environ is None else environ
    argv: list[str] = []
    command = next((actions.get_input(s.name, environ=env) for s in specs if not s.flag), "")
    for spec in specs:
        if spec.commands and command not in spec.commands:
            continue
        value = actions.get_input(spec.name, environ=env)
        if spec.kind == "bool":
            if actions.parse_bool(value, name=f"input '{spec.name}'"):
                argv.append(spec.flag)
            continue
        if not value:
            continue
        if spec.kind == "str":
            argv += [spec.flag, value] if spec.flag else [value]
        elif spec.kind == "list":
            for item in value.replace(",", " ").split():
                argv += [spec.flag, item]
        elif spec.kind == "items":
            for item in re.split(r"[,\n]", value):
                if item.strip():
                    argv += [spec.flag, item.strip()]
        else:
            for line in value.splitlines():
                if line.strip():
                    argv += [spec.flag, line.strip()]
    return argv


def _load(name: str) -> ModuleType:
    module, _ = SUBCOMMANDS[name]
    return importlib.import_module(f"gitops_guard.cli.{module}")


def _top_help() -> str:
    width = max(len(n) for n in SUBCOMMANDS)
    lines = [
        "usage: gitops-guard [--version] <subcommand> [options]",
        "",
        "Safe GitOps delivery: promote through Git, wait for ArgoCD, gate on SLOs, roll back.",
        "",
        "subcommands:",
    ]
    lines += [f"  {n.ljust(width)}  {h}" for n, (_, h) in SUBCOMMANDS.items()]
    lines += [
        "",
        "exit codes: 0 done/pass, 1 rejected (gate failed, sync failed, timed out),",
        "            2 bad input (nothing changed), 3 could not decide (unreachable, inconclusive)",
        "",
        "Run 'gitops-guard <subcommand> --help' for its options.",
    ]
    return "\n".join(lines)


_ARGPARSE_ARGUMENT = re.compile(r"^argument (?P<names>[^:]+): (?P<message>.*)$", re.DOTALL)
_ARGPARSE_LISTS = re.compile(
    r"^(?:the following arguments are required|unrecognized arguments|"
    r"one of the arguments [^:]+ is required): (?P<names>.+)$"
)


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are :class:`errors.InputError` naming the flag.

    argparse prints a bad flag value to stderr and exits 2; raised instead, it reaches
    :func:`main` and every runner channel (annotation, job summary) like any input error.
    """

    def error(self, message: str) -> NoReturn:
        source = self.prog
        match = _ARGPARSE_ARGUMENT.match(message)
        if match:
            source = match.group("names").split("/")[0].strip()
            message = match.group("message")
        else:
            listed = _ARGPARSE_LISTS.match(message)
            if listed:
                first = listed.group("names").replace(",", " ").split()
                source = first[0] if first else source
        raise errors.InputError(message, source=source, hint=f"See `{self.prog} --help`.")


def add_common_flags(parser: argparse.ArgumentParser) -> None:
    """The flags every subcommand (and sub-subcommand) has."""
    parser.add_argument(
        "--from-action-inputs",
        action="store_true",
        help="read the action's inputs (INPUT_* variables) instead of more flags",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def build_parser(name: str, module: ModuleType) -> argparse.ArgumentParser:
    """The parser of one subcommand."""
    parser = Parser(prog=f"gitops-guard {name}", description=module.HELP)
    if hasattr(module, "build"):
        module.build(parser)
        return parser
    add_common_flags(parser)
    module.add_arguments(parser)
    return parser


def _flag_pattern(flag: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(flag)}(?![\w-])")


def name_inputs(exc: errors.InputError, specs: Sequence[InputSpec]) -> errors.InputError:
    """The error, now speaking of action inputs instead of the flags they became.

    ``--argocd-timeout: not a number`` becomes ``input 'argocd-timeout': not a number``,
    in the source, the message and the hint.
    """
    renames = {s.flag: s.name for s in specs if s.flag}
    for spec in specs:  # positional words, as argparse names them (COMMAND, quarantine_action)
        if not spec.flag:
            renames[spec.name.upper().replace("-", "_")] = spec.name
            renames[spec.name.replace("-", "_")] = spec.name
    if not renames:
        return exc

    def rename(text: str | None) -> str | None:
        if not text:
            return text
        for flag in sorted(renames, key=len, reverse=True):
            text = _flag_pattern(flag).sub(f"input '{renames[flag]}'", text)
        return text

    if exc.source in renames:
        exc.source = f"input '{renames[exc.source]}'"
    else:
        exc.source = rename(exc.source)
    exc.message = rename(exc.message) or ""
    exc.hint = rename(exc.hint)
    exc.args = (exc.message,)
    return exc


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(actions.RedactingFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    # Never log request headers (tokens) even in debug mode.
    for noisy in ("httpx", "httpcore", "urllib3", "github"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Run gitops-guard; returns the exit code (the console script exits with it)."""
    args_in = list(sys.argv[1:] if argv is None else argv)
    actions.register_env_secrets()
    if not args_in or args_in[0] in ("-h", "--help", "help"):
        print(_top_help())
        return errors.EXIT_OK if args_in else errors.EXIT_INPUT
    if args_in[0] == "--version":
        print(f"gitops-guard {__version__}")
        return errors.EXIT_OK
    name, rest = args_in[0], args_in[1:]
    if name not in SUBCOMMANDS:
        print(f"error: unknown subcommand {name!r}\n\n{_top_help()}", file=sys.stderr)
        return errors.EXIT_INPUT
    specs: Sequence[InputSpec] = ()
    try:
        module = _load(name)
        parser = build_parser(name, module)
        if "--from-action-inputs" in rest:
            specs = getattr(module, "INPUTS", ())
            rest = [a for a in rest if a != "--from-action-inputs"]
            rest = argv_from_inputs(specs) + rest
        try:
            args = parser.parse_args(rest)
        except SystemExit as exc:  # argparse: 0 for --help (errors raise InputError)
            return int(exc.code or 0)
        _setup_logging(args.verbose)
        started = time.monotonic()
        try:
            outcome = module.run(args)
        finally:
            # Every stage's own duration, for the pipeline gauges (``record --stage``).
            actions.set_outputs({"duration-seconds": f"{time.monotonic() - started:.1f}"})
        if not isinstance(outcome, str):  # the one table decides every exit code
            raise TypeError(f"{name} returned {outcome!r}, not an outcome")
        return outcomes.exit_code(outcome)
    except errors.GitopsGuardError as exc:
        if specs and isinstance(exc, errors.InputError):
            exc = name_inputs(exc, specs)
        actions.report_failure(exc)
        return outcomes.exit_code_for_error(exc)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return errors.EXIT_UNDECIDED
    except Exception as exc:  # an internal error must never read as "roll back" (1)
        logging.getLogger("gitops_guard").debug("internal error", exc_info=True)
        internal = errors.GitopsGuardError(
            f"internal error: {type(exc).__name__}: {exc}",
            hint="This is a bug in gitops-guard; rerun with --verbose and report it.",
        )
        actions.report_failure(internal)
        return errors.EXIT_UNDECIDED
