"""The GitHub Actions runner contract, and nothing else.

This is the only module that knows the runner: it reads ``INPUT_*`` and
``GITHUB_*`` variables, writes ``$GITHUB_OUTPUT`` (multi-line safe, with a random
``ghadelimiter_<uuid>`` heredoc delimiter as ``@actions/core`` does), appends to
``$GITHUB_STEP_SUMMARY``, and prints workflow commands (``::error``,
``::warning``, ``::notice``, ``::add-mask::``, ``::group::``).

Outside a runner (``GITHUB_ACTIONS`` unset) every runner-only call is a no-op and
messages are printed as plain human text, so the CLI behaves the same on a laptop.

It must not decide anything: callers pass what to write.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from gitops_guard import credentials, errors

SECRET_ENV_VARS = credentials.SECRET_VARS
"""Environment variables whose values are secrets: masked at startup, redacted in logs."""


def in_runner(environ: Mapping[str, str] | None = None) -> bool:
    """True inside a GitHub Actions runner (or act)."""
    env = os.environ if environ is None else environ
    return env.get("GITHUB_ACTIONS") == "true"


# ---------------------------------------------------------------- escaping
def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _command(name: str, message: str, **props: str | int | None) -> str:
    rendered = ",".join(
        f"{key}={_escape_property(redact(str(val)))}"
        for key, val in props.items()
        if val is not None
    )
    head = f"::{name} {rendered}" if rendered else f"::{name}"
    return f"{head}::{_escape_data(redact(message))}"


# ---------------------------------------------------------------- secrets
def _mask(value: str) -> None:
    if in_runner():
        # The mask command itself must carry the raw value; the runner hides it.
        print(f"::add-mask::{_escape_data(value)}", file=sys.stdout, flush=True)


credentials.on_register(_mask)


def register_secret(value: str | None) -> None:
    """Mask a secret the moment it exists: in the runner's log and in our own output.

    The registry is :mod:`gitops_guard.credentials`; this also masks in the runner.
    """
    credentials.register(value)


def register_env_secrets(environ: Mapping[str, str] | None = None) -> None:
    """Register every known secret variable's value (called once at startup)."""
    credentials.register_environment(environ)


def redact(text: str) -> str:
    """Replace every registered secret (raw, URL-encoded, base64) in ``text`` with ``***``."""
    return credentials.redact(text)


def clear_secrets() -> None:
    """Forget registered secrets (tests)."""
    credentials.clear()


