"""Blue-green: two Deployments that differ in a colour label, an active Service whose
selector names the live colour, an optional preview Service on the idle colour.

* :mod:`.models`: the layout read from Git, decisions, the result;
* :mod:`.layout`: read and validate the layout from the manifests (exit 2 on ambiguity);
* :mod:`.edits`: byte-exact edits (image, replicas, selector colour);
* :mod:`.plan`: what now? from the layout, the history's trailers and the target;
* :mod:`.render`: commit messages with trailers, the job summary timeline;
* :mod:`.ports`: the flow's settings and the I/O it is given (protocols, outcomes);
* :mod:`.traffic`: readiness on the traffic path, polled through the Kubernetes API;
* :mod:`.steps`: argocd-wait, the SLO gate and the preview test as callables;
* :mod:`.flow`: prepare -> ready -> preview gate -> switch -> post-switch gate ->
  switch back or scale down, on the publish engine, argocd-wait, the gate and kube.

See docs/blue-green.md.
"""
