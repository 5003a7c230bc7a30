"""The Kubeflow conformance checker: a KFP v2 pipeline file loads with kfp 2.17's own
libraries, breaks none of the rules KFP's backend relies on, and is the spec's pipeline.

Run through ``kfp_probe.py`` in the ``kfp`` venv: no problems (protos with no unknown
field, kfp's loader, references, placeholders, CEL); the pipeline's inputs are the spec's
params with their types, defaults and allowed values; every step is a container task (a
``tune`` step may add ``<task>-trials`` and ``<task>-best`` helper tasks, parts of the step),
and no other container task exists; what each step effectively waits for (its own and its
groups' dependencies, groups expanded to the tasks inside) includes the spec's
``step.upstream`` and orders no pair of steps the spec leaves unordered; foreach steps run
in a loop group, conditioned ones under a condition; and each ``when:`` decides as the
spec's expression does, on sample values, through KFP's driver logic (selectors, type
conversion, CEL).
"""

from __future__ import annotations

import itertools
import operator
import re
from pathlib import Path
from typing import Any

import networkx as nx

from pipespec import ir
from tests.conformance.checkers import Case, checker
from tests.conformance.kfp_runner import cel_eval, probe_kfp

KFP_TYPES = {
    "string": "String",
    "int": "Integer",
    "float": "Float",
    "bool": "Boolean",
    "list": "List",
    "dict": "Dict",
}
TUNE_HELPERS = ("trials", "best")
_MAX_SAMPLES = 32
_COMPARE = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def sanitize(name: str) -> str:
    """kfp's task-name rule (``maybe_rename_for_k8s``), written out again here so the
    checker does not take the backend's word for it."""
    return re.sub(r"-+", "-", re.sub(r"[^-0-9a-z]+", "-", name.lower())).strip("-")


def step_tasks(pipeline: ir.Pipeline) -> dict[str, str]:
    """Container task name -> the step it is (a part of)."""
    parts: dict[str, str] = {}
    for step in pipeline.steps:
        task = sanitize(step.id)
        names = [task] + ([f"{task}-{h}" for h in TUNE_HELPERS] if step.kind == "tune" else [])
        for name in names:
            assert name not in parts, f"{name} would be both {parts[name]} and {step.id}"
            parts[name] = step.id
    return parts


def assert_inputs_match(report: dict[str, Any], pipeline: ir.Pipeline) -> None:
    inputs = report["component"]["inputs"]
    assert sorted(inputs) == sorted(p.name for p in pipeline.params)
    for param in pipeline.params:
        got = inputs[param.name]
        assert got["type"] == KFP_TYPES[param.type], param.name
        assert got["default"] == ir.thaw(param.default), param.name
        if param.default is not None:
            assert got["optional"] is True, param.name
        if param.enum is not None:  # enforced by the API server on run parameters
            literals = report["root_inputs"][param.name].get("literals")
            assert literals == [ir.thaw(v) for v in param.enum], param.name


def kfp_upstream(
    report: dict[str, Any], pipeline: ir.Pipeline, parts: dict[str, str] | None = None
) -> dict[str, set[str]]:
    """Step -> the steps it effectively waits for in KFP (helper tasks folded into theirs;
    ``parts`` maps each task to its step, :func:`step_tasks` unless given)."""
    containers = report["graph"]["containers"]
    parts = step_tasks(pipeline) if parts is None else parts
    unknown = sorted(set(containers) - set(parts))
    assert not unknown, f"container tasks that are no step: {unknown}"
    waits: dict[str, set[str]] = {s.id: set() for s in pipeline.steps}
    for name, entry in containers.items():
        waits[parts[name]].update(parts[up] for up in entry["upstream"])
    return {step: ups - {step} for step, ups in waits.items()}


def _reachability(upstream: dict[str, set[str]]) -> set[tuple[str, str]]:
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(upstream)
    graph.add_edges_from((u, v) for v, ups in upstream.items() for u in ups)
    return {(u, v) for u in graph for v in nx.descendants(graph, u)}


def assert_graph_matches(
    report: dict[str, Any], pipeline: ir.Pipeline, parts: dict[str, str] | None = None
) -> None:
    """Every spec dependency is a direct one in KFP, and KFP orders nothing else: a group
    waits for what any task inside it needs, so a task may also wait for steps the spec
    orders before it anyway (an else branch waits for what its if branch reads)."""
    containers = report["graph"]["containers"]
    upstream = kfp_upstream(report, pipeline, parts)
    for step in pipeline.steps:
        task = sanitize(step.id)
        assert task in containers, f"step {step.id} has no container task {task}"
        missing = set(step.upstream) - upstream[step.id]
        assert not missing, f"{step.id} does not wait for {sorted(missing)} in KFP"
        entry = containers[task]
        if step.kind != "tune":
            assert bool(entry["loops"]) == (step.foreach is not None), (step.id, entry)
        assert bool(entry["conditions"]) == (step.condition is not None), (step.id, entry)
    spec = {s.id: set(s.upstream) for s in pipeline.steps}
    extra = _reachability(upstream) - _reachability(spec)
    assert not extra, f"KFP orders steps the spec does not: {sorted(extra)}"


