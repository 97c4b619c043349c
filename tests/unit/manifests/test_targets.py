"""What is an image target, and how each kind of target is edited.

Behaviours covered:
- workloads: containers, initContainers, ephemeralContainers of Pod, PodTemplate,
  any kind with spec.template or spec.jobTemplate, List items; never an
  annotation, env value, arg, label, comment, or a document without ``kind``;
  non-string and templated image values are ignored;
- scalar rendering: plain stays plain unless the new text would read as a number,
  quotes are kept, an empty value gets one, a literal block scalar keeps its
  header, a multi-line block scalar is refused with file:line;
- a byte-order mark is kept;
- kustomize: entries matched by newName, tag and digest added in block and flow
  style, digest-only removes newTag, a digest that is the first key of its item
  is removed cleanly, ``images: []`` gets an item, the three kustomization file
  names, remote resources ignored, an entry that is already in place is a no-op;
- Helm specs: full-reference key, repository + tag, + digest key, list indexes,
  empty tag values, and every bad spec as InputError naming the spec or file.
"""

# ruff: noqa: E501  (table rows read best on one line)
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gitops_guard import errors, images, manifests
from gitops_guard.manifests import yamledit

SHA_A = "sha256:" + "a" * 64
SHA_B = "sha256:" + "b" * 64
MakeTree = Callable[[dict[str, str | bytes]], Path]


def _after(root: Path, image: str, **kwargs: object) -> dict[str, str]:
    plan = manifests.plan(root, [images.parse(image)], **kwargs)  # type: ignore[arg-type]
    return {edit.path: edit.after.decode("utf-8") for edit in plan.edits}


DECOYS = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: decoy
  annotations:
    image: acme/app:1
data:
  image: acme/app:1
---
# image: acme/app:1
spec:
  template:
    spec:
      containers:
      - image: acme/app:1
---
kind: Deployment
metadata:
  labels: {image: "acme/app:1"}
spec:
  template:
    spec:
      containers:
      - name: c
        image: acme/app:1
        args: [--image, acme/app:1]
        env: [{name: IMAGE, value: acme/app:1}]
