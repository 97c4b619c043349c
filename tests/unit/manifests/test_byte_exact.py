"""Property tests: an update changes the target value's bytes and nothing else.

Behaviours covered (hypothesis draws every combination):
- surrounding content: comments (ASCII, quotes, '#', ':', non-ASCII text and
  text that looks like the image), blank lines, extra documents before and
  after, '---' and '...' markers, a byte-order mark, with or without a final
  line break;
- line endings LF or CRLF; indentation 2 or 4; block or flow containers;
- the value plain, single- or double-quoted, with or without an anchor that a
  second container uses through an alias (edited once, at the anchor);
- non-ASCII and astral-plane characters before the value shift no offset;
- decoys — an annotation, an env value, a ConfigMap entry and comments holding
  the same image — never change;
- Helm values: the tag key, nested at random depth, in any quoting style;
- kustomization images entries in block or flow style, a tag-only update
  removing the digest.
For each draw the new file must equal the old template with only the value
token replaced.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops_guard import images, manifests

PLACEHOLDER = "\x00VALUE\x00"
_COMMENT_ALPHABET = st.sampled_from(
    [*list("abcxyz019 :#'\"-{}[],&*!|>%@`"), "é", "ü", "日本", "🚀", "image: ghcr.io/acme/app:0.1"]
)
_comment = st.lists(_COMMENT_ALPHABET, max_size=12).map(lambda parts: "#" + "".join(parts))
_tag = st.from_regex(r"v[0-9]{1,2}(\.[0-9]{1,2}){0,2}(-rc\.[0-9])?", fullmatch=True)
_styles = st.sampled_from(["plain", "single", "double"])

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _token(value: str, style: str) -> str:
    return {"plain": value, "single": f"'{value}'", "double": f'"{value}"'}[style]


def _plan_one(files: dict[str, str], image: str, helm: tuple[str, ...] = ()) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
        plan = manifests.plan(root, [images.parse(image)], helm=helm)
        manifests.apply(root, plan)
        return {rel: (root / rel).read_bytes() for rel in files}


@st.composite
def workload_file(draw: st.DrawFn) -> tuple[str, str, str]:
    """A template with the target image token replaced by PLACEHOLDER, plus style and EOL."""
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    ind = " " * draw(st.sampled_from([2, 4]))
    style = draw(_styles)
    anchor = draw(st.booleans())
    flow = draw(st.booleans())
    c = [draw(_comment) for _ in range(6)]
    old_ref = "ghcr.io/acme/app:0.1"
    lines = []
    if draw(st.booleans()):
        lines.append("\ufeff" + c[0] if draw(st.booleans()) else c[0])
    if draw(st.booleans()):
        lines += [
            "---",
            "kind: ConfigMap",
            "metadata: {name: cfg}",
            "data:",
            f"{ind}IMAGE: {old_ref}",
        ]
        lines.append("---" + (" " + c[1] if draw(st.booleans()) else ""))
    elif draw(st.booleans()):
        lines.append("---")
    lines += [
        "apiVersion: apps/v1",
        f"kind: Deployment  {c[2]}",
        "metadata:",
        f"{ind}name: web",
        f"{ind}annotations:",
        f'{ind}{ind}acme.io/image: "{old_ref}"',
        "spec:",
        f"{ind}template:",
        f"{ind * 2}spec:",
        f"{ind * 3}containers:",
    ]
    value = ("&img " if anchor else "") + PLACEHOLDER
    if flow:
        lines.append(f"{ind * 3}- {{name: app, image: {value}, args: [--x]}}  {c[3]}")
    else:
        lines += [
            f"{ind * 3}- name: app {c[3]}",
            f"{ind * 3}  image: {value}",
            f"{ind * 3}  env:",
            f"{ind * 3}  - {{name: IMAGE, value: '{old_ref}'}}",
        ]
    if draw(st.booleans()):
        lines.append("")
    lines.append(f"{ind * 3}# {old_ref} {c[4]}")
    if anchor:
        lines += [f"{ind * 3}- name: sidecar", f"{ind * 3}  image: *img"]
    if draw(st.booleans()):
        lines += ["---", "kind: Service", "metadata:", f"{ind}name: web  {c[5]}"]
    if draw(st.booleans()):
        lines.append("...")
    text = nl.join(lines) + (nl if draw(st.booleans()) else "")
    return text, style, old_ref


@SETTINGS
@given(case=workload_file(), new_tag=_tag)
def test_workload_value_is_the_only_change(case: tuple[str, str, str], new_tag: str) -> None:
    template, style, old_ref = case
    new_ref = f"ghcr.io/acme/app:{new_tag}"
    before = template.replace(PLACEHOLDER, _token(old_ref, style))
    expected = template.replace(PLACEHOLDER, _token(new_ref, style))
    after = _plan_one({"app/deploy.yaml": before}, new_ref)
    assert after["app/deploy.yaml"] == expected.encode("utf-8")


@st.composite
def helm_values(draw: st.DrawFn) -> tuple[str, str, str]:
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    depth = draw(st.integers(min_value=0, max_value=3))
    keys = [f"k{i}" for i in range(depth)] + ["image"]
    lines = [draw(_comment), "replicaCount: 1"]
    for level, key in enumerate(keys):
        lines.append("  " * level + f"{key}:  {draw(_comment)}")
    pad = "  " * len(keys)
    tag_style = draw(_styles)
    lines += [
        f"{pad}repository: ghcr.io/acme/app",
        f"{pad}tag: {PLACEHOLDER}  {draw(_comment)}",
        f"{pad}pullPolicy: IfNotPresent",
        "podAnnotations: {image: ghcr.io/acme/app}",
    ]
    spec = "values.yaml:" + ".".join([*keys, "repository"]) + ":" + ".".join([*keys, "tag"])
    return nl.join(lines) + nl, tag_style, spec


@SETTINGS
@given(case=helm_values(), new_tag=_tag)
def test_helm_tag_is_the_only_change(case: tuple[str, str, str], new_tag: str) -> None:
    template, style, spec = case
    before = template.replace(PLACEHOLDER, _token("v0.1", style))
    expected = template.replace(PLACEHOLDER, _token(new_tag, style))
    after = _plan_one({"values.yaml": before}, f"ghcr.io/acme/app:{new_tag}", helm=(spec,))
    assert after["values.yaml"] == expected.encode("utf-8")


@st.composite
def kustomization(draw: st.DrawFn) -> tuple[str, str]:
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    style = draw(_styles)
    flow = draw(st.booleans())
    digest = "sha256:" + "c" * 64
    lines = [draw(_comment), "resources:", "- deploy.yaml", "images:"]
    if flow:
        lines.append(f"- {{name: ghcr.io/acme/app, newTag: {PLACEHOLDER}, digest: {digest}}}")
    else:
        lines += [
            f"- name: ghcr.io/acme/app  {draw(_comment)}",
            f"  newTag: {PLACEHOLDER}",
            f"  digest: {digest}  {draw(_comment)}",
        ]
    lines.append(f"- name: other/app{nl}  newTag: v1")
    return nl.join(lines) + nl, style


@SETTINGS
@given(case=kustomization(), new_tag=_tag)
def test_kustomize_entry_tag_set_and_digest_removed(case: tuple[str, str], new_tag: str) -> None:
    template, style = case
    before = template.replace(PLACEHOLDER, _token("v0.1", style))
    expected = template.replace(PLACEHOLDER, _token(new_tag, style))
    digest = "sha256:" + "c" * 64
    expected = expected.replace(f", digest: {digest}", "")  # flow style
    nl = "\r\n" if "\r\n" in template else "\n"
    kept = [line for line in expected.split(nl) if not line.startswith(f"  digest: {digest}")]
    expected = nl.join(kept)  # block style: the whole digest line goes
    after = _plan_one({"kustomization.yaml": before}, f"ghcr.io/acme/app:{new_tag}")
    assert after["kustomization.yaml"] == expected.encode("utf-8")
