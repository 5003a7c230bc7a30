"""ML instance types for a step's resources on SageMaker.

SageMaker has no cpu or memory request: a job names an instance type. pipespec picks the
smallest one of the family that carries the step's GPU model (or of the general purpose
M5 family without GPUs) that has at least the step's GPUs, vCPUs and memory;
``targets.sagemaker.instance_type`` on a step names one outright. Sizes are AWS's
published vCPU / memory (GiB) / GPU counts for each type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipespec import ir
from pipespec.backends import k8s
from pipespec.backends.placeholders import param_of

_GIB = 1 << 30


@dataclass(frozen=True)
class Shape:
    name: str
    vcpus: int
    memory_gib: float
    gpus: int = 0


def _family(prefix: str, sizes: Sequence[tuple[str, int, float, int]]) -> tuple[Shape, ...]:
    return tuple(Shape(f"ml.{prefix}.{size}", cpu, mem, gpu) for size, cpu, mem, gpu in sizes)


GENERAL = _family("m5", [
    ("large", 2, 8, 0), ("xlarge", 4, 16, 0), ("2xlarge", 8, 32, 0), ("4xlarge", 16, 64, 0),
    ("12xlarge", 48, 192, 0), ("24xlarge", 96, 384, 0),
])  # fmt: skip
_G_SIZES = [
    ("xlarge", 4, 16, 1), ("2xlarge", 8, 32, 1), ("4xlarge", 16, 64, 1), ("8xlarge", 32, 128, 1),
    ("12xlarge", 48, 192, 4), ("16xlarge", 64, 256, 1), ("24xlarge", 96, 384, 4),
    ("48xlarge", 192, 768, 8),
]  # fmt: skip
# Portable accelerator name -> the instance family that carries it.
GPU_FAMILIES: dict[str, tuple[Shape, ...]] = {
    "nvidia-t4": _family("g4dn", [s for s in _G_SIZES if s[0] not in ("24xlarge", "48xlarge")]),
    "nvidia-a10g": _family("g5", _G_SIZES),
    "nvidia-l4": _family("g6", _G_SIZES),
    "nvidia-v100": _family("p3", [("2xlarge", 8, 61, 1), ("8xlarge", 32, 244, 4),
                                  ("16xlarge", 64, 488, 8)]),
    "nvidia-a100": _family("p4d", [("24xlarge", 96, 1152, 8)]),
    "nvidia-a100-80gb": _family("p4de", [("24xlarge", 96, 1152, 8)]),
    "nvidia-h100": _family("p5", [("48xlarge", 192, 2048, 8)]),
}  # fmt: skip
# GPUs without a model: the T4 family, the most widely available.
DEFAULT_GPU = "nvidia-t4"


class InstanceError(ValueError):
    """No SageMaker instance type holds what the step asks for."""


def instance_for(resources: ir.Resources) -> str | None:
    """The smallest instance type that holds ``resources``; None when it asks for nothing
    (the target's default applies)."""
    gpus = k8s.gpu_count(resources)
    if not gpus and resources.cpu is None and resources.memory_bytes is None:
        return None
    family = GENERAL if not gpus else GPU_FAMILIES[resources.accelerator or DEFAULT_GPU]
    cpu = resources.cpu or 0
    memory = (resources.memory_bytes or 0) / _GIB
    for shape in family:  # smallest first
        if shape.gpus >= gpus and shape.vcpus >= cpu and shape.memory_gib >= memory:
            return shape.name
    what = f"{gpus} GPU(s) ({resources.accelerator or DEFAULT_GPU}), " if gpus else ""
    raise InstanceError(
        f"no SageMaker instance type has {what}{cpu:g} vCPUs and {memory:g} GiB of memory"
    )


def _own(step: ir.Step, key: str) -> object:
    return (step.target_overrides.get("sagemaker") or {}).get(key)


def _setting(value: object) -> object:
    """A per-step setting as the definition holds it: a parameter's ``Get``, or itself."""
    name = param_of(value)
    return {"Get": f"Parameters.{name}"} if name else value


def instance_type(step: ir.Step, default: str) -> object:
    """The step's instance type: its own setting (maybe a parameter), else the smallest
    that holds its resources, else ``default``. Raises InstanceError."""
    own = _own(step, "instance_type")
    if own is not None:
        return _setting(own)
    return instance_for(step.resources) or default


def instance_count(step: ir.Step) -> object:
    """The step's instance count: its own setting (maybe a parameter), else 1."""
    own = _own(step, "instance_count")
    return 1 if own is None else _setting(own)
