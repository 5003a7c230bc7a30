"""IR -> an Airflow DAG file.

The renderer builds a view model of plain values (``pycode``); the jinja2 template lays it
out and every value passes through the ``py`` filter (a proven Python literal, or ``Code``
assembled from literals and identifiers). Step features map to Airflow's own constructs:
KubernetesPodOperator or a PythonOperator running the argv on the worker (``operators``),
typed ``Param``s (``dag``), ShortCircuitOperator for ``when:`` (``conditions``), dynamic
task mapping for ``foreach:`` and tuning (``fanout``), Kubernetes ``Secret``s,
``V1ResourceRequirements``, node selectors and tolerations for accelerators (the shared
``backends.k8s``). What Airflow cannot do for a step is reported by ``checks``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipespec import __version__, ir
from pipespec.backends import RenderResult
from pipespec.backends.airflow.branching import (
    add_one_of,
    condition_or_branch,
    else_vars,
    fail_task,
)
from pipespec.backends.airflow.context import (
    TARGET,
    Context,
    argv_of,
    dag_path,
    is_mapped,
    natively_tuned,
)
from pipespec.backends.airflow.dag import common_kwargs, dag_kwargs, edges
from pipespec.backends.airflow.fanout import foreach_tasks, tuned_tasks
from pipespec.backends.airflow.operators import k8s_kwargs, local_kwargs
from pipespec.backends.airflow.options import AirflowOptions
from pipespec.backends.airflow.pycode import DagView, TaskView, environment
from pipespec.diagnostics import Diagnostic, has_errors

__all__ = ["is_mapped", "natively_tuned", "render_dag", "render_text"]


def step_task(ctx: Context, step: ir.Step, view: DagView) -> None:
    if step.kind == "fail":
        fail_task(ctx, step, view)
        return
    if step.image is None or not argv_of(step):
        # Compile stops an incomplete step before any backend (PS500); a caller of
        # render_dag that skipped that check gets the error, not a DAG missing a task.
        ctx.diags.append(Diagnostic(
            "PS500", f"step '{step.id}' is incomplete: it needs an image and a command",
            step.span,
        ))  # fmt: skip
        return
    factory = k8s_kwargs if ctx.kubernetes else local_kwargs
    operator = "KubernetesPodOperator" if ctx.kubernetes else "PythonOperator"
    common = common_kwargs(step)
    if natively_tuned(step):
        tuned_tasks(ctx, step, view, factory, operator, common)
    elif step.foreach is not None:
        foreach_tasks(ctx, step, view, factory, operator, common)
    else:
        fixed, per_item = factory(ctx, step, None)
        view.tasks.append(
            TaskView(ctx.vars[step.id], step.id, operator, common + fixed + list(per_item.items()))
        )


def render_text(ctx: Context) -> str:
    """The DAG file's text; diagnostics accumulate in ``ctx.diags``."""
    header = [
        f"pipespec {__version__} wrote this from the spec {ctx.spec_path} (relative to",
        f"this file). Regenerate: pipespec compile SPEC --target {TARGET}",
        f"Spec sha256: {ctx.p.source_digest}",
    ]
    view = DagView(
        header=header,
        version=ctx.version,
        operator=ctx.operator,
        dag_kwargs=[(k, v) for k, v in dag_kwargs(ctx) if v is not None],
    )
    condition_vars: dict[str, str] = {}
    for step in ctx.p.steps:
        when_var = condition_or_branch(ctx, step, view)
        if when_var is not None:
            condition_vars[step.id] = when_var
        step_task(ctx, step, view)
    condition_vars.update(else_vars(ctx, condition_vars))
    add_one_of(ctx, view)
    view.edges = edges(ctx, condition_vars)
    text: str = environment().get_template("dag.py.j2").render(v=view)
    return text


def render_dag(pipeline: ir.Pipeline, settings: Mapping[str, Any] | None = None) -> RenderResult:
    """The DAG file for ``pipeline``; ``settings`` default to its ``targets.airflow``."""
    if settings is None:
        settings = ir.thaw(pipeline.targets.get(TARGET, ir.FrozenMap()))
    pipeline, notes = native_deploys(pipeline, AirflowOptions.model_validate(dict(settings)))
    if has_errors(notes):
        return RenderResult({}, notes)
    ctx = Context(pipeline, settings)
    text = render_text(ctx)
    diags = [*notes, *ctx.diags]
    if has_errors(diags):
        return RenderResult({}, diags)
    return RenderResult({dag_path(pipeline): text}, diags)


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
