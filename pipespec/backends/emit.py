"""Stable data emitters for the targets whose output is data (KFP's pipeline spec,
SageMaker pipeline definitions, ...): dicts in, the same bytes out for the same data.

Both emitters sort mapping keys and accept only JSON-like data (``None``, bool, int,
float, str, lists/tuples and str-keyed mappings), so a backend cannot leak a Python
object's ``repr`` into a file. YAML is written by hand, in block style, so that both YAML
1.1 readers (PyYAML, most orchestrators) and YAML 1.2 readers load it back as the same
values: a string is left plain only when no resolver could read it as anything else
(``no``, ``on``, ``y``, ``~``, ``12:30``, ``0755``, ``1e3``, ``.inf`` are quoted).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

# A plain scalar we are sure every resolver reads as a string: starts with a letter or
# `_`/`/` and holds no character that YAML gives a meaning (`: `, ` #`, flow indicators).
# Words that YAML 1.1 or 1.2 resolve to bool or null are excluded below.
_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./-]*")
_RESERVED_WORDS = frozenset(
    ["y", "n", "yes", "no", "true", "false", "on", "off", "null"]  # compared lower-cased
)
# What may stand in a double-quoted scalar as it is (printable, and not a line break: NEL,
# LS and PS are line breaks to YAML 1.1 readers, folded on load), and what is escaped.
_KEPT = r"\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff"
_QUOTABLE = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e" + _KEPT[9:] + "]*")
_NEEDS_ESCAPE = re.compile(r'["\\]|[^' + _KEPT + "]")
_NAMED_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def to_json(data: Any) -> str:
    """Indented JSON with sorted keys and a final newline; non-ASCII kept as UTF-8."""
    _check(data)
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def to_yaml(data: Any) -> str:
    """Block-style YAML with sorted keys and a final newline (see the module notes)."""
    out: list[str] = []
    try:
        _Emitter(out).value(data, "", "")
    except _NotData:
        _check(data)  # says where, with the path of the value at fault
        raise
    return "\n".join(out) + "\n"


def _check(data: Any, path: str = "$") -> None:
    """Only JSON-like data: a data file never depends on a Python object's repr."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return
    if isinstance(data, Mapping):
        for key, value in data.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: mapping keys must be strings, not {key!r}")
            _check(value, f"{path}.{key}")
        return
    if isinstance(data, (list, tuple)):
        for i, value in enumerate(data):
            _check(value, f"{path}[{i}]")
        return
    raise TypeError(f"{path}: {type(data).__name__} is not JSON-like data")


def yaml_scalar(value: bool | int | float | str | None) -> str:
    """One scalar, as text that YAML 1.1 and 1.2 readers both load back as ``value``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _yaml_float(value)
    if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED_WORDS:
        return value
    return _double_quoted(value)


def _yaml_float(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    # YAML 1.1's float needs a dot ("1e+16" would read back as a string there).
    mantissa, e, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + e + exponent


def _double_quoted(text: str) -> str:
    if _QUOTABLE.fullmatch(text):  # the common case: nothing to escape
        return '"' + text + '"'
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[ch]
    if ord(ch) <= 0xFF:
        return f"\\x{ord(ch):02x}"
    if ord(ch) <= 0xFFFF:
        return f"\\u{ord(ch):04x}"
    return f"\\U{ord(ch):08x}"


class _NotData(TypeError):
    """A value that is not JSON-like data, found while writing (``_check`` says where)."""


def _is_mapping(value: Any) -> bool:
    return type(value) is dict or isinstance(value, Mapping)


def _is_sequence(value: Any) -> bool:
    return type(value) is list or type(value) is tuple


class _Emitter:
    """Appends the lines of one document to ``out`` in one pass, refusing what is not
    JSON-like data as it goes, with string scalars memoised (keys and values repeat
    thousands of times in a big pipeline). Exact types are tested first: ``isinstance``
    against an ABC costs more than writing the line."""

    def __init__(self, out: list[str]) -> None:
        self.out = out
        self.scalars: dict[str, str] = {}

    def scalar(self, value: Any) -> str:
        if type(value) is str:
            text = self.scalars.get(value)
            if text is None:
                text = self.scalars[value] = yaml_scalar(value)
            return text
        if value is None or isinstance(value, (bool, int, float, str)):
            return yaml_scalar(value)
        raise _NotData(type(value).__name__)

    def value(self, data: Any, pad: str, first: str) -> None:
        """``data`` indented by ``pad``; ``first`` replaces the first line's indentation
        (a list item's block shares the line of its dash: "- key: v" / "- - v")."""
        if _is_mapping(data):
            self.mapping(data, pad, first)
        elif _is_sequence(data):
            self.sequence(data, pad, first)
        else:
            self.out.append((first or pad) + self.scalar(data))

    def mapping(self, data: Mapping[Any, Any], pad: str, first: str) -> None:
        if not data:
            self.out.append((first or pad) + "{}")
            return
        out, inner, lead, scalars = self.out, pad + "  ", first or pad, self.scalars
        for key in sorted(data):
            if type(key) is not str:
                raise _NotData("key")
            value = data[key]
            head = lead + (scalars.get(key) or self.scalar(key)) + ":"
            lead = pad
            if type(value) is str:  # most values: no container tests needed
                out.append(head + " " + (scalars.get(value) or self.scalar(value)))
            elif value and (_is_mapping(value) or _is_sequence(value)):
                out.append(head)
                self.value(value, inner, "")
            else:
                out.append(head + " " + self.inline(value))

    def sequence(self, data: Any, pad: str, first: str) -> None:
        if not data:
            self.out.append((first or pad) + "[]")
            return
        inner, lead = pad + "  ", (first or pad) + "- "
        for value in data:
            if value and (_is_mapping(value) or _is_sequence(value)):
                self.value(value, inner, lead)
            else:
                self.out.append(lead + self.inline(value))
            lead = pad + "- "

    def inline(self, value: Any) -> str:
        """A scalar or an empty collection, on the line of its key or dash."""
        if _is_mapping(value):
            return "{}"
        if _is_sequence(value):
            return "[]"
        return self.scalar(value)
