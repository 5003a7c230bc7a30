"""A pipeline's steps as the tasks, edges and arguments of one DAG file's view model."""

from __future__ import annotations

from pipespec import __version__, ir
from pipespec.backends.airflow.branching import (
    add_one_of,
    condition_or_branch,
    else_vars,
    fail_task,
)
from pipespec.backends.airflow.context import TARGET, Context, argv_of, natively_tuned
from pipespec.backends.airflow.dag import common_kwargs, dag_kwargs, edges
from pipespec.backends.airflow.fanout import foreach_tasks, tuned_tasks
from pipespec.backends.airflow.operators import k8s_kwargs, local_kwargs
from pipespec.backends.airflow.pycode import DagView, TaskView, environment
from pipespec.diagnostics import Diagnostic


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


def build_view(ctx: Context) -> DagView:
    """The DAG file's view model; diagnostics accumulate in ``ctx.diags``."""
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
    return view


def render_view(view: DagView) -> str:
    text: str = environment().get_template("dag.py.j2").render(v=view)
    return text
