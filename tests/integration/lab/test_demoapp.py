"""The demo app, the image catalogue, the load generator and the loopback guard.

- every catalogued version parses; an unknown version is refused naming the known ones;
- a catalogue with an unknown key or an out-of-range ratio is refused (exit 2);
- 1.0.0/1.1.0 answer almost only 200 and fast; 1.2.0 answers ~20% 500 and is slow;
- business operations fail at the catalogued ratio; every failed request is a failed operation;
- 1.3.0's health check fails; a version with a startup time is not ready before it;
- /metrics exposes the three metric families with app, code, version, operation, result labels;
- the real process serves /, /healthz, /version, /metrics on loopback and stops on SIGTERM;
- the load generator reaches the app at about the asked rate, and refuses non-loopback URLs
  and out-of-range rates; the demo app refuses to bind a non-loopback address.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
from collections import Counter

import httpx
import pytest

from gitops_guard import errors
from gitops_guard_lab import catalogue, demoapp, loadgen, net


def _app(version: str, seed: int = 7) -> demoapp.DemoApp:
    behaviour = catalogue.load().behaviour(version)
    return demoapp.DemoApp(
        version=version, behaviour=behaviour, rng=random.Random(seed), sleep=False
    )


def test_catalogue_lists_the_story_versions_and_refuses_unknown_ones() -> None:
    cat = catalogue.load()
    assert {"1.0.0", "1.1.0", "1.2.0", "1.3.0"} <= set(cat.versions)
    assert cat.image("1.1.0") == "ghcr.io/gitops-guard/sre-demo-app:1.1.0"
    with pytest.raises(errors.InputError) as info:
        cat.behaviour("9.9.9")
    assert "1.2.0" in info.value.render()
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    "text",
    [
        "repository: r\nversions: {'1.0.0': {error_ratio: 2}}\n",
        "repository: r\nversions: {'1.0.0': {colour: blue}}\n",
        "repository: r\nversions: [\n",
    ],
)
def test_bad_catalogue_is_a_config_error(text: str) -> None:
    with pytest.raises(errors.ConfigError):
        catalogue.parse(text, source="catalogue.yaml")


def _codes(app: demoapp.DemoApp, n: int = 2000) -> Counter[int]:
    return Counter(app.handle()[0] for _ in range(n))


def test_good_versions_answer_almost_only_200() -> None:
    for version in ("1.0.0", "1.1.0"):
        codes = _codes(_app(version))
        assert codes[500] / 2000 < 0.02, version


def test_bad_version_answers_a_fifth_with_500_and_is_slow() -> None:
    bad = _app("1.2.0")
    codes = _codes(bad)
    assert 0.15 < codes[500] / 2000 < 0.25
    good = catalogue.load().behaviour("1.1.0")
    assert bad.behaviour.latency_seconds > 10 * good.latency_seconds


def test_business_operations_fail_at_the_catalogued_ratio() -> None:
    app = _app("1.2.0")
    results = Counter()
    for _ in range(2000):
        code, body = app.handle()
        results[body["result"]] += 1
        if code == 500:
            assert body["result"] == "failure"
    share = results["failure"] / 2000
    assert 0.3 < share < 0.5  # 20% errors, and a quarter of the rest fails


def test_health_checks_follow_the_catalogue() -> None:
    assert _app("1.1.0").ready()
    assert not _app("1.3.0").ready()
    slow = catalogue.load().behaviour("2.0.0")
    starting = demoapp.DemoApp(version="2.0.0", behaviour=slow, sleep=False, clock=100.0)
    assert not starting.ready(now=100.0 + slow.startup_seconds / 2)
    assert starting.ready(now=100.0 + slow.startup_seconds + 0.1)


def test_metrics_expose_the_three_families_with_their_labels() -> None:
    app = _app("1.2.0")
    for _ in range(50):
        app.handle("checkout")
    text = app.metrics().decode()
    assert 'http_requests_total{app="sre-demo-app",code="500",version="1.2.0"}' in text
    assert 'http_request_duration_seconds_bucket{app="sre-demo-app",le="0.5",version="1.2.0"}' in (
        text
    )
    assert (
        'business_operations_total{app="sre-demo-app",operation="checkout",'
        'result="failure",version="1.2.0"}'
    ) in text


def test_the_process_serves_and_stops_on_sigterm() -> None:
    port = net.free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gitops_guard_lab.demoapp",
            "--version",
            "1.3.0",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        net.wait_http_ok(f"{url}/version", timeout=15, what="demo app")
        assert httpx.get(f"{url}/version").json() == {"app": "sre-demo-app", "version": "1.3.0"}
        assert httpx.get(f"{url}/healthz").status_code == 503
        assert httpx.get(f"{url}/search").json()["operation"] == "search"
        assert "http_requests_total" in httpx.get(f"{url}/metrics").text
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_load_generator_reaches_the_app_at_about_the_rate() -> None:
    behaviour = catalogue.load().behaviour("1.1.0")
    app = demoapp.DemoApp(version="1.1.0", behaviour=behaviour, sleep=False)
    server = demoapp.serve(app, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        generator = loadgen.LoadGenerator(url=f"http://127.0.0.1:{port}/", rps=40, concurrency=4)
        outcomes = generator.run(duration=1.5)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    total = sum(outcomes.values())
    # 60 slots in 1.5 s: never more (the loop is bounded); many fewer on a busy machine
    assert 5 <= total <= 64
    assert outcomes["200"] >= total * 0.9
    served = app.registry.get_sample_value(
        "http_requests_total", {"app": "sre-demo-app", "code": "200", "version": "1.1.0"}
    )
    assert served == outcomes["200"]


@pytest.mark.parametrize(
    ("kwargs", "source"),
    [
        ({"url": "http://10.1.2.3/", "rps": 5, "concurrency": 1}, "--url"),
        ({"url": "http://example.com/", "rps": 5, "concurrency": 1}, "--url"),
        ({"url": "http://127.0.0.1:1/", "rps": 0, "concurrency": 1}, "--rps"),
        ({"url": "http://127.0.0.1:1/", "rps": 5000, "concurrency": 1}, "--rps"),
        ({"url": "http://127.0.0.1:1/", "rps": 5, "concurrency": 0}, "--concurrency"),
    ],
)
def test_load_generator_refuses_bad_input(kwargs: dict[str, object], source: str) -> None:
    with pytest.raises(errors.InputError) as info:
        loadgen.LoadGenerator(**kwargs)  # type: ignore[arg-type]
    assert info.value.source == source


def test_demo_app_binds_loopback_only() -> None:
    with pytest.raises(errors.InputError):
        demoapp.serve(_app("1.0.0"), host="0.0.0.0", port=0)  # noqa: S104


def test_a_user_traffic_only_failure_shows_only_with_a_user_session() -> None:
    """1.4.0 (blue-green's post-switch story): fine for smoke traffic, bad for users."""
    app = _app("1.4.0")
    smoke = [app.handle()[0] for _ in range(400)]
    users = [app.handle(user=True)[0] for _ in range(400)]
    assert smoke.count(500) / len(smoke) < 0.03
    assert 0.25 < users.count(500) / len(users) < 0.45
    good = _app("1.1.0")
    assert [good.handle(user=True)[0] for _ in range(200)].count(500) < 6


def test_the_load_generator_sends_its_headers_and_keeps_failure_times() -> None:
    behaviour = catalogue.load().behaviour("1.4.0")
    app = demoapp.DemoApp(version="1.4.0", behaviour=behaviour, sleep=False)
    server = demoapp.serve(app, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        generator = loadgen.LoadGenerator(
            url=f"http://127.0.0.1:{port}/",
            rps=40,
            concurrency=4,
            headers={demoapp.USER_HEADER: "u1"},
        )
        outcomes = generator.run(1.5)
    finally:
        server.shutdown()
        server.server_close()
    assert outcomes["500"] > 0
    assert len(generator.failures) == (
        outcomes["500"] + outcomes.get("error", 0) + outcomes.get("timeout", 0)
    )
    assert all(isinstance(at, float) for at, _ in generator.failures)
