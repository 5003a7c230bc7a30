"""The only ways a value reaches generated Python: a literal, an identifier, a comment.

``py_literal`` emits a Python literal and proves it with ``ast.literal_eval`` (the text must
read back as the very same value); ``py_ident`` accepts only a plain identifier; comments
are one line, with anything unprintable escaped. No spec or LLM string can become code.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class UnsafeValue(ValueError):
    pass


def _emit(value: Any) -> str:
    """A scalar's literal, or a container's built from its elements' proven literals."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UnsafeValue(f"non-finite float {value!r}")
        return repr(value)
    if isinstance(value, str):
        return repr(value)
    # Joining proven literals with brackets, colons and commas is a literal by construction.
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, Mapping):
        items = []
        for k, v in value.items():
            if not isinstance(k, str):
                raise UnsafeValue(f"non-string key {k!r}")
            items.append(f"{py_literal(k)}: {py_literal(v)}")
        return "{" + ", ".join(items) + "}"
    raise UnsafeValue(f"cannot emit a {type(value).__name__} as a Python literal")


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def py_literal(value: Any) -> str:
    """A Python literal for ``value``; every scalar in it is proven by ``ast.literal_eval``."""
    if type(value) is str:
        return _string_literal(value)
    if isinstance(value, (list, tuple, Mapping)):
        return _emit(value)
    return _proven(value)


@lru_cache(maxsize=65536)
def _string_literal(value: str) -> str:
    # Generated files repeat their strings (images, flags, URIs); prove each once per run.
    return _proven(value)


def _proven(value: Any) -> str:
    text = _emit(value)
    if ast.literal_eval(text) != _plain(value):
        raise UnsafeValue(f"{text!r} does not read back as the value")
    return text


def py_ident(name: str) -> str:
    if not _IDENT.match(name) or keyword.iskeyword(name):
        raise UnsafeValue(f"{name!r} is not a safe Python identifier")
    return name


def comment(text: str) -> str:
    """Text safe inside a ``#`` comment: one line, unprintable characters escaped."""
    out = []
    for ch in text:
        if ch.isprintable() and ch not in "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029":
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)


class Code(str):
    """Python source built by pipespec from literals and identifiers (never from raw text)."""
