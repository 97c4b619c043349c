"""Fixtures for the git engine tests: declared GitOps repositories, a fast retry policy,
and a tiny HTTP server that plays a git host refusing or failing every request."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from gitrepo import Remote, SmartHttpGit, apps_repo

from gitops_guard import gitops

HTTP_TOKEN = "ghs_httpRemoteTOKEN0451"

FAST = gitops.RetryPolicy(
    attempts=10, network_attempts=2, wait_initial_seconds=0.01, wait_max_seconds=0.05
)


@pytest.fixture
def fast_policy() -> gitops.RetryPolicy:
    return FAST


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    return apps_repo(tmp_path / "gitops", {"web": "nginx:1.25.0", "api": "ghcr.io/acme/api:1.0.0"})


class _Host(BaseHTTPRequestHandler):
    status = 401
    seen: list[dict[str, object]]

    def do_GET(self) -> None:
        self.seen.append(
            {"path": self.path, "authorization": self.headers.get_all("Authorization") or []}
        )
        self.send_response(self.status)
        if self.status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def git_host() -> Iterator[tuple[str, list[dict[str, object]], type[_Host]]]:
    """An HTTP git host on a free loopback port: ``(base_url, seen_headers, handler)``."""
    seen: list[dict[str, object]] = []
    handler = type("Host", (_Host,), {"seen": seen, "status": 401})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen, handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def http_remote(remote: Remote) -> Iterator[tuple[SmartHttpGit, str]]:
    """The declared remote served over smart HTTP, demanding TOKEN: ``(server, url)``."""
    server = SmartHttpGit(remote.bare.parent, HTTP_TOKEN)
    try:
        yield server, f"{server.base}/{remote.bare.name}"
    finally:
        server.close()
