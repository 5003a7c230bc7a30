"""The Vertex AI conformance checker: a generated Vertex pipeline (a KFP PipelineSpec) and its
job JSON are accepted by kfp 2.17, GCPC 2.22 and aiplatform 1.165, and are the spec's
pipeline.

Run through ``vertex_probe.py`` in the ``kfp`` venv: no problems (everything the Kubeflow
probe checks, GCPC tasks exactly as GCPC compiles them, importers, the job built into
``aiplatform.PipelineJob`` offline, its schedule). Then the Kubeflow checker's comparisons
with the spec (``kubeflow_checks.py``): the pipeline's inputs are the spec's params; each
step is its own task plus ``<task>-<suffix>`` helper tasks (the importer, upload, endpoint
and deploy tasks of a model step, a tuning step's best-trial task), no other task exists,
and the waits between steps are the spec's; each ``when:`` decides as the spec's does. The
job JSON runs the pipeline file beside it and is scheduled exactly when the spec is.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pipespec import ir
from tests.conformance.checkers import Case, checker
from tests.conformance.kubeflow_checks import (
    assert_conditions_decide,
    assert_graph_matches,
    assert_inputs_match,
    sanitize,
)
from tests.conformance.vertex_runner import probe_vertex

# The 5-field crons croniter reads the presets as (pipespec's spec language accepts them;
# unix-cron, which Vertex schedules take, has no @ macros).
PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_TZ_PREFIX = re.compile(r"^(?:CRON_TZ|TZ)=\S+\s+")


def vertex_step_tasks(pipeline: ir.Pipeline, tasks: list[str]) -> dict[str, str]:
    """Task -> the step it is a part of: the step whose task name it is, or the longest
    one it extends with ``-<suffix>``."""
    names = {sanitize(step.id): step.id for step in pipeline.steps}
    parts = {}
    for task in tasks:
        owners = [n for n in names if task == n or task.startswith(f"{n}-")]
        assert owners, f"task {task} is part of no step ({sorted(names)})"
        parts[task] = names[max(owners, key=len)]
    return parts


def assert_job_matches(job: dict[str, Any], yaml_name: str, pipeline: ir.Pipeline) -> None:
    assert job["template"] == yaml_name, job["template"]
    values = job["pipeline_job"].get("parameter_values") or {}
    params = {p.name for p in pipeline.params}
    assert set(values) <= params, f"parameter values the spec lacks: {set(values) - params}"
    schedule = job.get("schedule")
    assert (schedule is not None) == (pipeline.schedule is not None), schedule
    if schedule is not None and pipeline.schedule is not None:
        cron = _TZ_PREFIX.sub("", schedule["cron"].strip())
        assert cron == PRESETS.get(pipeline.schedule, pipeline.schedule), (
            f"schedule cron {schedule['cron']!r} is not the spec's {pipeline.schedule!r}"
        )


@checker("vertex")
def check_vertex(case: Case) -> None:
    """One pipeline file and one job JSON per spec, beside each other."""
    (name,) = [n for n in case.files if n.endswith(".yaml")]
    jobs = [n for n in case.files if n.endswith(".job.json")]
    assert jobs == [name.removesuffix(".yaml") + ".job.json"], sorted(case.files)
    path = case.tmp_path / Path(name).name
    path.write_text(case.files[name], encoding="utf-8")
    job_path = case.tmp_path / Path(jobs[0]).name
    job_path.write_text(case.files[jobs[0]], encoding="utf-8")
    report = probe_vertex(path, job_path)
    assert report["problems"] == [], "\n".join(report["problems"])
    assert report["pipeline_name"] in (case.pipeline.name, sanitize(case.pipeline.name))
    assert_inputs_match(report, case.pipeline)
    parts = vertex_step_tasks(case.pipeline, sorted(report["graph"]["containers"]))
    assert_graph_matches(report, case.pipeline, parts)
    assert_conditions_decide(path, case.pipeline)
    assert_job_matches(json.loads(case.files[jobs[0]]), path.name, case.pipeline)
