"""Load a KFP v2 pipeline file with Kubeflow Pipelines' own libraries and report, as JSON,
what they see and every problem found.

Runs in the ``kfp`` conformance venv (kfp, kfp-pipeline-spec, kfp-kubernetes,
cel-python; ``locks/kfp.txt``), never in pipespec's environment, and imports nothing
from pipespec. Its helpers are the sibling ``kfp_probe_*`` modules, so it runs as a module
with the repository root on ``PYTHONPATH`` (``kfp_runner.py`` does that)::

    python -m tests.conformance.kfp_probe PIPELINE.yaml      # one JSON report on stdout
    python -m tests.conformance.kfp_probe --many A.yaml B.yaml  # {path: report}
    python -m tests.conformance.kfp_probe --eval < REQUESTS  # CEL evaluations, JSON in/out

The report (exit status 0 even when there are problems)::

    {"versions": {"kfp": "2.17.0", ...}, "documents": 2, "pipeline_name": "...",
     "schema_version": "2.1.0", "sdk_version": "...",
     "root_inputs": {name: {"parameterType": ..., "defaultValue": ..., "literals": [...]}},
     "component": {"name": "...", "inputs": {name: {"type": "Float", "default": 0.1,
                                                   "optional": true}}},
     "platform_executors": ["exec-train", ...],
     "conditions": [{"dag": "root", "task": "condition-1", "condition": "...",
                     "inputs": {name: {"type": "NUMBER_DOUBLE", "selector": "..."}}}],
     "selectors": [{"dag": ..., "task": ..., "input": ..., "selector": ...}],
     "graph": {"containers": {task: {"component", "executor", "groups", "loops",
                                     "conditions", "upstream"}},
               "groups": {task: {"component", "kind", "condition", "iterator",
                                 "parallelism", "containers", "groups", ...}}},
     "problems": ["...", ...]}

Checks: the YAML documents parse as ``PipelineSpec`` and ``PlatformSpec`` protos with no
unknown field (``json_format.ParseDict``), each Kubernetes executor config as a
``KubernetesExecutorConfig``; kfp's ``load_component_from_file`` loads the file; what the API
server checks on upload (schema version 2.1.0, pipeline name); the referential rules of
``kfp_probe_refs``; resource quantities parse the Kubernetes way; every trigger condition
and parameter selector compiles in KFP's CEL environments (``kfp_probe_cel``) and names only
what it may, and every condition evaluates to a bool on values of its inputs' declared types.

``--eval`` reads a JSON list of requests and prints a JSON list of results, one each:
``{"condition": TEXT, "parameter_values": {...}}`` -> ``{"value": true}``;
``{"selector": TEXT, "value": JSON}`` -> ``{"value": JSON}``;
``{"file": PATH, "task": NAME, "inputs": {name: raw JSON}}`` -> the driver's view of that
task: ``{"parameter_values": {...}, "condition": bool | null}`` (selectors applied, values
converted or rejected as the driver does, then the condition);
``{"file": PATH, "run": CONTAINER_TASK, "parameters": {...}, "outputs": {task: {key: JSON}}}``
-> ``{"runs": bool, "conditions": [...]}``: every condition on the task's path, each on
inputs resolved from those values (``kfp_probe_sim``); errors as ``{"error": "..."}``.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.conformance import kfp_probe_cel as cel
from tests.conformance.kfp_probe_graph import Graph
from tests.conformance.kfp_probe_refs import RefChecker, params, task_conditions, task_selectors
from tests.conformance.kfp_probe_sim import simulate_run, simulate_task

Json = dict[str, Any]
SCHEMA_VERSION = "2.1.0"  # backend/src/apiserver/template/v2_template.go accepts only this
# The API server's check of pipelineInfo.name (unanchored, as it is there).
_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_RESOURCE_FIELDS = (
    "resourceCpuRequest",
    "resourceCpuLimit",
    "resourceMemoryRequest",
    "resourceMemoryLimit",
)
# Values of each declared type, to see that a condition type-checks (see check_conditions).
_SAMPLES: Json = {
    "STRING": "s",
    "NUMBER_DOUBLE": 1.5,
    "NUMBER_INTEGER": 2,
    "BOOLEAN": True,
    "LIST": [],
    "STRUCT": {},
}


def _module(name: str) -> Any:
    return importlib.import_module(name)


def versions() -> Json:
    names = ("kfp", "kfp-pipeline-spec", "kfp-kubernetes", "cel-python", "protobuf")
    return {name: importlib.metadata.version(name) for name in names}


def parse_proto(doc: Any, message: Any, what: str, problems: list[str]) -> Json | None:
    """``doc`` parsed into ``message`` rejecting unknown fields; back as a camelCase dict."""
    json_format = _module("google.protobuf.json_format")
    if not isinstance(doc, dict):
        problems.append(f"{what}: not a mapping")
        return None
    try:
        parsed = json_format.ParseDict(doc, message, ignore_unknown_fields=False)
    except json_format.ParseError as exc:
        problems.append(f"{what}: {exc}")
        return None
    result: Json = json_format.MessageToDict(parsed)
    return result


def parse_documents(path: Path, report: Json, problems: list[str]) -> tuple[Json | None, Json]:
    """The PipelineSpec (canonical dict) and the Kubernetes executor configs by executor."""
    yaml = _module("yaml")
    pb2 = _module("kfp.pipeline_spec.pipeline_spec_pb2")
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    except yaml.YAMLError as exc:
        problems.append(f"YAML: {exc}")
        return None, {}
    report["documents"] = len(docs)
    if not 1 <= len(docs) <= 2:
        problems.append(
            f"expected a PipelineSpec and at most a PlatformSpec, got {len(docs)} YAML documents"
        )
    if not docs:
        return None, {}
    spec = parse_proto(docs[0], pb2.PipelineSpec(), "PipelineSpec", problems)
    k8s: Json = {}
    if len(docs) > 1:
        platform = parse_proto(docs[1], pb2.PlatformSpec(), "PlatformSpec", problems) or {}
        k8s = kubernetes_configs(platform, problems)
    return spec, k8s


def kubernetes_configs(platform: Json, problems: list[str]) -> Json:
    k8s_pb2 = _module("kfp.kubernetes.kubernetes_executor_config_pb2")
    configs: Json = {}
    for name, single in sorted(platform.get("platforms", {}).items()):
        if name != "kubernetes":
            problems.append(f"PlatformSpec: unknown platform '{name}'")
            continue
        executors = single.get("deploymentSpec", {}).get("executors", {})
        for label, config in sorted(executors.items()):
            what = f"PlatformSpec executor '{label}'"
            parsed = parse_proto(config, k8s_pb2.KubernetesExecutorConfig(), what, problems)
            configs[label] = parsed if parsed is not None else {}
    return configs


def load_component(path: Path, problems: list[str]) -> Json | None:
    """What ``kfp.components.load_component_from_file`` makes of the file."""
    components = _module("kfp.components")
    try:
        loaded = components.load_component_from_file(str(path))
    except Exception as exc:  # kfp raises many kinds; all mean "does not load"
        problems.append(f"kfp.components.load_component_from_file: {type(exc).__name__}: {exc}")
        return None
    inputs = {
        name: {
            "type": spec.type,
            "default": spec.default,
            "optional": spec.optional,
            "is_artifact_list": spec.is_artifact_list,
        }
        for name, spec in sorted((loaded.component_spec.inputs or {}).items())
    }
    return {"name": loaded.name, "inputs": inputs}


def check_server_rules(spec: Json, problems: list[str]) -> None:
    if spec.get("schemaVersion") != SCHEMA_VERSION:
        problems.append(
            f"schemaVersion is {spec.get('schemaVersion')!r}; the KFP API server "
            f"accepts only {SCHEMA_VERSION}"
        )
    name = spec.get("pipelineInfo", {}).get("name", "")
    if not name or not _NAME.search(name):
        problems.append(f"pipelineInfo.name {name!r} is empty or has no lowercase DNS label")


def check_resources(spec: Json, problems: list[str]) -> None:
    """driver.go getPodResource: each quantity string goes through k8s ParseQuantity."""
    parse_quantity = _module("kubernetes.utils.quantity").parse_quantity
    for label, executor in sorted(spec.get("deploymentSpec", {}).get("executors", {}).items()):
        resources = executor.get("container", {}).get("resources", {})
        values = {f: resources[f] for f in _RESOURCE_FIELDS if f in resources}
        accelerator = resources.get("accelerator", {})
        if "resourceCount" in accelerator:
            values["accelerator.resourceCount"] = accelerator["resourceCount"]
            if not accelerator.get("resourceType"):
                problems.append(f"{label}: accelerator count without a resourceType")
        for key, value in values.items():
            if "{{$" in value:
                continue  # resolved from an input at run time
            try:
                parse_quantity(value)
            except ValueError:
                problems.append(f"{label}: resources {key} {value!r} is not a Kubernetes quantity")


def check_selectors(components: Json, problems: list[str]) -> list[Json]:
    found = []
    for dag, task, key, selector in task_selectors(components):
        found.append({"dag": dag, "task": task, "input": key, "selector": selector})
        where = f"{dag}/{task} input '{key}' selector {selector!r}"
        try:
            tree = cel.compile_expr(selector)
        except cel.CelError as exc:
            problems.append(f"{where}: {exc}")
            continue
        problems.extend(f"{where}: {p}" for p in cel.undeclared(tree, cel.VALUE_FIELDS))
    return found


def check_conditions(components: Json, problems: list[str]) -> list[Json]:
    pb2 = _module("kfp.pipeline_spec.pipeline_spec_pb2")
    fields = {
        "inputs": frozenset(f.name for f in pb2.ExecutorInput.Inputs.DESCRIPTOR.fields),
        "outputs": frozenset(f.name for f in pb2.ExecutorInput.Outputs.DESCRIPTOR.fields),
    }
    found = []
    for dag, task_name, task in task_conditions(components):
        text = task["triggerPolicy"]["condition"]
        comp = components.get(task.get("componentRef", {}).get("name"), {})
        declared = params(comp, "inputDefinitions")
        given = task.get("inputs", {})
        inputs = {
            key: {
                "type": declared.get(key, {}).get("parameterType"),
                "selector": spec.get("parameterExpressionSelector"),
            }
            for key, spec in sorted(given.get("parameters", {}).items())
        }
        found.append({"dag": dag, "task": task_name, "condition": text, "inputs": inputs})
        where = f"{dag}/{task_name} condition {text!r}"
        try:
            tree = cel.compile_expr(text)
        except cel.CelError as exc:
            problems.append(f"{where}: {exc}")
            continue
        static = cel.undeclared(tree, cel.CONDITION_VARIABLES) + cel.field_problems(tree, fields)
        for kind in ("parameter_values", "artifacts"):
            pool = given.get("artifacts" if kind == "artifacts" else "parameters", {})
            for key in cel.indexed_keys(tree, "inputs", kind):
                if key not in pool:
                    static.append(f"inputs.{kind}['{key}'] is not an input of the task")
        problems.extend(f"{where}: {p}" for p in static)
        if static:
            continue
        # After the driver's conversion each value has its declared type: an operator with
        # no overload for those types fails every run, whatever the values.
        samples = {k: _SAMPLES.get(v["type"] or "") for k, v in inputs.items()}
        try:
            cel.run_condition(text, samples)
        except cel.CelError as exc:
            if cel.is_type_error(exc):
                types = ", ".join(f"{k}: {v['type']}" for k, v in inputs.items())
                problems.append(
                    f"{where}: fails on values of the declared input types ({types}): {exc}"
                )
    return found


def probe(path: Path) -> Json:
    problems: list[str] = []
    report: Json = {"versions": versions(), "file": str(path), "documents": 0}
    spec, k8s = parse_documents(path, report, problems)
    report["component"] = load_component(path, problems)
    report["platform_executors"] = sorted(k8s)
    report["conditions"], report["selectors"], report["graph"] = [], [], {}
    if spec is not None:
        report["pipeline_name"] = spec.get("pipelineInfo", {}).get("name")
        report["schema_version"] = spec.get("schemaVersion")
        report["sdk_version"] = spec.get("sdkVersion")
        report["root_inputs"] = params(spec.get("root", {}), "inputDefinitions")
        check_server_rules(spec, problems)
        refs = RefChecker(spec)
        problems.extend(refs.run())
        check_resources(spec, problems)
        for label in sorted(set(k8s) - set(refs.executors)):
            problems.append(f"PlatformSpec executor '{label}' names no executor")
        report["selectors"] = check_selectors(refs.components, problems)
        report["conditions"] = check_conditions(refs.components, problems)
        graph = Graph(spec)
        report["graph"] = graph.report()
        problems.extend(graph.problems)
    report["problems"] = problems
    return report


_SPECS: dict[str, Json] = {}


def _spec_of(file: str) -> Json:
    """A file's PipelineSpec for ``--eval`` requests (parsed once per file)."""
    if file not in _SPECS:
        spec, _ = parse_documents(Path(file), {}, [])
        if spec is None:
            raise cel.CelError(f"{file} does not parse")
        _SPECS[file] = spec
    return _SPECS[file]


