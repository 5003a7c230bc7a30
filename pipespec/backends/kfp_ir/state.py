"""What one KFP render builds up: the wiring of groups, the components, executors and
platform settings, the diagnostics, and where each step's tasks went."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipespec import ir
from pipespec.backends.kfp_ir.flavour import Flavour, IrOptions
from pipespec.backends.kfp_ir.naming import PARAMETER_TYPES, Namer, value_definition
from pipespec.backends.kfp_ir.wiring import Channel, Group, Wiring
from pipespec.diagnostics import Diagnostic


@dataclass
class StepPlace:
    """Where one step's tasks sit."""

    task: str  # its container task (for a tuned step: the per-trial task)
    home: Group  # the group holding that task
    condition: Group | None = None  # its own `when:` group
    loop: Group | None = None  # its foreach (or trial) loop
    item_input: str | None = None  # the loop's item input name
    trials_task: str | None = None  # a tuned step's helper tasks
    best_task: str | None = None
    # Outputs another task produces under its own name (an engine's component whose
    # output the step's output is), by output name.
    channels: dict[str, Channel] = field(default_factory=dict)


@dataclass
class Build:
    pipeline: ir.Pipeline
    options: IrOptions
    flavour: Flavour
    wiring: Wiring = field(default_factory=Wiring)
    namer: Namer = field(default_factory=Namer)
    components: dict[str, dict[str, Any]] = field(default_factory=dict)
    executors: dict[str, dict[str, Any]] = field(default_factory=dict)
    platform: dict[str, dict[str, Any]] = field(default_factory=dict)  # exec -> k8s config
    diagnostics: list[Diagnostic] = field(default_factory=list)
    places: dict[str, StepPlace] = field(default_factory=dict)
    branches: dict[str, Group] = field(default_factory=dict)  # if-step id -> its group
    # Names of every step's task, taken before any group's, so steps keep their names.
    task_names: dict[str, str] = field(default_factory=dict)

    def error(self, step: ir.Step, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic("PS600", message, step.span, hint))

    def output_channel(self, step_id: str, output: str) -> Channel:
        """Where another step reads ``step_id``'s output: the step's task; after a loop,
        the loop group's list of every iteration's value; for a tuned step, the task that
        picked the best trial."""
        step = self.pipeline.step(step_id)
        out = next(o for o in step.outputs if o.name == output)
        place = self.places[step_id]
        if output in place.channels:
            return place.channels[output]
        if place.best_task is not None:
            return Channel(value_definition(out.type), task=place.best_task, key=output)
        if step.foreach is not None:
            return Channel(value_definition(out.type, is_list=True), task=place.task, key=output)
        return Channel(value_definition(out.type), task=place.task, key=output)

    def outward_task(self, step_id: str) -> str:
        """The task (or group task) whose completion means the step is done."""
        place = self.places[step_id]
        if place.best_task is not None:
            return place.best_task
        if place.loop is not None:
            return place.loop.name
        return place.task

    def branches_of(self, step_id: str) -> Group:
        """The if/else branches group nearest around the step (the root when none)."""
        group = self.wiring.holder[self.outward_task(step_id)]
        while group.kind != "branches" and group.parent is not None:
            group = group.parent
        return group

    def param(self, name: str) -> ir.Param:
        return next(p for p in self.pipeline.params if p.name == name)

    def param_channel(self, name: str) -> Channel:
        return Channel({"parameterType": PARAMETER_TYPES[self.param(name).type]}, param=name)
