"""SLO gating: the SLO file, judging measurements, scoring, the verdict, the gate flow.

* :mod:`~gitops_guard.slo.config`: ``slo.yaml`` model, ``${var}`` substitution, FILE:LINE errors;
* :mod:`~gitops_guard.slo.criteria`: ``">= 0.995"``, ``"<= +10%"``, ``"= 0"``, criteria sets;
* :mod:`~gitops_guard.slo.burnrate`: multiwindow burn-rate objectives as PromQL;
* :mod:`~gitops_guard.slo.evaluate`: one objective's samples -> its state;
* :mod:`~gitops_guard.slo.verdict`: scoring and the gate's verdict;
* :mod:`~gitops_guard.slo.live`: live mode's stop rule, a pure function over the measurements;
* :mod:`~gitops_guard.slo.gate`: the once / live flow over an injected query, clock and sleep;
* :mod:`~gitops_guard.slo.evidence`: the JSON report and the Markdown summary.

Everything here is pure policy: no HTTP, no runner, no real clock. The CLI wires
in :mod:`gitops_guard.prometheus.client`.
"""

from __future__ import annotations
