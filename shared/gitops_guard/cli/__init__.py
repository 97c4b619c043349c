"""Command-line entry point: one subcommand per capability.

``main()`` is the only place that turns outcomes and exceptions into exit codes
(see ``errors``). Subcommand modules are imported only when their subcommand
runs, so ``gitops-guard --help`` stays fast: no PyGithub, kubernetes or httpx.

Each subcommand module defines:

* ``HELP``: one line for the top-level help;
* ``add_arguments(parser)``: its flags;
* ``run(args) -> int``: the work, returning an exit code;
* ``INPUTS``: optional, a tuple of :class:`InputSpec` that maps action inputs
  (``INPUT_*`` variables set through ``env:`` by an action.yml) to flags; used by
  ``gitops-guard <subcommand> --from-action-inputs``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

from gitops_guard import __version__, actions, errors

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
    "init": ("init", "Start a new service: ArgoCD Application, manifests, SLO file, workflows."),
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
    kind: Literal["str", "bool", "list", "lines"] = "str"
    """``str``: one value; ``bool``: the flag alone when true; ``list``: repeated flag,
    values split on whitespace, commas and newlines; ``lines``: repeated flag, one value
    per non-empty line."""


def argv_from_inputs(
    specs: Sequence[InputSpec], environ: dict[str, str] | None = None
) -> list[str]:
    """Translate action inputs into flags; booleans are parsed strictly (exit 2)."""
    env = dict(os.environ) if environ is None else environ
    argv: list[str] = []
    for spec in specs:
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


def build_parser(name: str, module: ModuleType) -> argparse.ArgumentParser:
    """The parser of one subcommand."""
    parser = argparse.ArgumentParser(prog=f"gitops-guard {name}", description=module.HELP)
    parser.add_argument(
        "--from-action-inputs",
        action="store_true",
        help="read the action's inputs (INPUT_* variables) instead of more flags",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    module.add_arguments(parser)
    return parser


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
    try:
        module = _load(name)
        parser = build_parser(name, module)
        if "--from-action-inputs" in rest:
            rest = [a for a in rest if a != "--from-action-inputs"]
            rest = argv_from_inputs(getattr(module, "INPUTS", ())) + rest
        try:
            args = parser.parse_args(rest)
        except SystemExit as exc:  # argparse: 0 for --help, 2 for bad flags
            return int(exc.code or 0)
        _setup_logging(args.verbose)
        return int(module.run(args))
    except errors.GitopsGuardError as exc:
        actions.report_failure(exc)
        return exc.exit_code
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
