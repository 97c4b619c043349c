"""Observability of delivery: deployment records, DORA metrics, rendered monitoring.

* :mod:`.records`: what the GitHub Deployment record of a workflow run says (pure);
* :mod:`.history`: deploy and rollback events from the GitOps history (git log);
* :mod:`.dora`: the five DORA metrics over those events (pure);
* :mod:`.render`: the metrics report as a table, JSON, Markdown and HTML (pure);
* :mod:`.monitoring`: Prometheus rule files and their promtool tests from slo.yaml (pure).

See docs/observability.md.
"""
