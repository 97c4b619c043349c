"""The gate per application without Prometheus: combining verdicts, choosing the apps,
filling each app's variables (slo.per_app).

Covers: the combined verdict over every mix (fail beats inconclusive beats warn
beats pass; no app at all is inconclusive, never a pass), naming the apps; an app's
variables are only those ArgoCD fills, set over --var and the file's; an app whose
variables cannot fill the file is exit 2 naming the app and the variable, and
--var can fill the gap; a file that is not an argocd-wait report (or lists no app)
is exit 2 naming it; names and selectors that match no ArgoCD application are exit
2 naming the flag; destinations give namespace and cluster (name, else server).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_guard import errors
from gitops_guard.argocd import models as argo_models
from gitops_guard.slo import per_app

SLO = """\
name: fleet
variables:
  window: 5m
objectives:
  - name: errors
    query: sum(rate(http_requests_total{app="${app}",namespace="${namespace}"}[${window}]))
    pass: ["<= 1"]
"""


@pytest.mark.parametrize(
    ("verdicts", "expected", "named"),
    [
        ([], "inconclusive", ""),
        ([("a", "pass"), ("b", "pass")], "pass", "all 2 applications pass"),
        ([("a", "pass"), ("b", "warn")], "warn", "1 of 2 applications warned: b"),
        ([("a", "warn"), ("b", "inconclusive")], "inconclusive", ": b"),
        ([("a", "inconclusive"), ("b", "fail"), ("c", "fail")], "fail", "2 of 3"),
        ([("a", "fail"), ("b", "pass")], "fail", "failed the SLOs: a"),
    ],
)
def test_combine(verdicts: list[tuple[str, str]], expected: str, named: str) -> None:
    verdict, reason = per_app.combine(verdicts)  # type: ignore[arg-type]
    assert verdict == expected
    assert named in reason


def test_variables_are_what_argocd_fills() -> None:
    assert per_app.AppTarget("web-eu").variables() == {"app": "web-eu"}
    target = per_app.AppTarget("web-eu", namespace="web", cluster="eu-1")
    assert target.variables() == {"app": "web-eu", "namespace": "web", "cluster": "eu-1"}


def test_an_app_the_file_cannot_be_filled_for_is_exit_2_naming_it(tmp_path: Path) -> None:
    slo = tmp_path / "slo.yaml"
    slo.write_text(SLO)
    targets = [per_app.AppTarget("web-eu", namespace="web"), per_app.AppTarget("web-us")]
    with pytest.raises(errors.ConfigError) as caught:
        per_app.load_each(slo, targets, {})
    text = caught.value.render()
    assert "application 'web-us'" in text
    assert "${namespace}" in text
    assert "--var" in text
    assert caught.value.source is not None and caught.value.source.startswith(str(slo))


def test_var_fills_what_argocd_leaves_empty_and_the_app_wins(tmp_path: Path) -> None:
    slo = tmp_path / "slo.yaml"
    slo.write_text(SLO)
    targets = [per_app.AppTarget("web-eu", namespace="web"), per_app.AppTarget("web-us")]
    cfgs = per_app.load_each(slo, targets, {"namespace": "prod", "app": "ignored"})
    assert cfgs["web-eu"].variables == {"window": "5m", "namespace": "web", "app": "web-eu"}
    assert cfgs["web-us"].variables["namespace"] == "prod"
    assert 'namespace="prod"' in cfgs["web-us"].objectives[0].promql


@pytest.mark.parametrize(
    "text",
    ["not json", '{"apps": []}', '{"result": "done"}', '{"apps": [{"outcome": "done"}]}'],
)
def test_a_file_that_is_not_a_wait_report_is_exit_2(tmp_path: Path, text: str) -> None:
    path = tmp_path / "wait.json"
    path.write_text(text)
    with pytest.raises(errors.InputError) as caught:
        per_app.targets_from_wait(path)
    assert str(path) in (caught.value.source or "")


def test_a_wait_report_gives_each_app_and_what_the_wait_saw(tmp_path: Path) -> None:
    path = tmp_path / "wait.json"
    path.write_text(
        '{"result": "done", "requests": 3, "apps": [{"name": "a", "outcome": "done", '
        '"reason": "ok", "namespace": "web", "cluster": "eu-1", "health": "Healthy"}]}'
    )
    assert per_app.targets_from_wait(path) == [
        per_app.AppTarget("a", "web", "eu-1", waited="done", wait_reason="ok")
    ]


class _Lister:
    def __init__(self, apps: list[dict[str, object]]) -> None:
        self.apps = [argo_models.Application.model_validate(a) for a in apps]
        self.selectors: list[str | None] = []

    def list_applications(self, *, selector: str | None = None) -> list[argo_models.Application]:
        self.selectors.append(selector)
        return self.apps


def _app(app: str, **destination: str) -> dict[str, object]:
    return {"metadata": {"name": app}, "spec": {"destination": destination}}


def test_apps_from_argocd_take_the_destination() -> None:
    lister = _Lister(
        [
            _app("b", server="https://10.0.0.1", namespace="web"),
            _app("a", name="eu-1", server="https://10.0.0.2", namespace="web"),
        ]
    )
    targets = per_app.targets_from_argocd(lister, selector="team=web", names=())
    assert targets == [
        per_app.AppTarget("a", "web", "eu-1"),
        per_app.AppTarget("b", "web", "https://10.0.0.1"),
    ]
    assert lister.selectors == ["team=web"]


@pytest.mark.parametrize(
    ("selector", "names", "source"),
    [("team=nobody", (), "--selector"), (None, ("a", "ghost"), "--app")],
)
def test_nothing_to_judge_is_exit_2(
    selector: str | None, names: tuple[str, ...], source: str
) -> None:
    lister = _Lister([] if selector else [_app("a", namespace="web")])
    with pytest.raises(errors.InputError) as caught:
        per_app.targets_from_argocd(lister, selector=selector, names=names)
    assert caught.value.source == source
    assert caught.value.exit_code == 2
