"""Portability, one mechanism for every target: the features a pipeline uses (IR) x the
target's capability table give both the diagnostics and `pipespec explain --target`.

- unsupported: PS605, an error ("will not compile"): nothing is rendered.
- emulated: PS606, a warning ("behaves differently"); `--strict` makes it an error.
- native: nothing to say; the report shows how the target expresses it.

A hint names other targets only when they are installed and express the feature natively
(never a planned target that does not exist here).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from pipespec import ir
from pipespec.backends.base import Backend, Capability, Options, Support
from pipespec.diagnostics import Diagnostic, Severity, Span
from pipespec.ir.features import features_used


@dataclass(frozen=True)
class FeatureUse:
    """One row of the portability report."""

    feature: ir.Feature
    steps: tuple[str, ...]  # empty for a pipeline-level feature (params, schedule)
    capability: Capability


def report(pipeline: ir.Pipeline, backend: Backend, options: Options) -> list[FeatureUse]:
    """Each feature the pipeline uses, the steps using it and how ``backend`` expresses it
    under ``options``, in the order of ``ir.Feature``."""
    return [
        FeatureUse(feature, tuple(s.id for s in steps), backend.capability(feature, options))
        for feature, steps in features_used(pipeline, backend.name).items()
    ]


def check(pipeline: ir.Pipeline, backend: Backend, options: Options) -> list[Diagnostic]:
    """PS605 for each unsupported feature, PS606 for each emulated one, at the first step
    that uses it (the others as related spans) or, for a pipeline-level feature, at the
    top of the spec."""
    used = features_used(pipeline, backend.name)
    diags: list[Diagnostic] = []
    for feature, steps in used.items():
        cap = backend.capability(feature, options)
        if cap.support is Support.NATIVE:
            continue
        diags.append(_diagnostic(pipeline, backend.name, feature, steps, cap))
    return diags


def _diagnostic(
    pipeline: ir.Pipeline,
    target: str,
    feature: ir.Feature,
    steps: list[ir.Step],
    cap: Capability,
) -> Diagnostic:
    who = _who(steps)
    if cap.support is Support.UNSUPPORTED:
        message = f"{who} {feature.value}, which {target} cannot express: {cap.how}"
        code, severity = "PS605", Severity.ERROR
    else:
        message = f"{who} {feature.value}; on {target} it behaves differently: {cap.how}"
        code, severity = "PS606", Severity.WARNING
    span = steps[0].span if steps else _top(pipeline)
    related = tuple((s.span, f"step '{s.id}' uses it too") for s in steps[1:])
    return Diagnostic(code, message, span, _hint(feature, target), severity, related)


def _who(steps: list[ir.Step]) -> str:
    if not steps:
        return "the pipeline uses"
    if len(steps) == 1:
        return f"step '{steps[0].id}' uses"
    return "steps " + ", ".join(f"'{s.id}'" for s in steps) + " use"


def _top(pipeline: ir.Pipeline) -> Span:
    # A pipeline-level feature points at the spec itself, so a CI annotation has a file.
    return Span(pipeline.steps[0].span.file, 1, 1)


def _hint(feature: ir.Feature, target: str) -> str | None:
    others = [name for name in native_targets(feature) if name != target]
    if not others:
        return None
    return f"installed targets that express it natively: {', '.join(others)}"


def native_targets(feature: ir.Feature) -> list[str]:
    """Installed targets whose table (under default options) says native for ``feature``."""
    return [name for name, table in _installed_tables().items() if _is_native(table, feature)]


def _is_native(table: Mapping[ir.Feature, Capability], feature: ir.Feature) -> bool:
    cap = table.get(feature)
    return cap is not None and cap.support is Support.NATIVE


@cache
def _installed_tables() -> dict[str, Mapping[ir.Feature, Capability]]:
    from pipespec import backends

    tables: dict[str, Mapping[ir.Feature, Capability]] = {}
    for name in sorted(backends.available()):
        try:
            tables[name] = backends.backend_class(name).capabilities
        except backends.BackendError:  # a broken plugin offers no hint (its compile says why)
            continue
    return tables


# --- the report, as `pipespec explain SPEC --target T` prints it ---------------------------


def report_json(target: str, rows: list[FeatureUse]) -> str:
    data = {
        "target": target,
        "features": [
            {
                "feature": row.feature.name.lower(),
                "description": row.feature.value,
                "steps": list(row.steps),
                "support": row.capability.support.value,
                "how": row.capability.how,
            }
            for row in rows
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def report_human(pipeline_name: str, target: str, rows: list[FeatureUse]) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"pipeline {pipeline_name} on {target}", show_lines=False)
    table.add_column("feature", overflow="fold")
    table.add_column("steps", overflow="fold")
    table.add_column("support", no_wrap=True)
    table.add_column(f"how {target} expresses it", overflow="fold")
    for row in rows:
        steps = ", ".join(row.steps) if row.steps else "(pipeline)"
        # Text, not markup: step ids and descriptions are shown as written.
        table.add_row(
            Text(row.feature.value),
            Text(steps),
            Text(row.capability.support.value),
            Text(row.capability.how),
        )
    buffer = io.StringIO()
    Console(file=buffer, width=140, color_system=None).print(table)
    return buffer.getvalue()
