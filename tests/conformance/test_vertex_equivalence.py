"""Each example's Vertex pipeline equals, task for task, what kfp's own compiler makes of
a hand-written kfp + Google Cloud Pipeline Components program of the same pipeline
(``vertex_programs/<example>.py``: create_custom_training_job_from_component,
HyperparameterTuningJobRunOp, ModelUploadOp, EndpointCreateOp, ModelDeployOp,
ModelBatchPredictOp, helper container components, dsl.If/dsl.Else/dsl.ParallelFor):
same tasks (matched by display name), groups, conditions, iterators, run order, input
sources and types, each GCPC task's launcher image/command/args and every GCPC input's
effective value (``worker_pool_specs`` included), retry, caching, containers.

The compilation and both normal forms are made in the kfp conformance venv
(``vertex_equivalence.py``); the comparison (``vertex_normal_form.vertex_differences``)
runs here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conformance.vertex_equivalence import run_equivalence
from tests.conformance.vertex_normal_form import explain, vertex_differences
from tests.conftest import ROOT

pytestmark = pytest.mark.conformance

PROGRAMS = Path(__file__).resolve().parent / "vertex_programs"
EXAMPLES = sorted(
    path.parent.parent.parent.name for path in ROOT.glob("examples/*/generated/vertex/*.yaml")
)
Json = Any

# Differences the lead must decide on (a pipespec bug or a choice), each with what differs.
KNOWN: dict[str, str] = {}  # example -> why pipespec differs, while a fix is pending


def _program(example: str) -> Path:
    return PROGRAMS / f"{example.replace('-', '_')}.py"


def _pipeline_file(example: str) -> Path:
    (path,) = (ROOT / "examples" / example / "generated" / "vertex").glob("*.yaml")
    return path


def _report(found: list[Any]) -> str:
    return f"{len(found)} difference(s)\n" + "\n".join(explain(d) for d in found)


@pytest.fixture(scope="module")
def reports() -> dict[str, dict[str, Json]]:
    """Every example's comparison, from one subprocess in the kfp venv."""
    results = run_equivalence([(_program(e), _pipeline_file(e)) for e in EXAMPLES])
    return dict(zip(EXAMPLES, results, strict=True))


def test_every_example_has_a_program() -> None:
    assert EXAMPLES, "no example has a Vertex pipeline"
    programs = {p.stem for p in PROGRAMS.glob("*.py")} - {"__init__", "common"}
    assert programs == {e.replace("-", "_") for e in EXAMPLES}


@pytest.mark.parametrize(
    "example",
    [
        pytest.param(e, marks=pytest.mark.xfail(strict=True, reason=KNOWN[e])) if e in KNOWN else e
        for e in EXAMPLES
    ],
)
def test_dsl_program_compiles_to_the_same_pipeline(
    reports: dict[str, dict[str, Json]], example: str
) -> None:
    report = reports[example]
    assert "error" not in report, f"{_program(example).name} does not compile:\n{report['error']}"
    assert report["dsl"]["tasks"], "the normal form has no tasks"
    found = vertex_differences(report["dsl"], report["pipespec"])
    assert not found, f"{example}: {_report(found)}"


# --- the comparison can fail, and does not where only the form differs ----------------


def _root_tasks(docs: list[Json]) -> dict[str, Json]:
    tasks: dict[str, Json] = docs[0]["root"]["dag"]["tasks"]
    return tasks


def _deploy_tasks(docs: list[Json]) -> dict[str, Json]:
    tasks: dict[str, Json] = docs[0]["components"]["comp-condition-deploy"]["dag"]["tasks"]
    return tasks


def _change_gcpc_input(docs: list[Json]) -> None:
    params = _deploy_tasks(docs)["deploy-upload"]["inputs"]["parameters"]
    params["display_name"]["runtimeValue"]["constant"] = "churn-scorer-v2"


def _drop_dependency(docs: list[Json]) -> None:
    # deploy also reads the endpoint: the edge is dropped, the input kept.
    _deploy_tasks(docs)["deploy"]["dependentTasks"].remove("deploy-endpoint")


def _wrong_launcher_arg(docs: list[Json]) -> None:
    args = docs[0]["deploymentSpec"]["executors"]["exec-deploy"]["container"]["args"]
    args[args.index("DeployModel")] = "UndeployModel"


