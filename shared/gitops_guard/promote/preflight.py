"""Check a deploy before anything is promoted: everything that can be checked offline.

The reusable workflow's ``plan`` job runs this on the GitOps checkout before the
``promote`` job may push, so that a caller's mistake (a typo in ``slo-file``, an image
that does not parse, a ``manifest-paths`` entry that does not exist or does not hold
the image) is exit 2 with nothing changed, instead of a new version left live and
unverified. Checked, and every problem reported at once, each naming the workflow
input it comes from and the repository the file is read from:

* every image parses, and each image's repository has a target under the paths
  (the same planning update-manifest does; nothing is written);
* every path exists in the GitOps checkout;
* the SLO file exists and validates (its queries included), with the variables the
  gate will get;
* the rollback rules file, when given, exists and validates.

A check that needs Prometheus (a query it rejects as ``bad_data``) is not here: the
gate reports it as bad configuration (exit 2, naming the file and line), which the
workflow does not answer with a rollback.
This module reads files; it must not write, run git or talk to a server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gitops_guard import errors, images


@dataclass(frozen=True)
class Problem:
    """One thing wrong, named as the caller wrote it."""

    input: str
    """The workflow/action input it comes from (``slo-file``, ``manifest-paths``...)."""
    message: str
    file: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Request:
    """What the deploy will use."""

    images: tuple[str, ...]
    paths: tuple[str, ...] = ()
    helm: tuple[str, ...] = ()
    slo_file: str | None = None
    rules_file: str | None = None
    variables: Mapping[str, str] | None = None
    where: str = ""
    """Where the files are read from, for messages (``acme/gitops@main``)."""


@dataclass(frozen=True)
class Result:
    """Every problem found (none: the deploy may start) and what was checked."""

    problems: tuple[Problem, ...]
    checked: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _inside(root: Path, relative: str) -> Path | None:
    pure = PurePosixPath(relative.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts:
        return None
    return root / pure


def _from_error(name: str, exc: errors.GitopsGuardError, where: str) -> Problem:
    located = exc.file_line
    message = exc.message
    if exc.hint:
        message = f"{message} ({exc.hint})"
    if where:
        message = f"{message} [read from {where}]"
    if located:
        return Problem(name, message, located[0], located[1])
    return Problem(name, message)


def check(root: Path, request: Request) -> Result:
    """Run every check; never raises for a problem of the request (it is in the result)."""
    where = request.where
    problems: list[Problem] = []
    checked: list[str] = []
    parsed: list[images.ImageRef] = []
    if not request.images:
        problems.append(Problem("images", "no image given: nothing to deploy"))
    for text in request.images:
        try:
            parsed.append(images.parse_update(text, source="images"))
        except errors.InputError as exc:
            problems.append(Problem("images", exc.message))
    checked.append(f"{len(request.images)} image reference(s)")

    paths_ok = True
    for path in request.paths:
        target = _inside(root, path)
        if target is None:
            paths_ok = False
            problems.append(
                Problem("manifest-paths", f"{path!r} must be a relative path inside the repository")
            )
        elif not target.exists():
            paths_ok = False
            problems.append(
                Problem(
                    "manifest-paths",
                    f"{path!r} does not exist" + (f" in {where}" if where else ""),
                )
            )
    checked.append(f"{len(request.paths)} manifest path(s)")
    if parsed and paths_ok and len(parsed) == len(request.images):
        from gitops_guard import manifests

        try:
            manifests.plan(root, parsed, paths=request.paths, helm=request.helm)
            checked.append("each image has a target in the manifests")
        except errors.GitopsGuardError as exc:
            problems.append(_from_error("manifest-paths", exc, where))

    if request.slo_file:
        target = _inside(root, request.slo_file)
        if target is None or not target.is_file():
            problems.append(
                Problem(
                    "slo-file",
                    f"{request.slo_file!r} is not a file"
                    + (f" in {where}" if where else " in the GitOps checkout"),
                )
            )
        else:
            from gitops_guard.slo import config

            try:
                config.load(target, overrides=dict(request.variables or {}))
                checked.append(f"SLO file {request.slo_file}")
            except errors.GitopsGuardError as exc:
                problems.append(_from_error("slo-file", exc, where))

    if request.rules_file:
        target = _inside(root, request.rules_file)
        if target is None or not target.is_file():
            problems.append(
                Problem(
                    "rollback-rules",
                    f"{request.rules_file!r} is not a file"
                    + (f" in {where}" if where else " in the GitOps checkout"),
                )
            )
        else:
            from gitops_guard.rollback import rules

            try:
                rules.load_rules(target)
                checked.append(f"rollback rules {request.rules_file}")
            except errors.GitopsGuardError as exc:
                problems.append(_from_error("rollback-rules", exc, where))
    return Result(tuple(problems), tuple(checked))


def render(result: Result) -> str:
    """The human text: each problem on a line, or what was checked."""
    if result.ok:
        return "preflight: ok (" + "; ".join(result.checked) + ")"
    lines = [f"preflight: {len(result.problems)} problem(s); nothing was promoted:"]
    for problem in result.problems:
        at = f" ({problem.file}:{problem.line})" if problem.file and problem.line else ""
        lines.append(f"  {problem.input}: {problem.message}{at}")
    return "\n".join(lines)


def as_report(result: Result) -> dict[str, object]:
    return {
        "action": "preflight",
        "ok": result.ok,
        "problems": [
            {"input": p.input, "message": p.message, "file": p.file, "line": p.line}
            for p in result.problems
        ],
        "checked": list(result.checked),
    }


def variables(pairs: Sequence[str]) -> dict[str, str]:
    """``KEY=VALUE`` lines (the gate's ``--var``) as a mapping; exit 2 on a bad pair."""
    from gitops_guard.slo import config

    return config.parse_overrides(pairs, source="slo-vars")
