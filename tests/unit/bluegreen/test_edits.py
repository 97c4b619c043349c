"""strategies.bluegreen.edits: byte-exact edits of image, replicas and the selector colour.

Covers: only the value's characters change (comments, quoting, CRLF line endings
and the other documents stay byte for byte); an edit already in place writes
nothing; a Deployment without replicas is refused (exit 2).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gitops_guard import errors, images
from gitops_guard.strategies.bluegreen import edits, layout

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "gitops-repo" / "deploy" / "web"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLE, tmp_path / "web")
    return tmp_path / "web"


def test_replicas_and_image_change_only_their_characters(tree: Path) -> None:
    before = (tree / "web-green.yaml").read_bytes()
    lay = layout.read(tree, service="web")
    assert edits.set_replicas(tree, lay.deployments["green"], 3) == ["web-green.yaml"]
    lay = layout.read(tree, service="web")
    new = images.parse("ghcr.io/gitops-guard/web:1.1.0", source="--image")
    assert edits.set_image(tree, lay.deployments["green"], new) == ["web-green.yaml"]
    after = (tree / "web-green.yaml").read_bytes()
    assert after == before.replace(b"replicas: 0", b"replicas: 3").replace(b":1.0.0", b":1.1.0")
    assert "1.0.0" in (tree / "web-blue.yaml").read_text()  # the other colour is untouched
    lay = layout.read(tree, service="web")
    assert edits.set_replicas(tree, lay.deployments["green"], 3) == []
    assert edits.set_image(tree, lay.deployments["green"], new) == []


def test_selector_colour_keeps_everything_else(tree: Path) -> None:
    path = tree / "service.yaml"
    text = path.read_text().replace("\n", "\r\n").replace("color: blue", "color: 'blue' # live")
    path.write_bytes(text.encode())
    lay = layout.read(tree, service="web")
    assert lay.active is not None
    assert edits.set_selector_colour(tree, lay.active, "color", "green") == ["service.yaml"]
    assert (
        path.read_bytes() == text.replace("color: 'blue' # live", "color: 'green' # live").encode()
    )
    lay = layout.read(tree, service="web")
    assert lay.active is not None and lay.active.colour == "green"
    assert edits.set_selector_colour(tree, lay.active, "color", "green") == []


def test_a_deployment_without_replicas_is_refused(tree: Path) -> None:
    lay = layout.read(tree, service="web")
    path = tree / "web-green.yaml"
    path.write_text(path.read_text().replace("  replicas: 0\n", ""))
    with pytest.raises(errors.InputError) as info:
        edits.set_replicas(tree, lay.deployments["green"], 2)
    assert info.value.exit_code == 2
