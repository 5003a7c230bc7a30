"""A visitor over the ``when:`` condition AST (``ir.Literal/Ref/Compare/BoolOp/Not``).

The dispatch and the shape of a reference (``params.NAME`` or ``STEP.OUTPUT[.KEY]``) are
target-neutral; a backend subclasses ``ConditionVisitor`` and spells each node in its own
expression language (Python for Airflow, a CEL string for KFP, a JsonPath condition for
SageMaker...). Conditions are compiled, never evaluated, so no node runs here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Generic, TypeVar

from pipespec import ir

T = TypeVar("T")


class ConditionVisitor(ABC, Generic[T]):
    """Post-order: children are visited first and handed to their parent's method."""

    def visit(self, node: ir.Expr) -> T:
        if isinstance(node, ir.Literal):
            return self.literal(node.value)
        if isinstance(node, ir.Ref):
            if node.is_param:
                return self.param(node.parts[1])
            key = node.parts[2] if len(node.parts) == 3 else None
            return self.output(node.parts[0], node.parts[1], key)
        if isinstance(node, ir.Compare):
            return self.compare(node.op, self.visit(node.left), self.visit(node.right))
        if isinstance(node, ir.BoolOp):
            return self.bool_op(node.op, [self.visit(o) for o in node.operands])
        if isinstance(node, ir.Not):
            return self.not_(self.visit(node.operand))
        raise TypeError(f"not a condition node: {node!r}")

    @abstractmethod
    def literal(self, value: bool | int | float | str) -> T:
        """A number, string or boolean written in the condition."""

    @abstractmethod
    def param(self, name: str) -> T:
        """``params.NAME``: a run-time pipeline parameter."""

    @abstractmethod
    def output(self, step: str, output: str, key: str | None) -> T:
        """``STEP.OUTPUT`` (``key`` None) or ``STEP.OUTPUT.KEY`` (one key of a metrics or
        dict output): a value an earlier step reported."""

    @abstractmethod
    def compare(self, op: str, left: T, right: T) -> T:
        """``left op right``; ``op`` is one of ``== != < <= > >=``."""

    @abstractmethod
    def bool_op(self, op: str, operands: Sequence[T]) -> T:
        """``a and b and ...`` or ``a or b or ...`` (``op`` is ``and`` or ``or``)."""

    @abstractmethod
    def not_(self, operand: T) -> T:
        """``not operand``."""
