"""The Kubeflow probe itself, on files kfp 2.17 compiled (samples/kubeflow/, made by
make_samples.py there) and on mutations of them that KFP would reject or run wrongly.

Every mutation must make the probe report a problem naming what is wrong; the unmutated
files (and the good one after a load/dump round trip through pipespec's own YAML emitter,
the way the backend writes) must report none.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from pipespec.backends.emit import to_yaml
from tests.conformance.kfp_runner import cel_eval, probe_kfp, probe_many

pytestmark = pytest.mark.conformance

SAMPLES = Path(__file__).resolve().parent / "samples" / "kubeflow"
GOOD = SAMPLES / "good.yaml"
GATE = SAMPLES / "metric_gate.yaml"
Docs = list[dict[str, Any]]


def load_docs(path: Path) -> Docs:
    return [d for d in YAML(typ="safe").load_all(StringIO(path.read_text())) if d is not None]


def write_docs(docs: Docs, path: Path) -> Path:
    path.write_text("---\n".join(to_yaml(d) for d in docs))
    return path


def _root(docs: Docs) -> dict[str, Any]:
    tasks: dict[str, Any] = docs[0]["root"]["dag"]["tasks"]
    return tasks


def _args(docs: Docs, executor: str) -> list[str]:
    args: list[str] = docs[0]["deploymentSpec"]["executors"][executor]["container"]["args"]
    return args


def _condition(docs: Docs, text: str) -> None:
    _root(docs)["condition-1"]["triggerPolicy"]["condition"] = text


def _k8s(docs: Docs) -> dict[str, Any]:
    executors: dict[str, Any] = docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    return executors


def _orphan(docs: Docs) -> None:
    docs[0]["components"]["comp-orphan"] = {"executorLabel": "exec-orphan"}
    docs[0]["deploymentSpec"]["executors"]["exec-orphan"] = {"container": {"image": "x"}}


def _driver_clash(docs: Docs) -> None:
    _root(docs)["train-driver"] = copy.deepcopy(_root(docs)["train"])
    _root(docs)["train-driver"]["taskInfo"]["name"] = "train-driver"


Mutation = Callable[[Docs], Any]
# name -> (mutation of good.yaml's documents, text the probe's problems must contain)
MUTATIONS: dict[str, tuple[Mutation, str]] = {
    "dangling-dependent-task": (
        lambda d: _root(d)["train"]["dependentTasks"].append("nope"),
        "dependentTasks entry 'nope' is not a sibling task",
    ),
    "unknown-field": (
        lambda d: _root(d)["train"].update(taskInfo={"name": "x", "bogus": 1}),
        'has no field named "bogus" at "PipelineSpec.root.dag.tasks[train].taskInfo"',
    ),
    "placeholder-names-no-input": (
        lambda d: _args(d, "exec-train").append("{{$.inputs.parameters['nope']}}"),
        "placeholder names input parameter 'nope'",
    ),
    "placeholder-form-unknown": (
        lambda d: _args(d, "exec-train").append("{{$.inputs.parameters['lr'].value}}"),
        "is not one the launcher substitutes",
    ),
    "output-never-passed": (
        lambda d: _args(d, "exec-train").remove("{{$.outputs.artifacts['model'].uri}}"),
        "output artifact 'model' is never passed to the container",
    ),
    "unknown-component-ref": (
        lambda d: _root(d)["train"]["componentRef"].update(name="comp-nope"),
        "componentRef 'comp-nope' names no component",
    ),
    "unknown-executor": (
        lambda d: d[0]["components"]["comp-train"].update(executorLabel="exec-nope"),
        "executorLabel 'exec-nope' names no executor",
    ),
    "unused-component-and-executor": (_orphan, "comp-orphan: component is not used by any task"),
    "bad-cel-condition": (
        lambda d: _condition(d, "inputs.parameter_values['pipelinechannel--rows'] >"),
        "does not parse",
    ),
    "cel-undeclared-variable": (
        lambda d: _condition(d, "rows > 10"),
        "undeclared reference to 'rows'",
    ),
    "cel-undefined-field": (
        lambda d: _condition(d, "inputs.values['pipelinechannel--rows'] > 10"),
        "undefined field 'values' of 'inputs'",
    ),
    "cel-key-not-a-task-input": (
        lambda d: _condition(d, "inputs.parameter_values['nope'] == 'x'"),
        "inputs.parameter_values['nope'] is not an input of the task",
    ),
    "cel-type-error": (
        lambda d: _condition(d, "inputs.parameter_values['pipelinechannel--name'] > 10"),
        "fails on values of the declared input types",
    ),
    "cel-bad-selector": (
        lambda d: d[0]["components"]["comp-for-loop-7"]["dag"]["tasks"]["fit"]["inputs"][
            "parameters"
        ]["lr"].update(parameterExpressionSelector='parseJson(value)["lr"]'),
        "undeclared reference to 'value'",
    ),
    "missing-output-key": (
        lambda d: _root(d)["evaluate"]["inputs"]["artifacts"]["model"]["taskOutputArtifact"].update(
            outputArtifactKey="nope"
        ),
        "'train' has no output artifact 'nope'",
    ),
    "parameter-read-as-artifact": (
        lambda d: _root(d)["evaluate"]["inputs"]["artifacts"]["model"]["taskOutputArtifact"].update(
            outputArtifactKey="stats"
        ),
        "'train' has no output artifact 'stats'",
    ),
    "missing-enclosing-input": (
        lambda d: _root(d)["train"]["inputs"]["parameters"]["lr"].update(
            componentInputParameter="nope"
        ),
        "componentInputParameter 'nope' is not an input of the enclosing DAG",
    ),
    "task-input-not-a-component-input": (
        lambda d: _root(d)["train"]["inputs"]["parameters"].update(
            extra={"componentInputParameter": "lr"}
        ),
        "input parameter 'extra' is not an input parameter of the component",
    ),
    "required-input-missing": (
        lambda d: _root(d)["train"]["inputs"]["parameters"].pop("lr"),
        "required input parameter 'lr' is not given",
    ),
    "constant-of-wrong-type": (
        lambda d: _root(d)["train"]["inputs"]["parameters"].update(
            lr={"runtimeValue": {"constant": "fast"}}
        ),
        "a STRING value for a NUMBER_DOUBLE input",
    ),
    "dag-output-from-missing-subtask": (
        lambda d: d[0]["components"]["comp-for-loop-7"]["dag"]["outputs"]["parameters"][
            "pipelinechannel--fit-score"
        ]["valueFromParameter"].update(producerSubtask="nope"),
        "producer task 'nope' is not a sibling task",
    ),
    "iterator-items-not-an-input": (
        lambda d: _root(d)["for-loop-8"]["parameterIterator"]["items"].update(
            inputParameter="nope"
        ),
        "iterator items.inputParameter 'nope' is not an input of the task",
    ),
    "dependency-cycle": (
        lambda d: _root(d)["prepare"].update(dependentTasks=["train"]),
        "dependentTasks form a cycle",
    ),
    "argo-driver-name-clash": (_driver_clash, "clashes with the Argo driver node"),
    "bad-quantity": (
        lambda d: d[0]["deploymentSpec"]["executors"]["exec-prepare"]["container"][
            "resources"
        ].update(resourceCpuRequest="lots"),
        "resources resourceCpuRequest 'lots' is not a Kubernetes quantity",
    ),
    "schema-version": (
        lambda d: d[0].update(schemaVersion="2.0.0"),
        "accepts only 2.1.0",
    ),
    "platform-executor-unknown": (
        lambda d: _k8s(d).update({"exec-nope": _k8s(d).pop("exec-prepare")}),
        "PlatformSpec executor 'exec-nope' names no executor",
    ),
    "kubernetes-config-unknown-field": (
        lambda d: _k8s(d)["exec-prepare"]["nodeSelector"].update(bogus=1),
        "PlatformSpec executor 'exec-prepare'",
    ),
    "third-document": (lambda d: d.append({"x": 1}), "got 3 YAML documents"),
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every sample and mutation, probed in one subprocess."""
    folder = tmp_path_factory.mktemp("kfp-mutations")
    files = {"good": GOOD, "metric_gate": GATE}
    files["roundtrip"] = write_docs(load_docs(GOOD), folder / "roundtrip.yaml")
    for name, (mutate, _) in MUTATIONS.items():
        docs = load_docs(GOOD)
        mutate(docs)
        files[name] = write_docs(docs, folder / f"{name}.yaml")
    by_path = probe_many(list(files.values()))
    return {name: by_path[path.resolve()] for name, path in files.items()}


