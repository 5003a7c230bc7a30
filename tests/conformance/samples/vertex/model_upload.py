"""Vertex probe sample: an importer of an UnmanagedContainerModel (its URI a pipeline
parameter) uploaded with ModelUploadOp. Compiled by ``vertex_probe.py --compile``."""

from google_cloud_pipeline_components.types import artifact_types
from google_cloud_pipeline_components.v1.model import ModelUploadOp
from kfp import dsl

SERVING = "us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-3:latest"


@dsl.pipeline(name="model-upload")
def pipeline(model_dir: str = "gs://bucket/model", project: str = "my-project") -> None:
    imported = dsl.importer(
        artifact_uri=model_dir,
        artifact_class=artifact_types.UnmanagedContainerModel,
        metadata={"containerSpec": {"imageUri": SERVING}},
    )
    ModelUploadOp(
        project=project,
        location="us-central1",
        display_name="churn",
        unmanaged_container_model=imported.outputs["artifact"],
    )
