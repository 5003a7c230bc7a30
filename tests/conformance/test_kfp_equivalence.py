"""Each example's Kubeflow pipeline equals, names aside, what kfp's own compiler makes of a
hand-written kfp DSL program of the same pipeline (``kfp_programs/<example>.py``, with
dsl.If/dsl.Else, dsl.OneOf, dsl.ParallelFor, dsl.Collected, .after(), set_retry and
kfp-kubernetes): same tasks in the same groups, conditions, iterators, dependencies,
input sources and types, outputs, retry, caching, containers and platform settings.

The compilation and both normal forms are made in the kfp conformance venv
(``kfp_equivalence.py``); the comparison (``kfp_normal_form.differences``) runs here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conformance.kfp_equivalence import run_equivalence
from tests.conformance.kfp_normal_form import differences
from tests.conftest import ROOT

pytestmark = pytest.mark.conformance

PROGRAMS = Path(__file__).resolve().parent / "kfp_programs"
EXAMPLES = sorted(
    path.parent.parent.parent.name for path in ROOT.glob("examples/*/generated/kubeflow/*.yaml")
)
Json = Any


def _program(example: str) -> Path:
    return PROGRAMS / f"{example.replace('-', '_')}.py"


def _pipeline_file(example: str) -> Path:
    (path,) = (ROOT / "examples" / example / "generated" / "kubeflow").glob("*.yaml")
    return path


@pytest.fixture(scope="module")
def reports() -> dict[str, dict[str, Json]]:
    """Every example's comparison, from one subprocess in the kfp venv."""
    results = run_equivalence([(_program(e), _pipeline_file(e)) for e in EXAMPLES])
    return dict(zip(EXAMPLES, results, strict=True))


def test_every_example_has_a_program() -> None:
    assert EXAMPLES, "no example has a Kubeflow pipeline"
    programs = {p.stem for p in PROGRAMS.glob("*.py")} - {"__init__", "common"}
    assert programs == {e.replace("-", "_") for e in EXAMPLES}


@pytest.mark.parametrize("example", EXAMPLES)
def test_dsl_program_compiles_to_the_same_pipeline(
    reports: dict[str, dict[str, Json]], example: str
) -> None:
    report = reports[example]
    assert "error" not in report, f"{_program(example).name} does not compile:\n{report['error']}"
    assert report["dsl"]["tasks"], "the normal form has no tasks"
    found = differences(report["dsl"], report["pipespec"])
    assert not found, f"{example}: {len(found)} difference(s)\n" + "\n".join(map(str, found))


# --- the comparison can fail ---------------------------------------------------------


def _tasks(pipeline: dict[str, Json], component: str) -> dict[str, Json]:
    if component == "root":
        tasks: dict[str, Json] = pipeline["root"]["dag"]["tasks"]
    else:
        tasks = pipeline["components"][component]["dag"]["tasks"]
    return tasks


def _drop_dependency(docs: list[Json]) -> None:
    # split runs `after: [features]` and reads nothing from it: the edge is all there is.
    docs[0]["root"]["dag"]["tasks"]["split"]["dependentTasks"].remove("for-loop-features")


def _change_parallelism(docs: list[Json]) -> None:
    docs[0]["root"]["dag"]["tasks"]["for-loop-score"]["iteratorPolicy"]["parallelismLimit"] = 3


def _drop_selector(docs: list[Json]) -> None:
    task = _tasks(docs[0], "comp-for-loop-score")["score"]
    del task["inputs"]["parameters"]["loop-item-region"]["parameterExpressionSelector"]


def _change_operator(docs: list[Json]) -> None:
    policy = docs[0]["root"]["dag"]["tasks"]["condition-stop"]["triggerPolicy"]
    policy["condition"] = policy["condition"].replace(" < ", " <= ")


def _negate_else(docs: list[Json]) -> None:
    task = _tasks(docs[0], "comp-condition-branches-promote")["condition-retrain"]
    task["triggerPolicy"]["condition"] = task["triggerPolicy"]["condition"][2:-1]


def _swap_input(docs: list[Json]) -> None:
    source = docs[0]["root"]["dag"]["tasks"]["evaluate"]["inputs"]["artifacts"]["test"]
    source["taskOutputArtifact"]["outputArtifactKey"] = "train"


def _drop_toleration(docs: list[Json]) -> None:
    executors = docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    del executors["exec-train"]["tolerations"]


MUTATIONS: dict[str, tuple[str, Callable[[list[Json]], None], str, str]] = {
    # name: (example, mutation, task, the field that must differ)
    "drop a dependency": ("showcase", _drop_dependency, "split", "after"),
    "change a loop's parallelism": ("pod-control", _change_parallelism, "score", "groups"),
    "drop an item key selector": ("pod-control", _drop_selector, "score", "inputs"),
    "change a condition operator": ("branching", _change_operator, "stop", "groups"),
    "drop an else's negation": ("branching", _negate_else, "retrain", "groups"),
    "read another output": ("churn", _swap_input, "evaluate", "inputs"),
    "drop a toleration": ("churn", _drop_toleration, "train", "platform"),
}


@pytest.fixture(scope="module")
def mutated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Json]]:
    """Each mutation of an example's pipeline file, compared with the example's program."""
    folder = tmp_path_factory.mktemp("mutated")
    pairs = []
    for name, (example, mutate, _, _) in MUTATIONS.items():
        docs = list(yaml.safe_load_all(_pipeline_file(example).read_text(encoding="utf-8")))
        changed = copy.deepcopy(docs)
        mutate(changed)
        assert changed != docs, f"mutation {name!r} changed nothing"
        path = folder / f"{name.replace(' ', '-').replace(chr(39), '')}.yaml"
        path.write_text(yaml.safe_dump_all(changed, sort_keys=True), encoding="utf-8")
        pairs.append((_program(example), path))
    return dict(zip(MUTATIONS, run_equivalence(pairs), strict=True))


@pytest.mark.parametrize("name", MUTATIONS)
def test_comparison_reports_a_mutation(mutated: dict[str, dict[str, Json]], name: str) -> None:
    _, _, task, field = MUTATIONS[name]
    report = mutated[name]
    assert "error" not in report, report.get("error")
    found = differences(report["dsl"], report["pipespec"])
    assert any(d.where == f"task {task}" and d.field == field for d in found), (
        f"{name}: expected a difference in task {task}'s {field}, found:\n"
        + "\n".join(map(str, found))
    )
