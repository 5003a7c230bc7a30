"""What KFP's driver does with input values and trigger conditions, for given values.

Part of the probe (``kfp_probe.py``). Two simulations over a parsed spec (a dict):

* :func:`simulate_task`: one task, raw values for its inputs: each input's
  ``parameterExpressionSelector`` is applied, then the driver's type check and conversion
  against the component's input definitions (resolve.go ``resolveInputs``), then the task's
  condition (expression.go ``Condition``).
* :func:`simulate_run`: whether a container task runs, given the pipeline's parameter values
  and the parameter outputs of container tasks: every task on its path (its enclosing groups
  and itself) resolves its inputs the same way, each from its source (a parameter, the
  enclosing group's input, a sibling's output, a constant), and the task runs when every
  condition on the path holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.conformance import kfp_probe_cel as cel
from tests.conformance.kfp_probe_graph import Graph, Node
from tests.conformance.kfp_probe_refs import json_type, params

Json = dict[str, Any]
_ACCEPTS = {  # an actual JSON type -> the declared types the driver accepts it for
    "NUMBER_DOUBLE": {"NUMBER_DOUBLE", "NUMBER_INTEGER"},
    "BOOLEAN": {"BOOLEAN"},
    "LIST": {"LIST"},
    "STRUCT": {"STRUCT", "TASK_FINAL_STATUS", "TASK_CONFIG"},
}


def driver_value(value: Any, declared: str | None) -> Any:
    """resolve.go handleParamTypeValidationAndConversion for one value."""
    if declared is None:
        return value
    if declared == "STRING":
        return value if isinstance(value, str) else cel.value_text(value)
    actual = json_type(value)
    if declared not in _ACCEPTS.get(actual, set()):
        raise cel.CelError(f"type mismatch: expect {declared}, got {actual}")
    return value


def _declared(components: Json, task: Json, key: str) -> str | None:
    comp = components.get(task.get("componentRef", {}).get("name"), {})
    result: str | None = params(comp, "inputDefinitions").get(key, {}).get("parameterType")
    return result


def _condition(task: Json, values: Json) -> bool | None:
    condition = task.get("triggerPolicy", {}).get("condition")
    return cel.run_condition(condition, values) if condition else None


def simulate_task(components: Json, wanted: str, raw_inputs: Mapping[str, Any]) -> Json:
    """The driver's view of task ``wanted`` (``name`` or ``dag/name``) given raw values."""
    matches = [
        task
        for dag, comp in components.items()
        for name, task in comp.get("dag", {}).get("tasks", {}).items()
        if wanted in (name, f"{dag}/{name}")
    ]
    if len(matches) != 1:
        raise cel.CelError(f"{len(matches)} tasks match {wanted!r}")
    task = matches[0]
    given = task.get("inputs", {}).get("parameters", {})
    values: Json = {}
    for key, raw in raw_inputs.items():
        if key not in given:
            raise cel.CelError(f"'{key}' is not an input parameter of task {wanted!r}")
        selector = given[key].get("parameterExpressionSelector")
        selected = cel.run_selector(selector, raw) if selector else raw
        values[key] = driver_value(selected, _declared(components, task, key))
    return {"parameter_values": values, "condition": _condition(task, values)}


class Run:
    """Resolves inputs along a container task's path from parameters and task outputs."""

    def __init__(self, spec: Json, parameters: Mapping[str, Any], outputs: Mapping[str, Any]):
        self.graph = Graph(spec)
        self.components: Json = spec.get("components", {})
        self.root_inputs = params(spec.get("root", {}), "inputDefinitions")
        self.parameters, self.outputs = parameters, outputs
        self.by_path = {node.path: node for node in self.graph.nodes}

    def inputs(self, node: Node) -> Json:
        """Every parameter input of ``node`` that has a value, as the driver resolves it."""
        values: Json = {}
        for key in node.task.get("inputs", {}).get("parameters", {}):
            try:
                values[key] = self.resolve(node, key)
            except LookupError:
                continue  # no value given for its source: absent, as an unset input is
        return values

    def resolve(self, node: Node, key: str) -> Any:
        spec = node.task["inputs"]["parameters"][key]
        raw = self.source(node, spec)
        selector = spec.get("parameterExpressionSelector")
        selected = cel.run_selector(selector, raw) if selector else raw
        return driver_value(selected, _declared(self.components, node.task, key))

    def source(self, node: Node, spec: Json) -> Any:
        if "componentInputParameter" in spec:
            name = spec["componentInputParameter"]
            if len(node.path) == 1:  # a pipeline parameter: the run's value or the default
                declared = self.root_inputs.get(name, {})
                value = self.parameters.get(name, declared.get("defaultValue"))
                if value is None:
                    raise LookupError(f"no value for parameter {name!r}")
                return driver_value(value, declared.get("parameterType"))
            return self.resolve(self.by_path[node.path[:-1]], name)
        if "taskOutputParameter" in spec:
            out = spec["taskOutputParameter"]
            sibling = (*node.path[:-1], out["producerTask"])
            producer = self.by_path[sibling]
            return self.output(producer, out["outputParameterKey"])
        if "runtimeValue" in spec:
            return spec["runtimeValue"].get("constant")
        raise LookupError(f"no simulated value for {spec}")

    def output(self, node: Node, key: str) -> Any:
        if node.is_container:
            return self.outputs[node.name][key]
        spec = self.components[node.component]["dag"].get("outputs", {}).get("parameters", {})
        selector = spec[key].get("valueFromParameter")
        if selector is None:
            raise LookupError(f"{node.name}: only valueFromParameter outputs are simulated")
        inner = (*node.path, selector["producerSubtask"])
        child = self.by_path[inner]
        return self.output(child, selector["outputParameterKey"])


def simulate_run(
    spec: Json, container: str, parameters: Mapping[str, Any], outputs: Mapping[str, Any]
) -> Json:
    """``{"runs": bool, "conditions": [bool, ...]}``: the conditions on ``container``'s path,
    outermost first, each evaluated on its task's resolved inputs."""
    run = Run(spec, parameters, outputs)
    nodes = [n for n in run.graph.nodes if n.is_container and n.name == container]
    if len(nodes) != 1:
        raise cel.CelError(f"{len(nodes)} container tasks are named {container!r}")
    path = nodes[0].path
    results = []
    for depth in range(1, len(path) + 1):
        holder = run.by_path[path[:depth]]
        result = _condition(holder.task, run.inputs(holder))
        if result is not None:
            results.append(result)
    return {"runs": all(results), "conditions": results}
