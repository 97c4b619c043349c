"""The one loader for user-written files (:mod:`gitops_guard.config`).

Covers, for each of slo.yaml, rollback-rules.yaml, quarantine.yaml and the
``--evidence`` gate report: a bad file is a ConfigError (exit 2) naming the file
and line, refused within a second -- alias bombs of 10^7 leaves, recursive
aliases, nesting beyond the bound, files beyond the size bound, ``!!python/*``
and other unknown tags, merge keys, duplicate keys, binary and non-UTF-8 files,
several documents; ``version: 99`` (absent means 1); every problem reported at
once; camelCase keys and the kebab-case keys of earlier files both read;
quarantine entries with an invalid image and junk fields in a gate report refused;
a real slo-gate report, and the one written when Prometheus is unreachable,
validate against the evidence model.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from gitops_guard import config, errors, quarantine
from gitops_guard.cli import slo_gate
from gitops_guard.rollback import evidence, rules
from gitops_guard.slo import config as slo_config
from gitops_guard.slo import evidence as slo_evidence
from gitops_guard.slo import gate, models

SLO = "name: web\nobjectives:\n  - {name: up, query: up, pass: '>= 1'}\n"
RULES = "rules:\n  - name: r\n    alert: {alertname: A}\n"
QUARANTINE = "version: 1\nimages:\n  - image: ghcr.io/acme/web:1.4.0\n"
REPORT = '{"verdict": "fail", "score": 0, "objectives": [{"name": "x", "state": "fail"}]}\n'


def _load_slo(path: Path) -> object:
    return slo_config.load(path)


def _load_rules(path: Path) -> object:
    return rules.load_rules(path)


def _load_quarantine(path: Path) -> object:
    # quarantine.load takes the repository root; the file lives at PATH under it.
    root = path.parent
    target = root / quarantine.PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(path.read_bytes())
    return quarantine.load(root)


def _load_evidence(path: Path) -> object:
    return config.load_file(evidence.GateReport, path, kind=evidence.KIND)


LOADERS: dict[str, tuple[Callable[[Path], object], str]] = {
    "slo": (_load_slo, SLO),
    "rules": (_load_rules, RULES),
    "quarantine": (_load_quarantine, QUARANTINE),
    "evidence": (_load_evidence, REPORT),
}


def _bomb(levels: int = 7) -> str:
    """10**levels aliased leaves in a few hundred bytes (billion laughs)."""
    lines = ['l0: &l0 ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


BAD: list[tuple[str, bytes, int | None, str]] = [
    ("alias-bomb", _bomb().encode(), None, "more than 50000 values"),
    ("recursive-alias", b"a: &a [*a]\n", 1, "nesting deeper"),
    ("deep-nesting", (b"a: " + b"[" * 100 + b"]" * 100 + b"\n"), 1, "nesting deeper"),
    ("deep-flow-5000", (b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n"), 1, "nesting deeper"),
    (
        "deep-block",
        b"a:\n" + b"".join(b" " * i + b"b:\n" for i in range(1, 200)),
        65,
        "nesting deeper",
    ),
    ("huge", b"a: " + b"x" * (256 * 1024 + 10) + b"\n", None, "bytes"),
    ("python-tag", b"a: 1\nb: !!python/object/apply:os.system [id]\n", 2, "!!python/object"),
    ("local-tag", b"a: !Ref x\n", 1, "the tag !Ref"),
    ("binary-tag", b"a: !!binary aGk=\n", 1, "!!binary"),
    ("merge-key", b"base: &b {x: 1}\nother:\n  <<: *b\n", 3, "merge keys"),
    ("duplicate-key", b"a: 1\nb: 2\na: 3\n", 3, "duplicate key (first at line 1)"),
    ("binary", b"a: 1\n\x00\x01\x02", 2, "binary"),
    ("latin-1", b"a: 1\nb: caf\xe9\n", 2, "not UTF-8"),
    ("utf-16", "a: 1\n".encode("utf-16"), 1, "UTF-16"),
    ("two-documents", b"a: 1\n---\nb: 2\n", 2, "several YAML documents"),
    ("version-99", b"version: 99\n", 1, "version: 99 is not a version"),
    ("version-text", b"version: one\n", 1, "version: 'one' is not a version"),
]


@pytest.mark.parametrize("kind", sorted(LOADERS))
@pytest.mark.parametrize(("case", "content", "line", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_files_are_refused_fast_with_file_and_line(
    tmp_path: Path, kind: str, case: str, content: bytes, line: int | None, words: str
) -> None:
    load, _ = LOADERS[kind]
    path = tmp_path / "in" / "file.yaml"
    path.parent.mkdir()
    path.write_bytes(content)
    started = time.monotonic()
    with pytest.raises(errors.ConfigError) as caught:
        load(path)
    assert time.monotonic() - started < 1.0, case
    assert caught.value.exit_code == errors.EXIT_INPUT
    message = caught.value.render()
    assert words in message, message
    name = "quarantine.yaml" if kind == "quarantine" else "file.yaml"
    if line is not None:
        assert f"{caught.value.source}".endswith(f"{name}:{line}"), message
    else:
        assert name in str(caught.value.source)


@pytest.mark.parametrize("kind", sorted(LOADERS))
def test_good_files_load(tmp_path: Path, kind: str) -> None:
    load, text = LOADERS[kind]
    path = tmp_path / "file.yaml"
    path.write_text(text)
    assert load(path) is not None


@pytest.mark.parametrize("kind", ["slo", "rules", "quarantine"])
def test_version_1_and_absent_version_read_the_same(tmp_path: Path, kind: str) -> None:
    load, text = LOADERS[kind]
    with_version = tmp_path / "a" / "file.yaml"
    with_version.parent.mkdir()
    with_version.write_text("version: 1\n" + text.removeprefix("version: 1\n"))
    without = tmp_path / "b" / "file.yaml"
    without.parent.mkdir()
    without.write_text(text.removeprefix("version: 1\n"))
    first, second = load(with_version), load(without)
    if hasattr(first, "model_dump"):  # the SLO config also remembers its path
        first, second = first.model_dump(), second.model_dump()
    assert first == second


def test_every_problem_at_once_sorted_by_line() -> None:
    text = "a: 1\na: 2\nb: !!python/name:os.system x\nc: {<<: {d: 1}}\n"
    with pytest.raises(errors.ConfigError) as caught:
        rules.parse_rules(text, source="r.yaml")
    message = caught.value.render()
    assert "(3 problems)" in message
    assert message.index("r.yaml:2:") < message.index("r.yaml:3:") < message.index("r.yaml:4:")
    assert caught.value.source == "r.yaml:2"
    text = "version: 1\nfoo: 1\ndefaults: {cooldown: 1.5h}\nrules:\n  - {name: 'a b'}\n"
    with pytest.raises(errors.ConfigError) as caught:
        rules.parse_rules(text, source="r.yaml")
    message = caught.value.render()
    assert "(3 problems)" in message, message
    for fragment in ("r.yaml:2: foo: unknown key", "r.yaml:3: defaults.cooldown", "r.yaml:5:"):
        assert fragment in message, message


def test_rules_read_camel_case_and_earlier_kebab_case() -> None:
    kebab = (
        "defaults: {max-rollbacks: 3}\n"
        "rules:\n  - {name: r, alert: {alertname: A}, max-rollbacks: 2}\n"
    )
    camel = kebab.replace("max-rollbacks", "maxRollbacks")
    for text in (kebab, camel):
        parsed = rules.parse_rules(text, source="r.yaml")
        assert parsed.defaults.max_rollbacks == 3
        assert parsed.rules[0].limits(parsed.defaults).max_rollbacks == 2


def test_quarantine_refuses_an_invalid_image_and_reads_run_url_both_ways() -> None:
    with pytest.raises(errors.ConfigError) as caught:
        quarantine.parse(
            "images:\n  - image: ok/web:1\n  - image: 'Not An Image!'\n", source="q.yaml"
        )
    assert "q.yaml:3" in caught.value.render()
    assert "not an image reference" in caught.value.render()
    for key in ("run-url", "runUrl"):
        parsed = quarantine.parse(f"images:\n  - image: web:1\n    {key}: https://x/runs/1\n")
        assert parsed.entries[0].run_url == "https://x/runs/1"
    rendered = quarantine.render(parsed)
    assert "runUrl: https://x/runs/1" in rendered
    assert quarantine.parse(rendered) == parsed


@pytest.mark.parametrize(
    ("report", "words"),
    [
        ({"verdict": "fail", "junk": 1}, "unknown key 'junk'"),
        ({"verdict": "fail", "objectives": [{"name": "x", "colour": "red"}]}, "colour"),
        ({"verdict": "", "objectives": []}, "verdict"),
        ({"objectives": []}, "'verdict' is required"),
        ({"verdict": "fail", "objectives": {"name": "x"}}, "objectives"),
    ],
)
def test_gate_report_junk_is_refused(tmp_path: Path, report: dict[str, Any], words: str) -> None:
    path = tmp_path / "gate.json"
    path.write_text(json.dumps(report, indent=2))
    with pytest.raises(errors.ConfigError) as caught:
        _load_evidence(path)
    assert words in caught.value.render()
    assert str(path) in caught.value.render()


def test_a_real_slo_gate_report_validates_against_the_evidence_model(tmp_path: Path) -> None:
    cfg = slo_config.load_text(
        "name: web\nanalysis:\n  minRequests: {query: 'sum(up)', value: 1}\nobjectives:\n"
        "  - {name: availability, query: qa, pass: '>= 0.99', warn: '>= 0.9', key: true}\n"
        "  - {name: latency, query: ql, pass: '< 500ms', baseline: qb}\n"
    )
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    result = models.ObjectiveResult(
        name="availability",
        key=True,
        weight=1,
        state="fail",
        reason="r",
        query="qa",
        value=math.nan,
        threshold=0.99,
        criteria=">= 0.99",
        series=(models.SeriesResult({"pod": "a"}, 0.5, None, 0.99, "fail", "r"),),
    )
    verdict = models.GateVerdict("fail", 0.0, "key objective failed: availability")
    run = gate.GateRun(
        "web",
        "once",
        t0,
        t0 + timedelta(seconds=1),
        (models.Measurement(0, t0, (result,), verdict),),
        (result,),
        verdict,
        traffic=models.TrafficCheck(query="sum(up)", required=1, seen=5, error=None),
    )
    data = slo_evidence.build_report(cfg, run, {"availability": [(t0, 0.5)]})
    path = tmp_path / "gate.json"
    path.write_text(json.dumps(data, indent=2, allow_nan=False))
    gate_report = _load_evidence(path)
    assert isinstance(gate_report, evidence.GateReport)
    ev = evidence.from_model(gate_report)
    assert evidence.gate_failed(ev)
    assert [o["name"] for o in ev.failing] == ["availability"]


def test_document_lines_and_plain_data() -> None:
    problems = config.Problems("f.yaml", config.Kind("test file", "test", "docs"))
    doc = config.read_text("a:\n  - b: 1\n    c: 2026-01-01\n  - x\n", problems)
    assert not problems
    assert doc.data == {"a": [{"b": 1, "c": "2026-01-01"}, "x"]}
    assert doc.line_of(("a", 0, "c")) == 3
    assert doc.line_of(("a", 1)) == 4
    assert doc.line_of(("a", 0, "nope")) == 2


def test_the_unreachable_prometheus_report_validates_too(tmp_path: Path) -> None:
    cfg = slo_config.load_text(SLO)
    data = slo_gate._unreachable_report(cfg, errors.DependencyUnavailable("down"))
    path = tmp_path / "gate.json"
    path.write_text(json.dumps(data, indent=2))
    report = _load_evidence(path)
    assert isinstance(report, evidence.GateReport)
    ev = evidence.from_model(report)
    assert ev.verdict == "inconclusive"
    assert not evidence.gate_failed(ev)
