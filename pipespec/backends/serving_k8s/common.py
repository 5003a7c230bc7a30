"""What the KServe and Seldon manifests share: the model URI marker, the name check,
metadata, and the step's resources and placement in the Kubernetes API's field names."""

from __future__ import annotations

import re
from typing import Any

from pipespec import ir
from pipespec.backends import k8s
from pipespec.backends.serving_k8s.model import Manifest

# Where a manifest needs the model's location, known only when the run has made it. The
# applier replaces a string value equal to this, never a part of one (no text is spliced).
# `$(` is avoided: the kubelet expands $(VAR) in a container's env values.
MODEL_URI_MARKER = "pipespec://model-uri"
MANAGED_BY = {"app.kubernetes.io/managed-by": "pipespec"}
# RFC 1123 label, as Kubernetes checks a name; KServe also wants it to start with a letter.
DNS_LABEL_RE = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")

# core/v1 Toleration: the IR's snake_case field names as the API spells them.
_TOLERATION_KEYS = {"toleration_seconds": "tolerationSeconds"}


def endpoint_of(step: ir.Step, manifest: Manifest) -> ir.Endpoint | None:
    """The step's endpoint after checking its name is one Kubernetes takes."""
    details = step.details
    endpoint = details.endpoint if isinstance(details, ir.DeployDetails) else None
    if endpoint is None:
        manifest.error(
            step,
            "a deploy step served on Kubernetes needs an `endpoint` (its name and replicas)",
            "write `endpoint: {name: ...}`, or give the step its own `command`",
        )
        return None
    if not DNS_LABEL_RE.match(endpoint.name):
        manifest.error(
            step,
            f"endpoint name '{endpoint.name}' is not a Kubernetes resource name (an RFC 1123 "
            "label: lower-case letters, digits and inner hyphens, starting with a letter, "
            "at most 63 characters)",
            "end the name with a letter or digit",
        )
    return endpoint


def metadata(step: ir.Step, name: str, namespace: str | None) -> dict[str, Any]:
    """The resource's name, namespace (None: the applier's own namespace at run time) and
    where it came from."""
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = dict(MANAGED_BY)
    meta["annotations"] = {"pipespec.dev/step": step.id}
    return meta


def resources(step: ir.Step) -> dict[str, Any] | None:
    """The serving container's requests and limits (GPUs as limits), as the pods' are."""
    found = k8s.requirements(step.resources)
    if found is None:
        return None
    out: dict[str, Any] = {}
    if found.requests:
        out["requests"] = dict(found.requests)
    if found.limits:
        out["limits"] = dict(found.limits)
    return out


def tolerations(step: ir.Step) -> list[dict[str, Any]]:
    return [
        {_TOLERATION_KEYS.get(key, key): value for key, value in toleration.items()}
        for toleration in k8s.tolerations(step)
    ]


def placement(step: ir.Step) -> dict[str, Any]:
    """A pod spec's nodeSelector and tolerations for the step (GPU model, its own)."""
    out: dict[str, Any] = {}
    selector = k8s.node_selector(step)
    if selector:
        out["nodeSelector"] = selector
    found = tolerations(step)
    if found:
        out["tolerations"] = found
    return out
