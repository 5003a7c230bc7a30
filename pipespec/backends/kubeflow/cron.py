"""A pipespec schedule as the cron expression a Kubeflow Pipelines recurring run takes.

KFP's API server and its ScheduledWorkflow controller read ``cron_expression`` with
robfig/cron v1's ``cron.Parse``: six fields, **seconds first**. A 5-field expression is not
rejected there, it is read as ``second minute hour day month`` (the weekday left out), so
``0 3 * * 1`` would mean "every January, at second 0 of minute 3 of every hour": passing
the spec's text through would schedule the wrong times without a word.

What a spec schedule means is what croniter makes of it (the validator accepts what
croniter accepts, and Airflow schedules with croniter), so each field is expanded by
croniter and written back in the plain subset robfig reads the same way: ``*``, numbers,
``a-b`` runs, ``*/n`` and ``a-b/n``. Where the two differ in their spelling (croniter's 7
for Sunday, wrapping ranges such as ``22-2``, ``mon-mon`` meaning every day) the values, not
the text, cross over. Day of month and day of week combine as in croniter: when both are
restricted a day matching either runs (robfig agrees as long as neither field starts with
``*``, which the output guarantees); when one is ``*``, the other decides alone.

Forms robfig v1 cannot express (croniter's ``L`` last day, ``W`` nearest weekday, ``L5``
last Friday, ``R`` random) raise :class:`UnsupportedSchedule` rather than be approximated.
"""

from __future__ import annotations

import re
from typing import Any

from pipespec.ir import PRESET_CRON

# (name, lowest, highest) of the five spec fields, in robfig's bounds (weekday 0-6).
_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 6),
)
_DAY_FIELDS = (2, 4)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# The words a field may hold that robfig can be given the meaning of; `l` only as a range's
# end in the day of month (`1-L`: up to the last day), which croniter expands to numbers.
_WORDS: tuple[frozenset[str], ...] = (
    frozenset(),
    frozenset(),
    frozenset({"l"}),
    frozenset(_MONTHS),
    frozenset(_WEEKDAYS),
)
_SPLIT = re.compile(r"[,/-]")


class UnsupportedSchedule(ValueError):
    """The schedule has a form Kubeflow's cron (robfig/cron v1) cannot express."""


def kfp_cron(schedule: str) -> str:
    """The 6-field, seconds-first cron expression for a spec ``schedule`` (5-field cron or
    a preset), firing at the very minutes croniter's reading of it does, at second 0."""
    five = PRESET_CRON.get(schedule, schedule)
    fields = five.split()
    if len(fields) != len(_FIELDS):
        raise UnsupportedSchedule(f"{schedule!r} is not a 5-field cron expression or a preset")
    for index, text in enumerate(fields):
        _check_words(schedule, index, text.lower())
    expanded, nth_weekday = expand_cron(five)
    if nth_weekday or any("l" in values for values in expanded):
        raise UnsupportedSchedule(
            f"{schedule!r} uses L (a last day or last weekday of the month), which Kubeflow's "
            "cron (robfig/cron v1) cannot express; list the days instead"
        )
    rendered = [_render(index, values) for index, values in enumerate(expanded)]
    return " ".join(["0", *rendered])


def _check_words(schedule: str, index: int, text: str) -> None:
    name = _FIELDS[index][0]
    for word in _SPLIT.split(text):
        if word == "*" or word.isdigit() or word in _WORDS[index]:
            continue
        if index == 2 and "w" in word:
            what = "W (the nearest weekday)"
        elif "l" in word:
            what = "L (a last weekday of the month)"
        elif word == "r":
            what = "R (a random value)"
        else:
            what = f"{word!r} in the {name} field"
        raise UnsupportedSchedule(
            f"{schedule!r} uses {what}, which Kubeflow's cron (robfig/cron v1) cannot express"
        )


def expand_cron(five: str) -> tuple[list[list[Any]], dict[Any, Any]]:
    """croniter's reading of a 5-field cron: (fields, nth weekdays), each field ["*"] or its
    values (shared with the SageMaker schedule)."""
    # Imported here: only pipelines with a schedule pay for it (as the spec validator does).
    from croniter import croniter  # type: ignore[import-untyped]

    # croniter returns (fields, nth weekdays) in every version pipespec allows, some with
    # more after them; each field is ["*"] or its values (ints; "l" for a last day).
    result = croniter.expand(five)
    return [list(values) for values in result[0]], dict(result[1])


def _render(index: int, values: list[Any]) -> str:
    _, low, high = _FIELDS[index]
    day = index in _DAY_FIELDS
    if "*" in values:
        # croniter: "*" anywhere in a field (`*,5`) makes it all values, and a star for how
        # the day fields combine; robfig reads `*` the same way, matching days on the
        # other day field alone.
        return "*"
    numbers = sorted({int(v) for v in values})
    if not day and numbers == list(range(low, high + 1)):
        return "*"
    step = numbers[1] - numbers[0] if len(numbers) > 2 else 0
    if step > 1 and numbers == list(range(numbers[0], high + 1, step)):
        # `*/n` only where a `*` cannot change how the days combine.
        return f"*/{step}" if numbers[0] == low and not day else f"{numbers[0]}-{high}/{step}"
    return ",".join(_runs(numbers))


def _runs(numbers: list[int]) -> list[str]:
    """Consecutive values as ``a-b`` (three or more), the rest one by one."""
    parts: list[str] = []
    start = previous = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == previous + 1:
            previous = n
            continue
        if previous - start >= 2:
            parts.append(f"{start}-{previous}")
        else:
            parts.extend(str(v) for v in range(start, previous + 1))
        if n is not None:
            start = previous = n
    return parts
