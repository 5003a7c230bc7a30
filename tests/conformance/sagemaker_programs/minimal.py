"""examples/minimal as a sagemaker SDK program: download a CSV, count its rows (two
processing jobs; the count reads the download's output)."""

from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.steps import ProcessingStep

from tests.conformance.sagemaker_programs.common import (
    data_input,
    data_output,
    default_bucket,
    in_path,
    out_path,
    output_uri,
    processor,
)

NAME = "minimal"
REGION = "eu-west-1"
BUCKET = default_bucket(REGION)
IMAGE = "python:3.12-slim"
DOWNLOAD = "import urllib.request, sys; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])"
COUNT = "import sys; print(sum(1 for _ in open(sys.argv[1])))"


def build(session):
    argv = ["python", "-c", DOWNLOAD, "https://example.com/data.csv", out_path("data")]
    download = ProcessingStep(
        name="download",
        step_args=processor(session, IMAGE, argv).run(
            outputs=[data_output(BUCKET, NAME, "download", "data")]
        ),
    )
    count = ProcessingStep(
        name="count",
        step_args=processor(session, IMAGE, ["python", "-c", COUNT, in_path("data")]).run(
            inputs=[data_input("data", output_uri(download, "data"))]
        ),
    )
    return Pipeline(name=NAME, steps=[download, count], sagemaker_session=session)
