"""Names and types as kfp's own compiler writes them, so a hand-written kfp DSL program of
the same pipeline compiles to the same task, component and executor names.

A step ``train_model`` is the task ``train-model`` (kfp's ``sanitize_k8s_name``), its
component ``comp-train-model`` and its executor ``exec-train-model``; a value passed into a
group of tasks is the group's input ``pipelinechannel--<producer task>-<output>``.
"""

from __future__ import annotations

import re
from typing import Any

SCHEMA_VERSION = "2.1.0"
ARTIFACT_SCHEMA_VERSION = "0.0.1"

# The spec's parameter types -> KFP's. Metrics are a JSON object, like dict.
PARAMETER_TYPES = {
    "string": "STRING",
    "int": "NUMBER_INTEGER",
    "float": "NUMBER_DOUBLE",
    "bool": "BOOLEAN",
    "list": "LIST",
    "dict": "STRUCT",
    "metrics": "STRUCT",
}
ARTIFACT_TYPES = {
    "dataset": "system.Dataset",
    "model": "system.Model",
    "artifact": "system.Artifact",
}


def sanitize(name: str) -> str:
    """kfp's ``sanitize_k8s_name``: lower case, runs of anything but [a-z0-9-] become one
    dash, no dash at either end."""
    text = re.sub(r"[^-0-9a-z]+", "-", name.lower())
    return re.sub(r"-+", "-", text).strip("-")


class Namer:
    """Unique task names in one pipeline: the first holder keeps a name, later ones get
    ``-2``, ``-3``... as kfp does for tasks of the same name (deterministic: names are
    taken in pipeline order)."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def take(self, wanted: str) -> str:
        base = sanitize(wanted) or "task"
        name, n = base, 1
        while self._clashes(name):
            n += 1
            name = f"{base}-{n}"
        self._taken.add(name)
        return name

    def _clashes(self, name: str) -> bool:
        # KFP's Argo compiler names each task's driver `<task>-driver` in the same
        # workflow: a task named like another's driver would collide with it.
        driver_of = name.removesuffix("-driver") if name.endswith("-driver") else None
        return name in self._taken or f"{name}-driver" in self._taken or driver_of in self._taken


def parameter_type(type_name: str) -> str:
    return PARAMETER_TYPES[type_name]


def artifact_type(type_name: str) -> dict[str, str]:
    return {
        "schemaTitle": ARTIFACT_TYPES.get(type_name, "system.Artifact"),
        "schemaVersion": ARTIFACT_SCHEMA_VERSION,
    }


def value_definition(type_name: str, *, is_list: bool = False) -> dict[str, Any]:
    """An input or output definition of a spec type (``is_list``: every iteration's value,
    collected after a loop)."""
    if type_name in PARAMETER_TYPES:
        return {"parameterType": "LIST" if is_list else parameter_type(type_name)}
    definition: dict[str, Any] = {"artifactType": artifact_type(type_name)}
    if is_list:
        definition["isArtifactList"] = True
    return definition


def is_parameter_definition(definition: dict[str, Any]) -> bool:
    return "parameterType" in definition


def literal_parameter_type(value: Any) -> str:
    """The KFP type of a literal value (a param default, a loop item)."""
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "NUMBER_INTEGER"
    if isinstance(value, float):
        return "NUMBER_DOUBLE"
    if isinstance(value, (list, tuple)):
        return "LIST"
    if isinstance(value, dict):
        return "STRUCT"
    return "STRING"