def _change_machine_type(docs: list[Json]) -> None:
    params = docs[0]["components"]["comp-train"]["inputDefinitions"]["parameters"]
    params["worker_pool_specs"]["defaultValue"][0]["machine_spec"]["machine_type"] = "n1-standard-4"


def _change_tuning_metric(docs: list[Json]) -> None:
    params = docs[0]["components"]["comp-tune"]["inputDefinitions"]["parameters"]
    params["study_spec_metrics"]["defaultValue"][0]["goal"] = 1


MUTATIONS: dict[str, tuple[str, Callable[[list[Json]], None], str, str]] = {
    # name: (example, mutation, task, the field that must differ)
    "change a GCPC input value": ("churn", _change_gcpc_input, "deploy-upload", "gcpc"),
    "drop a dependency": ("churn", _drop_dependency, "deploy", "after"),
    "change a launcher arg": ("churn", _wrong_launcher_arg, "deploy", "args"),
    "change a worker pool's machine type": ("churn", _change_machine_type, "train", "gcpc"),
    "change the tuning goal": ("tuning", _change_tuning_metric, "tune", "gcpc"),
}


def _default_for_constant(docs: list[Json]) -> None:
    """deploy-upload's location as its component's default instead of a task constant."""
    params = _deploy_tasks(docs)["deploy-upload"]["inputs"]["parameters"]
    value = params.pop("location")["runtimeValue"]["constant"]
    definitions = docs[0]["components"]["comp-deploy-upload"]["inputDefinitions"]["parameters"]
    definitions["location"]["defaultValue"] = value


def _constant_for_default(docs: list[Json]) -> None:
    """train's timeout as a task constant instead of its wrapper default."""
    definitions = docs[0]["components"]["comp-train"]["inputDefinitions"]["parameters"]
    value = definitions["timeout"].pop("defaultValue")
    inputs = _root_tasks(docs)["train"].setdefault("inputs", {}).setdefault("parameters", {})
    inputs["timeout"] = {"runtimeValue": {"constant": value}}


EQUIVALENT: dict[str, tuple[str, Callable[[list[Json]], None]]] = {
    "a task constant as a component default": ("churn", _default_for_constant),
    "a component default as a task constant": ("churn", _constant_for_default),
}


def _changed_files(
    folder: Path, changes: dict[str, tuple[str, Callable[[list[Json]], None]]]
) -> list[tuple[Path, Path]]:
    pairs = []
    for name, (example, change) in changes.items():
        docs = list(yaml.safe_load_all(_pipeline_file(example).read_text(encoding="utf-8")))
        changed = copy.deepcopy(docs)
        change(changed)
        assert changed != docs, f"change {name!r} changed nothing"
        path = folder / f"{name.replace(' ', '-').replace(chr(39), '')}.yaml"
        path.write_text(yaml.safe_dump_all(changed, sort_keys=True), encoding="utf-8")
        pairs.append((_program(example), path))
    return pairs


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Json]]:
    """Each mutation and equivalent rewrite of an example's file, beside its program."""
    folder = tmp_path_factory.mktemp("vertex-mutated")
    changes = {name: (m[0], m[1]) for name, m in MUTATIONS.items()} | EQUIVALENT
    results = run_equivalence(_changed_files(folder, changes))
    return dict(zip(changes, results, strict=True))


@pytest.mark.parametrize("name", MUTATIONS)
def test_comparison_reports_a_mutation(changed: dict[str, dict[str, Json]], name: str) -> None:
    _, _, task, field = MUTATIONS[name]
    report = changed[name]
    assert "error" not in report, report.get("error")
    found = vertex_differences(report["dsl"], report["pipespec"])
    assert any(d.where == f"task {task}" and d.field == field for d in found), (
        f"{name}: expected a difference in task {task}'s {field}, found {_report(found)}"
    )


@pytest.mark.parametrize("name", EQUIVALENT)
def test_comparison_reads_effective_values(changed: dict[str, dict[str, Json]], name: str) -> None:
    report = changed[name]
    assert "error" not in report, report.get("error")
    found = vertex_differences(report["dsl"], report["pipespec"])
    assert not found, f"{name}: {_report(found)}"
