"""Clients for the Prometheus family of HTTP APIs.

* :mod:`gitops_guard.prometheus.models`: parsed query answers (vector, matrix, scalar).
* :mod:`gitops_guard.prometheus.client`: :class:`~.client.PrometheusClient`, instant and
  range queries with timeouts, retries and one place that translates failures.
* ``alertmanager``: the Alertmanager API client (added beside these).

Clients do I/O and know nothing of policy: they never judge a value.
Import the submodules; this package module imports nothing heavy.
"""

from __future__ import annotations
