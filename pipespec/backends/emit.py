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
# Characters YAML lets stand in a double-quoted scalar as they are: printable, and not a
# line break (NEL, LS and PS are line breaks to YAML 1.1 readers, folded on load).
_UNESCAPED = re.compile(
    "[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_NAMED_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def to_json(data: Any) -> str:
    """Indented JSON with sorted keys and a final newline; non-ASCII kept as UTF-8."""
    _check(data)
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def to_yaml(data: Any) -> str:
    """Block-style YAML with sorted keys and a final newline (see the module notes)."""
    _check(data)
    return "\n".join(_yaml_lines(data, 0)) + "\n"


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
    out = []
    for ch in text:
        if ch in _NAMED_ESCAPES:
            out.append(_NAMED_ESCAPES[ch])
        elif _UNESCAPED.match(ch):
            out.append(ch)
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def _yaml_lines(data: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(data, Mapping):
        if not data:
            return [pad + "{}"]
        lines = []
        for key in sorted(data):
            value = data[key]
            head = f"{pad}{yaml_scalar(key)}:"
            if _is_block(value):
                lines.append(head)
                lines.extend(_yaml_lines(value, indent + 2))
            else:
                lines.append(f"{head} {_inline(value)}")
        return lines
    if isinstance(data, (list, tuple)):
        if not data:
            return [pad + "[]"]
        lines = []
        for value in data:
            if _is_block(value):
                # The item's first line shares the dash: "- key: v" / "- - v".
                nested = _yaml_lines(value, indent + 2)
                lines.append(f"{pad}- {nested[0][indent + 2 :]}")
                lines.extend(nested[1:])
            else:
                lines.append(f"{pad}- {_inline(value)}")
        return lines
    return [pad + yaml_scalar(data)]


def _is_block(value: Any) -> bool:
    return isinstance(value, (Mapping, list, tuple)) and bool(value)


def _inline(value: Any) -> str:
    """A scalar or an empty collection, on the line of its key or dash."""
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, (list, tuple)):
        return "[]"
    return yaml_scalar(value)
