"""Run-time values in a Vertex training job's command, kept out of the job's JSON spec.

A training job's container sits inside ``worker_pool_specs``, a JSON document, and Vertex
writes each placeholder's value into it as it is, unescaped (GCPC escapes only the
executor input, ``{{$.json_escape[1]}}``). A number or a boolean cannot break out of its
string; text can: a param value ``x", "service_account": "...`` would add fields to the
job, and a list or dict breaks it. So text that is not known to be plain when compiling
(a param without a plain ``enum``, another step's text, list or dict output, a foreach
item not in the spec) takes another way: ``<task>-values`` (``VALUES_PROGRAM``) writes it
to a file the job gets as an artifact (its path is Vertex's own), and ``JOB_RUNNER`` puts
each value where the step's argv names it when the job starts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pipespec import ir
from pipespec.backends.kfp_ir.naming import ARTIFACT_SCHEMA_VERSION
from pipespec.backends.kfp_ir.state import Build
from pipespec.backends.kfp_ir.steps import Interface, KfpResolver
from pipespec.backends.kfp_ir.tasks import register_task
from pipespec.backends.kfp_ir.wiring import Channel
from pipespec.backends.placeholders import param_of
from pipespec.backends.vertex.programs import VALUES_PROGRAM

# NUL never occurs in spec text (PS214): it marks where JOB_RUNNER puts a value.
MARK = "\0"
VALUES_INPUT = "pipespec-values"
_SAFE_TYPES = frozenset({"int", "float", "bool"})
_VALUES_ARTIFACT = {
    "artifactType": {"schemaTitle": "system.Artifact", "schemaVersion": ARTIFACT_SCHEMA_VERSION}
}


def plain(value: Any) -> bool:
    """A value whose JSON text needs no escaping inside a JSON string."""
    if isinstance(value, (bool, int, float)):
        return True
    return isinstance(value, str) and json.dumps(value)[1:-1] == value


def param_ok(build: Build, name: str) -> bool:
    """Whether param ``name``'s value may go into a job's spec as a placeholder."""
    param = build.param(name)
    if param.type in _SAFE_TYPES:
        return True
    return param.enum is not None and all(plain(v) for v in param.enum)


def _items_ok(step: ir.Step) -> bool:
    items = [ir.thaw(i) for i in (step.foreach.items or ())] if step.foreach else []
    values = [v for i in items for v in (i.values() if isinstance(i, dict) else [i])]
    return step.foreach is not None and step.foreach.items is not None and all(map(plain, values))


def mark(kind: str, name: str) -> str:
    return f"{MARK}{kind}:{name}{MARK}"


class JobResolver(KfpResolver):
    """Placeholders for values that are safe in the job's spec; a mark (and an input of
    ``<task>-values``) for the others."""

    def __init__(self, build: Build, iface: Interface, step_id: str, values: Interface) -> None:
        super().__init__(build, iface, step_id)
        self.values = values

    def _via_file(self, name: str, register: Callable[[], str]) -> str:
        job, self.iface = self.iface, self.values
        try:
            register()
        finally:
            self.iface = job
        return mark("value", name)

    def param(self, step: ir.Step, name: str) -> str:
        if param_ok(self.build, name):
            return super().param(step, name)
        return self._via_file(f"param-{name}", lambda: KfpResolver.param(self, step, name))

    def input_param(self, step: ir.Step, inp: ir.Input, source: ir.ParamRef) -> str:
        if param_ok(self.build, source.name):
            return super().input_param(step, inp, source)
        return self._via_file(inp.name, lambda: KfpResolver.input_param(self, step, inp, source))

    def input_parameter(self, step: ir.Step, inp: ir.Input, source: ir.ArtifactRef) -> str:
        if inp.type in _SAFE_TYPES:
            return super().input_parameter(step, inp, source)
        return self._via_file(
            inp.name, lambda: KfpResolver.input_parameter(self, step, inp, source)
        )

    def input_one_of(self, step: ir.Step, inp: ir.Input, source: ir.OneOf) -> str:
        if not inp.is_parameter or inp.type in _SAFE_TYPES:
            return super().input_one_of(step, inp, source)
        return self._via_file(inp.name, lambda: KfpResolver.input_one_of(self, step, inp, source))

    def item(self, step: ir.Step) -> str:
        if _items_ok(step):
            return super().item(step)
        return self._via_file("loop-item", lambda: KfpResolver.item(self, step))

    def item_key(self, step: ir.Step, key: str) -> str:
        if _items_ok(step):
            return super().item_key(step, key)
        return self._via_file(f"loop-item-{key}", lambda: KfpResolver.item_key(self, step, key))


def parts(value: str) -> list[Any]:
    """One argument as text and marks: ``{"value": name}``, ``{"output": name}``..."""
    found: list[Any] = []
    for i, piece in enumerate(value.split(MARK)):
        if i % 2 == 0:
            if piece:
                found.append(piece)
        else:
            kind, _, name = piece.partition(":")
            found.append({kind: name})
    return found


def argv_plan(argv: list[str]) -> tuple[dict[str, list[Any]], list[str]]:
    """Which arguments ``JOB_RUNNER`` rebuilds (index -> parts), and the argv with those
    blanked (what the job's spec holds)."""
    arguments: dict[str, list[Any]] = {}
    blanked: list[str] = []
    for index, value in enumerate(argv):
        if MARK in value:
            arguments[str(index)] = parts(value)
            blanked.append("")
        else:
            blanked.append(value)
    return arguments, blanked


def values_task(build: Build, step: ir.Step, job: Interface, values: Interface) -> bool:
    """``<task>-values`` when the job needs one (it then takes the file as its input
    ``pipespec-values``); whether it does."""
    if not any(values.inputs.values()):
        return False
    task = values.task
    build.wiring.add_task(values.group, task, {})
    values.give("values", _VALUES_ARTIFACT)
    container = {
        "image": build.options.helper_image,
        "command": ["python3", "-c", VALUES_PROGRAM],
        "args": ["{{$}}", "{{$.outputs.artifacts['values'].path}}"],
    }
    register_task(build, task, None, values, container)
    job.take_channel(VALUES_INPUT, Channel(_VALUES_ARTIFACT, task=task, key="values"))
    for dep in step.deps:
        build.wiring.order(task, build.outward_task(dep.source))
    build.wiring.order(job.task, task)
    return True


def values_interface(build: Build, step: ir.Step) -> Interface:
    """The interface of the step's ``<task>-values`` task, beside the job (its task is
    added to the group only when a value needs it)."""
    place = build.places[step.id]
    name = build.namer.take(f"{place.task}-values")
    return Interface(build, place.home, name)


def runner_command(plan: dict[str, Any], argv: list[str], with_values: bool) -> list[str]:
    """The job's command: ``JOB_RUNNER``, its plan, the values file, the step's argv."""
    from pipespec.backends.vertex.programs import JOB_RUNNER

    plan = {**plan, "length": len(argv)}
    if with_values:
        plan["values"] = True
    head = ["python3", "-c", JOB_RUNNER, json.dumps(plan, sort_keys=True)]
    if with_values:
        head.append(f"{{{{$.inputs.artifacts['{VALUES_INPUT}'].path}}}}")
    return [*head, *argv]


def check_machine_param(build: Build, step: ir.Step) -> bool:
    """A machine type chosen per run goes into the job's spec as a placeholder (it is not
    in the command, so no file can carry it): its param needs a plain ``enum``."""
    name = param_of((step.target_overrides.get("vertex") or {}).get("instance_type"))
    if name is None or param_ok(build, name):
        return True
    build.error(
        step,
        f"step '{step.id}': the machine type comes from param '{name}', whose "
        "value Vertex writes into the training job's JSON spec unescaped",
        f"give param '{name}' an `enum` of machine types",
    )
    return False
