"""The Kubernetes API through the official ``kubernetes`` client: the only module that imports it.

Credentials the usual way: ``--kubeconfig FILE`` (or ``$KUBECONFIG``) with an
optional context, else the in-cluster service account, else ``~/.kube/config``.
The bearer token is registered as a secret the moment it is loaded, so it never
reaches output.

Every foreign error is translated here, once (:func:`_translate`):

* a kubeconfig that does not load -> :class:`~gitops_guard.errors.ConfigError`
  naming the file (exit 2);
* 401/403 -> ``ConfigError`` naming the credentials (exit 2);
* 404 -> :class:`~gitops_guard.errors.InputError` naming the object and its flag;
* connection errors, timeouts and 5xx after retries ->
  :class:`~gitops_guard.errors.DependencyUnavailable` (exit 3).

Reads retry with jittered backoff (tenacity); a patch is sent once per attempt and
is idempotent (the same selector). This module holds no policy: it returns
:mod:`.models` values and lets :mod:`.readiness` and the flows decide.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from gitops_guard import actions, errors
from gitops_guard.kube import models

FIELD_MANAGER = "gitops-guard-blue-green"
"""The field manager of our Service selector patches (``metadata.managedFields``)."""
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
T = TypeVar("T")


class _Retry(Exception):
    """A failure worth another attempt; carries the translated error."""

    def __init__(self, error: errors.GitopsGuardError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass(frozen=True)
class Settings:
    """How to reach the API."""

    kubeconfig: str | None = None
    """A kubeconfig file; None: ``$KUBECONFIG``, then in-cluster, then ``~/.kube/config``."""
    context: str | None = None
    timeout_seconds: float = 10.0
    """Connect and read timeout of one request."""
    attempts: int = 3
    """Tries per read before the API counts as unreachable."""


def _config_error(where: str, exc: BaseException) -> errors.ConfigError:
    return errors.ConfigError(
        f"the kubeconfig does not load: {exc}",
        source=where,
        hint="Point --kubeconfig (or KUBECONFIG) at a valid kubeconfig file, or run inside "
        "the cluster with a service account.",
    )


def _load(settings: Settings) -> tuple[k8s.ApiClient, str, str]:
    """(api client, default namespace, where the credentials came from)."""
    path = settings.kubeconfig or os.environ.get("KUBECONFIG") or None
    configuration = k8s.Configuration()
    if path is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
        try:
            k8s_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        except ConfigException as exc:
            raise _config_error("in-cluster service account", exc) from exc
        namespace = "default"
        if SERVICE_ACCOUNT_NAMESPACE.is_file():
            namespace = SERVICE_ACCOUNT_NAMESPACE.read_text(encoding="utf-8").strip() or namespace
        where = "in-cluster service account"
    else:
        file = path or str(Path.home() / ".kube" / "config")
        where = file if path else "~/.kube/config"
        first = file.split(os.pathsep)[0]
        if not Path(first).is_file():
            raise _config_error(first, FileNotFoundError(f"{first} does not exist"))
        try:
            k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=first, context=settings.context, client_configuration=configuration
            )
            _, active = k8s_config.list_kube_config_contexts(config_file=first)  # type: ignore[no-untyped-call]
        except (ConfigException, OSError, ValueError, TypeError, KeyError) as exc:
            raise _config_error(first, exc) from exc
        except Exception as exc:  # PyYAML's errors and others from a file that is not YAML
            raise _config_error(first, exc) from exc
        namespace = "default"
        if settings.context is None and isinstance(active, dict):
            namespace = str((active.get("context") or {}).get("namespace") or "default")
        where = first
    for value in (configuration.api_key or {}).values():
        actions.register_secret(str(value).removeprefix("Bearer ").strip() or None)
    if configuration.password:
        actions.register_secret(str(configuration.password))
    configuration.retries = False  # our own retries, with jitter and translation
    return k8s.ApiClient(configuration), namespace, where


def _translate(
    exc: BaseException, *, what: str, source: str, where: str
) -> errors.GitopsGuardError:
    if isinstance(exc, ApiException):
        status = int(exc.status or 0)
        if status in (401, 403):
            return errors.ConfigError(
                f"the Kubernetes API refused {what} (HTTP {status} {exc.reason})",
                source=where,
                hint="Check the credentials of the kubeconfig context, and that its role may "
                "get/list Deployments, Services, EndpointSlices and Pods (and patch Services "
                "in --mode cluster).",
            )
        if status == 404:
            return errors.InputError(
                f"{what} does not exist in the cluster",
                source=source,
                hint="Check --namespace and the names, and that ArgoCD has synced them.",
            )
        return errors.DependencyUnavailable(
            f"the Kubernetes API failed on {what} (HTTP {status} {exc.reason})"
        )
    return errors.DependencyUnavailable(
        f"the Kubernetes API is unreachable while reading {what}: {type(exc).__name__}",
        hint="Check the API server address of the kubeconfig and the network; rerun the "
        "step: it continues where it stopped.",
    )


class KubeClient:
    """Typed, thin calls to the Kubernetes API; one method per call."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.api, self.namespace, self.where = _load(self.settings)
        self._core = k8s.CoreV1Api(self.api)
        self._apps = k8s.AppsV1Api(self.api)
        self._discovery = k8s.DiscoveryV1Api(self.api)
        self._custom = k8s.CustomObjectsApi(self.api)

    def close(self) -> None:
        self.api.close()  # type: ignore[no-untyped-call]

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ plumbing
    def _call(self, fn: Callable[[], T], *, what: str, source: str, retry: bool = True) -> T:
        def once() -> T:
            try:
                return fn()
            except ApiException as exc:
                error = _translate(exc, what=what, source=source, where=self.where)
                if isinstance(error, errors.DependencyUnavailable):
                    raise _Retry(error) from exc
                raise error from exc
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise _Retry(_translate(exc, what=what, source=source, where=self.where)) from exc

        try:
            for attempt in Retrying(
                stop=stop_after_attempt(max(1, self.settings.attempts if retry else 1)),
                wait=wait_random_exponential(multiplier=0.2, max=2.0),
                retry=retry_if_exception_type(_Retry),
                reraise=True,
            ):
                with attempt:
                    return once()
        except _Retry as exc:
            raise exc.error from exc.__cause__
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def _timeout(self) -> tuple[float, float]:
        return (self.settings.timeout_seconds, self.settings.timeout_seconds)

    def _raw(self, obj: object) -> dict[str, Any]:
        raw = self.api.sanitize_for_serialization(obj)  # type: ignore[no-untyped-call]
        return raw if isinstance(raw, dict) else {}

    # ------------------------------------------------------------ reads
    def get_deployment(self, name: str, *, namespace: str | None = None) -> models.DeploymentState:
        ns = namespace or self.namespace
        obj = self._call(
            lambda: self._apps.read_namespaced_deployment(name, ns, _request_timeout=self._timeout),
            what=f"Deployment {ns}/{name}",
            source="--service",
        )
        return models.DeploymentState.from_raw(self._raw(obj))

    def get_service(self, name: str, *, namespace: str | None = None) -> models.ServiceState:
        ns = namespace or self.namespace
        obj = self._call(
            lambda: self._core.read_namespaced_service(name, ns, _request_timeout=self._timeout),
            what=f"Service {ns}/{name}",
            source="--service",
        )
        return models.ServiceState.from_raw(self._raw(obj))

    def get_http_route(self, name: str, *, namespace: str | None = None) -> dict[str, Any]:
        """The Gateway API v1 ``HTTPRoute`` ``name`` as the API returns it (a dict)."""
        ns = namespace or self.namespace
        obj = self._call(
            lambda: self._custom.get_namespaced_custom_object(
                "gateway.networking.k8s.io",
                "v1",
                ns,
                "httproutes",
                name,
                _request_timeout=self._timeout,
            ),
            what=f"HTTPRoute {ns}/{name}",
            source="--route",
        )
        return obj if isinstance(obj, dict) else {}

    def list_endpoint_slices(
        self, service: str, *, namespace: str | None = None
    ) -> list[models.EndpointSliceState]:
        ns = namespace or self.namespace
        listed = self._call(
            lambda: self._discovery.list_namespaced_endpoint_slice(
                ns,
                label_selector=f"kubernetes.io/service-name={service}",
                _request_timeout=self._timeout,
            ),
            what=f"the EndpointSlices of Service {ns}/{service}",
            source="--service",
        )
        return [models.EndpointSliceState.from_raw(self._raw(i)) for i in listed.items or ()]

    def list_pods(
        self, selector: Mapping[str, str], *, namespace: str | None = None
    ) -> list[models.PodState]:
        ns = namespace or self.namespace
        text = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        listed = self._call(
            lambda: self._core.list_namespaced_pod(
                ns, label_selector=text, _request_timeout=self._timeout
            ),
            what=f"the Pods {text} in {ns}",
            source="--service",
        )
        return [models.PodState.from_raw(self._raw(i)) for i in listed.items or ()]

    def watch_endpoint_slices(
        self, service: str, *, timeout_seconds: int, namespace: str | None = None
    ) -> Iterator[str]:
        """Yield the event type (ADDED, MODIFIED, DELETED) of each change to the
        Service's EndpointSlices until ``timeout_seconds``; errors translated."""
        ns = namespace or self.namespace
        stream = k8s_watch.Watch().stream(  # type: ignore[no-untyped-call]
            self._discovery.list_namespaced_endpoint_slice,
            ns,
            label_selector=f"kubernetes.io/service-name={service}",
            timeout_seconds=max(1, int(timeout_seconds)),
            _request_timeout=(self.settings.timeout_seconds, timeout_seconds + 5),
        )
        try:
            for event in stream:
                yield str(event.get("type", ""))
        except ApiException as exc:
            raise _translate(
                exc, what=f"a watch of {ns}/{service}", source="--service", where=self.where
            ) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _translate(
                exc, what=f"a watch of {ns}/{service}", source="--service", where=self.where
            ) from exc

    # ------------------------------------------------------------ writes
    def patch_service_selector(
        self,
        name: str,
        selector: Mapping[str, str],
        *,
        namespace: str | None = None,
        field_manager: str = FIELD_MANAGER,
    ) -> models.ServiceState:
        """Set ``spec.selector`` keys of a Service (strategic merge patch, our field manager)."""
        ns = namespace or self.namespace
        body = {"spec": {"selector": dict(selector)}}
        obj = self._call(
            lambda: self._core.patch_namespaced_service(
                name,
                ns,
                body,
                field_manager=field_manager,
                _request_timeout=self._timeout,
            ),
            what=f"a patch of Service {ns}/{name}",
            source="--active-service",
        )
        return models.ServiceState.from_raw(self._raw(obj))
