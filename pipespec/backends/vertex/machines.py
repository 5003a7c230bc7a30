"""Machines on Vertex AI: the portable accelerator names as Vertex's accelerator types, and
the machine type a step's cpu, memory and GPUs fit on.

Vertex picks no machine from a cpu or memory request: a training job names a machine type
(and an accelerator type and count), so pipespec picks the smallest one that holds what
the step asks for, in the family that carries its GPU model. ``targets.vertex.instance_type``
on a step names one outright.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipespec import ir
from pipespec.backends import k8s
from pipespec.backends.placeholders import param_of
from pipespec.backends.vertex.options import MACHINE_TYPE_RE

# Portable name -> Vertex's AcceleratorType. The A10G is AWS-only: Vertex has none.
ACCELERATORS = {
    "nvidia-t4": "NVIDIA_TESLA_T4",
    "nvidia-l4": "NVIDIA_L4",
    "nvidia-v100": "NVIDIA_TESLA_V100",
    "nvidia-a100": "NVIDIA_TESLA_A100",
    "nvidia-a100-80gb": "NVIDIA_A100_80GB",
    "nvidia-h100": "NVIDIA_H100_80GB",
}
_GIB = 1 << 30
# A machine type or count chosen per run: the param's value reaches the job as an input.
# N1 shapes (vCPUs); standard has 3.75 GB per vCPU, highmem 6.5 GB.
_N1_SIZES = (2, 4, 8, 16, 32, 64, 96)
_N1_MEMORY_GB = {"standard": 3.75, "highmem": 6.5}
# GPU families with the GPU count fixed by the shape: count -> machine type.
_FIXED_GPU_SHAPES = {
    "NVIDIA_TESLA_A100": {1: "a2-highgpu-1g", 2: "a2-highgpu-2g", 4: "a2-highgpu-4g",
                          8: "a2-highgpu-8g", 16: "a2-megagpu-16g"},
    "NVIDIA_A100_80GB": {1: "a2-ultragpu-1g", 2: "a2-ultragpu-2g", 4: "a2-ultragpu-4g",
                         8: "a2-ultragpu-8g"},
    "NVIDIA_H100_80GB": {1: "a3-highgpu-1g", 2: "a3-highgpu-2g", 4: "a3-highgpu-4g",
                         8: "a3-highgpu-8g"},
    "NVIDIA_L4": {1: "g2-standard-4", 2: "g2-standard-24", 4: "g2-standard-48",
                  8: "g2-standard-96"},
}  # fmt: skip
# Endpoint sizes a spec may name portably (`endpoint.instance_type`).
ENDPOINT_SIZES = {
    "small": "n1-standard-2",
    "medium": "n1-standard-4",
    "large": "n1-standard-8",
    "xlarge": "n1-standard-16",
}


class MachineError(ValueError):
    """The step asks for a machine Vertex does not have; the message says which part."""


@dataclass(frozen=True)
class Machine:
    machine_type: str
    accelerator_type: str | None = None
    accelerator_count: int = 0


def accelerator_type(resources: ir.Resources) -> str | None:
    """Vertex's name of the step's GPU model; None without GPUs."""
    if not k8s.gpu_count(resources):
        return None
    if resources.accelerator is None:
        raise MachineError(
            "a GPU count without `accelerator:`: Vertex needs the GPU model "
            f"({', '.join(sorted(ACCELERATORS))})"
        )
    if resources.accelerator not in ACCELERATORS:
        raise MachineError(
            f"Vertex AI has no {resources.accelerator} accelerator "
            f"(it has {', '.join(sorted(ACCELERATORS))})"
        )
    return ACCELERATORS[resources.accelerator]


def _n1(resources: ir.Resources) -> str | None:
    cpu = resources.cpu or 0
    memory_gb = (resources.memory_bytes or 0) / _GIB
    for flavour in ("standard", "highmem"):
        for size in _N1_SIZES:
            if size >= cpu and size * _N1_MEMORY_GB[flavour] >= memory_gb:
                return f"n1-{flavour}-{size}"
    return None


def machine_for(step: ir.Step, default: str) -> Machine:
    """The machine of a training job for ``step``: its own ``targets.vertex.instance_type``,
    else the smallest that fits its resources (``default`` when it asks for nothing)."""
    resources = step.resources
    accelerator = accelerator_type(resources)
    count = k8s.gpu_count(resources)
    own = (step.target_overrides.get("vertex") or {}).get("instance_type")
    if isinstance(own, str):
        # Checked here: it reaches the job's worker pool, where Vertex would substitute a
        # `{{$` and reject a malformed name only when the step runs.
        if not (re.match(MACHINE_TYPE_RE, own) or param_of(own)):
            raise MachineError(
                f"instance_type {own!r} is not a Vertex machine type (such as n1-standard-8) "
                "or ${params.NAME}"
            )
        return Machine(own, accelerator, count)
    if accelerator in _FIXED_GPU_SHAPES:
        shapes = _FIXED_GPU_SHAPES[accelerator]
        if count not in shapes:
            raise MachineError(
                f"{count} x {accelerator}: Vertex machines carry "
                f"{', '.join(str(n) for n in shapes)} of them"
            )
        return Machine(shapes[count], accelerator, count)
    if resources.cpu is None and resources.memory_bytes is None:
        return Machine(default, accelerator, count)
    shape = _n1(resources)
    if shape is None:
        raise MachineError("no N1 machine has this much cpu and memory")
    return Machine(shape, accelerator, count)


def replica_count(step: ir.Step) -> int | str:
    """Machines for the job: ``targets.vertex.instance_count`` (an int, or a param's
    placeholder text resolved by the caller), else 1."""
    own = (step.target_overrides.get("vertex") or {}).get("instance_count")
    return own if isinstance(own, (int, str)) else 1
