"""Real-world manifests that once went wrong (issue 10 items 1-4, 6-8; issue 9 §5).

Behaviours covered:
- a tag that YAML 1.1, YAML 1.2 or Go would read as a number or boolean is quoted,
  in kustomizations and Helm values alike (a hypothesis property checks every
  rendering against PyYAML, ruamel 1.2 and ruamel 1.1);
- a digest-only update of an entry whose last key is ``newTag``;
- several ``--image`` added to a named kustomization without ``images:``;
- files under a Helm chart's ``templates/`` are never edited, parsing or not, and
  are listed as skipped; ``--helm`` naming one is exit 2;
- two kustomization files in one folder: exit 2 naming both;
- Helm values reached through a merge key edit the anchored mapping; several
  suppliers and literal dotted keys are named in the message;
- kustomize renames (``OLD=NEW:tag``) and pattern names (``ghcr.io/acme/.*``):
  the change's ``old`` is the image actually deployed;
- alias bombs are refused within a second, naming file and line; a repeated key
  on an edited path is "cannot edit safely"; nesting too deep is never a crash.
"""

# ruff: noqa: E501  (manifests read best on one line)
from __future__ import annotations

import re
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from gitops_guard import errors, images, manifests
from gitops_guard.manifests import yamledit

SHA_A = "sha256:" + "a" * 64
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


def _plan(root: Path, *refs: str, **kwargs: object) -> manifests.EditPlan:
    updates = [images.parse_update(ref) for ref in refs]
    return manifests.plan(root, updates, **kwargs)  # type: ignore[arg-type]


def _after(plan: manifests.EditPlan) -> dict[str, str]:
    return {edit.path: edit.after.decode("utf-8") for edit in plan.edits}


# -- 1. tags that some reader takes for a number or a boolean -------------------------

RISKY_TAGS = [
    "3.2e2",
    "1e3",
    "2345e67",
    "y",
    "n",
    "Y",
    "N",
    "0b101",
    "0o17",
    "1_000",
    "1e-3",
    "0x1F",
    "1.",
    "08",
]


def _readers() -> list[Callable[[str], object]]:
    y12 = YAML(typ="safe", pure=True)
    y11 = YAML(typ="safe", pure=True)
    y11.version = (1, 1)

    def ruamel_11(text: str) -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ruamel warns about 1.1 floats without a dot
            return y11.load("%YAML 1.1\n---\n" + text)

    return [yaml.safe_load, y12.load, ruamel_11]


READERS = _readers()


@pytest.mark.parametrize("tag", RISKY_TAGS)
def test_number_like_tags_are_quoted_in_kustomizations(make_tree: MakeTree, tag: str) -> None:
    root = make_tree(
        {"app/kustomization.yaml": "images:\n- name: ghcr.io/acme/app\n  newTag: v0\n"}
    )
    after = _after(_plan(root, f"ghcr.io/acme/app:{tag}"))["app/kustomization.yaml"]
    assert after == f'images:\n- name: ghcr.io/acme/app\n  newTag: "{tag}"\n'
    for read in READERS:
        assert read(after) == {"images": [{"name": "ghcr.io/acme/app", "newTag": tag}]}


@pytest.mark.parametrize("tag", RISKY_TAGS)
def test_number_like_tags_are_quoted_in_helm_values(make_tree: MakeTree, tag: str) -> None:
    root = make_tree({"values.yaml": "image:\n  repository: ghcr.io/acme/app\n  tag: v0\n"})
    plan = _plan(root, f"ghcr.io/acme/app:{tag}", helm=["values.yaml:image.repository:image.tag"])
    assert _after(plan)["values.yaml"].endswith(f'  tag: "{tag}"\n')


@pytest.mark.parametrize(
    "tag", ["v1.2.3", "1.2.3", "main-1e3f", "sha-2345e67a", "e3", "yes-please"]
)
def test_tags_every_reader_reads_as_text_stay_plain(tag: str) -> None:
    assert yamledit.render_scalar(tag) == tag


_TAG_TEXT = st.one_of(
    st.from_regex(r"\A[\w][\w.-]{0,20}\Z", fullmatch=True),
    st.from_regex(r"\A[-+]?[0-9_.]{1,6}([eE][-+]?[0-9]{1,3})?\Z", fullmatch=True),
    st.from_regex(r"\A0[bBoOxX][0-9a-fA-F_]{1,6}\Z", fullmatch=True),
    st.sampled_from(["y", "n", "Y", "N", "on", "off", "yes", "no", "~", "null", ".inf", ".nan"]),
)


