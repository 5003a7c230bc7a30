"""Train and tune steps as Vertex AI training jobs, in the form GCPC compiles them to.

A train step is a custom job as ``create_custom_training_job_from_component`` makes one:
the ``CustomTrainingJobOp`` component (its launcher, its inputs) with the step's own
interface merged in and the step's container baked into ``worker_pool_specs``, where
Vertex resolves the step's KFP placeholders (its inputs' paths under ``/gcs``).
"""

from __future__ import annotations

from typing import Any

from pipespec import ir
from pipespec.backends.kfp_ir.state import Build
from pipespec.backends.kfp_ir.steps import PLACEHOLDER_START, Interface, step_container
from pipespec.backends.kfp_ir.tasks import loop_iterator, task_spec
from pipespec.backends.placeholders import param_of
from pipespec.backends.vertex.containers import vertex_container
from pipespec.backends.vertex.gcpc import CUSTOM_JOB, register_gcpc
from pipespec.backends.vertex.job_values import (
    JobResolver,
    argv_plan,
    check_machine_param,
    runner_command,
    values_interface,
    values_task,
)
from pipespec.backends.vertex.machines import MachineError, machine_for, replica_count
from pipespec.backends.vertex.options import VertexOptions

# GCPC's defaults for a custom job's boot disk (create_custom_training_job_from_component).
BOOT_DISK = {"boot_disk_size_gb": 100.0, "boot_disk_type": "pd-ssd"}


def options_of(build: Build) -> VertexOptions:
    assert isinstance(build.options, VertexOptions)
    return build.options


def _param_value(iface: Interface, build: Build, value: Any) -> Any:
    """``${params.NAME}`` (instance type or count chosen per run) as the placeholder of
    a component input fed by that param; any other value as it is."""
    name = param_of(value)
    if name is None:
        return value
    iface.take_channel(f"param-{name}", build.param_channel(name))
    return f"{{{{$.inputs.parameters['param-{name}']}}}}"


def worker_pool_specs(
    build: Build, step: ir.Step, iface: Interface, container: dict[str, Any]
) -> list[dict[str, Any]] | None:
    """One pool (the chief) and, for more machines, a second with the rest, as GCPC's
    wrapper lays them out; None (after an error) when Vertex has no such machine or a
    run-time value could change the job's spec."""
    if not check_machine_param(build, step):
        return None
    forged = [e["name"] for e in container.get("env", []) if PLACEHOLDER_START in e["value"]]
    if forged:
        # KFP passes a container task's env to the pod unchanged, but a job's env is in
        # worker_pool_specs, whose placeholders Vertex substitutes (the step's inputs
        # reach its command so): there, `{{$` in a value would be replaced too.
        build.error(
            step,
            f"step '{step.id}': env {', '.join(forged)} contains '{{{{$', which Vertex reads "
            "as a placeholder in a training job's worker pool",
            "pass such text in a file",
        )
        return None
    try:
        machine = machine_for(step, options_of(build).machine_type)
    except MachineError as exc:
        message = f"step '{step.id}': {exc}"
        # The step's container resources reported a GPU fault already (same message).
        if all(d.message != message or d.span != step.span for d in build.diagnostics):
            build.error(step, message, "set targets.vertex.instance_type")
        return None
    machine_spec: dict[str, Any] = {
        "machine_type": _param_value(iface, build, machine.machine_type)
    }
    if machine.accelerator_type is not None:
        machine_spec["accelerator_type"] = machine.accelerator_type
        machine_spec["accelerator_count"] = float(machine.accelerator_count)
    pool = {
        "container_spec": {
            "args": list(container.get("args", [])),
            "command": list(container["command"]),
            "env": list(container.get("env", [])),
            "image_uri": container["image"],
        },
        "disk_spec": dict(BOOT_DISK),
        "machine_spec": machine_spec,
        "replica_count": 1.0,
    }
    count = _param_value(iface, build, replica_count(step))
    if isinstance(count, int):
        return [pool] if count <= 1 else [pool, {**pool, "replica_count": float(count - 1)}]
    # A count chosen per run: the chief, and the rest as one more pool (Vertex reads the
    # number from text); a count of one leaves the second pool empty.
    build.error(
        step,
        f"step '{step.id}': targets.vertex.instance_count from a param is not supported: "
        "the pool sizes are fixed when the job is compiled",
        "write a number",
    )
    return None


def job_defaults(build: Build, step: ir.Step, task: str) -> dict[str, Any]:
    """The job's settings as the wrapper's input defaults: name, timeout, identity,
    network, encryption key, labels."""
    options = options_of(build)
    defaults: dict[str, Any] = {"display_name": task}
    if step.timeout_s is not None:
        defaults["timeout"] = f"{step.timeout_s}s"
    account = options.account_for(step.service_account)
    if account:
        defaults["service_account"] = account
    if options.network:
        defaults["network"] = options.network
    if options.encryption_key:
        defaults["encryption_spec_key_name"] = options.encryption_key
    return defaults


def interface_definitions(iface: Interface) -> dict[str, Any]:
    comp = iface.component()
    return {k: comp[k] for k in ("inputDefinitions", "outputDefinitions") if k in comp}


def register_job_task(
    build: Build, step: ir.Step, task: str, iface: Interface, component: str,
    defaults: dict[str, Any],
) -> None:  # fmt: skip
    """The GCPC component with the step's interface merged in, and its task."""
    register_gcpc(build, task, component, defaults, interface_definitions(iface))
    spec = build.wiring.holder[task].tasks[task]
    spec.update(task_spec(build, task, step))
    inputs = iface.task_inputs()
    if inputs:
        spec["inputs"] = inputs


def custom_job(build: Build, step: ir.Step) -> None:
    """A train step (or any step run as a training job) as a Vertex custom job."""
    loop_iterator(build, step)
    place = build.places[step.id]
    iface = Interface(build, place.home, place.task)
    values = values_interface(build, step)
    container = step_container(
        build, step, iface, resolver=JobResolver(build, iface, step.id, values)
    )
    if values_task(build, step, iface, values):
        arguments, argv = argv_plan([*container["command"], *container.pop("args", [])])
        container["command"] = runner_command({"arguments": arguments}, argv, with_values=True)
    vertex_container(build, step, container)
    pools = worker_pool_specs(build, step, iface, container)
    if pools is None:
        return
    defaults = {
        **job_defaults(build, step, place.task),
        # What create_custom_training_job_from_component leaves without a default.
        "labels": dict(options_of(build).labels) or None,
        "psc_interface_config": None,
        "reserved_ip_ranges": None,
        "worker_pool_specs": pools,
    }
    register_job_task(build, step, place.task, iface, CUSTOM_JOB, defaults)
