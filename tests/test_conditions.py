"""Tests for the ``when:`` condition language."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipespec.spec.conditions import (
    MAX_DEPTH,
    BoolOp,
    Compare,
    ConditionSyntaxError,
    Expr,
    Literal,
    Not,
    Ref,
    condition_refs,
    format_condition,
    parse_condition,
    walk,
)


def ref(text: str) -> Ref:
    return Ref(tuple(text.split(".")))


# --- parsing and precedence -------------------------------------------------------------


def test_spec_example() -> None:
    expr = parse_condition("evaluate.metrics.auc >= params.min_auc")
    assert expr == Compare(">=", ref("evaluate.metrics.auc"), ref("params.min_auc"))
    assert isinstance(expr, Compare)
    left, right = expr.left, expr.right
    assert isinstance(left, Ref)
    assert isinstance(right, Ref)
    assert (left.step, left.output, left.key, left.is_param) == (
        "evaluate",
        "metrics",
        "auc",
        False,
    )
    assert (right.is_param, right.param, right.step, right.output, right.key) == (
        True,
        "min_auc",
        None,
        None,
        None,
    )
    assert right.offset == 24
    assert format_condition(expr) == "evaluate.metrics.auc >= params.min_auc"


def test_not_binds_looser_than_comparison_and_tighter_than_or() -> None:
    expr = parse_condition("not a.b == 1 or c.d")
    assert expr == BoolOp("or", (Not(Compare("==", ref("a.b"), Literal(1))), ref("c.d")))


def test_and_binds_tighter_than_or() -> None:
    expr = parse_condition("a.x or b.x and c.x or d.x")
    assert expr == BoolOp("or", (ref("a.x"), BoolOp("and", (ref("b.x"), ref("c.x"))), ref("d.x")))


def test_chains_are_flattened_but_parentheses_are_kept() -> None:
    assert parse_condition("a.x and b.x and c.x") == BoolOp(
        "and", (ref("a.x"), ref("b.x"), ref("c.x"))
    )
    assert parse_condition("(a.x and b.x) and c.x") == BoolOp(
        "and", (BoolOp("and", (ref("a.x"), ref("b.x"))), ref("c.x"))
    )


def test_parentheses_override_precedence() -> None:
    expr = parse_condition("(a.x or b.x) and not (c.x != 'no')")
    assert expr == BoolOp(
        "and",
        (BoolOp("or", (ref("a.x"), ref("b.x"))), Not(Compare("!=", ref("c.x"), Literal("no")))),
    )
    assert format_condition(expr) == '(a.x or b.x) and not c.x != "no"'


def test_not_is_repeatable() -> None:
    assert parse_condition("not not a.b") == Not(Not(ref("a.b")))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("-2", -2),
        ("0.82", 0.82),
        ("1e-3", 0.001),
        ("-0.5", -0.5),
        ("2E+2", 200.0),
        ("true", True),
        ("false", False),
        ("'it\\'s'", "it's"),
        ('"a\\\\b\\"c\\n\\t"', 'a\\b"c\n\t'),
        ('"naïve ✓"', "naïve ✓"),
    ],
)
def test_literals(text: str, value: bool | int | float | str) -> None:
    expr = parse_condition(text)
    assert isinstance(expr, Literal)
    assert type(expr.value) is type(value)
    assert expr.value == value


def test_literal_equality_respects_type() -> None:
    assert Literal(True) != Literal(1)
    assert Literal(1) != Literal(1.0)
    assert Literal(1) == Literal(1, offset=7)
    assert hash(Literal(1)) == hash(Literal(1, offset=7))


def test_reference_segments_may_contain_hyphens() -> None:
    assert parse_condition("train-model.metrics.f1>0.5") == Compare(
        ">", Ref(("train-model", "metrics", "f1")), Literal(0.5)
    )


def test_bare_reference_is_a_condition() -> None:
    assert parse_condition("  check.passed ") == Ref(("check", "passed"), offset=2)


def test_offsets() -> None:
    expr = parse_condition("x.y == 1 and (not z.w)")
    assert isinstance(expr, BoolOp)
    assert expr.offset == 0
    cmp, neg = expr.operands
    assert isinstance(cmp, Compare)
    assert isinstance(neg, Not)
    assert (cmp.offset, cmp.left.offset, cmp.right.offset) == (0, 0, 7)
    assert (neg.offset, neg.operand.offset) == (14, 18)


def test_condition_refs_and_walk() -> None:
    expr = parse_condition("b.x == params.p or not (a.y and 'q' == c.z.k)")
    assert [str(r) for r in condition_refs(expr)] == ["b.x", "params.p", "a.y", "c.z.k"]
    kinds = [type(node).__name__ for node in walk(expr)]
    assert kinds == [
        "BoolOp",
        "Compare",
        "Ref",
        "Ref",
        "Not",
        "BoolOp",
        "Ref",
        "Compare",
        "Literal",
        "Ref",
    ]


# --- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "offset", "message", "hint"),
    [
        ("", 0, "empty condition", "check.passed"),
        ("   ", 0, "empty condition", "check.passed"),
        ("foo", 0, "incomplete reference", "params.NAME or STEP.OUTPUT[.KEY]"),
        ("a.b == foo", 7, "incomplete reference", "params.NAME or STEP.OUTPUT[.KEY]"),
        ("a.b AND c.d", 4, "unexpected 'AND'", "use 'and'"),
        ("a.b Or c.d", 4, "unexpected 'Or'", "use 'or'"),
        ("NOT a.b", 0, "unexpected 'NOT'", "use 'not'"),
        ("a.b == True", 7, "unexpected 'True'", "use 'true'"),
        ("a.b && c.d", 4, "unexpected '&&'", "use 'and'"),
        ("a.b || c.d", 4, "unexpected '||'", "use 'or'"),
        ("a.b & c.d", 4, "unexpected '&'", "use 'and'"),
        ("!a.b", 0, "unexpected '!'", "use 'not'"),
        ("a.b = 1", 4, "unexpected '='", "use '=='"),
        ("a.b === 1", 6, "unexpected '='", "use '=='"),
        ("a.b => 1", 4, "unexpected '=>'", "use '>='"),
        ("a.b <> 1", 4, "unexpected '<>'", "use '!='"),
        ("x.a < x.b < x.c", 10, "cannot be chained", "'and'"),
        ("x.a == 1 != 2", 9, "cannot be chained", "'and'"),
        ("x.y == 'abc", 7, "unterminated string", "matching '"),
        ('x.y == "ab\\', 7, "unterminated string", 'matching "'),
        ('x.y == "a\\qb"', 9, "invalid escape sequence", "\\n"),
        ("x.y ==", 6, "unexpected end of condition", None),
        ("x.y and", 7, "unexpected end of condition", None),
        ("not", 3, "unexpected end of condition", None),
        ("(x.y", 4, "expected ')'", None),
        ("(x.y c.d)", 5, "expected ')'", None),
        ("x.y)", 3, "unmatched ')'", None),
        ("()", 1, "expected a value, found ')'", None),
        ("and x.y", 0, "expected a value, found 'and'", None),
        ("x.y == == 1", 7, "expected a value, found '=='", None),
        ("x.y c.d", 4, "unexpected 'c.d'", "'and' or 'or'"),
        ("x.y == 1 2", 9, "unexpected '2'", "'and' or 'or'"),
        ("x.y == not z.w", 7, "expected a value, found 'not'", "parentheses"),
        ("x.y # comment", 4, "unexpected character '#'", None),
        ("x.y == é", 7, "unexpected character 'é'", None),
        ("x.y == 1 - 2", 9, "unexpected '-'", "no arithmetic"),
        ("x.y + 1", 4, "unexpected '+'", "no arithmetic"),
        ("x.y == .5", 7, "must start with a digit", "0.5"),
        ("x.y == 1.", 9, "expected a digit after '.'", None),
        ("x.y == 1e", 9, "expected a digit in the exponent", None),
        ("x.y == 1.2.3", 10, "unexpected '.' after a number", None),
        ("x.y == 3abc", 8, "unexpected 'a' after a number", None),
        ("x.y == 1e999", 7, "out of range", None),
        ("x.", 2, "expected a name after '.'", "params.NAME"),
        ("x.y. == 1", 4, "expected a name after '.'", "params.NAME"),
        ("params.a.b", 0, "params.NAME", "params.NAME"),
        ("a.b.c.d", 0, "too many parts", "params.NAME"),
    ],
)
def test_syntax_errors(text: str, offset: int, message: str, hint: str | None) -> None:
    with pytest.raises(ConditionSyntaxError) as info:
        parse_condition(text)
    err = info.value
    assert err.offset == offset, err
    assert message in err.message
    if hint is None:
        assert err.hint is None
    else:
        assert err.hint is not None
        assert hint in err.hint
    assert message in str(err)


def test_first_error_in_source_order_wins() -> None:
    # The lexer runs on demand, so a bad token after a parse error is never reached.
    with pytest.raises(ConditionSyntaxError) as info:
        parse_condition("x.a < x.b < x.c && ???")
    assert info.value.offset == 10


def test_huge_integer_is_a_syntax_error() -> None:
    with pytest.raises(ConditionSyntaxError, match="too long") as info:
        parse_condition("x.y == " + "9" * 5000)
    assert info.value.offset == 7


def test_deep_nesting_is_a_syntax_error_not_a_recursion_error() -> None:
    assert parse_condition("(" * MAX_DEPTH + "a.b" + ")" * MAX_DEPTH) == ref("a.b")
    with pytest.raises(ConditionSyntaxError, match="nested too deeply") as info:
        parse_condition("(" * 5000 + "a.b" + ")" * 5000)
    assert info.value.offset == MAX_DEPTH
    with pytest.raises(ConditionSyntaxError, match="nested too deeply"):
        parse_condition("not " * 5000 + "a.b")


# --- formatting -------------------------------------------------------------------------


def test_format_minimal_parentheses() -> None:
    a, b, c = ref("s.a"), ref("s.b"), ref("s.c")
    cases: list[tuple[Expr, str]] = [
        (BoolOp("and", (BoolOp("or", (a, b)), c)), "(s.a or s.b) and s.c"),
        (BoolOp("or", (BoolOp("and", (a, b)), c)), "s.a and s.b or s.c"),
        (BoolOp("or", (BoolOp("or", (a, b)), c)), "(s.a or s.b) or s.c"),
        (Not(BoolOp("and", (a, b))), "not (s.a and s.b)"),
        (Not(Compare("<", a, Literal(1))), "not s.a < 1"),
        (Compare("==", Not(a), Literal(False)), "(not s.a) == false"),
        (Compare("==", Compare("<", a, b), Literal(True)), "(s.a < s.b) == true"),
        (BoolOp("and", (Not(a), Not(Not(b)))), "not s.a and not not s.b"),
        (Literal('say "hi"\n\\'), '"say \\"hi\\"\\n\\\\"'),
        (Literal(1e-05), "1e-05"),
        (Literal(-0.0), "-0.0"),
    ]
    for expr, text in cases:
        assert format_condition(expr) == text
        assert parse_condition(text) == expr


@pytest.mark.parametrize(
    "expr",
    [
        Literal(math.inf),
        Literal(-math.inf),
        Literal(math.nan),
        Ref(("single",)),
        Ref(("params", "a", "b")),
        Ref(("a", "b", "c", "d")),
        Ref(("a", "b c")),
        Ref(("a", "1b")),
        Compare("=", ref("a.b"), Literal(1)),
        BoolOp("and", (ref("a.b"),)),
    ],
)
def test_format_refuses_what_cannot_be_parsed_back(expr: Expr) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the messages vary by case
        format_condition(expr)


# --- properties -------------------------------------------------------------------------

_segment = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,10}", fullmatch=True)
_refs = st.one_of(
    st.builds(lambda name: Ref(("params", name)), _segment),
    st.builds(
        lambda step, rest: Ref((step, *rest)),
        _segment.filter(lambda s: s != "params"),
        st.lists(_segment, min_size=1, max_size=2),
    ),
)
_tricky_text = st.one_of(
    st.text(),
    st.text(alphabet="'\"\\\nt \tné✓\x00\r"),
    st.sampled_from(["", "\\", "'", '"', "\\n", "\\'", "a\\", "\n", "\U0001f600"]),
)
_literals = st.builds(
    Literal,
    st.one_of(
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        _tricky_text,
    ),
)
_comparisons = st.builds(
    Compare,
    st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
    _literals | _refs,
    _literals | _refs,
)


def _extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    return st.one_of(
        st.builds(Not, children),
        st.builds(Compare, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), children, children),
        st.builds(
            BoolOp,
            st.sampled_from(["and", "or"]),
            st.lists(children, min_size=2, max_size=4).map(tuple),
        ),
    )


_exprs: st.SearchStrategy[Expr] = st.recursive(
    st.one_of(_literals, _refs, _comparisons), _extend, max_leaves=12
)


@settings(max_examples=500)
@given(_exprs)
def test_format_then_parse_is_identity(expr: Expr) -> None:
    text = format_condition(expr)
    assert parse_condition(text) == expr
    # Canonical: formatting the parsed AST gives the same text again.
    assert format_condition(parse_condition(text)) == text


_condition_alphabet = st.sampled_from(
    [*"abcxyz_-.0123456789eE ()'\"\\=!<>&|+", "and", "or", "not", "true", "params."]
)


@settings(max_examples=500)
@given(st.one_of(st.text(), st.lists(_condition_alphabet, max_size=30).map("".join)))
def test_parse_only_raises_syntax_errors(text: str) -> None:
    error: ConditionSyntaxError | None = None
    try:
        expr = parse_condition(text)
    except ConditionSyntaxError as err:
        error = err
    if error is None:
        assert parse_condition(format_condition(expr)) == expr
    else:
        assert 0 <= error.offset <= len(text)
        assert error.message
