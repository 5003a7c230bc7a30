"""Apache Airflow backend: one DAG file per pipeline, for Airflow 3 (default) or 2."""

from __future__ import annotations

from pipespec import ir
from pipespec.backends import RenderResult


class AirflowBackend:
    name = "airflow"

    def render(self, pipeline: ir.Pipeline) -> RenderResult:
        from pipespec.backends.airflow.render import render_dag

        return render_dag(pipeline)
