"""A Vertex AI pipeline file (KFP IR with Google Cloud Pipeline Components tasks) in the
names-aside normal form of ``kfp_normal_form.py``, extended for what GCPC adds.

Pure Python on the parsed YAML (no kfp import); ``vertex_equivalence.py`` runs it in the
kfp conformance venv. On top of the Kubeflow normal form:

- **Tasks are matched by display name.** kfp keys a task by its component's name
  (``model-upload``, ``model-upload-2``, ``endpoint-create``...), never by a name the
  program chooses; a Vertex user labels each task for the console with
  ``.set_display_name(...)`` (``taskInfo.name``), which pipespec writes equal to its task
  key. Every container task of both files is re-keyed by its display name
  (`rename_by_display_name`) before the normal form is built, so dependencies, input
  sources, groups and loop items all name tasks that way. This pairs tasks, it does not
  loosen anything: every other field (launcher image/command/args, each input's source,
  dependencies) is compared under that pairing, so a task labelled as another shows up
  as differences, and two tasks with one label are an error.
- **Inputs are compared by effective value.** A task input no task feeds takes its
  component's default; pipespec writes a custom job's settings as component defaults
  (as ``create_custom_training_job_from_component`` does) and a plain GCPC component's
  settings as task constants (as a DSL call compiles). `EffectiveResolver` writes an
  unfed input with a default as ``const:DEFAULT`` and every constant as canonical JSON
  (integral numbers alike, keys sorted), with the KFP placeholders inside it
  (``{{$.inputs.artifacts['train'].path}}`` in ``worker_pool_specs``) written by source.
- **GCPC inputs by name** (``gcpc``): for a task whose command runs a GCPC launcher, every
  input GCPC's own component declares (pinned in pipespec's package-data snapshot
  ``gcpc_components.json``; names are GCPC's, so they are kept) with its effective value:
  project, location, display names, machine and replica settings, and
  ``worker_pool_specs`` (machine spec, container image/command/args/env, replica
  counts, disk).
- **Dependencies as an order** (``after``): every container task a task waits for,
  directly or through another (`_closure`). A model step is three or four tasks (the
  model helper, ModelUploadOp, EndpointCreateOp, ModelDeployOp); pipespec makes a task
  that runs ``after:`` a conditioned step wait for the condition group, so for each of
  them, where ``.after(deploy)`` in a DSL program names the last one, which waits for
  the others. Equal closures are equal run orders; a lost edge that nothing else implies
  still differs.
- The pipeline's ``defaultPipelineRoot`` is compared with its name and parameters.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from tests.conformance.kfp_ir_tree import Node, Resolver, build_tree
from tests.conformance.kfp_normal_form import (
    _INPUT_PLACEHOLDER,
    Difference,
    _integral,
    _metric_views,
    differences,
    normal_form,
)

Json = Any
SNAPSHOT = Path(__file__).resolve().parents[2] / "pipespec/backends/vertex/gcpc_components.json"
_MAX_DEPTH = 4  # a default naming an input whose default names another...


def _gcpc_inputs() -> dict[str, set[str]]:
    """Each GCPC launcher (the module its command runs) and the inputs its component
    declares."""
    components = json.loads(SNAPSHOT.read_text(encoding="utf-8"))["components"]
    return {
        str(comp["container"]["command"][-1]): {
            name for defs in comp.get("inputDefinitions", {}).values() for name in defs
        }
        for comp in components.values()
    }


GCPC_INPUTS = _gcpc_inputs()


def _rename_dag(dag: dict[str, Json], components: dict[str, Json]) -> None:
    tasks = dag.get("tasks", {})
    names = {
        key: spec.get("taskInfo", {}).get("name", key)
        for key, spec in tasks.items()
        if "dag" not in components[spec["componentRef"]["name"]]
    }
    taken = [names.get(key, key) for key in tasks]
    if len(set(taken)) != len(taken):
        raise ValueError(f"two tasks of one DAG have one display name: {sorted(taken)}")
    dag["tasks"] = {names.get(key, key): spec for key, spec in tasks.items()}
    for spec in dag["tasks"].values():
        if "dependentTasks" in spec:
            spec["dependentTasks"] = sorted(names.get(d, d) for d in spec["dependentTasks"])
        for section in spec.get("inputs", {}).values():
            for source in section.values():
                for kind in ("taskOutputParameter", "taskOutputArtifact"):
                    if kind in source:
                        producer = source[kind]["producerTask"]
                        source[kind]["producerTask"] = names.get(producer, producer)
    for section in dag.get("outputs", {}).values():
        for selector in section.values():
            picks = selector.get("artifactSelectors", [])
            picks += [selector["valueFromParameter"]] if "valueFromParameter" in selector else []
            picks += selector.get("valueFromOneof", {}).get("parameterSelectors", [])
            for pick in picks:
                pick["producerSubtask"] = names.get(
                    pick["producerSubtask"], pick["producerSubtask"]
                )


def rename_by_display_name(pipeline: dict[str, Json]) -> dict[str, Json]:
    """A copy of the PipelineSpec with every container task keyed by its display name."""
    renamed = copy.deepcopy(pipeline)
    components = renamed["components"]
    _rename_dag(renamed["root"]["dag"], components)
    for comp in components.values():
        if "dag" in comp:
            _rename_dag(comp["dag"], components)
    return renamed


class EffectiveResolver(Resolver):
    """Sources as in ``kfp_ir_tree.Resolver``, but an input left to its component's
    default is that default, and every constant is canonical JSON with its placeholders
    written by source."""

    def __init__(self, views: dict[tuple[str, str], str]) -> None:
        super().__init__(views)
        self._depth = 0

    def source(self, node: Node, section: str, name: str) -> str:
        found = super().source(node, section, name)
        if found.startswith("default:"):
            definition = node.comp.get("inputDefinitions", {}).get(section, {}).get(name, {})
            if "defaultValue" not in definition:
                return f"absent:{name}"
            return "const:" + self._canonical(node, definition["defaultValue"])
        if found.startswith("const:"):
            try:
                value = json.loads(found[len("const:") :])
            except ValueError:  # a constant with a selector: as it is
                return found
            return "const:" + self._canonical(node, value)
        return found

    def _canonical(self, node: Node, value: Json) -> str:
        if self._depth >= _MAX_DEPTH:
            return json.dumps(_integral(value), sort_keys=True)
        self._depth += 1
        try:
            return json.dumps(self._resolved(node, _integral(value)), sort_keys=True)
        finally:
            self._depth -= 1

    def _resolved(self, node: Node, value: Json) -> Json:
        if isinstance(value, str):
            return _INPUT_PLACEHOLDER.sub(
                lambda m: "{{" + self.source(node, m.group(1), m.group(2)) + m.group(3) + "}}",
                value,
            )
        if isinstance(value, list):
            return [self._resolved(node, v) for v in value]
        if isinstance(value, dict):
            return {k: self._resolved(node, v) for k, v in value.items()}
        return value


def _launcher(pipeline: dict[str, Json], node: Node) -> str | None:
    """The GCPC launcher module a container task runs, if any."""
    label = node.comp.get("executorLabel", "")
    executor = pipeline.get("deploymentSpec", {}).get("executors", {}).get(label, {})
    command = executor.get("container", {}).get("command", [])
    return next((c for c in command if c in GCPC_INPUTS), None)


def _gcpc_forms(pipeline: dict[str, Json], dsl: bool) -> dict[str, dict[str, str]]:
    """Each GCPC task's GCPC-declared inputs by name, with their effective values."""
    _, by_name = build_tree(pipeline)
    resolver = EffectiveResolver(_metric_views(by_name) if dsl else {})
    forms: dict[str, dict[str, str]] = {}
    for name, node in sorted(by_name.items()):
        launcher = _launcher(pipeline, node) if node.kind == "container" else None
        if launcher is None:
            continue
        forms[name] = {
            input_name: resolver.source(node, section, input_name)
            for section, defs in node.comp.get("inputDefinitions", {}).items()
            for input_name in sorted(defs)
            if input_name in GCPC_INPUTS[launcher]
        }
    return forms