@settings(max_examples=300, deadline=None)
@given(_TAG_TEXT)
def test_every_rendered_scalar_reads_back_as_the_same_string(value: str) -> None:
    rendered = yamledit.render_scalar(value)
    for read in READERS:
        assert read(f"k: {rendered}\n") == {"k": value}, (value, rendered)


# -- 2. digest-only update when newTag is the entry's last key ----------------------------


def test_digest_only_update_replaces_a_trailing_new_tag(make_tree: MakeTree) -> None:
    root = make_tree({"kustomization.yaml": "images:\n- name: a\n  newTag: v1\n"})
    plan = _plan(root, f"a@{SHA_A}")
    assert _after(plan) == {"kustomization.yaml": f"images:\n- name: a\n  digest: {SHA_A}\n"}
    (change,) = plan.changes
    assert (change.old, change.new) == ("a:v1", f"a@{SHA_A}")


def test_tag_only_update_replaces_a_trailing_digest(make_tree: MakeTree) -> None:
    root = make_tree({"kustomization.yaml": f"images:\n- name: a  # pinned\n  digest: {SHA_A}\n"})
    assert _after(_plan(root, "a:v2")) == {
        "kustomization.yaml": "images:\n- name: a  # pinned\n  newTag: v2\n"
    }


# -- 3. several --image added to a named kustomization ------------------------------------


def test_two_images_are_added_to_a_kustomization_without_images(make_tree: MakeTree) -> None:
    root = make_tree({"k/kustomization.yaml": "resources:\n- https://example.com/base\n"})
    plan = _plan(root, "a:1", "ghcr.io/acme/b:2", paths=["k/kustomization.yaml"])
    assert _after(plan) == {
        "k/kustomization.yaml": "resources:\n- https://example.com/base\nimages:\n"
        '- name: a\n  newTag: "1"\n- name: ghcr.io/acme/b\n  newTag: "2"\n'
    }


def test_two_images_are_appended_to_an_empty_images_key(make_tree: MakeTree) -> None:
    root = make_tree({"k/kustomization.yaml": "resources: []\nimages:\n"})
    plan = _plan(root, "a:v1", "b:v2", paths=["k/kustomization.yaml"])
    assert _after(plan) == {
        "k/kustomization.yaml": "resources: []\nimages:\n- name: a\n  newTag: v1\n"
        "- name: b\n  newTag: v2\n"
    }


# -- 4. chart templates -------------------------------------------------------------------

TEMPLATE_THAT_PARSES = """\
kind: Deployment
metadata: {name: web, labels: {app: "{{ include \\"web.name\\" . }}"}}
spec:
  template:
    spec:
      containers:
      - name: app
        image: ghcr.io/acme/app:v0
"""


def test_chart_templates_are_never_edited_and_are_listed(make_tree: MakeTree) -> None:
    root = make_tree(
        {
            "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
            "charts/web/values.yaml": "image:\n  repository: ghcr.io/acme/app\n  tag: v0\n",
            "charts/web/templates/deployment.yaml": TEMPLATE_THAT_PARSES,
            "charts/web/templates/sub/job.yaml": "image: {{ .Values.image.repository }}\n",
            "apps/templates/deployment.yaml": DEPLOYMENT,  # no Chart.yaml: plain manifests
        }
    )
    plan = _plan(
        root, "ghcr.io/acme/app:v1", helm=["charts/web/values.yaml:image.repository:image.tag"]
    )
    assert plan.files == ("apps/templates/deployment.yaml", "charts/web/values.yaml")
    skipped = {s.path: s.reason for s in plan.skipped}
    assert sorted(skipped) == [
        "charts/web/templates/deployment.yaml",
        "charts/web/templates/sub/job.yaml",
    ]
    assert all(r.startswith("a Helm chart template (chart charts/web)") for r in skipped.values())


def test_helm_spec_naming_a_template_is_refused(make_tree: MakeTree) -> None:
    root = make_tree(
        {
            "c/Chart.yaml": "name: c\n",
            "c/templates/values.yaml": "image:\n  repository: ghcr.io/acme/app\n  tag: v0\n",
        }
    )
    with pytest.raises(errors.InputError, match="is a template of the Helm chart c"):
        _plan(
            root, "ghcr.io/acme/app:v1", helm=["c/templates/values.yaml:image.repository:image.tag"]
        )


