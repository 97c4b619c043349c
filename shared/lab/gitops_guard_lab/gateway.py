"""The lab's Gateway: a loopback proxy that routes real HTTP by an HTTPRoute's weights.

:class:`Gateway` is the data plane of one Gateway API v1 ``HTTPRoute``
(``gateway.networking.k8s.io/v1``) as the Kubernetes stand-in holds it, synced from
Git like every other object. For each request it

1. reads the route (so a new sync takes effect at the next request) and picks the
   rule whose ``matches`` fit the path: ``Exact`` before ``PathPrefix``, the longer
   prefix first, then the rule's order (the Gateway API's precedence, for paths); a
   rule without ``matches`` is ``PathPrefix /``; no route, or no rule: 404;
2. picks one of the rule's ``backendRefs`` in proportion to ``weight`` (0..1,000,000,
   default 1, relative to the rule's total) by *smooth weighted round robin*: every
   window of ``total`` requests holds each backend exactly ``weight`` times, spread
   evenly, so an observed share is the weight's to within a few requests (Envoy draws
   at random instead; exact shares make the lab's figures readable);
3. sends it to the picked Service through that Service's ready endpoints
   (:class:`gitops_guard_lab.colours.Proxy`: the EndpointSlices the stand-in's
   controller keeps).

A backendRef that cannot be resolved (no such Service, a kind other than Service)
keeps its share of the picks, and those requests answer 500 from the gateway, never
reaching a backend, as the Gateway API says of invalid backends; a rule whose
weights are all 0 answers 500 too. The route's ``status.parents[].conditions``
(``Accepted``, ``ResolvedRefs``: ``BackendNotFound``) are written by the stand-in's
controller (:meth:`gitops_guard_lab.kube_store.KubeStore.reconcile`), the control
plane half of the same Gateway, from the same rule: a backend is resolved when its
Service exists.

Not modeled: Gateway and GatewayClass objects and listeners (every ``parentRef`` is
accepted), ``hostnames``, header/query/method matches (a match that names them is
skipped), filters, timeouts, cross-namespace references and ReferenceGrants, TLS.

:attr:`Gateway.periods` records what was routed: one :class:`Period` per set of
weights in force, with the picks per backend, so a share can be read per canary step.
Loopback only.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitops_guard_lab import colours, kube_api

Weights = tuple[tuple[str, int], ...]
"""(backend Service name, weight) of one rule, in the rule's order."""


@dataclass
class Period:
    """The requests routed while one rule's weights were in force."""

    weights: dict[str, int]
    started_at: float
    """Epoch seconds of the first request under these weights."""
    picks: Counter[str] = field(default_factory=Counter)
    """Requests given to each backend (those of an unresolved backend answered 500)."""
    ended_at: float = 0.0
    """Epoch seconds of the last request under these weights."""

    def share(self, backend: str) -> float | None:
        total = sum(self.picks.values())
        return self.picks[backend] / total if total else None


def weights_of(rule: Mapping[str, Any]) -> Weights:
    """A rule's backendRefs as (name, weight); the weight defaults to 1 (Gateway API v1)."""
    out = []
    for ref in rule.get("backendRefs") or []:
        weight = ref.get("weight", 1)
        out.append((str(ref.get("name", "")), weight if isinstance(weight, int) else 0))
    return tuple(out)


class SmoothRoundRobin:
    """Smooth weighted round robin (nginx's): exact shares over every ``total`` picks."""

    def __init__(self, weights: Weights) -> None:
        self.weights = weights
        self.total = sum(max(w, 0) for _, w in weights)
        self.current = [0] * len(weights)

    def pick(self) -> int | None:
        """The index of the next backend; None when every weight is 0."""
        if self.total <= 0:
            return None
        best = 0
        for i, (_, weight) in enumerate(self.weights):
            self.current[i] += max(weight, 0)
            if self.current[i] > self.current[best]:
                best = i
        self.current[best] -= self.total
        return best


