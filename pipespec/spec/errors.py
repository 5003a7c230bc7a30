"""pydantic's validation errors as diagnostics: a code, a message in the spec's terms, the
span of the key or value at fault, and a hint ("did you mean" for an unknown key).

Used for the spec's own models and for each backend's options model (``targets.<name>``).
"""

from __future__ import annotations

import math
import re
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from pipespec.diagnostics import CODES, Diagnostic, Span, did_you_mean
from pipespec.spec import models
from pipespec.spec.loader import NodePath, SourceMap

M = TypeVar("M", bound=BaseModel)

# --- pydantic error -> diagnostic ---------------------------------------------------------

_FIELD_OF_CODE = {"PS209": "default", "PS405": "foreach"}
# Model-level PS203 checks name the field they are about in their message.
_FIELD_IN_MESSAGE = ("args", "script", "command")

_TYPE_WORDS = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "literal_error": None,
}


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _value_at(data: Any, loc: Sequence[str | int]) -> Any:
    for part in loc:
        if isinstance(data, dict) and part in data:  # noqa: SIM114 - the branches narrow differently
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _clean_loc(loc: Sequence[str | int], data: Any) -> tuple[str | int, ...]:
    """Drop the parts pydantic adds that are not keys of the document (union branches)."""
    out: list[str | int] = []
    cursor = data
    for part in loc:
        if isinstance(cursor, dict) and part in cursor:
            out.append(part)
            cursor = cursor[part]
        elif isinstance(cursor, list) and isinstance(part, int):
            out.append(part)
            cursor = cursor[part] if 0 <= part < len(cursor) else None
        elif cursor is not None and not isinstance(cursor, (dict, list)):
            break
        else:
            # A key that does not exist: 'missing' and 'extra' errors name it; keep it last.
            if isinstance(cursor, dict) and isinstance(part, str) and "[" not in part:
                out.append(part)
                cursor = None
            continue
    return tuple(out)


def _model_at(
    root: type[BaseModel], loc: Sequence[str | int], written: Any = None
) -> type[BaseModel] | None:
    """The model class that owns the last key of ``loc``, for 'did you mean' suggestions;
    of several (a union), the one that has the most of the keys ``written`` there."""
    current: Any = root
    for part in loc:
        model = _as_model(current)
        if model is not None and isinstance(part, str) and part in model.model_fields:
            current = model.model_fields[part].annotation
            continue
        current = _container_item(current)
        if current is None:
            return None
    keys = set(written) if isinstance(written, dict) else set()
    models_here = [
        option
        for option in _unwrap(current)
        if isinstance(option, type) and issubclass(option, BaseModel)
    ]
    # max() keeps the first of equals: a single model, or no key in common, as before.
    return max(models_here, key=lambda m: len(keys & set(m.model_fields)), default=None)


