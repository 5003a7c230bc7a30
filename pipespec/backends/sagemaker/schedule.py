"""A spec schedule as the EventBridge Scheduler ``CreateSchedule`` request that runs the
SageMaker pipeline, as the sagemaker SDK's ``PipelineSchedule`` / ``Pipeline.put_triggers``
sends it (docs/dev/sagemaker-definition.md, "Schedules").

EventBridge's cron has six fields, ``minutes hours day-of-month month day-of-week year``,
weekdays 1-7 for SUN-SAT, and exactly one of the two day fields must be ``?``: it cannot
say "either of these days", which is what croniter (and so the spec, and Airflow) means
when both are restricted. Each field is expanded by croniter (the reading the spec
validator accepts) and written back in EventBridge's plain subset: ``*``, numbers, ``a-b``
runs, ``a/n`` increments, lists, and weekday names (``MON-FRI``), so the schedule fires at
the very minutes croniter's reading does. What EventBridge cannot express (both day fields
restricted, croniter's ``L``/``W`` extensions) raises :class:`UnsupportedSchedule`, never
an approximation.
"""

from __future__ import annotations

import re
from typing import Any

from pipespec import ir
from pipespec.backends.kubeflow.cron import expand_cron
from pipespec.ir import PRESET_CRON

# (lowest, highest) of the five spec fields as croniter expands them (weekday 0-6).
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_DOM, _DOW = 2, 4
# EventBridge's weekday names; its numbers are 1-7 from Sunday, croniter's 0-6.
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WORDS: tuple[frozenset[str], ...] = (
    frozenset(),
    frozenset(),
    frozenset({"l"}),  # only as a range's end (`1-L`), which croniter expands to numbers
    frozenset(_MONTHS),
    frozenset(w.lower() for w in _WEEKDAYS),
)
_SPLIT = re.compile(r"[,/-]")


class UnsupportedSchedule(ValueError):
    """The spec's schedule has a form EventBridge Scheduler cannot express, or a scheduled
    run could not start (a param without a default)."""


def eventbridge_cron(schedule: str) -> str:
    """``cron(...)`` for a spec ``schedule`` (5-field cron or a preset), firing at the
    minutes croniter's reading of it does, in UTC (EventBridge Scheduler's default zone,
    and the zone croniter and Airflow read a spec's cron in)."""
    five = PRESET_CRON.get(schedule, schedule)
    fields = five.split()
    if len(fields) != len(_BOUNDS):
        raise UnsupportedSchedule(f"{schedule!r} is not a 5-field cron expression or a preset")
    for index, text in enumerate(fields):
        _check_words(schedule, index, text.lower())
    expanded, nth_weekday = expand_cron(five)
    if nth_weekday or any("l" in values for values in expanded):
        raise UnsupportedSchedule(
            f"{schedule!r} uses L (a last day or weekday of the month), which pipespec "
            "does not translate for EventBridge Scheduler; list the days instead"
        )
    dom, dow = expanded[_DOM], expanded[_DOW]
    if _every(_DOM, dom) or _every(_DOW, dow):
        # A field listing all its days: with croniter's "either day", every day.
        dom, dow = ["*"], ["*"]
    if "*" not in dom and "*" not in dow:
        raise UnsupportedSchedule(
            f"{schedule!r} restricts both the day of the month and the weekday (a run on "
            "either); EventBridge Scheduler's cron takes only one of them: write two "
            "pipelines or one day field"
        )
    minute, hour, _, month, _ = (_render(i, values) for i, values in enumerate(expanded))
    if "*" in dow:
        days = (_render(_DOM, dom), "?")
    else:
        days = ("?", _weekdays(sorted({int(v) for v in dow})))
    return f"cron({minute} {hour} {days[0]} {month} {days[1]} *)"


def _check_words(schedule: str, index: int, text: str) -> None:
    for word in _SPLIT.split(text):
        if word == "*" or word.isdigit() or word in _WORDS[index]:
            continue
        if "w" in word and index == _DOM:
            what = "W (the nearest weekday)"
        elif "l" in word:
            what = "L (a last day or weekday of the month)"
        else:
            what = f"{word!r}"
        raise UnsupportedSchedule(
            f"{schedule!r} uses {what}, which pipespec does not translate for EventBridge Scheduler"
        )


def _every(index: int, values: list[Any]) -> bool:
    """A day field that lists every one of its values (not a ``*``)."""
    low, high = _BOUNDS[index]
    return "*" not in values and sorted({int(v) for v in values}) == list(range(low, high + 1))


def _render(index: int, values: list[Any]) -> str:
    low, high = _BOUNDS[index]
    if "*" in values:
        return "*"
    numbers = sorted({int(v) for v in values})
    if numbers == list(range(low, high + 1)):
        return "*"
    step = numbers[1] - numbers[0] if len(numbers) > 2 else 0
    if step > 1 and numbers == list(range(numbers[0], high + 1, step)):
        return f"{numbers[0]}/{step}"  # EventBridge's increment: from a value to the end
    return ",".join(_runs([str(n) for n in numbers], numbers))


def _weekdays(numbers: list[int]) -> str:
    """croniter's weekdays (0 Sunday) as EventBridge's names: no number to misread."""
    return ",".join(_runs([_WEEKDAYS[n] for n in numbers], numbers))


def _runs(labels: list[str], numbers: list[int]) -> list[str]:
    """Consecutive values as ``a-b`` (three or more), the rest one by one."""
    parts: list[str] = []
    start = 0
    for i in range(1, len(numbers) + 1):
        if i < len(numbers) and numbers[i] == numbers[i - 1] + 1:
            continue
        if i - 1 - start >= 2:
            parts.append(f"{labels[start]}-{labels[i - 1]}")
        else:
            parts.extend(labels[start:i])
        start = i
    return parts


def pipeline_arn(role_arn: str, region: str, name: str) -> str:
    """The pipeline's ARN, in the role's partition and account (the pipeline is created in
    the role's account). SageMaker writes the resource name in ARNs in lowercase; a
    pipespec name is lowercase already."""
    _, partition, _, _, account, _ = role_arn.split(":", 5)
    return f"arn:{partition}:sagemaker:{region}:{account}:pipeline/{name.lower()}"


def create_schedule(
    pipeline: ir.Pipeline, region: str, role_arn: str, scheduler_role_arn: str
) -> dict[str, Any]:
    """``CreateSchedule``'s parameters (``UpdateSchedule`` takes the same).

    As the SDK sends them, but without ``StartDate``: the SDK's default is the time of the
    call, which would make the file differ on every compile; without it EventBridge starts
    the schedule when it is created, which is the same thing. ``SageMakerPipelineParameters``
    is empty, as the SDK sends it: a run the schedule starts takes the definition's defaults.
    """
    assert pipeline.schedule is not None
    lacking = [p.name for p in pipeline.params if p.default is None]
    if lacking:
        # The SDK refuses these too (validate_default_parameters_for_schedules): a
        # scheduled run cannot be given a value, so it would fail at start.
        raise UnsupportedSchedule(
            "a scheduled SageMaker run takes every param's default, and "
            + ", ".join(repr(n) for n in lacking)
            + (" has none" if len(lacking) == 1 else " have none")
        )
    return {
        "Name": pipeline.name,
        "ScheduleExpression": eventbridge_cron(pipeline.schedule),
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {
            "Arn": pipeline_arn(role_arn, region, pipeline.name),
            "RoleArn": scheduler_role_arn,
            "SageMakerPipelineParameters": {},
        },
        "State": "ENABLED",
    }