def evaluate(request: Json) -> Json:
    try:
        if "run" in request:
            spec = _spec_of(request["file"])
            parameters, outputs = request.get("parameters", {}), request.get("outputs", {})
            return simulate_run(spec, request["run"], parameters, outputs)
        if "task" in request:
            components = RefChecker(_spec_of(request["file"])).components
            return simulate_task(components, request["task"], request.get("inputs", {}))
        if "condition" in request:
            return {"value": cel.run_condition(request["condition"], request["parameter_values"])}
        if "selector" in request:
            return {"value": cel.run_selector(request["selector"], request["value"])}
        return {"error": f"unknown request {sorted(request)}"}
    except (cel.CelError, OSError) as exc:
        return {"error": str(exc)}


def main(argv: Sequence[str]) -> int:
    out = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):  # only the report goes to stdout
        if list(argv) == ["--eval"]:
            result: Any = [evaluate(r) for r in json.load(sys.stdin)]
        elif len(argv) == 1 and not argv[0].startswith("-"):
            result = probe(Path(argv[0]))
        elif len(argv) > 1 and argv[0] == "--many":  # one process for many files (tests)
            result = {path: probe(Path(path)) for path in argv[1:]}
        else:
            sys.stderr.write(__doc__ or "")
            return 2
    out.write(json.dumps(result, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
