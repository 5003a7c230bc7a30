"""Apache Airflow backend: one DAG file per pipeline, for Airflow 3 (default) or 2."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipespec import ir
from pipespec.backends import RenderResult
from pipespec.backends.base import Backend, Options


class AirflowBackend(Backend):
    name = "airflow"

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
