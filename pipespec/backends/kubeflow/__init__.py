"""Kubeflow Pipelines v2 backend: the pipeline as KFP's IR (PipelineSpec, plus the
PlatformSpec for Kubernetes settings), built as data, with no kfp import."""

from __future__ import annotations

from pipespec import ir
from pipespec.backends import RenderResult
from pipespec.backends.base import Backend, Options
from pipespec.backends.kubeflow.capabilities import CAPABILITIES
from pipespec.backends.kubeflow.options import KubeflowOptions


class KubeflowBackend(Backend):
    name = "kubeflow"
    options_model = KubeflowOptions
    capabilities = CAPABILITIES

    def render(self, pipeline: ir.Pipeline, options: Options | None = None) -> RenderResult:
        from pipespec.backends.kubeflow.render import render_kubeflow

        if not isinstance(options, KubeflowOptions):
            options = KubeflowOptions()
        return render_kubeflow(pipeline, options)
