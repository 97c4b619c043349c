"""The SLO file: loading, ${var} substitution, and FILE:LINE errors.

Behaviours covered:
- the example file loads: five objectives, variables substituted, defaults applied;
- --var overrides file variables and adds new ones; $$ escapes a dollar;
- burn-rate objectives generate PromQL and default to pass "< 1";
- every problem is collected into one ConfigError (exit 2) whose lines name FILE:LINE
  and the key: unknown keys, bad criteria, unknown variables, missing query, both
  query and burnRate, relative criteria without baseline, duplicate names, bad
  durations, scoring warn above pass, YAML syntax (unquoted '>'), nothing to gate on;
- --var pairs without '=' are an InputError naming --var.
- live analysis keys: failureLimitMode, inconclusiveLimit, consecutiveSuccessLimit,
  allowOverlap (defaults and validation);
- Keptn's criteria sets are read, bad sets name the line; an unsigned percentage next
  to a baseline is refused as ambiguous; the longest query range of an objective.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_guard import errors
from gitops_guard.slo import config

ROOT = Path(__file__).resolve().parents[3]

VALID = """\
name: web
variables:
  app: web
  window: 5m
analysis:
  duration: 10m
  interval: 30s
  initialDelay: 1m
  failureLimit: 2
  minRequests:
    query: sum(increase(http_requests_total{app="${app}"}[10m]))
    value: 100
objectives:
  - name: availability
    query: sum(rate(x{app="${app}"}[${window}]))
    pass: ">= 0.995"
    warn: [">= 0.99"]
    key: true
    weight: 2
  - name: price
    query: cost{app="$${literal}"}
