"""The IR carries what every backend needs, computed once by the compiler.

Edges with their kinds, one definition of parameter vs artifact outputs, typed kind details
(that still read as the mapping of the fields a spec set), and each step's script.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pipespec import ir
from pipespec.compiler.graph import PipelineGraph, build_graph
from pipespec.compiler.lower import lower
from pipespec.diagnostics import Diagnostic
from pipespec.spec import models
from pipespec.spec.loader import read_spec_file
from pipespec.spec.validate import ValidatedSpec, validate_spec
from tests.airflow.helpers import example_spec, pipeline_of
from tests.conftest import EXAMPLES, ROOT


def front_end(path: Path) -> tuple[ValidatedSpec, PipelineGraph, list[Diagnostic]]:
    loaded, diags = read_spec_file(path)
    assert loaded is not None, diags
    vspec, vdiags = validate_spec(loaded)
    pgraph, gdiags = build_graph(vspec)
    return vspec, pgraph, [*diags, *vdiags, *gdiags]


def pipeline_from(tmp_path: Path, text: str) -> tuple[ir.Pipeline, PipelineGraph]:
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(text)
    vspec, pgraph, diags = front_end(spec)
    assert not diags, diags
    return lower(vspec, pgraph), pgraph


KINDS_SPEC = """\
pipespec: 1
name: kinds
steps:
  a:
    kind: container
    image: busybox
    command: [a, "${outputs.n}", "${outputs.xs}"]
    outputs: {data: dataset, n: int, xs: list}
  b:
    kind: container
    image: busybox
    command: [b, "${inputs.d}"]
    inputs: {d: a.data}
    when: "a.n > 1"
  c:
    kind: container
    image: busybox
    command: [c, "${item}"]
    foreach: a.xs
    after: [b]
  d:
    kind: container
    image: busybox
    command: [d]
    when: "a.n > 2"
    after: [a, c]
"""


def test_edges_carry_every_kind_once(tmp_path: Path) -> None:
    pipeline, _ = pipeline_from(tmp_path, KINDS_SPEC)
    assert pipeline.edges == (
        ir.Dep("a", "b", ("data", "condition")),
        ir.Dep("a", "c", ("foreach",)),
        ir.Dep("b", "c", ("after",)),
        ir.Dep("a", "d", ("condition", "after")),
        ir.Dep("c", "d", ("after",)),
    )
    assert pipeline.step("b").deps[0].has("condition")
    assert not pipeline.step("c").deps[0].has("data")


@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: p.parent.name)
def test_deps_are_the_graph_edges_with_their_kinds(spec: Path) -> None:
    vspec, pgraph, _ = front_end(spec)
    pipeline = lower(vspec, pgraph)
    assert {(d.source, d.target) for d in pipeline.edges} == set(pgraph.graph.edges)
    for step in pipeline.steps:
        assert step.upstream == tuple(d.source for d in step.deps)
        for dep in step.deps:
            assert dep.target == step.id
            assert dep.kinds and list(dep.kinds) == [k for k in ir.DEP_KINDS if k in dep.kinds]
            why = {
                e.why
                for e in pgraph.edges
                if (e.upstream, e.downstream) == (dep.source, dep.target)
            }
            assert set(dep.kinds) == why


def test_parameter_or_artifact_has_one_definition() -> None:
    # The IR's set is the language's parameter types plus metrics, so they cannot drift.
    assert {"metrics", *models.PARAMETER_TYPES} == ir.PARAMETER_TYPES
    for type_name in models.OUTPUT_TYPES:
        artifact = type_name in ("dataset", "model", "artifact")
        assert ir.Output("x", type_name).is_parameter is not artifact
        assert ir.is_parameter(type_name) is not artifact


_COMMON = set(models.StepBase.model_fields) | {"kind"}


@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: p.parent.name)
def test_typed_details_read_as_the_fields_the_spec_set(spec: Path) -> None:
    """The mapping view of the typed details is what the untyped mapping was: the step
    model's own fields that are set, in declaration order."""
    vspec, pgraph, _ = front_end(spec)
    pipeline = lower(vspec, pgraph)
    for step in pipeline.steps:
        model = vspec.steps[step.id]
        dumped = {k: v for k, v in model.model_dump(exclude_none=True).items() if k not in _COMMON}
        assert ir.thaw(step.details) == dumped
        assert list(step.details) == list(dumped)
        camel = "".join(part.capitalize() for part in step.kind.split("_"))
        assert type(step.details).__name__ == camel + "Details"
        hash(step.details)  # frozen all the way down: a backend cannot change it


