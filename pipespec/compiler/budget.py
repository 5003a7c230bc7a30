"""Bounds on what a compile renders: per spec and per run, checked before rendering.

The load budgets bound the spec; they cannot bound what it multiplies into. A ``foreach``
over literal items renders the step's command, args and env once per item, so a 79 KB
spec (5,000 items x 50 KB of arguments) would render a 250 MB DAG. The estimate below is
a lower bound of what a target that expands the items writes, computed from the IR in
one pass, so an oversized spec is refused before anything is rendered; the rendered
sizes are then checked too, for what the estimate does not see (every target of a spec,
and all specs of a run, whose outputs stay in memory until they are all written).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipespec import ir
from pipespec.diagnostics import Diagnostic
from pipespec.limits import RAISE_OUTPUT_HINT, RunLimits, format_size
from pipespec.spec.references import Placeholder, Text


def text_size(value: Any) -> int:
    """Characters of text in an IR value (strings in tuples, mappings and dataclasses)."""
    if isinstance(value, str):
        return len(value)
    # The common leaves of a command first: this runs over every argument of every step.
    if isinstance(value, Text):
        return len(value.text)
    if isinstance(value, Placeholder):
        return value.length
    if isinstance(value, (tuple, list)):
        return sum(text_size(v) for v in value)
    if isinstance(value, Mapping):
        return sum(len(str(k)) + text_size(v) for k, v in value.items())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(text_size(getattr(value, f.name)) for f in dataclasses.fields(value))
    return 0


@dataclass(frozen=True)
class StepEstimate:
    step: ir.Step
    items: int  # how many times the step's command, args and env are rendered
    each: int  # characters of command, args and env
    total: int


def estimate_step(step: ir.Step) -> StepEstimate:
    items = step.foreach.items if step.foreach is not None else None
    count = len(items) if items is not None else 1
    each = text_size((step.command, step.args, step.env))
    return StepEstimate(step, count, each, count * each + text_size(items))


@dataclass
class OutputBudget:
    """Tracks one run's rendered bytes against the per-spec and per-run limits."""

    limits: RunLimits
    spent: int = 0
    by_spec: dict[str, int] = field(default_factory=dict)

    def precheck(self, spec: str, pipeline: ir.Pipeline) -> Diagnostic | None:
        """A PS603 if the spec is sure to render more than the per-spec limit."""
        estimates = [estimate_step(s) for s in pipeline.steps]
        total = sum(e.total for e in estimates)
        if total <= self.limits.max_output_bytes:
            return None
        worst = max(estimates, key=lambda e: e.total)
        why = (
            f"step '{worst.step.id}' renders {worst.items} foreach items x "
            f"{worst.each} characters of command, args and env"
            if worst.items > 1
            else f"step '{worst.step.id}' renders {worst.total} characters"
        )
        return self._over("PS603", f"{spec} would generate at least {total} bytes ({why})", worst)

    def add(self, spec: str, pipeline: ir.Pipeline, files: Mapping[str, str]) -> Diagnostic | None:
        """Count one target's rendered files; a PS603/PS604 once a limit is crossed."""
        size = sum(len(text.encode("utf-8", "surrogatepass")) for text in files.values())
        self.by_spec[spec] = self.by_spec.get(spec, 0) + size
        self.spent += size
        within_spec = self.by_spec[spec] <= self.limits.max_output_bytes
        if within_spec and self.spent <= self.limits.max_run_output_bytes:
            return None
        # Over a limit: the step that renders most is where the diagnostic points.
        worst = max((estimate_step(s) for s in pipeline.steps), key=lambda e: e.total)
        if self.by_spec[spec] > self.limits.max_output_bytes:
            return self._over(
                "PS603", f"{spec} generates {self.by_spec[spec]} bytes of output", worst
            )
        if self.spent > self.limits.max_run_output_bytes:
            limit = format_size(self.limits.max_run_output_bytes)
            return Diagnostic(
                "PS604",
                f"this run generates more than {limit} of output (at {spec}); "
                "every spec's files are held until all are written",
                worst.step.span,
                hint=f"compile fewer specs per run, or {RAISE_OUTPUT_HINT} "
                "(a run may write 4 times the per-spec limit)",
            )
        return None

    def _over(self, code: str, message: str, worst: StepEstimate) -> Diagnostic:
        limit = format_size(self.limits.max_output_bytes)
        return Diagnostic(
            code,
            f"{message}; the limit is {limit} per spec",
            worst.step.span,
            hint="foreach items multiply the step's command, args and env: use fewer items "
            f"or pass the list as a param; or {RAISE_OUTPUT_HINT}",
        )
