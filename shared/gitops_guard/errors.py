"""The error tree of gitops-guard, each class mapped to one exit code.

Our exception hierarchy::

    GitopsGuardError                 (exit_code 3 unless a subclass says otherwise)
    ├── InputError                   2  bad input; nothing was changed
    │   └── ConfigError              2  bad configuration (file, token, server settings)
    ├── Rejected                     1  the answer is no, where no outcome value can carry it
    └── Undecided                    3  could not decide
        └── DependencyUnavailable    3  a server was unreachable after retries

An *outcome* (a gate verdict ``fail``/``inconclusive``, a wait result ``sync-failed``,
``degraded``, ``timed-out``) is a value, not an exception: flows return it and the
one table in :mod:`gitops_guard.cli.outcomes` maps it to an exit code. These
classes mean "the job could not be done". Only :mod:`gitops_guard.cli` turns them
into exit codes.

This module must not import anything from the package: everything imports it.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_INPUT = 2
EXIT_UNDECIDED = 3

DOCS_BASE = "https://github.com/gitops-guard/gitops-guard/blob"
"""Where the documentation lives; hints link it at the running version."""


def docs_url(page: str, anchor: str = "") -> str:
    """A link to ``docs/<page>`` at the running version, for hints.

    An action user has no checkout of this repository: a hint saying
    ``docs/slo-gate.md`` points nowhere, this link does.
    """
    from gitops_guard import __version__  # the package is loaded whenever errors is

    page = page.removeprefix("docs/")
    return f"{DOCS_BASE}/v{__version__}/docs/{page}" + (f"#{anchor}" if anchor else "")


class GitopsGuardError(Exception):
    """Base of every error raised on purpose by gitops-guard."""

    exit_code: int = EXIT_UNDECIDED

    def __init__(self, message: str, *, source: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.source = source
        """Where the problem is: ``file:line``, an input name or a flag."""
        self.hint = hint
        """The fix, in one or more sentences, shown after the message."""

    @property
    def file_line(self) -> tuple[str, int | None] | None:
        """``(file, line)`` when :attr:`source` names a file, for annotations."""
        if not self.source or self.source.startswith("-"):
            return None
        path, sep, line = self.source.rpartition(":")
        if sep and line.isdigit():
            return path, int(line)
        if "/" in self.source or self.source.endswith((".yaml", ".yml", ".json")):
            return self.source, None
        return None

    def render(self) -> str:
        """The full human text: what happened, where, and how to fix it."""
        parts = []
        if self.source:
            parts.append(f"{self.source}: {self.message}")
        else:
            parts.append(self.message)
        if self.hint:
            parts.append(self.hint)
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.render()


class InputError(GitopsGuardError):
    """Raised for bad input: a flag, an action input, a file that does not parse.

    Nothing has been changed when it is raised.
    """

    exit_code = EXIT_INPUT


class ConfigError(InputError):
    """Raised for bad configuration: an invalid SLO file, a rejected token, an unknown app."""


class Rejected(GitopsGuardError):
    """The answer is no: the caller should treat the deploy as bad."""

    exit_code = EXIT_REJECTED


class Undecided(GitopsGuardError):
    """Could not decide: neither "yes" nor "no" can be said."""

    exit_code = EXIT_UNDECIDED


class DependencyUnavailable(Undecided):
    """Raised when a server (git remote, ArgoCD, Prometheus, GitHub) stays unreachable."""


def exit_code_for(exc: BaseException) -> int:
    """The exit code for any exception; unexpected ones are 3, never 1 ("roll back")."""
    if isinstance(exc, GitopsGuardError):
        return exc.exit_code
    return EXIT_UNDECIDED
