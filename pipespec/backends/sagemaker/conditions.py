"""A ``when:`` condition as a SageMaker ConditionStep's ``Conditions``.

SageMaker's condition types are the comparisons (``Equals``, ``GreaterThan``,
``GreaterThanOrEqualTo``, ``LessThan``, ``LessThanOrEqualTo``), ``In``, ``Not`` and
``Or``; the step's list of conditions is their conjunction. There is no ``And`` type, so
an ``and`` inside an ``or`` or a ``not`` is written by De Morgan: ``Not(Or(Not a, Not
b))``. ``!=`` is ``Not(Equals)``; a bare boolean (``when: params.flag``) is
``Equals(value, true)``. Values are literals, ``Get`` of a parameter, and for a step's
reported value whatever the backend passes in (a ``JsonGet`` on its property file).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pipespec import ir
from pipespec.backends.conditions import ConditionVisitor
from pipespec.backends.sagemaker.parameters import param_ref

_COMPARISONS = {
    "==": "Equals",
    ">": "GreaterThan",
    ">=": "GreaterThanOrEqualTo",
    "<": "LessThan",
    "<=": "LessThanOrEqualTo",
}
OutputValue = Callable[[str, str, "str | None"], Any]


class _Node:
    """A visited node: a value (an operand) or a list of conditions (all must hold)."""

    def __init__(self, value: Any = None, conditions: list[dict[str, Any]] | None = None):
        self.value, self.conditions = value, conditions

    def as_conditions(self) -> list[dict[str, Any]]:
        if self.conditions is not None:
            return self.conditions
        return [{"Type": "Equals", "LeftValue": self.value, "RightValue": True}]


def _one(conditions: list[dict[str, Any]]) -> dict[str, Any]:
    """All of ``conditions`` as one condition (De Morgan when there are several)."""
    if len(conditions) == 1:
        return conditions[0]
    negated = [{"Type": "Not", "Condition": c} for c in conditions]
    return {"Type": "Not", "Condition": {"Type": "Or", "Conditions": negated}}


class SagemakerConditions(ConditionVisitor[_Node]):
    def __init__(self, output_value: OutputValue) -> None:
        self.output_value = output_value

    def literal(self, value: bool | int | float | str) -> _Node:
        return _Node(value)

    def param(self, name: str) -> _Node:
        return _Node(param_ref(name))

    def output(self, step: str, output: str, key: str | None) -> _Node:
        return _Node(self.output_value(step, output, key))

    def compare(self, op: str, left: _Node, right: _Node) -> _Node:
        if op == "!=":
            equals = {"Type": "Equals", "LeftValue": left.value, "RightValue": right.value}
            return _Node(conditions=[{"Type": "Not", "Condition": equals}])
        kind = _COMPARISONS[op]
        return _Node(
            conditions=[{"Type": kind, "LeftValue": left.value, "RightValue": right.value}]
        )

    def bool_op(self, op: str, operands: Sequence[_Node]) -> _Node:
        if op == "and":
            return _Node(conditions=[c for o in operands for c in o.as_conditions()])
        either = [_one(o.as_conditions()) for o in operands]
        return _Node(conditions=[{"Type": "Or", "Conditions": either}])

    def not_(self, operand: _Node) -> _Node:
        return _Node(conditions=[{"Type": "Not", "Condition": _one(operand.as_conditions())}])


def conditions(expr: ir.Expr, output_value: OutputValue) -> list[dict[str, Any]]:
    """The ConditionStep's ``Conditions`` for ``expr`` (their conjunction is the test)."""
    return SagemakerConditions(output_value).visit(expr).as_conditions()
