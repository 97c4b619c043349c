"""Start and stop the real Prometheus, Alertmanager and Pushgateway on loopback ports.

The lab and the integration tests use the servers from Debian's packages
(``/usr/bin/prometheus``, ``prometheus-alertmanager``, ``prometheus-pushgateway``):
each runs on a free ``127.0.0.1`` port with its own temporary data directory and a
configuration file written here, is waited for until ``/-/ready`` answers, and is
stopped cleanly (terminate, then kill) by :meth:`Server.stop`, by ``with``, or at
interpreter exit at the latest.

:func:`backfill` turns OpenMetrics text into TSDB blocks with
``promtool tsdb create-blocks-from openmetrics``. Start Prometheus with the same
``data_dir`` afterwards and query at a time *inside* the backfilled range
(``/api/v1/query?time=...``): backfilled samples are history, not "now".
OpenMetrics text needs timestamps in seconds and a final ``# EOF`` line (added
when missing).

This module must not decide anything about SLOs, and nothing in the actions
imports it: it is test and rehearsal machinery.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from gitops_guard import errors

PROMETHEUS_BIN = os.environ.get("GITOPS_GUARD_PROMETHEUS_BIN", "/usr/bin/prometheus")
"""The Prometheus server binary (Debian's package installs it here)."""
PROMTOOL_BIN = os.environ.get("GITOPS_GUARD_PROMTOOL_BIN", "promtool")
ALERTMANAGER_BIN = os.environ.get(
    "GITOPS_GUARD_ALERTMANAGER_BIN", "/usr/bin/prometheus-alertmanager"
)
PUSHGATEWAY_BIN = os.environ.get("GITOPS_GUARD_PUSHGATEWAY_BIN", "/usr/bin/prometheus-pushgateway")

READY_TIMEOUT_SECONDS = 30.0
"""How long a server may take to answer ``/-/ready``; Prometheus replays its WAL first."""
STOP_TIMEOUT_SECONDS = 10.0
"""How long a server may take to exit after SIGTERM before it is killed."""

_running: weakref.WeakSet[Server] = weakref.WeakSet()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def available() -> dict[str, bool]:
    """Which of the binaries are installed (tests skip cleanly without them)."""
    return {
        "prometheus": shutil.which(PROMETHEUS_BIN) is not None,
        "promtool": shutil.which(PROMTOOL_BIN) is not None,
        "alertmanager": shutil.which(ALERTMANAGER_BIN) is not None,
        "pushgateway": shutil.which(PUSHGATEWAY_BIN) is not None,
    }


@dataclass
class Server:
    """One running server process; stop it with :meth:`stop` or ``with``."""

    name: str
    url: str
    """Base URL, e.g. ``http://127.0.0.1:41234`` (no trailing slash)."""
    process: subprocess.Popen[bytes]
    workdir: Path
    """Holds the configuration file and the log; removed on stop when we created it."""
    data_dir: Path
    log_path: Path
    _owns_workdir: bool = True
    _stopped: bool = field(default=False, repr=False)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def log(self) -> str:
        """The server's own log so far (for failure messages)."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """Terminate the process (kill after a grace period) and remove our temp files."""
        if self._stopped:
            return
        self._stopped = True
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        _running.discard(self)

    def __enter__(self) -> Server:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __hash__(self) -> int:
        return id(self)


@atexit.register
def _stop_all() -> None:
    for server in list(_running):
        with contextlib.suppress(Exception):
            server.stop()


def _wait_ready(server: Server, timeout_seconds: float) -> None:
    deadline = time.monotonic() + timeout_seconds
    url = f"{server.url}/-/ready"
    while True:
        if server.process.poll() is not None:
            log = server.log()
            server.stop()
            raise errors.DependencyUnavailable(
                f"{server.name} exited with code {server.process.returncode} while starting",
                source=server.url,
                hint=f"The end of its log:\n{log[-2000:]}",
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            log = server.log()
            server.stop()
            raise errors.DependencyUnavailable(
                f"{server.name} did not become ready within {timeout_seconds:.0f}s",
                source=url,
                hint=f"The end of its log:\n{log[-2000:]}",
            )
        time.sleep(0.1)


def _launch(
    name: str,
    binary: str,
    args_for_port: Sequence[str],
    *,
    workdir: Path,
    data_dir: Path,
    owns_workdir: bool,
    port: int,
    ready_timeout_seconds: float,
) -> Server:
    if shutil.which(binary) is None:
        raise errors.DependencyUnavailable(
            f"{name} is not installed ({binary} not found)",
            hint="Install Debian's packages: apt-get install prometheus "
            "prometheus-alertmanager prometheus-pushgateway.",
        )
    log_path = workdir / f"{name}.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [binary, *args_for_port],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=workdir,
            start_new_session=True,
        )
    server = Server(
        name=name,
        url=f"http://127.0.0.1:{port}",
        process=process,
        workdir=workdir,
        data_dir=data_dir,
        log_path=log_path,
        _owns_workdir=owns_workdir,
    )
    _running.add(server)
    _wait_ready(server, ready_timeout_seconds)
    return server


def _workdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"gitops-guard-{prefix}-"))


def _yaml_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(f"'{item}'" for item in items) + "]"


def prometheus_config(
    *,
    scrape_targets: Sequence[str] = (),
    scrape_interval: str = "15s",
    job_name: str = "targets",
    rule_files: Sequence[str] = (),
    alertmanager_url: str | None = None,
    evaluation_interval: str | None = None,
    extra_scrape_configs: str = "",
) -> str:
    """The text of a ``prometheus.yml`` scraping ``host:port`` targets."""
    lines = [
        "global:",
        f"  scrape_interval: {scrape_interval}",
        f"  evaluation_interval: {evaluation_interval or scrape_interval}",
    ]
    if rule_files:
        lines.append(f"rule_files: {_yaml_list(rule_files)}")
    if alertmanager_url:
        host = alertmanager_url.split("://", 1)[-1].rstrip("/")
        lines += [
            "alerting:",
            "  alertmanagers:",
            f"    - static_configs: [{{targets: ['{host}']}}]",
        ]
    lines.append("scrape_configs:")
    if scrape_targets:
        lines += [
            f"  - job_name: {job_name}",
            f"    scrape_interval: {scrape_interval}",
            f"    scrape_timeout: {scrape_interval}",
            f"    static_configs: [{{targets: {_yaml_list(scrape_targets)}}}]",
        ]
    text = "\n".join(lines) + "\n"
    if extra_scrape_configs:
        text += extra_scrape_configs.rstrip("\n") + "\n"
    if not scrape_targets and not extra_scrape_configs:
        text = text.replace("scrape_configs:\n", "scrape_configs: []\n")
    return text


def start_prometheus(
    *,
    scrape_targets: Sequence[str] = (),
    scrape_interval: str = "15s",
    job_name: str = "targets",
    data_dir: str | os.PathLike[str] | None = None,
    rule_files: Sequence[str] = (),
    alertmanager_url: str | None = None,
    retention: str = "100y",
    extra_args: Sequence[str] = (),
    config_text: str | None = None,
    ready_timeout_seconds: float = READY_TIMEOUT_SECONDS,
) -> Server:
    """Start the real Prometheus on a free loopback port and wait until it is ready.

    ``scrape_targets`` are ``host:port`` strings scraped every ``scrape_interval``
    (down to ``1s``). Pass the ``data_dir`` of a :func:`backfill` to query that
    history; ``retention`` is large so that old backfilled blocks are kept.
    ``config_text`` replaces the generated configuration entirely.
    """
    workdir = _workdir("prometheus")
    data = Path(data_dir) if data_dir is not None else workdir / "data"
    data.mkdir(parents=True, exist_ok=True)
    config = workdir / "prometheus.yml"
    config.write_text(
        config_text
        or prometheus_config(
            scrape_targets=scrape_targets,
            scrape_interval=scrape_interval,
            job_name=job_name,
            rule_files=rule_files,
            alertmanager_url=alertmanager_url,
        ),
        encoding="utf-8",
    )
    port = free_port()
    args = [
        f"--config.file={config}",
        f"--storage.tsdb.path={data}",
        f"--storage.tsdb.retention.time={retention}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--web.enable-lifecycle",
        "--log.level=warn",
        *extra_args,
    ]
    return _launch(
        "prometheus",
        PROMETHEUS_BIN,
        args,
        workdir=workdir,
        data_dir=data,
        owns_workdir=True,
        port=port,
        ready_timeout_seconds=ready_timeout_seconds,
    )


def alertmanager_config(*, webhook_urls: Sequence[str] = (), group_wait: str = "1s") -> str:
    """The text of an ``alertmanager.yml``: one route, optional webhook receivers."""
    lines = [
        "route:",
        "  receiver: default",
        f"  group_wait: {group_wait}",
        "  group_interval: 1s",
        "  repeat_interval: 1h",
        "receivers:",
        "  - name: default",
    ]
    if webhook_urls:
        lines.append("    webhook_configs:")
        lines += [f"      - url: '{url}'\n        send_resolved: true" for url in webhook_urls]
    return "\n".join(lines) + "\n"


def start_alertmanager(
    *,
    webhook_urls: Sequence[str] = (),
    config_text: str | None = None,
    extra_args: Sequence[str] = (),
    ready_timeout_seconds: float = READY_TIMEOUT_SECONDS,
) -> Server:
    """Start the real Alertmanager on a free loopback port; clustering is off.

    Alerts can be POSTed to ``{server.url}/api/v2/alerts`` and read back from the
    same path with GET.
    """
    workdir = _workdir("alertmanager")
    data = workdir / "data"
    data.mkdir()
    config = workdir / "alertmanager.yml"
    config.write_text(config_text or alertmanager_config(webhook_urls=webhook_urls), "utf-8")
    port = free_port()
    args = [
        f"--config.file={config}",
        f"--storage.path={data}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
        "--log.level=warn",
        *extra_args,
    ]
    return _launch(
        "alertmanager",
        ALERTMANAGER_BIN,
        args,
        workdir=workdir,
        data_dir=data,
        owns_workdir=True,
        port=port,
        ready_timeout_seconds=ready_timeout_seconds,
    )


def start_pushgateway(
    *,
    extra_args: Sequence[str] = (),
    ready_timeout_seconds: float = READY_TIMEOUT_SECONDS,
) -> Server:
    """Start the real Pushgateway on a free loopback port."""
    workdir = _workdir("pushgateway")
    port = free_port()
    # Debian's build persists to /var/lib/prometheus/pushgateway.data by default, a
    # file every Pushgateway on the machine would share: keep ours in memory.
    args = [
        f"--web.listen-address=127.0.0.1:{port}",
        "--persistence.file=",
        "--log.level=warn",
        *extra_args,
    ]
    return _launch(
        "pushgateway",
        PUSHGATEWAY_BIN,
        args,
        workdir=workdir,
        data_dir=workdir,
        owns_workdir=True,
        port=port,
        ready_timeout_seconds=ready_timeout_seconds,
    )


def backfill(openmetrics_text: str, data_dir: str | os.PathLike[str]) -> Path:
    """Write OpenMetrics samples (timestamps in seconds) as TSDB blocks into ``data_dir``.

    Start Prometheus with ``data_dir=`` the same directory afterwards.
    """
    target = Path(data_dir)
    target.mkdir(parents=True, exist_ok=True)
    text = openmetrics_text.rstrip("\n")
    if not text.endswith("# EOF"):
        text += "\n# EOF"
    with tempfile.NamedTemporaryFile(
        "w", suffix=".om", prefix="backfill-", dir=target.parent, delete=False, encoding="utf-8"
    ) as fh:
        fh.write(text + "\n")
        source = Path(fh.name)
    try:
        done = subprocess.run(
            [PROMTOOL_BIN, "tsdb", "create-blocks-from", "openmetrics", str(source), str(target)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    finally:
        source.unlink(missing_ok=True)
    if done.returncode != 0:
        raise errors.InputError(
            "promtool could not backfill the samples",
            source="openmetrics",
            hint=(done.stderr or done.stdout).strip()[-2000:],
        )
    return target


def _om_number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def openmetrics_lines(
    samples: Iterator[tuple[str, Mapping[str, str], float, float]],
) -> str:
    """Render ``(name, labels, value, timestamp_seconds)`` tuples as OpenMetrics text."""
    out = []
    for name, labels, value, ts in samples:
        rendered = ",".join(
            f'{key}="{str(val).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
            for key, val in labels.items()
        )
        number = _om_number(value)
        head = f"{name}{{{rendered}}}" if rendered else name
        out.append(f"{head} {number} {ts:.3f}")
    out.append("# EOF")
    return "\n".join(out) + "\n"
