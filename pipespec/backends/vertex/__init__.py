"""Vertex AI Pipelines backend: the KFP IR (shared with Kubeflow, in ``kfp_ir``) with the
ML kinds as Vertex's own services through Google Cloud Pipeline Components, and the
PipelineJob (and schedule) arguments beside it. Nothing imports kfp or GCPC at compile
time: their compiled forms are package data (``gcpc_components.json``)."""

from __future__ import annotations

from pipespec import ir
from pipespec.backends import RenderResult
from pipespec.backends.base import Backend, Options
from pipespec.backends.vertex.capabilities import CAPABILITIES
from pipespec.backends.vertex.options import VertexOptions


class VertexBackend(Backend):
    name = "vertex"
    options_model = VertexOptions
    capabilities = CAPABILITIES

    def runs_natively(self, step: ir.Step, options: Options) -> bool:
        from pipespec.backends.vertex.model_steps import native_model_step

        return isinstance(options, VertexOptions) and native_model_step(options, step)

    def render(self, pipeline: ir.Pipeline, options: Options | None = None) -> RenderResult:
        from pipespec.backends.vertex.render import render_vertex

        if not isinstance(options, VertexOptions):
            options = VertexOptions()
        return render_vertex(pipeline, options)
