"""One step as KFP runs it: a container component (its inputs and outputs), the executor
(image, command, args, env, resources) and the task that feeds the component.

Values reach the container as KFP's placeholders, which KFP's launcher replaces in the
command and args when the task runs (``{{$.inputs.parameters['x']}}``,
``{{$.outputs.artifacts['model'].path}}``...). The launcher has no escape for that syntax
(backend/src/v2/component/launcher_v2.go replaces every placeholder string it knows, in
no fixed order), so spec text that contains ``{{$`` could become a placeholder: it is
refused in the command and args (PS600), and env values without placeholders, which KFP
passes to the pod unchanged, carry any text.
"""

from __future__ import annotations

import json
from typing import Any

from pipespec import ir
from pipespec.backends.kfp_ir.naming import literal_parameter_type, value_definition
from pipespec.backends.kfp_ir.state import Build
from pipespec.backends.kfp_ir.wiring import Channel, Group
from pipespec.backends.placeholders import Resolver, walk

PLACEHOLDER_START = "{{$"
# A script ships inline, as kfp's lightweight components ship theirs: the source is the
# argument after `sh -c PROGRAM` ($0), written to a file and run with the step's args.
SCRIPT_RUNNER = (
    'program_path=$(mktemp -d) && printf "%s" "$0" > "$program_path/step.py" && '
    'exec python3 "$program_path/step.py" "$@"'
)
# KFP resolves placeholders only in the command and args, not in env: env values that
# name inputs or params travel as `NAME=value` arguments up to `--` and are exported by
# this fixed program (the values are never parsed by the shell) before the step's argv.
ENV_RUNNER = 'while [ "$1" != "--" ]; do export "$1"; shift; done; shift; exec "$@"'


def cel_string(text: str) -> str:
    """A CEL string literal: JSON's escapes are CEL's, in double quotes."""
    return json.dumps(text, ensure_ascii=True)


def item_selector(key: str) -> str:
    return f"parseJson(string_value)[{cel_string(key)}]"


class Interface:
    """A component's inputs and outputs, declared as the command names them, and the
    task's input specs that feed them."""

    def __init__(self, build: Build, group: Group, task: str) -> None:
        self.build, self.group, self.task = build, group, task
        self.inputs: dict[str, dict[str, Any]] = {"parameters": {}, "artifacts": {}}
        self.outputs: dict[str, dict[str, Any]] = {"parameters": {}, "artifacts": {}}
        self.feeds: dict[str, dict[str, Any]] = {"parameters": {}, "artifacts": {}}

    def take(self, name: str, definition: dict[str, Any], spec: dict[str, Any]) -> None:
        section = "parameters" if "parameterType" in definition else "artifacts"
        if name not in self.inputs[section]:
            self.inputs[section][name] = definition
            self.feeds[section][name] = spec

    def take_channel(self, name: str, channel: Channel) -> None:
        section = "parameters" if channel.is_parameter else "artifacts"
        if name not in self.inputs[section]:
            spec = self.build.wiring.feed(self.group, self.task, channel)
            self.take(name, channel.definition, spec)

    def give(self, name: str, definition: dict[str, Any]) -> None:
        section = "parameters" if "parameterType" in definition else "artifacts"
        self.outputs[section][name] = definition

    def component(self, executor: str | None = None) -> dict[str, Any]:
        comp: dict[str, Any] = {}
        if executor is not None:
            comp["executorLabel"] = executor
        inputs = {k: v for k, v in self.inputs.items() if v}
        outputs = {k: v for k, v in self.outputs.items() if v}
        if inputs:
            comp["inputDefinitions"] = inputs
        if outputs:
            comp["outputDefinitions"] = outputs
        return comp

    def task_inputs(self) -> dict[str, Any]:
        return {k: v for k, v in self.feeds.items() if v}


def _param_placeholder(name: str) -> str:
    return f"{{{{$.inputs.parameters['{name}']}}}}"