# -- 6. two kustomization files in one folder ---------------------------------------------


@pytest.mark.parametrize("other", ["Kustomization", "kustomization.yml"])
def test_two_kustomization_files_in_one_folder_are_refused(make_tree: MakeTree, other: str) -> None:
    entry = "images:\n- name: ghcr.io/acme/app\n  newTag: v0\n"
    root = make_tree({"app/kustomization.yaml": entry, f"app/{other}": entry})
    with pytest.raises(errors.InputError) as caught:
        _plan(root, "ghcr.io/acme/app:v1")
    assert "app/kustomization.yaml" in str(caught.value)
    assert f"app/{other}" in str(caught.value)
    assert caught.value.exit_code == 2


def test_two_kustomization_files_in_a_followed_base_are_refused(make_tree: MakeTree) -> None:
    root = make_tree(
        {
            "base/kustomization.yaml": "resources: [d.yaml]\n",
            "base/Kustomization": "resources: [d.yaml]\n",
            "base/d.yaml": DEPLOYMENT,
            "prod/kustomization.yaml": "resources: [../base]\n",
        }
    )
    with pytest.raises(
        errors.InputError, match=re.escape("base/kustomization.yaml and base/Kustomization")
    ):
        _plan(root, "ghcr.io/acme/app:v1", paths=["prod"])


# -- 7. merge keys and literal dotted keys in Helm values ---------------------------------

MERGED_VALUES = """\
defaults: &app-image
  repository: ghcr.io/acme/app
  tag: v0
web:
  image:
    <<: *app-image
    pullPolicy: Always
"""


def test_a_merged_key_is_edited_in_the_anchor(make_tree: MakeTree) -> None:
    root = make_tree({"values.yaml": MERGED_VALUES})
    plan = _plan(
        root, "ghcr.io/acme/app:v1", helm=["values.yaml:web.image.repository:web.image.tag"]
    )
    assert _after(plan) == {"values.yaml": MERGED_VALUES.replace("tag: v0", "tag: v1")}
    (change,) = plan.changes
    assert (change.line, change.old, change.new) == (
        3,
        "ghcr.io/acme/app:v0",
        "ghcr.io/acme/app:v1",
    )


def test_a_key_merged_from_several_anchors_is_refused_naming_them(make_tree: MakeTree) -> None:
    text = "a: &a {repository: ghcr.io/acme/app, tag: v0}\nb: &b {tag: v9}\nweb:\n  <<: [*b, *a]\n"
    root = make_tree({"values.yaml": text})
    with pytest.raises(errors.InputError, match="merged in from several mappings") as caught:
        _plan(root, "ghcr.io/acme/app:v1", helm=["values.yaml:web.repository:web.tag"])
    assert "line 2" in str(caught.value) and "line 1" in str(caught.value)


def test_a_literal_dotted_key_is_named_as_such(make_tree: MakeTree) -> None:
    root = make_tree({"values.yaml": "image.repository: ghcr.io/acme/app\nimage.tag: v0\n"})
    with pytest.raises(
        errors.InputError, match=re.escape("literal key 'image.repository' at line 1")
    ):
        _plan(root, "ghcr.io/acme/app:v1", helm=["values.yaml:image.repository:image.tag"])


# -- 8. kustomize renames and pattern names -----------------------------------------------


def test_rename_sets_new_name_as_kustomize_edit_set_image_does(make_tree: MakeTree) -> None:
    root = make_tree(
        {"k/kustomization.yaml": "resources: [d.yaml]\nimages:\n- name: nginx\n  newTag: '1.25'\n"}
    )
    plan = _plan(root, "nginx=ghcr.io/acme/nginx:1.27", paths=["k/kustomization.yaml"])
    assert _after(plan) == {
        "k/kustomization.yaml": "resources: [d.yaml]\nimages:\n- name: nginx\n"
        "  newName: ghcr.io/acme/nginx\n  newTag: '1.27'\n"
    }
    (change,) = plan.changes
    assert (change.old, change.new) == ("nginx:1.25", "ghcr.io/acme/nginx:1.27")
    again = make_tree({"k/kustomization.yaml": _after(plan)["k/kustomization.yaml"]})
    assert not _plan(again, "nginx=ghcr.io/acme/nginx:1.27").changed  # a rerun is in place


