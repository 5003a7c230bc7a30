"""The SageMaker conformance checker: a generated pipeline definition is accepted by the
SageMaker probe and is the spec's pipeline.

The probe (``sagemaker_probe.py``, in the ``sagemaker`` venv) finds no problem: AWS's
schema with its listed corrections, each step's Arguments against botocore's request shape,
every ``Get`` path in the Describe* response, every reference declared, no cycle, under the
size limit. Then, here: the parameters are the spec's params; each entry belongs to one spec
step (its id, or ``<id>-<suffix>`` for a step's extra entries); the waits between spec
steps (``DependsOn``, ``Get`` of another step, a ConditionStep's branches) are exactly the
spec's DAG; every uploaded code file is written beside the definition.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipespec import ir
from tests.conformance.checkers import Case, checker
from tests.conformance.sagemaker_runner import probe_sagemaker


def entries(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every entry, those inside condition branches too."""
    for step in steps:
        yield step
        arguments = step.get("Arguments", {})
        if step.get("Type") == "Condition":
            yield from entries(arguments.get("IfSteps", []) + arguments.get("ElseSteps", []))


def gets(value: Any) -> Iterator[str]:
    """The step names every ``Get`` of ``Steps.<name>...`` under ``value`` names."""
    if isinstance(value, dict):
        where = value.get("Get")
        if isinstance(where, str) and where.startswith("Steps."):
            yield where.split(".")[1]
        for inner in value.values():
            yield from gets(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from gets(inner)


def spec_step(name: str, ids: set[str]) -> str:
    """The spec step an entry belongs to: its name, or the longest id it extends."""
    if name in ids:
        return name
    owners = [sid for sid in ids if name.startswith(sid + "-")]
    assert owners, f"entry '{name}' belongs to no spec step"
    return max(owners, key=len)


def definition_edges(doc: dict[str, Any], ids: set[str]) -> set[tuple[str, str]]:
    """(source, target) between spec steps, as the definition makes them wait."""
    found: set[tuple[str, str]] = set()
    for entry in entries(doc["Steps"]):
        target = spec_step(entry["Name"], ids)
        sources = [*entry.get("DependsOn", []), *gets(entry.get("Arguments", {}))]
        if entry.get("Type") == "Condition":
            arguments = entry["Arguments"]
            branches = arguments.get("IfSteps", []) + arguments.get("ElseSteps", [])
            sources = list(gets(arguments.get("Conditions", [])))
            found |= {(target, spec_step(b["Name"], ids)) for b in branches}
        found |= {(spec_step(s, ids), target) for s in sources}
    return {(s, t) for s, t in found if s != t}


def assert_graph_matches(doc: dict[str, Any], pipeline: ir.Pipeline) -> None:
    ids = {s.id for s in pipeline.steps}
    names = [e["Name"] for e in entries(doc["Steps"])]
    assert len(names) == len(set(names)), f"entry names repeat: {sorted(names)}"
    owned = {spec_step(n, ids) for n in names}
    assert owned == ids, f"spec steps without an entry: {sorted(ids - owned)}"
    # An else step is in its if step's ConditionStep: the one edge the spec lacks.
    want = {(d.source, d.target) for d in pipeline.edges}
    want |= {(s.else_of, s.id) for s in pipeline.steps if s.else_of is not None}
    got = definition_edges(doc, ids)
    assert got - want == set(), f"waits the spec does not have: {sorted(got - want)}"
    assert want - got == set(), f"spec edges the definition lacks: {sorted(want - got)}"


def assert_parameters_match(doc: dict[str, Any], pipeline: ir.Pipeline) -> None:
    assert [p["Name"] for p in doc["Parameters"]] == [p.name for p in pipeline.params]


def assert_code_written(case: Case, name: str) -> None:
    """Each code folder an entry reads (an S3 URI under ``/code/<sha256>``) is uploaded by
    the upsert file's manifest, and every file the manifest lists (a tarball's members
    too) is written beside the definition, under ``<name>/``; no other code file is."""
    stem = name.removesuffix(".json")
    upsert = json.loads(case.files[stem + ".upsert.json"])
    folder = stem.rsplit("/", 1)[0]
    uploaded = {re.sub(r"/[^/]+$", "", u["s3_uri"]) for u in upsert["uploads"]}
    used = set(re.findall(r"s3://[^\"]*?/code/[0-9a-f]{64}", case.files[name]))
    assert used <= uploaded, f"code folders not uploaded: {sorted(used - uploaded)}"
    listed = {u["file"] for u in upsert["uploads"] if "file" in u}
    listed |= {m["file"] for u in upsert["uploads"] for m in u.get("tar_gz", [])}
    written = {p.removeprefix(folder + "/") for p in case.files if p.startswith(stem + "/")}
    assert written == listed, f"written {sorted(written ^ listed)} differ from the manifest"


@checker("sagemaker")
def check_sagemaker(case: Case) -> None:
    (name,) = [n for n in case.files if n.endswith(".json") and "/code/" not in n
               and not n.endswith(".upsert.json")]  # fmt: skip
    path = case.tmp_path / Path(name).name
    path.write_text(case.files[name], encoding="utf-8")
    report = probe_sagemaker(path)
    assert report["problems"] == [], "\n".join(report["problems"])
    doc = json.loads(case.files[name])
    assert doc["Version"] == "2020-12-01"
    assert_parameters_match(doc, case.pipeline)
    assert_graph_matches(doc, case.pipeline)
    assert_code_written(case, name)
