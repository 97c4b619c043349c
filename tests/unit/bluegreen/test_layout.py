"""strategies.bluegreen.layout: a clear layout is read, every unclear one is exit 2 with file:line.

Covers: the example service (live blue, preview green, namespace from the
kustomization); a missing colour; no colour label; two Deployments of one colour
label; a selector without the colour key; a selector naming an unknown colour; a
selector that would select no pod; replicas that are not a number or missing; an
image that does not parse; both colours in one file; no active Service in git mode
(allowed in cluster mode); several problems listed at once.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gitops_guard import errors
from gitops_guard.strategies.bluegreen import layout

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "gitops-repo" / "deploy" / "web"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLE, tmp_path / "web")
    return tmp_path / "web"


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, count))


def read(tree: Path, **kw: object) -> layout.models.Layout:
    return layout.read(tree, service="web", prefix="deploy/web/", **kw)  # type: ignore[arg-type]


def test_the_example_reads_clearly(tree: Path) -> None:
    lay = read(tree)
    assert lay.live == "blue" and lay.other("blue") == "green"
    assert lay.preview is not None and lay.preview.colour == "green"
    assert lay.namespace == "sre-demo"
    green = lay.deployments["green"]
    assert (green.name, green.replicas, green.image) == (
        "web-green",
        0,
        "ghcr.io/gitops-guard/web:1.0.0",
    )
    assert str(green.replicas_site) == "deploy/web/web-green.yaml:12"
    assert lay.active is not None and str(lay.active.colour_site) == "deploy/web/service.yaml:12"


def refused(tree: Path, **kw: object) -> errors.InputError:
    with pytest.raises(errors.InputError) as info:
        read(tree, **kw)
    assert info.value.exit_code == 2
    return info.value


def test_missing_colour(tree: Path) -> None:
    (tree / "web-green.yaml").unlink()
    assert "the green colour is missing" in refused(tree).message


def test_no_colour_label(tree: Path) -> None:
    edit(tree / "web-green.yaml", "        color: green\n", "")
    problem = refused(tree)
    assert "no colour label" in problem.message
    assert problem.source == "deploy/web/web-green.yaml:21"


def test_label_that_contradicts_the_name(tree: Path) -> None:
    edit(tree / "web-green.yaml", "        color: green\n", "        color: blue\n")
    assert "carries color: blue, but its name says green" in refused(tree).message


def test_selector_without_colour_key(tree: Path) -> None:
    edit(tree / "service.yaml", "    color: blue\n", "")
    problem = refused(tree)
    assert "no color key in its selector" in problem.message
    assert problem.source == "deploy/web/service.yaml:11"


def test_selector_with_unknown_colour(tree: Path) -> None:
    edit(tree / "service.yaml", "    color: blue\n", "    color: red\n")
    problem = refused(tree)
    assert "'red', not one of blue or green" in problem.message
    assert problem.source == "deploy/web/service.yaml:12"


def test_selector_that_selects_no_pod(tree: Path) -> None:
    edit(
        tree / "service.yaml",
        "    app.kubernetes.io/name: web\n    color: blue",
        "    app.kubernetes.io/name: shop\n    color: blue",
    )
    assert "would select no pod" in refused(tree).message


@pytest.mark.parametrize("value", ["two", '"2"', "1.5"])
def test_replicas_not_a_number(tree: Path, value: str) -> None:
    edit(tree / "web-blue.yaml", "replicas: 2", f"replicas: {value}")
    problem = refused(tree)
    assert "not a number" in problem.message and problem.source == "deploy/web/web-blue.yaml:12"


def test_replicas_missing(tree: Path) -> None:
    edit(tree / "web-blue.yaml", "  replicas: 2\n", "")
    assert "no spec.replicas" in refused(tree).message


def test_image_that_does_not_parse(tree: Path) -> None:
    edit(tree / "web-blue.yaml", "ghcr.io/gitops-guard/web:1.0.0", "ghcr.io/Bad Image::")
    assert refused(tree).source == "deploy/web/web-blue.yaml:29"


def test_both_colours_in_one_file(tree: Path) -> None:
    both = (tree / "web-blue.yaml").read_text() + "---\n" + (tree / "web-green.yaml").read_text()
    (tree / "web-blue.yaml").write_text(both)
    (tree / "web-green.yaml").unlink()
    assert "both colours live in one file" in refused(tree).message


def test_no_active_service_in_git_mode(tree: Path) -> None:
    text = (tree / "service.yaml").read_text()
    (tree / "service.yaml").write_text(text.split("---\n", 1)[1])
    assert "owned by nobody" in refused(tree).message
    lay = read(tree, mode="cluster")
    assert lay.active is None and lay.preview is not None


def test_every_problem_is_listed_at_once(tree: Path) -> None:
    edit(tree / "web-blue.yaml", "replicas: 2", "replicas: many")
    edit(tree / "service.yaml", "    color: blue\n", "    color: red\n")
    problem = refused(tree)
    assert "2 problems" in problem.message
    assert "not a number" in problem.message and "'red'" in problem.message
