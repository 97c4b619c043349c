"""The files of a GitOps tree: which ones are scanned, and reading them (never writing).

Scanned files are ``*.yaml``, ``*.yml``, ``*.json`` and ``Kustomization`` under the
root, or under the ``paths`` given (files or folders, relative to the root).
Hidden files and folders (``.git``, ``.github``, ``.gitops-guard``, ...) and
symbolic links are left out, except ArgoCD's parameter override files
``.argocd-source.yaml`` and ``.argocd-source-<app>.yaml``. Paths may not leave
the root. Files under a Helm chart's ``templates/`` (a folder beside a
``Chart.yaml``) are listed by :meth:`Workspace.chart_of_template`: they are
never edited.

This module must not write files or decide what to edit.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from yaml import nodes

from gitops_guard import errors
from gitops_guard.manifests import kustomize, models, yamledit

__all__ = ["Source", "Workspace", "discover", "inside", "is_argocd_source"]

_SUFFIXES = (".yaml", ".yml", ".json")
_BOM = "\ufeff"
_ARGOCD_SOURCE = re.compile(r"\.argocd-source(-[^/]+)?\.yaml\Z")


def is_argocd_source(name: str) -> bool:
    """Whether a file name is an ArgoCD parameter override file (``.argocd-source-<app>.yaml``)."""
    return bool(_ARGOCD_SOURCE.match(name))


def _wanted(name: str) -> bool:
    if is_argocd_source(name):
        return True
    return not name.startswith(".") and (
        name.endswith(_SUFFIXES) or kustomize.is_kustomization(name)
    )


def inside(root: Path, rel: str, *, source: str) -> Path:
    """``root/rel``, refusing absolute paths and paths that leave the root."""
    pure = PurePosixPath(rel.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts:
        raise errors.InputError(
            f"{rel!r} must be a path inside the repository, relative to its root",
            source=source,
            hint="Give paths relative to --dir, without '..'.",
        )
    return root.joinpath(*pure.parts)


def _relative(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def discover(root: Path, paths: Sequence[str]) -> list[str]:
    """The relative paths of the files to scan, sorted; raises for a missing ``--path``."""
    found: set[str] = set()
    for rel in paths or (".",):
        start = inside(root, rel, source="--path") if rel != "." else root
        if start.is_symlink() or not start.exists():
            raise errors.InputError(
                f"{rel!r} does not exist in {root}",
                source="--path",
                hint="Give folders or files relative to --dir that exist on this branch.",
            )
        if start.is_file():
            found.add(_relative(root, start))
            continue
        prefix = "" if start == root else _relative(root, start) + "/"
        _walk(str(start), prefix, found)
    return sorted(found)


def _walk(folder: str, prefix: str, found: set[str]) -> None:
    """Collect wanted files below ``folder``; ``os.scandir`` knows links without a stat."""
    with os.scandir(folder) as entries:
        subfolders = []
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir():
                if not entry.name.startswith("."):
                    subfolders.append(entry)
            elif _wanted(entry.name):
                found.add(prefix + entry.name)
    for entry in subfolders:
        _walk(entry.path, f"{prefix}{entry.name}/", found)


def _read_bytes(path: str) -> bytes:
    """The whole file; ``os.read`` without a buffered file object, about half the time of
    ``open().read()`` over thousands of small manifests."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)


@dataclasses.dataclass(frozen=True)
class Source:
    """One file as read: its bytes, and its text without a byte-order mark."""

    path: str
    raw: bytes
    bom: str
    text: str

    def encode(self, text: str) -> bytes:
        """New text back to bytes with the same byte-order mark."""
        return (self.bom + text).encode("utf-8")


class Workspace:
    """Reads and parses each file of the tree at most once; notes what it had to skip."""

    def __init__(self, root: Path, scanned: frozenset[str] = frozenset()):
        self.root = root
        self._root_text = os.fspath(root)  # joined 4,000 times: once, not per file
        self.scanned = scanned
        """Files :func:`discover` listed (already known not to be links)."""
        self.skipped: dict[str, models.Skipped] = {}
        self._sources: dict[str, Source | None] = {}
        self._docs: dict[str, list[nodes.Node | None] | None] = {}
        self._charts: dict[str, bool] = {}

    def source(self, rel: str) -> Source | None:
        """The file's content, or ``None`` (and a :class:`models.Skipped`) when unreadable."""
        if rel not in self._sources:
            self._sources[rel] = self._read(rel)
        return self._sources[rel]

    def _read(self, rel: str) -> Source | None:
        path = os.path.join(self._root_text, rel)
        if rel not in self.scanned and os.path.islink(path):
            return None
        try:
            raw = _read_bytes(path)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.skipped[rel] = models.Skipped(rel, "not UTF-8 text")
            return None
        bom = _BOM if text.startswith(_BOM) else ""
        return Source(path=rel, raw=raw, bom=bom, text=text[len(bom) :])

    def docs(self, rel: str) -> list[nodes.Node | None] | None:
        """The file's YAML documents, or ``None`` (and a notice) when it is not YAML."""
        if rel not in self._docs:
            src = self.source(rel)
            parsed: list[nodes.Node | None] | None = None
            if src is not None:
                try:
                    parsed = yamledit.compose(src.text)
                except yamledit.NotYaml as exc:
                    where = f"line {exc.line}: " if exc.line else ""
                    kind = "a template ({{ }}), not YAML" if "{{" in src.text else "not YAML"
                    self.skipped[rel] = models.Skipped(rel, f"{kind} ({where}{exc.problem})")
            self._docs[rel] = parsed
        return self._docs[rel]

    def kustomizations_in(self, folder: str) -> list[str]:
        """Every kustomization file of a folder (relative paths), in kustomize's order."""
        found = []
        for name in kustomize.FILENAMES:
            rel = f"{folder}/{name}" if folder not in ("", ".") else name
            if (self.root / rel).is_file():
                found.append(rel)
        return found

    def kustomization_in(self, folder: str) -> str | None:
        """The kustomization file of a folder (relative path), if it has exactly one.

        Raises :class:`errors.InputError` naming both when it has several: kustomize
        refuses such a folder, so editing either would not be what is deployed.
        """
        found = self.kustomizations_in(folder)
        if len(found) > 1:
            where = folder if folder not in ("", ".") else "the repository root"
            raise errors.InputError(
                f"{where} has {len(found)} kustomization files: {' and '.join(found)}; "
                "kustomize refuses such a folder",
                source=found[1],
                hint="Keep one kustomization file per folder (kustomize reads "
                "kustomization.yaml, kustomization.yml or Kustomization).",
            )
        return found[0] if found else None

    def chart_of_template(self, rel: str) -> str | None:
        """The chart folder when ``rel`` lies under a Helm chart's ``templates/``, else ``None``."""
        if "templates/" not in rel:  # no folder of that name: most files, decided at once
            return None
        parts = PurePosixPath(rel).parts
        for index in range(len(parts) - 2, -1, -1):
            if parts[index] != "templates":
                continue
            chart = "/".join(parts[:index])
            if chart not in self._charts:
                self._charts[chart] = (self.root / chart / "Chart.yaml").is_file()
            if self._charts[chart]:
                return chart or "."
        return None
