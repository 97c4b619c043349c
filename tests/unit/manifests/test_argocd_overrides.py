"""ArgoCD Application overrides are image targets, and never shadow an edit in silence (issue 10 item 5).

Behaviours covered:
- ``spec.source.kustomize.images`` and ``spec.sources[].kustomize.images`` are edited
  with the manifests they apply to; the previous image is the override's (what ran);
- ``helm.parameters`` (``image.name`` + ``image.tag``, a full reference, or a
  parameter named like a ``--helm`` tag key) and ``helm.valuesObject`` are edited;
- ``.argocd-source-<app>.yaml`` (argocd-image-updater's write-back file) is scanned
  although hidden, and edited;
- an override outside ``--path`` that ArgoCD applies over an edited file is exit 2
  naming the Application file and line; so is one in ``helm.values`` (a string);
- a ``.json`` Application is edited and stays JSON;
- the Application shapes used here are those of ArgoCD's API description.
"""

# ruff: noqa: E501  (manifests read best on one line)
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from gitops_guard import errors, images, manifests

MakeTree = Callable[[dict[str, str | bytes]], Path]

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: ghcr.io/acme/app:v0
"""
KUSTOMIZATION = "resources:\n- deployment.yaml\n"


def _application(source: str, *, key: str = "source") -> str:
    return (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\n"
        f"  namespace: argocd\nspec:\n  project: default\n  destination:\n"
        f"    server: https://kubernetes.default.svc\n    namespace: web\n  {key}:\n{source}"
    )


KUSTOMIZE_APP = _application(
    "    repoURL: https://github.com/acme/gitops.git\n    targetRevision: main\n"
    "    path: apps/web\n    kustomize:\n      images:\n      - ghcr.io/acme/app:v5\n"
)


def _tree(make_tree: MakeTree, app: str, **extra: str) -> Path:
    files = {
        "apps/web/deployment.yaml": DEPLOYMENT,
        "apps/web/kustomization.yaml": KUSTOMIZATION,
        "argocd/web.yaml": app,
    }
    files.update(extra)
    return make_tree(files)


def _plan(root: Path, *refs: str, **kwargs: object) -> manifests.EditPlan:
    updates = [images.parse_update(ref) for ref in refs]
    return manifests.plan(root, updates, **kwargs)  # type: ignore[arg-type]


def _after(plan: manifests.EditPlan, rel: str) -> str:
    return next(e.after.decode() for e in plan.edits if e.path == rel)


def test_kustomize_images_override_is_edited_with_the_manifests(make_tree: MakeTree) -> None:
    root = _tree(make_tree, KUSTOMIZE_APP)
    plan = _plan(root, "ghcr.io/acme/app:v6")
    assert plan.files == ("apps/web/deployment.yaml", "argocd/web.yaml")
    assert _after(plan, "argocd/web.yaml") == KUSTOMIZE_APP.replace("app:v5", "app:v6")
    first = plan.changes[0]
    assert (first.kind, first.file, first.line) == ("argocd", "argocd/web.yaml", 17)
    assert first.target == "Application/web spec.source kustomize.images[0]"
    assert first.old == "ghcr.io/acme/app:v5"  # what ran: the override, not the manifest's v0


def test_an_override_outside_path_that_would_hide_the_edit_is_exit_2(make_tree: MakeTree) -> None:
    root = _tree(make_tree, KUSTOMIZE_APP)
    with pytest.raises(errors.InputError) as caught:
        _plan(root, "ghcr.io/acme/app:v6", paths=["apps/web"])
    assert caught.value.exit_code == 2
    message = str(caught.value)
    assert message.startswith("argocd/web.yaml:17: ")
    assert "Application/web spec.source kustomize.images[0] sets ghcr.io/acme/app:v5" in message
    assert "apps/web/deployment.yaml" in message


def test_an_override_of_another_folder_does_not_block(make_tree: MakeTree) -> None:
    root = _tree(make_tree, KUSTOMIZE_APP.replace("path: apps/web", "path: apps/other"))
    assert _plan(root, "ghcr.io/acme/app:v6", paths=["apps/web"]).files == (
        "apps/web/deployment.yaml",
    )


def test_an_override_that_covers_a_base_through_its_overlay_blocks(make_tree: MakeTree) -> None:
    root = make_tree(
        {
            "base/deployment.yaml": DEPLOYMENT,
            "base/kustomization.yaml": KUSTOMIZATION,
            "prod/kustomization.yaml": "resources:\n- ../base\n",
            "argocd/web.yaml": KUSTOMIZE_APP.replace("path: apps/web", "path: prod"),
        }
    )
    with pytest.raises(
        errors.InputError, match=r"^argocd/web.yaml:17: .* over base/deployment.yaml"
    ):
        _plan(root, "ghcr.io/acme/app:v6", paths=["base"])


def test_multi_source_kustomize_images_are_edited(make_tree: MakeTree) -> None:
    app = _application(
        "    - repoURL: https://charts.example.com\n      chart: redis\n      targetRevision: 18.0.0\n"
        "    - repoURL: https://github.com/acme/gitops.git\n      path: apps/web\n"
        "      kustomize:\n        images: ['ghcr.io/acme/app:v5']\n",
        key="sources",
    )
    root = _tree(make_tree, app)
    plan = _plan(root, "ghcr.io/acme/app:v6")
    assert "images: ['ghcr.io/acme/app:v6']" in _after(plan, "argocd/web.yaml")
    assert plan.changes[0].target == "Application/web spec.sources[1] kustomize.images[0]"


def test_a_kustomize_rename_override_keeps_its_old_name(make_tree: MakeTree) -> None:
    app = KUSTOMIZE_APP.replace(
        "- ghcr.io/acme/app:v5", "- ghcr.io/acme/app=ghcr.io/acme/app-fast:v5"
    )
    root = _tree(make_tree, app)
    plan = _plan(root, "ghcr.io/acme/app-fast:v6", paths=["argocd"])
    assert "- ghcr.io/acme/app=ghcr.io/acme/app-fast:v6\n" in _after(plan, "argocd/web.yaml")


HELM_APP = _application(
    "    repoURL: https://github.com/acme/gitops.git\n    path: charts/web\n    helm:\n"
    "      parameters:\n      - name: image.name\n        value: ghcr.io/acme/app\n"
    "      - name: image.tag\n        value: v5\n        forceString: true\n"
)


def test_helm_parameters_name_and_tag_are_edited(make_tree: MakeTree) -> None:
    root = make_tree({"argocd/web.yaml": HELM_APP})
    plan = _plan(root, "ghcr.io/acme/app:3.2e2")
    assert _after(plan, "argocd/web.yaml") == HELM_APP.replace("value: v5", 'value: "3.2e2"')
    (change,) = plan.changes
    assert (change.old, change.new) == ("ghcr.io/acme/app:v5", "ghcr.io/acme/app:3.2e2")
    assert change.target == "Application/web spec.source helm.parameters image.tag"


def test_a_helm_parameter_named_like_the_helm_tag_key_shadows_the_values(
    make_tree: MakeTree,
) -> None:
    app = _application(
        "    repoURL: https://github.com/acme/gitops.git\n    path: charts/web\n    helm:\n"
        "      parameters:\n      - name: image.tag\n        value: v5\n"
    )
    values = "image:\n  repository: ghcr.io/acme/app\n  tag: v0\n"
    root = make_tree(
        {
            "argocd/web.yaml": app,
            "charts/web/values.yaml": values,
            "charts/web/Chart.yaml": "name: web\n",
        }
    )
    spec = ["charts/web/values.yaml:image.repository:image.tag"]
    plan = _plan(root, "ghcr.io/acme/app:v6", helm=spec)
    assert plan.files == ("argocd/web.yaml", "charts/web/values.yaml")
    assert plan.changes[0].old == "ghcr.io/acme/app:v5"
    with pytest.raises(
        errors.InputError, match=r"^argocd/web.yaml:17: .*helm.parameters image.tag sets"
    ):
        _plan(root, "ghcr.io/acme/app:v6", helm=spec, paths=["charts"])


def test_helm_values_object_is_edited(make_tree: MakeTree) -> None:
    app = _application(
        "    repoURL: https://github.com/acme/gitops.git\n    path: charts/web\n    helm:\n"
        "      valuesObject:\n        web:\n          image:\n            repository: ghcr.io/acme/app\n"
        "            tag: v5\n        sidecar: {image: 'ghcr.io/acme/app:v5'}\n"
    )
    root = make_tree({"argocd/web.yaml": app})
    plan = _plan(root, "ghcr.io/acme/app:v6")
    after = _after(plan, "argocd/web.yaml")
    assert after == app.replace("tag: v5", "tag: v6").replace(
        "'ghcr.io/acme/app:v5'", "'ghcr.io/acme/app:v6'"
    )
    assert sorted(c.target for c in plan.changes) == [
        "Application/web spec.source helm.valuesObject sidecar.image",
        "Application/web spec.source helm.valuesObject web.image.tag",
    ]


def test_helm_values_string_that_pins_the_image_is_exit_2(make_tree: MakeTree) -> None:
    app = _application(
        "    repoURL: https://github.com/acme/gitops.git\n    path: apps/web\n    helm:\n"
        "      values: |\n        image: ghcr.io/acme/app:v5\n"
    )
    root = _tree(make_tree, app)
    with pytest.raises(errors.InputError, match=r"helm.values \(a string, never edited\)"):
        _plan(root, "ghcr.io/acme/app:v6")


SOURCE_FILE = "kustomize:\n  images:\n  - ghcr.io/acme/app:v5\n"


def test_argocd_source_file_is_scanned_and_edited(make_tree: MakeTree) -> None:
    root = _tree(make_tree, KUSTOMIZE_APP, **{"apps/web/.argocd-source-web.yaml": SOURCE_FILE})
    plan = _plan(root, "ghcr.io/acme/app:v6", paths=["apps/web"])
    # The Application outside --path is not edited, and does not block: ArgoCD applies
    # the .argocd-source file over the Application's own overrides.
    assert plan.files == ("apps/web/.argocd-source-web.yaml", "apps/web/deployment.yaml")
    assert _after(plan, "apps/web/.argocd-source-web.yaml") == SOURCE_FILE.replace("v5", "v6")


def test_argocd_source_file_outside_path_shadows_the_application(make_tree: MakeTree) -> None:
    root = _tree(make_tree, KUSTOMIZE_APP, **{"apps/web/.argocd-source-web.yaml": SOURCE_FILE})
    with pytest.raises(errors.InputError, match=r"^apps/web/.argocd-source-web.yaml:3: "):
        _plan(root, "ghcr.io/acme/app:v6", paths=["argocd"])


def test_json_application_is_edited_and_stays_json(make_tree: MakeTree) -> None:
    data = yaml.safe_load(KUSTOMIZE_APP)
    text = json.dumps(data, indent=2) + "\n"
    root = make_tree({"argocd/web.json": text})
    plan = _plan(root, "ghcr.io/acme/app:v6")
    after = _after(plan, "argocd/web.json")
    assert after == text.replace("app:v5", "app:v6")
    assert json.loads(after)["spec"]["source"]["kustomize"]["images"] == ["ghcr.io/acme/app:v6"]


def test_json_deployment_is_edited(make_tree: MakeTree) -> None:
    text = json.dumps(yaml.safe_load(DEPLOYMENT), indent="\t")
    root = make_tree({"web.json": text})
    assert (
        json.loads(_after(_plan(root, "ghcr.io/acme/app:1e3"), "web.json"))["spec"]["template"][
            "spec"
        ]["containers"][0]["image"]
        == "ghcr.io/acme/app:1e3"
    )


def test_application_shapes_follow_the_argocd_api(reference_dir: Path) -> None:
    definitions = json.loads((reference_dir / "argocd-swagger.json").read_text())["definitions"]

    def keys(name: str) -> set[str]:
        return set(definitions[name]["properties"])

    for text in (KUSTOMIZE_APP, HELM_APP):
        source = yaml.safe_load(text)["spec"]["source"]
        assert set(source) <= keys("v1alpha1ApplicationSource")
        assert set(source.get("kustomize", {})) <= keys("v1alpha1ApplicationSourceKustomize")
        assert set(source.get("helm", {})) <= keys("v1alpha1ApplicationSourceHelm")
        for parameter in source.get("helm", {}).get("parameters", []):
            assert set(parameter) <= keys("v1alpha1HelmParameter")


def test_an_override_that_already_pins_the_new_image_does_not_block(make_tree: MakeTree) -> None:
    root = _tree(make_tree, KUSTOMIZE_APP)
    plan = _plan(root, "ghcr.io/acme/app:v5", paths=["apps/web"])
    assert plan.files == ("apps/web/deployment.yaml",)


def test_a_split_override_outside_path_is_named_at_its_tag_line(make_tree: MakeTree) -> None:
    root = make_tree(
        {
            "argocd/web.yaml": HELM_APP,
            "charts/web/Chart.yaml": "name: web\n",
            "charts/web/values.yaml": "image: ghcr.io/acme/app:v0\n",
        }
    )
    with pytest.raises(
        errors.InputError,
        match=r"^argocd/web.yaml:19: .*helm.parameters image.tag sets ghcr.io/acme/app:v5",
    ):
        _plan(root, "ghcr.io/acme/app:v6", paths=["charts"], helm=["charts/web/values.yaml:image"])


def test_application_paths_are_read_from_the_checkout_top(make_tree: MakeTree) -> None:
    # --dir is a folder inside the checkout: Application paths are repository paths.
    root = make_tree(
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "gitops/apps/web/deployment.yaml": DEPLOYMENT,
            "gitops/apps/web/kustomization.yaml": KUSTOMIZATION,
            "gitops/argocd/web.yaml": KUSTOMIZE_APP.replace(
                "path: apps/web", "path: gitops/apps/web"
            ),
        }
    )
    with pytest.raises(errors.InputError, match=r"^argocd/web.yaml:17: "):
        _plan(root / "gitops", "ghcr.io/acme/app:v6", paths=["apps/web"])
