"""From loaded YAML to a validated ``Spec``, with pydantic's errors turned into diagnostics.

The header and each step are validated apart: a typo in one step must not hide the errors
of another, and the steps that are valid still reach the graph checks.
"""

from __future__ import annotations

import math
import re
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from pipespec.diagnostics import CODES, Diagnostic, Span, did_you_mean
from pipespec.spec import models
from pipespec.spec.loader import LoadedSpec, NodePath, SourceMap


@dataclass
class ValidatedSpec:
    """A spec whose header and valid steps are models; ``broken_steps`` failed validation."""

    loaded: LoadedSpec
    spec: models.Spec | None
    steps: dict[str, models.StepBase] = field(default_factory=dict)
    broken_steps: set[str] = field(default_factory=set)


_STEP_ADAPTER: TypeAdapter[Any] | None = None


def _step_adapter() -> TypeAdapter[Any]:
    global _STEP_ADAPTER
    if _STEP_ADAPTER is None:
        _STEP_ADAPTER = TypeAdapter(models.Step)
    return _STEP_ADAPTER


def validate_spec(loaded: LoadedSpec) -> tuple[ValidatedSpec, list[Diagnostic]]:
    diags: list[Diagnostic] = []
    data = loaded.data
    smap = loaded.source_map
    result = ValidatedSpec(loaded, None)

    value_faults = check_values(loaded)
    header: models.SpecHeader | None = None
    try:
        header = models.SpecHeader.model_validate(data)
    except ValidationError as exc:
        diags.extend(_translate(exc, (), models.SpecHeader, smap, data))

    raw_steps = data.get("steps")
    if "steps" not in data:
        diags.append(
            Diagnostic(
                "PS201",
                "missing required key 'steps'",
                smap.span(()),
                hint="add `steps:` with at least one step",
            )
        )
    elif not isinstance(raw_steps, dict) or not raw_steps:
        diags.append(
            Diagnostic(
                "PS202" if not isinstance(raw_steps, dict) else "PS201",
                "`steps` must be a mapping of step ids to steps, with at least one step",
                smap.span(("steps",)),
            )
        )
    else:
        for step_id, raw in raw_steps.items():
            step, step_diags = _validate_step(step_id, raw, smap)
            diags.extend(step_diags)
            if step is None:
                result.broken_steps.add(step_id)
            else:
                result.steps[step_id] = step

    _merge_value_faults(result, diags, value_faults)
    if any(f.path[:1] != ("steps",) for f in value_faults):
        header = None  # the spec stays unbuilt, so no faulty value reaches fill or a backend
    if header is not None and not result.broken_steps and result.steps:
        values = {name: getattr(header, name) for name in models.SpecHeader.model_fields}
        values["steps"] = result.steps
        # Already validated piecewise; model_construct avoids a second full validation.
        result.spec = models.Spec.model_construct(
            _fields_set=header.model_fields_set | {"steps"}, **values
        )
    return result, diags


def _validate_step(
    step_id: str, raw: Any, smap: SourceMap
) -> tuple[models.StepBase | None, list[Diagnostic]]:
    path: NodePath = ("steps", step_id)
    diags: list[Diagnostic] = []
    if not re.match(models.STEP_ID_RE, step_id):
        diags.append(
            Diagnostic(
                "PS208",
                f"step id {step_id!r} is not valid",
                smap.key_span(path),
                hint="step ids are lowercase letters, digits, '-' and '_', starting with a letter",
            )
        )
    if not isinstance(raw, dict):
        diags.append(
            Diagnostic(
                "PS202",
                f"step '{step_id}' must be a mapping with at least `kind:`",
                smap.span(path),
            )
        )
        return None, diags
    kind = raw.get("kind")
    if "kind" not in raw:
        diags.append(
            Diagnostic(
                "PS201",
                f"step '{step_id}' has no `kind`",
                smap.key_span(path),
                hint=f"add `kind:` with one of {', '.join(models.STEP_KINDS)}",
            )
        )
        return None, diags
    if not isinstance(kind, str) or kind not in models.STEP_MODELS:
        hint = did_you_mean(str(kind), models.STEP_KINDS) if isinstance(kind, str) else None
        diags.append(
            Diagnostic(
                "PS206",
                f"unknown step kind {kind!r}",
                smap.span((*path, "kind")),
                hint=hint or f"use one of {', '.join(models.STEP_KINDS)}",
            )
        )
        return None, diags
    model = models.STEP_MODELS[kind]
    try:
        step = model.model_validate(raw)
    except ValidationError as exc:
        diags.extend(_translate(exc, path, model, smap, raw))
        return None, diags
    return (step if not diags else None), diags


# --- values every target must be able to carry ------------------------------------------

# Targets store integers as signed 64-bit numbers (Airflow's JSON, Kubernetes, protobuf).
INT_MIN, INT_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class ValueFault:
    """A scalar no target can carry, found anywhere in the document."""

    path: NodePath
    diagnostic: Diagnostic


