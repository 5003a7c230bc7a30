"""How a rejected answer is put to the model: the reasons as a list, each schema error at
its JSON pointer, and a value to write where the model sent part of an allowed one."""

from __future__ import annotations

import re
from typing import Any

from pipespec.fill.llm_stream import one_line

MAX_LISTED_ERRORS = 20
"""At most this many errors are listed in a feedback message or a final error."""

FEEDBACK_HEAD = "Your previous answer was rejected:"
FEEDBACK_TAIL = "Answer again with JSON that satisfies the schema."


def schema_problem(error: Any) -> str:
    """One schema error as feedback. A value that is part of an allowed one (`numpy` for
    `import numpy as np`: small models send bare module names) gets the value to write."""
    where = f"at {pointer(list(error.absolute_path))}"
    if error.validator == "enum" and isinstance(error.instance, str) and error.instance.strip():
        word = re.compile(rf"(?<![\w.]){re.escape(error.instance.strip())}(?![\w])")
        close = [v for v in error.validator_value if isinstance(v, str) and word.search(v)]
        if close:
            return f"{where}: {error.instance!r} is not an allowed value; write {close[0]!r}"
    return f"{where}: {one_line(error.message)}"


def feedback(errors: list[str]) -> str:
    return f"{FEEDBACK_HEAD}\n{bullets(errors)}\n{FEEDBACK_TAIL}"


def bullets(errors: list[str]) -> str:
    lines = [f"  - {error}" for error in errors[:MAX_LISTED_ERRORS]]
    if len(errors) > MAX_LISTED_ERRORS:
        lines.append(f"  - ... and {len(errors) - MAX_LISTED_ERRORS} more")
    return "\n".join(lines)


def pointer(path: list[str | int]) -> str:
    if not path:
        return "the top level"
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in path)


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__
