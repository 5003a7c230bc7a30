"""Declared columns: what a dataset holds, so fill can tell an LLM the real column names.

A dataset output may be written as a mapping instead of the bare type name:

    outputs:
      raw: {type: dataset, columns: {customer_id: int, country: string, amount: float}}
      events: {type: dataset, sample: samples/events.csv}   # header row + first rows

and an external input (a literal URI) likewise: `inputs: {log: {uri: "s3://...", columns:
{...}}}`. An input that reads `<step>.<output>` takes the producer's declaration. The bare
forms (`raw: dataset`, `log: "s3://..."`) keep working and mean "columns not declared".

The shape of a declaration is checked here; a sample file is read by spec/columns.py, which
knows where the spec is.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, Discriminator, Field, Tag, model_validator

from pipespec.spec.models.values import OUTPUT_TYPES, Model, _error
from pipespec.spec.references import LiteralUri, parse_input

ColumnType = Literal["int", "float", "string", "bool", "datetime", "category"]
COLUMN_TYPES: tuple[str, ...] = get_args(ColumnType)
MAX_COLUMNS = 128
"""Every declared column goes into the LLM's prompt: a small local model reads each token."""
MAX_COLUMN_NAME = 128
SAMPLE_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*\.csv$")


def column_name_problem(name: str) -> str | None:
    """Why `name` cannot be a declared column (None: it can)."""
    if not name.strip():
        return "a column name is empty"
    if len(name) > MAX_COLUMN_NAME:
        return f"the column name {name[:20]!r}... is longer than {MAX_COLUMN_NAME} characters"
    if name != name.strip():
        return f"the column name {name!r} starts or ends with a space"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return f"the column name {name!r} holds a control character"
    if "__" in name:
        # The script policy refuses every string holding '__' (PS510): no body could read it.
        return f"the column name {name!r} holds '__', which an LLM-written script may not name"
    return None


def _check_columns(value: dict[str, str]) -> dict[str, str]:
    if not value:
        raise _error("PS216", "`columns` is empty; declare at least one column")
    if len(value) > MAX_COLUMNS:
        raise _error("PS216", f"{len(value)} columns are declared; at most {MAX_COLUMNS}")
    for name in value:
        problem = column_name_problem(name)
        if problem is not None:
            raise _error("PS216", problem)
    return value


Columns = Annotated[
    dict[str, ColumnType],
    AfterValidator(_check_columns),
    Field(description="column name -> type (int, float, string, bool, datetime, category)"),
]


def _check_sample(value: str) -> str:
    if not SAMPLE_RE.match(value) or ".." in value.split("/"):
        raise _error(
            "PS216", f"sample {value!r} must be a .csv path inside the spec's folder (no '..')"
        )
    return value


Sample = Annotated[
    str,
    AfterValidator(_check_sample),
    Field(description="a small CSV beside the spec: its header names the columns"),
]


class _Declared(Model):
    columns: Columns | None = None
    sample: Sample | None = None

    @model_validator(mode="after")
    def _one_declaration(self) -> _Declared:
        if (self.columns is None) == (self.sample is None):
            raise _error("PS216", "declare the columns with `columns` or `sample` (one of them)")
        return self


class DatasetOutput(_Declared):
    """A dataset output with its columns declared."""

    type: Literal["dataset"] = Field(description="only a dataset declares columns")


class ExternalInput(_Declared):
    """A literal URI input (data no step of the pipeline writes) with its columns declared."""

    uri: Annotated[str, Field(min_length=1)]

    @model_validator(mode="after")
    def _a_uri(self) -> ExternalInput:
        try:
            literal = isinstance(parse_input(self.uri), LiteralUri)
        except ValueError:
            literal = False
        if not literal:
            raise _error(
                "PS216",
                f"`uri` {self.uri!r} is not a URI or an absolute path; an input that reads "
                "<step>.<output> takes the columns its producer declares",
            )
        return self


class OneOf(Model):
    """An input taken from whichever of these outputs was produced (KFP dsl.OneOf)."""

    one_of: Annotated[list[str], Field(min_length=2)]


OutputType = Literal[
    "dataset", "model", "metrics", "artifact", "string", "int", "float", "bool", "list", "dict"
]
assert get_args(OutputType) == OUTPUT_TYPES


# Validation sees the YAML value; serialization (model_dump) the model instance.
def _output_form(value: Any) -> str:
    declared = isinstance(value, (dict, DatasetOutput))
    return "output[declared]" if declared else "output[type]"


_DECLARING_KEYS = frozenset({"uri", "columns", "sample"})


def _input_form(value: Any) -> str:
    if isinstance(value, ExternalInput) or (
        isinstance(value, dict) and _DECLARING_KEYS & set(value)
    ):
        return "input[declared]"
    if isinstance(value, (dict, OneOf)):
        return "input[one_of]"
    return "input[reference]"


# Each value is one form or the other, picked by its YAML shape, so a mistake is reported
# once, in the terms of the form written. The tags hold '[' so that the reporter
# (spec/errors.py) does not take them for keys of the document.
Output = Annotated[
    Annotated[OutputType, Tag("output[type]")] | Annotated[DatasetOutput, Tag("output[declared]")],
    Discriminator(_output_form),
]
Input = Annotated[
    Annotated[str, Tag("input[reference]")]
    | Annotated[OneOf, Tag("input[one_of]")]
    | Annotated[ExternalInput, Tag("input[declared]")],
    Discriminator(_input_form),
]


def output_type(value: str | DatasetOutput) -> str:
    """The type of a declared output, whichever form it is written in."""
    return value.type if isinstance(value, DatasetOutput) else value
