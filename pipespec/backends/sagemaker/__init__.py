"""Amazon SageMaker Pipelines backend: the pipeline definition (Version 2020-12-01) with
the ML kinds as SageMaker's own steps (Processing, Training, Tuning, Condition, Model,
RegisterModel, Transform, EndpointConfig, Endpoint, Fail), the upsert file and the code
files beside it. Nothing imports the sagemaker SDK or botocore at compile time."""

from __future__ import annotations

from pipespec import ir
from pipespec.backends import RenderResult
from pipespec.backends.base import Backend, Options
from pipespec.backends.sagemaker.capabilities import CAPABILITIES
from pipespec.backends.sagemaker.options import SagemakerOptions


class SagemakerBackend(Backend):
    name = "sagemaker"
    options_model = SagemakerOptions
    capabilities = CAPABILITIES

    def runs_natively(self, step: ir.Step, options: Options) -> bool:
        return step.kind in ("register", "deploy", "batch_predict")

    def render(self, pipeline: ir.Pipeline, options: Options) -> RenderResult:
        from pipespec.backends.sagemaker.render import render_sagemaker

        assert isinstance(options, SagemakerOptions)
        return render_sagemaker(pipeline, options)
