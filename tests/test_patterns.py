"""A param's pattern: any text is judged (never a crash), and catastrophic ones are refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipespec.spec.patterns import MAX_PATTERN_CHARS, pattern_problem

_regex_bits = st.sampled_from([*"()[]{}+*?|^$\\.-,", "a", "1", "(?:", "(?P<n>", "{2,}", "\\w"])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(_regex_bits, st.text(max_size=2)), max_size=25).map("".join))
def test_any_text_is_judged_without_raising(pattern: str) -> None:
    problem = pattern_problem(pattern)
    assert problem is None or isinstance(problem, str)


@pytest.mark.parametrize(
    "pattern", ["(a+)+$", "^(\\w+\\s?)*$", "(x|(y+))*", "(?:a*)*", "(a{2,})+", "(?=(a*)*)x"]
)
def test_nested_repetition_is_refused(pattern: str) -> None:
    assert "exponential" in (pattern_problem(pattern) or "")


@pytest.mark.parametrize("pattern", ["^[a-z0-9_-]+$", "^v[0-9]+$", "^(eu|us)-[a-z]+$", "x{1,3}"])
def test_ordinary_patterns_pass(pattern: str) -> None:
    assert pattern_problem(pattern) is None


def test_invalid_and_oversized_patterns_are_refused() -> None:
    assert "not a regular expression" in (pattern_problem("([a-z") or "")
    assert "longer than" in (pattern_problem("a" * (MAX_PATTERN_CHARS + 1)) or "")
