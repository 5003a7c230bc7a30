"""The spec's vocabularies, value checks and annotated value types, and the strict base model.

A check raises a pydantic error whose type is a diagnostic code (``_error``), so the
reporter in validate.py shows it under that code.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from pipespec.spec import units

SPEC_VERSION = 1

STEP_KINDS = (
    "ingest",
    "transform",
    "train",
    "tune",
    "evaluate",
    "deploy",
    "monitor",
    "container",
    "fail",
    "register",
    "batch_predict",
)
FRAMEWORKS = ("xgboost", "scikit-learn", "lightgbm", "pytorch", "tensorflow", "transformers")
TASKS = (
    "binary_classification",
    "multiclass_classification",
    "regression",
    "text_classification",
)
Accelerator = Literal[
    "nvidia-t4",
    "nvidia-l4",
    "nvidia-a10g",
    "nvidia-v100",
    "nvidia-a100",
    "nvidia-a100-80gb",
    "nvidia-h100",
]
ACCELERATORS: tuple[str, ...] = get_args(Accelerator)
ARTIFACT_TYPES = ("dataset", "model", "metrics", "artifact")
PARAMETER_TYPES = ("string", "int", "float", "bool", "list", "dict")
OUTPUT_TYPES = ARTIFACT_TYPES + PARAMETER_TYPES

NAME_RE = r"^[a-z][a-z0-9-]{0,62}$"
STEP_ID_RE = r"^[a-z][a-z0-9_-]{0,62}$"
IDENT_RE = r"^[a-z_][a-z0-9_]{0,62}$"
ENV_RE = r"^[A-Za-z_][A-Za-z0-9_]*$"
_CRON_FIELD = re.compile(
    r"^(?:\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:/[0-9]+)?(?:,(?:\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:/[0-9]+)?)*$"
)
# The presets a schedule may be, as the 5-field expressions croniter reads them as (the
# targets that take only cron, and the comparison of two schedules, use this meaning).
PRESET_CRON = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
}
CRON_PRESETS = tuple(PRESET_CRON)


def _error(code: str, message: str) -> PydanticCustomError:
    # The pydantic error type carries our diagnostic code through to the reporter.
    return PydanticCustomError(code, message)


def _check_duration(value: str) -> str:
    try:
        units.parse_duration(value)
    except ValueError as exc:
        raise _error("PS204", str(exc)) from None
    return value


def _check_memory(value: str) -> str:
    try:
        units.parse_quantity(value)
    except ValueError as exc:
        raise _error("PS205", str(exc)) from None
    return value


def _check_cpu(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _error("PS202", "cpu is a number of cores (2, 0.5) or millicores ('500m')")
    try:
        units.parse_cpu(value)
    except ValueError as exc:
        raise _error("PS205", str(exc)) from None
    return value


def _check_schedule(value: str) -> str:
    if value.startswith("@"):
        if value not in CRON_PRESETS:
            raise _error(
                "PS210", f"unknown schedule preset {value!r}; use one of {', '.join(CRON_PRESETS)}"
            )
        return value
    fields = value.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise _error(
            "PS210",
            f"{value!r} is not a 5-field cron expression (minute hour day month weekday)",
        )
    _check_cron_random(value, fields)
    _check_cron_ranges(value, fields)
    return value


def _check_cron_random(value: str, fields: list[str]) -> None:
    """PS210 for croniter's random value `R`: it draws another time each time the
    schedule is read (Airflow re-parses DAG files), so a run's time would not be fixed."""
    offset = 0
    for field in fields:
        offset = value.index(field, offset)
        if any(token.lower() == "r" for token in re.split(r"[,/-]", field)):
            raise PydanticCustomError(
                "PS210",
                f"{field!r} in {value!r} asks for a random value (R), drawn anew each time "
                "the schedule is read; write the time",
                {"column": offset, "width": len(field)},
            )
        offset += len(field)


# Only for the message: croniter (which Airflow itself schedules with) decides validity.
_CRON_FIELDS = (
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day of month", "1-31"),
    ("month", "1-12 or jan-dec"),
    ("day of week", "0-7 or sun-sat"),
)


