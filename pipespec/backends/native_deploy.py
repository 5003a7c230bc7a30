"""A `deploy` step with an endpoint and no command of its own, on the Kubernetes targets
(Airflow with KubernetesPodOperator, Kubeflow): pipespec serves its model itself.

The step becomes an ordinary container step before the target renders it: pipespec's
applier program (``serving_k8s``), in the target's helper image, applies the serving
resource (a KServe InferenceService, or a Seldon Core SeldonDeployment) built when
compiling, with the model's URI set at run time, and waits until it is Ready. The
resource travels as one JSON argument and the program is a fixed constant: nothing of the
spec becomes code.
"""

from __future__ import annotations

import dataclasses

from pipespec import ir
from pipespec.backends.placeholders import INPUT_URI
from pipespec.backends.serving_k8s import (
    APPLIER_PROGRAM,
    MANIFEST_ENV,
    Serving,
    deploy_manifest,
    manifest_json,
)
from pipespec.diagnostics import Diagnostic


def serves_natively(step: ir.Step) -> bool:
    """A deploy to an endpoint whose model comes from another step, with no code of its
    own (a `pipespec:` script is none either: the catalog has no deploy script)."""
    return (
        step.kind == "deploy"
        and isinstance(step.details, ir.DeployDetails)
        and step.details.endpoint is not None
        and not step.command
        and step.script is None
        and isinstance(getattr(step.input("model"), "source", None), ir.ArtifactRef)
    )


def _text(value: str) -> tuple[ir.Segment, ...]:
    return (ir.Text(value),)


def deploy_task(
    pipeline: ir.Pipeline, step: ir.Step, serving: Serving, namespace: str | None, image: str
) -> tuple[ir.Step, list[Diagnostic]]:
    """The step as a container step running the applier, and what building its resource
    found (errors stop the render)."""
    manifest = deploy_manifest(pipeline, step, serving, namespace)
    command = [
        _text("python3"),
        _text("-c"),
        _text(APPLIER_PROGRAM),
        _text("--model-uri"),
        (ir.Placeholder(INPUT_URI, "model", 0, 0),),
    ]
    if any(o.name == "endpoint" for o in step.outputs):  # the URL, for later steps
        command += [_text("--url-file"), (ir.Placeholder("outputs", "endpoint", 0, 0),)]
    env = (*step.env, (MANIFEST_ENV, _text(manifest_json(manifest))))
    task = dataclasses.replace(
        step, image=image, command=tuple(command), args=(), script=None, env=env
    )
    return task, list(manifest.diagnostics)


def with_native_deploys(
    pipeline: ir.Pipeline, serving: Serving, namespace: str | None, image: str
) -> tuple[ir.Pipeline, list[Diagnostic]]:
    """The pipeline with each natively served deploy step as its applier task, and what
    building their resources found."""
    found: list[Diagnostic] = []
    steps: list[ir.Step] = []
    for step in pipeline.steps:
        if not serves_natively(step):
            steps.append(step)
            continue
        task, notes = deploy_task(pipeline, step, serving, namespace, image)
        found += notes
        steps.append(task)
    return dataclasses.replace(pipeline, steps=tuple(steps)), found
