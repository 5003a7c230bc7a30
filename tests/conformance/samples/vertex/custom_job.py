"""Vertex probe sample: a container component run as a Vertex custom job through
``create_custom_training_job_from_component`` (its interface merged into the job's), fed
by a pipeline parameter, then a plain container task after it.

Compiled in the kfp conformance venv by ``vertex_probe.py --compile`` (the module's
``pipeline``); no ``from __future__ import annotations``: kfp reads annotations as objects.
"""

from google_cloud_pipeline_components.v1.custom_job import (
    create_custom_training_job_from_component,
)
from kfp import dsl

IMAGE = "python:3.11-slim"


@dsl.container_component
def train(lr: float, data: str, model: dsl.Output[dsl.Model]) -> dsl.ContainerSpec:
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["python", "train.py"],
        args=["--lr", lr, "--data", data, "--model", model.path],
    )


@dsl.container_component
def report(model: dsl.Input[dsl.Model]) -> dsl.ContainerSpec:
    return dsl.ContainerSpec(image=IMAGE, command=["ls"], args=[model.path])


train_job = create_custom_training_job_from_component(
    train, display_name="train", machine_type="n1-standard-4", boot_disk_size_gb=50
)


@dsl.pipeline(name="custom-job")
def pipeline(lr: float = 0.1, data: str = "gs://bucket/data.csv") -> None:
    job = train_job(lr=lr, data=data, project="my-project", location="us-central1")
    report(model=job.outputs["model"])
