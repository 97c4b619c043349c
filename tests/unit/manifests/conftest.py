"""Fixtures for the manifest tests: a private copy of the fixture corpus, and tree builders."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "manifests"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A writable copy of tests/fixtures/manifests."""
    root = tmp_path / "gitops"
    shutil.copytree(CORPUS, root)
    return root


@pytest.fixture
def make_tree(tmp_path: Path) -> Callable[[dict[str, str | bytes]], Path]:
    """Build a tree from ``{relative path: text or bytes}``; text is written as UTF-8 verbatim."""

    def build(files: dict[str, str | bytes]) -> Path:
        root = tmp_path / "tree"
        for rel, content in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode("utf-8") if isinstance(content, str) else content
            path.write_bytes(data)
        root.mkdir(exist_ok=True)
        return root

    return build
