"""A ``when:`` condition as the CEL ``triggerPolicy.condition`` of a condition group, in
the form ``dsl.If`` compiles to: each value the condition reads is an input of the group
(``inputs.parameter_values['pipelinechannel--...']``), integers are compared through
``int(...)`` and an integer beside a double through ``double(...)``.

A metrics key (``evaluate.metrics.auc``) is one value of the producer's STRUCT output:
the group's input takes that output with ``parameterExpressionSelector:
parseJson(string_value)["auc"]``, which KFP's driver applies to a task's inputs before it
evaluates the condition (the mechanism kfp uses for a loop item's fields), so the
condition compares the number the producing task actually wrote.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pipespec import ir
from pipespec.backends.conditions import ConditionVisitor
from pipespec.backends.kfp_ir.naming import PARAMETER_TYPES
from pipespec.backends.kfp_ir.state import Build
from pipespec.backends.kfp_ir.steps import cel_string, item_selector
from pipespec.backends.kfp_ir.wiring import Group

_CEL_OPS = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


@dataclass
class Operand:
    text: str
    type: str | None  # KFP parameter type; None: a dict key whose type the other side sets
    key_input: str | None = None  # the group input a dict key is read into
    channel: bool = False
    compound: bool = False  # an and/or: parenthesised inside another operator


class CelVisitor(ConditionVisitor[Operand]):
    def __init__(self, build: Build, step: ir.Step, group: Group) -> None:
        self.build, self.step, self.group = build, step, group
        self.key_types: dict[str, str] = {}

    def _value(self, name: str) -> str:
        return f"inputs.parameter_values['{name}']"

    def literal(self, value: bool | int | float | str) -> Operand:
        if isinstance(value, bool):
            return Operand("true" if value else "false", "BOOLEAN")
        if isinstance(value, int):
            return Operand(str(value), "NUMBER_INTEGER")
        if isinstance(value, float):
            if not math.isfinite(value):
                self.build.error(
                    self.step, f"step '{self.step.id}': CEL has no literal for {value}"
                )
            return Operand(repr(float(value)), "NUMBER_DOUBLE")
        return Operand(cel_string(value), "STRING")

    def param(self, name: str) -> Operand:
        param_type = PARAMETER_TYPES[self.build.param(name).type]
        channel = self.build.param_channel(name)
        self.build.wiring.pass_down(self.group, channel)
        return Operand(self._value(channel.name), param_type, channel=True)

    def output(self, step: str, output: str, key: str | None) -> Operand:
        channel = self.build.output_channel(step, output)
        wiring = self.build.wiring
        if key is None:
            wiring.pass_down(self.group, channel)
            found = channel.definition.get("parameterType")
            return Operand(self._value(channel.name), found, channel=True)
        name = f"{channel.name}-{key}"
        assert self.group.parent is not None
        spec = wiring.feed(self.group.parent, self.group.name, channel)
        spec["parameterExpressionSelector"] = item_selector(key)
        wiring.task_inputs(self.group).setdefault(name, spec)
        kind = self.build.pipeline.step(step)
        out_type = next(o.type for o in kind.outputs if o.name == output)
        known = "NUMBER_DOUBLE" if out_type == "metrics" else None
        return Operand(self._value(name), known, key_input=name, channel=True)

    def compare(self, op: str, left: Operand, right: Operand) -> Operand:
        for this, other in ((left, right), (right, left)):
            if this.type is None:
                # A dict key's number is a JSON double: compared as one (`int()` would
                # cut 4.5 to 4), with an integer literal promoted to double beside it.
                this.type = other.type or "STRING"
                if this.type == "NUMBER_INTEGER":
                    this.type = "NUMBER_DOUBLE"
            if this.key_input is not None:
                self.key_types[this.key_input] = this.type
        types = {left.type, right.type}
        texts = []
        for operand in (left, right):
            text = operand.text
            if operand.channel and operand.type == "NUMBER_INTEGER":
                text = f"int({text})"
            if len(types) == 2 and "STRING" in types and operand.type != "STRING":
                text = f"string({text})"
            elif types == {"NUMBER_INTEGER", "NUMBER_DOUBLE"} and operand.type == "NUMBER_INTEGER":
                text = f"double({text})"
            texts.append(text)
        return Operand(f"{texts[0]} {_CEL_OPS[op]} {texts[1]}", "BOOLEAN")

    def bool_op(self, op: str, operands: Sequence[Operand]) -> Operand:
        joiner = " && " if op == "and" else " || "
        parts = [f"({o.text})" if o.compound else o.text for o in operands]
        return Operand(joiner.join(parts), "BOOLEAN", compound=True)

    def not_(self, operand: Operand) -> Operand:
        return Operand(f"!({operand.text})", "BOOLEAN")


def condition_text(build: Build, step: ir.Step, group: Group) -> str:
    """The trigger condition of ``step``'s condition group; declares the group's inputs."""
    assert step.condition is not None
    visitor = CelVisitor(build, step, group)
    text = visitor.visit(step.condition).text
    for name, type_ in visitor.key_types.items():
        group.inputs[name] = {"parameterType": type_}
    return text
