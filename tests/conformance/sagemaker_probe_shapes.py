"""A SageMaker step's ``Arguments`` and its ``Get`` paths against botocore's service model.

Runs in the ``sagemaker`` conformance venv (``sagemaker_probe.py`` imports it). The shapes
come from ``botocore.session.get_session().get_service_model('sagemaker')``, the model the
pinned boto3 sends requests with:

* ``Arguments`` of a step is the request of the API its type calls (``API``): unknown
  members, JSON types, enums, required members, string patterns and lengths, list and map
  sizes, number ranges. A placeholder (``{"Get": ...}``, ``{"Std:Join": ...}``,
  ``{"Std:JsonGet": ...}``) stands for any scalar: the service resolves it at run time.
* ``Steps.<name>.<path>``: the path must exist in the response shape(s) of the step type's
  Describe* call (``PROPERTIES``, the shapes the SDK's own ``Properties`` use).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

# Step type -> the Create* operation its Arguments are the request of.
API = {
    "Processing": "CreateProcessingJob",
    "Training": "CreateTrainingJob",
    "Tuning": "CreateHyperParameterTuningJob",
    "Model": "CreateModel",
    "Transform": "CreateTransformJob",
    "RegisterModel": "CreateModelPackage",
    # sagemaker 2.257.6's EndpointConfigStep / EndpointStep (workflow/endpoint_step.py).
    "EndpointConfig": "CreateEndpointConfig",
    "Endpoint": "CreateEndpoint",
}
# Step type -> the shapes its ``Steps.<name>.…`` properties are read from (sagemaker 2.x
# ``workflow/steps.py`` and ``_utils.py``: a tuning step's properties merge its Describe*
# response with the list of its training jobs, e.g. ``TrainingJobSummaries[0]``).
PROPERTIES = {
    "Processing": ("DescribeProcessingJobResponse",),
    "Training": ("DescribeTrainingJobResponse",),
    "Tuning": (
        "DescribeHyperParameterTuningJobResponse",
        "ListTrainingJobsForHyperParameterTuningJobResponse",
    ),
    "Model": ("DescribeModelOutput",),
    "Transform": ("DescribeTransformJobResponse",),
    "RegisterModel": ("DescribeModelPackageOutput",),
    "EndpointConfig": ("DescribeEndpointConfigOutput",),
    "Endpoint": ("DescribeEndpointOutput",),
}
# Required request members the pipeline service fills in itself: the job or model name is
# made per execution, so the SDK pops it from the definition ("Popping out
# 'ProcessingJobName' ... it will be overridden at pipeline execution time").
SERVICE_FILLED = frozenset(
    {
        "ProcessingJobName",
        "TrainingJobName",
        "HyperParameterTuningJobName",
        "ModelName",
        "TransformJobName",
    }
)
PLACEHOLDERS = frozenset({"Get", "Std:Join", "Std:JsonGet"})
_PATH_TOKEN = re.compile(r"\.?([A-Za-z0-9_]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
Shape = Any


@cache
def service_model() -> Any:
    botocore_session = importlib.import_module("botocore.session")
    return botocore_session.get_session().get_service_model("sagemaker")


def is_placeholder(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in PLACEHOLDERS


def arguments_problems(where: str, step_type: str, arguments: Any) -> list[str]:
    """What the service's request validation would reject in a step's Arguments."""
    shape = service_model().operation_model(API[step_type]).input_shape
    return list(_check_structure(f"{where}: Arguments", arguments, shape, SERVICE_FILLED))


def _check(where: str, value: Any, shape: Shape) -> Iterator[str]:
    if is_placeholder(value):
        if shape.type_name in ("structure", "list", "map"):
            kind = next(iter(value))
            yield f"{where}: a {kind} placeholder where {shape.name} is a {shape.type_name}"
        return
    check = _CHECKS.get(shape.type_name, _check_scalar)
    yield from check(where, value, shape)


def _check_structure(
    where: str, value: Any, shape: Shape, exempt: frozenset[str] = frozenset()
) -> Iterator[str]:
    if not isinstance(value, dict):
        yield f"{where}: {_json_type(value)} where {shape.name} is an object"
        return
    members = shape.members
    for key, item in value.items():
        if key not in members:
            yield f"{where}: unknown member '{key}' of {shape.name}"
            continue
        yield from _check(f"{where}.{key}", item, members[key])
    for name in shape.required_members:
        if name not in value and name not in exempt:
            yield f"{where}: lacks required member '{name}' of {shape.name}"


def _check_list(where: str, value: Any, shape: Shape) -> Iterator[str]:
    if not isinstance(value, list):
        yield f"{where}: {_json_type(value)} where {shape.name} is a list"
        return
    yield from _size(where, len(value), shape, "items")
    for index, item in enumerate(value):
        yield from _check(f"{where}[{index}]", item, shape.member)


def _check_map(where: str, value: Any, shape: Shape) -> Iterator[str]:
    if not isinstance(value, dict):
        yield f"{where}: {_json_type(value)} where {shape.name} is a map"
        return
    yield from _size(where, len(value), shape, "entries")
    for key, item in value.items():
        yield from _check_scalar(f"{where} key {key!r}", key, shape.key)
        yield from _check(f"{where}[{key!r}]", item, shape.value)


def _check_scalar(where: str, value: Any, shape: Shape) -> Iterator[str]:
    kind = shape.type_name
    ok = {
        "string": isinstance(value, str),
        "blob": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "long": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "double": isinstance(value, (int, float)) and not isinstance(value, bool),
        "timestamp": isinstance(value, (str, int, float)) and not isinstance(value, bool),
    }.get(kind, True)
    if not ok:
        yield f"{where}: {_json_type(value)} {value!r} where {shape.name} is a {kind}"
        return
    if kind == "string":
        yield from _check_string(where, value, shape)
    elif kind in ("integer", "long", "float", "double"):
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            yield f"{where}: {value} is outside {shape.name}'s range [{low}, {high}]"


def _check_string(where: str, value: str, shape: Shape) -> Iterator[str]:
    enum = shape.enum
    if enum and value not in enum:
        yield f"{where}: {value!r} is not one of {shape.name}'s values"
    yield from _size(where, len(value), shape, "characters")
    pattern = _pattern(shape.metadata.get("pattern"))
    if pattern is not None and not pattern.search(value):
        yield f"{where}: {value!r} does not match {shape.name}'s pattern {pattern.pattern!r}"


def _size(where: str, size: int, shape: Shape, unit: str) -> Iterator[str]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        yield f"{where}: {size} {unit}, fewer than {shape.name}'s minimum {low}"
    if high is not None and size > high:
        yield f"{where}: {size} {unit}, more than {shape.name}'s maximum {high}"


@cache
def _pattern(text: str | None) -> re.Pattern[str] | None:
    """botocore's patterns are ECMA-262 regular expressions, unanchored unless they say so;
    the few Python's ``re`` cannot compile are skipped."""
    if text is None:
        return None
    try:
        return re.compile(text)
    except re.error:
        return None


