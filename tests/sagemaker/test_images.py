"""Job images SageMaker cannot pull as written (outside Amazon ECR) are said once per
image, naming the steps that use it; ECR images and model images are not."""

from __future__ import annotations

from typing import Any

from pipespec.backends.sagemaker.images import outside_ecr

ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn:1"


def _processing(name: str, image: str) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {"AppSpecification": {"ImageUri": image}},
    }


def test_each_image_outside_ecr_names_its_entries() -> None:
    training = {
        "Name": "train",
        "Type": "Training",
        "Arguments": {"AlgorithmSpecification": {"TrainingImage": "ghcr.io/a/b:1"}},
    }
    model = {
        "Name": "deploy-model",
        "Type": "Model",
        "Arguments": {"PrimaryContainer": {"Image": "ghcr.io/a/serve:1"}},
    }
    branch = _processing("late", "python:3.12-slim")
    condition = {
        "Name": "late-when",
        "Type": "Condition",
        "Arguments": {"Conditions": [], "IfSteps": [branch], "ElseSteps": []},
    }
    doc = {"Steps": [_processing("a", "ghcr.io/a/b:1"), _processing("b", ECR), training,
                     model, condition]}  # fmt: skip
    assert outside_ecr(doc) == {"ghcr.io/a/b:1": ["a", "train"], "python:3.12-slim": ["late"]}


def test_ecr_images_in_any_region_and_partition_pass() -> None:
    china = "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/x:1"
    assert outside_ecr({"Steps": [_processing("a", ECR), _processing("b", china)]}) == {}