def _value(expr: ir.Expr, values: dict[tuple[str, ...], Any]) -> Any:
    """The spec's condition, evaluated in Python (the meaning every target must keep)."""
    if isinstance(expr, ir.Literal):
        return expr.value
    if isinstance(expr, ir.Ref):
        return values[expr.parts]
    if isinstance(expr, ir.Not):
        return not _value(expr.operand, values)
    if isinstance(expr, ir.BoolOp):
        results = [bool(_value(e, values)) for e in expr.operands]
        return all(results) if expr.op == "and" else any(results)
    compare = _COMPARE[expr.op]
    return compare(_value(expr.left, values), _value(expr.right, values))


def _candidates(expr: ir.Expr, ref: ir.Ref, pipeline: ir.Pipeline) -> list[Any]:
    """Values of ``ref`` on both sides of every literal in the condition."""
    literals = [e.value for e in _walk(expr) if isinstance(e, ir.Literal)]
    if ref.param is not None:
        kind = next(p.type for p in pipeline.params if p.name == ref.param)
    else:
        output = next(o for o in pipeline.step(str(ref.step)).outputs if o.name == ref.output)
        kind = "float" if ref.key is not None else output.type
    if kind == "bool":
        return [True, False]
    if kind == "string":
        return sorted({str(v) for v in literals if isinstance(v, str)} | {"zz-other"})
    numbers = {
        float(v) for v in literals if isinstance(v, (int, float)) and not isinstance(v, bool)
    }
    found = sorted({n + d for n in numbers | {0.0} for d in (-1.0, 0.0, 0.5)})
    return [int(v) for v in found if v.is_integer()] if kind == "int" else found


def _combinations(pools: list[list[Any]]) -> list[tuple[Any, ...]]:
    """Every combination when there are few; else each value of each pool at least once,
    against varied values of the others."""
    every = list(itertools.product(*pools))
    if len(every) <= _MAX_SAMPLES:
        return every
    rounds = 2 * max(len(pool) for pool in pools)
    return [
        tuple(pool[(i * (j + 1) + j) % len(pool)] for j, pool in enumerate(pools))
        for i in range(rounds)
    ]


def _walk(expr: ir.Expr) -> list[ir.Expr]:
    if isinstance(expr, ir.Compare):
        return [expr, *_walk(expr.left), *_walk(expr.right)]
    if isinstance(expr, ir.BoolOp):
        return [expr, *(e for o in expr.operands for e in _walk(o))]
    if isinstance(expr, ir.Not):
        return [expr, *_walk(expr.operand)]
    return [expr]


def assert_conditions_decide(path: Path, pipeline: ir.Pipeline) -> None:
    """Each conditioned step runs in KFP exactly when its condition holds in the spec."""
    requests: list[dict[str, Any]] = []
    expected: list[tuple[str, dict[tuple[str, ...], Any], bool]] = []
    for step in pipeline.steps:
        if step.condition is None:
            continue
        refs = sorted({r.parts: r for r in _walk(step.condition) if isinstance(r, ir.Ref)}.items())
        pools = [_candidates(step.condition, r, pipeline) for _, r in refs]
        for combo in _combinations(pools):
            values = {parts: v for (parts, _), v in zip(refs, combo, strict=True)}
            parameters: dict[str, Any] = {}
            outputs: dict[str, dict[str, Any]] = {}
            for (_, ref), value in zip(refs, combo, strict=True):
                if ref.param is not None:
                    parameters[ref.param] = value
                    continue
                # The step's output, whichever of its tasks writes it (tune: `-best`).
                task = sanitize(str(ref.step))
                tune = pipeline.step(str(ref.step)).kind == "tune"
                for name in [task, *(f"{task}-{h}" for h in TUNE_HELPERS if tune)]:
                    producer = outputs.setdefault(name, {})
                    if ref.key is None:
                        producer[str(ref.output)] = value
                    else:
                        producer.setdefault(str(ref.output), {})[ref.key] = value
            requests.append(
                {
                    "file": path,
                    "run": sanitize(step.id),
                    "parameters": parameters,
                    "outputs": outputs,
                }
            )
            expected.append((step.id, values, bool(_value(step.condition, values))))
    if not requests:
        return
    for (step_id, values, want), got in zip(expected, cel_eval(requests), strict=True):
        shown = {".".join(parts): v for parts, v in values.items()}
        assert got.get("runs") == want, f"{step_id} with {shown}: spec {want}, KFP {got}"


@checker("kubeflow")
def check_kubeflow(case: Case) -> None:
    """One pipeline file per spec (plus a schedule script when the spec has a schedule)."""
    (name,) = [n for n in case.files if n.endswith(".yaml")]
    path = case.tmp_path / Path(name).name
    path.write_text(case.files[name], encoding="utf-8")
    report = probe_kfp(path)
    assert report["problems"] == [], "\n".join(report["problems"])
    assert report["pipeline_name"] in (case.pipeline.name, sanitize(case.pipeline.name))
    assert_inputs_match(report, case.pipeline)
    assert_graph_matches(report, case.pipeline)
    assert_conditions_decide(path, case.pipeline)
    scripts = [n for n in case.files if n.endswith(".schedule.py")]
    assert len(scripts) == (1 if case.pipeline.schedule else 0), sorted(case.files)
    for script in scripts:
        compile(case.files[script], script, "exec")  # a SyntaxError fails the row
