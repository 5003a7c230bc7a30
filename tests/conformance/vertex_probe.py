"""Check a Vertex AI pipeline file (a KFP PipelineSpec, one YAML document) and optionally its
job JSON with the pinned kfp, Google Cloud Pipeline Components and aiplatform; report, as
JSON, what they see and every problem found.

Runs in the ``kfp`` conformance venv (``locks/kfp.txt``), never in pipespec's environment,
as a module with the repository root on ``PYTHONPATH`` (``vertex_runner.py`` does that)::

    python -m tests.conformance.vertex_probe PIPELINE.yaml [JOB.json]   # one JSON report
    python -m tests.conformance.vertex_probe --many < [[YAML, JOB|null], ...]  # {YAML: report}
    python -m tests.conformance.vertex_probe --compile OUTDIR SAMPLE.py ...    # kfp-compile
                                              # each sample's ``pipeline`` to OUTDIR/<stem>.yaml

The report is the Kubeflow probe's (``kfp_probe.py``: strict proto parse, kfp's loader,
references, required inputs, dependencies, CEL) plus ``"gcpc": {executor: component}``,
``"importers": {executor: schemaTitle}`` and ``"job"``; ``problems`` lists them all.

* One YAML document: Vertex takes no PlatformSpec.
* GCPC executors (image ``gcr.io/ml-pipeline/google-cloud-pipeline-components:*``): the
  ``-m`` module of the command is the launcher of one of the GCPC components pipespec emits
  (``gcpc_snapshot.COMPONENTS``, compiled here as the snapshot compiles them); image, command
  and args equal that component's; each of its inputs and outputs is declared by the task's
  component with the same type (only the custom and tuning jobs may have more: the trained
  component's interface is merged in, as ``create_custom_training_job_from_component``
  does); every input a task feeds is declared and every required one is fed; the
  placeholders in those jobs' ``worker_pool_specs`` name declared inputs and outputs. Such
  executors are GCPC's own, whose placeholders Vertex substitutes
  (``.metadata['resourceName']``, ``{{$.pipeline_job_uuid}}``), so the Kubeflow probe's
  launcher-placeholder findings on them are dropped.
* Importers: a known artifact type (``google.UnmanagedContainerModel``,
  ``google.VertexModel``, ``google.VertexEndpoint``, ``system.*``), the output artifact of
  that type, and an ``artifactUri`` that is a constant or an input every task feeds.
* The job JSON: ``vertex_probe_job.py``.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import re
import runpy
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tests.conformance import kfp_probe
from tests.conformance.gcpc_snapshot import COMPONENTS, compiled
from tests.conformance.kfp_probe_refs import artifacts, params
from tests.conformance.vertex_probe_job import probe_job

Json = dict[str, Any]
GCPC_IMAGE = "gcr.io/ml-pipeline/google-cloud-pipeline-components:"
# Components whose payload embeds the ``worker_pool_specs`` input: the trained or tuned
# component's interface may be merged in, its placeholders inside the specs' default, which
# Vertex resolves like any other (the launchers get no executor input to do it themselves).
MERGES_INTERFACE = frozenset({"CustomTrainingJobOp", "HyperparameterTuningJobRunOp"})
IMPORTER_TYPES = frozenset(
    {"google.UnmanagedContainerModel", "google.VertexModel", "google.VertexEndpoint"}
)
_PLACEHOLDER = re.compile(r"\{\{\$\.(inputs|outputs)\.(parameters|artifacts)\['([^']+)'\][^}]*\}\}")
_KNOWN: dict[str, Json] = {}


def known_components() -> dict[str, Json]:
    """Launcher module -> the installed GCPC component (name, interface, container)."""
    if not _KNOWN:
        for name, module in COMPONENTS.items():
            entry = {"name": name, **compiled(name, module)}
            _KNOWN[launcher_module(entry["container"]) or name] = entry
    return _KNOWN


def launcher_module(container: Json) -> str | None:
    command = container.get("command", [])
    if "-m" in command and command.index("-m") + 1 < len(command):
        return str(command[command.index("-m") + 1])
    return None


def _tasks(components: Json) -> Iterator[tuple[str, str, Json]]:
    for dag_name, comp in sorted(components.items()):
        for task_name, task in sorted(comp.get("dag", {}).get("tasks", {}).items()):
            yield dag_name, task_name, task


def _users(components: Json, label: str) -> dict[str, Json]:
    """Component name -> component, for those whose executor is ``label``."""
    return {n: c for n, c in components.items() if c.get("executorLabel") == label}


def _type_of(spec: Json) -> Any:
    if "parameterType" in spec:
        return spec["parameterType"]
    return (spec.get("artifactType", {}).get("schemaTitle"), bool(spec.get("isArtifactList")))


def interface_problems(where: str, comp: Json, gcpc: Json) -> list[str]:
    """GCPC's inputs and outputs, each declared by ``comp`` with the same type."""
    problems = []
    for side in ("inputDefinitions", "outputDefinitions"):
        for kind, pick in (("parameter", params), ("artifact", artifacts)):
            ours, theirs = pick(comp, side), pick(gcpc, side)
            for key, spec in sorted(theirs.items()):
                if key not in ours:
                    problems.append(f"{where}: GCPC's {side} {kind} '{key}' is not declared")
                elif _type_of(ours[key]) != _type_of(spec):
                    problems.append(
                        f"{where}: {kind} '{key}' is {_type_of(ours[key])}, "
                        f"GCPC declares {_type_of(spec)}"
                    )
            if gcpc["name"] not in MERGES_INTERFACE:
                for key in sorted(set(ours) - set(theirs)):
                    problems.append(f"{where}: {side} {kind} '{key}' is not one of GCPC's")
    return problems


