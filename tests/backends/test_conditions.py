"""The shared condition visitor: every node of the ``when:`` AST reaches its method,
children first, with references already split into param / step output / key."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipespec import ir
from pipespec.backends.conditions import ConditionVisitor
from pipespec.spec.conditions import format_condition, parse_condition


class Lisp(ConditionVisitor[str]):
    def literal(self, value: bool | int | float | str) -> str:
        return repr(value)

    def param(self, name: str) -> str:
        return f"(param {name})"

    def output(self, step: str, output: str, key: str | None) -> str:
        return f"(out {step} {output}{'' if key is None else ' ' + key})"

    def compare(self, op: str, left: str, right: str) -> str:
        return f"({op} {left} {right})"

    def bool_op(self, op: str, operands: Sequence[str]) -> str:
        return f"({op} {' '.join(operands)})"

    def not_(self, operand: str) -> str:
        return f"(not {operand})"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("params.go", "(param go)"),
        ("train.metrics.rmse < 0.5", "(< (out train metrics rmse) 0.5)"),
        ("a.flag == true", "(== (out a flag) True)"),
        (
            "not (a.n >= 3 and params.mode != 'fast') or b.done",
            "(or (not (and (>= (out a n) 3) (!= (param mode) 'fast'))) (out b done))",
        ),
        ("a.x and a.y and a.z", "(and (out a x) (out a y) (out a z))"),
    ],
)
def test_each_node_reaches_its_method(text: str, expected: str) -> None:
    assert Lisp().visit(parse_condition(text)) == expected


class Printer(ConditionVisitor[str]):
    """Back to the condition language, fully parenthesised: visits every node."""

    def literal(self, value: bool | int | float | str) -> str:
        return format_condition(ir.Literal(value))

    def param(self, name: str) -> str:
        return f"params.{name}"

    def output(self, step: str, output: str, key: str | None) -> str:
        return ".".join(p for p in (step, output, key) if p is not None)

    def compare(self, op: str, left: str, right: str) -> str:
        return f"({left} {op} {right})"

    def bool_op(self, op: str, operands: Sequence[str]) -> str:
        return "(" + f" {op} ".join(operands) + ")"

    def not_(self, operand: str) -> str:
        return f"(not {operand})"


names = st.sampled_from(["a", "b", "train"])
refs = st.one_of(
    st.builds(lambda n: ir.Ref(("params", n)), names),
    st.builds(lambda s, o: ir.Ref((s, o)), names, names),
    st.builds(lambda s, o, k: ir.Ref((s, o, k)), names, names, names),
)
literals = st.builds(
    ir.Literal,
    st.one_of(st.booleans(), st.integers(-1000, 1000), st.text("abc '\"", max_size=4)),
)
conditions = st.recursive(
    st.one_of(refs, literals),
    lambda inner: st.one_of(
        st.builds(ir.Compare, st.sampled_from(["==", "!=", "<", ">="]), inner, inner),
        st.builds(
            ir.BoolOp,
            st.sampled_from(["and", "or"]),
            st.lists(inner, min_size=2, max_size=3).map(tuple),
        ),
        st.builds(ir.Not, inner),
    ),
    max_leaves=8,
)


@given(conditions)
def test_visiting_keeps_the_whole_tree(node: ir.Expr) -> None:
    """Printing through the visitor and parsing back gives the same AST: no node is lost,
    reordered or regrouped by the dispatch."""
    assert parse_condition(Printer().visit(node)) == node


def test_an_unknown_node_is_refused() -> None:
    with pytest.raises(TypeError, match="not a condition node"):
        Lisp().visit("params.x")  # type: ignore[arg-type]
