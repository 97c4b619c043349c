"""Validate read YAML against a pydantic model; every problem as FILE:LINE, all at once.

:func:`read_file` / :func:`read_text` give a :class:`~gitops_guard.config._yaml.Document`
(bounded, positioned), :func:`validate` checks its ``version:`` and turns it into a
model, and :class:`Problems` collects what is wrong so that one
:class:`~gitops_guard.errors.ConfigError` (exit 2) lists every line to fix.

This module reads the file it is given and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from gitops_guard import errors
from gitops_guard.config._yaml import Bounds, Document, Loc, decode, dotted, read

M = TypeVar("M", bound=BaseModel)


class Model(BaseModel):
    """Base of every file model: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, use_attribute_docstrings=True
    )


@dataclass(frozen=True)
class Kind:
    """What a file is, for messages: ``Kind("SLO file", "slo", "docs/slo-gate.md")``."""

    title: str
    schema: str
    """The name of its JSON Schema (``gitops-guard schema NAME``)."""
    docs: str
    versions: tuple[int, ...] = (1,)
    """The ``version:`` values this gitops-guard reads; absent means 1."""
    syntax_hint: str = ""
    """Added to a YAML syntax error (the usual cause in this kind of file)."""
    syntax: str = "YAML"
    """``JSON`` for files gitops-guard wrote itself (reports): syntax errors say so."""


class Problems:
    """The problems of one file; :meth:`raise_if_any` raises them as one ConfigError."""

    def __init__(self, source: str, kind: Kind) -> None:
        self.source = source
        self.kind = kind
        self.items: list[tuple[int | None, str]] = []

    def add(self, line: int | None, text: str) -> None:
        if (line, text) not in self.items:
            self.items.append((line, text))

    def extend(self, items: Sequence[tuple[int | None, str]]) -> None:
        for line, text in items:
            self.add(line, text)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        first = min((line for line, _ in self.items if line), default=None)
        count = len(self.items)
        lines = [
            f"  {self.source}:{line}: {text}" if line else f"  {self.source}: {text}"
            for line, text in sorted(self.items, key=lambda it: it[0] or 0)
        ]
        raise errors.ConfigError(
            f"the {self.kind.title} is invalid ({count} problem{'s' if count > 1 else ''}):\n"
            + "\n".join(lines),
            source=f"{self.source}:{first}" if first else self.source,
            hint=f"Fix each line above; {errors.docs_url(self.kind.docs)} describes every key.",
        )


def read_text(text: str, problems: Problems, *, bounds: Bounds | None = None) -> Document:
    """Read YAML text; reading problems go to ``problems``."""
    doc = read(text, bounds=bounds)
    for line, problem in doc.problems:
        if problem.startswith("not valid YAML") and problems.kind.syntax != "YAML":
            problem = problem.replace(
                "not valid YAML", f"the {problems.kind.title} is not {problems.kind.syntax}", 1
            )
        elif problems.kind.syntax_hint and problem.startswith("not valid YAML"):
            problem = f"{problem}. {problems.kind.syntax_hint}"
        problems.add(line, problem)
    return doc


def read_file(
    path: str | Path,
    problems: Problems,
    *,
    flag: str | None = None,
    bounds: Bounds | None = None,
) -> Document:
    """Read a YAML file (bounded in size, UTF-8, no binary); exit 2 when it is unreadable.

    ``flag`` (``--config``) is named when the file is missing.
    """
    bounds = bounds or Bounds()
    file = Path(path)
    try:
        if file.is_dir():
            raise IsADirectoryError(21, "is a directory")
        with file.open("rb") as fh:
            raw = fh.read(bounds.max_bytes + 1)
    except FileNotFoundError as exc:
        raise errors.ConfigError(
            f"cannot read the {problems.kind.title}: {file} does not exist",
            source=flag or str(file),
            hint="Pass its path relative to the working directory.",
        ) from exc
    except OSError as exc:
        raise errors.ConfigError(
            f"cannot read the {problems.kind.title}: {exc.strerror or exc}", source=str(file)
        ) from exc
    text, problem = decode(raw, bounds=bounds)
    if problem is not None:
        problems.add(*problem)
        problems.raise_if_any()
    assert text is not None
    return read_text(text, problems, bounds=bounds)


def check_version(doc: Document, problems: Problems) -> None:
    """A ``version:`` this gitops-guard does not read is a problem (absent means 1)."""
    if not isinstance(doc.data, dict) or "version" not in doc.data:
        return
    value = doc.data["version"]
    known = problems.kind.versions
    if isinstance(value, bool) or not isinstance(value, int) or value not in known:
        readable = ", ".join(str(v) for v in known)
        problems.add(
            doc.line_of(("version",)),
            f"version: {value!r} is not a version this gitops-guard reads ({readable}); "
            f"write version: {known[-1]}, or upgrade gitops-guard if the file is newer",
        )


_PYDANTIC_TAGS = ("function-", "tagged-union", "list[", "tuple[", "str", "float", "int", "bool")


def clean_loc(loc: Sequence[str | int], doc: Document) -> Loc:
    """A pydantic error location without pydantic's union and function tags."""
    out: list[str | int] = []
    for part in loc:
        candidate = (*out, part)
        if (
            isinstance(part, int)
            or candidate in doc.lines
            or not str(part).startswith(_PYDANTIC_TAGS)
        ):
            out.append(part)
    return tuple(out)


def validate(model: type[M], doc: Document, problems: Problems, *, data: Any = None) -> M | None:
    """``model`` from the document's data (or ``data``); None with problems added."""
    if doc.problems:
        # A file refused by the reader (syntax, tags, duplicates, bounds) is not
        # validated: its data is not what the user wrote, the keys' problems would be noise.
        return None
    before = len(problems.items)
    check_version(doc, problems)
    if len(problems.items) > before:
        return None  # another version's keys would only add noise
    payload = doc.data if data is None else data
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        problems.add(1, f"the {problems.kind.title} must be a mapping of keys")
        return None
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        for err in exc.errors():
            loc = clean_loc(err["loc"], doc)
            message = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = (
                    f"unknown key '{loc[-1]}'; see {errors.docs_url(problems.kind.docs)} "
                    "for the keys this level takes"
                )
            elif err["type"] == "missing":
                message = f"'{loc[-1]}' is required"
            problems.add(doc.line_of(loc) or 1, f"{dotted(loc)}: {message}")
        return None


def load_text(model: type[M], text: str, *, kind: Kind, source: str) -> M:
    """Read and validate YAML text; every problem in one ConfigError (exit 2)."""
    problems = Problems(source, kind)
    doc = read_text(text, problems)
    result = validate(model, doc, problems)
    problems.raise_if_any()
    assert result is not None
    return result


def load_file(model: type[M], path: str | Path, *, kind: Kind, flag: str | None = None) -> M:
    """Read and validate a YAML file; every problem in one ConfigError (exit 2)."""
    problems = Problems(str(path), kind)
    doc = read_file(path, problems, flag=flag)
    result = validate(model, doc, problems)
    problems.raise_if_any()
    assert result is not None
    return result
