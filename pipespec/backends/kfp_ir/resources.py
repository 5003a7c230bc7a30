"""A step's Kubernetes settings for KFP: the container's resources (in the PipelineSpec)
and the pod's settings kfp-kubernetes keeps in the PlatformSpec (timeout, node selector,
tolerations, secrets as env), written as kfp's compiler and kfp-kubernetes write them."""

from __future__ import annotations

from typing import Any

from pipespec import ir
from pipespec.backends import k8s

# Bytes per unit of a Kubernetes quantity suffix; kfp also writes the old float fields in
# GB (10^9 bytes) for older KFP installs, computed the way kfp's compiler does.
_UNITS = {
    "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50, "Ei": 1 << 60,
    "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
}  # fmt: skip
_GB = 10**9


def _memory_gb(quantity: str) -> float:
    for suffix in sorted(_UNITS, key=len, reverse=True):
        if quantity.endswith(suffix):
            number = float(quantity[: -len(suffix)])
            return number if suffix == "G" else number * _UNITS[suffix] / _GB
    return float(quantity) / _GB


def _cpu(quantity: str) -> float:
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def container_resources(resources: ir.Resources, accelerator: str) -> dict[str, Any]:
    """``container.resources``: requests, limits and the accelerator (named ``accelerator``:
    a Kubernetes resource, or a Vertex accelerator type), both the ``resource*`` strings
    and the older float fields, as kfp writes them."""
    need = k8s.requirements(resources)
    if need is None:
        return {}
    out: dict[str, Any] = {}
    for kind, values in (("Request", need.requests), ("Limit", need.limits)):
        if "cpu" in values:
            out[f"resourceCpu{kind}"] = values["cpu"]
            out[f"cpu{kind}"] = _cpu(values["cpu"])
        if "memory" in values:
            out[f"resourceMemory{kind}"] = values["memory"]
            out[f"memory{kind}"] = _memory_gb(values["memory"])
    gpus = k8s.gpu_count(resources)
    if gpus:
        out["accelerator"] = {
            "count": str(gpus),
            "resourceCount": str(gpus),
            "resourceType": accelerator,
            "type": accelerator,
        }
    return out


def _toleration(written: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        k: written[k] for k in ("key", "operator", "value", "effect") if k in written
    }
    if "toleration_seconds" in written:
        out["tolerationSeconds"] = str(written["toleration_seconds"])
    return out


def platform_config(step: ir.Step, secrets: list[k8s.SecretEnv]) -> dict[str, Any]:
    """The step's KubernetesExecutorConfig (kfp-kubernetes' JSON), empty when it has none."""
    config: dict[str, Any] = {}
    if step.timeout_s is not None:
        config["activeDeadlineSeconds"] = str(step.timeout_s)
    labels = k8s.node_selector(step)
    if labels:
        config["nodeSelector"] = {"labels": dict(sorted(labels.items()))}
    tolerations = [_toleration(t) for t in k8s.tolerations(step)]
    if tolerations:
        config["tolerations"] = tolerations
    if secrets:
        config["secretAsEnv"] = [
            {
                "keyToEnv": [{"envVar": s.env, "secretKey": s.key}],
                "optional": False,
                "secretName": s.secret,
                "secretNameParameter": {"runtimeValue": {"constant": s.secret}},
            }
            for s in secrets
        ]
    return config
