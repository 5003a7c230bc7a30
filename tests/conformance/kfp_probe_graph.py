"""The task graph of a KFP PipelineSpec as the backend runs it: container tasks, the groups
(DAG tasks: conditions, loops, branches) they sit in, and what each one waits for.

Part of the probe (``kfp_probe.py``); plain Python over the spec as a dict.

A task starts when its ``dependentTasks`` have succeeded (Argo ``depends`` with
``.Succeeded``, backend/src/v2/compiler/argocompiler/dag.go), plus the producers of its
``taskOutputParameter``/``taskOutputArtifact`` inputs, which the Argo compiler adds
(``addImplicitDependencies``). A task inside a group also waits for whatever the group
waits for, and waiting for a group means waiting for every container task inside it. So the
*effective upstream* of a container task is the union, over the task and its enclosing
group tasks, of those dependencies, each group among them expanded to its container tasks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]


@dataclass
class Node:
    """A task, known by its path of task names from the root DAG."""

    path: tuple[str, ...]
    task: Json
    component: str
    is_container: bool
    children: list[Node] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path[-1]


def _deps(task: Json) -> set[str]:
    names = set(task.get("dependentTasks", []))
    inputs = task.get("inputs", {})
    for spec in inputs.get("parameters", {}).values():
        if "taskOutputParameter" in spec:
            names.add(spec["taskOutputParameter"].get("producerTask"))
    for spec in inputs.get("artifacts", {}).values():
        if "taskOutputArtifact" in spec:
            names.add(spec["taskOutputArtifact"].get("producerTask"))
    return names


def _kind(node: Node) -> str:
    task = node.task
    if "parameterIterator" in task or "artifactIterator" in task:
        return "loop"
    if task.get("triggerPolicy", {}).get("condition"):
        return "condition"
    return "dag"


class Graph:
    """Walks the DAGs from the root; ``problems`` holds self-nesting DAGs and name clashes."""

    def __init__(self, spec: Json) -> None:
        self.components: Json = spec.get("components", {})
        self.problems: list[str] = []
        self.nodes: list[Node] = []
        self.roots = self._walk(spec.get("root", {}), (), ("root",))

    def _walk(self, dag_comp: Json, prefix: tuple[str, ...], seen: tuple[str, ...]) -> list[Node]:
        children = []
        for name, task in sorted(dag_comp.get("dag", {}).get("tasks", {}).items()):
            ref = task.get("componentRef", {}).get("name", "")
            comp = self.components.get(ref)
            if comp is None:
                continue  # reported by the referential checks
            node = Node((*prefix, name), task, ref, "executorLabel" in comp)
            self.nodes.append(node)
            children.append(node)
            if "dag" in comp:
                if ref in seen:
                    self.problems.append(f"{ref}: the DAG contains itself")
                    continue
                node.children = self._walk(comp, node.path, (*seen, ref))
        return children

    def containers_in(self, node: Node) -> list[Node]:
        if node.is_container:
            return [node]
        return [c for child in node.children for c in self.containers_in(child)]

    def effective_upstream(self, node: Node) -> set[tuple[str, ...]]:
        """Paths of the container tasks ``node`` waits for."""
        by_path = {n.path: n for n in self.nodes}
        found: set[tuple[str, ...]] = set()
        for depth in range(1, len(node.path) + 1):
            holder = by_path[node.path[:depth]]
            for dep in _deps(holder.task):
                sibling = by_path.get((*holder.path[:-1], dep))
                if sibling is not None:
                    found.update(c.path for c in self.containers_in(sibling))
        return found

    def report(self) -> Json:
        """``containers`` and ``groups`` keyed by task name (by path if names repeat)."""
        counts: dict[str, int] = {}
        for node in self.nodes:
            counts[node.name] = counts.get(node.name, 0) + 1
        clashes = sorted(n for n, c in counts.items() if c > 1)
        if clashes:
            self.problems.append(f"task names used in more than one DAG: {', '.join(clashes)}")

        def key(path: tuple[str, ...]) -> str:
            return path[-1] if counts[path[-1]] == 1 else "/".join(path)

        by_path = {n.path: n for n in self.nodes}
        containers: Json = {}
        groups: Json = {}
        for node in self.nodes:
            enclosing = [by_path[node.path[:d]] for d in range(1, len(node.path))]
            entry: Json = {
                "component": node.component,
                "groups": [key(g.path) for g in enclosing],
                "loops": [key(g.path) for g in enclosing if _kind(g) == "loop"],
                "conditions": [
                    g.task["triggerPolicy"]["condition"]
                    for g in [*enclosing, node]
                    if g.task.get("triggerPolicy", {}).get("condition")
                ],
            }
            if node.is_container:
                entry["executor"] = self.components[node.component]["executorLabel"]
                entry["upstream"] = sorted(key(p) for p in self.effective_upstream(node))
                containers[key(node.path)] = entry
            else:
                entry["kind"] = _kind(node)
                entry["condition"] = node.task.get("triggerPolicy", {}).get("condition")
                entry["iterator"] = node.task.get("parameterIterator")
                entry["parallelism"] = node.task.get("iteratorPolicy", {}).get("parallelismLimit")
                entry["containers"] = sorted(key(c.path) for c in self.containers_in(node))
                groups[key(node.path)] = entry
        return {"containers": containers, "groups": groups}
