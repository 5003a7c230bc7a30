"""The ``when:`` condition AST, its canonical printer and its traversal.

The nodes are what the IR carries to the backends; the parser that builds them from text is
in :mod:`pipespec.spec.conditions`, which re-exports everything here.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = [
    "COMPARISON_OPS",
    "KEYWORDS",
    "BoolOp",
    "Compare",
    "Expr",
    "Literal",
    "Not",
    "Ref",
    "condition_refs",
    "format_condition",
    "is_ident_char",
    "is_ident_start",
    "ref_problem",
    "walk",
]

COMPARISON_OPS = ("==", "!=", "<", "<=", ">", ">=")
KEYWORDS = ("and", "or", "not", "true", "false")


@dataclass(frozen=True, eq=False)
class Literal:
    value: bool | int | float | str
    offset: int = field(default=0, compare=False)

    # Dataclass equality would make Literal(True) == Literal(1) == Literal(1.0); the type
    # matters to the backends, so it is part of equality.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Literal):
            return NotImplemented
        return type(self.value) is type(other.value) and self.value == other.value

    def __hash__(self) -> int:
        return hash((type(self.value), self.value))


@dataclass(frozen=True)
class Ref:
    parts: tuple[str, ...]
    offset: int = field(default=0, compare=False)

    @property
    def is_param(self) -> bool:
        return self.parts[0] == "params"

    @property
    def param(self) -> str | None:
        """The parameter name of ``params.NAME``; None for step outputs."""
        return self.parts[1] if self.is_param and len(self.parts) > 1 else None

    @property
    def step(self) -> str | None:
        return None if self.is_param else self.parts[0]

    @property
    def output(self) -> str | None:
        return None if self.is_param or len(self.parts) < 2 else self.parts[1]

    @property
    def key(self) -> str | None:
        return None if self.is_param or len(self.parts) < 3 else self.parts[2]

    def __str__(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Compare:
    op: str
    left: Expr
    right: Expr
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True)
class BoolOp:
    op: typing.Literal["and", "or"]
    operands: tuple[Expr, ...]
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Not:
    operand: Expr
    offset: int = field(default=0, compare=False)


Expr = Literal | Ref | Compare | BoolOp | Not


# --- names shared by the parser and the printer -----------------------------------------


def is_ident_start(ch: str) -> bool:
    return ch == "_" or ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def is_ident_char(ch: str) -> bool:
    return is_ident_start(ch) or ch == "-" or ("0" <= ch <= "9")


def ref_problem(parts: tuple[str, ...]) -> str | None:
    """Why ``parts`` is not a valid reference, or None; the parser and printer agree on it."""
    if parts and parts[0] == "params" and len(parts) != 2:
        return "a parameter reference has exactly two parts: params.NAME"
    if len(parts) < 2:
        return "a reference needs at least two parts"
    if len(parts) > 3:
        return f"too many parts in reference {'.'.join(parts)!r}"
    return None


# --- printing and traversal -------------------------------------------------------------

_PREC_OR, _PREC_AND, _PREC_NOT, _PREC_COMPARE, _PREC_PRIMARY = range(1, 6)


def _precedence(expr: Expr) -> int:
    if isinstance(expr, BoolOp):
        return _PREC_OR if expr.op == "or" else _PREC_AND
    if isinstance(expr, Not):
        return _PREC_NOT
    if isinstance(expr, Compare):
        return _PREC_COMPARE
    return _PREC_PRIMARY


def _format_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\t", "\\t") + '"'


def _format_literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"conditions cannot contain the non-finite number {value!r}")
        return repr(value)  # shortest text that reads back as the same float
    if isinstance(value, str):
        return _format_string(value)
    raise ValueError(f"unsupported literal {value!r}")


def _check_segment(part: str) -> bool:
    return bool(part) and is_ident_start(part[0]) and all(is_ident_char(c) for c in part)


def _format(expr: Expr, min_prec: int) -> str:
    # Parenthesise when the node binds looser than its context requires.
    text = _format_bare(expr)
    return f"({text})" if _precedence(expr) < min_prec else text


def _format_bare(expr: Expr) -> str:
    if isinstance(expr, Literal):
        return _format_literal(expr.value)
    if isinstance(expr, Ref):
        problem = ref_problem(expr.parts)
        if problem is None and not all(_check_segment(p) for p in expr.parts):
            problem = f"invalid name in reference {expr.parts!r}"
        if problem is not None:
            raise ValueError(problem)
        return ".".join(expr.parts)
    if isinstance(expr, Compare):
        if expr.op not in COMPARISON_OPS:
            raise ValueError(f"unknown comparison operator {expr.op!r}")
        left = _format(expr.left, _PREC_PRIMARY)
        return f"{left} {expr.op} {_format(expr.right, _PREC_PRIMARY)}"
    if isinstance(expr, BoolOp):
        if expr.op not in ("and", "or") or len(expr.operands) < 2:
            raise ValueError(f"a BoolOp needs 'and' or 'or' and two or more operands: {expr!r}")
        # One above its own level: a nested same-op BoolOp keeps its parentheses, since the
        # parser only flattens unparenthesised chains.
        prec = _precedence(expr) + 1
        return f" {expr.op} ".join(_format(operand, prec) for operand in expr.operands)
    if isinstance(expr, Not):
        return f"not {_format(expr.operand, _PREC_NOT)}"
    raise ValueError(f"not a condition node: {expr!r}")


def format_condition(expr: Expr) -> str:
    """Canonical text for ``expr``; ``parse_condition`` reads it back as an equal AST."""
    return _format(expr, _PREC_OR)


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of ``expr``, parents before children, children left to right."""
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, Compare):
            stack.extend((node.right, node.left))
        elif isinstance(node, BoolOp):
            stack.extend(reversed(node.operands))
        elif isinstance(node, Not):
            stack.append(node.operand)


def condition_refs(expr: Expr) -> list[Ref]:
    """The references in ``expr`` in source order (duplicates kept)."""
    return [node for node in walk(expr) if isinstance(node, Ref)]
