"""The job half of the Vertex probe (``vertex_probe.py``): a generated ``<name>.job.json``
built into ``google.cloud.aiplatform.PipelineJob`` offline, and its schedule checked.

Runs in the ``kfp`` conformance venv (google-cloud-aiplatform 1.165.1). The file's shape::

    {"pipeline_job": {keyword arguments of aiplatform.PipelineJob but template_path},
     "template": "<file name of the pipeline YAML beside it>",
     "submit": {keyword arguments of PipelineJob.submit},
     "schedule": null | {keyword arguments of PipelineJob.create_schedule},
     "generated_by": "<a note>"}

aiplatform is kept off the network by replacing ``socket.socket.connect`` while the job is
built (an attempt is a problem): with ``project`` and ``location`` given and anonymous
credentials it never connects. Without ``project`` it would ask ``google.auth.default()``,
which probes the GCE metadata server, so a job that leaves the project to the user's
credentials is built with a stand-in project (``ASSUMED_PROJECT``; reported in ``"job"``).
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

Json = dict[str, Any]
JOB_KEYS = frozenset({"pipeline_job", "template", "schedule", "submit", "generated_by"})
ASSUMED_PROJECT = "pipespec-probe"
# Set by the probe, not by the file: the template is the YAML, the credentials anonymous.
_PROBE_SET = frozenset({"self", "template_path", "credentials"})
# Python type(s) a run parameter of each declared type may have (PipelineJob converts them).
_FITS: dict[str, tuple[type, ...]] = {
    "STRING": (str,),
    "NUMBER_INTEGER": (int,),
    "NUMBER_DOUBLE": (int, float),
    "BOOLEAN": (bool,),
    "LIST": (list,),
    "STRUCT": (dict,),
}
# unix-cron (Cloud Scheduler's format, which Vertex schedules take): field bounds and names.
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)
_CRON_ITEM = re.compile(r"^(?P<range>\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:/(?P<step>[0-9]+))?$")
_TZ_PREFIX = re.compile(r"^(?:CRON_TZ|TZ)=(?P<tz>\S+)\s+")


class NetworkAttempt(RuntimeError):
    """aiplatform tried to open a connection while the probe built the job."""


@contextlib.contextmanager
def no_network() -> Iterator[None]:
    real = socket.socket.connect

    def refuse(self: socket.socket, address: Any) -> None:
        raise NetworkAttempt(f"aiplatform tried to connect to {address!r}")

    socket.socket.connect = refuse  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        socket.socket.connect = real  # type: ignore[method-assign]


def _cron_value(text: str, low: int, high: int, names: tuple[str, ...]) -> int:
    if text.isdigit():
        value = int(text)
    elif text.upper() in names:
        value = names.index(text.upper()) + low
    else:
        raise ValueError(f"{text!r} is not a number or name")
    if not low <= value <= high:
        raise ValueError(f"{value} is outside {low}-{high}")
    return value


def cron_problems(cron: Any) -> list[str]:
    """unix-cron: five fields of ``*``, values, ranges, lists and ``/step``, optionally after
    ``TZ=<IANA zone>``; no seconds, macros (``@daily``) or Quartz ``? L W #``."""
    if not isinstance(cron, str):
        return [f"schedule cron {cron!r} is not a string"]
    text, problems = cron.strip(), []
    prefix = _TZ_PREFIX.match(text)
    if prefix:
        zoneinfo = importlib.import_module("zoneinfo")
        try:
            zoneinfo.ZoneInfo(prefix["tz"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems.append(f"schedule cron {cron!r}: unknown time zone {prefix['tz']!r}")
        text = text[prefix.end() :]
    fields = text.split()
    if len(fields) != len(_CRON_FIELDS):
        return [*problems, f"schedule cron {cron!r} has {len(fields)} fields, unix-cron has 5"]
    for field, (what, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        for item in field.split(","):
            match = _CRON_ITEM.match(item)
            try:
                if match is None:
                    raise ValueError(f"{item!r} is not a value, range or */step")
                if match["step"] is not None and int(match["step"]) < 1:
                    raise ValueError("a step must be at least 1")
                if match["range"] != "*":
                    bounds = [_cron_value(v, low, high, names) for v in match["range"].split("-")]
                    if bounds != sorted(bounds):
                        raise ValueError(f"range {match['range']!r} runs backwards")
            except ValueError as exc:
                problems.append(f"schedule cron {cron!r}, {what} field {field!r}: {exc}")
                break
    return problems


def _unknown_keys(kwargs: Json, func: Any, what: str) -> list[str]:
    accepted = set(inspect.signature(func).parameters) - _PROBE_SET
    return [f"{what}: {key!r} is not an argument" for key in sorted(set(kwargs) - accepted)]


def parameter_problems(values: Any, root_inputs: Json) -> list[str]:
    """``parameter_values`` against the pipeline's root inputs (names, types, required)."""
    if values is None:
        values = {}
    if not isinstance(values, dict):
        return [f"pipeline_job.parameter_values is not a mapping: {values!r}"]
    problems = []
    for key, value in sorted(values.items()):
        declared = root_inputs.get(key)
        if declared is None:
            problems.append(f"parameter_values: '{key}' is not an input of the pipeline")
            continue
        fits = _FITS.get(declared.get("parameterType", ""), (object,))
        if (isinstance(value, bool) and bool not in fits) or not isinstance(value, fits):
            problems.append(
                f"parameter_values: '{key}' = {value!r} is not a {declared.get('parameterType')}"
            )
    for key, declared in sorted(root_inputs.items()):
        required = not declared.get("isOptional") and "defaultValue" not in declared
        if required and key not in values:
            problems.append(f"pipeline input '{key}' has no default and no parameter value")
    return problems


def build_job(yaml_path: Path, kwargs: Json) -> tuple[Any, list[str]]:
    """``aiplatform.PipelineJob(template_path=yaml_path, **kwargs)`` with no network."""
    aiplatform = importlib.import_module("google.cloud.aiplatform")
    credentials = importlib.import_module("google.auth.credentials")
    problems = _unknown_keys(kwargs, aiplatform.PipelineJob.__init__, "pipeline_job")
    if problems:
        return None, problems
    try:
        with no_network():
            job = aiplatform.PipelineJob(
                template_path=str(yaml_path),
                credentials=credentials.AnonymousCredentials(),
                **kwargs,
            )
    except Exception as exc:  # aiplatform raises many kinds; all mean "not accepted"
        return None, [f"aiplatform.PipelineJob: {type(exc).__name__}: {exc}"]
    return job, []


def submit_problems(submit: Any) -> list[str]:
    if submit is None:
        return []
    if not isinstance(submit, dict):
        return [f"submit is not a mapping: {submit!r}"]
    aiplatform = importlib.import_module("google.cloud.aiplatform")
    problems = _unknown_keys(submit, aiplatform.PipelineJob.submit, "submit")
    for key in ("service_account", "network"):
        if key in submit and not isinstance(submit[key], str):
            problems.append(f"submit {key} {submit[key]!r} is not a string")
    return problems


def schedule_problems(job: Any, schedule: Any, kwargs: Json) -> list[str]:
    if schedule is None:
        return []
    if not isinstance(schedule, dict):
        return [f"schedule is not a mapping: {schedule!r}"]
    aiplatform = importlib.import_module("google.cloud.aiplatform")
    problems = _unknown_keys(schedule, aiplatform.PipelineJob.create_schedule, "schedule")
    for key in ("cron", "display_name"):
        if key not in schedule:
            problems.append(f"schedule has no '{key}'")
    problems += cron_problems(schedule.get("cron"))
    for key in ("max_run_count", "max_concurrent_run_count", "max_concurrent_active_run_count"):
        value = schedule.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            problems.append(f"schedule {key} {value!r} is not an integer")
        elif value is not None and value < 1:
            problems.append(f"schedule {key} {value!r} is not positive")
    if job is not None and not problems:
        credentials = importlib.import_module("google.auth.credentials")
        try:  # the object create_schedule makes before it calls the API (given the project,
            # location and credentials it would take from the job, or else ask google.auth)
            with no_network():
                aiplatform.PipelineJobSchedule(
                    pipeline_job=job,
                    display_name=schedule["display_name"],
                    credentials=credentials.AnonymousCredentials(),
                    project=kwargs.get("project", ASSUMED_PROJECT),
                    location=kwargs.get("location"),
                )
        except Exception as exc:
            problems.append(f"aiplatform.PipelineJobSchedule: {type(exc).__name__}: {exc}")
    return problems


def probe_job(job_path: Path, yaml_path: Path, root_inputs: Json) -> tuple[Json, list[str]]:
    """(what the probe saw of the job, problems)."""
    try:
        data = json.loads(job_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {}, [f"job JSON: {exc}"]
    if not isinstance(data, dict):
        return {}, ["job JSON is not an object"]
    problems = [f"job JSON: unknown key '{k}'" for k in sorted(set(data) - JOB_KEYS)]
    if data.get("template") != yaml_path.name:
        problems.append(f"job JSON template {data.get('template')!r} is not {yaml_path.name!r}")
    kwargs = data.get("pipeline_job")
    if not isinstance(kwargs, dict):
        return {}, [*problems, "job JSON has no pipeline_job mapping"]
    problems += parameter_problems(kwargs.get("parameter_values"), root_inputs)
    problems += submit_problems(data.get("submit"))
    assumed = "project" not in kwargs
    kwargs = {"project": ASSUMED_PROJECT, **kwargs}
    job, built = build_job(yaml_path, kwargs)
    problems += built
    problems += schedule_problems(job, data.get("schedule"), kwargs)
    seen: Json = {
        "built": job is not None,
        "scheduled": data.get("schedule") is not None,
        "project_assumed": assumed,
    }
    if job is not None:
        runtime = job._gca_resource.runtime_config
        seen["pipeline_root"] = runtime.gcs_output_directory
        seen["parameter_values"] = sorted(runtime.parameter_values)
    return seen, problems
