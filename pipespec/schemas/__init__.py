"""JSON Schemas shipped as package data, and the helpers to load and validate with them.

`pipespec.schema.json` is the authoring schema (what users may write; editors use it for
completion). It is generated from the pydantic models by `generate_authoring_schema()` and
committed; a test keeps the two in agreement. `steps/<kind>.json` are the *complete* forms:
what a backend needs of a step of that kind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pydantic import BaseModel

AUTHORING_SCHEMA = "pipespec.schema.json"
SCHEMA_ID = "https://pipespec.dev/schemas/v1/pipespec.schema.json"


def _read(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def authoring_schema_text() -> str:
    return _read(AUTHORING_SCHEMA)


@cache
def complete_schema(kind: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_read(f"steps/{kind}.json"))
    return data


def generate_authoring_schema(target_options: Mapping[str, type[BaseModel]]) -> str:
    """The authoring schema as the models define it (committed as package data).

    ``target_options``: target name -> its options model, describing ``targets.<name>``
    for editors (``pipespec.target_options.authoring_schema`` passes the built-in ones).
    Other names stay open: a block for another target is a mapping the schema allows.
    """
    from pipespec.spec.models import Spec

    schema = Spec.model_json_schema(mode="validation")
    defs = schema.setdefault("$defs", {})
    blocks: dict[str, Any] = {}
    for name, model in target_options.items():
        option_schema = model.model_json_schema(mode="validation")
        defs.update(option_schema.pop("$defs", {}))
        defs[model.__name__] = option_schema
        blocks[name] = {"anyOf": [{"$ref": f"#/$defs/{model.__name__}"}, {"type": "null"}]}
    targets = schema["properties"]["targets"]
    targets["anyOf"] = [
        {
            "type": "object",
            "properties": blocks,
            "additionalProperties": {"anyOf": [{"type": "object"}, {"type": "null"}]},
        },
        {"type": "null"},
    ]
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


@cache
def _complete_validator(kind: str) -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(complete_schema(kind))


@dataclass(frozen=True)
class Shortfall:
    """How a form falls short of its kind's complete schema."""

    missing: tuple[str, ...]  # required fields that are absent
    runnable: bool  # True when it has neither `command` nor `script`
    other: tuple[tuple[str, str], ...]  # (JSON path, message) for anything else

    @property
    def complete(self) -> bool:
        return not (self.missing or self.runnable or self.other)


def complete_form_shortfall(kind: str, form: dict[str, Any]) -> Shortfall:
    problems = complete_form_errors(kind, form)
    return Shortfall(
        missing=tuple(
            sorted({m.split("'")[1] for _, m in problems if "is a required property" in m})
        ),
        runnable=any("anyOf" in m or "is not valid under any" in m for _, m in problems),
        other=tuple((p, m) for p, m in problems if "required" not in m and p),
    )


def complete_form_errors(kind: str, form: dict[str, Any]) -> list[tuple[str, str]]:
    """(JSON path, message) for each way ``form`` falls short of the kind's complete schema."""
    validator = _complete_validator(kind)
    if validator.is_valid(form):
        return []
    out = []
    for error in sorted(validator.iter_errors(form), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in error.absolute_path)
        out.append((path, error.message))
    return out
