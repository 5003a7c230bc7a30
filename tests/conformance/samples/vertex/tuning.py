"""Vertex probe sample: HyperparameterTuningJobRunOp over a worker pool spec, with the
study spec built by GCPC's helpers. Compiled by ``vertex_probe.py --compile``."""

from google.cloud.aiplatform import hyperparameter_tuning as hpt
from google_cloud_pipeline_components.v1 import hyperparameter_tuning_job as hptj
from kfp import dsl

WORKER_POOL_SPECS = [
    {
        "machine_spec": {"machine_type": "n1-standard-4"},
        "replica_count": 1,
        "container_spec": {"image_uri": "python:3.11-slim", "command": ["python", "train.py"]},
    }
]


@dsl.pipeline(name="tuning")
def pipeline(max_trials: int = 4) -> None:
    hptj.HyperparameterTuningJobRunOp(
        display_name="tune",
        project="my-project",
        location="us-central1",
        worker_pool_specs=WORKER_POOL_SPECS,
        study_spec_metrics=hptj.utils.serialize_metrics({"auc": "maximize"}),
        study_spec_parameters=hptj.utils.serialize_parameters(
            {"lr": hpt.DoubleParameterSpec(min=0.001, max=0.1, scale="log")}
        ),
        max_trial_count=max_trials,
        parallel_trial_count=2,
        base_output_directory="gs://bucket/tuning",
    )