def check_values(loaded: LoadedSpec) -> list[ValueFault]:
    """NUL in any string or key, integers beyond 64 bits, infinities and NaN.

    Checked on the whole document, not per model field, so that no value escapes by
    sitting where a field takes anything (a param default, a hyperparameter, a list item).
    NUL is refused rather than escaped: no orchestrator passes it through a command or an
    environment variable, and the renderers use it as a marker of their own.
    """
    smap = loaded.source_map
    faults: list[ValueFault] = []
    stack: list[tuple[NodePath, Any]] = [((), loaded.data)]
    lines: list[str] | None = None  # split once, and only when a number needs showing
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and "\x00" in key:
                    faults.append(_nul_fault((*path, key), smap.key_span((*path, key)), "key"))
                stack.append(((*path, key), item))
        elif isinstance(value, list):
            stack.extend(((*path, i), item) for i, item in enumerate(value))
        elif isinstance(value, str) and "\x00" in value:
            faults.append(_nul_fault(path, smap.span(path), "string"))
        elif isinstance(value, bool):
            continue
        elif (isinstance(value, int) and not INT_MIN <= value <= INT_MAX) or (
            isinstance(value, float) and not math.isfinite(value)
        ):
            span = smap.span(path)
            lines = lines if lines is not None else loaded.text.splitlines()
            shown = _source_text(lines, span) or repr(value)
            if len(shown) > 24:
                shown = f"{shown[:20]}... ({len(shown)} characters)"
            message = f"{_where(path)}: the number {shown} is out of range"
            hint = (
                f"integers are at most {INT_MAX} either way and numbers are finite "
                "(no .inf or .nan): every target stores them so"
            )
            faults.append(ValueFault(path, Diagnostic("PS213", message, span, hint=hint)))
    return faults


def _nul_fault(path: NodePath, span: Span, what: str) -> ValueFault:
    message = f"{_where(path)}: the {what} contains a NUL character (\\0)"
    hint = "remove it: no orchestrator passes NUL through a command or environment"
    return ValueFault(path, Diagnostic("PS214", message, span, hint=hint))


def _holds(outer: Span, inner: Span) -> bool:
    start = (outer.line, outer.col)
    if outer.end_line is None or outer.end_col is None:
        return start == (inner.line, inner.col)
    return start <= (inner.line, inner.col) < (outer.end_line, outer.end_col)


def _where(path: NodePath) -> str:
    # Keys are shown escaped: a NUL or a newline in one must not reach the terminal raw.
    parts = (str(p).encode("unicode_escape").decode("ascii") for p in path)
    return f"'{'.'.join(parts)}'" if path else "the spec"


def _source_text(lines: list[str], span: Span) -> str | None:
    """The scalar as written, when it sits on one line (it is shown as the user wrote it)."""
    if span.end_line not in (None, span.line) or span.end_col is None:
        return None
    if not 0 < span.line <= len(lines):
        return None
    return lines[span.line - 1][span.col - 1 : span.end_col - 1] or None


def _merge_value_faults(
    result: ValidatedSpec, diags: list[Diagnostic], faults: list[ValueFault]
) -> None:
    """Value faults replace what the models said at the same place; their steps are broken."""
    if not faults:
        return
    places = [f.diagnostic.span for f in faults if f.diagnostic.span is not None]
    # What the models said about a faulty value, or a list or mapping holding one, is its echo.
    diags[:] = [d for d in diags if d.span is None or not any(_holds(d.span, p) for p in places)]
    diags.extend(f.diagnostic for f in faults)
    for fault in faults:
        if len(fault.path) >= 2 and fault.path[0] == "steps":
            sid = str(fault.path[1])
            if result.steps.pop(sid, None) is not None:
                result.broken_steps.add(sid)


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


def _model_at(root: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model class that owns the last key of ``loc``, for 'did you mean' suggestions."""
    current: Any = root
    for part in loc:
        model = _as_model(current)
        if model is not None and isinstance(part, str) and part in model.model_fields:
            current = model.model_fields[part].annotation
            continue
        current = _container_item(current)
        if current is None:
            return None
    return _as_model(current)


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


def _translate(
    exc: ValidationError,
    prefix: NodePath,
    root_model: type[BaseModel],
    smap: SourceMap,
    data: Any,
) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    for err in exc.errors(include_url=False):
        etype: str = err["type"]
        loc = _clean_loc(err["loc"], data)
        path = (*prefix, *loc)
        name = str(loc[-1]) if loc else None
        value = _value_at(data, loc)
        where = f"'{'.'.join(str(p) for p in path)}'" if path else "the spec"
        if etype == "extra_forbidden":
            diags.append(_unknown_key(root_model, loc, path, str(name), smap))
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
            diags.append(Diagnostic(etype, f"{where}: {err['msg']}", smap.span(path)))
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


def _unknown_key(
    root_model: type[BaseModel], loc: NodePath, path: NodePath, name: str, smap: SourceMap
) -> Diagnostic:
    owner = _model_at(root_model, loc[:-1])
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