def _path_match(match: Mapping[str, Any], path: str) -> tuple[int, int] | None:
    """How specifically ``match`` fits ``path`` (higher first), or None."""
    if any(match.get(k) for k in ("headers", "queryParams", "method")):
        return None  # not modeled: never route by a match the gateway cannot judge
    spec = match.get("path") or {}
    kind = str(spec.get("type", "PathPrefix"))
    value = str(spec.get("value", "/"))
    path = path.split("?", 1)[0] or "/"
    if kind == "Exact":
        return (2, len(value)) if path == value else None
    if kind == "RegularExpression":
        return (1, len(value)) if re.fullmatch(value, path) else None
    prefix = value.rstrip("/")
    if prefix == "" or path == prefix or path.startswith(prefix + "/"):
        return (0, len(prefix))
    return None


def pick_rule(spec: Mapping[str, Any], path: str) -> int | None:
    """The index of the rule that serves ``path``, by the Gateway API's path precedence."""
    best: tuple[tuple[int, int], int] | None = None
    for index, rule in enumerate(spec.get("rules") or []):
        matches: Sequence[Mapping[str, Any]] = rule.get("matches") or [{}]
        for match in matches:
            fit = _path_match(match, path)
            if fit is not None and (best is None or fit > best[0]):
                best = (fit, index)
    return None if best is None else best[1]


class Gateway(colours.Proxy):
    """A loopback listener that routes each request by the weights of HTTPRoute ``route``."""

    def __init__(self, store: kube_api.KubeStore, *, route: str) -> None:
        super().__init__(store, service=f"gateway-{route}")
        self.route = route
        self.namespace = colours.NAMESPACE
        self.periods: list[Period] = []
        self._lock = threading.Lock()
        self._balancers: dict[tuple[int, Weights], SmoothRoundRobin] = {}
        self._backends: dict[str, colours.Proxy] = {}

    def _choose(self, path: str) -> tuple[str | None, str]:
        """(backend Service name, or None with the reason) for one request."""
        obj = self.store.get("HTTPRoute", self.namespace, self.route)
        if obj is None:
            return None, "404"
        spec = obj.get("spec") or {}
        index = pick_rule(spec, path)
        if index is None:
            return None, "404"
        rule = spec["rules"][index]
        weights = weights_of(rule)
        with self._lock:
            balancer = self._balancers.get((index, weights))
            if balancer is None:
                balancer = self._balancers[(index, weights)] = SmoothRoundRobin(weights)
            chosen = balancer.pick()
            if chosen is None:
                return None, "500"
            name = weights[chosen][0]
            now = time.time()
            current = dict(weights)
            if not self.periods or self.periods[-1].weights != current:
                self.periods.append(Period(weights=current, started_at=now))
            period = self.periods[-1]
            period.picks[name] += 1
            period.ended_at = now
        ref = (rule.get("backendRefs") or [])[chosen]
        if str(ref.get("group", "")) != "" or str(ref.get("kind", "Service")) != "Service":
            return None, "500"
        if self.store.get("Service", self.namespace, name) is None:
            return None, "500"
        return name, ""

    def forward(
        self, path: str, headers: dict[str, str]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Route one request (see the module docstring)."""
        name, status = self._choose(path)
        if name is None:
            text = {
                "404": f"no rule of HTTPRoute {self.route} matches {path}\n",
                "500": "the picked backend is invalid, or every weight is 0\n",
            }[status]
            return int(status), [("Content-Type", "text/plain")], text.encode()
        backend = self._backends.get(name)
        if backend is None:
            backend = self._backends.setdefault(name, colours.Proxy(self.store, service=name))
        return backend.forward(path, headers)

    def picks(self, weights: Mapping[str, int], *, since: float = 0.0) -> Counter[str]:
        """The picks per backend of every period with exactly ``weights``, from ``since``."""
        total: Counter[str] = Counter()
        with self._lock:
            for period in self.periods:
                if period.weights == dict(weights) and period.ended_at >= since:
                    total.update(period.picks)
        return total