def _unwrap(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            out.extend(_unwrap(arg))
        return out
    return [annotation]


def _as_model(annotation: Any) -> type[BaseModel] | None:
    for option in _unwrap(annotation):
        if isinstance(option, type) and issubclass(option, BaseModel):
            return option
    return None


def _container_item(annotation: Any) -> Any:
    for option in _unwrap(annotation):
        origin = typing.get_origin(option)
        if origin is dict:
            return typing.get_args(option)[1]
        if origin is list:
            return typing.get_args(option)[0]
    return None


def validate_block(
    model: type[M], data: Any, path: NodePath, smap: SourceMap
) -> tuple[M | None, list[Diagnostic]]:
    """``data``, the node at ``path``, as ``model``; or the diagnostics saying why not, at
    the spans of the keys and values at fault (a backend's ``targets.<name>`` block, say)."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, translate(exc, path, model, smap, data)


def translate(
    exc: ValidationError,
    prefix: NodePath,
    root_model: type[BaseModel],
    smap: SourceMap,
    data: Any,
) -> list[Diagnostic]:
    """Each of pydantic's errors as a diagnostic: its code, its message in the spec's terms,
    the span of the node at fault (``prefix`` is where ``data`` sits) and a hint."""
    diags: list[Diagnostic] = []
    for err in exc.errors(include_url=False):
        etype: str = err["type"]
        loc = _clean_loc(err["loc"], data)
        path = (*prefix, *loc)
        name = str(loc[-1]) if loc else None
        value = _value_at(data, loc)
        where = f"'{'.'.join(str(p) for p in path)}'" if path else "the spec"
        if etype == "extra_forbidden":
            written = _value_at(data, loc[:-1])
            diags.append(_unknown_key(root_model, loc, path, str(name), smap, written))
        elif etype == "missing":
            diags.append(
                Diagnostic(
                    "PS201",
                    f"missing required key '{name}'",
                    smap.key_span(path[:-1]) if len(path) > 1 else smap.span(()),
                    hint=f"add `{name}:`",
                )
            )
        elif etype in CODES:  # our own validators raise with a diagnostic code as the type
            path = _judged_field(etype, err["msg"], path, value)
            span = _inside(smap, path, err.get("ctx") or {})
            diags.append(Diagnostic(etype, f"{where}: {err['msg']}", span))
        elif etype == "literal_error":
            diags.append(_not_a_choice(err, path, value, where, smap))
        elif etype == "string_pattern_mismatch":
            pattern = err.get("ctx", {}).get("pattern")
            code = "PS208" if name in ("name",) or (path and path[0] == "params") else "PS203"
            diags.append(
                Diagnostic(
                    code,
                    f"{where}: {_describe(value)} does not match {pattern}",
                    smap.key_span(path) if "[key]" in err["loc"] else smap.span(path),
                    hint=_pattern_hint(str(err.get("ctx", {}).get("pattern", ""))),
                )
            )
        elif etype in _TYPE_WORDS or etype.endswith("_type"):
            diags.append(_wrong_type(etype, path, value, where, smap))
        else:
            diags.append(Diagnostic("PS203", f"{where}: {err['msg']}", smap.span(path)))
    return diags


def _inside(smap: SourceMap, path: NodePath, ctx: Mapping[str, Any]) -> Span:
    """The value's span, or the part of it a validator named (ctx `column`, `width`).

    Only a one-line plain or quoted scalar maps characters to columns one to one (escapes
    aside); any other keeps the whole value's span.
    """
    span = smap.span(path)
    info = smap.info(path)
    column, width = ctx.get("column"), ctx.get("width")
    if info is None or not isinstance(column, int) or info.style not in ("", "'", '"'):
        return span
    if span.end_line not in (None, span.line):
        return span
    return span.shifted(
        column + (1 if info.style else 0), width if isinstance(width, int) else None
    )


def _unknown_key(
    root_model: type[BaseModel],
    loc: NodePath,
    path: NodePath,
    name: str,
    smap: SourceMap,
    written: Any,
) -> Diagnostic:
    owner = _model_at(root_model, loc[:-1], written)
    hint = did_you_mean(name, owner.model_fields) if owner else None
    if hint is None and owner is not None:
        allowed = ", ".join(k for k in owner.model_fields if k != "kind")
        hint = f"allowed keys here: {allowed}"
    return Diagnostic("PS200", f"unknown key '{name}'", smap.key_span(path), hint=hint)


def _judged_field(etype: str, message: str, path: NodePath, value: Any) -> NodePath:
    """Model-level validators report on the model; the path of the field they judge."""
    if etype in _FIELD_OF_CODE and isinstance(value, dict):
        field_name = _FIELD_OF_CODE[etype]
        if field_name in value:
            return (*path, field_name)
    elif etype == "PS203" and isinstance(value, dict):
        named = [f for f in _FIELD_IN_MESSAGE if f"`{f}`" in message and f in value]
        if named:
            return (*path, named[0])
    return path


def _not_a_choice(
    err: ErrorDetails, path: NodePath, value: Any, where: str, smap: SourceMap
) -> Diagnostic:
    expected = err.get("ctx", {}).get("expected", "")
    options = [o.strip().strip("'") for o in str(expected).replace(" or ", ",").split(",")]
    options = [o for o in options if o]
    hint = did_you_mean(str(value), options) if isinstance(value, str) else None
    code = "PS207" if path == ("pipespec",) else "PS203"
    if not isinstance(value, str) and str(value) in options and code == "PS203":
        return Diagnostic(
            "PS202",
            f"{where} must be a string, not {_describe(value)}",
            smap.span(path),
            hint=f"quote it: '{value}'",
        )
    return Diagnostic(
        code,
        f"{where} must be one of {expected}, not {_describe(value)}",
        smap.span(path),
        hint=hint or ("this compiler reads `pipespec: 1`" if code == "PS207" else None),
    )


def _wrong_type(etype: str, path: NodePath, value: Any, where: str, smap: SourceMap) -> Diagnostic:
    wanted = _TYPE_WORDS.get(etype) or etype.removesuffix("_type")
    hint = None
    if isinstance(value, str) and etype in ("int_type", "float_type"):
        hint = _number_hint(value, etype)
    elif isinstance(value, (int, float)) and etype == "string_type":
        hint = f"quote it: '{value}'"
    return Diagnostic(
        "PS202", f"{where} must be {wanted}, not {_describe(value)}", smap.span(path), hint=hint
    )


# What YAML 1.2 reads as a number once unquoted (the loader's core-schema forms, kept short).
_INT_TEXT = re.compile(r"[-+]?[0-9]{1,18}")
_FLOAT_TEXT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]{1,3})?")


def _number_hint(text: str, etype: str) -> str:
    """Drop the quotes only from text that reads as the number wanted once unquoted."""
    if etype == "int_type":
        if _INT_TEXT.fullmatch(text):
            return f"write {text} without quotes"
        return "write a whole number, such as 2"
    if len(text) <= 40 and _FLOAT_TEXT.fullmatch(text) and math.isfinite(float(text)):
        return f"write {text} without quotes"
    return "write a number, such as 0.5"


def _pattern_hint(pattern: str) -> str | None:
    hints = {
        models.NAME_RE: "use lowercase letters, digits and '-', starting with a letter",
        models.IDENT_RE: "use lowercase letters, digits and '_', starting with a letter",
        models.STEP_ID_RE: "use lowercase letters, digits, '-' and '_', starting with a letter",
        models.ENV_RE: "environment variable names are letters, digits and '_'",
    }
    return hints.get(pattern)
