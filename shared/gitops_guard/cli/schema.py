"""`gitops-guard schema slo|rules|quarantine`: print a file kind's JSON Schema.

The schema is generated from the model the loader validates with, so an editor
that uses it (``# yaml-language-server: $schema=...``) agrees with gitops-guard.
It decides nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gitops_guard import errors
from gitops_guard.config import schemas

HELP = "Print the JSON Schema of slo.yaml, rollback rules or quarantine.yaml."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of schema."""
    parser.add_argument("kind", choices=sorted(schemas.MODELS), help="which file's schema")
    parser.add_argument("--output", metavar="FILE", help="write it to FILE instead of stdout")


def run(args: argparse.Namespace) -> str:
    """Print (or write) the schema; exit 0."""
    text = schemas.render(args.kind)
    if args.output:
        target = Path(args.output)
        try:
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise errors.InputError(
                f"cannot write the schema: {exc.strerror or exc}", source="--output"
            ) from exc
    else:
        sys.stdout.write(text)
    return "succeeded"
