"""From loaded YAML to a validated ``Spec``, with pydantic's errors turned into diagnostics.

The header and each step are validated apart: a typo in one step must not hide the errors
of another, and the steps that are valid still reach the graph checks.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from pipespec.diagnostics import Diagnostic, Span, did_you_mean
from pipespec.spec import models
from pipespec.spec.errors import translate
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
        diags.extend(translate(exc, (), models.SpecHeader, smap, data))

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

    if result.steps:
        from pipespec.spec.columns import check_samples

        diags.extend(check_samples(loaded, result.steps))
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
        diags.extend(translate(exc, path, model, smap, raw))
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
