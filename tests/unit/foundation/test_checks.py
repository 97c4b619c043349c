"""The one set of argument checks (``cli.checks``), by tables.

Covers: URLs (scheme, host, spaces, ports, brackets, a bare host with a default
scheme, the trailing slash); files to write (not a directory, an existing parent);
CA bundles (a PEM certificate, not any file); durations in the one grammar, zero
only when allowed, bounds; whole numbers; branch names by git's rules;
repositories to clone; every check names its source; argparse types raise
ArgumentTypeError with the message.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from gitops_guard import errors
from gitops_guard.cli import checks


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://prometheus:9090", "http://prometheus:9090"),
        ("https://argocd.example.com/", "https://argocd.example.com"),
        ("https://host/prefix/", "https://host/prefix"),
        ("http://[::1]:9090", "http://[::1]:9090"),
        ("  http://h  ", "http://h"),
    ],
)
def test_good_urls(text: str, expected: str) -> None:
    assert checks.check_url(text, "--x") == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("ftp://h", "unsupported scheme: ftp://"),
        ("h:9090", "unsupported scheme"),
        ("http://", "no host"),
        ("http://a b", "space"),
        ("http://h\tx", "space"),
        ("http://h:99999", "out of range"),
        ("http://h:0", "out of range"),
        ("http://[::1", "not a URL"),
        ("http://h:port", "not a URL"),
    ],
)
def test_bad_urls_name_the_source(text: str, words: str) -> None:
    with pytest.raises(errors.InputError) as caught:
        checks.check_url(text, "--prometheus-url")
    assert words in caught.value.message
    assert caught.value.source == "--prometheus-url"
    assert caught.value.exit_code == errors.EXIT_INPUT


def test_a_bare_host_gets_the_default_scheme() -> None:
    assert checks.check_url("argocd:443", "--s", default_scheme="https") == "https://argocd:443"
    with pytest.raises(errors.InputError):
        checks.check_url("argocd:443", "--s")


def test_report_paths(tmp_path: Path) -> None:
    assert checks.check_report_path(str(tmp_path / "r.json"), "--report") == tmp_path / "r.json"
    for bad in (str(tmp_path), str(tmp_path / "missing" / "r.json"), ""):
        with pytest.raises(errors.InputError) as caught:
            checks.check_report_path(bad, "--report")
        assert caught.value.source == "--report"


def test_ca_bundle_must_hold_a_certificate(tmp_path: Path) -> None:
    text = tmp_path / "ca.pem"
    text.write_text("not a certificate\n")
    for bad in (str(text), str(tmp_path), str(tmp_path / "missing.pem")):
        with pytest.raises(errors.InputError) as caught:
            checks.check_ca_bundle(bad, "--ca-bundle")
        assert caught.value.source == "--ca-bundle"


@pytest.mark.parametrize(
    ("text", "kwargs", "seconds"),
    [
        ("30s", {}, 30.0),
        ("1h30m", {}, 5400.0),
        ("500ms", {}, 0.5),
        ("90", {}, 90.0),
        ("0", {"allow_zero": True}, 0.0),
        ("0s", {"allow_zero": True}, 0.0),
        ("100ms", {"minimum": 0.1}, 0.1),
    ],
)
def test_good_durations(text: str, kwargs: dict[str, float], seconds: float) -> None:
    assert checks.check_duration(text, "--for", **kwargs) == seconds  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "kwargs"),
    [
        ("0", {}),
        ("0s", {}),
        ("nan", {}),
        ("inf", {}),
        ("-1s", {}),
        ("1.5h", {}),
        ("abc", {}),
        ("50ms", {"minimum": 0.1}),
        ("2h", {"maximum": 3600.0}),
    ],
)
def test_bad_durations(text: str, kwargs: dict[str, float]) -> None:
    with pytest.raises(errors.InputError) as caught:
        checks.check_duration(text, "--interval", **kwargs)  # type: ignore[arg-type]
    assert caught.value.source == "--interval"


@pytest.mark.parametrize(
    ("text", "ok"),
    [("1", True), ("100", True), ("0", False), ("101", False), ("x", False), ("1.5", False)],
)
def test_whole_numbers(text: str, ok: bool) -> None:
    if ok:
        assert checks.check_int(text, "--n", minimum=1, maximum=100) == int(text)
    else:
        with pytest.raises(errors.InputError, match="whole number"):
            checks.check_int(text, "--n", minimum=1, maximum=100)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("main", None),
        ("feature/x-1.2", None),
        ("a b", "' '"),
        ("a..b", "'..'"),
        ("main:evil", "':'"),
        ("-x", "'-'"),
        ("x.lock", ".lock"),
        ("/x", "'/'"),
        (".x", "'.'"),
        ("x.", "'.'"),
        ("a@{1}", "'@{'"),
        ("HEAD", "reserved"),
        ("", "empty"),
    ],
)
def test_branch_names(name: str, problem: str | None) -> None:
    found = checks.branch_problem(name)
    if problem is None:
        assert found is None
        assert checks.check_branch(name, "--branch") == name
    else:
        assert found is not None and problem in found
        with pytest.raises(errors.InputError) as caught:
            checks.check_branch(name, "--branch")
        assert caught.value.source == "--branch"


@pytest.mark.parametrize(
    "text", ["https://github.com/acme/gitops.git", "git@github.com:acme/gitops.git",
             "ssh://git@github.com/acme/gitops.git"],
)  # fmt: skip
def test_repositories_to_clone(text: str) -> None:
    assert checks.check_repo_url(text, "--repo-url") == text


def test_a_local_repository_must_exist(tmp_path: Path) -> None:
    assert checks.check_repo_url(str(tmp_path), "--repo-url") == str(tmp_path)
    for bad in (str(tmp_path / "nope"), f"file://{tmp_path}/nope", "ftp://h/r", "http://", ""):
        with pytest.raises(errors.InputError) as caught:
            checks.check_repo_url(bad, "--repo-url")
        assert caught.value.source == "--repo-url"


def test_argparse_types_raise_argparse_errors() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="no host"):
        checks.url_arg("--server")("http://")
    with pytest.raises(argparse.ArgumentTypeError, match="must not be empty"):
        checks.nonempty_arg("--app")("  ")
    with pytest.raises(argparse.ArgumentTypeError, match="OWNER/NAME"):
        checks.repository_arg("--github-repository")("nope")
    assert checks.repository_arg("--github-repository")("acme/gitops") == "acme/gitops"
