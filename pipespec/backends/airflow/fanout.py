"""Fan-out as Airflow's dynamic task mapping (``partial().expand_kwargs()``): ``foreach:``
over literal items, a list param or a list output, and tuning as one mapped task per
trial. Run-time values (the item, a trial's hyperparameters) are markers in a kwargs
template that the DAG file's ``_fill_item`` fills in."""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from typing import Any

from pipespec import ir
from pipespec.backends.airflow.context import Context, runs_standard_script_trials, trial_marker
from pipespec.backends.airflow.jinja_text import escape_literal
from pipespec.backends.airflow.operators import KwargsFactory
from pipespec.backends.airflow.pycode import DagView, FunctionView, TaskView
from pipespec.pysafe import Code, py_ident, py_literal

_MARKER = re.compile("\x00(item|hp:[^\x00]*)\x00")
ITEM_MARKER = "\x00item\x00"


_marker = trial_marker


def split_markers(value: Any) -> Any:
    """Strings holding markers become lists of parts: text, ``None`` for the item, or
    ``{"key": name}`` for one value of the item (a trial's hyperparameter)."""
    if isinstance(value, str):
        pieces = _MARKER.split(value)
        if len(pieces) == 1:
            return value
        parts: list[Any] = []
        for i, piece in enumerate(pieces):
            if i % 2 == 0:
                if piece:
                    parts.append(piece)
            elif piece == "item":
                parts.append(None)
            else:
                parts.append({"key": piece.removeprefix("hp:")})
        return {"__pipespec_parts__": parts}
    if isinstance(value, dict):
        return {k: split_markers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [split_markers(v) for v in value]
    return value


def _item_text(item: Any) -> str:
    item = ir.thaw(item)
    return item if isinstance(item, str) else json.dumps(item)


def _item_fields(item: Any) -> dict[str, str] | None:
    """A mapping item's values as escaped text, for ${item.KEY}; None for a scalar item."""
    if not isinstance(item, ir.FrozenMap):
        return None
    return {key: escape_literal(_item_text(value)) for key, value in item.items()}


def _bound(step: ir.Step) -> list[tuple[str, Any]]:
    """`parallelism`: Airflow's per-run cap on the mapped task's running instances."""
    fe = step.foreach
    return (
        []
        if fe is None or fe.parallelism is None
        else [("max_active_tis_per_dagrun", fe.parallelism)]
    )


def foreach_tasks(
    ctx: Context,
    step: ir.Step,
    view: DagView,
    factory: KwargsFactory,
    operator: str,
    common: list[tuple[str, Any]],
) -> None:
    """A ``foreach:`` step as one mapped task."""
    var = ctx.vars[step.id]
    fe = step.foreach
    assert fe is not None
    if fe.items is not None:
        # Literal items: every item's kwargs are known now.
        expansions = []
        for item in fe.items:
            text, fields = escape_literal(_item_text(item)), _item_fields(item)
            _, per_item = factory(ctx, step, text, item_fields=fields)
            expansions.append(per_item)
        # The fixed part holds no item text: any item's values do.
        fixed, _ = factory(ctx, step, "", item_fields=defaultdict(str))
        view.tasks.append(
            TaskView(
                var,
                step.id,
                operator,
                common + fixed + _bound(step),
                partial=True,
                expand=expansions,
            )
        )
        return
    # A run-time list (a list param or a list output): map a kwargs builder over it.
    fixed, template = factory(ctx, step, ITEM_MARKER)
    fn = f"_{var}_kwargs"
    const = f"_{var.upper()}_TEMPLATE"
    view.constants.append((const, split_markers(template)))
    view.functions.append(
        FunctionView(fn, Code("item"), Code(f"return _fill_item({py_ident(const)}, item)"))
    )
    view.uses.add("fill_item")
    if fe.param is not None:
        items_var = f"{var}_items"
        view.tasks.append(
            TaskView(
                items_var,
                f"{step.id}.items",
                "PythonOperator",
                [
                    ("task_id", f"{step.id}.items"),
                    ("python_callable", Code("_param_items")),
                    ("op_kwargs", {"name": fe.param}),
                ],
            )
        )
        view.uses.add("param_items")
        source = Code(f"{py_ident(items_var)}.output.map({py_ident(fn)})")
    else:
        assert fe.ref is not None
        producer_var = py_ident(ctx.vars[fe.ref.step])
        key = ctx.xcom_key(fe.ref.output)
        source = Code(f"XComArg({producer_var}, key={py_literal(key)}).map({py_ident(fn)})")
        view.uses.add("xcomarg")
    view.tasks.append(
        TaskView(var, step.id, operator, common + fixed + _bound(step), partial=True, expand=source)
    )


def tuned_tasks(
    ctx: Context,
    step: ir.Step,
    view: DagView,
    factory: KwargsFactory,
    operator: str,
    common: list[tuple[str, Any]],
) -> None:
    """Tuning as Airflow does fan-out: `<step>.trials` samples the search space (seeded,
    so reproducible), the step maps one task per trial (at most `parallel_trials` at a
    time), and `<step>.best` picks the trial by the objective and reports its outputs."""
    var = ctx.vars[step.id]
    details = step.details
    # natively_tuned(step) holds: the search space, trial count and objective are set.
    assert isinstance(details, ir.TuneDetails)
    assert details.objective is not None and details.max_trials is not None
    space: dict[str, Any] = ir.thaw(details.search_space)
    # The standard script takes each value as `--name=value`; the user's own command takes
    # them where it wrote ${hyperparameters.NAME} (the resolver puts the markers there).
    standard = runs_standard_script_trials(step)
    extra = tuple(escape_literal(f"--{n}=") + _marker(n) for n in sorted(space) if standard)
    fixed, template = factory(ctx, step, None, extra)
    const, space_const = f"_{var.upper()}_TEMPLATE", f"_{var.upper()}_SPACE"
    view.constants.append((const, split_markers(template)))
    view.constants.append((space_const, space))
    seed = int(hashlib.sha256(f"{ctx.p.name}/{step.id}".encode()).hexdigest()[:8], 16)
    trials = details.max_trials
    parallel = int(details.parallel_trials or 1)
    kwargs_fn, trials_fn = f"_{var}_kwargs", f"_{var}_trials"
    fill_trial = Code(f"return _fill_item({py_ident(const)}, trial)")
    view.functions.append(FunctionView(kwargs_fn, Code("trial"), fill_trial))
    sample = Code(f"return _sample_trials({py_ident(space_const)}, {trials}, {seed})")
    view.functions.append(FunctionView(trials_fn, Code("**context"), sample))
    view.uses |= {"fill_item", "sample_trials", "best_trial"}
    trials_var = f"{var}_trials"
    view.tasks.append(
        TaskView(
            trials_var,
            f"{step.id}.trials",
            "PythonOperator",
            [("task_id", f"{step.id}.trials"), ("python_callable", Code(trials_fn))],
        )
    )
    view.tasks.append(
        TaskView(
            var,
            step.id,
            operator,
            [*common, *fixed, ("max_active_tis_per_dagrun", parallel)],
            partial=True,
            expand=Code(f"{py_ident(trials_var)}.output.map({py_ident(kwargs_fn)})"),
        )
    )
    _best_task(ctx, step, view, details.objective, trials)


def _best_task(
    ctx: Context, step: ir.Step, view: DagView, objective: ir.Objective, trials: int
) -> None:
    """`<step>.best`: picks the best trial by the objective and reports its outputs."""
    var = ctx.vars[step.id]
    best_fn = f"_{var}_best"
    artifacts = [o.name for o in step.outputs if not o.is_parameter]
    best_args = ", ".join(
        [
            "context",
            py_literal(step.id),
            py_literal(ctx.xcom_key("metrics")),
            py_literal(objective.metric),
            py_literal(objective.goal),
            str(trials),
            py_literal(f"{ctx.root}/{ctx.p.name}"),
            py_literal(artifacts),
        ]
    )
    view.functions.append(
        FunctionView(best_fn, Code("**context"), Code(f"return _best_trial({best_args})"))
    )
    view.tasks.append(
        TaskView(
            f"{var}_best",
            f"{step.id}.best",
            "PythonOperator",
            [
                ("task_id", f"{step.id}.best"),
                (
                    "doc_md",
                    f"The best of `{step.id}`'s trials by {objective.metric} ({objective.goal})",
                ),
                ("python_callable", Code(best_fn)),
            ],
        )
    )
