"""YAML 1.2 core-schema scalars: which tags are allowed and what a plain scalar means."""

from __future__ import annotations

import math
import re
from typing import Any

CORE = "tag:yaml.org,2002:"
ALLOWED_TAGS = {
    None,
    "!",
    f"{CORE}str",
    f"{CORE}int",
    f"{CORE}float",
    f"{CORE}bool",
    f"{CORE}null",
    f"{CORE}map",
    f"{CORE}seq",
}

# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
# Longer integers than int() converts read as floats (inf), which validation reports (PS213).
_INT10 = re.compile(r"^[-+]?[0-9]{1,4300}$")
_INT8 = re.compile(r"^0o[0-7]+$")
_INT16 = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")


_MAYBE_NOT_STR = frozenset("0123456789+-.~nNtTfF")


def resolve_plain(value: str) -> Any:
    if value and value[0] not in _MAYBE_NOT_STR:
        return value  # no core-schema null, bool, int or float starts otherwise
    if _NULL.match(value):
        return None
    if value in _BOOL:
        return _BOOL[value]
    if _INT10.match(value):
        return int(value)
    if _INT8.match(value):
        return int(value[2:], 8)
    if _INT16.match(value):
        return int(value[2:], 16)
    if _FLOAT.match(value):
        return float(value)
    if _INF.match(value):
        return -math.inf if value.startswith("-") else math.inf
    if _NAN.match(value):
        return math.nan
    return value


def type_word(value: Any, *, yaml_name: bool = False) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool" if yaml_name else "a boolean"
    if isinstance(value, int):
        return "int" if yaml_name else "an integer"
    if isinstance(value, float):
        return "float" if yaml_name else "a number"
    return "str" if yaml_name else "a string"


def short_tag(tag: str | None) -> str:
    if tag and tag.startswith(CORE):
        return "!!" + tag[len(CORE) :]
    return str(tag)
