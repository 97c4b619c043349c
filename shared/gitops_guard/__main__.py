"""``python -m gitops_guard``: the same as the ``gitops-guard`` command."""

from __future__ import annotations

import sys

from gitops_guard.cli import main

if __name__ == "__main__":
    sys.exit(main())
