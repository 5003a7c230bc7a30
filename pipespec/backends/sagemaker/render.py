"""The SageMaker render: the definition, the upsert file and the code files beside it.

Files, under ``generated/sagemaker/``:

- ``<name>.json``: the pipeline definition (Version 2020-12-01);
- ``<name>.upsert.json``: what creating or updating the pipeline needs besides it
  (``upsert.py``): the CreatePipeline arguments, the code files and the S3 URIs they go to,
  the schedule;
- ``<name>/code/<entry>/<file>``: each code file to upload (scripts, the launcher and its
  plans), in a folder named after the entry that reads it, as the manifest in the upsert
  file lists them.
"""

from __future__ import annotations

from typing import Any

from pipespec import ir
from pipespec.backends import RenderResult
from pipespec.backends.emit import to_json
from pipespec.backends.layout import output_path
from pipespec.backends.sagemaker.context import Context
from pipespec.backends.sagemaker.definition import definition
from pipespec.backends.sagemaker.images import outside_ecr
from pipespec.backends.sagemaker.options import SagemakerOptions, default_bucket
from pipespec.backends.sagemaker.schedule import UnsupportedSchedule
from pipespec.backends.sagemaker.upsert import UnsafeUpload, upsert_text
from pipespec.diagnostics import Diagnostic, Severity, Span


def _notes(ctx: Context) -> list[Diagnostic]:
    """The builders' findings, once per spec step (an unrolled step's copies find the same)."""
    found: list[Diagnostic] = []
    seen: set[tuple[str, str]] = set()
    problems = [(s, m, Severity.ERROR) for s, m in ctx.errors]
    problems += [(s, m, Severity.WARNING) for s, m in ctx.warnings]
    for step, message, severity in problems:
        sid = ctx.origin.get(step.id, step.id)
        if (sid, message) in seen:
            continue
        seen.add((sid, message))
        code = "PS600" if severity is Severity.ERROR else "PS606"
        text = f"step '{sid}' on SageMaker: {message}"
        found.append(Diagnostic(code, text, step.span, None, severity))
    return found


def _images_outside_ecr(ctx: Context, doc: dict[str, Any]) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    by_id = {s.id: s for s in ctx.pipeline.steps}

    def owner(name: str) -> ir.Step:
        """The spec step an entry comes from: a copy's origin, the step itself, or the
        step whose extra entry it is (``<id>-<suffix>``)."""
        name = ctx.origin.get(name, name)
        if name in by_id:
            return by_id[name]
        return by_id[max((i for i in by_id if name.startswith(i + "-")), key=len)]

    for image, names in sorted(outside_ecr(doc).items()):
        owners = list(dict.fromkeys(owner(n) for n in names))
        found.append(Diagnostic(
            "PS606",
            f"{image} is not in Amazon ECR, where SageMaker pulls job images from "
            f"(step{'s' if len(owners) > 1 else ''} {', '.join(s.id for s in owners)})",
            owners[0].span,
            "copy it to an ECR repository in the pipeline's account and region, and name "
            "that one in the step's image",
            Severity.WARNING,
        ))  # fmt: skip
    return found


def render_sagemaker(pipeline: ir.Pipeline, options: SagemakerOptions) -> RenderResult:
    bucket = options.bucket or default_bucket(options.region, options.role_arn)
    ctx = Context(pipeline, options, options.region, options.role_arn, bucket)
    doc = definition(ctx)
    notes = [*_notes(ctx), *_images_outside_ecr(ctx, doc)]
    if ctx.errors:
        return RenderResult({}, notes)
    path = output_path("sagemaker", pipeline.name, "json")
    text = to_json(doc)
    try:
        upsert, code = upsert_text(ctx, path.rsplit("/", 1)[-1], text)
    except (UnsupportedSchedule, UnsafeUpload) as exc:
        top = Span(pipeline.steps[0].span.file, 1, 1)
        notes.append(Diagnostic("PS600", f"SageMaker cannot create this pipeline: {exc}", top))
        return RenderResult({}, notes)
    folder = path.rsplit("/", 1)[0]
    files = {path: text, path.removesuffix(".json") + ".upsert.json": upsert}
    files.update((f"{folder}/{rel}", body) for rel, body in code.items())
    return RenderResult(files, notes)
