"""Vertex probe sample: importer + ModelUploadOp, then EndpointCreateOp and ModelDeployOp
(artifacts from two producers). Compiled by ``vertex_probe.py --compile``."""

from google_cloud_pipeline_components.types import artifact_types
from google_cloud_pipeline_components.v1.endpoint import EndpointCreateOp, ModelDeployOp
from google_cloud_pipeline_components.v1.model import ModelUploadOp
from kfp import dsl

SERVING = "us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-3:latest"


@dsl.pipeline(name="deploy")
def pipeline(project: str = "my-project") -> None:
    imported = dsl.importer(
        artifact_uri="gs://bucket/model",
        artifact_class=artifact_types.UnmanagedContainerModel,
        metadata={"containerSpec": {"imageUri": SERVING}},
    )
    upload = ModelUploadOp(
        project=project,
        location="us-central1",
        display_name="churn",
        unmanaged_container_model=imported.outputs["artifact"],
    )
    endpoint = EndpointCreateOp(project=project, location="us-central1", display_name="churn")
    ModelDeployOp(
        endpoint=endpoint.outputs["endpoint"],
        model=upload.outputs["model"],
        dedicated_resources_machine_type="n1-standard-2",
        dedicated_resources_min_replica_count=1,
        dedicated_resources_max_replica_count=2,
    )
