"""Kubernetes pieces every target that runs pods shares (Airflow's KubernetesPodOperator,
KFP and Vertex pipelines, Argo...): resource requests and limits, the node selector for a
GPU model, the toleration for GPU nodes, and secrets exposed as environment variables.

Plain data (dicts in the Kubernetes API's own field names, in a stable order); each
backend wraps them in its own syntax (``k8s.V1ResourceRequirements(...)``, a YAML block).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pipespec import ir
from pipespec.spec import units

# How a deploy step with an endpoint and no command serves its model on a Kubernetes
# target: a KServe InferenceService or a Seldon Core SeldonDeployment (docs/serving.md).
Serving = Literal["kserve", "seldon"]
GPU_RESOURCE = "nvidia.com/gpu"
GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"
# Node labels set by NVIDIA GPU feature discovery (the GPU operator), the most portable
# way to ask Kubernetes for a GPU model.
GPU_PRODUCTS = {
    "nvidia-t4": "Tesla-T4",
    "nvidia-l4": "NVIDIA-L4",
    "nvidia-a10g": "NVIDIA-A10G",
    "nvidia-v100": "Tesla-V100-SXM2-16GB",
    "nvidia-a100": "NVIDIA-A100-SXM4-40GB",
    "nvidia-a100-80gb": "NVIDIA-A100-SXM4-80GB",
    "nvidia-h100": "NVIDIA-H100-80GB-HBM3",
}


@dataclass(frozen=True)
class ResourceRequirements:
    """A container's ``resources:``: requests and limits, quantity strings by name."""

    requests: dict[str, str]
    limits: dict[str, str]


def gpu_count(resources: ir.Resources) -> int:
    """GPUs the step asks for; an accelerator model alone means one."""
    return resources.gpu or (1 if resources.accelerator else 0)


def requirements(resources: ir.Resources) -> ResourceRequirements | None:
    """Requests and limits, or None when the step asks for nothing.

    Without `limits` written, memory is both requested and limited (a pod over its limit
    is killed, not slowed) and CPU is only requested, so a step may burst; written limits
    replace those. GPUs can only be limits.
    """
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    if resources.cpu is not None:
        requests["cpu"] = units.format_cpu(resources.cpu)
    if resources.cpu_limit is not None:
        limits["cpu"] = units.format_cpu(resources.cpu_limit)
    if resources.memory_bytes is not None:
        requests["memory"] = units.format_quantity(resources.memory_bytes)
    memory_limit = resources.memory_limit_bytes or resources.memory_bytes
    if memory_limit is not None:
        limits["memory"] = units.format_quantity(memory_limit)
    gpus = gpu_count(resources)
    if gpus:
        limits[GPU_RESOURCE] = str(gpus)
    if not requests and not limits:
        return None
    return ResourceRequirements(requests, limits)


def gpu_node_selector(resources: ir.Resources) -> dict[str, str]:
    """The node selector for the step's accelerator model; empty without one."""
    if not resources.accelerator:
        return {}
    return {GPU_PRODUCT_LABEL: GPU_PRODUCTS[resources.accelerator]}


def gpu_tolerations(resources: ir.Resources) -> list[dict[str, str]]:
    """GPU nodes are usually tainted so that only pods asking for GPUs land there."""
    if not gpu_count(resources):
        return []
    return [{"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}]


def node_selector(step: ir.Step) -> dict[str, str]:
    """The GPU model's label and the step's own node selector (its labels win: it was
    written for this cluster)."""
    return {**gpu_node_selector(step.resources), **dict(step.node_selector)}


# core/v1 Toleration's fields in the Kubernetes API's order (the IR keeps snake_case).
_TOLERATION_FIELDS = ("key", "operator", "value", "effect", "toleration_seconds")


def tolerations(step: ir.Step) -> list[dict[str, Any]]:
    """The GPU taint's toleration and the step's own, without repeats, fields in order."""
    out: list[dict[str, Any]] = []
    for written in (*gpu_tolerations(step.resources), *step.tolerations):
        toleration = {f: written[f] for f in _TOLERATION_FIELDS if f in written}
        if toleration not in out:
            out.append(toleration)
    return out


@dataclass(frozen=True)
class SecretEnv:
    """One environment variable read from a key of a Kubernetes Secret."""

    env: str
    secret: str  # the Kubernetes Secret's name
    key: str  # the key inside it


@dataclass(frozen=True)
class SecretsAsEnv:
    env: list[SecretEnv]
    # Secrets the step uses that have no `kubernetes:` mapping, in the step's order: the
    # backend reports each one (a value is never written into a manifest instead).
    unmapped: list[ir.SecretUse]


def secrets_as_env(step: ir.Step, secrets: Mapping[str, ir.SecretRef]) -> SecretsAsEnv:
    """The step's secrets as ``env`` from Kubernetes Secrets (by reference, never values)."""
    found: list[SecretEnv] = []
    unmapped: list[ir.SecretUse] = []
    for use in step.secrets:
        ref = secrets[use.secret].platforms.get("kubernetes")
        if ref is None:
            unmapped.append(use)
        else:
            found.append(SecretEnv(use.env, ref["secret"], ref["key"]))
    return SecretsAsEnv(found, unmapped)
