"""IR -> an Airflow DAG file.

The renderer builds a view model of plain values (``pycode``); the jinja2 template lays it
out and every value passes through the ``py`` filter (a proven Python literal, or ``Code``
assembled from literals and identifiers). Step features map to Airflow's own constructs:
KubernetesPodOperator or a PythonOperator running the argv on the worker (``operators``),
typed ``Param``s (``dag``), ShortCircuitOperator for ``when:`` (``conditions``), dynamic
task mapping for ``foreach:`` and tuning (``fanout``), Kubernetes ``Secret``s,
``V1ResourceRequirements``, node selectors and tolerations for accelerators (the shared
``backends.k8s``), and a second DAG per monitor with a schedule of its own
(``monitor_dag``). What Airflow cannot do for a step is reported by ``checks``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipespec import ir
from pipespec.backends import RenderResult
from pipespec.backends.airflow.context import TARGET, Context, dag_path, is_mapped, natively_tuned
from pipespec.backends.airflow.monitor_dag import add_outlets, render_monitor_dags
from pipespec.backends.airflow.options import AirflowOptions
from pipespec.backends.airflow.view import build_view, render_view
from pipespec.diagnostics import Diagnostic, has_errors

__all__ = ["is_mapped", "natively_tuned", "render_dag"]


def render_dag(pipeline: ir.Pipeline, settings: Mapping[str, Any] | None = None) -> RenderResult:
    """The DAG file for ``pipeline``; ``settings`` default to its ``targets.airflow``."""
    if settings is None:
        settings = ir.thaw(pipeline.targets.get(TARGET, ir.FrozenMap()))
    pipeline, notes = native_deploys(pipeline, AirflowOptions.model_validate(dict(settings)))
    if has_errors(notes):
        return RenderResult({}, notes)
    ctx = Context(pipeline, settings)
    view = build_view(ctx)
    monitors, monitor_notes = render_monitor_dags(pipeline, settings)
    if monitors:  # their inputs: announced by the tasks that write them
        add_outlets(ctx, view)
    diags = [*notes, *ctx.diags, *monitor_notes]
    if has_errors(diags):
        return RenderResult({}, diags)
    return RenderResult({dag_path(pipeline): render_view(view), **monitors}, diags)


def native_deploys(
    pipeline: ir.Pipeline, options: AirflowOptions
) -> tuple[ir.Pipeline, list[Diagnostic]]:
    """Each deploy step with an endpoint and no command as a pod of pipespec's that
    applies its serving resource (``native_deploy``); where Airflow cannot, why."""
    from pipespec.backends.native_deploy import serves_natively, with_native_deploys

    served = [s for s in pipeline.steps if serves_natively(s)]
    if not served:
        return pipeline, []
    if options.operator != "kubernetes":
        return pipeline, [
            Diagnostic(
                "PS600",
                f"step '{step.id}' deploys its model with KServe or Seldon, which needs "
                "operator: kubernetes (a local task runs on the worker, outside the cluster)",
                step.span,
                "set targets.airflow.operator: kubernetes, or give the step a command",
            )
            for step in served
        ]
    if "://" not in (options.artifact_root or ""):
        # KServe and Seldon read the model from storage: without an artifact_root of a
        # storage URI, the model a pod wrote stays in that pod.
        return pipeline, [
            Diagnostic(
                "PS600",
                f"step '{step.id}' deploys a model that KServe or Seldon must read from "
                "storage, and artifacts stay inside each pod without "
                "targets.airflow.artifact_root",
                step.span,
                "set targets.airflow.artifact_root to an s3:// or gs:// URI",
            )
            for step in served
        ]
    return with_native_deploys(pipeline, options.serving, options.namespace, options.helper_image)
