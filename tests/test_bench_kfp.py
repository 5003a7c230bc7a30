"""The kfp DSL programs of the Kubeflow benchmark (benchmarks/kfp_program.py) are the spec's
pipeline: the same tasks, data edges, ``after`` edges, conditions and loops.

Read back without kfp (``ast`` for the straight-line program, the row table for the
table-driven one); tests/conformance/test_bench_kfp.py compiles them with kfp. No timings.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

import pytest

from benchmarks import bench_kfp
from benchmarks import generate as g
from benchmarks import kfp_program as kp

N = 10


@pytest.fixture(scope="module")
def spec_steps() -> dict[str, Any]:
    """The 10-step spec as written to YAML (the generator's plain data)."""
    steps: dict[str, Any] = g.spec_data(g.make_pipeline(N))["steps"]
    return steps


def _spec_edges(steps: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    """(reader, input, writer, output) for every ``inputs:`` entry of the spec."""
    edges = set()
    for sid, body in steps.items():
        for name, ref in body.get("inputs", {}).items():
            src, out = ref.split(".")
            edges.add((sid, name, src, out + kp.OUTPUT_SUFFIX))
    return edges


def test_the_spec_has_every_feature_the_benchmark_maps(spec_steps: dict[str, Any]) -> None:
    # Otherwise the checks below would pass on an empty subset.
    bodies = spec_steps.values()
    assert any("when" in b for b in bodies)
    assert any("foreach" in b for b in bodies)
    assert any("after" in b for b in bodies)
    assert any(len(b.get("inputs", {})) > 1 for b in bodies)
    assert any("gpu" in b.get("resources", {}) for b in bodies)


def test_straight_program_has_the_specs_tasks_and_edges(spec_steps: dict[str, Any]) -> None:
    prog = kp.program(g.make_pipeline(N), "straight")
    graph = kp.task_graph(prog)

    assert graph.components == {sid: sid for sid in spec_steps}
    assert graph.data_edges == _spec_edges(spec_steps)
    assert graph.after_edges == {(s, a) for s, b in spec_steps.items() for a in b.get("after", [])}
    assert graph.conditioned == {s for s, b in spec_steps.items() if "when" in b}
    assert graph.looped == {s for s, b in spec_steps.items() if "foreach" in b}


def test_conditions_compare_the_scores_float_with_the_param(spec_steps: dict[str, Any]) -> None:
    prog = kp.program(g.make_pipeline(N), "straight")
    expected = set()
    for body in spec_steps.values():
        if "when" in body:
            m = re.fullmatch(r"(\w+)\.metrics\.(\w+) >= params\.(\w+)", body["when"])
            assert m is not None and m.group(2) == kp.SCORE_OUTPUT
            expected.add(f'with dsl.If(t_{m.group(1)}.outputs["auc"] >= {m.group(3)}):')
    found = {line.strip() for line in prog.pipeline.splitlines() if "dsl.If(" in line}
    assert found == expected


def test_every_component_takes_what_its_command_reads(spec_steps: dict[str, Any]) -> None:
    """Component inputs: what the step's command and env read; the task call passes each."""
    prog = kp.program(g.make_pipeline(N), "straight")
    funcs = {f.name: f for f in ast.parse(prog.components).body if isinstance(f, ast.FunctionDef)}
    calls = {
        ast.unparse(c.func): {kw.arg for kw in c.keywords}
        for c in ast.walk(ast.parse(prog.pipeline))
        if isinstance(c, ast.Call) and ast.unparse(c.func) in spec_steps
    }
    assert set(funcs) == set(calls) == set(spec_steps)
    for sid, body in spec_steps.items():
        words = " ".join([*body["command"], *body.get("env", {}).values()])
        inputs = set(re.findall(r"\$\{inputs\.(\w+)\}", words))
        inputs |= set(re.findall(r"\$\{params\.(\w+)\}", words))
        inputs |= {"item"} if "foreach" in body else set()
        outputs = {o + kp.OUTPUT_SUFFIX for o in body.get("outputs", {})}
        outputs |= {kp.SCORE_OUTPUT} if sid.startswith("score_") else set()
        assert {a.arg for a in funcs[sid].args.args} == inputs | outputs, sid
        assert calls[sid] == inputs, sid


def test_table_program_rows_are_the_specs_steps(spec_steps: dict[str, Any]) -> None:
    prog = kp.program(g.make_pipeline(N), "table")
    (call,) = [
        n.value
        for n in ast.parse(prog.pipeline).body
        if isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) == "STEPS"
    ]
    assert isinstance(call, ast.Call) and isinstance(call.args[0], ast.Constant)
    assert isinstance(call.args[0].value, str)
    rows = json.loads(call.args[0].value)

    assert [r["id"] for r in rows] == list(spec_steps)  # the spec's order: writers first
    edges = {(r["id"], name, src, out) for r in rows for name, src, out in r["inputs"]}
    assert edges == _spec_edges(spec_steps)
    for row in rows:
        body = spec_steps[row["id"]]
        assert row["after"] == body.get("after", [])
        assert row["foreach"] == body.get("foreach")
        assert (row["when"] is None) == ("when" not in body)


def test_both_styles_share_the_components() -> None:
    pipeline = g.make_pipeline(N)
    table, straight = kp.program(pipeline, "table"), kp.program(pipeline, "straight")
    assert table.components == straight.components
    assert table.pipeline != straight.pipeline


def test_task_graph_refuses_a_table_program() -> None:
    with pytest.raises(ValueError, match="straight-line"):
        kp.task_graph(kp.program(g.make_pipeline(N), "table"))


def test_the_ir_comparison_sees_a_missing_edge() -> None:
    summary = {
        "tasks": ["a", "b"],
        "edges": {"a": [], "b": ["a"]},
        "components": 2,
        "executors": 2,
        "conditions": 0,
        "loops": 0,
        "documents": 1,
    }
    broken = {**summary, "edges": {"a": [], "b": []}}
    assert bench_kfp.compare(summary, summary)["same"]
    assert not bench_kfp.compare(summary, broken)["same"]