def test_rename_of_a_workload_image_and_an_added_entry(make_tree: MakeTree) -> None:
    root = make_tree({"d.yaml": DEPLOYMENT.replace("ghcr.io/acme/app:v0", "nginx:1.25")})
    plan = _plan(root, "nginx=ghcr.io/acme/nginx:1.27")
    assert "image: ghcr.io/acme/nginx:1.27\n" in _after(plan)["d.yaml"]
    root = make_tree(
        {
            "base/d.yaml": DEPLOYMENT.replace("ghcr.io/acme/app:v0", "nginx:1.25"),
            "base/kustomization.yaml": "resources: [d.yaml]\n",
            "prod/kustomization.yaml": "resources: [../base]\n",
        }
    )
    plan = _plan(root, "nginx=ghcr.io/acme/nginx:1.27", paths=["prod"])
    assert _after(plan)["prod/kustomization.yaml"].endswith(
        "images:\n- name: nginx\n  newName: ghcr.io/acme/nginx\n  newTag: '1.27'\n".replace(
            "'", '"'
        )
    )
    (change,) = plan.changes
    assert change.old == "nginx:1.25"


def test_rename_refuses_a_version_on_the_old_name() -> None:
    with pytest.raises(errors.InputError, match="takes no tag or digest"):
        images.parse_update("nginx:1.25=ghcr.io/acme/nginx:1.27")


@pytest.mark.parametrize(
    "name", ["ghcr.io/acme/.*", "ghcr.io/acme/ap+", ".*/app", '"*"', '"*/app"', '"*pp"']
)
def test_pattern_entry_is_edited_and_previous_is_what_it_deploys(
    make_tree: MakeTree, name: str
) -> None:
    root = make_tree(
        {
            "app/d.yaml": DEPLOYMENT,
            "app/kustomization.yaml": f"resources: [d.yaml]\nimages:\n- name: {name}\n  newTag: v7\n",
        }
    )
    plan = _plan(root, "ghcr.io/acme/app:v8")
    assert _after(plan)["app/kustomization.yaml"].endswith("newTag: v8\n")
    # The base's v0 never ran: the entry's v7 did, and that is the previous image.
    kustomize_change = next(c for c in plan.changes if c.kind == "kustomize")
    assert kustomize_change.old == "ghcr.io/acme/app:v7"
    assert plan.changes[0] is kustomize_change  # deployed images come first (trailers)


def test_pattern_entry_that_does_not_match_is_left_alone(make_tree: MakeTree) -> None:
    root = make_tree(
        {
            "app/d.yaml": DEPLOYMENT,
            "app/kustomization.yaml": "resources: [d.yaml]\nimages:\n- name: quay.io/.*\n  newTag: v7\n"
            "- name: ghcr.io/acme/*\n  newTag: v7\n- name: '*acme*'\n  newTag: v7\n",
        }
    )
    assert _plan(root, "ghcr.io/acme/app:v8").files == ("app/d.yaml",)


# -- 9 (issue 9 §5). alias bombs, repeated keys, deep nesting --------------------------------


def _bomb(levels: int = 9) -> str:
    lines = ["a0: &a0 [ghcr.io/acme/app:v0]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return (
        "kind: Deployment\nmetadata: {name: web}\n"
        + "\n".join(lines)
        + "\nspec:\n  template:\n    spec:\n      containers:\n"
        "      - name: app\n        image: ghcr.io/acme/app:v0\n"
    )


def test_an_alias_bomb_is_refused_quickly_naming_file_and_line(make_tree: MakeTree) -> None:
    root = make_tree({"bomb.yaml": _bomb()})
    started = time.monotonic()
    with pytest.raises(errors.InputError, match="alias bomb") as caught:
        _plan(root, "ghcr.io/acme/app:v1")
    assert time.monotonic() - started < 1.0
    assert caught.value.exit_code == 2
    assert str(caught.value).startswith("bomb.yaml:")


def test_a_few_aliases_are_fine(make_tree: MakeTree) -> None:
    root = make_tree({"ok.yaml": _bomb(levels=3)})
    assert _plan(root, "ghcr.io/acme/app:v1").files == ("ok.yaml",)


