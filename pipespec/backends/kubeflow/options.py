"""``targets.kubeflow`` in a spec: the Kubeflow Pipelines backend's options, checked strictly.

Every field has a default that compiles: a spec without a ``targets.kubeflow`` block
targets a stock Kubeflow Pipelines install.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from pipespec.backends.base import Options
from pipespec.backends.k8s import Serving

# The image of pipespec's own small tasks (drawing tune trials, picking the best trial,
# failing a run with a message): their code is pipespec's, inline; only Python is needed.
DEFAULT_HELPER_IMAGE = "python:3.11-slim"
DEFAULT_EXPERIMENT = "Default"
# An image reference has no spaces or braces: `{{$...}}` here could be read by KFP's
# driver (or Vertex) as a placeholder for the image. Both KFP targets take one.
HelperImage = Annotated[str, Field(min_length=1, max_length=512, pattern=r"^[^\s{}]+$")]


class KubeflowOptions(Options):
    """How a pipeline becomes a Kubeflow Pipelines v2 pipeline (and its recurring run)."""

    # Where runs keep artifacts (the PipelineSpec's defaultPipelineRoot); None: the
    # cluster's default bucket.
    pipeline_root: Annotated[str, Field(min_length=1, max_length=1024)] | None = None
    helper_image: HelperImage = DEFAULT_HELPER_IMAGE
    # Used by the schedule script beside the pipeline file (a recurring run lives in an
    # experiment, in a namespace on multi-user installs).
    experiment: Annotated[str, Field(min_length=1, max_length=128)] = DEFAULT_EXPERIMENT
    namespace: Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")] | None = None
    # A deploy step with an endpoint and no command: the resource that serves its model.
    serving: Serving = "kserve"
