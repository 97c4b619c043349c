"""Image reference grammar.

Behaviours covered:
- valid references split into registry, path, tag and digest as written;
- Docker Hub normalisation: nginx, library/nginx, docker.io/library/nginx and
  index.docker.io/library/nginx are one repository; other registries are not;
- the first component is a registry only with '.', ':', 'localhost' or upper case;
- invalid references raise InputError naming the input and the broken part;
- digests are validated (sha256 is exactly 64 lower-case hex);
- updates keep the repository spelling; tag-only drops a digest; digest-only
  drops the tag; an update with neither is refused;
- property: every generated reference parses back to its parts and str() is the text;
- property: every Docker Hub spelling matches every other and keeps its spelling.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitops_guard import errors, images

SHA = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("text", "registry", "path", "tag", "digest", "repository"),
    [
        ("nginx", None, "nginx", None, None, "docker.io/library/nginx"),
        ("nginx:1.27", None, "nginx", "1.27", None, "docker.io/library/nginx"),
        ("library/nginx:1.27", None, "library/nginx", "1.27", None, "docker.io/library/nginx"),
        ("docker.io/library/nginx", "docker.io", "library/nginx", None, None, "docker.io/library/nginx"),  # noqa: E501
        ("index.docker.io/library/nginx", "index.docker.io", "library/nginx", None, None, "docker.io/library/nginx"),  # noqa: E501
        ("docker.io/nginx", "docker.io", "nginx", None, None, "docker.io/library/nginx"),
        ("bitnami/redis:7.2", None, "bitnami/redis", "7.2", None, "docker.io/bitnami/redis"),
        ("localhost/app", "localhost", "app", None, None, "localhost/app"),
        ("localhost:5000/x:y", "localhost:5000", "x", "y", None, "localhost:5000/x"),
        ("ghcr.io/acme/web:1.4.2", "ghcr.io", "acme/web", "1.4.2", None, "ghcr.io/acme/web"),
        (f"ghcr.io/acme/web@{SHA}", "ghcr.io", "acme/web", None, SHA, "ghcr.io/acme/web"),
        (f"ghcr.io/acme/web:1.0@{SHA}", "ghcr.io", "acme/web", "1.0", SHA, "ghcr.io/acme/web"),
        ("GHCR.IO/acme/web", "GHCR.IO", "acme/web", None, None, "ghcr.io/acme/web"),
        ("registry.example.com:5000/team/api:1.0.0-rc.1", "registry.example.com:5000", "team/api", "1.0.0-rc.1", None, "registry.example.com:5000/team/api"),  # noqa: E501
        ("a.b/c__d/e-f/g.h_i:T_1", "a.b", "c__d/e-f/g.h_i", "T_1", None, "a.b/c__d/e-f/g.h_i"),
        ("[::1]:5000/app", "[::1]:5000", "app", None, None, "[::1]:5000/app"),
        ("  nginx:1  ", None, "nginx", "1", None, "docker.io/library/nginx"),
    ],
)  # fmt: skip
def test_parse_valid(
    text: str,
    registry: str | None,
    path: str,
    tag: str | None,
    digest: str | None,
    repository: str,
) -> None:
    ref = images.parse(text)
    assert (ref.registry, ref.path, ref.tag, ref.digest) == (registry, path, tag, digest)
    assert ref.repository == repository
    assert ref.text == text.strip()
    assert str(ref) == text.strip()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("nginx 1", "blanks"),
        ("NGINX", "lower-case"),
        ("acme/Web", "lower-case"),
        ("nginx:", "tag"),
        ("nginx:-x", "tag"),
        ("nginx:" + "x" * 129, "tag"),
        (":1.0", "missing"),
        ("x//y", "path component"),
        ("x/-y", "path component"),
        ("nginx@sha256:abc", "digest"),
        ("nginx@sha256:" + "A" * 64, "lower-case hex"),
        ("nginx@sha256:" + "a" * 63, "64"),
        ("nginx@" + "a" * 64, "digest"),
        ("bad_host.io:x/app", "registry"),
        ("a" * 256, "longer"),
    ],
)
def test_parse_invalid_names_the_input(text: str, fragment: str) -> None:
    with pytest.raises(errors.InputError) as info:
        images.parse(text, source="--image")
    assert info.value.source == "--image"
    assert fragment in info.value.message
    assert info.value.hint == images.BAD_REFERENCE_HINT
    assert not images.is_reference(text)


def test_parse_error_names_a_custom_source() -> None:
    with pytest.raises(errors.InputError) as info:
        images.parse("Bad Ref", source="deploy.yaml:12")
    assert info.value.source == "deploy.yaml:12"
    assert "'Bad Ref'" in str(info.value)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("nginx", "library/nginx:1", True),
        ("nginx", "docker.io/library/nginx", True),
        ("nginx", "index.docker.io/library/nginx@" + SHA, True),
        ("nginx", "registry-1.docker.io/library/nginx", True),
        ("nginx", "ghcr.io/nginx", False),
        ("nginx", "acme/nginx", False),
        ("ghcr.io/acme/web", "GHCR.io/acme/web:2", True),
        ("localhost:5000/x", "localhost/x", False),
        ("localhost:5000/x", "localhost:5001/x", False),
    ],
)
def test_same_repository(a: str, b: str, same: bool) -> None:
    assert images.parse(a).same_repository(images.parse(b)) is same
    assert images.parse(b).same_repository(images.parse(a)) is same


@pytest.mark.parametrize(
    ("existing", "update", "expected"),
    [
        ("nginx:1.25", "docker.io/library/nginx:1.27", "nginx:1.25".replace("1.25", "1.27")),
        ("docker.io/library/nginx:1.25", "nginx:1.27", "docker.io/library/nginx:1.27"),
        (f"nginx:1.25@{SHA}", "nginx:1.27", "nginx:1.27"),
        ("nginx:1.25", f"nginx@{SHA}", f"nginx@{SHA}"),
        ("nginx", f"nginx:1.27@{SHA}", f"nginx:1.27@{SHA}"),
        ("index.docker.io/library/nginx", "nginx:2", "index.docker.io/library/nginx:2"),
    ],
)
def test_updated_keeps_spelling(existing: str, update: str, expected: str) -> None:
    new = images.updated(images.parse(existing), images.parse(update))
    assert new.text == expected
    assert str(new) == expected


def test_update_without_version_is_refused() -> None:
    with pytest.raises(errors.InputError) as info:
        images.updated(images.parse("nginx:1"), images.parse("nginx"))
    assert "no tag and no digest" in info.value.message


def test_canonical_is_fully_qualified() -> None:
    assert images.parse("nginx:1.27").canonical == "docker.io/library/nginx:1.27"
    assert images.parse(f"acme/web@{SHA}").canonical == f"docker.io/acme/web@{SHA}"


def test_refs_are_frozen_and_hashable() -> None:
    ref = images.parse("nginx:1")
    assert ref == images.parse("nginx:1")
    assert len({ref, images.parse("nginx:1")}) == 1
    with pytest.raises(AttributeError):
        ref.tag = "2"  # type: ignore[misc]


_alnum = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=6)
_component = st.builds(
    lambda parts, seps: parts[0] + "".join(s + p for s, p in zip(seps, parts[1:], strict=False)),
    st.lists(_alnum, min_size=1, max_size=3),
    st.lists(st.sampled_from([".", "_", "__", "-", "--"]), min_size=2, max_size=2),
)
_registry = st.one_of(
    st.none(),
    st.sampled_from(["ghcr.io", "localhost", "localhost:5000", "docker.io", "r.example.com:443"]),
)
_tag = st.one_of(
    st.none(),
    st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True),
)
_digest = st.one_of(st.none(), st.from_regex(r"sha256:[0-9a-f]{64}", fullmatch=True))


@given(
    registry=_registry,
    path=st.lists(_component, min_size=1, max_size=3).map("/".join),
    tag=_tag,
    digest=_digest,
)
def test_generated_references_round_trip(
    registry: str | None, path: str, tag: str | None, digest: str | None
) -> None:
    if registry is None and "/" in path:
        # A first component with '.' would be a registry; keep this path on Docker Hub.
        path = f"acme/{path}"
    text = (f"{registry}/" if registry else "") + path
    text += (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
    ref = images.parse(text)
    assert (ref.registry, ref.path, ref.tag, ref.digest) == (registry, path, tag, digest)
    assert str(ref) == text
    assert ref.same_repository(images.parse(ref.canonical))


_hub_spelling = st.sampled_from(
    ["{p}", "library/{p}", "docker.io/{p}", "docker.io/library/{p}", "index.docker.io/library/{p}"]
)


@given(
    existing=_hub_spelling,
    wanted=_hub_spelling,
    name=_alnum,
    old_tag=_tag,
    new_tag=_tag,
    digest=_digest,
)
def test_docker_hub_spellings_match_and_keep_their_spelling(
    existing: str,
    wanted: str,
    name: str,
    old_tag: str | None,
    new_tag: str | None,
    digest: str | None,
) -> None:
    old = images.parse(existing.format(p=name) + (f":{old_tag}" if old_tag else ""))
    update = images.parse(
        wanted.format(p=name)
        + (f":{new_tag}" if new_tag else "")
        + (f"@{digest}" if digest else "")
    )
    assert old.same_repository(update)
    if not new_tag and not digest:
        return
    new = images.updated(old, update)
    assert new.name == old.name == existing.format(p=name)
    assert (new.tag, new.digest) == (new_tag, digest)