def test_a_container_with_two_image_keys_cannot_be_edited_safely(make_tree: MakeTree) -> None:
    text = DEPLOYMENT + "        image: ghcr.io/acme/app:v9\n"
    root = make_tree({"d.yaml": text})
    with pytest.raises(errors.InputError, match="cannot edit safely: the key 'image' is repeated"):
        _plan(root, "ghcr.io/acme/app:v1")


def test_a_repeated_key_higher_up_the_edited_path_is_refused(make_tree: MakeTree) -> None:
    text = DEPLOYMENT.replace("metadata:\n  name: web\n", "spec: {}\nmetadata:\n  name: web\n")
    root = make_tree({"d.yaml": text})
    with pytest.raises(errors.InputError, match="'spec' is repeated at line") as caught:
        _plan(root, "ghcr.io/acme/app:v1")
    assert str(caught.value).startswith("d.yaml:")


def test_a_repeated_key_elsewhere_in_the_file_does_not_block(make_tree: MakeTree) -> None:
    text = DEPLOYMENT + "---\nkind: ConfigMap\ndata:\n  a: 1\n  a: 2\n"
    root = make_tree({"d.yaml": text})
    assert _plan(root, "ghcr.io/acme/app:v1").files == ("d.yaml",)


def test_deep_nesting_is_skipped_not_a_crash(make_tree: MakeTree) -> None:
    root = make_tree({"deep.yaml": "image: ghcr.io/acme/app:v0\nx: " + "[" * 50_000 + "]" * 50_000})
    with pytest.raises(errors.InputError, match="matches no image"):
        _plan(root, "ghcr.io/acme/app:v1")


def test_rename_in_a_flow_entry_and_in_helm_values(make_tree: MakeTree) -> None:
    root = make_tree(
        {
            "k/kustomization.yaml": "images: [{name: nginx, newTag: v1}]\n",
            "values.yaml": "image:\n  repository: nginx\n  tag: v1\n",
        }
    )
    plan = _plan(
        root, "nginx=ghcr.io/acme/nginx:v2", helm=["values.yaml:image.repository:image.tag"]
    )
    assert _after(plan) == {
        "k/kustomization.yaml": "images: [{name: nginx, newName: ghcr.io/acme/nginx, newTag: v2}]\n",
        "values.yaml": "image:\n  repository: ghcr.io/acme/nginx\n  tag: v2\n",
    }
    assert {(c.old, c.new) for c in plan.changes} == {("nginx:v1", "ghcr.io/acme/nginx:v2")}


def test_a_container_image_reached_through_a_merge_key_is_edited_at_the_anchor(
    make_tree: MakeTree,
) -> None:
    text = (
        "x-base: &base\n  image: ghcr.io/acme/app:v0\n  imagePullPolicy: Always\n"
        "kind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n"
        "      - <<: *base\n        name: app\n      - <<: *base\n        name: sidecar\n"
    )
    root = make_tree({"d.yaml": text})
    plan = _plan(root, "ghcr.io/acme/app:v1")
    assert _after(plan) == {"d.yaml": text.replace("app:v0", "app:v1")}
    assert [(c.line, c.target) for c in plan.changes] == [
        (2, "Deployment/web container app"),
        (2, "Deployment/web container sidecar"),
    ]


def test_an_alias_bomb_in_a_values_file_is_refused(make_tree: MakeTree) -> None:
    lines = ["a0: &a0 [x]"] + [
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)
    ]
    text = "image:\n  repository: ghcr.io/acme/app\n  tag: v0\n" + "\n".join(lines) + "\n"
    root = make_tree({"values.yaml": text})
    with pytest.raises(
        errors.InputError, match=r"^values.yaml:\d+: cannot edit safely: .*alias bomb"
    ):
        _plan(root, "ghcr.io/acme/app:v1", helm=["values.yaml:image.repository:image.tag"])


def test_nesting_deeper_than_the_bound_is_refused_naming_the_line(make_tree: MakeTree) -> None:
    deep = "".join(" " * i + f"k{i}:\n" for i in range(250)) + " " * 250 + "end: 1\n"
    text = DEPLOYMENT + "---\n" + deep
    root = make_tree({"d.yaml": text})
    with pytest.raises(
        errors.InputError,
        match=r"^d.yaml:\d+: cannot edit safely: line \d+ is nested more than 200",
    ):
        _plan(root, "ghcr.io/acme/app:v1")
