"""Vertex probe sample: ModelBatchPredictOp on a model imported as a VertexModel (an
importer with the model's resource name). Compiled by ``vertex_probe.py --compile``.

The source list is a constant: a pipeline parameter inside a list makes kfp feed the task an
extra ``pipelinechannel--`` input its component does not declare.
"""

from google_cloud_pipeline_components.types import artifact_types
from google_cloud_pipeline_components.v1.batch_predict_job import ModelBatchPredictOp
from kfp import dsl

MODEL = "projects/my-project/locations/us-central1/models/123"


@dsl.pipeline(name="batch-predict")
def pipeline(destination: str = "gs://bucket/predictions") -> None:
    model = dsl.importer(
        artifact_uri=f"https://us-central1-aiplatform.googleapis.com/v1/{MODEL}",
        artifact_class=artifact_types.VertexModel,
        metadata={"resourceName": MODEL},
    )
    ModelBatchPredictOp(
        project="my-project",
        location="us-central1",
        job_display_name="score",
        model=model.outputs["artifact"],
        gcs_source_uris=["gs://bucket/rows.jsonl"],
        gcs_destination_output_uri_prefix=destination,
        instances_format="jsonl",
        machine_type="n1-standard-4",
    )
