"""Helpers of the fault-injection suite: the canary secret, runs of the CLI, channel scans.

The canary is set in every token variable (and URL-encoded in URLs' user info by the
tests); :func:`scan` looks for it, raw, URL-encoded and base64, in every channel of a
run: stdout, stderr (``::add-mask::`` lines excepted: the runner needs the raw value
there), the job summary, the outputs file, the report and any other file named.
"""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CANARY = "cAnArY-7f3e+9/tok=en-Q"
"""A token with characters that change under URL-encoding and base64."""

TOKEN_VARS = (
    "ARGOCD_TOKEN",
    "ARGOCD_AUTH_TOKEN",
    "GITHUB_TOKEN",
    "GITOPS_TOKEN",
    "PROMETHEUS_TOKEN",
    "ALERTMANAGER_TOKEN",
)

SLACK = 5.0
"""A run may end this long after its deadline (start-up, the last answer)."""


def canary_forms() -> list[str]:
    raw = CANARY.encode()
    forms = {
        CANARY,
        urllib.parse.quote(CANARY, safe=""),
        urllib.parse.quote_plus(CANARY),
    }
    for prefix in (b"", b"x", b"xx", b"x-access-token:", b"admin:"):
        encoded = base64.b64encode(prefix + raw).decode()
        # the part that depends on the canary only (skip the prefix's characters)
        forms.add(encoded[len(prefix) * 4 // 3 + 2 : len(prefix) * 4 // 3 + 14])
    return sorted(forms)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    elapsed: float
    files: dict[str, str]

    @property
    def text(self) -> str:
        return self.stdout + self.stderr


def scan(run: Run, extra: Sequence[Path] = ()) -> list[str]:
    """Where a form of the canary shows up (empty when nowhere)."""
    channels = {
        "stdout": "\n".join(
            line for line in run.stdout.splitlines() if not line.startswith("::add-mask::")
        ),
        "stderr": run.stderr,
        **run.files,
    }
    for path in extra:
        if path.is_file():
            channels[str(path)] = path.read_text(errors="replace")
    found = []
    for name, text in channels.items():
        for form in canary_forms():
            if form in text:
                found.append(f"{name}: {form}")
    return found
