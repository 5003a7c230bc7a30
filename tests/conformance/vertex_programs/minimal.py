"""examples/minimal for Vertex AI: download a CSV, count its rows (plain container tasks,
as on Kubeflow)."""

from kfp import dsl

IMAGE = "python:3.12-slim"
DOWNLOAD = "import urllib.request, sys; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])"


@dsl.container_component
def download(data: dsl.Output[dsl.Dataset]):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["python", "-c", DOWNLOAD, "https://example.com/data.csv", data.path],
    )


@dsl.container_component
def count(data: dsl.Input[dsl.Dataset]):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["python", "-c", "import sys; print(sum(1 for _ in open(sys.argv[1])))", data.path],
    )


@dsl.pipeline(name="minimal", description="Download a CSV and count its rows")
def pipeline():
    count(data=download().outputs["data"])