def test_tune_details_are_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    tune = pipeline_of(example_spec("tuning")).step("tune")
    details = tune.details
    assert isinstance(details, ir.TuneDetails)
    assert isinstance(details.objective, ir.Objective)
    assert details.objective.goal in ("maximize", "minimize")
    assert details.search_space is not None and details.max_trials is not None
    assert all(isinstance(d, ir.SearchDimension) for d in details.search_space.values())
    # A field that is not set is absent from the mapping view, not None.
    assert "parallel_trials" in details or details.parallel_trials is None


def test_every_kind_lowers_to_its_typed_details(tmp_path: Path) -> None:
    text = """\
pipespec: 1
name: every-kind
secrets:
  db: {kubernetes: {secret: db, key: dsn}}
steps:
  ingest:
    kind: ingest
    source: {type: sql, connection: db, query: select 1}
  train:
    kind: train
    framework: xgboost
    task: regression
    hyperparameters: {eta: 0.1}
    inputs: {train: ingest.data}
  evaluate:
    kind: evaluate
    metrics: [rmse]
    inputs: {model: train.model, test: ingest.data}
  deploy:
    kind: deploy
    endpoint: {name: ep}
    inputs: {model: train.model}
  monitor:
    kind: monitor
    drift: {metric: psi, threshold: 0.2}
    schedule: "@daily"
"""
    pipeline, _ = pipeline_from(tmp_path, text)
    ingest = pipeline.step("ingest").details
    assert isinstance(ingest, ir.IngestDetails) and ingest.source is not None
    assert (ingest.source.type, ingest.source.connection) == ("sql", "db")
    train = pipeline.step("train").details
    assert isinstance(train, ir.TrainDetails) and train.hyperparameters == {"eta": 0.1}
    evaluate = pipeline.step("evaluate").details
    assert isinstance(evaluate, ir.EvaluateDetails) and evaluate.metrics == ("rmse",)
    deploy = pipeline.step("deploy").details
    assert isinstance(deploy, ir.DeployDetails)
    assert deploy.endpoint == ir.Endpoint("ep", "small", 1, 1)
    monitor = pipeline.step("monitor").details
    assert isinstance(monitor, ir.MonitorDetails) and monitor.schedule == "@daily"
    assert monitor.drift == ir.Drift("psi", 0.2)


def test_a_script_is_read_once_into_the_ir(tmp_path: Path) -> None:
    source = "print('hello')\n"
    (tmp_path / "hello.py").write_text(source)
    text = "pipespec: 1\nname: s\nsteps:\n  a: {kind: container, image: x, script: hello.py}\n"
    pipeline, pgraph = pipeline_from(tmp_path, text)
    script = pipeline.step("a").script
    assert script is not None and script.source == source
    assert script.sha256 == hashlib.sha256(source.encode()).hexdigest()
    assert pgraph.facts["a"].script is script  # what the checks read is what backends get


def test_a_script_that_is_not_utf8_is_ps212_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "s.py").write_bytes(b"print('caf\xe9')\n")
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(
        "pipespec: 1\nname: s\nsteps:\n  a: {kind: container, image: x, script: s.py}\n"
    )
    _, _, diags = front_end(spec)
    (diag,) = diags
    assert diag.code == "PS212" and "is not UTF-8 text (bad byte at offset 10)" in diag.message
    assert diag.hint == "save the script as UTF-8"
    assert diag.span is not None and (diag.span.line, diag.span.col) == (4, 42)


@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: p.parent.name)
def test_pipespec_graph_draws_the_irs_edges(spec: Path) -> None:
    """`pipespec graph` and every backend see the same edges and kinds."""
    import json

    from pipespec.api import analyze_file
    from pipespec.compiler.render_graph import render

    analysis = analyze_file(spec)
    assert analysis.pipeline is not None
    drawn = json.loads(render(analysis, "json"))["edges"]
    # The graph lists edges in authoring order, the IR in pipeline order: compare as lists
    # per edge, so each edge's kinds keep their order.
    by_edge: dict[tuple[str, str], list[str]] = {}
    for e in drawn:
        by_edge.setdefault((e["from"], e["to"]), []).append(e["why"])
    assert by_edge == {(d.source, d.target): list(d.kinds) for d in analysis.pipeline.edges}
