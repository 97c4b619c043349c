"""A small local fault server: plays Prometheus, ArgoCD, GitHub, Alertmanager and a webhook.

A threaded ``http.server`` on 127.0.0.1. Each path prefix gets a script: a list of
:class:`Fault` answers used in turn, the last one repeated. A fault is a normal
answer (``Fault.json(...)``) or one of the ways servers break:

- ``hang``: accept, read the request, answer nothing (until the test ends);
- ``drip``: send the headers, then the body one byte every ``interval`` seconds;
- ``blank_lines``: a 200 stream that sends ``\\n`` every ``interval`` seconds, forever;
- ``status`` with ``Retry-After``; ``echo_auth``: a 500 whose body echoes the
  Authorization header (as some proxies' error pages do);
- ``raw``: any bytes (invalid JSON); ``truncated``: a body shorter than its
  Content-Length, then the connection closes.

Every request is recorded (method, path, headers) for the tests to inspect.
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Fault:
    kind: str
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    interval: float = 0.5

    @classmethod
    def json(cls, payload: Any, status: int = 200, **headers: str) -> Fault:
        return cls(
            "answer",
            status,
            json.dumps(payload).encode(),
            (("Content-Type", "application/json"), *headers.items()),
        )

    @classmethod
    def lines(cls, *payloads: Any) -> Fault:
        """A stream of JSON lines that then stays open, sending nothing more."""
        body = b"".join(json.dumps(p).encode() + b"\n" for p in payloads)
        return cls("lines", 200, body, (("Content-Type", "application/json"),))

    @classmethod
    def status_only(cls, status: int, **headers: str) -> Fault:
        return cls(
            "answer",
            status,
            json.dumps({"message": f"HTTP {status}"}).encode(),
            (
                ("Content-Type", "application/json"),
                *((k.replace("_", "-"), v) for k, v in headers.items()),
            ),
        )

    @classmethod
    def raw(cls, body: bytes, status: int = 200, content_type: str = "application/json") -> Fault:
        return cls("answer", status, body, (("Content-Type", content_type),))


HANG = Fault("hang")
ECHO_AUTH = Fault("echo_auth", 500)


def drip(payload: Any, interval: float = 0.3) -> Fault:
    return Fault("drip", 200, json.dumps(payload).encode(), (), interval)


def blank_lines(interval: float = 0.5) -> Fault:
    return Fault("blank_lines", 200, b"", (), interval)


def truncated(payload: Any) -> Fault:
    return Fault("truncated", 200, json.dumps(payload).encode())


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FaultServer:
    """``with FaultServer() as server: server.script("/api/v1/query", Fault.json(...))``."""

    scripts: dict[str, list[Fault]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    _used: dict[str, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def script(self, prefix: str, *faults: Fault) -> None:
        self.scripts[prefix] = list(faults)
        self._used[prefix] = 0

    def _next(self, path: str) -> Fault:
        matches = [p for p in self.scripts if path.startswith(p)]
        if not matches:
            return Fault.status_only(404)
        prefix = max(matches, key=len)
        faults = self.scripts[prefix]
        index = min(self._used[prefix], len(faults) - 1)
        self._used[prefix] += 1
        return faults[index]

    def count(self, prefix: str) -> int:
        return sum(1 for s in self.seen if s.path.startswith(prefix))

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FaultServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                owner.seen.append(
                    Seen(self.command, self.path, {k: v for k, v in self.headers.items()}, body)
                )
                fault = owner._next(self.path.split("?", 1)[0])
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._play(fault)

            def _play(self, fault: Fault) -> None:
                if fault.kind == "hang":
                    owner._stop.wait(120)
                    self.close_connection = True
                    return
                if fault.kind == "echo_auth":
                    auth = self.headers.get("Authorization")
                    text = f"upstream error; request had Authorization: {auth}"
                    body = json.dumps({"error": text, "message": text}).encode()
                    self._head(500, len(body), "application/json")
                    self.wfile.write(body)
                    return
                if fault.kind == "answer":
                    self.send_response(fault.status)
                    for key, value in fault.headers:
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(fault.body)))
                    self.end_headers()
                    self.wfile.write(fault.body)
                    return
                if fault.kind == "truncated":
                    self._head(200, len(fault.body) + 500, "application/json")
                    self.wfile.write(fault.body[: max(1, len(fault.body) // 2)])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if fault.kind == "drip":
                    self._head(200, len(fault.body), "application/json")
                    for byte in fault.body:
                        if owner._stop.wait(fault.interval):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    return
                # Streams: no Content-Length, the connection closes when we stop.
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                if fault.kind == "lines":
                    self.wfile.write(fault.body)
                    self.wfile.flush()
                    owner._stop.wait(120)
                    return
                while not owner._stop.wait(fault.interval):  # blank_lines
                    self.wfile.write(b"\n")
                    self.wfile.flush()

            def _head(self, status: int, length: int, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(length))
                self.end_headers()

            do_GET = _serve
            do_POST = _serve
            do_PATCH = _serve
            do_PUT = _serve
            do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
