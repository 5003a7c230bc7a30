"""Regular expressions a spec supplies (a param's `pattern`): valid, bounded, and safe to
match in the time a backtracking engine takes.

Every target checks a trigger-time value against the pattern with a backtracking engine
(Python's `re` in Airflow's JSON Schema validator, and pipespec itself checks the default),
so a pattern whose matching can take exponential time is refused rather than run.
"""

from __future__ import annotations

import importlib
import re
import sys
import warnings
from typing import Any

MAX_PATTERN_CHARS = 500
_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a param's pattern, or None when it can."""
    if len(pattern) > MAX_PATTERN_CHARS:
        return f"pattern is longer than {MAX_PATTERN_CHARS} characters"
    try:
        # `re` warns about syntax it may read differently one day; the pattern is the
        # user's, and a warning on stderr would only interleave with diagnostics.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(pattern)
            nested = nested_repeat(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        return f"pattern {pattern!r} is not a regular expression: {exc}"
    if nested:
        return (
            f"pattern {pattern!r} repeats a repetition, as in (a+)+: matching can take "
            "exponential time"
        )
    return None


def nested_repeat(pattern: str) -> bool:
    """Whether an unbounded repeat holds another: the classic catastrophic backtracking."""
    # The parser the `re` module itself uses (sre_parse until Python 3.11).
    parser: Any = importlib.import_module(
        "re._parser" if sys.version_info >= (3, 11) else "sre_parse"
    )

    def subpatterns(av: Any) -> list[Any]:
        children = av if isinstance(av, (list, tuple)) else ()
        found = [c for c in children if isinstance(c, parser.SubPattern)]
        for c in children:
            if isinstance(c, list):
                found.extend(x for x in c if isinstance(x, parser.SubPattern))
        return found

    def walk(items: Any, inside: bool) -> bool:
        for op, av in items:
            if str(op) in _REPEATS:
                unbounded = av[1] == parser.MAXREPEAT
                if (unbounded and inside) or walk(av[2], inside or unbounded):
                    return True
            elif any(walk(sub, inside) for sub in subpatterns(av)):
                return True
        return False

    return walk(parser.parse(pattern), False)
