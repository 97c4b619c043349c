"""`gitops-guard update-manifest`: not built yet (placeholder)."""

from __future__ import annotations

import argparse

from gitops_guard import errors

HELP = "update-manifest (not available yet)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No flags yet."""


def run(args: argparse.Namespace) -> int:
    """Refuse clearly until the subcommand exists."""
    raise errors.InputError("this subcommand is not available in this version", source="update-manifest")
