"""argocd-wait against the fake server over https with a self-signed certificate.

Behaviours covered:
- an untrusted certificate is exit 2 with a message naming --ca-bundle and --insecure,
  and no retries;
- --ca-bundle FILE trusts the server's CA: exit 0;
- --insecure skips verification: exit 0;
- a --ca-bundle file that is not PEM is exit 2 naming --ca-bundle.
"""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from argocd_cli import OURS, TOKEN, deployed, run_cli

from gitops_guard_lab import argocd_api


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[argocd_api.FakeArgoServer, Path]]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", "/CN=fake-argocd",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    store = argocd_api.ApplicationStore()
    store.put(argocd_api.make_application("web", **deployed(OURS)))
    with argocd_api.FakeArgoServer(store, token=TOKEN, tls=context) as server:
        yield server, cert


def test_untrusted_certificate_is_a_clear_input_error(
    https_server: tuple[argocd_api.FakeArgoServer, Path],
) -> None:
    server, _ = https_server
    run = run_cli(server.url)
    assert run.code == 2, run.text
    assert "TLS verification" in run.stderr
    assert "--ca-bundle" in run.stderr and "--insecure" in run.stderr
    assert len(server.requests) == 0


def test_ca_bundle_trusts_the_server(https_server: tuple[argocd_api.FakeArgoServer, Path]) -> None:
    server, cert = https_server
    run = run_cli(server.url, extra=["--ca-bundle", str(cert)])
    assert run.code == 0, run.text
    assert server.requests and all(r.authorized for r in server.requests)


def test_insecure_skips_verification(https_server: tuple[argocd_api.FakeArgoServer, Path]) -> None:
    server, _ = https_server
    run = run_cli(server.url, extra=["--insecure"])
    assert run.code == 0, run.text


def test_a_ca_bundle_that_is_not_pem(
    https_server: tuple[argocd_api.FakeArgoServer, Path], tmp_path: Path
) -> None:
    server, _ = https_server
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate\n")
    run = run_cli(server.url, extra=["--ca-bundle", str(bogus)])
    assert run.code == 2, run.text
    assert "--ca-bundle" in run.stderr
