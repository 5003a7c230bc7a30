"""Referential checks on a KFP PipelineSpec that the protobuf schema does not make.

Part of the probe (``kfp_probe.py``); plain Python over the spec as a dict with the JSON
(camelCase) field names, which is what ``json_format.MessageToDict`` gives back after the
proto parse. Every rule below is one KFP's backend relies on at run time, with where it
does so: a broken one fails a run (or, for placeholders, silently passes the literal
``{{$...}}`` text to the container, since the launcher only substitutes the names it knows).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

Json = dict[str, Any]

# backend/src/v2/component/launcher_v2.go getPlaceholders: the only forms substituted in
# command and args (plain string replacement; `{{$}}` is the whole ExecutorInput as JSON).
_PLACEHOLDER = re.compile(r"\{\{\$([^{}]*)\}\}")
_FORMS = {
    "input_parameter": re.compile(r"\.inputs\.parameters\['([^']+)'\]"),
    "input_artifact": re.compile(r"\.inputs\.artifacts\['([^']+)'\]\.(?:path|uri)"),
    "output_artifact": re.compile(r"\.outputs\.artifacts\['([^']+)'\]\.(?:path|uri)"),
    "output_parameter": re.compile(r"\.outputs\.parameters\['([^']+)'\]\.output_file"),
}
# The Argo compiler names the nodes of task T `T-driver` and `T` in the same Argo DAG.
_TASK_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_NUMERIC = frozenset(["NUMBER_DOUBLE", "NUMBER_INTEGER"])


def params(component: Json, side: str) -> Json:
    result: Json = component.get(side, {}).get("parameters", {})
    return result


def artifacts(component: Json, side: str) -> Json:
    result: Json = component.get(side, {}).get("artifacts", {})
    return result


def compatible(source: str | None, target: str | None) -> bool:
    """Whether the driver accepts a value of ``source`` type for an input of ``target`` type
    (resolve.go handleParamTypeValidationAndConversion: anything becomes a STRING's text)."""
    if source is None or target is None or target in ("STRING", source):
        return True
    return source in _NUMERIC and target in _NUMERIC


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, (int, float)):
        return "NUMBER_DOUBLE"
    if isinstance(value, str):
        return "STRING"
    if isinstance(value, list):
        return "LIST"
    return "STRUCT" if isinstance(value, dict) else "NULL"