class KfpResolver(Resolver[str]):
    """How KFP spells each ``${...}``: a placeholder of a component input or output."""

    def __init__(self, build: Build, iface: Interface, step_id: str) -> None:
        self.build, self.iface, self.step_id = build, iface, step_id
        self.refused: list[str] = []

    def text(self, step: ir.Step, text: str) -> str:
        if PLACEHOLDER_START in text:
            self.refused.append(text)
        return text

    def param(self, step: ir.Step, name: str) -> str:
        self.iface.take_channel(f"param-{name}", self.build.param_channel(name))
        return _param_placeholder(f"param-{name}")

    def input_param(self, step: ir.Step, inp: ir.Input, source: ir.ParamRef) -> str:
        self.iface.take_channel(inp.name, self.build.param_channel(source.name))
        return _param_placeholder(inp.name)

    def input_literal(self, step: ir.Step, inp: ir.Input, source: ir.LiteralUri) -> str:
        # A constant input, not text in the argv: the URI reaches the step verbatim.
        self.iface.take(
            inp.name, {"parameterType": "STRING"}, {"runtimeValue": {"constant": source.uri}}
        )
        return _param_placeholder(inp.name)

    def input_artifact(self, step: ir.Step, inp: ir.Input, source: ir.ArtifactRef) -> str:
        channel = self.build.output_channel(source.step, source.output)
        if channel.definition.get("isArtifactList"):
            self.build.error(
                step,
                f"step '{step.id}' reads '{source}', an artifact of every item of a foreach "
                "step: KFP gives a container only the first artifact of a list",
                "write a list, dict or metrics output in the foreach step and read that",
            )
        self.iface.take_channel(inp.name, channel)
        return f"{{{{$.inputs.artifacts['{inp.name}'].path}}}}"

    def input_uri(self, step: ir.Step, inp: ir.Input, source: ir.ArtifactRef) -> str:
        self.input_artifact(step, inp, source)  # the same input, declared once
        return f"{{{{$.inputs.artifacts['{inp.name}'].uri}}}}"

    def input_parameter(self, step: ir.Step, inp: ir.Input, source: ir.ArtifactRef) -> str:
        self.iface.take_channel(inp.name, self.build.output_channel(source.step, source.output))
        return _param_placeholder(inp.name)

    def input_one_of(self, step: ir.Step, inp: ir.Input, source: ir.OneOf) -> str:
        channel = one_of_channel(self.build, step, inp, source)
        if channel is not None:
            self.iface.take_channel(inp.name, channel)
        if inp.is_parameter:
            return _param_placeholder(inp.name)
        return f"{{{{$.inputs.artifacts['{inp.name}'].path}}}}"

    def output(self, step: ir.Step, output: ir.Output) -> str:
        self.iface.give(output.name, value_definition(output.type))
        if output.is_parameter:
            return f"{{{{$.outputs.parameters['{output.name}'].output_file}}}}"
        return f"{{{{$.outputs.artifacts['{output.name}'].path}}}}"

    def _item_input(self, name: str, selector: str | None, type_: str) -> str:
        item = self.build.places[self.step_id].item_input
        return item_input(self.iface, item, name, selector, type_)

    def item(self, step: ir.Step) -> str:
        return self._item_input("loop-item", None, item_type(step))

    def item_key(self, step: ir.Step, key: str) -> str:
        return self._item_input(f"loop-item-{key}", item_selector(key), "STRING")

    def hyperparameter(self, step: ir.Step, name: str) -> str:
        return trial_value(self.iface, self.build.places[self.step_id].item_input, name)


def item_input(
    iface: Interface, item: str | None, name: str, selector: str | None, type_: str
) -> str:
    """Component input ``name`` fed by the loop's item (one key of it, with a selector)."""
    spec: dict[str, Any] = {"componentInputParameter": item}
    if selector is not None:
        spec["parameterExpressionSelector"] = selector
    iface.take(name, {"parameterType": type_}, spec)
    return _param_placeholder(name)


