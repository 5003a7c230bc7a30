"""A monitor with a schedule of its own, as a second DAG (`<pipeline>-<monitor>`).

The pipeline's DAG announces each output a scheduled monitor reads as an Airflow asset
(a dataset on Airflow 2) on the task that writes it; Airflow records an asset event, with
the run's id, each time that task succeeds. The monitor's DAG, on the monitor's schedule,
starts with `<monitor>.latest`: it reads those events (``inlet_events``) and returns, per
step, the last run of the pipeline's DAG that wrote it. The monitor's pod then reads the
files under that run's folder (``Context.artifact_uri``); before any such run, the task
skips and so does the monitor.

In its own DAG the monitor runs alone: `after:` orders it within a run of the pipeline,
which this DAG does not have, and a `when:` reads values of that run (PS606). pipespec's
drift check fails the run when it finds drift (``PIPESPEC_FAIL_ON_DRIFT``): nothing
downstream reads its metrics here, and a failed run is what Airflow alerts on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from pipespec import ir
from pipespec.backends.airflow.context import (
    Context,
    dag_path,
    latest_task,
    natively_tuned,
)
from pipespec.backends.airflow.pycode import DagView, TaskView, call
from pipespec.backends.airflow.view import build_view, render_view
from pipespec.diagnostics import Diagnostic, Severity
from pipespec.ir.monitors import (
    monitor_pipeline_name,
    own_schedule,
    published_outputs,
    scheduled_monitors,
)
from pipespec.pysafe import Code

FAIL_ON_DRIFT_ENV = "PIPESPEC_FAIL_ON_DRIFT"


def asset_uri(pipeline: str, step: str, output: str) -> str:
    """The asset that stands for a step's output; names only (identifiers), no storage
    URI, so Airflow needs no provider to read it."""
    return f"pipespec://{pipeline}/{step}/{output}"


def _asset(ctx: Context, uri: str) -> Code:
    return call("Asset" if ctx.version == "3" else "Dataset", uri)


def add_outlets(ctx: Context, view: DagView) -> None:
    """In the pipeline's DAG: the tasks whose outputs a scheduled monitor reads announce
    them as assets."""
    published = published_outputs(ctx.p)
    tasks = {t.var: t for t in view.tasks}
    for step_id, outputs in published.items():
        task = tasks.get(ctx.vars[step_id])
        if task is None:  # a mapped producer: monitor_problems reports it
            continue
        task.kwargs.append(
            ("outlets", [_asset(ctx, asset_uri(ctx.p.name, step_id, o)) for o in outputs])
        )
        view.uses.add("assets")


def monitor_problems(pipeline: ir.Pipeline, monitor: ir.Step) -> list[Diagnostic]:
    """What a second DAG cannot read of the pipeline's runs: values (XComs stay in their
    run), fan-outs and tuning trials (one folder per item), either-or inputs."""
    problems = []
    for inp in monitor.inputs:
        if isinstance(inp.source, ir.OneOf):
            problem = "takes whichever branch ran, which only a run of the pipeline knows"
        elif not isinstance(inp.source, ir.ArtifactRef):
            continue
        elif inp.is_parameter:
            problem = "is a value, which Airflow keeps in the run that pushed it (XCom)"
        else:
            producer = pipeline.step(inp.source.step)
            if producer.foreach is None and not natively_tuned(producer):
                continue
            problem = f"comes from '{producer.id}', which writes one folder per item or trial"
        problems.append(
            Diagnostic(
                "PS600",
                f"step '{monitor.id}' runs in its own DAG on its own schedule, and its input "
                f"'{inp.name}' {problem}",
                monitor.span,
                "read a dataset or model a single step writes, or drop the monitor's "
                "schedule to run it in every run of the pipeline",
            )
        )
    if monitor.foreach is not None and monitor.foreach.ref is not None:
        problems.append(
            Diagnostic(
                "PS600",
                f"step '{monitor.id}' runs in its own DAG, and fans out over another step's "
                "output, which only a run of the pipeline has",
                monitor.span,
                "fan out over a list or a param, or drop the monitor's schedule",
            )
        )
    return problems


def monitor_pipeline(pipeline: ir.Pipeline, monitor: ir.Step) -> ir.Pipeline:
    """The monitor alone, on its schedule, without the ordering of the pipeline's run."""
    env = monitor.env
    if monitor.script is not None and monitor.script.name == "pipespec:drift":
        env = (*env, (FAIL_ON_DRIFT_ENV, (ir.Text("1"),)))
    alone = dataclasses.replace(
        monitor,
        upstream=(),
        deps=(),
        after=(),
        condition=None,
        condition_text=None,
        else_of=None,
        trigger="all_success",
        env=env,
    )
    return dataclasses.replace(
        pipeline,
        name=monitor_pipeline_name(pipeline, monitor),
        description=f"The step '{monitor.id}' of the pipeline {pipeline.name}, on its own "
        f"schedule, reading the latest outputs of the {pipeline.name} DAG.",
        schedule=own_schedule(monitor, pipeline),
        steps=(alone,),
    )