class RefChecker:
    """Collects problems; ``components`` includes the root under the name ``root``."""

    def __init__(self, spec: Json) -> None:
        self.spec = spec
        self.components: dict[str, Json] = dict(spec.get("components", {}))
        self.components["root"] = spec.get("root", {})
        self.executors: Json = spec.get("deploymentSpec", {}).get("executors", {})
        self.problems: list[str] = []

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def dags(self) -> Iterator[tuple[str, Json]]:
        for name, comp in sorted(self.components.items()):
            if "dag" in comp:
                yield name, comp

    def run(self) -> list[str]:
        self.check_components()
        for name, comp in self.dags():
            self.check_dag(name, comp)
        self.check_unreferenced()
        return self.problems

    def check_components(self) -> None:
        if "dag" not in self.components["root"]:
            self.problem("root: the root component has no dag")
        for name, comp in sorted(self.components.items()):
            label = comp.get("executorLabel")
            if ("dag" in comp) == (label is not None):
                self.problem(f"{name}: a component needs exactly one of dag and executorLabel")
            for key, spec in sorted(params(comp, "inputDefinitions").items()):
                self.check_default(f"{name} input '{key}'", spec)
            if label is not None:
                if label not in self.executors:
                    self.problem(f"{name}: executorLabel '{label}' names no executor")
                else:
                    self.check_executor(name, comp, label)

    def check_default(self, where: str, spec: Json) -> None:
        """The API server checks run parameters this strictly (v2_template.go), by type and
        against ``literals``; a default the same run would be refused with is as broken."""
        declared, literals = spec.get("parameterType"), spec.get("literals", [])
        if "defaultValue" in spec:
            value = spec["defaultValue"]
            if not _fits(value, declared):
                self.problem(f"{where}: default {value!r} is not a {declared}")
            if literals and value not in literals:
                self.problem(f"{where}: default {value!r} is not one of the literals {literals}")
        for literal in literals:
            if not _fits(literal, declared):
                self.problem(f"{where}: literal {literal!r} is not a {declared}")

    def check_executor(self, name: str, comp: Json, label: str) -> None:
        container = self.executors[label].get("container")
        if container is None:
            return  # importer / resolver executors take no placeholders
        where = f"{label} (of {name})"
        if not container.get("image"):
            self.problem(f"{where}: container has no image")
        used: dict[str, set[str]] = {kind: set() for kind in _FORMS}
        whole_input = False
        for arg in [*container.get("command", []), *container.get("args", [])]:
            self.check_if_present(where, comp, arg)
            for body in _PLACEHOLDER.findall(arg):
                if body == "":
                    whole_input = True
                    continue
                kind, ref = _classify(body)
                if kind is None:
                    self.problem(
                        f"{where}: placeholder '{{{{${body}}}}}' is not one the "
                        "launcher substitutes"
                    )
                    continue
                used[kind].add(ref)
                self.check_placeholder(where, comp, kind, ref)
        if not whole_input:
            for out in sorted(set(params(comp, "outputDefinitions")) - used["output_parameter"]):
                self.problem(f"{where}: output parameter '{out}' is never passed to the container")
            for out in sorted(set(artifacts(comp, "outputDefinitions")) - used["output_artifact"]):
                self.problem(f"{where}: output artifact '{out}' is never passed to the container")

    def check_placeholder(self, where: str, comp: Json, kind: str, ref: str) -> None:
        side = "inputDefinitions" if kind.startswith("input") else "outputDefinitions"
        pool = params(comp, side) if kind.endswith("parameter") else artifacts(comp, side)
        if ref not in pool:
            what = kind.replace("_", " ")
            self.problem(
                f"{where}: placeholder names {what} '{ref}', which the component does not declare"
            )

    def check_if_present(self, where: str, comp: Json, arg: str) -> None:
        if not arg.lstrip().startswith('{"IfPresent":'):
            return
        try:
            name = json.loads(arg)["IfPresent"]["InputName"]
        except (ValueError, KeyError, TypeError):
            self.problem(f"{where}: malformed IfPresent argument {arg!r}")
            return
        if name not in params(comp, "inputDefinitions"):
            self.problem(f"{where}: IfPresent names input '{name}', which is not declared")

    def check_dag(self, dag_name: str, dag_comp: Json) -> None:
        tasks: Json = dag_comp["dag"].get("tasks", {})
        if not tasks:
            self.problem(f"{dag_name}: the DAG has no tasks")
        for task_name, task in sorted(tasks.items()):
            where = f"{dag_name}/{task_name}"
            if not _TASK_NAME.match(task_name):
                self.problem(f"{where}: task name is not a lowercase DNS label")
            if task_name.endswith("-driver") and task_name[: -len("-driver")] in tasks:
                self.problem(
                    f"{where}: clashes with the Argo driver node of its sibling "
                    f"'{task_name[: -len('-driver')]}'"
                )
            ref = task.get("componentRef", {}).get("name")
            if ref not in self.components or ref == "root":
                self.problem(f"{where}: componentRef '{ref}' names no component")
                continue
            for dep in task.get("dependentTasks", []):
                if dep == task_name or dep not in tasks:
                    self.problem(f"{where}: dependentTasks entry '{dep}' is not a sibling task")
            TaskInputs(self, dag_comp, tasks, where, task).check()
        self.check_cycles(dag_name, tasks)
        self.check_dag_outputs(dag_name, dag_comp, tasks)

    def check_cycles(self, dag_name: str, tasks: Json) -> None:
        state: dict[str, int] = {}  # 1: on the current path, 2: done

        def visit(name: str) -> str | None:
            """A task on a cycle reachable from ``name``, if any."""
            state[name] = 1
            for dep in tasks[name].get("dependentTasks", []):
                if dep in tasks and state.get(dep) == 1:
                    return str(dep)
                found = visit(dep) if dep in tasks and dep not in state else None
                if found:
                    return found
            state[name] = 2
            return None

        for name in sorted(tasks):
            on_cycle = visit(name) if name not in state else None
            if on_cycle:
                self.problem(f"{dag_name}: dependentTasks form a cycle through '{on_cycle}'")
                return

    def producer_output(self, tasks: Json, producer: str, key: str, kind: str) -> str | None:
        """The problem with ``producer``'s output ``key`` (``kind``: parameters/artifacts)."""
        if producer not in tasks:
            return f"producer task '{producer}' is not a sibling task"
        comp = self.components.get(tasks[producer].get("componentRef", {}).get("name"))
        if comp is None:
            return None  # the producer's componentRef is reported on its own
        if key not in comp.get("outputDefinitions", {}).get(kind, {}):
            return f"'{producer}' has no output {kind[:-1]} '{key}'"
        return None

    def output_type(self, tasks: Json, producer: str, key: str) -> str | None:
        comp = self.components.get(tasks[producer].get("componentRef", {}).get("name"), {})
        spec = params(comp, "outputDefinitions").get(key, {})
        result: str | None = spec.get("parameterType")
        return result

    def check_dag_outputs(self, dag_name: str, dag_comp: Json, tasks: Json) -> None:
        outputs = dag_comp["dag"].get("outputs", {})
        declared_p, declared_a = (
            params(dag_comp, "outputDefinitions"),
            artifacts(dag_comp, "outputDefinitions"),
        )
        for key, spec in sorted(outputs.get("parameters", {}).items()):
            if key not in declared_p:
                self.problem(f"{dag_name}: DAG output parameter '{key}' is not declared")
            if "valueFromParameter" in spec:
                selectors = [spec["valueFromParameter"]]
            else:
                selectors = spec.get("valueFromOneof", {}).get("parameterSelectors", [])
            if not selectors:
                self.problem(f"{dag_name}: DAG output parameter '{key}' selects nothing")
            for sel in selectors:
                bad = self.producer_output(
                    tasks, sel.get("producerSubtask"), sel.get("outputParameterKey"), "parameters"
                )
                if bad:
                    self.problem(f"{dag_name}: DAG output parameter '{key}': {bad}")
        for key, spec in sorted(outputs.get("artifacts", {}).items()):
            if key not in declared_a:
                self.problem(f"{dag_name}: DAG output artifact '{key}' is not declared")
            for sel in spec.get("artifactSelectors", []) or [{}]:
                bad = self.producer_output(
                    tasks, sel.get("producerSubtask"), sel.get("outputArtifactKey"), "artifacts"
                )
                if bad:
                    self.problem(f"{dag_name}: DAG output artifact '{key}': {bad}")
        for key in sorted(set(declared_p) - set(outputs.get("parameters", {}))):
            self.problem(f"{dag_name}: declared output parameter '{key}' has no DAG output")
        for key in sorted(set(declared_a) - set(outputs.get("artifacts", {}))):
            self.problem(f"{dag_name}: declared output artifact '{key}' has no DAG output")

    def check_unreferenced(self) -> None:
        referenced = {
            task.get("componentRef", {}).get("name")
            for _, comp in self.dags()
            for task in comp["dag"].get("tasks", {}).values()
        }
        for name in sorted(set(self.components) - referenced - {"root"}):
            self.problem(f"{name}: component is not used by any task")
        labels = {c.get("executorLabel") for c in self.components.values()}
        for name in sorted(set(self.executors) - labels):
            self.problem(f"{name}: executor is not used by any component")