def _closure(tasks: dict[str, dict[str, Json]]) -> None:
    direct = {name: set(form["after"]) for name, form in tasks.items()}
    for name, form in tasks.items():
        seen: set[str] = set()
        todo = list(direct[name])
        while todo:
            dep = todo.pop()
            if dep not in seen:
                seen.add(dep)
                todo.extend(direct.get(dep, ()))
        form["after"] = sorted(seen)


def vertex_normal_form(docs: list[dict[str, Json]], *, dsl: bool) -> dict[str, Json]:
    """The normal form of a Vertex pipeline file (one PipelineSpec document)."""
    pipeline = rename_by_display_name(docs[0])
    form = normal_form([pipeline, *docs[1:]], dsl=dsl, resolver_class=EffectiveResolver)
    for name, gcpc in _gcpc_forms(pipeline, dsl).items():
        form["tasks"][name]["gcpc"] = gcpc
    _closure(form["tasks"])
    form["pipeline"]["root"] = pipeline.get("defaultPipelineRoot")
    return form


def vertex_differences(dsl: dict[str, Json], pipespec: dict[str, Json]) -> list[Difference]:
    """``kfp_normal_form.differences`` and the pipeline root."""
    found = differences(dsl, pipespec)
    root = (dsl["pipeline"].get("root"), pipespec["pipeline"].get("root"))
    if root[0] != root[1]:
        found.insert(0, Difference("pipeline", "root", *root))
    return found


def explain(difference: Difference, width: int = 160) -> str:
    """A difference shortened to where the values part: for a dict, only the keys that
    differ; for long text, the first place the two differ."""
    dsl, ours = difference.dsl, difference.pipespec
    head = f"{difference.where}, {difference.field}:"
    if isinstance(dsl, dict) and isinstance(ours, dict):
        keys = sorted(k for k in set(dsl) | set(ours) if dsl.get(k) != ours.get(k))
        return head + "".join(
            "\n  " + _first_split(f"[{k}]", dsl.get(k), ours.get(k), width) for k in keys
        )
    return head + "\n  " + _first_split("", dsl, ours, width)


def _first_split(label: str, dsl: Json, ours: Json, width: int) -> str:
    left, right = json.dumps(dsl, sort_keys=True), json.dumps(ours, sort_keys=True)
    pairs = enumerate(zip(left, right, strict=False))  # the shorter ends the search
    at = next((i for i, (a, b) in pairs if a != b), min(len(left), len(right)))
    start = max(0, at - width // 2)
    return (
        f"{label} from char {start}:\n    kfp DSL:  {left[start : start + width]}"
        f"\n    pipespec: {right[start : start + width]}"
    )