def _latest_task(ctx: Context, monitor: ir.Step, view: DagView) -> str:
    steps = {
        inp.source.step: asset_uri(ctx.published_by or "", inp.source.step, inp.source.output)
        for inp in monitor.inputs
        if isinstance(inp.source, ir.ArtifactRef)
    }
    var = f"{ctx.vars[monitor.id]}_latest"
    kwargs: list[tuple[str, Any]] = [
        ("task_id", latest_task(monitor)),
        ("doc_md", f"The last runs of the {ctx.published_by} DAG that wrote the inputs."),
        ("python_callable", Code("_latest_runs")),
        ("inlets", [_asset(ctx, uri) for uri in dict.fromkeys(steps.values())]),
        ("op_kwargs", {"dag_id": ctx.published_by, "assets": steps}),
    ]
    view.tasks.insert(0, TaskView(var, latest_task(monitor), "PythonOperator", kwargs))
    view.uses.update({"assets", "latest_runs"})
    return var


def render_monitor_dags(
    pipeline: ir.Pipeline, settings: Mapping[str, Any]
) -> tuple[dict[str, str], list[Diagnostic]]:
    """One DAG file per scheduled monitor; none without a shared artifact_root (the
    capability table reports the monitor as run once per pipeline run, PS606)."""
    files: dict[str, str] = {}
    diags: list[Diagnostic] = []
    if settings.get("artifact_root") is None:
        return files, diags
    for monitor in scheduled_monitors(pipeline):
        problems = monitor_problems(pipeline, monitor)
        if problems:
            diags += problems
            continue
        if monitor.condition_text is not None:
            diags.append(_condition_note(pipeline, monitor))
        sub = monitor_pipeline(pipeline, monitor)
        ctx = Context(sub, settings)
        ctx.published_by = pipeline.name
        ctx.upstream_steps = {
            s: pipeline.step(s) for s in (i.upstream for i in monitor.inputs) if s is not None
        }
        view = build_view(ctx)
        ctx_monitor = sub.steps[0]
        if ctx.upstream_steps:
            view.edges.insert(0, (_latest_task(ctx, ctx_monitor, view), ctx.vars[monitor.id]))
        diags += ctx.diags
        files[dag_path(sub)] = render_view(view)
    return files, diags


def _condition_note(pipeline: ir.Pipeline, monitor: ir.Step) -> Diagnostic:
    return Diagnostic(
        "PS606",
        f"step '{monitor.id}' also runs in its own DAG on its own schedule, where its "
        f"`when: {monitor.condition_text}` does not apply (it reads a run of the "
        f"{pipeline.name} DAG)",
        monitor.span,
        "the monitor still runs under its condition in the pipeline's DAG",
        Severity.WARNING,
    )
