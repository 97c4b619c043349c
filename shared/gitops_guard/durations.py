"""The one duration grammar of gitops-guard: Prometheus's, for every flag, input and file.

A duration is written the way Prometheus writes one (``model.ParseDuration``)::

    500ms   30s   15m   1h30m   2d   1w   1y   1h0m30s500ms

Whole numbers followed by a unit, units among ``y w d h m s ms`` in that order,
each at most once; ``0`` alone means zero. Where a flag or key documents it, a
plain number of seconds is accepted as well (``90``, ``0.5``): the
``allow_number`` switch of :func:`parse_duration`. Decimals with a unit
(``1.5h``) are refused as Prometheus refuses them: write ``1h30m``. Units are
lower case; ``y`` is 365 days, ``w`` 7 days and ``d`` 24 hours, as in Prometheus.

Refused with :class:`DurationError` (exit 2, naming the input): an empty value,
a negative value, ``nan``/``inf``, a boolean, an unknown unit, units out of
order or repeated, and anything beyond :data:`MAX_SECONDS` (an absurd value is a
typo, not a wish).

:class:`DurationError` is both an :class:`~gitops_guard.errors.InputError` (the
CLI maps it to exit 2) and a :class:`ValueError` (pydantic validators turn it
into a positioned problem of the file being loaded).

This module must not import anything of the package except :mod:`gitops_guard.errors`:
it is pure and everything may import it.
"""

from __future__ import annotations

import math
import re

from gitops_guard import errors

__all__ = [
    "MAX_SECONDS",
    "UNITS",
    "DurationError",
    "format_duration",
    "parse_duration",
]

UNITS: dict[str, float] = {
    "y": 365 * 86400.0,
    "w": 7 * 86400.0,
    "d": 86400.0,
    "h": 3600.0,
    "m": 60.0,
    "s": 1.0,
    "ms": 0.001,
}
"""Seconds per unit, in the order a duration must list them."""

MAX_SECONDS = 10 * UNITS["y"]
"""The largest duration accepted anywhere (10 years): larger values are typos."""

_PROMETHEUS = re.compile(
    r"(?:(?P<y>\d+)y)?(?:(?P<w>\d+)w)?(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?"
    r"(?:(?P<m>\d+)m(?!s))?(?:(?P<s>\d+)s)?(?:(?P<ms>\d+)ms)?"
)
_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")

_HINT = "Write a duration the way Prometheus does: 500ms, 30s, 15m, 1h30m, 2d, 1w."
_HINT_NUMBER = "Write seconds (90, 0.5) or a duration the way Prometheus does: 30s, 15m, 1h30m."


class DurationError(errors.InputError, ValueError):
    """A value that is not a duration; exit 2, naming the input."""

    def __init__(self, message: str, *, source: str | None = None, hint: str | None = None):
        errors.InputError.__init__(self, message, source=source, hint=hint)


def parse_duration(
    value: object,
    *,
    source: str | None = None,
    allow_number: bool = True,
    minimum: float = 0.0,
    maximum: float = MAX_SECONDS,
) -> float:
    """Seconds in ``value``: ``"1h30m"``, ``"500ms"`` or, with ``allow_number``, ``90``/``"0.5"``.

    ``source`` names the input (``--timeout``, ``rules.yaml:4``) in the error;
    ``minimum`` (inclusive) lets a flag refuse ``0`` (``minimum=0.001``).
    """
    hint = _HINT_NUMBER if allow_number else _HINT
    if isinstance(value, bool) or value is None:
        raise DurationError(f"expected a duration, got {value!r}", source=source, hint=hint)
    if isinstance(value, (int, float)):
        if not allow_number:
            raise DurationError(
                f"expected a duration with a unit, got the number {value!r}",
                source=source,
                hint=_HINT,
            )
        seconds = float(value)
        shown = repr(value)
    else:
        text = str(value).strip()
        shown = repr(str(value))
        seconds = _parse_text(text, shown, source=source, allow_number=allow_number, hint=hint)
    if math.isnan(seconds) or math.isinf(seconds):
        raise DurationError(f"a duration must be finite, got {shown}", source=source, hint=hint)
    if seconds < 0:
        raise DurationError(f"a duration cannot be negative, got {shown}", source=source, hint=hint)
    if seconds < minimum:
        raise DurationError(
            f"the duration {shown} is below the minimum of {format_duration(minimum)}",
            source=source,
            hint=hint,
        )
    if seconds > maximum:
        raise DurationError(
            f"the duration {shown} is beyond the maximum of {format_duration(maximum)}",
            source=source,
            hint="Is it a typo? Durations are bounded to catch them.",
        )
    return seconds


def _parse_text(
    text: str, shown: str, *, source: str | None, allow_number: bool, hint: str
) -> float:
    if not text:
        raise DurationError("expected a duration, got an empty value", source=source, hint=hint)
    if text.startswith("-"):
        raise DurationError(f"a duration cannot be negative, got {shown}", source=source, hint=hint)
    if _NUMBER.fullmatch(text):
        if text == "0" or allow_number:
            return float(text)
        raise DurationError(
            f"expected a duration with a unit, got {shown}", source=source, hint=_HINT
        )
    if text.lower() in {"nan", "inf", "+inf", "infinity", "+infinity"}:
        raise DurationError(f"a duration must be finite, got {shown}", source=source, hint=hint)
    match = _PROMETHEUS.fullmatch(text)
    if match is None or not any(match.groupdict().values()):
        raise DurationError(
            f"not a duration: {shown} (units y w d h m s ms, largest first, each once)",
            source=source,
            hint=hint,
        )
    return sum(int(n) * UNITS[unit] for unit, n in match.groupdict().items() if n)


def format_duration(seconds: float) -> str:
    """The Prometheus duration for ``seconds``: ``3600`` -> ``1h``, ``90`` -> ``1m30s``.

    Days are the largest unit written (``14d``, not ``2w``): the form people read
    best in query ranges and reports. :func:`parse_duration` reads every output back.
    """
    if not math.isfinite(seconds) or seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    rest = round(seconds)
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            out += f"{rest // size}{unit}"
            rest %= size
    return out
