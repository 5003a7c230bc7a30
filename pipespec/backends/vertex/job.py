"""``<name>.job.json``: what a user needs to run the pipeline on Vertex AI, as data that
``google.cloud.aiplatform`` reads directly:

- ``pipeline_job``: keyword arguments of ``aiplatform.PipelineJob`` (besides
  ``template_path``, which is ``template``, the YAML file beside this one);
- ``submit``: keyword arguments of ``PipelineJob.submit`` (the run's identity, network);
- ``schedule``: keyword arguments of ``PipelineJob.create_schedule`` when the spec has a
  schedule, else null.

docs/targets/vertex.md shows the five lines that run it. Data only: nothing of the spec
becomes code.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pipespec import ir
from pipespec.backends.vertex.options import VertexOptions
from pipespec.ir import PRESET_CRON

# croniter extensions Vertex's unix cron does not have: last day, nearest weekday, nth.
_EXTENSIONS = re.compile(r"[LW#?]")


class UnsupportedCron(ValueError):
    """The schedule uses cron syntax Vertex's schedules lack."""


def vertex_cron(schedule: str) -> str:
    five = PRESET_CRON.get(schedule, schedule)
    if _EXTENSIONS.search(five.upper()):
        raise UnsupportedCron(
            f"{schedule!r} uses L, W, # or ?, which Vertex AI's unix cron does not have"
        )
    fields = five.split()
    if len(fields) == 5 and fields[4] == "7":
        fields[4] = "0"  # Sunday as 0, the number every unix cron reads as Sunday
    return " ".join(fields)


def _run_identity(options: VertexOptions) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if options.service_account:
        out["service_account"] = options.service_account
    if options.network:
        out["network"] = options.network
    return out


def job_document(pipeline: ir.Pipeline, options: VertexOptions, template: str) -> dict[str, Any]:
    job: dict[str, Any] = {"display_name": pipeline.name, "location": options.location}
    if options.project:
        job["project"] = options.project
    if options.pipeline_root:
        job["pipeline_root"] = options.pipeline_root
    values = {p.name: ir.thaw(p.default) for p in pipeline.params if p.default is not None}
    if values:
        job["parameter_values"] = values
    if options.labels:
        job["labels"] = dict(options.labels)
    if options.encryption_key:
        job["encryption_spec_key_name"] = options.encryption_key
    schedule = None
    if pipeline.schedule is not None:
        schedule = {
            "cron": vertex_cron(pipeline.schedule),
            "display_name": pipeline.name,
            "max_concurrent_run_count": options.max_concurrent_runs,
            **_run_identity(options),
        }
    return {
        "generated_by": "pipespec: do not edit",
        "pipeline_job": job,
        "schedule": schedule,
        "submit": _run_identity(options),
        "template": template,
    }


def job_text(pipeline: ir.Pipeline, options: VertexOptions, template: str) -> str:
    document = job_document(pipeline, options, template)
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True) + "\n"
