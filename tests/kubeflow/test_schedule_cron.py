"""A spec schedule becomes the 6-field cron KFP's recurring runs read (robfig/cron v1).

KFP parses ``cron_expression`` with robfig/cron v1.2.0's ``cron.Parse``: seconds first, a
5-field expression read as seconds..month. The expected strings below are checked by hand;
the property test reads every output the way robfig v1.2.0 does (a small reader written
here from its documented rules, independent of the converter) and compares the days,
hours and minutes it fires on with croniter's reading of the spec's text, which is what
the language (and Airflow) mean by it.
"""

from __future__ import annotations

import datetime

import pytest
from croniter import CroniterBadDateError, croniter  # type: ignore[import-untyped]
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from pipespec.backends.kubeflow.cron import UnsupportedSchedule, kfp_cron
from pipespec.ir import PRESET_CRON
from pipespec.spec.models import CRON_PRESETS, Schedule

SCHEDULE = TypeAdapter(Schedule)

CASES = [
    ("0 3 * * 1", "0 0 3 * * 1"),
    ("@hourly", "0 0 * * * *"),
    ("@daily", "0 0 0 * * *"),
    ("@weekly", "0 0 0 * * 0"),
    ("@monthly", "0 0 0 1 * *"),
    ("@yearly", "0 0 0 1 1 *"),
    ("*/15 6-18 1,15 jan-jun 0", "0 */15 6-18 1,15 1-6 0"),
    ("0 0 * * mon-fri", "0 0 0 * * 1-5"),
    ("0 12 * * SUN-SAT", "0 0 12 * * *"),
    # robfig's weekday stops at 6: croniter's 7 is Sunday.
    ("59 23 31 12 7", "0 59 23 31 12 0"),
    ("0 0 * * 5-7", "0 0 0 * * 0,5,6"),
    # Ranges that wrap around the end of the field.
    ("0 22-2 * * *", "0 0 0-2,22,23 * * *"),
    ("0 0 * 4-1/3 *", "0 0 0 * */3 *"),
    ("*/7 * * * *", "0 */7 * * * *"),
    ("1/5 * * * *", "0 1-59/5 * * * *"),
    ("5,20,35,50 * * * *", "0 5-59/15 * * * *"),
    # Both day fields restricted: croniter runs on either; `*/2` written as a range keeps
    # robfig from reading a `*` (which would make it require both).
    ("0 0 */2 * 1", "0 0 0 1-31/2 * 1"),
    ("0 0 1-31 * 1", "0 0 0 1-31 * 1"),
    ("0 0 15 * 0-6", "0 0 0 15 * 0-6"),
    ("0 0 1-L * *", "0 0 0 * * *"),
]

UNSUPPORTED = ["0 0 L * *", "0 0 1,L * *", "0 0 15W * *", "0 0 * * L5"]


@pytest.mark.parametrize(("schedule", "expected"), CASES)
def test_a_schedule_becomes_seconds_first_cron(schedule: str, expected: str) -> None:
    SCHEDULE.validate_python(schedule)  # the case is a schedule the language accepts
    assert kfp_cron(schedule) == expected


def test_a_random_value_is_refused_by_the_language_before_any_target() -> None:
    # croniter draws `R` anew each time the schedule is read: PS210, not a target's problem.
    with pytest.raises(ValueError, match="random value"):
        SCHEDULE.validate_python("0 R * * *")


def test_every_preset_of_the_language_is_expanded() -> None:
    assert set(PRESET_CRON) == set(CRON_PRESETS)


@pytest.mark.parametrize("schedule", UNSUPPORTED)
def test_what_robfig_cannot_express_is_refused_not_approximated(schedule: str) -> None:
    SCHEDULE.validate_python(schedule)
    with pytest.raises(UnsupportedSchedule, match="robfig/cron v1"):
        kfp_cron(schedule)


# --- robfig/cron v1.2.0, as its documentation and parser define the 6-field format --------

MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MONTHS = {m: i + 1 for i, m in enumerate(MONTH_NAMES)}
WEEKDAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
NO_NAMES: dict[str, int] = {}
# robfig's fields: second, minute, hour, day of month, month, day of week.
BOUNDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, NO_NAMES),
    (0, 59, NO_NAMES),
    (0, 23, NO_NAMES),
    (1, 31, NO_NAMES),
    (1, 12, MONTHS),
    (0, 6, WEEKDAYS),
)