class RedactingFilter(logging.Filter):
    """A logging filter that redacts registered secrets from every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


# ---------------------------------------------------------------- inputs
def get_input(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> str:
    """An action input as the runner passes it (``INPUT_<NAME>``), trimmed."""
    env = os.environ if environ is None else environ
    key = "INPUT_" + name.replace(" ", "_").upper()
    value = env.get(key)
    if value is None:
        value = env.get(key.replace("-", "_"), default)
    return value.strip()


def parse_bool(value: str, *, name: str) -> bool:
    """Parse a boolean input strictly: ``true`` or ``false``, anything else is exit 2.

    As ``core.getBooleanInput`` of @actions/toolkit: any case of ``true``/``false``;
    ``yes``, ``1`` or ``on`` are refused, not guessed. Empty (an unset input) is false.
    """
    lowered = value.strip().lower()
    if lowered == "true":
        return True
    if lowered in ("false", ""):
        return False
    raise errors.InputError(
        f"expected true or false, got {value!r}",
        source=name,
        hint="Set it to the string 'true' or 'false'.",
    )


# ---------------------------------------------------------------- outputs
def format_output(name: str, value: str, delimiter: str | None = None) -> str:
    """One ``$GITHUB_OUTPUT`` entry; multi-line values use a random heredoc delimiter."""
    if "\n" not in value and "\r" not in value:
        return f"{name}={value}\n"
    import uuid  # inside a runner only

    delim = delimiter or f"ghadelimiter_{uuid.uuid4()}"
    if delim in name or delim in value:
        raise ValueError(f"output {name!r} contains the delimiter {delim!r}")
    return f"{name}<<{delim}\n{value}\n{delim}\n"


def set_outputs(outputs: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> None:
    """Write outputs to ``$GITHUB_OUTPUT``; lists and dicts are written as JSON."""
    env = os.environ if environ is None else environ
    path = env.get("GITHUB_OUTPUT")
    if not path:
        return
    chunks = []
    for name, value in outputs.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif value is None:
            text = ""
        elif isinstance(value, (dict, list, tuple)):
            text = json.dumps(value, sort_keys=True)
        else:
            text = str(value)
        chunks.append(format_output(name, redact(text)))
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("".join(chunks))


def append_summary(markdown: str, environ: Mapping[str, str] | None = None) -> None:
    """Append Markdown to the job summary (``$GITHUB_STEP_SUMMARY``)."""
    env = os.environ if environ is None else environ
    path = env.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(redact(markdown).rstrip("\n") + "\n\n")


# ---------------------------------------------------------------- messages
def _annotate(
    kind: str,
    message: str,
    *,
    title: str | None = None,
    file: str | None = None,
    line: int | None = None,
) -> None:
    if in_runner():
        print(
            _command(kind, message, title=title, file=file, line=line), file=sys.stdout, flush=True
        )
        return
    where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
    label = {"error": "error", "warning": "warning", "notice": "note"}[kind]
    head = f"{title}: " if title else ""
    print(redact(f"{label}: {where}{head}{message}"), file=sys.stderr, flush=True)


def error(
    message: str, *, title: str | None = None, file: str | None = None, line: int | None = None
) -> None:
    """An error annotation in a runner; ``error: ...`` on stderr outside one."""
    _annotate("error", message, title=title, file=file, line=line)


def warning(
    message: str, *, title: str | None = None, file: str | None = None, line: int | None = None
) -> None:
    """A warning annotation in a runner; ``warning: ...`` on stderr outside one."""
    _annotate("warning", message, title=title, file=file, line=line)


def notice(
    message: str, *, title: str | None = None, file: str | None = None, line: int | None = None
) -> None:
    """A notice annotation in a runner; ``note: ...`` on stderr outside one."""
    _annotate("notice", message, title=title, file=file, line=line)


def info(message: str) -> None:
    """Human output on stdout, secrets redacted."""
    print(redact(message), file=sys.stdout, flush=True)


@contextmanager
def group(title: str) -> Iterator[None]:
    """A collapsible log group in a runner; a heading outside one."""
    if in_runner():
        print(f"::group::{_escape_data(redact(title))}", file=sys.stdout, flush=True)
        try:
            yield
        finally:
            print("::endgroup::", file=sys.stdout, flush=True)
    else:
        print(redact(f"== {title}"), file=sys.stdout, flush=True)
        yield


def report_failure(exc: errors.GitopsGuardError) -> None:
    """Two channels for one failure: a one-line annotation and the full text in the summary."""
    text = exc.render()
    first = text.splitlines()[0] if text else type(exc).__name__
    where = exc.file_line
    file, line = where if where else (None, None)
    if in_runner():
        error(
            first if not exc.hint else f"{first} {exc.hint.splitlines()[0]}",
            title=type(exc).__name__,
            file=file,
            line=line,
        )
        append_summary(f"### ❌ {type(exc).__name__}\n\n```\n{text}\n```")
        # The full text also goes to the log.
        print(redact(text), file=sys.stderr, flush=True)
    else:
        print(redact(f"error: {text}"), file=sys.stderr, flush=True)


def run_url(environ: Mapping[str, str] | None = None) -> str | None:
    """The URL of the current workflow run, when inside a runner."""
    env = os.environ if environ is None else environ
    server, repo, run = (
        env.get("GITHUB_SERVER_URL"),
        env.get("GITHUB_REPOSITORY"),
        env.get("GITHUB_RUN_ID"),
    )
    if server and repo and run:
        return f"{server}/{repo}/actions/runs/{run}"
    return None


def runner_temp(environ: Mapping[str, str] | None = None) -> str | None:
    """``$RUNNER_TEMP`` inside a runner (cleaned with the job), else None."""
    env = os.environ if environ is None else environ
    return env.get("RUNNER_TEMP") or None


def repository(environ: Mapping[str, str] | None = None) -> str | None:
    """``OWNER/NAME`` of the repository the workflow runs in, when inside a runner."""
    env = os.environ if environ is None else environ
    return env.get("GITHUB_REPOSITORY") or None


def api_url(environ: Mapping[str, str] | None = None) -> str | None:
    """``$GITHUB_API_URL`` (GitHub Enterprise Server included) inside a runner, else None."""
    env = os.environ if environ is None else environ
    return env.get("GITHUB_API_URL") or None
