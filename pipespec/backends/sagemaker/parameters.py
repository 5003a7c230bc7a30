"""A spec's params as SageMaker pipeline Parameters, and how a step refers to one.

SageMaker has four parameter types: String, Integer, Float and Boolean. A list or dict
param becomes a String parameter holding its JSON (the step reads and parses it), which
the capability table says (PARAMS: emulated). An enum becomes a String parameter's
``EnumValues`` (SageMaker checks a run's value against it); only String parameters take
one, so an int or float enum is not checked on SageMaker.
"""

from __future__ import annotations

import json
from typing import Any

from pipespec import ir

_TYPES = {"string": "String", "int": "Integer", "float": "Float", "bool": "Boolean"}


def parameter_type(param: ir.Param) -> str:
    """SageMaker's type for the param (a list or dict travels as JSON in a String)."""
    return _TYPES.get(param.type, "String")


def _default(param: ir.Param) -> Any:
    value = ir.thaw(param.default)
    if param.type in ("list", "dict"):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if param.type == "float":
        return float(value)
    return value


def parameters(pipeline: ir.Pipeline) -> list[dict[str, Any]]:
    """The definition's ``Parameters``, in the spec's order."""
    found: list[dict[str, Any]] = []
    for param in pipeline.params:
        entry: dict[str, Any] = {"Name": param.name, "Type": parameter_type(param)}
        if param.default is not None:
            entry["DefaultValue"] = _default(param)
        if param.enum is not None and entry["Type"] == "String":
            entry["EnumValues"] = [str(v) for v in ir.thaw(param.enum)]
        found.append(entry)
    return found


def get(path: str) -> dict[str, str]:
    """A property reference SageMaker resolves when the step runs (``Parameters.X``,
    ``Steps.Y.ProcessingOutputConfig...``, ``Execution.PipelineExecutionId``)."""
    return {"Get": path}


def param_ref(name: str) -> dict[str, str]:
    return get(f"Parameters.{name}")


def join(values: list[Any], on: str = "") -> Any:
    """``Std:Join`` of text and references; plain text when there is no reference."""
    if all(isinstance(v, str) for v in values):
        return on.join(values)
    return {"Std:Join": {"On": on, "Values": values}}
