"""Each step's tasks: its container task (component, executor, platform settings), its
condition group's trigger, its loop's iterator, a tuned step's trial and best-trial tasks,
a fail step's task, and the dependencies between tasks."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pipespec import ir
from pipespec.backends.kfp_ir.cel import condition_text
from pipespec.backends.kfp_ir.helpers import BEST_PROGRAM, FAIL_PROGRAM, TRIALS_PROGRAM
from pipespec.backends.kfp_ir.naming import value_definition
from pipespec.backends.kfp_ir.state import Build
from pipespec.backends.kfp_ir.steps import Interface, item_type, step_container, trial_value
from pipespec.backends.kfp_ir.wiring import Channel
from pipespec.ir.features import runs_standard_tuning


def task_spec(build: Build, task: str, step: ir.Step | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"componentRef": {"name": f"comp-{task}"}, "taskInfo": {"name": task}}
    if step is None:
        return spec
    spec["cachingOptions"] = {} if step.cache is False else {"enableCache": True}
    if step.retries:
        spec["retryPolicy"] = _retry_policy(step)
    return spec


# KFP's defaults for set_retry: no delay, doubling, at most an hour of retrying.
_DEFAULT_BACKOFF_FACTOR = 2.0
_DEFAULT_MAX_DURATION_S = 3600


def _retry_policy(step: ir.Step) -> dict[str, Any]:
    """All four fields, as kfp writes them: KFP's Argo compiler treats a missing
    backoffMaxDuration as 0, and Argo then never starts a retry. The bound covers every
    try at its timeout (never less than kfp's hour), so it cannot cut retries short."""
    delay = step.retry_delay_s or 0
    bound = _DEFAULT_MAX_DURATION_S
    if step.timeout_s is not None:
        bound = max(bound, (step.retries + 1) * (step.timeout_s + delay))
    return {
        "backoffDuration": f"{delay}s",
        # A written delay is a fixed delay between tries, as on Airflow: factor 1.
        "backoffFactor": 1.0 if step.retry_delay_s is not None else _DEFAULT_BACKOFF_FACTOR,
        "backoffMaxDuration": f"{bound}s",
        "maxRetryCount": step.retries,
    }


def register_task(
    build: Build, task: str, step: ir.Step | None, iface: Interface, container: dict[str, Any]
) -> None:
    """The task's spec (updated in place: the wiring holds it), component and executor."""
    spec = build.wiring.holder[task].tasks[task]
    spec.update(task_spec(build, task, step))
    inputs = iface.task_inputs()
    if inputs:
        spec["inputs"] = inputs
    build.components[f"comp-{task}"] = iface.component(f"exec-{task}")
    build.executors[f"exec-{task}"] = {"container": container}


def container_task(build: Build, step: ir.Step) -> None:
    place = build.places[step.id]
    iface = Interface(build, place.home, place.task)
    extra: tuple[str, ...] = ()
    if place.trials_task is not None and runs_standard_tuning(step):
        # The standard train script takes each trial's value as `--name=value`.
        space = step.details.get("search_space") or {}
        extra = tuple(f"--{n}=" + trial_value(iface, place.item_input, n) for n in sorted(space))
    container = step_container(build, step, iface, extra)
    build.flavour.finish_container(build, step, place.task, container)
    register_task(build, place.task, step, iface, container)


def fail_task(build: Build, step: ir.Step) -> None:
    place = build.places[step.id]
    assert isinstance(step.details, ir.FailDetails)
    iface = Interface(build, place.home, place.task)
    container = {
        "image": build.options.helper_image,
        "command": ["sh", "-c", FAIL_PROGRAM],
        "env": [{"name": "PIPESPEC_FAIL_MESSAGE", "value": step.details.message}],
    }
    register_task(build, place.task, step, iface, container)


def condition_trigger(build: Build, step: ir.Step) -> None:
    group = build.places[step.id].condition
    if group is None or group.parent is None:
        return
    text = condition_text(build, step, group)
    group.parent.tasks[group.name]["triggerPolicy"] = {"condition": text}


def loop_iterator(build: Build, step: ir.Step) -> None:
    """The foreach loop's iterator (raw items, a list param or a list output)."""
    place = build.places[step.id]
    loop, foreach = place.loop, step.foreach
    if loop is None or foreach is None or loop.parent is None:
        return
    spec = loop.parent.tasks[loop.name]
    if foreach.items is not None:
        item = f"pipelinechannel--{loop.name}-loop-item"
        raw = json.dumps([ir.thaw(i) for i in foreach.items], sort_keys=True)
        spec["parameterIterator"] = {"itemInput": item, "items": {"raw": raw}}
    else:
        channel = (
            build.param_channel(foreach.param)
            if foreach.param is not None
            else _list_channel(build, foreach)
        )
        build.wiring.pass_down(loop, channel)
        item = f"{channel.name}-loop-item"
        spec["parameterIterator"] = {"itemInput": item, "items": {"inputParameter": channel.name}}
    loop.inputs[item] = {"parameterType": item_type(step)}
    place.item_input = item
    if foreach.parallelism is not None:
        spec["iteratorPolicy"] = {"parallelismLimit": foreach.parallelism}


def _list_channel(build: Build, foreach: ir.Foreach) -> Channel:
    assert foreach.ref is not None
    return build.output_channel(foreach.ref.step, foreach.ref.output)


def tune_tasks(build: Build, step: ir.Step) -> None:
    """Trials (a helper task), one loop iteration per trial, and the best-trial pick."""
    place = build.places[step.id]
    details = step.details
    assert isinstance(details, ir.TuneDetails) and details.objective is not None
    trials, loop = place.trials_task, place.loop
    assert trials is not None and loop is not None and loop.parent is not None
    seed = int(hashlib.sha256(f"{build.pipeline.name}/{step.id}".encode()).hexdigest()[:8], 16)
    iface = Interface(build, loop.parent, trials)
    iface.give("trials", {"parameterType": "LIST"})
    env = {
        "PIPESPEC_SEARCH_SPACE": json.dumps(ir.thaw(details.search_space), sort_keys=True),
        "PIPESPEC_TRIALS": str(details.max_trials),
        "PIPESPEC_SEED": str(seed),
    }
    register_task(build, trials, None, iface, _helper(build, TRIALS_PROGRAM, env, "trials"))
    channel = Channel({"parameterType": "LIST"}, task=trials, key="trials")
    build.wiring.pass_down(loop, channel)
    place.item_input = f"{channel.name}-loop-item"
    loop.inputs[place.item_input] = {"parameterType": "STRING"}
    loop_spec = loop.parent.tasks[loop.name]
    loop_spec["parameterIterator"] = {
        "itemInput": place.item_input,
        "items": {"inputParameter": channel.name},
    }
    if details.parallel_trials:
        loop_spec["iteratorPolicy"] = {"parallelismLimit": details.parallel_trials}
    build.wiring.order(place.task, trials)
    _best_task(build, step, details.objective)


def _helper(build: Build, program: str, env: dict[str, str], output: str | None) -> dict[str, Any]:
    args = [f"{{{{$.outputs.parameters['{output}'].output_file}}}}"] if output else ["{{$}}"]
    return {
        "image": build.options.helper_image,
        "command": ["python3", "-c", program],
        "args": args,
        "env": [{"name": k, "value": v} for k, v in env.items()],
    }


def _best_task(build: Build, step: ir.Step, objective: ir.Objective) -> None:
    place = build.places[step.id]
    best, loop = place.best_task, place.loop
    assert best is not None and place.trials_task is not None
    assert loop is not None and loop.parent is not None
    iface = Interface(build, loop.parent, best)
    iface.take_channel(
        "trials", Channel({"parameterType": "LIST"}, task=place.trials_task, key="trials")
    )
    written = ir.TARGET_WRITTEN_OUTPUTS.get(step.kind, frozenset())
    for out in step.outputs:
        iface.give(out.name, value_definition(out.type))
        if out.name not in written:
            collected = value_definition(out.type, is_list=True)
            iface.take_channel(out.name, Channel(collected, task=place.task, key=out.name))
    env = {"PIPESPEC_METRIC": objective.metric, "PIPESPEC_GOAL": objective.goal}
    register_task(build, best, None, iface, _helper(build, BEST_PROGRAM, env, None))
    build.wiring.order(best, loop.name)
    build.wiring.order(best, place.trials_task)
