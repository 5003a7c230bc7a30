"""A KFP v2 pipeline file in a names-aside normal form, to compare two files of the same
pipeline: pipespec's output and kfp's compilation of a hand-written DSL program.

Pure Python on the parsed YAML (no kfp import); ``kfp_equivalence.py`` runs it in the
kfp conformance venv. For each container task (keyed by its task name, which follows
kfp's naming rules in both files)::

    {"groups": [...],        # enclosing groups, outermost first (see _group_forms)
     "after": [...],         # every container task it waits for (see _after)
     "inputs": [...],        # "TYPE <- SOURCE", sorted: a multiset of resolved sources
     "outputs": {name: TYPE},
     "retry": {...} | None, "cache": bool, "trigger": strategy | None,
     "image", "command", "args", "env", "resources",  # placeholders by input *source*
     "platform": {...} | None}  # the KubernetesExecutorConfig

plus the pipeline's name, description and parameters (type, default, description).

A source is where a value comes from, whatever the inputs, group inputs and group
outputs it crosses are called (``kfp_ir_tree.Resolver``): ``param:NAME``, ``STEP.OUTPUT``,
``const:JSON``, ``item[STEPS]``, ``collected(SRC)``, ``oneof(SRC | SRC)``, then ``["key"]``
for a selected key.

Three differences that only the way a DSL program must be written makes are normalised,
each explained where it is handled (`_metric_views`, `_gate_after_conditions`,
`_conjuncts`), and two kinds of value are compared as what they mean (`_retry`: a retry
policy as KFP's backend runs it; `_json_text`: a JSON text as its JSON value); the normal
forms are otherwise the files' own facts. Output names are kept (the programs name
outputs as the spec does); input, group and channel names are not.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from tests.conformance.kfp_ir_tree import Node, Resolver, build_tree, selector_form

Json = Any

_INPUT_PLACEHOLDER = re.compile(
    r"\{\{\$\.inputs\.(parameters|artifacts)\['([^']+)'\]((?:\.[A-Za-z_]+)?)\}\}"
)
_VALUE = re.compile(r"inputs\.parameter_values\['([^']+)'\]")


def _metric_views(by_name: dict[str, Node]) -> dict[tuple[str, str], str]:
    """Outputs of a DSL program that stand for one key of a STRUCT output.

    pipespec's condition on a metrics key (``evaluate.metrics.auc >= ...``) reads the
    producer's STRUCT output into the condition group with ``parameterExpressionSelector:
    parseJson(string_value)["auc"]`` (the mechanism kfp uses for loop item fields, which
    KFP's driver applies to every task input). A DSL program cannot write that: ``dsl.If``
    refuses a dict channel ("Conditional requires primitive parameter values") and a task
    output cannot be subscripted. The nearest DSL gives the producer a float output for the
    key, named ``<struct output>_<key>`` by the programs' convention; here that output is
    read as ``producer.<struct output>["<key>"]`` and left out of the producer's outputs.
    Applied to the DSL side only. (The programs are compiled, never run: a real one's
    command would also write that file.)
    """
    views: dict[tuple[str, str], str] = {}
    for name, node in by_name.items():
        if node.kind != "container":
            continue
        outputs = node.comp.get("outputDefinitions", {}).get("parameters", {})
        structs = [k for k, v in outputs.items() if v.get("parameterType") == "STRUCT"]
        for out in outputs:
            for struct in structs:
                if out.startswith(struct + "_") and out != struct:
                    key = out[len(struct) + 1 :]
                    views[(name, out)] = f"{name}.{struct}" + selector_form(
                        f"parseJson(string_value)[{json.dumps(key)}]"
                    )
    return views


def _gate_after_conditions(by_name: dict[str, Node]) -> None:
    """Moves every task that runs after a condition group into that group.

    pipespec writes a step that runs ``after:`` a conditioned step (and reads nothing from
    it) beside the condition group, depending on the group; KFP's Argo backend runs it
    with ``depends: condition-x.Succeeded`` (backend/src/v2/compiler/argocompiler/dag.go),
    so it is skipped with the condition, as on Airflow. kfp's compiler refuses that
    dependency ("Illegal task dependency across DSL context managers": ``.after()`` takes
    tasks and dsl.ExitHandler groups only, and a task outside a dsl.If cannot depend on a
    task inside it), so the DSL program writes such a step inside the dsl.If, which runs
    it in the same cases. Here a node depending on a condition group sibling moves into
    it (now after the group's tasks), its other dependencies become the group's (where
    kfp's compiler puts them), and so on for nodes depending on a moved node. kfp's own
    output never has such a dependency: this is a no-op on the DSL side.
    """
    # What each group held before anything moved in: a moved node runs after those, not
    # after another moved node that itself waits for the group (that would be a cycle).
    # Nodes move in dependency order (one waiting for another that also moves goes after
    # it), so a moved node's dependency on a node still outside never becomes the group's.
    held: dict[str, set[str]] = {}
    while True:
        waiting = {
            name: group
            for name, node in by_name.items()
            if (group := _condition_dependency(node, by_name)) is not None
        }
        if not waiting:
            break
        name = next(n for n in waiting if not (by_name[n].deps & set(waiting) - {n}))
        group = waiting[name]
        _move_into(by_name[name], group, by_name, held.setdefault(group.name, set(group.kids)))


def _sibling(node: Node, name: str, by_name: dict[str, Node]) -> Node | None:
    """The node beside ``node`` (in its current DAG) that is or holds task ``name``."""
    target: Node | None = by_name.get(name)
    while target is not None and target.parent is not node.parent:
        target = target.parent
    return target


def _condition_dependency(node: Node, by_name: dict[str, Node]) -> Node | None:
    for dep in sorted(node.deps):
        sibling = _sibling(node, dep, by_name)
        if sibling is not None and sibling is not node and sibling.kind == "condition":
            return sibling
    return None


def _move_into(node: Node, group: Node, by_name: dict[str, Node], held: set[str]) -> None:
    assert node.parent is not None
    del node.parent.kids[node.name]
    kept: set[str] = set()
    for dep in node.deps:
        if dep == group.name:  # after the group: after what it held
            kept |= held
        elif _sibling(node, dep, by_name) is group:
            kept.add(dep)
        else:  # a dependency between a task in the group and one outside: the group's
            group.deps.add(dep)
    node.deps = kept
    node.parent = group
    group.kids[node.name] = node


def _split_top(text: str, operator: str) -> list[str]:
    """``text`` split at ``operator`` outside parentheses and string literals."""
    parts, depth, quote, start, i = [], 0, "", 0, 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and text.startswith(operator, i):
            parts.append(text[start:i].strip())
            start = i + len(operator)
            i = start
            continue
        i += 1
    parts.append(text[start:].strip())
    return parts


def _conjuncts(resolver: Resolver, group: Node) -> list[str]:
    """The condition of a condition group as its sorted conjuncts, each value it reads
    written as ``{SOURCE:TYPE}``.

    kfp's ``dsl.If`` takes one comparison, so the DSL programs write ``a and b`` as two
    nested ``dsl.If`` (merged back in `_group_forms`) and ``not flag`` as
    ``flag == False``: here a top-level ``&&`` splits the condition, and ``!(X)`` of a
    boolean value X reads as ``X == false`` (CEL: the same on a bool).
    """
    text = group.spec["triggerPolicy"]["condition"]
    types = group.comp.get("inputDefinitions", {}).get("parameters", {})

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        kind = str(types.get(name, {}).get("parameterType", "?"))
        return "{" + resolver.source(group, "parameters", name) + ":" + kind + "}"

    found = []
    for part in _split_top(text, "&&"):
        resolved = _VALUE.sub(value, part)
        negated = re.fullmatch(r"!\((\{[^{}]*:BOOLEAN\})\)", resolved)
        found.append(f"{negated.group(1)} == false" if negated else resolved)
    return sorted(found)


def _group_forms(resolver: Resolver, node: Node) -> list[dict[str, Json]]:
    """The groups around a container task, outermost first; directly nested condition
    groups merge into one (see `_conjuncts`)."""
    chain: list[Node] = []
    parent = node.parent
    while parent is not None and parent.kind != "root":
        chain.append(parent)
        parent = parent.parent
    forms: list[dict[str, Json]] = []
    for group in reversed(chain):
        if group.kind == "condition":
            conjuncts = _conjuncts(resolver, group)
            if forms and "if" in forms[-1]:
                forms[-1]["if"] = sorted(forms[-1]["if"] + conjuncts)
            else:
                forms.append({"if": conjuncts})
        elif group.kind == "loop":
            forms.append(_loop_form(resolver, group))
        else:
            forms.append({"branches": group.containers()})
    return forms


def _loop_form(resolver: Resolver, loop: Node) -> dict[str, Json]:
    """A loop's iterator: its raw items or the source of its list, and its parallelism.

    The item input's declared type is left out: kfp declares a loop over literal dicts
    STRUCT where pipespec declares STRING, which KFP's driver treats alike
    (backend/src/v2/driver/resolve.go converts any value of a STRING input to its JSON
    text, after the selectors have run); each task's own input types are compared.
    """
    iterator = loop.spec["parameterIterator"]
    items = iterator.get("items", {})
    form: dict[str, Json] = {}
    if "raw" in items:
        form["for"] = json.loads(items["raw"])
    else:
        form["for"] = resolver.source(loop, "parameters", items.get("inputParameter", ""))
    form["parallelism"] = loop.spec.get("iteratorPolicy", {}).get("parallelismLimit")
    return form


def _after(node: Node, by_name: dict[str, Node]) -> list[str]:
    """Every container task ``node`` waits for: those in what it and each of its groups
    depend on."""
    found: set[str] = set()
    current: Node | None = node
    while current is not None:
        for dep in current.deps:
            target = by_name.get(dep)
            found.update(target.containers(written=False) if target else [f"missing:{dep}"])
        current = current.parent
    return sorted(found)


def _type(definition: dict[str, Json]) -> str:
    if "parameterType" in definition:
        return str(definition["parameterType"])
    title = str(definition.get("artifactType", {}).get("schemaTitle", "?"))
    return title + "[]" if definition.get("isArtifactList") else title


def _io(
    resolver: Resolver, node: Node
) -> tuple[dict[tuple[str, str], str], list[str], dict[str, str]]:
    """Each input's source by (section, name), the inputs as "TYPE <- SOURCE" and the
    outputs' types (without the DSL's metric views)."""
    sources: dict[tuple[str, str], str] = {}
    inputs: list[str] = []
    for section, defs in node.comp.get("inputDefinitions", {}).items():
        for name, definition in defs.items():
            sources[(section, name)] = resolver.source(node, section, name)
            inputs.append(f"{_type(definition)} <- {sources[(section, name)]}")
    outputs = {
        name: _type(definition)
        for defs in node.comp.get("outputDefinitions", {}).values()
        for name, definition in defs.items()
        if (node.name, name) not in resolver.views
    }
    return sources, sorted(inputs), outputs


def _placeholders(values: list[str], sources: dict[tuple[str, str], str]) -> list[str]:
    def by_source(match: re.Match[str]) -> str:
        source = sources.get((match.group(1), match.group(2)), "undeclared:" + match.group(2))
        return "{{" + source + match.group(3) + "}}"

    return [_json_text(_INPUT_PLACEHOLDER.sub(by_source, value)) for value in values]


def _json_text(value: str) -> str:
    """A JSON object or array as the JSON value it is: keys sorted, one spacing, and an
    integral number written alike (JSON has one number type; pipespec writes a search
    space's int bounds as 6.0 where a DSL author writes 6, which the trials program
    reads alike)."""
    if not value.startswith(("{", "[")):
        return value
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    return json.dumps(_integral(parsed), sort_keys=True)


def _integral(value: Json) -> Json:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral(v) for v in value]
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    return value


def _retry(policy: dict[str, Json] | None) -> dict[str, Json] | None:
    """A retry policy as KFP's Argo backend runs it: a field left out is "0" there (its
    container templates default every retry parameter to "0",
    backend/src/v2/compiler/argocompiler/container.go), and the factor only scales a
    non-zero delay. kfp's set_retry writes every field (0s, 2.0, 3600s by default)."""
    if policy is None:
        return None
    delay = str(policy.get("backoffDuration", "0s"))
    return {
        "maxRetryCount": policy.get("maxRetryCount", 0),
        "backoffDuration": delay,
        "backoffFactor": None if delay in ("0s", "0") else policy.get("backoffFactor", 0),
        "backoffMaxDuration": str(policy.get("backoffMaxDuration", "0s")),
    }


def _container_form(
    resolver: Resolver, node: Node, by_name: dict[str, Node], pipeline: dict[str, Json]
) -> dict[str, Json]:
    label = node.comp.get("executorLabel", "")
    executor = pipeline.get("deploymentSpec", {}).get("executors", {}).get(label, {})
    container = executor.get("container", {})
    sources, inputs, outputs = _io(resolver, node)
    env = [
        {"name": e.get("name"), "value": _placeholders([e.get("value", "")], sources)[0]}
        for e in container.get("env", [])
    ]
    return {
        "groups": _group_forms(resolver, node),
        "after": _after(node, by_name),
        "inputs": inputs,
        "outputs": outputs,
        "retry": _retry(node.spec.get("retryPolicy")),
        "cache": bool(node.spec.get("cachingOptions", {}).get("enableCache", False)),
        "trigger": node.spec.get("triggerPolicy", {}).get("strategy"),
        "image": container.get("image"),
        "command": _placeholders(container.get("command", []), sources),
        "args": _placeholders(container.get("args", []), sources),
        "env": env,
        "resources": container.get("resources"),
        "executor": label,
    }


def _params(pipeline: dict[str, Json]) -> dict[str, Json]:
    defs = pipeline["root"].get("inputDefinitions", {}).get("parameters", {})
    return {
        name: {k: d.get(k) for k in ("parameterType", "defaultValue", "isOptional", "description")}
        for name, d in sorted(defs.items())
    }


def normal_form(
    docs: list[dict[str, Json]], *, dsl: bool, resolver_class: type[Resolver] = Resolver
) -> dict[str, Json]:
    """The normal form of a pipeline file's documents (PipelineSpec, then PlatformSpec if
    any); ``dsl``: the file is kfp's compilation of a DSL program (metric views apply);
    ``resolver_class``: how sources are written (``vertex_normal_form`` writes an input a
    task leaves to its component default as that value)."""
    pipeline = docs[0]
    platform = docs[1] if len(docs) > 1 else {}
    executors = (
        platform.get("platforms", {})
        .get("kubernetes", {})
        .get("deploymentSpec", {})
        .get("executors", {})
    )
    _, by_name = build_tree(pipeline)
    resolver = resolver_class(_metric_views(by_name) if dsl else {})
    _gate_after_conditions(by_name)
    tasks: dict[str, Json] = {}
    for name, node in sorted(by_name.items()):
        if node.kind == "container":
            form = _container_form(resolver, node, by_name, pipeline)
            form["platform"] = executors.get(form.pop("executor"))
            tasks[name] = form
    info = pipeline.get("pipelineInfo", {})
    return {
        "pipeline": {
            "name": info.get("name"),
            "description": info.get("description"),
            "params": _params(pipeline),
        },
        "tasks": tasks,
    }


@dataclass(frozen=True)
class Difference:
    """One field of one task (or of the pipeline) that differs; a value None: absent."""

    where: str  # "pipeline" or "task NAME"
    field: str
    dsl: Json
    pipespec: Json

    def __str__(self) -> str:
        return (
            f"{self.where}, {self.field}:\n  kfp DSL:  {_show(self.dsl)}"
            f"\n  pipespec: {_show(self.pipespec)}"
        )


def differences(dsl: dict[str, Json], pipespec: dict[str, Json]) -> list[Difference]:
    """Every difference between two normal forms, pipeline fields first, then by task."""
    found = [
        Difference("pipeline", key, dsl["pipeline"].get(key), pipespec["pipeline"].get(key))
        for key in ("name", "description", "params")
        if dsl["pipeline"].get(key) != pipespec["pipeline"].get(key)
    ]
    for task in sorted(set(dsl["tasks"]) | set(pipespec["tasks"])):
        theirs, ours = dsl["tasks"].get(task), pipespec["tasks"].get(task)
        if theirs is None or ours is None:
            found.append(Difference(f"task {task}", "(task)", theirs is not None, ours is not None))
            continue
        for name in sorted(set(theirs) | set(ours)):
            if theirs.get(name) != ours.get(name):
                found.append(Difference(f"task {task}", name, theirs.get(name), ours.get(name)))
    return found


def _show(value: Json) -> str:
    return json.dumps(value, sort_keys=True)
