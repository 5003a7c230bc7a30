"""What a small model is told and bound by: the worked example, the schema's bounds."""

from __future__ import annotations

import json
import re
from typing import Any

from jsonschema import Draft202012Validator

from pipespec.fill.llm_steps import (
    _EXAMPLE_ANSWER,
    MAX_ANSWER_BODY_CHARS,
    SYSTEM_PROMPT,
    answer_schema,
)
from pipespec.fill.policy import MAX_BODY_BYTES, check_answer
from pipespec.fill.template import ScriptFrame

EXAMPLE_FRAME = ScriptFrame(
    "warm", "d", ("readings",), ("warm",), "pipeline.yaml", "llm:test", "fill-v3"
)


def _patterns(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return found + [p for value in node.values() for p in _patterns(value)]
    if isinstance(node, list):
        return [p for value in node for p in _patterns(value)]
    return []


def test_the_worked_example_is_an_answer_the_policy_accepts() -> None:
    """The example must itself be right: a small model copies its form."""
    schema = answer_schema(["python:3.12-slim"])
    Draft202012Validator(schema).validate(_EXAMPLE_ANSWER)
    assert check_answer(EXAMPLE_FRAME, [], str(_EXAMPLE_ANSWER["body"])) == []
    assert json.dumps(_EXAMPLE_ANSWER) in SYSTEM_PROMPT


def test_the_schema_bounds_what_a_grammar_lets_the_model_write() -> None:
    schema = answer_schema([])
    props = schema["properties"]
    assert props["body"]["maxLength"] == MAX_ANSWER_BODY_CHARS < MAX_BODY_BYTES
    assert props["imports"]["maxItems"] >= 1
    memory = props["resources"]["properties"]["memory"]
    assert re.fullmatch(memory["pattern"], "2Gi") and not re.fullmatch(memory["pattern"], "2 GB")
    # llama.cpp answers HTTP 500 to a `pattern` with a `.` in it (measured).
    assert _patterns(schema) and not any("." in p for p in _patterns(schema))


def test_a_bare_module_name_is_answered_with_the_import_line_to_write() -> None:
    from pipespec.fill.llm_feedback import schema_problem

    answer = {**_EXAMPLE_ANSWER, "imports": ["numpy", "pandas"]}
    errors = sorted(
        Draft202012Validator(answer_schema([])).iter_errors(answer), key=lambda e: e.path[-1]
    )
    problems = [schema_problem(e) for e in errors]
    assert problems[0] == (
        "at /imports/0: 'numpy' is not an allowed value; write 'import numpy as np'"
    )
    # Nothing on the menu holds pandas (it is always imported as pd): the whole list.
    assert problems[1].startswith("at /imports/1: 'pandas' is not one of ['import math'")
