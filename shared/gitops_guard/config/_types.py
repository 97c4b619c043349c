"""Field types shared by the file models: a duration and its JSON Schema.

Pure: this module must not read files.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

from gitops_guard import durations

DURATION_PATTERN = (
    r"^(?:\d+(?:\.\d*)?|(?=\d)(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m(?!s))?(?:\d+s)?"
    r"(?:\d+ms)?)$"
)
"""Prometheus's duration syntax or plain seconds, as an ECMA-262 regular expression."""

DURATION_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": DURATION_PATTERN},
    ],
    "description": "Seconds, or a Prometheus duration: 500ms, 30s, 15m, 1h30m, 2d, 1w.",
}


def _duration(value: object) -> float:
    try:
        return durations.parse_duration(value)
    except durations.DurationError as exc:
        # One line per problem in the file's list: the fix follows the message.
        raise ValueError(f"{exc.message}. {exc.hint}" if exc.hint else exc.message) from None


Duration = Annotated[float, BeforeValidator(_duration), WithJsonSchema(DURATION_SCHEMA)]
"""Seconds, written as a Prometheus duration (``30s``, ``1h30m``) or a number."""
