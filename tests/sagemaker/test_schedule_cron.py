"""A spec schedule becomes the cron EventBridge Scheduler reads (``cron(...)``, six fields,
weekdays 1-7 from Sunday, ``?`` in exactly one day field).

The expected strings are checked by hand against AWS's cron reference; the property test
reads every output the way that reference defines the format (a small reader written
here, independent of the converter) and compares the days, hours and minutes it fires on
with croniter's reading of the spec's text, which is what the language means by it. The
spec side (strategies, croniter's days) is the Kubeflow cron test's.
"""

from __future__ import annotations

import datetime
import re

import pytest
from hypothesis import assume, given, settings
from pydantic import ValidationError

from pipespec.backends.sagemaker.schedule import UnsupportedSchedule, eventbridge_cron
from tests.kubeflow.test_schedule_cron import (
    DAYS,
    MONTHS,
    SCHEDULE,
    _croniter_days,
    _croniter_values,
    expressions,
)

CASES = [
    ("0 3 * * 1", "cron(0 3 ? * MON *)"),
    ("@hourly", "cron(0 * * * ? *)"),
    ("@daily", "cron(0 0 * * ? *)"),
    ("@weekly", "cron(0 0 ? * SUN *)"),
    ("@monthly", "cron(0 0 1 * ? *)"),
    ("@yearly", "cron(0 0 1 1 ? *)"),
    ("*/15 6-18 1,15 jan-jun *", "cron(0/15 6-18 1,15 1-6 ? *)"),
    ("0 0 * * mon-fri", "cron(0 0 ? * MON-FRI *)"),
    ("0 0 * * 7", "cron(0 0 ? * SUN *)"),
    ("0 0 * * 5-7", "cron(0 0 ? * SUN,FRI,SAT *)"),
    ("0 22-2 * * *", "cron(0 0-2,22,23 * * ? *)"),
    ("1/5 * * * *", "cron(1/5 * * * ? *)"),
    ("0 0 */2 * *", "cron(0 0 1/2 * ? *)"),
    ("0 0 * 4-1/3 *", "cron(0 0 * 1/3 ? *)"),
    # One day field listing every day: croniter runs on either field, so every day.
    ("0 0 1-31 * 1", "cron(0 0 * * ? *)"),
    ("0 0 15 * 0-6", "cron(0 0 * * ? *)"),
    ("0 0 1-L * *", "cron(0 0 * * ? *)"),
]
UNSUPPORTED = [
    ("0 0 L * *", "uses L"),
    ("0 0 1,L * *", "uses L"),
    ("0 0 15W * *", "uses W"),
    ("0 0 * * L5", "uses L"),
    ("0 0 1 * 1", "restricts both"),
    ("59 23 31 12 7", "restricts both"),
]


@pytest.mark.parametrize(("schedule", "expected"), CASES)
def test_a_schedule_becomes_eventbridge_cron(schedule: str, expected: str) -> None:
    SCHEDULE.validate_python(schedule)  # the case is a schedule the language accepts
    assert eventbridge_cron(schedule) == expected


@pytest.mark.parametrize(("schedule", "why"), UNSUPPORTED)
def test_what_eventbridge_cannot_express_is_refused_not_approximated(
    schedule: str, why: str
) -> None:
    SCHEDULE.validate_python(schedule)
    with pytest.raises(UnsupportedSchedule, match=why):
        eventbridge_cron(schedule)


# --- EventBridge's cron, as AWS's "cron expressions reference" defines it ------------------

WEEKDAYS = {d: i + 1 for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
NO_NAMES: dict[str, int] = {}
# minutes, hours, day of month, month, day of week (1-7 from Sunday), year.
BOUNDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, NO_NAMES),
    (0, 23, NO_NAMES),
    (1, 31, NO_NAMES),
    (1, 12, MONTHS),
    (1, 7, WEEKDAYS),
    (1970, 2199, NO_NAMES),
)
# The characters each field may hold in the forms the converter may write (no L, W, #).
ALLOWED = (r"[0-9,*/-]+", r"[0-9,*/-]+", r"[0-9,*/?-]+", r"[0-9,*/-]+", r"[A-Z,*?-]+", r"\*")


def _number(text: str, names: dict[str, int]) -> int:
    return names[text.lower()] if text.lower() in names else int(text)


def _field(text: str, low: int, high: int, names: dict[str, int]) -> set[int] | None:
    """The field's values; None for ``?`` (no restriction from this day field)."""
    if text == "?":
        return None
    values: set[int] = set()
    for part in text.split(","):
        range_step = part.split("/")
        bounds = range_step[0].split("-")
        assert len(range_step) <= 2 and len(bounds) <= 2, part
        if bounds[0] == "*":
            start, end = low, high
        else:
            start = _number(bounds[0], names)
            end = _number(bounds[1], names) if len(bounds) == 2 else start
        if len(range_step) == 2:
            assert len(bounds) == 1 and bounds[0] != "*", part  # AWS's form: start/step
            end = high
        assert low <= start <= end <= high, (part, low, high)
        values |= set(range(start, end + 1, int(range_step[1]) if len(range_step) == 2 else 1))
    return values


def _eventbridge(expression: str) -> list[set[int] | None]:
    match = re.fullmatch(r"cron\((.*)\)", expression)
    assert match, expression
    fields = match.group(1).split(" ")
    assert len(fields) == 6, expression
    for text, allowed in zip(fields, ALLOWED, strict=True):
        assert re.fullmatch(allowed, text), (text, expression)
    assert (fields[2] == "?") != (fields[4] == "?"), f"exactly one day field is ?: {expression}"
    return [_field(f, lo, hi, n) for f, (lo, hi, n) in zip(fields, BOUNDS, strict=True)]


def _eventbridge_days(expression: str) -> set[datetime.date]:
    _, _, dom, months, dow, _ = _eventbridge(expression)
    assert months is not None
    out = set()
    for day in DAYS:
        matched = day.day in dom if dom is not None else (day.isoweekday() % 7 + 1) in (dow or ())
        if matched and day.month in months:
            out.add(day)
    return out


@settings(max_examples=80, deadline=None)
@given(fields=expressions)
def test_eventbridge_fires_when_croniter_does(fields: tuple[str, ...]) -> None:
    spec = " ".join(fields)
    try:
        SCHEDULE.validate_python(spec)
        converted = eventbridge_cron(spec)
    except (ValidationError, UnsupportedSchedule):
        assume(False)
    read = _eventbridge(converted)
    for index, (low, high) in ((0, (0, 59)), (1, (0, 23)), (3, (1, 12))):
        assert read[index] == _croniter_values(spec, index, low, high), converted
    _, _, dom, month, dow = fields
    assert _eventbridge_days(converted) == _croniter_days(dom, month, dow), converted


def test_only_both_day_fields_restricted_is_refused() -> None:
    # The property test skips refused schedules: make sure the refusal is that narrow.
    assert eventbridge_cron("0 0 1,15 * *") and eventbridge_cron("0 0 * * 1,3")
    with pytest.raises(UnsupportedSchedule, match="restricts both"):
        eventbridge_cron("0 0 1,15 * 1,3")