def _check_cron_ranges(value: str, fields: list[str]) -> None:
    """PS210 at the first field croniter rejects (a value out of range, say `0 25 * * 1`)."""
    # Imported here: only specs with a schedule pay for it (`pipespec --help` stays light).
    from croniter import croniter  # type: ignore[import-untyped]

    try:
        croniter(value)
        return
    except (ValueError, KeyError, TypeError):  # croniter's errors are ValueErrors
        pass
    # Judge each field alone (the others `*`) to point at the one at fault.
    offset = 0
    for index, field in enumerate(fields):
        offset = value.index(field, offset)
        alone = " ".join(field if i == index else "*" for i in range(5))
        try:
            croniter(alone)
        except (ValueError, KeyError, TypeError):
            name, allowed = _CRON_FIELDS[index]
            raise PydanticCustomError(
                "PS210",
                f"{field!r} is out of range for the {name} field ({allowed}) in {value!r}",
                {"column": offset, "width": len(field)},
            ) from None
        offset += len(field)
    raise _error("PS210", f"{value!r} is not a valid cron expression")


def _is_scalar(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, (str, int, bool))


def _check_scalar(value: Any) -> Any:
    if not _is_scalar(value):
        raise _error("PS202", "expected a string, number or boolean")
    return value


def _check_text(value: str) -> str:
    # A blank description would reach docs and the LLM's prompt as if it said something.
    if not value.strip():
        raise _error("PS203", "a description is blank; write what it is, or remove the key")
    return value


def _check_image(value: str) -> str:
    if not value or any(c.isspace() for c in value) or value.startswith("-"):
        raise _error("PS203", f"{value!r} is not a container image reference")
    return value


SCRIPT_RE = re.compile(r"^(pipespec:[a-z_]+|[A-Za-z0-9_][A-Za-z0-9_./-]*\.py)$")


def _check_script(value: str) -> str:
    if not SCRIPT_RE.match(value) or ".." in value.split("/"):
        raise _error(
            "PS203",
            f"script {value!r} must be a .py path inside the spec's folder, or pipespec:<name>",
        )
    return value


def _check_json_value(value: Any, depth: int = 0) -> Any:
    if depth > 32:
        raise _error("PS202", "value nests too deeply")
    if value is None or _is_scalar(value):
        return value
    if isinstance(value, list):
        for item in value:
            _check_json_value(item, depth + 1)
        return value
    if isinstance(value, dict):
        for item in value.values():
            _check_json_value(item, depth + 1)
        return value
    raise _error("PS202", "expected a plain value (no infinities or NaN)")


_SCALAR_SCHEMA: dict[str, Any] = {"type": ["string", "number", "integer", "boolean"]}

Scalar = Annotated[Any, AfterValidator(_check_scalar), WithJsonSchema(_SCALAR_SCHEMA)]
JsonValue = Annotated[Any, AfterValidator(_check_json_value), WithJsonSchema({})]
Duration = Annotated[
    str,
    AfterValidator(_check_duration),
    WithJsonSchema({"type": "string", "pattern": r"^([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$"}),
]
Memory = Annotated[
    str,
    AfterValidator(_check_memory),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$"}),
]
Cpu = Annotated[
    Any,
    AfterValidator(_check_cpu),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "number", "exclusiveMinimum": 0},
                {"type": "string", "pattern": r"^[0-9]+m$"},
            ]
        }
    ),
]
Schedule = Annotated[str, AfterValidator(_check_schedule)]
Description = Annotated[
    str, AfterValidator(_check_text), WithJsonSchema({"type": "string", "pattern": r"\S"})
]
Image = Annotated[str, AfterValidator(_check_image), Field(min_length=1, max_length=512)]
StepId = Annotated[str, Field(pattern=STEP_ID_RE)]
Ident = Annotated[str, Field(pattern=IDENT_RE)]
EnvName = Annotated[str, Field(pattern=ENV_RE)]


class Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
