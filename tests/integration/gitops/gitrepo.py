"""Build real git repositories for tests from a declaration: files in, bare remote out.

A GitOps repository is declared as data (``{"apps/web/deployment.yaml": text}``),
committed into a fresh repository, and pushed to a bare repository that plays the
remote. Pipelines are clones of that remote, as CI jobs would have.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` and return stdout; fail the test loudly on error."""
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


def deployment(name: str, image: str, *, namespace: str = "prod") -> str:
    """A small Deployment manifest with one container."""
    return (
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        f"  name: {name}\n"
        f"  namespace: {namespace}\n"
        "  labels:\n"
        f"    app: {name}  # keep this comment\n"
        "spec:\n"
        "  replicas: 2\n"
        "  selector:\n"
        "    matchLabels:\n"
        f"      app: {name}\n"
        "  template:\n"
        "    metadata:\n"
        "      labels:\n"
        f"        app: {name}\n"
        "    spec:\n"
        "      containers:\n"
        "        - name: app\n"
        f"          image: {image}  # pinned by gitops-guard\n"
        "          ports:\n"
        "            - containerPort: 8080\n"
    )


@dataclass(frozen=True)
class Remote:
    """A bare repository standing in for the GitOps repository's remote."""

    bare: Path
    branch: str

    @property
    def url(self) -> str:
        return str(self.bare)

    def tip(self, branch: str | None = None) -> str:
        return git(self.bare, "rev-parse", f"refs/heads/{branch or self.branch}").strip()

    def show(self, path: str, ref: str | None = None) -> str:
        return git(self.bare, "show", f"{ref or self.branch}:{path}")

    def log(self, fmt: str = "%H", *extra: str) -> list[str]:
        out = git(self.bare, "log", f"--format={fmt}", *extra, self.branch)
        return [line for line in out.split("\n") if line]

    def refs(self) -> str:
        return git(self.bare, "for-each-ref", "--format=%(refname) %(objectname)")

    def clone(self, dest: Path, *, branch: str | None = None) -> Path:
        """A pipeline's checkout of the remote (like actions/checkout)."""
        git(
            dest.parent, "clone", "-q", "--branch", branch or self.branch, str(self.bare), str(dest)
        )
        return dest


def build_remote(root: Path, files: Mapping[str, str | bytes], *, branch: str = "main") -> Remote:
    """Commit ``files`` into a new repository and push it to a bare remote under ``root``."""
    seed = root / "seed"
    bare = root / "remote.git"
    seed.mkdir(parents=True)
    git(root, "init", "-q", "--bare", "-b", branch, str(bare))
    git(seed, "init", "-q", "-b", branch)
    for rel, content in files.items():
        target = seed / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "initial GitOps repository")
    git(seed, "remote", "add", "origin", str(bare))
    git(seed, "push", "-q", "origin", f"HEAD:refs/heads/{branch}")
    return Remote(bare=bare, branch=branch)


def apps_repo(root: Path, apps: Mapping[str, str]) -> Remote:
    """A GitOps repository with one Deployment per app: ``{"web": "nginx:1.25.0"}``."""
    files = {
        f"apps/{name}/deployment.yaml": deployment(name, image) for name, image in apps.items()
    }
    files["README.md"] = "GitOps repository for tests\n"
    return build_remote(root, files)


def tree_state(path: Path) -> tuple[str, str]:
    """HEAD and the porcelain status of a checkout: equal before and after means untouched."""
    return git(path, "rev-parse", "HEAD").strip(), git(path, "status", "--porcelain")


class SmartHttpGit:
    """A git smart-HTTP server over ``git http-backend`` that demands one token.

    Requests without ``Authorization: Basic base64(x-access-token:<token>)`` get 401,
    as GitHub answers; everything else is handed to git's own CGI backend, so clones,
    fetches and pushes are real. ``seen`` records each request's Authorization values.
    """

    def __init__(self, project_root: Path, token: str):
        import base64
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        expected = "Basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()
        seen: list[list[str]] = []
        self.seen = seen

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                auth = self.headers.get_all("Authorization") or []
                seen.append(auth)
                if auth != [expected]:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                path, _, query = self.path.partition("?")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                env = {
                    "PATH": os.environ.get("PATH", ""),
                    "GIT_PROJECT_ROOT": str(project_root),
                    "GIT_HTTP_EXPORT_ALL": "1",
                    "REQUEST_METHOD": self.command,
                    "PATH_INFO": path,
                    "QUERY_STRING": query,
                    "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                    "CONTENT_LENGTH": str(len(body)),
                    "REMOTE_USER": "x-access-token",
                    "REMOTE_ADDR": "127.0.0.1",
                    "GIT_CONFIG_NOSYSTEM": "1",
                    "GIT_CONFIG_GLOBAL": os.devnull,
                }
                if self.headers.get("Content-Encoding") == "gzip":
                    env["HTTP_CONTENT_ENCODING"] = "gzip"
                proc = subprocess.run(
                    ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
                )
                head, _, payload = proc.stdout.partition(b"\r\n\r\n")
                status = 200
                headers = []
                for line in head.decode("latin-1").split("\r\n"):
                    key, _, value = line.partition(":")
                    if key.lower() == "status":
                        status = int(value.strip().split()[0])
                    elif key:
                        headers.append((key, value.strip()))
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = _serve
            do_POST = _serve

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
