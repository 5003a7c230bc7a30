"""Regenerate the Kubeflow probe samples with the real kfp compiler (not run by the tests).

    python -m venv V && V/bin/pip install -r tests/conformance/locks/kfp.txt
    cd tests/conformance/samples/kubeflow && ../../../../V/bin/python make_samples.py

``good.yaml``: what kfp 2.17.0 compiles from the DSL program below: container components
with every placeholder kind, retries, caching, resources, Kubernetes settings (the second
YAML document), an If/Else whose outputs meet in a OneOf, a nested If, a ParallelFor over
dicts (parameterExpressionSelector per key) whose output is Collected after the loop, and a
ParallelFor over a list parameter.

``metric_gate.yaml``: the form pipespec's backend gives `when: evaluate.metrics.auc >=
params.min_auc`, which the DSL cannot write: compiled from a float output, then the group's
input reads evaluate's STRUCT output ``metrics`` through ``parseJson(string_value)["auc"]``.
"""

# No `from __future__ import annotations`: kfp reads the annotations as objects.

from typing import Any

import yaml
from kfp import compiler, dsl, kubernetes
from kfp.dsl import Dataset, Input, Model, Output

IMAGE = "python:3.11-slim"


@dsl.container_component
def prepare(rows: int, data: Output[Dataset]) -> dsl.ContainerSpec:
    return dsl.ContainerSpec(
        image=IMAGE, command=["python", "prep.py"], args=["--rows", rows, "--out", data.path]
    )


@dsl.container_component
def train(
    data: Input[Dataset], lr: float, model: Output[Model], stats: dsl.OutputPath(dict)
) -> dsl.ContainerSpec:
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["python", "train.py"],
        args=["--data", data.path, "--lr", lr, "--model", model.uri, "--stats", stats],
    )


@dsl.container_component
def evaluate(model: Input[Model], auc: dsl.OutputPath(float)) -> dsl.ContainerSpec:
    return dsl.ContainerSpec(image=IMAGE, command=["python", "eval.py"], args=[model.path, auc])


@dsl.container_component
def deploy(model: Input[Model], name: str) -> dsl.ContainerSpec:
    return dsl.ContainerSpec(image=IMAGE, command=["python", "deploy.py"], args=[model.path, name])


@dsl.container_component
def fit(lr: float, depth: float, score: dsl.OutputPath(float)) -> dsl.ContainerSpec:
    return dsl.ContainerSpec(image=IMAGE, command=["python", "fit.py"], args=[lr, depth, score])


@dsl.container_component
def pick(scores: list, best: dsl.OutputPath(str)) -> dsl.ContainerSpec:
    return dsl.ContainerSpec(image=IMAGE, command=["python", "pick.py"], args=[scores, best])


@dsl.container_component
def label(text: str, out: dsl.OutputPath(str)) -> dsl.ContainerSpec:
    return dsl.ContainerSpec(image=IMAGE, command=["echo"], args=[text, out])


@dsl.container_component
def report(text: str) -> dsl.ContainerSpec:
    return dsl.ContainerSpec(image=IMAGE, command=["echo"], args=[text])


GRID = [{"lr": 0.1, "depth": 3}, {"lr": 0.2, "depth": 5}]


@dsl.pipeline(name="probe-good", description="Every construct the probe checks")
def good(
    rows: int = 100,
    lr: float = 0.1,
    name: str = "m",
    mode: str = "a",
    seeds: list = [1, 2],  # noqa: B006 - a KFP default value, never mutated
) -> None:
    p = prepare(rows=rows)
    p.set_retry(
        num_retries=2, backoff_duration="5s", backoff_factor=2.0, backoff_max_duration="60s"
    )
    p.set_caching_options(False)
    p.set_cpu_request("500m").set_memory_limit("2Gi")
    p.set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(1)
    kubernetes.add_node_selector(p, "pool", "cpu")
    kubernetes.add_toleration(p, key="k", operator="Equal", value="v", effect="NoSchedule")
    kubernetes.use_secret_as_env(p, secret_name="api", secret_key_to_env={"token": "API_TOKEN"})
    kubernetes.set_timeout(p, 600)
    t = train(data=p.outputs["data"], lr=lr)
    e = evaluate(model=t.outputs["model"])
    with dsl.If(rows > 10), dsl.If(name == "m"):  # two nested condition groups
        deploy(model=t.outputs["model"], name=name).after(e)
    with dsl.If(mode == "a"):
        a = label(text="a")
    with dsl.Else():
        b = label(text="b")
    report(text=dsl.OneOf(a.outputs["out"], b.outputs["out"]))
    with dsl.ParallelFor(items=GRID, parallelism=2) as item:
        f = fit(lr=item.lr, depth=item.depth).after(t)
    pick(scores=dsl.Collected(f.outputs["score"]))
    with dsl.ParallelFor(items=seeds) as seed:
        report(text=seed)


@dsl.pipeline(name="probe-metric-gate")
def gate(min_auc: float = 0.8) -> None:
    e = evaluate(model=dsl.importer(artifact_uri="gs://b/m", artifact_class=Model).output)
    with dsl.If(e.outputs["auc"] >= min_auc):
        report(text="deploy")


def metric_gate(path: str) -> None:
    """Turn gate's float `auc` into a STRUCT `metrics` read through a selector."""
    with open(path) as handle:
        spec: dict[str, Any] = yaml.safe_load(handle)
    comp = spec["components"]["comp-evaluate"]
    comp["outputDefinitions"] = {"parameters": {"metrics": {"parameterType": "STRUCT"}}}
    args = spec["deploymentSpec"]["executors"]["exec-evaluate"]["container"]["args"]
    args[1] = "{{$.outputs.parameters['metrics'].output_file}}"
    channel = spec["root"]["dag"]["tasks"]["condition-1"]["inputs"]["parameters"][
        "pipelinechannel--evaluate-auc"
    ]
    channel["taskOutputParameter"]["outputParameterKey"] = "metrics"
    channel["parameterExpressionSelector"] = 'parseJson(string_value)["auc"]'
    with open(path, "w") as handle:
        handle.write("# kfp 2.17.0 output, edited by make_samples.py (see its docstring)\n")
        yaml.safe_dump(spec, handle, sort_keys=True)


if __name__ == "__main__":
    compiler.Compiler().compile(good, "good.yaml")
    compiler.Compiler().compile(gate, "metric_gate.yaml")
    metric_gate("metric_gate.yaml")
