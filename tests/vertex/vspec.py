"""Compile a spec written in a test for Vertex, in memory, through the real front end,
fill (the catalog, no LLM) and backend: what `pipespec compile --target vertex` makes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from pipespec import api
from pipespec.diagnostics import Diagnostic, Severity


def build(tmp_path: Path, text: str) -> tuple[dict[str, str], list[Diagnostic]]:
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(text, encoding="utf-8")
    result = api.build([spec], ["vertex"], None)
    files = {rel: body for root in result.outputs.values() for rel, body in root.items()}
    return files, result.diagnostics


def errors(diags: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diags if d.severity is Severity.ERROR]


def codes(diags: list[Diagnostic]) -> list[str]:
    return [d.code for d in errors(diags)]


def compiled(tmp_path: Path, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The PipelineSpec (read back with PyYAML) and the job file (read back with json)."""
    files, diags = build(tmp_path, text)
    assert not errors(diags), [(d.code, d.message) for d in diags]
    (spec,) = [body for rel, body in files.items() if rel.endswith(".yaml")]
    (job,) = [body for rel, body in files.items() if rel.endswith(".job.json")]
    return yaml.safe_load(spec), json.loads(job)


def refused(tmp_path: Path, text: str) -> list[Diagnostic]:
    """The errors of a spec Vertex cannot run; nothing is generated."""
    files, diags = build(tmp_path, text)
    assert files == {} or errors(diags), sorted(files)
    found = errors(diags)
    assert found, "expected an error"
    return found


def pools(doc: dict[str, Any], task: str) -> list[dict[str, Any]]:
    params = doc["components"][f"comp-{task}"]["inputDefinitions"]["parameters"]
    value: list[dict[str, Any]] = params["worker_pool_specs"]["defaultValue"]
    return value


def constants(doc: dict[str, Any], task: str) -> dict[str, Any]:
    """A GCPC task's constant inputs, as the DSL call passed them."""
    params = doc["root"]["dag"]["tasks"][task]["inputs"]["parameters"]
    return {k: v["runtimeValue"]["constant"] for k, v in params.items() if "runtimeValue" in v}


def splice(doc: dict[str, Any], task: str) -> Any:
    """What GCPC's launcher parses for ``task``: its component's ``--payload`` Concat (the
    optional parts left out) with each ``{{$.inputs.parameters['x']}}`` replaced as KFP
    substitutes it (a STRING's raw text, anything else as JSON), from the task's constants,
    else the input's default, else an empty value of its type; then ``json.loads``
    (strict, as the batch prediction launcher parses it)."""
    args = doc["deploymentSpec"]["executors"][f"exec-{task}"]["container"]["args"]
    concat = json.loads(args[args.index("--payload") + 1])["Concat"]
    text = "".join(part for part in concat if isinstance(part, str))
    definitions = doc["components"][f"comp-{task}"]["inputDefinitions"]["parameters"]
    given = constants(doc, task)
    empty = {"STRING": "", "LIST": [], "STRUCT": {}, "BOOLEAN": False, "NUMBER_INTEGER": 0}
    for name, definition in definitions.items():
        kind = definition["parameterType"]
        value = given.get(name, definition.get("defaultValue", empty.get(kind, 0)))
        raw = value if kind == "STRING" else json.dumps(value)
        text = text.replace(f"{{{{$.inputs.parameters['{name}']}}}}", raw)
    return json.loads(text)
