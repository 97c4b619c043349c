"""Readiness on the traffic path, polled through the Kubernetes API until it holds.

:class:`Traffic` asks :mod:`gitops_guard.kube.readiness` (the pure rules) about what
the API answers now, again every ``poll_seconds`` until the rule holds, says it can
never hold (a progress deadline exceeded, a colour scaled to 0), or the time is up.
The clock and the sleep are given, so tests and the flow decide how time passes.
This module must not decide what to do with the answer: the flow does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gitops_guard import kube
from gitops_guard.strategies.bluegreen.ports import KubeReader

Check = Callable[[], tuple[bool, bool, str]]
"""One look: (done, hopeless, message)."""


@dataclass
class Traffic:
    """The traffic-path checks of one run."""

    api: KubeReader
    namespace: str | None
    colour_key: str
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    poll_seconds: float

    def poll(self, check: Check, timeout: float) -> tuple[bool, str]:
        """Poll ``check`` until done, hopeless or ``timeout``; (done, last message)."""
        deadline = self.clock() + timeout
        while True:
            done, hopeless, message = check()
            if done or hopeless:
                return done, message
            if self.clock() >= deadline:
                return False, f"{message} (still so after {timeout:g} s)"
            self.sleep(self.poll_seconds)

    def endpoints(self, service: str, colour: str, image: str | None) -> kube.EndpointCheck:
        """What ``service``'s EndpointSlices route to right now."""
        slices = self.api.list_endpoint_slices(service, namespace=self.namespace)
        selector = {self.colour_key: colour}
        pods = self.api.list_pods(selector, namespace=self.namespace)
        return kube.check_endpoints(slices, pods, service=service, labels=selector, image=image)

    def ready(
        self, deployment: str, colour: str, image: str, *, preview: str | None, timeout: float
    ) -> tuple[bool, str]:
        """The Deployment rolled out with ``image`` (kubectl's rule), not at 0 replicas,
        and the preview Service (when there is one) routing only to its ready pods."""

        def check() -> tuple[bool, bool, str]:
            dep = self.api.get_deployment(deployment, namespace=self.namespace)
            status = kube.rollout_status(dep, image=image)
            if not status.done:
                return False, status.failed, status.message
            if dep.spec_replicas == 0:
                return False, True, f"{deployment} is scaled to 0: nothing could serve"
            if preview is None:
                return True, False, status.message
            found = self.endpoints(preview, colour, image)
            return found.ok, False, found.message

        return self.poll(check, timeout)

    def serving(
        self, service: str, colour: str, image: str | None, *, timeout: float
    ) -> tuple[bool, str]:
        """Wait until ``service`` routes only to ``colour`` (and ``image``)."""

        def check() -> tuple[bool, bool, str]:
            found = self.endpoints(service, colour, image)
            return found.ok, False, found.message

        return self.poll(check, timeout)
