"""The DAG of DAGs: which group holds each task, and how a value reaches a task from
wherever it is produced.

KFP nests tasks in groups, each a DAG component of its own: a ``dsl.If`` condition
(``condition-...``), the ``dsl.If``/``dsl.Else`` pair around exclusive branches
(``condition-branches-...``) and a ``dsl.ParallelFor`` loop (``for-loop-...``). A task
reads only its own component's inputs and its sibling tasks' outputs, so a value crosses
every group boundary between producer and consumer explicitly, as kfp's compiler does it:

* down into a group: the group's component declares an input
  ``pipelinechannel--<task>-<output>`` and its task in the parent passes the value;
* up out of a group: the group's DAG declares an output that selects its subtask's output
  (after a loop: every iteration's, a list, as ``dsl.Collected``; after exclusive
  branches: whichever ran, as ``dsl.OneOf``).

``order`` adds the dependency between the two siblings, at the level where the consumer's
and the producer's chains of groups part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pipespec.backends.kfp_ir.naming import is_parameter_definition

GroupKind = Literal["root", "condition", "branches", "loop"]


@dataclass(eq=False)
class Group:
    """One DAG: the root or a group task's component."""

    name: str  # its task name in the parent DAG ("" for the root)
    kind: GroupKind
    parent: Group | None
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> PipelineTaskSpec
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> definition
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> definition
    dag_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> selector

    @property
    def depth(self) -> int:
        return 0 if self.parent is None else self.parent.depth + 1


@dataclass(frozen=True)
class Channel:
    """A value where it is produced: a root param, or an output of a task (a container
    task or a group task). ``definition`` is its type as a consumer outside the producer's
    groups sees it."""

    definition: dict[str, Any]
    param: str | None = None
    task: str | None = None
    key: str | None = None

    @property
    def name(self) -> str:
        if self.param is not None:
            return f"pipelinechannel--{self.param}"
        return f"pipelinechannel--{self.task}-{self.key}"

    @property
    def is_parameter(self) -> bool:
        return is_parameter_definition(self.definition)


def _input_kind(parameter: bool) -> str:
    return "parameters" if parameter else "artifacts"


class Wiring:
    """Every group and the group holding each task."""

    def __init__(self) -> None:
        self.root = Group("", "root", None)
        self.holder: dict[str, Group] = {}  # task name -> the group whose DAG holds it
        self.groups: dict[str, Group] = {}  # group task name -> its group

    # --- building the tree -----------------------------------------------------------

    def add_task(self, group: Group, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        group.tasks[name] = spec
        self.holder[name] = group
        return spec

    def add_group(self, parent: Group, name: str, kind: GroupKind) -> Group:
        group = Group(name, kind, parent)
        self.groups[name] = group
        self.add_task(
            parent,
            name,
            {"componentRef": {"name": f"comp-{name}"}, "taskInfo": {"name": name}},
        )
        return group

    def chain(self, task: str) -> list[str]:
        """The group tasks from the root down to ``task``'s group, then ``task``."""
        names = [task]
        group = self.holder[task]
        while group.parent is not None:
            names.append(group.name)
            group = group.parent
        return names[::-1]

    # --- dependencies ---------------------------------------------------------------

    def order(self, consumer: str, producer: str) -> None:
        """``consumer`` runs after ``producer``: a dependency between the two siblings
        where their chains part (a group waits for a task or group beside it)."""
        mine, theirs = self.chain(consumer), self.chain(producer)
        level = 0
        while level < min(len(mine), len(theirs)) and mine[level] == theirs[level]:
            level += 1
        if level >= len(mine) or level >= len(theirs):
            return  # one holds the other: no sibling dependency exists or is needed
        group = self.holder[mine[level]]
        deps = group.tasks[mine[level]].setdefault("dependentTasks", [])
        if theirs[level] not in deps:
            deps.append(theirs[level])
            deps.sort()

    # --- values ---------------------------------------------------------------------

    def feed(self, group: Group, child: str, channel: Channel) -> dict[str, Any]:
        """The input spec that gives task ``child`` of ``group`` the channel's value."""
        kind = "Parameter" if channel.is_parameter else "Artifact"
        if channel.param is not None:
            if group.parent is None:
                return {"componentInputParameter": channel.param}
            return self.pass_down(group, channel)
        assert channel.task is not None and channel.key is not None
        producer_chain = self.chain(channel.task)
        depth = group.depth
        inside = self._group_chain(group) == producer_chain[:depth]
        if not inside or len(producer_chain) <= depth:
            return self.pass_down(group, channel)
        top = producer_chain[depth]
        key = channel.key if top == channel.task else self.surface(self.groups[top], channel)
        return {
            f"taskOutput{kind}": {"producerTask": top, f"output{kind}Key": key},
        }

    def _group_chain(self, group: Group) -> list[str]:
        names: list[str] = []
        while group.parent is not None:
            names.append(group.name)
            group = group.parent
        return names[::-1]

    def task_inputs(self, group: Group, parameter: bool = True) -> dict[str, Any]:
        """The input specs of ``group``'s task in its parent (parameters or artifacts)."""
        assert group.parent is not None
        task_inputs = group.parent.tasks[group.name].setdefault("inputs", {})
        section: dict[str, Any] = task_inputs.setdefault(_input_kind(parameter), {})
        return section

    def pass_down(self, group: Group, channel: Channel) -> dict[str, Any]:
        """Declares ``channel`` as an input of ``group`` fed by its parent."""
        assert group.parent is not None
        name = channel.name
        group.inputs.setdefault(name, channel.definition)
        section = self.task_inputs(group, channel.is_parameter)
        if name not in section:
            section[name] = self.feed(group.parent, group.name, channel)
        source = "Parameter" if channel.is_parameter else "Artifact"
        return {f"componentInput{source}": name}

    def surface(self, group: Group, channel: Channel) -> str:
        """The output of ``group`` that carries the channel's value out of it (every
        iteration's after a loop); declared once."""
        assert channel.task is not None and channel.key is not None
        producer_chain = self.chain(channel.task)
        inner = producer_chain[group.depth]
        key = channel.key if inner == channel.task else self.surface(self.groups[inner], channel)
        name = channel.name
        if name not in group.outputs:
            definition = channel.definition
            group.outputs[name] = definition
            if channel.is_parameter:
                selector = {"producerSubtask": inner, "outputParameterKey": key}
                group.dag_outputs[name] = {"valueFromParameter": selector}
            else:
                selector = {"producerSubtask": inner, "outputArtifactKey": key}
                group.dag_outputs[name] = {"artifactSelectors": [selector]}
        return name

    def one_of(self, branches: Group, channels: list[Channel], definition: dict[str, Any]) -> str:
        """An output of an if/else ``branches`` group holding whichever branch's value was
        produced, as ``dsl.OneOf`` compiles it. Each channel's producer sits in one
        condition group directly inside ``branches``."""
        count = sum(1 for name in branches.outputs if "-oneof-" in name)
        name = f"pipelinechannel--{branches.name}-oneof-{count + 1}"
        selectors: list[dict[str, str]] = []
        for channel in channels:
            assert channel.task is not None
            branch = self.groups[self.chain(channel.task)[branches.depth]]
            key = self.surface(branch, channel)
            kind = "Parameter" if channel.is_parameter else "Artifact"
            selectors.append({"producerSubtask": branch.name, f"output{kind}Key": key})
        branches.outputs[name] = definition
        if is_parameter_definition(definition):
            branches.dag_outputs[name] = {"valueFromOneof": {"parameterSelectors": selectors}}
        else:
            branches.dag_outputs[name] = {"artifactSelectors": selectors}
        return name
