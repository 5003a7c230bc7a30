"""`pipespec explain`: a step's complete form, field by field, with where each value came from.

Every field a backend reads is listed: what the step runs, its inputs and outputs, when and
how often it runs (`when`, `foreach`, `after`), its secrets, resources and retries, its
kind's own fields and its per-target settings. A value the user wrote is `user`, always,
whatever fill merged around it; the other sources are `default` (the spec's `defaults:`),
`kind` (what the step kind implies), `catalog:...`, `llm:...` and `pipespec`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

from pipespec import ir
from pipespec.spec import units

Row = tuple[str, str, str]


def _text(segments: tuple[Any, ...]) -> str:
    return "".join(str(s.text) if hasattr(s, "text") else str(s) for s in segments)


def _json(value: Any) -> str:
    return json.dumps(ir.thaw(value), sort_keys=True, ensure_ascii=False)


def _written(written: Mapping[str, Any], field: str) -> bool:
    """Whether the user wrote ``field`` (a dotted path such as ``hyperparameters.eta``)."""
    node: Any = written
    for part in field.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


class _Sources:
    """The source of each field: `user` where the user wrote it, else the provenance."""

    def __init__(self, step: ir.Step, written: Mapping[str, Any]) -> None:
        self.provenance = step.provenance
        self.written = written

    def __call__(self, field: str, *fallbacks: str) -> str:
        if _written(self.written, field):
            return "user"
        for name in (field, *fallbacks):
            if name in self.provenance:
                source = str(self.provenance[name])
                # "user+catalog:..." describes a merged mapping; a key the user did not
                # write came from the other part.
                return source.removeprefix("user+")
        return ""


def _run_rows(step: ir.Step, src: _Sources) -> list[Row]:
    rows: list[Row] = [("image", step.image or "(none)", src("image"))]
    for target, image in step.target_images.items():
        rows.append((f"image.{target}", str(image), src(f"image.{target}")))
    if step.command:
        rows.append(("command", json.dumps([_text(a) for a in step.command]), src("command")))
    if step.script is not None:
        rows.append(
            ("script", f"{step.script.name} (sha256 {step.script.sha256[:12]})", src("script"))
        )
        rows.append(("args", json.dumps([_text(a) for a in step.args]), src("args")))
    return rows


def _flow_rows(step: ir.Step, src: _Sources) -> list[Row]:
    """Inputs, outputs and what decides when (and how often) the step runs."""
    rows: list[Row] = []
    for put in step.inputs:
        rows.append((f"inputs.{put.name}", f"{put.source} ({put.type})", "user"))
    for out in step.outputs:
        rows.append((f"outputs.{out.name}", out.type, src(f"outputs.{out.name}") or "kind"))
    if step.after:
        rows.append(("after", json.dumps(list(step.after)), src("after") or "user"))
    if step.else_of is not None:
        rows.append(("else_of", step.else_of, "user"))
    elif step.condition_text is not None:
        rows.append(("when", step.condition_text, "user"))
    if step.trigger != "all_success":
        rows.append(("trigger", step.trigger, "user"))
    if step.foreach is not None:
        each = step.foreach
        if each.items is not None:
            shown = _json(each.items)
        elif each.param is not None:
            shown = f"params.{each.param}"
        else:
            shown = str(each.ref)
        rows.append(("foreach", shown, "user"))
        if each.parallelism is not None:
            rows.append(("parallelism", str(each.parallelism), "user"))
    return rows


def _pod_rows(step: ir.Step, src: _Sources) -> list[Row]:
    """Resource limits, placement and caching (issue 10's pod and run control)."""
    r = step.resources
    rows: list[Row] = []
    # A limit the step did not write can only have come from `defaults.resources.limits`.
    if r.cpu_limit is not None:
        cpu = units.format_cpu(r.cpu_limit)
        rows.append(("resources.limits.cpu", cpu, src("resources.limits.cpu") or "default"))
    if r.memory_limit_bytes is not None:
        memory = units.format_quantity(r.memory_limit_bytes)
        where = src("resources.limits.memory") or "default"
        rows.append(("resources.limits.memory", memory, where))
    for label, value in step.node_selector.items():
        rows.append((f"node_selector.{label}", str(value), src(f"node_selector.{label}")))
    if step.tolerations:
        rows.append(("tolerations", _json(step.tolerations), src("tolerations")))
    for name in ("service_account", "cache"):
        value = getattr(step, name)
        if value is not None:
            rows.append((name, json.dumps(value) if name == "cache" else value, src(name)))
    return rows


def _environment_rows(
    step: ir.Step, src: _Sources, secret_platforms: Mapping[str, tuple[str, ...]]
) -> list[Row]:
    rows: list[Row] = []
    for name, value in step.env:
        rows.append((f"env.{name}", _text(value), src(f"env.{name}")))
    for use in step.secrets:
        platforms = secret_platforms.get(use.secret, ())
        shown = use.secret + (f" (on {', '.join(platforms)})" if platforms else "")
        rows.append((f"secrets.{use.env}", shown, src(f"secrets.{use.env}") or "user"))
    r = step.resources
    resource_rows: tuple[tuple[str, object], ...] = (
        ("cpu", units.format_cpu(r.cpu) if r.cpu is not None else None),
        ("memory", units.format_quantity(r.memory_bytes) if r.memory_bytes is not None else None),
        ("gpu", r.gpu or None),
        ("accelerator", r.accelerator),
    )
    for name, amount in resource_rows:
        if amount is not None:
            rows.append((f"resources.{name}", str(amount), src(f"resources.{name}", "resources")))
    rows.extend(_pod_rows(step, src))
    rows.append(("retries", str(step.retries), src("retries") or "pipespec default"))
    if step.retry_delay_s is not None:
        rows.append(("retry_delay", f"{step.retry_delay_s}s", src("retry_delay")))
    if step.timeout_s is not None:
        rows.append(("timeout", f"{step.timeout_s}s", src("timeout")))
    return rows


def _detail_rows(step: ir.Step, src: _Sources) -> list[Row]:
    rows: list[Row] = []
    for name, value in step.details.items():
        plain = ir.thaw(value)
        if isinstance(plain, dict) and name == "hyperparameters":
            for key, item in plain.items():
                rows.append((f"{name}.{key}", json.dumps(item), src(f"{name}.{key}", name)))
            continue
        shown = plain if isinstance(plain, str) else json.dumps(plain, sort_keys=True)
        rows.append((name, shown, src(name)))
    for target, settings in step.target_overrides.items():
        for key, value in ir.thaw(settings).items():
            shown = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            rows.append((f"targets.{target}.{key}", shown, "user"))
    return rows


def explain_rows(
    step: ir.Step,
    written: Mapping[str, Any] | None = None,
    secret_platforms: Mapping[str, tuple[str, ...]] | None = None,
) -> list[Row]:
    """(field, value, source) for every field of the step's complete form.

    ``written`` is the step as the user wrote it (its mapping in the spec): any field found
    there is reported as `user`. ``secret_platforms`` names, per pipeline secret, the
    platforms it is declared for.
    """
    src = _Sources(step, written or {})
    rows: list[Row] = [("kind", step.kind, "user")]
    if step.description:
        rows.append(("description", step.description, src("description") or "user"))
    rows += _run_rows(step, src)
    rows += _flow_rows(step, src)
    rows += _environment_rows(step, src, secret_platforms or {})
    rows += _detail_rows(step, src)
    return rows


def explain_step(
    step: ir.Step,
    written: Mapping[str, Any] | None = None,
    pipeline: ir.Pipeline | None = None,
) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    platforms = {s.name: tuple(s.platforms) for s in pipeline.secrets} if pipeline else {}
    table = Table(title=f"step {step.id}", show_lines=False)
    table.add_column("field", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("source", no_wrap=True)
    for name, value, source in explain_rows(step, written, platforms):
        # Text, not markup: a spec's "[bold]" or "[/]" is shown as written.
        table.add_row(Text(name), Text(value), Text(source or "-"))
    buffer = io.StringIO()
    Console(file=buffer, width=120, color_system=None).print(table)
    return buffer.getvalue()
