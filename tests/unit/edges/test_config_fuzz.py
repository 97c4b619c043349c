"""A seeded campaign of generated bad input against the one loader.

Covers: for slo.yaml, the rules file, the quarantine file and the gate report,
arbitrary bytes, YAML-looking text built from YAML's own punctuation, and valid
files with one value replaced by a random one all end in a loaded model or a
ConfigError (exit 2) naming the file -- never another exception (a traceback, exit
3), and each within a second.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from gitops_guard import config, errors, quarantine
from gitops_guard.rollback import evidence, rules
from gitops_guard.slo import config as slo_config

SLO = "name: web\nobjectives:\n  - {name: up, query: 'sum(up)', pass: '>= 1'}\n"
TEXTS = {
    "slo": SLO,
    "rules": "version: 1\nrules:\n  - name: r\n    alert: {alertname: A}\n    cooldown: 5m\n",
    "quarantine": "version: 1\nimages:\n  - image: ghcr.io/acme/web:1.4.0\n    reason: x\n",
    "evidence": '{"verdict": "fail", "objectives": [{"name": "x", "state": "fail"}]}\n',
}


def _load(kind: str, text: str) -> object:
    source = f"{kind}.yaml"
    if kind == "slo":
        return slo_config.load_text(text, source=source)
    if kind == "rules":
        return rules.parse_rules(text, source=source)
    if kind == "quarantine":
        return quarantine.parse(text, source=source)
    return config.load_text(evidence.GateReport, text, kind=evidence.KIND, source=source)


def _judge(kind: str, text: str) -> None:
    started = time.monotonic()
    try:
        _load(kind, text)
    except errors.ConfigError as exc:
        assert exc.exit_code == errors.EXIT_INPUT
        assert f"{kind}.yaml" in exc.render()
    assert time.monotonic() - started < 1.0


PUNCTUATION = st.sampled_from(
    [*":-[]{},&*!|>'\"#%@` \n\t?<=", "<<", "---", "...", "!!python/", "&a", "*a", "~"]
)
WORDS = st.sampled_from(["name", "objectives", "query", "version", "99", "1e999", ".nan", "x"])
YAMLISH = st.lists(st.one_of(PUNCTUATION, WORDS), max_size=60).map("".join)
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


@pytest.mark.parametrize("kind", sorted(TEXTS))
@seed(20261201)
@SETTINGS
@given(text=YAMLISH)
def test_yaml_looking_noise_never_crashes(kind: str, text: str) -> None:
    _judge(kind, text)


def _load_file(kind: str, path: Path) -> object:
    if kind == "slo":
        return slo_config.load(path)
    if kind == "rules":
        return rules.load_rules(path)
    if kind == "quarantine":
        target = path.parent / quarantine.PATH
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
        return quarantine.load(path.parent)
    return config.load_file(evidence.GateReport, path, kind=evidence.KIND)


@pytest.mark.parametrize("kind", sorted(TEXTS))
@seed(20261202)
@SETTINGS
@given(data=st.binary(max_size=200))
def test_random_bytes_never_crash(
    tmp_path_factory: pytest.TempPathFactory, kind: str, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "file.yaml"
    path.write_bytes(data)
    started = time.monotonic()
    try:
        _load_file(kind, path)
    except errors.ConfigError as exc:
        assert exc.exit_code == errors.EXIT_INPUT
        assert str(path.parent) in exc.render()
    assert time.monotonic() - started < 1.0


VALUES = st.one_of(st.integers(), st.floats(), st.text(max_size=12), st.booleans(), st.none()).map(
    lambda v: repr(v) if not isinstance(v, str) else v
)


@pytest.mark.parametrize("kind", sorted(TEXTS))
@seed(20261203)
@SETTINGS
@given(index=st.integers(min_value=0, max_value=20), value=VALUES)
def test_one_value_replaced_never_crashes(kind: str, index: int, value: str) -> None:
    text = TEXTS[kind]
    spots = [i for i, ch in enumerate(text) if ch == ":"]
    at = spots[index % len(spots)]
    end = text.find("\n", at)
    mutated = text[: at + 1] + " " + value.replace("\n", " ") + text[end:]
    _judge(kind, mutated)