"""


def test_example_file_loads() -> None:
    cfg = config.load(ROOT / "examples" / "slo.yaml")
    assert [o.name for o in cfg.objectives] == [
        "availability",
        "latency-p99",
        "error-rate",
        "checkout-success",
        "memory-saturation",
    ]
    assert all("${" not in o.promql for o in cfg.objectives)
    assert cfg.analysis.min_requests is not None
    assert cfg.live is False


def test_valid_text_with_defaults_and_substitution() -> None:
    cfg = config.load_text(VALID)
    assert cfg.analysis.duration_seconds == 600
    assert cfg.analysis.interval_seconds == 30
    assert cfg.analysis.initial_delay_seconds == 60
    assert cfg.analysis.failure_limit == 2
    assert cfg.analysis.consecutive_error_limit == 4
    assert cfg.scoring.pass_percent == 90 and cfg.scoring.warn_percent == 75
    avail, price = cfg.objectives
    assert avail.promql == 'sum(rate(x{app="web"}[5m]))'
    assert avail.display_window == "5m"
    assert [c.text for c in avail.warn_criteria] == [">= 0.99"]
    assert price.promql == 'cost{app="${literal}"}'
    assert price.scored is False
    assert cfg.live is True


def test_var_overrides() -> None:
    cfg = config.load_text(VALID, overrides={"app": "api", "extra": "1"})
    assert cfg.objectives[0].promql == 'sum(rate(x{app="api"}[5m]))'
    assert cfg.variables["app"] == "api"
    assert cfg.variables["extra"] == "1"


def test_burn_rate_objective_generates_promql_and_default_pass() -> None:
    cfg = config.load_text(
        "name: b\nvariables: {app: web}\nobjectives:\n"
        "  - name: budget\n    key: true\n    burnRate:\n      target: 0.999\n"
        '      errors: r{app="${app}",code=~"5.."}\n      total: r{app="${app}"}\n'
    )
    objective = cfg.objectives[0]
    assert [c.text for c in objective.pass_criteria] == ["< 1"]
    assert 'r{app="web",code=~"5.."}[1h]' in objective.promql
    assert objective.display_window == "1h/5m x14.4, 6h/30m x6"


def _problems(text: str, source: str = "slo.yaml") -> str:
    with pytest.raises(errors.ConfigError) as info:
        config.load_text(text, source=source)
    assert info.value.exit_code == 2
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "name: a\nobjectives:\n  - name: x\n    query: up\n    pass: '>= 1'\n    colour: red\n",
            ["slo.yaml:6: objectives[0].colour: unknown key 'colour'"],
        ),
        (
            "name: a\nobjectives:\n  - name: x\n    query: up\n    pass: 'about 1'\n",
            ["slo.yaml:5: objectives[0].pass: cannot read criterion 'about 1'"],
        ),
        (
            "name: a\nobjectives:\n  - name: x\n    query: up{a=\"${nope}\"}\n    pass: '>= 1'\n",
            ["slo.yaml:4: objectives[0].query: unknown variable ${nope}", "--var nope=VALUE"],
        ),
        (
            "name: a\nobjectives:\n  - name: x\n    pass: '>= 1'\n",
            ["slo.yaml:3: objectives[0]: write exactly one of 'query'"],
        ),
        (
            "name: a\nobjectives:\n  - name: x\n    query: up\n    pass: '<= +10%'\n",
            ["slo.yaml:3: objectives[0]: the relative criteria <= +10% need a 'baseline'"],
        ),
        (
            "name: a\nobjectives:\n  - {name: x, query: up, pass: '>= 1'}\n"
            "  - {name: x, query: up, pass: '>= 1'}\n",
            ["slo.yaml:2: objectives: ", "repeated: x"],
        ),
        (
            "name: a\nanalysis:\n  duration: ten minutes\n"
            "objectives:\n  - {name: x, query: up, pass: '>= 1'}\n",
            ["slo.yaml:3: analysis.duration: not a duration: 'ten minutes'"],
        ),
        (
            "name: a\nscoring: {pass: 70, warn: 80}\n"
            "objectives:\n  - {name: x, query: up, pass: '>= 1'}\n",
            ["slo.yaml:2: scoring: scoring.warn (80) must not be above scoring.pass (70)"],
        ),
        (
            "name: a\nobjectives:\n  - name: x\n    query: up\n    pass: >= 1\n",
            ["not valid YAML", "Quote criteria"],
        ),
        (
            "name: a\nobjectives:\n  - {name: x, query: up}\n",
            ["slo.yaml:2: objectives: ", "nothing to gate on"],
        ),
        (
            "objectives: []\n",
            ["slo.yaml:1: name: 'name' is required", "slo.yaml:1: objectives: list at least one"],
        ),
        ("- just a list\n", ["slo.yaml:1: the SLO file must be a mapping"]),
    ],
)
def test_errors_name_file_line_and_key(text: str, expected: list[str]) -> None:
    message = _problems(text)
    for fragment in expected:
        assert fragment in message, message


def test_all_problems_are_collected_in_one_error() -> None:
    text = (
        "name: a\nfoo: 1\nobjectives:\n"
        "  - name: x\n    query: up{a=\"${v}\"}\n    pass: 'bad'\n"
        "  - name: 'no spaces allowed'\n    query: up\n    pass: '>= 1'\n    weight: -1\n"
    )
    with pytest.raises(errors.ConfigError) as info:
        config.load_text(text, source="deploy/slo.yaml")
    message = str(info.value)
    assert "(5 problems)" in message
    for where in (":2:", ":5:", ":6:", ":7:", ":10:"):  # foo, ${v}, bad, name, weight
        assert f"deploy/slo.yaml{where}" in message
    assert "deploy/slo.yaml:3: objectives" not in message
    assert info.value.source == "deploy/slo.yaml:2"
    assert info.value.file_line == ("deploy/slo.yaml", 2)


def test_missing_file_names_the_flag(tmp_path: Path) -> None:
    with pytest.raises(errors.ConfigError) as info:
        config.load(tmp_path / "absent.yaml")
    assert info.value.source == "--config"


@pytest.mark.parametrize(
    ("pairs", "parsed"),
    [(["app=web"], {"app": "web"}), (["a=b=c", "x="], {"a": "b=c", "x": ""})],
)
def test_parse_overrides(pairs: list[str], parsed: dict[str, str]) -> None:
    assert config.parse_overrides(pairs) == parsed


@pytest.mark.parametrize("pair", ["app", "=web"])
def test_parse_overrides_errors(pair: str) -> None:
    with pytest.raises(errors.InputError) as info:
        config.parse_overrides([pair])
    assert info.value.source == "--var"


def test_live_analysis_defaults_and_argo_fields() -> None:
    cfg = config.load_text(VALID)
    analysis = cfg.analysis
    assert analysis.failure_limit_mode == "consecutive"
    assert analysis.inconclusive_limit is None
    assert analysis.consecutive_success_limit == 0
    assert analysis.allow_overlap is False
    cfg = config.load_text(
        VALID.replace(
            "  failureLimit: 2\n",
            "  failureLimit: 2\n  failureLimitMode: total\n  inconclusiveLimit: 3\n"
            "  consecutiveSuccessLimit: 4\n  allowOverlap: true\n",
        )
    )
    analysis = cfg.analysis
    assert (analysis.failure_limit_mode, analysis.inconclusive_limit) == ("total", 3)
    assert (analysis.consecutive_success_limit, analysis.allow_overlap) == (4, True)


def test_failure_limit_mode_is_checked() -> None:
    message = _problems(VALID.replace("  failureLimit: 2\n", "  failureLimitMode: sometimes\n"))
    assert "slo.yaml:9: analysis.failureLimitMode:" in message
    assert "'consecutive' or 'total'" in message


def test_keptn_criteria_sets_are_read() -> None:
    cfg = config.load_text(
        "name: a\nobjectives:\n  - name: x\n    query: up\n    baseline: up\n    pass:\n"
        "      - criteria: ['<= +10%', '< 1000']\n      - criteria: '< 600'\n"
        "    warn:\n      - criteria: ['<= 800']\n"
    )
    objective = cfg.objectives[0]
    assert [[c.text for c in s] for s in objective.pass_sets] == [["<= +10%", "< 1000"], ["< 600"]]
    assert [c.text for c in objective.pass_criteria] == ["<= +10%", "< 1000", "< 600"]
    assert [[c.text for c in s] for s in objective.warn_sets] == [["<= 800"]]
    # The plain forms are one set: a string, or a list that must all hold.
    cfg = config.load_text(VALID)
    assert [[c.text for c in s] for s in cfg.objectives[0].pass_sets] == [[">= 0.995"]]


@pytest.mark.parametrize(
    ("criteria_yaml", "expected"),
    [
        (
            "[{criteria: ['< 1']}, '< 2']",
            "objectives[0].pass: write either criteria strings (all must hold) or a list",
        ),
        (
            "[{criteria: ['< 1'], weight: 2}]",
            "each criteria set is a mapping with one key, 'criteria' (a list of criteria "
            "that must all hold); other keys: weight",
        ),
        ("[{criteria: []}]", "a criteria set needs at least one criterion"),
        ("[{criteria: ['about 1']}]", "cannot read criterion 'about 1'"),
    ],
)
def test_bad_criteria_sets_name_the_line(criteria_yaml: str, expected: str) -> None:
    message = _problems(
        f"name: a\nobjectives:\n  - name: x\n    query: up\n    pass: {criteria_yaml}\n"
    )
    assert "slo.yaml:5: " in message
    assert expected in message, message


def test_unsigned_percent_next_to_a_baseline_is_ambiguous() -> None:
    message = _problems(
        "name: a\nobjectives:\n  - name: x\n    query: up\n    baseline: up\n    pass: '<= 10%'\n"
    )
    assert "slo.yaml:3: objectives[0]: the unsigned percentage <= 10% is ambiguous" in message
    assert "'<= +10%' for relative to the baseline, or '<= 0.1' for absolute" in message
    # Without a baseline it can only be absolute.
    cfg = config.load_text("name: a\nobjectives:\n  - {name: x, query: up, pass: '<= 10%'}\n")
    assert cfg.objectives[0].pass_criteria[0].number == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("query", "baseline", "seconds"),
    [
        ("sum(rate(x[5m])) / sum(rate(y[1m]))", None, 300),
        ("max_over_time(x[1h30m:1m])", None, 5400),
        ("rate(x[30s])", "rate(x[2m])", 120),
        ("up", None, None),
    ],
)
def test_range_seconds_is_the_longest_window(
    query: str, baseline: str | None, seconds: float | None
) -> None:
    objective = config.Objective.model_validate(
        {"name": "x", "query": query, "baseline": baseline, "pass": "< 1"}
    )
    assert objective.range_seconds == seconds