"""


def test_only_container_images_change(make_tree: MakeTree) -> None:
    root = make_tree({"all.yaml": DECOYS})
    after = _after(root, "acme/app:2")
    assert after == {
        "all.yaml": DECOYS.replace(
            "image: acme/app:1\n        args", "image: acme/app:2\n        args"
        )
    }


@pytest.mark.parametrize(
    ("doc", "target"),
    [
        ("kind: Pod\nmetadata: {name: p}\nspec:\n  initContainers:\n  - {name: i, image: acme/app:1}\n", "Pod/p initContainer i"),
        ("kind: Pod\nmetadata: {name: p}\nspec:\n  ephemeralContainers:\n  - {name: e, image: acme/app:1}\n", "Pod/p ephemeralContainer e"),
        ("kind: PodTemplate\nmetadata: {name: t}\ntemplate:\n  spec:\n    containers:\n    - {name: c, image: acme/app:1}\n", "PodTemplate/t container c"),
        ("kind: StatefulSet\nmetadata: {name: s}\nspec:\n  template:\n    spec:\n      containers:\n      - {name: c, image: acme/app:1}\n", "StatefulSet/s container c"),
        ("kind: Job\nmetadata: {name: j}\nspec:\n  template:\n    spec:\n      containers:\n      - {image: acme/app:1}\n", "Job/j container #0"),
        ("kind: CronJob\nmetadata: {name: cj}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          initContainers:\n          - {name: i, image: acme/app:1}\n", "CronJob/cj initContainer i"),
        ("kind: Rollout\nmetadata: {name: r}\nspec:\n  template:\n    spec:\n      containers:\n      - {name: c, image: acme/app:1}\n", "Rollout/r container c"),
        ("kind: SomeOperatorThing\nspec:\n  template:\n    spec:\n      containers:\n      - {name: c, image: acme/app:1}\n", "SomeOperatorThing container c"),
        ("kind: DeploymentList\nitems:\n- kind: Deployment\n  metadata: {name: d}\n  spec:\n    template:\n      spec:\n        containers:\n        - {name: c, image: acme/app:1}\n", "Deployment/d container c"),
    ],
)  # fmt: skip
def test_workload_kinds(make_tree: MakeTree, doc: str, target: str) -> None:
    root = make_tree({"w.yaml": doc})
    plan = manifests.plan(root, [images.parse("acme/app:2")])
    assert [(c.target, c.old, c.new) for c in plan.changes] == [
        (target, "acme/app:1", "acme/app:2")
    ]
    assert plan.edits[0].after.decode() == doc.replace("acme/app:1", "acme/app:2")


def test_non_string_and_templated_images_are_ignored(make_tree: MakeTree) -> None:
    doc = (
        "kind: Pod\nspec:\n  containers:\n  - {name: a, image: 12}\n"
        '  - {name: b, image: "{{ .Values.app }}"}\n  - {name: c, image: [app]}\n'
        "  - {name: d, image: acme/app:1}\n"
    )
    root = make_tree({"p.yaml": doc})
    plan = manifests.plan(root, [images.parse("acme/app:2")])
    assert [c.target for c in plan.changes] == ["Pod container d"]


@pytest.mark.parametrize(
    ("value", "style", "rendered"),
    [
        ("v1.2", None, "v1.2"),
        ("1.10", None, '"1.10"'),
        ("20240101", None, '"20240101"'),
        ("true", None, '"true"'),
        ("", None, '""'),
        ("1.10", "'", "'1.10'"),
        ("it's", "'", "'it''s'"),
        ('say "hi"', '"', '"say \\"hi\\""'),
        ("acme/app:1@" + SHA_A, None, "acme/app:1@" + SHA_A),
    ],
)
def test_render_scalar(value: str, style: str | None, rendered: str) -> None:
    assert yamledit.render_scalar(value, style) == rendered


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("image: acme/app:1\n", "image: acme/app:2\n"),
        ("image: 'acme/app:1'\n", "image: 'acme/app:2'\n"),
        ('image: "acme/app:1"\n', 'image: "acme/app:2"\n'),
        ("image: !!str acme/app:1\n", "image: !!str acme/app:2\n"),
        ("image: &a !!str 'acme/app:1'\n", "image: &a !!str 'acme/app:2'\n"),
        ("image: |\n  acme/app:1\n", "image: |\n  acme/app:2\n"),
        ("image: >-\n    acme/app:1\n\n", "image: >-\n    acme/app:2\n\n"),
        ("image:\n  acme/app:1\n", "image:\n  acme/app:2\n"),
        ("image: acme/app:1", "image: acme/app:2"),
    ],
)
def test_scalar_styles_are_kept(make_tree: MakeTree, before: str, after: str) -> None:
    head = "kind: Pod\nspec:\n  containers:\n  - name: c\n    "
    body_before = head + before.replace("\n", "\n    ").rstrip(" ")
    body_after = head + after.replace("\n", "\n    ").rstrip(" ")
    root = make_tree({"p.yaml": body_before})
    assert _after(root, "acme/app:2") == {"p.yaml": body_after}


def test_quoted_scalar_over_two_lines_is_rewritten_whole(make_tree: MakeTree) -> None:
    doc = 'kind: Pod\nspec:\n  containers:\n  - name: c\n    image: "acme/app:1\n      "\n'
    root = make_tree({"q.yaml": doc})
    plan = manifests.plan(root, [images.parse("acme/app:2")])
    assert plan.edits[0].after.decode().endswith('image: "acme/app:2"\n')


def test_block_scalar_keeps_its_chomping(make_tree: MakeTree) -> None:
    doc = "kind: Pod\nspec:\n  containers:\n  - name: c\n    image: |+\n      acme/app:1\n\n"
    root = make_tree({"p.yaml": doc})
    plan = manifests.plan(root, [images.parse("acme/app:2")])
    assert plan.edits[0].after.decode() == doc.replace("app:1", "app:2")


def test_verification_catches_a_repeated_key() -> None:
    text = "images:\n- name: nginx\n  newTag: v1\n"
    docs = yamledit.compose(text)
    editor = yamledit.Editor(text, docs, source="k.yaml")
    entry = docs[0].value[0][1].value[0]  # type: ignore[union-attr]
    editor.add_pair(0, ("images", 0), entry, "newTag", "v2")  # a second newTag key
    with pytest.raises(yamledit.UnsafeEdit, match="intended change"):
        editor.render()


def test_byte_order_mark_and_crlf_are_kept(make_tree: MakeTree) -> None:
    doc = "\ufeffkind: Pod\r\nspec:\r\n  containers:\r\n  - {name: c, image: acme/app:1}\r\n"
    root = make_tree({"p.yaml": doc})
    plan = manifests.plan(root, [images.parse("acme/app:2")])
    assert plan.edits[0].after == doc.replace("app:1", "app:2").encode("utf-8")
    assert plan.edits[0].after.startswith(b"\xef\xbb\xbf")


# -- kustomize --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "image", "after"),
    [
        ("images:\n- name: nginx\n", "nginx:1.27", 'images:\n- name: nginx\n  newTag: "1.27"\n'),
        ("images:\n- name: nginx\n  newTag: '1.25'\n", "nginx:1.27", "images:\n- name: nginx\n  newTag: '1.27'\n"),
        ("images:\n- name: nginx\n  newTag: 1.25\n", "nginx:1.10", 'images:\n- name: nginx\n  newTag: "1.10"\n'),
        ("images:\n- name: nginx\n  newTag: v1\n", f"nginx:v2@{SHA_A}", f"images:\n- name: nginx\n  newTag: v2\n  digest: {SHA_A}\n"),
        ("images:\n- name: nginx\n  newTag: v1\n  newName: acme/nginx\n", f"acme/nginx@{SHA_A}", f"images:\n- name: nginx\n  newName: acme/nginx\n  digest: {SHA_A}\n"),
        (f"images:\n- digest: {SHA_A}\n  name: nginx\n", "nginx:v2", "images:\n- name: nginx\n  newTag: v2\n"),
        (f"images:\n- {{name: nginx, digest: {SHA_A}}}\n", "nginx:v2", "images:\n- {name: nginx, newTag: v2}\n"),
        (f"images:\n- {{digest: {SHA_A}, name: nginx}}\n", f"nginx@{SHA_B}", f"images:\n- {{digest: {SHA_B}, name: nginx}}\n"),
        ("images: [{name: nginx, newTag: v1}]  # pinned\n", "nginx:v2", "images: [{name: nginx, newTag: v2}]  # pinned\n"),
        ("images:\r\n  - name: docker.io/library/nginx   # hub\r\n    newTag: v1\r\n", "nginx:v2", "images:\r\n  - name: docker.io/library/nginx   # hub\r\n    newTag: v2\r\n"),
    ],
)  # fmt: skip
def test_kustomize_entries(make_tree: MakeTree, before: str, image: str, after: str) -> None:
    root = make_tree({"app/kustomization.yaml": before})
    assert _after(root, image) == {"app/kustomization.yaml": after}


@pytest.mark.parametrize("name", ["kustomization.yaml", "kustomization.yml", "Kustomization"])
def test_kustomization_file_names(make_tree: MakeTree, name: str) -> None:
    root = make_tree({f"k/{name}": "images:\n- name: nginx\n  newTag: v1\n"})
    assert _after(root, "nginx:v2") == {f"k/{name}": "images:\n- name: nginx\n  newTag: v2\n"}


def test_kustomize_entry_added_to_existing_list_and_empty_flow_list(make_tree: MakeTree) -> None:
    base = "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - {name: c, image: nginx:1.0}\n"
    root = make_tree(
        {
            "base/kustomization.yaml": "resources: [deploy.yaml]\n",
            "base/deploy.yaml": base,
            "a/kustomization.yaml": "resources:\n- ../base\n- https://github.com/acme/x//y\nimages:\n  - name: redis\n    newTag: '7'\n",
            "b/kustomization.yaml": "resources: [../base]\nimages: []\n",
            "c/kustomization.yaml": "resources: [../a/../base]\n",
            "d/kustomization.yaml": "images:   # none yet\nresources: [../base]\n",
        }
    )  # fmt: skip
    after = _after(root, "nginx:1.27.1", paths=["a", "b", "c", "d"])
    assert after == {
        "a/kustomization.yaml": "resources:\n- ../base\n- https://github.com/acme/x//y\nimages:\n  - name: redis\n    newTag: '7'\n  - name: nginx\n    newTag: 1.27.1\n",
        "b/kustomization.yaml": "resources: [../base]\nimages: [{name: nginx, newTag: 1.27.1}]\n",
        "c/kustomization.yaml": "resources: [../a/../base]\nimages:\n- name: nginx\n  newTag: 1.27.1\n",
        "d/kustomization.yaml": "images:   # none yet\n- name: nginx\n  newTag: 1.27.1\nresources: [../base]\n",
    }  # fmt: skip


def test_kustomization_named_in_paths_gets_an_entry_on_request(make_tree: MakeTree) -> None:
    kustomization = "resources:\n- https://github.com/acme/base//web?ref=v1\n"
    root = make_tree(
        {"web/kustomization.yaml": kustomization, "other/kustomization.yaml": kustomization}
    )
    with pytest.raises(errors.InputError, match="matches no image"):
        manifests.plan(root, [images.parse("ghcr.io/acme/web:2")], paths=["web", "other"])
    plan = manifests.plan(
        root, [images.parse("ghcr.io/acme/web:2")], paths=["web/kustomization.yaml"]
    )
    assert {e.path: e.after.decode() for e in plan.edits} == {
        "web/kustomization.yaml": kustomization
        + "images:\n- name: ghcr.io/acme/web\n  newTag: '2'\n".replace("'", '"')
    }
    assert [(c.old, c.new) for c in plan.changes] == [("ghcr.io/acme/web", "ghcr.io/acme/web:2")]


def test_kustomize_entry_in_place_is_no_op(make_tree: MakeTree) -> None:
    root = make_tree({"kustomization.yaml": "images:\n- name: nginx\n  newTag: 1.25\n"})
    plan = manifests.plan(root, [images.parse("docker.io/library/nginx:1.25")])
    assert not plan.changed
    assert plan.changes == ()


# -- Helm ---------------------------------------------------------------------------

VALUES = """\
# chart values
image:
  repository: ghcr.io/acme/app   # the app
  tag: "1.0"
  digest: ""
