"""Apache Airflow backend: one DAG file per pipeline, for Airflow 3 (default) or 2."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipespec import ir
from pipespec.backends import RenderResult
from pipespec.backends.airflow.capabilities import CAPABILITIES, capabilities_for
from pipespec.backends.airflow.options import AirflowOptions
from pipespec.backends.base import Backend, Capability, Options
from pipespec.diagnostics import Diagnostic, has_errors


class AirflowBackend(Backend):
    name = "airflow"
    options_model = AirflowOptions
    capabilities = CAPABILITIES

    def capabilities_for(self, options: Options) -> Mapping[ir.Feature, Capability]:
        # Some entries depend on the operator and artifact_root (capabilities.py).
        return capabilities_for(options) if isinstance(options, AirflowOptions) else CAPABILITIES

    def render(
        self, pipeline: ir.Pipeline, options: Options | Mapping[str, Any] | None = None
    ) -> RenderResult:
        """``options``: the validated options model, or raw ``targets.airflow`` settings;
        None reads them from the pipeline."""
        from pipespec.backends.airflow.render import render_dag
        from pipespec.backends.native_deploy import with_native_deploys

        if options is None:
            options = ir.thaw(pipeline.targets.get("airflow", ir.FrozenMap()))
        model = options if isinstance(options, AirflowOptions) else None
        if model is None:
            model = AirflowOptions.model_validate(dict(options or {}))
        notes: list[Diagnostic] = []
        if model.operator == "kubernetes":  # a pod of pipespec's deploys the model
            notes = _unreadable_models(pipeline, model)
            pipeline, built = with_native_deploys(
                pipeline, model.serving, model.namespace, model.helper_image
            )
            notes += built
            if has_errors(notes):
                return RenderResult({}, notes)
        # Only what the spec wrote: the renderer applies the defaults itself.
        raw = options.model_dump(exclude_unset=True) if isinstance(options, Options) else options
        rendered = render_dag(pipeline, raw)
        return RenderResult(rendered.files, [*notes, *rendered.diagnostics])

    def runs_natively(self, step: ir.Step, options: Options) -> bool:
        from pipespec.backends.native_deploy import serves_natively

        kubernetes = not isinstance(options, AirflowOptions) or options.operator == "kubernetes"
        return kubernetes and serves_natively(step)


def _unreadable_models(pipeline: ir.Pipeline, options: AirflowOptions) -> list[Diagnostic]:
    """KServe and Seldon read a model from object storage: without an artifact_root of a
    storage URI, the model a pod wrote stays in that pod."""
    from pipespec.backends.native_deploy import serves_natively

    root = options.artifact_root or ""
    if "://" in root:
        return []
    return [
        Diagnostic(
            "PS600",
            f"step '{step.id}' deploys a model that KServe or Seldon must read from storage, "
            "and artifacts stay inside each pod without targets.airflow.artifact_root",
            step.span,
            "set targets.airflow.artifact_root to an s3:// or gs:// URI",
        )
        for step in pipeline.steps
        if serves_natively(step)
    ]