def container_problems(where: str, container: Json, gcpc: Json) -> list[str]:
    problems = []
    for field in ("image", "command"):
        if container.get(field) != gcpc["container"][field]:
            problems.append(
                f"{where}: {field} {container.get(field)!r} is not GCPC's "
                f"{gcpc['container'][field]!r}"
            )
    ours, theirs = container.get("args", []), gcpc["container"]["args"]
    if ours != theirs:
        diff = next((i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), None)
        shown = (
            f"arg {diff} is {ours[diff]!r}, GCPC's is {theirs[diff]!r}"
            if diff is not None
            else f"{len(ours)} args, GCPC's has {len(theirs)}"
        )
        problems.append(f"{where}: args differ from {gcpc['name']}'s: {shown}")
    return problems


def feeding_problems(components: Json, comp_name: str, gcpc_name: str) -> list[str]:
    """Every task of the component feeds only declared inputs and every required one."""
    comp, problems = components[comp_name], []
    for dag, task_name, task in _tasks(components):
        if task.get("componentRef", {}).get("name") != comp_name:
            continue
        where = f"{dag}/{task_name} ({gcpc_name})"
        given = task.get("inputs", {})
        for kind, pick in (("parameters", params), ("artifacts", artifacts)):
            declared = pick(comp, "inputDefinitions")
            for key in sorted(set(given.get(kind, {})) - set(declared)):
                problems.append(f"{where}: feeds {kind[:-1]} '{key}', which is not an input")
            for key, spec in sorted(declared.items()):
                optional = spec.get("isOptional") or "defaultValue" in spec
                if key not in given.get(kind, {}) and not optional:
                    problems.append(f"{where}: required {kind[:-1]} '{key}' is not fed")
    return problems


def worker_pool_problems(where: str, comp: Json) -> list[str]:
    """Placeholders in a job's worker pool specs name declared inputs/outputs."""
    spec = params(comp, "inputDefinitions").get("worker_pool_specs", {})
    text = json.dumps(spec.get("defaultValue", []))
    problems = []
    for side, kind, key in _PLACEHOLDER.findall(text):
        pick = params if kind == "parameters" else artifacts
        if key not in pick(comp, f"{side[:-1]}Definitions"):
            problems.append(f"{where}: worker_pool_specs names {side}.{kind} '{key}', undeclared")
    return problems


def check_gcpc(components: Json, executors: Json, report: Json) -> tuple[list[str], set[str]]:
    """(problems, labels of executors that are exactly a GCPC component's)."""
    problems: list[str] = []
    exact: set[str] = set()
    for label, executor in sorted(executors.items()):
        container = executor.get("container")
        if not container or not str(container.get("image", "")).startswith(GCPC_IMAGE):
            continue
        module = launcher_module(container)
        gcpc = known_components().get(module or "")
        if gcpc is None:
            known = ", ".join(sorted(known_components()))
            problems.append(f"{label}: launcher module {module!r} is none of GCPC's ({known})")
            continue
        report["gcpc"][label] = gcpc["name"]
        found = container_problems(label, container, gcpc)
        exact |= set() if found else {label}
        for comp_name, comp in sorted(_users(components, label).items()):
            where = f"{comp_name} ({gcpc['name']})"
            found += interface_problems(where, comp, gcpc)
            found += feeding_problems(components, comp_name, gcpc["name"])
            if gcpc["name"] in MERGES_INTERFACE:
                found += worker_pool_problems(where, comp)
        problems += found
    return problems, exact


