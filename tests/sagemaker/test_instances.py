"""A step's resources choose the smallest SageMaker instance type that holds them."""

from __future__ import annotations

import pytest

from pipespec import ir
from pipespec.backends.sagemaker.instances import InstanceError, instance_for

GIB = 1 << 30


def _res(cpu: float | None = None, gib: float | None = None, gpu: int = 0,
         accelerator: str | None = None) -> ir.Resources:  # fmt: skip
    memory = None if gib is None else int(gib * GIB)
    return ir.Resources(cpu=cpu, memory_bytes=memory, gpu=gpu, accelerator=accelerator)


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        (_res(), None),
        (_res(cpu=2, gib=4), "ml.m5.large"),
        (_res(cpu=2, gib=12), "ml.m5.xlarge"),
        (_res(cpu=16), "ml.m5.4xlarge"),
        (_res(gpu=1), "ml.g4dn.xlarge"),
        (_res(gpu=1, accelerator="nvidia-a10g", cpu=8), "ml.g5.2xlarge"),
        (_res(gpu=4, accelerator="nvidia-a10g"), "ml.g5.12xlarge"),
        (_res(accelerator="nvidia-v100"), "ml.p3.2xlarge"),
        (_res(gpu=8, accelerator="nvidia-h100"), "ml.p5.48xlarge"),
        (_res(cpu=4, gib=16, gpu=1, accelerator="nvidia-l4"), "ml.g6.xlarge"),
    ],
)
def test_the_smallest_instance_that_fits(resources: ir.Resources, expected: str | None) -> None:
    assert instance_for(resources) == expected


@pytest.mark.parametrize(
    "resources",
    [_res(cpu=500), _res(gib=5000), _res(gpu=16, accelerator="nvidia-a100"), _res(gpu=8)],
)
def test_what_no_instance_holds_is_an_error(resources: ir.Resources) -> None:
    with pytest.raises(InstanceError, match="no SageMaker instance type"):
        instance_for(resources)
