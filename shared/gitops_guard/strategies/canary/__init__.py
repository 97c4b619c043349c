"""Canary: blue-green's two Deployments behind one Service, traffic moved step by step.

* :mod:`.layout`: the two colours (blue-green's reader) and a Service that selects both;
* :mod:`.plan`: the steps, the replica counts they need, where a run stands (pure);
* :mod:`.render`: commit messages with trailers, the parsed history, the summary;
* :mod:`.flow`: step commit -> argocd-wait -> rollout -> gate -> next step, promotion,
  or one abort commit reverting every step, on the publish engine.

See docs/canary.md.
"""
