"""A tune step as a Vertex AI hyperparameter tuning job (``HyperparameterTuningJobRunOp``,
its launcher and inputs, the step's interface merged in as for a custom job), and the
task after it that returns the best trial's model, metrics and hyperparameters.

Each trial runs the step's container through ``JOB_RUNNER``: Vertex appends the trial's
values as ``--name=value`` (the standard train script reads them so; a step's own command
gets them where it wrote ``${hyperparameters.NAME}``), each trial writes its outputs under
its own folder of the job's output directory, and the runner reports the objective from
the step's metrics output to Vertex.
"""

from __future__ import annotations

import json
from typing import Any

from pipespec import ir
from pipespec.backends.kfp_ir.naming import value_definition
from pipespec.backends.kfp_ir.state import Build
from pipespec.backends.kfp_ir.steps import (
    PLACEHOLDER_START,
    Interface,
    step_container,
)
from pipespec.backends.kfp_ir.tasks import register_task
from pipespec.backends.kfp_ir.wiring import Channel
from pipespec.backends.vertex.containers import vertex_container
from pipespec.backends.vertex.gcpc import TUNING_JOB
from pipespec.backends.vertex.job_values import (
    JobResolver,
    argv_plan,
    mark,
    runner_command,
    values_interface,
    values_task,
)
from pipespec.backends.vertex.programs import BEST_TRIAL_PROGRAM
from pipespec.backends.vertex.training import (
    job_defaults,
    options_of,
    register_job_task,
    worker_pool_specs,
)
from pipespec.ir.features import runs_standard_tuning

# StudySpec enums as GCPC's serialize_metrics/serialize_parameters write them (numbers).
_GOALS = {"maximize": 1, "minimize": 2}
_SCALES = {None: 1, "linear": 1, "log": 2}
# Where the job keeps its trials: a folder of this run under the pipeline root.
BASE_OUTPUT_DIRECTORY = "{{$.pipeline_root}}/{{$.pipeline_job_uuid}}/{{$.pipeline_task_uuid}}"


class TrialResolver(JobResolver):
    """Outputs and trial values are the trial's own: marked, for the runner to fill."""

    def output(self, step: ir.Step, output: ir.Output) -> str:
        return mark("output", output.name)

    def hyperparameter(self, step: ir.Step, name: str) -> str:
        return mark("hyperparameter", name)


def trial_plan(step: ir.Step, argv: list[str]) -> tuple[dict[str, Any], list[str]]:
    """The runner's plan for one trial (which arguments it rebuilds, where the outputs go,
    what it reports) and the argv with those arguments blanked."""
    details = step.details
    assert isinstance(details, ir.TuneDetails) and details.objective is not None
    arguments, blanked = argv_plan(argv)
    outputs = {
        part["output"]
        for found in arguments.values()
        for part in found
        if isinstance(part, dict) and "output" in part
    }
    plan = {
        "arguments": arguments,
        "dimensions": sorted(details.search_space or {}),
        "metrics": "metrics",
        "objective": details.objective.metric,
        "outputs": sorted(outputs),
        "pass_values": runs_standard_tuning(step),
    }
    return plan, blanked


def study_parameters(space: ir.FrozenMap) -> list[dict[str, Any]]:
    """The search space as StudySpec ParameterSpecs (GCPC's ``serialize_parameters``)."""
    specs: list[dict[str, Any]] = []
    for name, dim in space.items():
        spec: dict[str, Any] = {"conditional_parameter_specs": [], "parameter_id": name}
        if dim.type == "categorical":
            values = list(dim["values"])
            if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                spec["discrete_value_spec"] = {"values": [float(v) for v in values]}
                spec["scale_type"] = 1
            else:
                texts = [v if isinstance(v, str) else json.dumps(v) for v in values]
                spec["categorical_value_spec"] = {"values": texts}
                spec["scale_type"] = 0
        elif dim.type == "int":
            bounds: dict[str, Any] = {
                "max_value": str(int(dim.max)),
                "min_value": str(int(dim.min)),
            }
            spec["integer_value_spec"], spec["scale_type"] = bounds, _SCALES[dim.scale]
        else:
            bounds = {"max_value": float(dim.max), "min_value": float(dim.min)}
            spec["double_value_spec"], spec["scale_type"] = bounds, _SCALES[dim.scale]
        specs.append(spec)
    return specs


def tuning_job(build: Build, step: ir.Step) -> None:
    details = step.details
    assert isinstance(details, ir.TuneDetails) and details.objective is not None
    place = build.places[step.id]
    iface = Interface(build, place.home, place.task)
    forged = [
        name
        for name, dim in (details.search_space or ir.FrozenMap()).items()
        if dim.type == "categorical"
        and any(isinstance(v, str) and PLACEHOLDER_START in v for v in dim["values"])
    ]
    if forged:
        # The values reach the job in study_spec_parameters, a GCPC input whose
        # placeholders Vertex substitutes: a trial would get the substituted text.
        build.error(
            step,
            f"step '{step.id}': a value of search dimension {forged[0]!r} contains '{{{{$', "
            "which Vertex reads as a placeholder in the tuning job's request",
            "write the value without '{{$'",
        )
        return
    values = values_interface(build, step)
    resolver = TrialResolver(build, iface, step.id, values)
    container = step_container(build, step, iface, resolver=resolver)
    with_values = values_task(build, step, iface, values)
    plan, argv = trial_plan(step, [*container["command"], *container.pop("args", [])])
    container["command"] = runner_command(plan, argv, with_values)
    vertex_container(build, step, container)
    pools = worker_pool_specs(build, step, iface, container)
    if pools is None:
        return
    defaults = {
        **job_defaults(build, step, place.task),
        "base_output_directory": BASE_OUTPUT_DIRECTORY,
        # GCPC's default is us-central1, not the run's location: the job runs beside it.
        "location": options_of(build).location,
        "max_trial_count": details.max_trials,
        "parallel_trial_count": details.parallel_trials or 1,
        "study_spec_metrics": [
            {"goal": _GOALS[details.objective.goal], "metric_id": details.objective.metric}
        ],
        "study_spec_parameters": study_parameters(details.search_space or ir.FrozenMap()),
        "worker_pool_specs": pools,
    }
    defaults.pop("timeout", None)  # a tuning job has no job timeout; each trial's is its own
    register_job_task(build, step, place.task, iface, TUNING_JOB, defaults)
    _best_trial_task(build, step, details.objective)


def _best_trial_task(build: Build, step: ir.Step, objective: ir.Objective) -> None:
    place = build.places[step.id]
    assert place.best_task is not None
    iface = Interface(build, place.home, place.best_task)
    iface.take_channel(
        "gcp_resources",
        Channel({"parameterType": "STRING"}, task=place.task, key="gcp_resources"),
    )
    for out in step.outputs:
        iface.give(out.name, value_definition(out.type))
    container = {
        "image": build.options.helper_image,
        "command": ["python3", "-c", BEST_TRIAL_PROGRAM],
        "args": ["{{$}}"],
        "env": [
            {"name": "PIPESPEC_METRIC", "value": objective.metric},
            {"name": "PIPESPEC_GOAL", "value": objective.goal},
        ],
    }
    register_task(build, place.best_task, None, iface, container)
    build.wiring.order(place.best_task, place.task)
