"""Compiling specs to Airflow DAG files in tests, with target settings overridden."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from pipespec import ir
from pipespec.api import analyze_file, native_steps
from pipespec.backends.airflow.context import dag_path
from pipespec.backends.airflow.render import render_dag
from pipespec.compiler.complete import check_complete
from pipespec.diagnostics import Severity

VARIANTS = [("3", "kubernetes"), ("2", "kubernetes"), ("3", "local"), ("2", "local")]


def pipeline_of(spec: Path) -> ir.Pipeline:
    """The spec's IR, completed from its lock file as `compile --locked` does."""
    analysis = analyze_file(spec, fill=True, locked=True)
    assert analysis.pipeline is not None, analysis.diagnostics
    # A deploy with no command is Airflow's own (KServe, applied by a pod of pipespec's).
    assert not check_complete(analysis.pipeline, native_steps("airflow", analysis.pipeline))
    return analysis.pipeline


def with_airflow(pipeline: ir.Pipeline, **settings: Any) -> ir.Pipeline:
    targets = pipeline.targets.thaw()
    targets["airflow"] = {**targets.get("airflow", {}), **settings}
    return dataclasses.replace(pipeline, targets=ir.FrozenMap(targets))


def with_own_deploys(pipeline: ir.Pipeline) -> ir.Pipeline:
    """The pipeline with a command on each deploy Airflow's pods would serve with KServe:
    what a user of `operator: local` writes (a local task runs outside the cluster), so
    the other steps' local rendering stays covered."""
    from pipespec.backends.native_deploy import serves_natively

    command = ((ir.Text("python"),), (ir.Text("-m"),), (ir.Text("acme.deploy"),))
    image = "ghcr.io/acme/deploy:1.0.0"  # a command runs in an image (compile requires one)
    return dataclasses.replace(pipeline, steps=tuple(
        dataclasses.replace(s, command=command, image=s.image or image)
        if serves_natively(s) else s
        for s in pipeline.steps
    ))  # fmt: skip


def render(pipeline: ir.Pipeline, version: str, operator: str) -> str:
    if operator == "local":
        pipeline = with_own_deploys(pipeline)
    result = render_dag(with_airflow(pipeline, version=version, operator=operator))
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    assert not errors, errors
    # The pipeline's DAG; a monitor with a schedule of its own adds a DAG of its own.
    text: str = result.files[dag_path(pipeline)]
    return text


# Every example; churn compiles from its lock file (its steps are completed by fill).
COMPLETE_EXAMPLES = ["churn", "minimal", "showcase", "tuning"]


def example_spec(name: str) -> Path:
    """The spec path as users pass it, relative to the repository root."""
    return Path("examples") / name / "pipeline.yaml"