sidecars:
  - image: ghcr.io/acme/sidecar:0.1
full: ghcr.io/acme/full:1
empty:
  repository: acme/empty
  tag:
"""


@pytest.mark.parametrize(
    ("spec", "image", "old", "new"),
    [
        ("values.yaml:image.repository:image.tag", "ghcr.io/acme/app:1.1", '  tag: "1.0"', '  tag: "1.1"'),
        ("values.yaml:image.repository:image.tag:image.digest", f"ghcr.io/acme/app:1.1@{SHA_A}", '  tag: "1.0"\n  digest: ""', f'  tag: "1.1"\n  digest: "{SHA_A}"'),
        # digest only: the tag stays (charts that read a digest prefer it)
        ("values.yaml:image.repository:image.tag:image.digest", f"ghcr.io/acme/app:1.0@{SHA_A}", '  digest: ""', f'  digest: "{SHA_A}"'),
        ("values.yaml:full", "ghcr.io/acme/full:2", "full: ghcr.io/acme/full:1", "full: ghcr.io/acme/full:2"),
        ("values.yaml:sidecars.0.image", "ghcr.io/acme/sidecar:0.2", "sidecar:0.1", "sidecar:0.2"),
        ("values.yaml:empty.repository:empty.tag", "acme/empty:v3", "  tag:\n", "  tag: v3\n"),
    ],
)  # fmt: skip
def test_helm_specs(make_tree: MakeTree, spec: str, image: str, old: str, new: str) -> None:
    root = make_tree({"values.yaml": VALUES})
    update = images.parse(image.replace(":1.0@", "@"))
    plan = manifests.plan(root, [update], helm=[spec])
    assert plan.edits[0].after.decode() == VALUES.replace(old, new)
    assert plan.changes[0].kind == "helm"
    assert plan.changes[0].new == image


def test_helm_tag_only_update_empties_the_digest(make_tree: MakeTree) -> None:
    values = f"image:\n  repository: acme/app\n  tag: v1\n  digest: '{SHA_A}'\n"
    root = make_tree({"values.yaml": values})
    plan = manifests.plan(
        root,
        [images.parse("acme/app:v2")],
        helm=["values.yaml:image.repository:image.tag:image.digest"],
    )
    assert (
        plan.edits[0].after.decode() == "image:\n  repository: acme/app\n  tag: v2\n  digest: ''\n"
    )
    assert (plan.changes[0].old, plan.changes[0].new) == (f"acme/app:v1@{SHA_A}", "acme/app:v2")


@pytest.mark.parametrize(
    ("spec", "image", "fragment", "source"),
    [
        ("values.yaml", "acme/app:1", "not a Helm values spec", "--helm"),
        ("values.yaml:a..b", "acme/app:1", "empty key path part", "--helm"),
        ("values.yaml:image.nope:image.tag", "acme/app:1", "has no key image.nope", "values.yaml"),
        ("values.yaml:image:image.tag", "acme/app:1", "is not a single value", "values.yaml:3"),
        ("values.yaml:image.digest", "acme/app:1", "is not an image reference", "values.yaml:5"),
        ("values.yaml:full:image.tag", "ghcr.io/acme/full:2", "holds a full reference", "values.yaml:8"),
        ("values.yaml:image.repository:image.tag", f"ghcr.io/acme/app@{SHA_A}", "names no digest key", "--helm"),
        ("missing.yaml:image", "acme/app:1", "does not exist", "--helm"),
        ("../values.yaml:image", "acme/app:1", "inside the repository", "--helm"),
        ("templates/deploy.yaml:image", "acme/app:1", "cannot be read as YAML", "templates/deploy.yaml"),
    ],
)  # fmt: skip
def test_bad_helm_specs(
    make_tree: MakeTree, spec: str, image: str, fragment: str, source: str
) -> None:
    root = make_tree(
        {
            "values.yaml": VALUES,
            "templates/deploy.yaml": "a:\n  b: {{ .Values.b }}\n{{- if .Values.c }}\n",
        }
    )
    with pytest.raises(errors.InputError) as info:
        manifests.plan(root, [images.parse(image)], helm=[spec])
    assert fragment in info.value.message
    assert info.value.source == source
