"""Kubeflow Pipelines v2 backend: the pipeline as KFP's IR (PipelineSpec, plus the
PlatformSpec for Kubernetes settings), built as data, with no kfp import."""

from __future__ import annotations

from pipespec import ir
from pipespec.backends import RenderResult
from pipespec.backends.base import Backend, Options
from pipespec.backends.kubeflow.capabilities import CAPABILITIES
from pipespec.backends.kubeflow.options import KubeflowOptions
from pipespec.diagnostics import has_errors


class KubeflowBackend(Backend):
    name = "kubeflow"
    options_model = KubeflowOptions
    capabilities = CAPABILITIES

    def render(self, pipeline: ir.Pipeline, options: Options | None = None) -> RenderResult:
        from pipespec.backends.kubeflow.render import render_kubeflow
        from pipespec.backends.native_deploy import with_native_deploys

        if not isinstance(options, KubeflowOptions):
            options = KubeflowOptions()
        # A task of pipespec's, in the helper image, deploys the model (KServe or Seldon).
        pipeline, notes = with_native_deploys(
            pipeline, options.serving, options.namespace, options.helper_image
        )
        if has_errors(notes):
            return RenderResult({}, notes)
        rendered = render_kubeflow(pipeline, options)
        return RenderResult(rendered.files, [*notes, *rendered.diagnostics])

    def runs_natively(self, step: ir.Step, options: Options) -> bool:
        from pipespec.backends.native_deploy import serves_natively

        return serves_natively(step)