def trial_value(iface: Interface, item: str | None, name: str) -> str:
    """One trial's value of search dimension ``name``: a key of the trial loop's item."""
    return item_input(iface, item, f"hp-{name}", item_selector(name), "STRING")


def item_type(step: ir.Step) -> str:
    """The loop item's type: literal items of one scalar type keep it; anything else is
    read as text (as kfp types a loop over a list param)."""
    items = step.foreach.items if step.foreach is not None else None
    if items:
        kinds = {literal_parameter_type(ir.thaw(i)) for i in items}
        if len(kinds) == 1:
            kind = kinds.pop()
            return "STRING" if kind in ("STRUCT", "LIST") else kind
    return "STRING"


def one_of_channel(build: Build, step: ir.Step, inp: ir.Input, source: ir.OneOf) -> Channel | None:
    """The if/else group's output holding whichever source was produced."""
    channels = [build.output_channel(r.step, r.output) for r in source.sources]
    groups = [build.branches_of(ref.step) for ref in source.sources]
    if any(g is not groups[0] for g in groups) or groups[0].kind != "branches":
        build.error(
            step,
            f"input '{inp.name}' of step '{step.id}' takes one_of outputs that are not the "
            "branches of one if/else: KFP's dsl.OneOf needs the if step and its else steps",
        )
        return None
    definition = value_definition(inp.type)
    key = build.wiring.one_of(groups[0], channels, definition)
    return Channel(definition, task=groups[0].name, key=key)


def _join(parts: list[str]) -> str:
    return "".join(parts)


def argv_and_env(
    build: Build,
    step: ir.Step,
    iface: Interface,
    extra_args: tuple[str, ...] = (),
    resolver: KfpResolver | None = None,
) -> tuple[list[str], list[str], list[dict[str, str]]]:
    """The container's command, args and literal env for ``step``."""
    resolver = resolver or KfpResolver(build, iface, step.id)
    argv_values = step.args if step.script is not None else step.command
    argv = [_join(walk(step, value, resolver)) for value in argv_values] + list(extra_args)
    literal_env: list[dict[str, str]] = []
    exported: list[str] = []
    for name, value in step.env:
        if all(isinstance(seg, ir.Text) for seg in value):
            literal_env.append(
                {"name": name, "value": "".join(s.text for s in value if isinstance(s, ir.Text))}
            )
        else:
            exported.append(f"{name}={_join(walk(step, value, resolver))}")
    # Only the outputs the command names are declared: KFP fails a task when a declared
    # output's file is missing after the container exits.
    if step.script is not None:
        if PLACEHOLDER_START in step.script.source:
            resolver.refused.append(step.script.name)
        command, args = ["sh", "-c", SCRIPT_RUNNER, step.script.source], argv
    else:
        command, args = argv, []
    if exported:
        command = ["sh", "-c", ENV_RUNNER, "pipespec-env", *exported, "--", *command, *args]
        args = []
    for text in resolver.refused:
        build.error(
            step,
            f"step '{step.id}': {text!r} contains '{{{{$', which KFP's launcher reads as a "
            "placeholder in a command or argument (it has no escape)",
            "pass such text in `env` without placeholders (KFP passes env to the pod "
            "unchanged), or in a file",
        )
    return command, args, literal_env


def step_container(
    build: Build,
    step: ir.Step,
    iface: Interface,
    extra_args: tuple[str, ...] = (),
    resolver: KfpResolver | None = None,
) -> dict[str, Any]:
    assert step.image is not None
    command, args, env = argv_and_env(build, step, iface, extra_args, resolver)
    if PLACEHOLDER_START in step.image:
        build.error(step, f"step '{step.id}': the image {step.image!r} contains '{{{{$'")
    container: dict[str, Any] = {"image": step.image, "command": command}
    if args:
        container["args"] = args
    if env:
        container["env"] = env
    resources = build.flavour.container_resources(build, step)
    if resources:
        container["resources"] = resources
    return container
