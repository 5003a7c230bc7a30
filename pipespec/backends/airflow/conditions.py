"""``when:`` as a ShortCircuitOperator: the condition becomes a Python expression over the
run's params and earlier tasks' XComs (the shared condition visitor, spelled in Python)."""

from __future__ import annotations

from collections.abc import Sequence

from pipespec import ir
from pipespec.backends.airflow.context import Context, best_key, natively_tuned
from pipespec.backends.airflow.pycode import DagView, FunctionView, TaskView
from pipespec.backends.conditions import ConditionVisitor
from pipespec.pysafe import Code, py_literal


class PythonCondition(ConditionVisitor[str]):
    """A condition as a Python expression inside ``def _when_...(**context)``; every part
    is a literal or a fixed accessor, and every operation is parenthesised."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def literal(self, value: bool | int | float | str) -> str:
        return py_literal(value)

    def param(self, name: str) -> str:
        return f"context['params'][{py_literal(name)}]"

    def output(self, step: str, output: str, key: str | None) -> str:
        if natively_tuned(self.ctx.p.step(step)):
            # A tuned step reports its best trial's outputs as one dict.
            access = (
                f"_xcom_value(context, {py_literal(step + '.best')}, 'return_value')"
                f"[{py_literal(best_key(output))}]"
            )
        else:
            xcom_key = self.ctx.xcom_key(output)
            access = f"_xcom_value(context, {py_literal(step)}, {py_literal(xcom_key)})"
        return access + (f"[{py_literal(key)}]" if key is not None else "")

    def compare(self, op: str, left: str, right: str) -> str:
        return f"({left} {op} {right})"

    def bool_op(self, op: str, operands: Sequence[str]) -> str:
        return "(" + f" {op} ".join(operands) + ")"

    def not_(self, operand: str) -> str:
        return f"(not {operand})"


def condition_task(ctx: Context, step: ir.Step, view: DagView) -> str | None:
    """The step's ShortCircuitOperator, or None without ``when:``; returns its variable."""
    if step.condition is None:
        return None
    fn = f"_when_{ctx.vars[step.id]}"
    expr = PythonCondition(ctx).visit(step.condition)
    view.functions.append(FunctionView(fn, Code("**context"), Code(f"return bool({expr})")))
    var = f"{ctx.vars[step.id]}_when"
    view.tasks.append(
        TaskView(
            var,
            f"{step.id}.when",
            "ShortCircuitOperator",
            [
                ("task_id", f"{step.id}.when"),
                ("doc_md", f"Runs `{step.id}` only when: {step.condition_text}"),
                ("python_callable", Code(fn)),
                ("ignore_downstream_trigger_rules", False),
            ],
        )
    )
    view.uses.add("xcom_value")
    return var