def check_importers(components: Json, executors: Json, report: Json) -> list[str]:
    problems = []
    for label, executor in sorted(executors.items()):
        importer = executor.get("importer")
        if importer is None:
            continue
        title = importer.get("typeSchema", {}).get("schemaTitle", "")
        report["importers"][label] = title
        if title not in IMPORTER_TYPES and not title.startswith("system."):
            problems.append(f"{label}: importer typeSchema {title!r} is not a known type")
        uri = importer.get("artifactUri", {})
        for comp_name, comp in sorted(_users(components, label).items()):
            output = artifacts(comp, "outputDefinitions").get("artifact", {})
            if output.get("artifactType", {}).get("schemaTitle") != title:
                problems.append(f"{comp_name}: importer output 'artifact' is not a {title!r}")
            problems += _importer_uri(components, comp_name, comp, uri)
    return problems


def _importer_uri(components: Json, comp_name: str, comp: Json, uri: Json) -> list[str]:
    if "constant" in uri:
        ok = isinstance(uri["constant"], str) and uri["constant"] != ""
        return [] if ok else [f"{comp_name}: importer artifactUri constant {uri['constant']!r}"]
    name = uri.get("runtimeParameter")
    if name is None:
        return [f"{comp_name}: importer artifactUri is neither a constant nor a runtimeParameter"]
    if name not in params(comp, "inputDefinitions"):
        return [f"{comp_name}: importer artifactUri names '{name}', which is not an input"]
    return [
        f"{dag}/{task_name}: importer input '{name}' (its artifactUri) is not fed"
        for dag, task_name, task in _tasks(components)
        if task.get("componentRef", {}).get("name") == comp_name
        and name not in task.get("inputs", {}).get("parameters", {})
    ]


def probe(path: Path, job: Path | None) -> Json:
    report = kfp_probe.probe(path)
    report.update(gcpc={}, importers={}, job=None)
    problems: list[str] = list(report["problems"])
    spec, _ = kfp_probe.parse_documents(path, {}, [])
    if report["documents"] != 1:
        problems.append(f"{report['documents']} YAML documents: Vertex takes one PipelineSpec")
    if spec is not None:
        components = {**spec.get("components", {}), "root": spec.get("root", {})}
        executors = spec.get("deploymentSpec", {}).get("executors", {})
        found, exact = check_gcpc(components, executors, report)
        # GCPC's own executors: Vertex substitutes their placeholders, not KFP's launcher.
        problems = [p for p in problems if not p.startswith(tuple(f"{x} (of " for x in exact))]
        problems += found + check_importers(components, executors, report)
        if job is not None:
            root_inputs = params(spec.get("root", {}), "inputDefinitions")
            report["job"], job_problems = probe_job(job, path, root_inputs)
            problems += job_problems
    report["problems"] = problems
    return report


def compile_samples(out: Path, samples: Sequence[str]) -> Json:
    compiler = importlib.import_module("kfp.compiler")
    written = {}
    for sample in samples:
        target = out / f"{Path(sample).stem}.yaml"
        compiler.Compiler().compile(runpy.run_path(sample)["pipeline"], str(target))
        written[sample] = str(target)
    return written


def main(argv: Sequence[str]) -> int:
    out = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):  # only the report goes to stdout
        if argv and argv[0] == "--many":
            pairs = json.load(sys.stdin)
            result: Any = {y: probe(Path(y), Path(j) if j else None) for y, j in pairs}
        elif len(argv) > 2 and argv[0] == "--compile":
            result = compile_samples(Path(argv[1]), argv[2:])
        elif 1 <= len(argv) <= 2 and not argv[0].startswith("-"):
            result = probe(Path(argv[0]), Path(argv[1]) if len(argv) == 2 else None)
        else:
            sys.stderr.write(__doc__ or "")
            return 2
    out.write(json.dumps(result, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