@pytest.mark.parametrize("name", ["good", "metric_gate", "roundtrip"])
def test_kfp_compiled_files_have_no_problems(reports: dict[str, dict[str, Any]], name: str) -> None:
    report = reports[name]
    assert report["problems"] == []
    assert report["versions"]["kfp"] == "2.17.0"
    assert report["schema_version"] == "2.1.0"


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_mutation_is_reported(reports: dict[str, dict[str, Any]], name: str) -> None:
    expected = MUTATIONS[name][1]
    problems = reports[name]["problems"]
    assert any(expected in p for p in problems), problems


def test_component_inputs_and_platform(reports: dict[str, dict[str, Any]]) -> None:
    report = reports["good"]
    assert report["pipeline_name"] == "probe-good"
    assert report["documents"] == 2
    assert report["platform_executors"] == ["exec-prepare"]
    component = report["component"]
    assert component["name"] == "probe-good"
    inputs = component["inputs"]
    assert sorted(inputs) == ["lr", "mode", "name", "rows", "seeds"]
    assert inputs["rows"] == {
        "type": "Integer",
        "default": 100,
        "optional": True,
        "is_artifact_list": False,
    }
    assert inputs["seeds"]["default"] == [1, 2]


def test_graph_of_groups(reports: dict[str, dict[str, Any]]) -> None:
    graph = reports["good"]["graph"]
    upstream = {name: c["upstream"] for name, c in graph["containers"].items()}
    assert upstream == {
        "prepare": [],
        "train": ["prepare"],
        "evaluate": ["train"],
        # .after(e) inside two conditions: kfp hangs the edge on the outer group
        "deploy": ["evaluate", "train"],
        "label": [],
        "label-2": [],
        "report": ["label", "label-2"],  # after the If/Else branches group
        "fit": ["train"],  # the loop group waits for train
        "pick": ["fit"],  # Collected: after the whole loop
        "report-2": [],
    }
    deploy = graph["containers"]["deploy"]
    assert deploy["groups"] == ["condition-1", "condition-2"]
    assert deploy["conditions"] == [
        "int(inputs.parameter_values['pipelinechannel--rows']) > 10",
        "inputs.parameter_values['pipelinechannel--name'] == 'm'",
    ]
    assert graph["containers"]["fit"]["loops"] == ["for-loop-7"]
    loop = graph["groups"]["for-loop-7"]
    assert (loop["kind"], loop["parallelism"], loop["containers"]) == ("loop", 2, ["fit"])
    assert graph["groups"]["condition-branches-3"]["kind"] == "dag"


