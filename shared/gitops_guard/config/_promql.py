"""Offline PromQL syntax check for the queries users write in their files.

Pure: text in, a reason out; this module must not talk to Prometheus.
"""

from __future__ import annotations

import promql_parser


def promql_error(query: str) -> str | None:
    """Why ``query`` is not PromQL (promql-parser, Prometheus's grammar), or None.

    A function the parser does not know is not refused: a newer Prometheus may have
    it, and Prometheus itself answers ``bad_data`` (exit 2) if it has not.
    """
    try:
        promql_parser.parse(query)
    except ValueError as exc:
        text = str(exc).strip() or "cannot parse"
        if text.startswith("unknown function"):
            return None
        return text
    return None