def _fits(value: Any, declared: str | None) -> bool:
    """A value of exactly the declared type (an integer for NUMBER_INTEGER)."""
    actual = json_type(value)
    if declared == "NUMBER_INTEGER":
        return actual == "NUMBER_DOUBLE" and float(value).is_integer()
    return actual == declared


def _classify(body: str) -> tuple[str | None, str]:
    for kind, form in _FORMS.items():
        match = form.fullmatch(body)
        if match:
            return kind, match.group(1)
    return None, ""


class TaskInputs:
    """One task's inputs against its component's and its DAG's declarations."""

    def __init__(
        self, refs: RefChecker, dag_comp: Json, tasks: Json, where: str, task: Json
    ) -> None:
        self.refs, self.dag_comp, self.tasks, self.task = refs, dag_comp, tasks, task
        self.name = where.rsplit("/", 1)[-1]
        self.comp = refs.components[task["componentRef"]["name"]]
        self.where = where

    def problem(self, text: str) -> None:
        self.refs.problem(f"{self.where}: {text}")

    def check(self) -> None:
        given = self.task.get("inputs", {})
        declared = params(self.comp, "inputDefinitions")
        for key, spec in sorted(given.get("parameters", {}).items()):
            if key not in declared:
                self.problem(f"input parameter '{key}' is not an input parameter of the component")
            self.check_parameter(key, spec, declared.get(key, {}).get("parameterType"))
        declared_a = artifacts(self.comp, "inputDefinitions")
        for key, spec in sorted(given.get("artifacts", {}).items()):
            if key not in declared_a:
                self.problem(f"input artifact '{key}' is not an input artifact of the component")
            self.check_artifact(key, spec)
        self.check_iterator(declared)
        self.check_required(declared, declared_a)

    def check_parameter(self, key: str, spec: Json, target: str | None) -> None:
        selected = "parameterExpressionSelector" in spec
        source: str | None = None
        if "componentInputParameter" in spec:
            name = spec["componentInputParameter"]
            enclosing = params(self.dag_comp, "inputDefinitions")
            if name not in enclosing:
                self.problem(
                    f"input '{key}': componentInputParameter '{name}' is not an input "
                    "of the enclosing DAG"
                )
            source = enclosing.get(name, {}).get("parameterType")
        elif "taskOutputParameter" in spec:
            out = spec["taskOutputParameter"]
            producer, out_key = out.get("producerTask"), out.get("outputParameterKey")
            bad = self.refs.producer_output(self.tasks, producer, out_key, "parameters")
            if bad or producer == self.name:
                self.problem(f"input '{key}': {bad or 'a task cannot read its own output'}")
            else:
                source = self.refs.output_type(self.tasks, producer, out_key)
        elif "runtimeValue" in spec:
            if "constant" not in spec["runtimeValue"]:
                self.problem(f"input '{key}': runtimeValue without a constant")
            source = json_type(spec["runtimeValue"].get("constant"))
        elif (
            "taskFinalStatus" in spec
            and spec["taskFinalStatus"].get("producerTask") not in self.tasks
        ):
            self.problem(f"input '{key}': taskFinalStatus names no sibling task")
        if not selected and not compatible(source, target):
            self.problem(
                f"input '{key}': a {source} value for a {target} input (the driver rejects it)"
            )

    def check_artifact(self, key: str, spec: Json) -> None:
        if "componentInputArtifact" in spec:
            name = spec["componentInputArtifact"]
            if name not in artifacts(self.dag_comp, "inputDefinitions"):
                self.problem(
                    f"input '{key}': componentInputArtifact '{name}' is not an input "
                    "artifact of the enclosing DAG"
                )
        elif "taskOutputArtifact" in spec:
            out = spec["taskOutputArtifact"]
            producer = out.get("producerTask")
            bad = self.refs.producer_output(
                self.tasks, producer, out.get("outputArtifactKey"), "artifacts"
            )
            if bad or producer == self.name:
                self.problem(f"input '{key}': {bad or 'a task cannot read its own output'}")

    def check_iterator(self, declared: Json) -> None:
        iterator = self.task.get("parameterIterator")
        if iterator is None:
            return
        item = iterator.get("itemInput")
        if item not in declared:
            self.problem(f"iterator itemInput '{item}' is not an input of the component")
        items = iterator.get("items", {})
        if "inputParameter" in items:
            name = items["inputParameter"]
            if name not in self.task.get("inputs", {}).get("parameters", {}):
                self.problem(f"iterator items.inputParameter '{name}' is not an input of the task")
        elif "raw" in items:
            self.check_raw_items(items["raw"], declared.get(item, {}).get("parameterType"))
        else:
            self.problem("iterator has neither items.raw nor items.inputParameter")

    def check_raw_items(self, raw: str, item_type: str | None) -> None:
        try:
            values = json.loads(raw)
        except ValueError:
            self.problem(f"iterator items.raw is not JSON: {raw!r}")
            return
        if not isinstance(values, list):
            self.problem("iterator items.raw is not a JSON list")
            return
        for value in values:
            if not compatible(json_type(value), item_type):
                self.problem(f"iterator item {value!r} does not fit the {item_type} itemInput")
                return

    def check_required(self, declared: Json, declared_a: Json) -> None:
        """resolve.go: a non-optional input without a value or default fails the driver."""
        given = self.task.get("inputs", {})
        item = self.task.get("parameterIterator", {}).get("itemInput")
        for key, spec in sorted(declared.items()):
            missing = key not in given.get("parameters", {}) and key != item
            if missing and not spec.get("isOptional") and "defaultValue" not in spec:
                self.problem(f"required input parameter '{key}' is not given")
        for key, spec in sorted(declared_a.items()):
            if key not in given.get("artifacts", {}) and not spec.get("isOptional"):
                self.problem(f"required input artifact '{key}' is not given")


def task_conditions(components: Mapping[str, Json]) -> Iterator[tuple[str, str, Json]]:
    """(dag component, task name, task) for every task with a trigger condition."""
    for dag_name, comp in sorted(components.items()):
        for task_name, task in sorted(comp.get("dag", {}).get("tasks", {}).items()):
            if task.get("triggerPolicy", {}).get("condition"):
                yield dag_name, task_name, task


def task_selectors(components: Mapping[str, Json]) -> Iterator[tuple[str, str, str, str]]:
    """(dag component, task name, input name, selector) for every parameterExpressionSelector."""
    for dag_name, comp in sorted(components.items()):
        for task_name, task in sorted(comp.get("dag", {}).get("tasks", {}).items()):
            for key, spec in sorted(task.get("inputs", {}).get("parameters", {}).items()):
                if spec.get("parameterExpressionSelector"):
                    yield dag_name, task_name, key, spec["parameterExpressionSelector"]
