"""Branches and joins in Airflow: a BranchPythonOperator for a condition with an else,
`trigger_rule=` for joins (``dag.common_kwargs``), a ``one_of`` input resolved at run time
by a macro that reads whichever source was produced, and a ``fail`` step as a task that
raises AirflowFailException.

A condition without an else keeps its ShortCircuitOperator (``conditions``), so the DAGs
of existing specs do not change.
"""

from __future__ import annotations

from typing import Any

from pipespec import ir
from pipespec.backends.airflow.conditions import PythonCondition, condition_task
from pipespec.backends.airflow.context import Context, natively_tuned
from pipespec.backends.airflow.dag import common_kwargs
from pipespec.backends.airflow.pycode import DagView, FunctionView, TaskView
from pipespec.backends.airflow.text import ONE_OF_MACRO, plain
from pipespec.pysafe import Code, py_literal

ONE_OF_CONSTANT = "_ONE_OF"
_PLAIN_TYPES = ("model", "dataset", "artifact", "string")  # passed as text, not JSON


def else_steps(pipeline: ir.Pipeline, step_id: str) -> list[str]:
    """The steps that run when ``step_id``'s condition is false, in pipeline order."""
    return [s.id for s in pipeline.steps if s.else_of == step_id]


def condition_or_branch(ctx: Context, step: ir.Step, view: DagView) -> str | None:
    """The task that decides whether the step runs: a BranchPythonOperator when the
    condition has an else, its ShortCircuitOperator otherwise; None for an else step
    (its branch's task decides, see ``else_vars``) and a step without ``when:``."""
    if step.else_of is not None:
        return None
    elses = else_steps(ctx.p, step.id)
    if not elses or step.condition is None:
        return condition_task(ctx, step, view)
    fn = f"_branch_{ctx.vars[step.id]}"
    expr = PythonCondition(ctx).visit(step.condition)
    # Returns the task ids to follow; Airflow skips the branch's other direct downstreams.
    body = f"return {py_literal([step.id])} if bool({expr}) else {py_literal(elses)}"
    view.functions.append(FunctionView(fn, Code("**context"), Code(body)))
    var = f"{ctx.vars[step.id]}_branch"
    view.tasks.append(
        TaskView(
            var,
            f"{step.id}.branch",
            "BranchPythonOperator",
            [
                ("task_id", f"{step.id}.branch"),
                (
                    "doc_md",
                    f"Runs `{step.id}` when {step.condition_text}, else "
                    + ", ".join(f"`{e}`" for e in elses),
                ),
                ("python_callable", Code(fn)),
            ],
        )
    )
    view.uses.add("xcom_value")
    return var


def else_vars(ctx: Context, condition_vars: dict[str, str]) -> dict[str, str]:
    """Each else step waits for its branch's BranchPythonOperator."""
    return {
        s.id: condition_vars[s.else_of]
        for s in ctx.p.steps
        if s.else_of is not None and s.else_of in condition_vars
    }


def fail_task(ctx: Context, step: ir.Step, view: DagView) -> None:
    """A task that fails the run with the step's message (never retried)."""
    assert isinstance(step.details, ir.FailDetails)
    view.tasks.append(
        TaskView(
            ctx.vars[step.id],
            step.id,
            "PythonOperator",
            [
                *common_kwargs(step),
                ("python_callable", Code("_fail")),
                # op_kwargs are templated: the message is escaped to render back as written.
                ("op_kwargs", {"message": plain(step.details.message)}),
            ],
        )
    )
    view.uses.add("fail")


# --- one_of inputs ----------------------------------------------------------------------


def _candidates(ctx: Context, inp: ir.Input, source: ir.OneOf) -> list[dict[str, Any]]:
    """Where each source's value is found: an XCom ([task, key, field]) or a file
    ([prefix, suffix] around the run id), as the step's other inputs read them."""
    out: list[dict[str, Any]] = []
    as_json = inp.type not in _PLAIN_TYPES
    for ref in source.sources:
        producer = ctx.p.step(ref.step)
        if natively_tuned(producer):
            out.append({"xcom": [f"{ref.step}.best", "return_value", ref.output], "json": as_json})
        elif inp.is_parameter and ctx.kubernetes:
            out.append({"xcom": [ref.step, ctx.xcom_key(ref.output), None], "json": as_json})
        else:
            # A mapped producer wrote one folder per item under it.
            suffix = f"/{ref.step}/{ref.output}" + ("/" if producer.foreach is not None else "")
            out.append({"uri": [f"{ctx.root}/{ctx.p.name}/", suffix]})
    return out


def add_one_of(ctx: Context, view: DagView) -> None:
    """The table the one_of macro reads, and the macro itself, when a step needs them."""
    table = {
        f"{step.id}.{inp.name}": _candidates(ctx, inp, inp.source)
        for step in ctx.p.steps
        for inp in step.inputs
        if isinstance(inp.source, ir.OneOf)
    }
    if not table:
        return
    view.constants.append((ONE_OF_CONSTANT, table))
    view.uses.add("one_of")
    view.dag_kwargs.append(
        ("user_defined_macros", Code("{" + py_literal(ONE_OF_MACRO) + ": _one_of}"))
    )
