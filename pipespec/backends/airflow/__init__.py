"""Apache Airflow backend: one DAG file per pipeline, for Airflow 3 (default) or 2."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipespec import ir
from pipespec.backends import RenderResult
from pipespec.backends.airflow.capabilities import CAPABILITIES, capabilities_for
from pipespec.backends.airflow.options import AirflowOptions
from pipespec.backends.base import Backend, Capability, Options


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

        if isinstance(options, Options):
            # Only what the spec wrote: the renderer applies the defaults itself.
            options = options.model_dump(exclude_unset=True)
        return render_dag(pipeline, options)

    def runs_natively(self, step: ir.Step, options: Options) -> bool:
        from pipespec.backends.native_deploy import serves_natively

        kubernetes = not isinstance(options, AirflowOptions) or options.operator == "kubernetes"
        return kubernetes and serves_natively(step)
