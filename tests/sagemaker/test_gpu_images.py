"""A step that asks for GPUs runs the catalog's GPU build of its SageMaker image, in the
region the lock pinned (SageMaker images are per region), as the other targets do."""

from __future__ import annotations

import pytest

from pipespec.compiler.lower_catalog import target_images
from pipespec.fill.catalog import load_catalog
from pipespec.fill.info import FillInfo


def _fill(framework: str, region: str) -> FillInfo:
    image = load_catalog().image(framework, "sagemaker", role="train", region=region)
    assert image is not None
    source = f"catalog:{framework}@2026.11.0"
    return FillInfo(
        provenance={"train": {"image.sagemaker": source}},
        target_images={"train": {"sagemaker": image}},
    )


@pytest.mark.parametrize("region", ["eu-west-1", "us-east-1"])
def test_a_gpu_step_gets_the_gpu_build_in_its_region(region: str) -> None:
    fill = _fill("pytorch", region)
    cpu = target_images("train", fill, gpu=False)["sagemaker"]
    gpu = target_images("train", fill, gpu=True)["sagemaker"]
    assert "-cpu-" in cpu and "-gpu-" in gpu
    assert gpu == load_catalog().image("pytorch", "sagemaker", region=region, gpu=True)
    assert f".dkr.ecr.{region}.amazonaws.com/" in gpu


def test_an_image_with_no_gpu_build_is_kept() -> None:
    fill = _fill("xgboost", "eu-west-1")  # one image runs on CPUs and GPUs
    assert target_images("train", fill, gpu=True) == fill.target_images["train"]