def _json_type(value: Any) -> str:
    names = {bool: "boolean", int: "number", float: "number", str: "string", list: "array"}
    return "object" if isinstance(value, dict) else names.get(type(value), "null")


_CHECKS = {"structure": _check_structure, "list": _check_list, "map": _check_map}


def property_path_problem(step_type: str, path: str) -> str | None:
    """Why ``path`` (after ``Steps.<name>.``) names nothing in the step type's properties."""
    tokens = _tokens(path)
    if tokens is None:
        return f"'{path}' is not a property path"
    model = service_model()
    reasons = []
    for shape_name in PROPERTIES[step_type]:
        reason = _walk(model.shape_for(shape_name), tokens)
        if reason is None:
            return None
        reasons.append(f"{shape_name}: {reason}")
    return "; ".join(reasons)


def _tokens(path: str) -> list[str | int] | None:
    tokens: list[str | int] = []
    position = 0
    while position < len(path):
        match = _PATH_TOKEN.match(path, position)
        if match is None or (position == 0 and path.startswith(".")):
            return None
        name, index, key1, key2 = match.groups()
        tokens.append(int(index) if index is not None else (name or key1 or key2 or ""))
        position = match.end()
    return tokens


def _walk(shape: Shape, tokens: list[str | int]) -> str | None:
    for token in tokens:
        if shape.type_name == "structure" and isinstance(token, str):
            if token not in shape.members:
                return f"no member '{token}' in {shape.name}"
            shape = shape.members[token]
        elif shape.type_name == "list":
            # A list is indexed by position, or by an item's name (``Outputs['train']``).
            shape = shape.member
        elif shape.type_name == "map" and isinstance(token, str):
            shape = shape.value
        else:
            return f"{token!r} cannot index {shape.name} (a {shape.type_name})"
    return None
