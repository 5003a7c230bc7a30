"""Completeness: a step reaches a backend only in its complete form (its kind's schema)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipespec import ir
from pipespec.diagnostics import Diagnostic


def complete_form(step: ir.Step) -> dict[str, Any]:
    """The fields the complete-form schema judges, as plain data."""
    form: dict[str, Any] = {"kind": step.kind, **ir.thaw(step.details)}
    if step.image is not None:
        form["image"] = step.image
    if step.command:
        form["command"] = ["".join(str(s) for s in arg) for arg in step.command]
    if step.script is not None:
        form["script"] = step.script.name
    return form


def _never(step: ir.Step) -> bool:
    return False


def check_complete(
    pipeline: ir.Pipeline, runs_natively: Callable[[ir.Step], bool] = _never
) -> list[Diagnostic]:
    """PS500 for each step short of its kind's complete form. ``runs_natively`` names the
    steps a target runs as its own services (a deploy on Vertex): they need no image or
    command, only their kind's own fields."""
    from pipespec.schemas import complete_form_shortfall

    diags: list[Diagnostic] = []
    for step in pipeline.steps:
        shortfall = complete_form_shortfall(step.kind, complete_form(step))
        if shortfall.complete:
            continue
        if runs_natively(step) and not shortfall.other and set(shortfall.missing) <= {"image"}:
            continue
        parts = [f"`{name}`" for name in shortfall.missing]
        if shortfall.runnable:
            parts.append("`command` or `script`")
        other = [f"{p}: {m}" for p, m in shortfall.other]
        message = f"step '{step.id}' is incomplete"
        if parts:
            message += ": it needs " + ", ".join(parts)
        if other:
            message += "; " + "; ".join(other)
        diags.append(Diagnostic("PS500", message, step.span, hint=_hint(step, shortfall.missing)))
    return diags


def _hint(step: ir.Step, missing: tuple[str, ...]) -> str:
    """Point at `pipespec fill` only where fill can still supply what is missing.

    Compile has already applied the catalog and the lock by now, so what is left for fill
    is an LLM writing the script of a step described in prose.
    """
    from pipespec.fill.engine import LLM_KINDS

    if step.kind in LLM_KINDS and step.description and not step.command and not step.script:
        return "run `pipespec fill` to have an LLM write the step's script, or write the fields"
    if step.kind == "monitor" and not step.command and step.script is None:
        from pipespec.fill.catalog_monitor import drift_check_hint

        names = {i.name for i in step.inputs}
        hint = drift_check_hint(names, step.details.get("drift") is not None)
        if hint is not None:
            return hint
    if step.kind in ("train", "tune") and not (
        step.details.get("framework") and step.details.get("task")
    ):
        return "write `framework:` and `task:` so `pipespec fill` can complete it, or the fields"
    if "image" in missing:
        return (
            "add `image:` to the step or under `defaults:` (`pipespec fill` chooses images "
            "only for the steps it completes)"
        )
    return "write the missing fields"
