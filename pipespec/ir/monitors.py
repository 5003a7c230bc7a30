"""Monitors that run on a schedule of their own.

A `monitor` step whose `schedule:` differs from the pipeline's needs runs the pipeline does
not make: a target that can compiles it to a second scheduled pipeline of its own (Airflow:
a second DAG). One whose schedule is the pipeline's already runs on it, inside every run.
"""

from __future__ import annotations

from pipespec.ir import PRESET_CRON, ArtifactRef, MonitorDetails, Pipeline, Step


def _normal(schedule: str) -> str:
    """The schedule as cron, so "@daily" and "0 0 * * *" compare equal."""
    text = " ".join(schedule.split())
    return PRESET_CRON.get(text, text)


def same_schedule(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a is b
    return _normal(a) == _normal(b)


def own_schedule(step: Step, pipeline: Pipeline) -> str | None:
    """The monitor's schedule when it is not the pipeline's; None otherwise."""
    if step.kind != "monitor" or not isinstance(step.details, MonitorDetails):
        return None
    schedule = step.details.schedule
    if schedule is None or same_schedule(schedule, pipeline.schedule):
        return None
    return schedule


def scheduled_monitors(pipeline: Pipeline) -> tuple[Step, ...]:
    """The monitors that need runs of their own, in pipeline order."""
    return tuple(s for s in pipeline.steps if own_schedule(s, pipeline) is not None)


def monitor_pipeline_name(pipeline: Pipeline, monitor: Step) -> str:
    """The name of the monitor's own pipeline (an Airflow dag_id, a file name)."""
    return f"{pipeline.name}-{monitor.id}"


def published_outputs(pipeline: Pipeline) -> dict[str, tuple[str, ...]]:
    """Step -> its outputs a scheduled monitor reads: the pipeline publishes each one's
    latest location for the monitor's own pipeline to find."""
    published: dict[str, list[str]] = {}
    for monitor in scheduled_monitors(pipeline):
        for inp in monitor.inputs:
            if isinstance(inp.source, ArtifactRef):
                outputs = published.setdefault(inp.source.step, [])
                if inp.source.output not in outputs:
                    outputs.append(inp.source.output)
    order = {s.id: i for i, s in enumerate(pipeline.steps)}
    return {step: tuple(published[step]) for step in sorted(published, key=order.__getitem__)}