def test_selector_and_condition_evaluation() -> None:
    """What the driver computes, with its JSON-number-as-double semantics."""
    auc = 'parseJson(string_value)["auc"]'
    cond = "inputs.parameter_values['a'] >= inputs.parameter_values['b']"
    results = cel_eval(
        [
            {"selector": auc, "value": {"auc": 0.9}},
            {"selector": 'parseJson(string_value)["n"]', "value": {"n": 1}},
            {"selector": "string_value", "value": 100},
            {"selector": auc, "value": "not json"},
            {"condition": cond, "parameter_values": {"a": 0.9, "b": 0.8}},
            {"condition": cond, "parameter_values": {"a": 0.7, "b": 0.8}},
            {"condition": "inputs.parameter_values['a']", "parameter_values": {"a": 1}},
        ]
    )
    assert results[:3] == [{"value": 0.9}, {"value": 1.0}, {"value": "100"}]
    assert "failed to unmarshal JSON" in results[3]["error"]
    assert results[4:6] == [{"value": True}, {"value": False}]
    assert "return type is not bool" in results[6]["error"]


def test_metric_gate_runs_as_the_driver_would() -> None:
    """A STRUCT output, a selector on the group's input, then the condition."""

    def request(metrics: Any) -> dict[str, Any]:
        inputs = {"pipelinechannel--evaluate-auc": metrics, "pipelinechannel--min_auc": 0.8}
        return {"file": GATE, "task": "condition-1", "inputs": inputs}

    high, low, wrong = cel_eval(
        [request({"auc": 0.9}), request({"auc": 0.7}), request({"auc": "0.9"})]
    )
    assert high == {
        "parameter_values": {"pipelinechannel--evaluate-auc": 0.9, "pipelinechannel--min_auc": 0.8},
        "condition": True,
    }
    assert low["condition"] is False
    # The selected string fails the NUMBER_DOUBLE input before the condition runs.
    assert wrong == {"error": "type mismatch: expect NUMBER_DOUBLE, got STRING"}


def test_probe_kfp_single_file() -> None:
    report = probe_kfp(GATE)
    assert report["problems"] == []
    assert report["selectors"] == [
        {
            "dag": "root",
            "task": "condition-1",
            "input": "pipelinechannel--evaluate-auc",
            "selector": 'parseJson(string_value)["auc"]',
        }
    ]
    assert report["graph"]["containers"]["report"]["upstream"] == ["evaluate"]
