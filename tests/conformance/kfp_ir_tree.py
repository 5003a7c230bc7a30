"""A KFP v2 PipelineSpec (parsed YAML) as a tree of tasks, and where each task input's
value comes from through every group boundary, whatever the inputs, group inputs and
group outputs it crosses are called (``kfp_normal_form.py`` builds on both).

A source: ``param:NAME`` (a root parameter), ``STEP.OUTPUT`` (a container task's
output), ``const:JSON``, ``item[STEPS]`` (the item of the loop holding those container
tasks), ``collected(SRC)`` (every iteration's, out of a loop: dsl.Collected),
``oneof(SRC | SRC)`` (whichever branch ran: dsl.OneOf), each followed by ``["key"]`` when
a ``parameterExpressionSelector`` picks a key of it; ``default:NAME`` for an input no
task feeds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

Json = Any

_JSON_KEY = re.compile(r'^parseJson\(string_value\)(\["[^"]*"\])$')


@dataclass(eq=False)
class Node:
    """A task of some DAG: a container task or a group (condition, loop, branches), or
    the root. ``home`` is the DAG it is written in; ``parent`` and ``deps`` start equal
    to the file's and only `kfp_normal_form._gate_after_conditions` moves them."""

    name: str
    kind: str  # "root" | "container" | "condition" | "loop" | "branches"
    spec: dict[str, Json]  # the PipelineTaskSpec in its DAG ({} for the root)
    comp: dict[str, Json]  # its component (the root's is spec["root"])
    home: Node | None
    children: dict[str, Node] = field(default_factory=dict)  # as written
    parent: Node | None = None
    deps: set[str] = field(default_factory=set)
    kids: dict[str, Node] = field(default_factory=dict)  # after moves

    def containers(self, *, written: bool = True) -> list[str]:
        """The container tasks under this node (itself if it is one)."""
        if self.kind == "container":
            return [self.name]
        nodes = self.children if written else self.kids
        return sorted(n for c in nodes.values() for n in c.containers(written=written))


def _kind(spec: dict[str, Json], comp: dict[str, Json]) -> str:
    if "dag" not in comp:
        return "container"
    if "parameterIterator" in spec:
        return "loop"
    if "triggerPolicy" in spec and spec["triggerPolicy"].get("condition"):
        return "condition"
    return "branches"


def build_tree(pipeline: dict[str, Json]) -> tuple[Node, dict[str, Node]]:
    """The root node and every node by task name."""
    components = pipeline["components"]
    root = Node("", "root", {}, pipeline["root"], None)
    by_name: dict[str, Node] = {}

    def walk(node: Node) -> None:
        for name, spec in sorted(node.comp["dag"].get("tasks", {}).items()):
            comp = components[spec["componentRef"]["name"]]
            child = Node(name, _kind(spec, comp), spec, comp, node, parent=node)
            child.deps = set(spec.get("dependentTasks", []))
            node.children[name] = child
            node.kids[name] = child
            if name in by_name:
                raise ValueError(f"task name {name!r} appears twice")
            by_name[name] = child
            if child.kind != "container":
                walk(child)

    walk(root)
    return root, by_name


class Resolver:
    """Where each input of a task comes from, through every group boundary."""

    def __init__(self, views: dict[tuple[str, str], str]) -> None:
        self.views = views  # (container, output) -> the source it stands for

    def source(self, node: Node, section: str, name: str) -> str:
        """The source of input ``name`` of ``node``'s task (as fed in its DAG)."""
        spec = node.spec.get("inputs", {}).get(section, {}).get(name)
        if spec is None:
            return f"default:{name}"
        assert node.home is not None
        return self._from_spec(node.home, spec)

    def _from_spec(self, dag: Node, spec: dict[str, Json]) -> str:
        if "componentInputParameter" in spec:
            base = self._component_input(dag, "parameters", spec["componentInputParameter"])
        elif "componentInputArtifact" in spec:
            base = self._component_input(dag, "artifacts", spec["componentInputArtifact"])
        elif "taskOutputParameter" in spec:
            out = spec["taskOutputParameter"]
            producer = dag.children[out["producerTask"]]
            base = self.output(producer, "parameters", out["outputParameterKey"])
        elif "taskOutputArtifact" in spec:
            out = spec["taskOutputArtifact"]
            producer = dag.children[out["producerTask"]]
            base = self.output(producer, "artifacts", out["outputArtifactKey"])
        elif "runtimeValue" in spec:
            base = "const:" + json.dumps(spec["runtimeValue"].get("constant"), sort_keys=True)
        else:
            base = "unknown:" + json.dumps(spec, sort_keys=True)
        selector = spec.get("parameterExpressionSelector")
        return base + selector_form(selector) if selector else base

    def _component_input(self, dag: Node, section: str, name: str) -> str:
        if dag.kind == "root":
            return f"param:{name}"
        iterator = dag.spec.get("parameterIterator", {})
        if iterator.get("itemInput") == name:
            return f"item[{','.join(dag.containers())}]"
        return self.source(dag, section, name)

    def output(self, producer: Node, section: str, key: str) -> str:
        """The source behind output ``key`` of a task or group."""
        if producer.kind == "container":
            return self.views.get((producer.name, key), f"{producer.name}.{key}")
        selector = producer.comp["dag"].get("outputs", {}).get(section, {}).get(key)
        if selector is None:
            return f"missing:{producer.name}.{key}"
        if section == "parameters" and "valueFromParameter" in selector:
            picks = [selector["valueFromParameter"]]
        elif section == "parameters":
            picks = selector.get("valueFromOneof", {}).get("parameterSelectors", [])
        else:
            picks = selector.get("artifactSelectors", [])
        key_name = "outputParameterKey" if section == "parameters" else "outputArtifactKey"
        inner = [
            self.output(producer.children[p["producerSubtask"]], section, p[key_name])
            for p in picks
        ]
        text = inner[0] if len(inner) == 1 else "oneof(" + " | ".join(sorted(inner)) + ")"
        return f"collected({text})" if producer.kind == "loop" else text


def selector_form(selector: str) -> str:
    """``parseJson(string_value)["auc"]`` -> ``["auc"]``; any other selector verbatim."""
    match = _JSON_KEY.match(selector)
    return match.group(1) if match else "{" + selector + "}"
