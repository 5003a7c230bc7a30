"""`pipespec explain`: a step's complete form, field by field, with where each value came from."""

from __future__ import annotations

import io
import json
from typing import Any

from pipespec.compiler import ir
from pipespec.spec import units


def _text(segments: tuple[Any, ...]) -> str:
    return "".join(str(s.text) if hasattr(s, "text") else str(s) for s in segments)


def explain_rows(step: ir.Step) -> list[tuple[str, str, str]]:
    prov = step.provenance

    def src(name: str, fallback: str = "") -> str:
        return str(prov.get(name, fallback))

    rows: list[tuple[str, str, str]] = [("kind", step.kind, "user")]
    if step.description:
        rows.append(("description", step.description, src("description", "user")))
    rows.append(("image", step.image or "(none)", src("image", "")))
    for target, image in step.target_images.items():
        rows.append((f"image.{target}", str(image), src(f"image.{target}", "")))
    if step.command:
        rows.append(("command", json.dumps([_text(a) for a in step.command]), src("command")))
    if step.script is not None:
        rows.append(
            ("script", f"{step.script.name} (sha256 {step.script.sha256[:12]})", src("script"))
        )
        rows.append(("args", json.dumps([_text(a) for a in step.args]), src("args")))
    for name, value in step.env:
        rows.append((f"env.{name}", _text(value), src(f"env.{name}")))
    for use in step.secrets:
        rows.append((f"secrets.{use.env}", use.secret, src(f"secrets.{use.env}", "user")))
    r = step.resources
    resource_rows: tuple[tuple[str, object], ...] = (
        ("cpu", units.format_cpu(r.cpu) if r.cpu is not None else None),
        ("memory", units.format_quantity(r.memory_bytes) if r.memory_bytes is not None else None),
        ("gpu", r.gpu or None),
        ("accelerator", r.accelerator),
    )
    for name, shown in resource_rows:
        if shown is not None:
            rows.append(
                (f"resources.{name}", str(shown), src(f"resources.{name}", src("resources")))
            )
    rows.append(("retries", str(step.retries), src("retries", "pipespec default")))
    if step.retry_delay_s is not None:
        rows.append(("retry_delay", f"{step.retry_delay_s}s", src("retry_delay")))
    if step.timeout_s is not None:
        rows.append(("timeout", f"{step.timeout_s}s", src("timeout")))
    for name, value in step.details.items():
        plain = ir.thaw(value)
        if isinstance(plain, dict) and name == "hyperparameters":
            for key, item in plain.items():
                rows.append((f"{name}.{key}", json.dumps(item), src(f"{name}.{key}", src(name))))
            continue
        shown = plain if isinstance(plain, str) else json.dumps(plain, sort_keys=True)
        rows.append((name, shown, src(name)))
    return rows


def explain_step(step: ir.Step) -> str:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"step {step.id}", show_lines=False)
    table.add_column("field", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("source", no_wrap=True)
    for name, value, source in explain_rows(step):
        table.add_row(name, value, source or "-")
    buffer = io.StringIO()
    Console(file=buffer, width=120, color_system=None).print(table)
    return buffer.getvalue()