def _robfig_number(text: str, names: dict[str, int]) -> int:
    return names[text.lower()] if text.lower() in names else int(text)


def _robfig_field(text: str, low: int, high: int, names: dict[str, int]) -> tuple[set[int], bool]:
    """The values of one field and whether robfig marks it as a star (any part `*`/`?`)."""
    values: set[int] = set()
    star = False
    for part in text.split(","):
        range_step = part.split("/")
        bounds = range_step[0].split("-")
        assert len(range_step) <= 2 and len(bounds) <= 2, part
        if bounds[0] in ("*", "?"):
            start, end, star = low, high, True
        else:
            start = _robfig_number(bounds[0], names)
            end = _robfig_number(bounds[1], names) if len(bounds) == 2 else start
        step = int(range_step[1]) if len(range_step) == 2 else 1
        if len(range_step) == 2 and len(bounds) == 1:
            end = high  # "N/step" means N-max/step
        assert low <= start <= end <= high and step > 0, (part, low, high)
        values |= set(range(start, end + 1, step))
    return values, star


def _robfig(expression: str) -> list[tuple[set[int], bool]]:
    fields = expression.split()
    assert len(fields) == 6, expression  # robfig would take 5 too, with another meaning
    return [
        _robfig_field(f, lo, hi, names) for f, (lo, hi, names) in zip(fields, BOUNDS, strict=True)
    ]


def _robfig_days(expression: str, days: list[datetime.date]) -> set[datetime.date]:
    _, _, _, (dom, dom_star), (months, _), (dow, dow_star) = _robfig(expression)
    out = set()
    for day in days:
        dom_match, dow_match = day.day in dom, (day.weekday() + 1) % 7 in dow
        both = dom_star or dow_star  # robfig's dayMatches
        matched = (dom_match and dow_match) if both else (dom_match or dow_match)
        if matched and day.month in months:
            out.add(day)
    return out


START = datetime.datetime(2024, 1, 1)  # two years: a leap day, every weekday of every month
END = datetime.datetime(2026, 1, 1)
DAYS = [START.date() + datetime.timedelta(days=n) for n in range((END - START).days)]


def _croniter_days(dom: str, month: str, dow: str) -> set[datetime.date]:
    schedule = croniter(f"0 0 {dom} {month} {dow}", START - datetime.timedelta(minutes=1))
    out: set[datetime.date] = set()
    try:
        while (fire := schedule.get_next(datetime.datetime)) < END:
            out.add(fire.date())
    except CroniterBadDateError:  # a date that never comes (the 30th of February)
        pass
    return out


def _croniter_values(expression: str, index: int, low: int, high: int) -> set[int]:
    values = croniter.expand(expression)[0][index]
    return set(range(low, high + 1)) if "*" in values else {int(v) for v in values}


def _item(low: int, high: int, names: list[str]) -> st.SearchStrategy[str]:
    number = st.integers(low, high).map(str)
    bound = st.one_of(number, st.sampled_from(names)) if names else number
    step = st.integers(1, high).map(str)
    return st.one_of(
        st.just("*"),
        st.builds("*/{}".format, step),
        bound,
        st.builds("{}-{}".format, bound, bound),
        st.builds("{}-{}/{}".format, bound, bound, step),
        st.builds("{}/{}".format, bound, step),
    )


FIELD_ITEMS = (
    _item(0, 59, []),
    _item(0, 23, []),
    _item(1, 31, []),
    _item(1, 12, list(MONTHS)),
    _item(0, 7, list(WEEKDAYS)),
)
expressions = st.tuples(*(st.lists(i, min_size=1, max_size=3).map(",".join) for i in FIELD_ITEMS))


@settings(max_examples=60, deadline=None)
@given(fields=expressions)
def test_kfp_fires_when_croniter_does(fields: tuple[str, ...]) -> None:
    spec = " ".join(fields)
    try:
        SCHEDULE.validate_python(spec)
    except ValidationError:
        assume(False)
    converted = kfp_cron(spec)
    read = _robfig(converted)
    assert read[0] == ({0}, False)
    for index, (low, high) in ((0, (0, 59)), (1, (0, 23)), (3, (1, 12))):
        assert read[index + 1][0] == _croniter_values(spec, index, low, high), converted
    _, _, dom, month, dow = fields
    assert _robfig_days(converted, DAYS) == _croniter_days(dom, month, dow), converted
