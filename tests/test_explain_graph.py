"""`pipespec explain` and `pipespec graph` show everything the spec says, and say it right."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pipespec.api import analyze_file
from pipespec.cli import main
from pipespec.compiler.explain import explain_rows
from tests.conftest import EXAMPLES

# Every field explain must cover: a data edge that is also a condition, an `after`, a
# `foreach`, secrets, per-target settings, and a user hyperparameter the catalog lacks.
SPEC = """\
pipespec: 1
name: explained
params:
  regions: {type: list, default: [eu, us]}
defaults:
  image: ghcr.io/acme/x:1.0
secrets:
  db:
    airflow: {conn_id: db}
    kubernetes: {secret: db-creds, key: dsn}
steps:
  prep:
    kind: container
    command: [prep, "${outputs.data}"]
    outputs: {data: dataset}
    secrets: {DB_URL: db}
  train:
    kind: train
    framework: xgboost
    task: binary_classification
    inputs: {train: prep.data}
    hyperparameters: {max_depth: 4, my_knob: 3}
    targets: {sagemaker: {instance_type: ml.m5.xlarge}}
  evaluate:
    kind: evaluate
    inputs: {model: train.model, test: prep.data}
  deploy:
    kind: deploy
    when: "evaluate.metrics.auc >= 0.8"
    inputs: {model: train.model, metrics: evaluate.metrics}
    command: [deploy, "${inputs.model}"]
    endpoint: {name: x, instance_type: small, min_replicas: 1, max_replicas: 1}
  fan:
    kind: container
    foreach: params.regions
    after: [deploy]
    retries: 3
    command: [echo, "${item}"]
"""


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(SPEC)
    return path


def _leaves(value: Any, prefix: str = "") -> Iterator[str]:
    """Dotted paths to every scalar or list the user wrote (lists are one value)."""
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from _leaves(item, f"{prefix}{key}.")
    else:
        yield prefix.rstrip(".")


def _covering(rows: list[tuple[str, str, str]], path: str) -> list[tuple[str, str, str]]:
    return [r for r in rows if path == r[0] or path.startswith(r[0] + ".")]


@pytest.mark.parametrize("path", [*EXAMPLES, None], ids=lambda p: p.parent.name if p else "spec")
def test_explain_lists_every_field_the_user_wrote_as_user(path: Path | None, spec: Path) -> None:
    analysis = analyze_file(path or spec, fill=True)
    assert analysis.pipeline is not None and analysis.loaded is not None
    for step in analysis.pipeline.steps:
        written = analysis.loaded.data["steps"][step.id]
        rows = explain_rows(step, written)
        for leaf in _leaves(written):
            covering = _covering(rows, leaf)
            assert covering, f"{step.id}: explain leaves out {leaf}"
            assert {r[2] for r in covering} == {"user"}, f"{step.id}.{leaf}: {covering}"


def test_explain_shows_flow_secrets_and_target_settings(spec: Path) -> None:
    result = CliRunner().invoke(main, ["explain", str(spec), "--step", "deploy"])
    assert result.exit_code == 0, result.stderr
    assert re.search(r"when\s+│ evaluate\.metrics\.auc >= 0\.8\s+│ user", result.stdout)
    assert re.search(r"inputs\.metrics\s+│ evaluate\.metrics \(metrics\)\s+│ user", result.stdout)
    out = CliRunner().invoke(main, ["explain", str(spec), "--step", "fan"]).stdout
    assert re.search(r"foreach\s+│ params\.regions\s+│ user", out)
    assert re.search(r'after\s+│ \["deploy"\]\s+│ user', out)
    out = CliRunner().invoke(main, ["explain", str(spec), "--step", "prep"]).stdout
    assert re.search(r"secrets\.DB_URL\s+│ db \(on airflow, kubernetes\)\s+│ user", out)
    assert re.search(r"outputs\.data\s+│ dataset\s+│ user", out)
    out = CliRunner().invoke(main, ["explain", str(spec), "--step", "train"]).stdout
    assert re.search(r"targets\.sagemaker\.instance_type\s+│ ml\.m5\.xlarge\s+│ user", out)
    assert re.search(r"hyperparameters\.my_knob\s+│ 3\s+│ user ", out)
    assert re.search(r"hyperparameters\.eta\s+│ [0-9.]+\s+│ catalog:xgboost@", out)
    assert "user+" not in out


def test_explain_prints_spec_text_verbatim_not_as_markup(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(SPEC.replace("command: [prep,", 'command: ["[bold]prep[/]",'))
    out = CliRunner().invoke(main, ["explain", str(path), "--step", "prep"]).stdout
    assert "[bold]prep[/]" in out


def _condition_pairs(path: Path) -> set[tuple[str, str]]:
    analysis = analyze_file(path)
    assert analysis.graph is not None
    return {(e.upstream, e.downstream) for e in analysis.graph.edges if e.why == "condition"}


@pytest.mark.parametrize("path", [*EXAMPLES, None], ids=lambda p: p.parent.name if p else "spec")
def test_every_condition_edge_is_labelled_in_every_format(path: Path | None, spec: Path) -> None:
    path = path or spec
    pairs = _condition_pairs(path)
    assert pairs or path != spec
    order = analyze_file(path).graph.order  # type: ignore[union-attr]
    ids = {sid: f"s{i}" for i, sid in enumerate(order)}
    mermaid = CliRunner().invoke(main, ["graph", str(path)]).stdout
    dot = CliRunner().invoke(main, ["graph", str(path), "--format", "dot"]).stdout
    doc = json.loads(CliRunner().invoke(main, ["graph", str(path), "--format", "json"]).stdout)
    for u, v in pairs:
        assert re.search(rf"{ids[u]} -->\|[^|]*when[^|]*\| {ids[v]}\n", mermaid), (u, v)
        assert re.search(rf'"{u}" -> "{v}" \[[^]]*label="[^"]*when', dot), (u, v)
        assert {"from": u, "to": v, "why": "condition"} in doc["edges"]


def test_a_data_edge_that_is_also_a_condition_says_both(spec: Path) -> None:
    doc = json.loads(CliRunner().invoke(main, ["graph", str(spec), "--format", "json"]).stdout)
    whys = [e["why"] for e in doc["edges"] if (e["from"], e["to"]) == ("evaluate", "deploy")]
    assert whys == ["data", "condition"]
    mermaid = CliRunner().invoke(main, ["graph", str(spec)]).stdout
    assert mermaid.count(" -->|when| ") == 1 and mermaid.count("-.->") == 1  # fan after deploy
