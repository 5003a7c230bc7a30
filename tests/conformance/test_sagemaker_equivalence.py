"""Each example's SageMaker definition equals, step for step, the ``definition()`` of a
hand-written sagemaker SDK program of the same pipeline (``sagemaker_programs/<example>.py``:
Processor + ProcessingStep, ConditionStep with JsonGet on a PropertyFile, FailStep, ...):
same steps (keyed by the spec step they come from), step types, run order (DependsOn and
``Get``-implied edges), condition branches and conditions, and Arguments' API fields, in
the normal form of ``sagemaker_normal_form.py`` (names, S3 prefixes, code keys and SDK
defaults aside); for a step that starts through pipespec's launcher, also what it runs
(its ``launch.json``: argv, env, secrets), against the plan the program writes by hand.

The programs run once, offline, in the sagemaker conformance venv
(``sagemaker_equivalence.py``); pipespec's definition is compiled here in memory, and the
comparison runs here, so each mutation below costs no venv run.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pipespec.api import build
from tests.conformance.sagemaker_equivalence import PROGRAMS, definitions
from tests.conformance.sagemaker_normal_form import (
    Difference,
    compare,
    launch_form,
    normal_form,
)
from tests.conftest import ROOT

pytestmark = pytest.mark.conformance

Json = Any
EXAMPLES = sorted(p.name for p in (ROOT / "examples").iterdir() if (p / "pipeline.yaml").is_file())
# Differences the lead must decide on (a pipespec bug or a choice), each with what differs.
KNOWN: dict[str, str] = {}


def _program(example: str) -> Path:
    return PROGRAMS / f"{example.replace('-', '_')}.py"


# The examples with a program (test_every_example_has_a_program: all of them).
WRITTEN = [e for e in EXAMPLES if _program(e).is_file()]


def _code_uri(entry: dict[str, Json]) -> str | None:
    """The S3 folder of an entry's ``code`` input or channel."""
    args = entry["Arguments"]
    for inp in args.get("ProcessingInputs", []):
        if inp["InputName"] == "code":
            return str(inp["S3Input"]["S3Uri"])
    for channel in args.get("InputDataConfig", []):
        if channel["ChannelName"] == "code":
            return str(channel["DataSource"]["S3DataSource"]["S3Uri"])
    return None


def _launches(definition: dict[str, Json], files: dict[str, str], name: str) -> dict[str, Json]:
    """Step name -> the launch plan in the step's code folder: the upsert file's manifest
    names the local file of each uploaded ``launch.json`` by its S3 URI."""
    upsert = json.loads(files[name.removesuffix(".json") + ".upsert.json"])
    plans = {
        u["s3_uri"].rsplit("/", 1)[0]: files["sagemaker/" + u["file"]]
        for u in upsert["uploads"]
        if u["s3_uri"].endswith("/launch.json")
    }
    found: dict[str, Json] = {}
    for entry in _entries(definition):
        uri = _code_uri(entry)
        if uri is not None and uri in plans:
            found[entry["Name"]] = launch_form(json.loads(plans[uri]))
    return found


def _compiled(example: str) -> tuple[dict[str, Json], dict[str, Json]]:
    """pipespec's definition of the example, compiled in memory (what `pipespec compile
    --target sagemaker` writes to generated/sagemaker/<name>.json), and its launch plans."""
    result = build([ROOT / "examples" / example / "pipeline.yaml"], ["sagemaker"], None)
    assert result.ok, "\n".join(str(d) for d in result.diagnostics)
    (files,) = result.outputs.values()
    (name,) = [
        f
        for f in files
        if f.startswith("sagemaker/")
        and f.count("/") == 1
        and f.endswith(".json")
        and not f.endswith(".upsert.json")
    ]
    definition: dict[str, Json] = json.loads(files[name])
    return definition, _launches(definition, files, name)


@pytest.fixture(scope="module")
def pipespec_side() -> Iterator[dict[str, tuple[dict[str, Json], dict[str, Json]]]]:
    """Each example's (definition, launch plans), compiled once."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("CI", raising=False)  # the catalog fill runs (locked) outside CI
        yield {e: _compiled(e) for e in WRITTEN}


@pytest.fixture(scope="module")
def sdk_side() -> dict[str, dict[str, Json]]:
    """Every program's SDK definition and plans, from one subprocess in the sagemaker venv."""
    built = definitions([_program(e) for e in WRITTEN])
    return {e: built[_program(e).stem] for e in WRITTEN}


def _report(found: list[Difference]) -> str:
    return f"{len(found)} difference(s)\n" + "\n".join(map(str, found))


def _sdk(sdk_side: dict[str, dict[str, Json]], example: str) -> dict[str, Json]:
    built = sdk_side[example]
    assert "error" not in built, f"{_program(example).name} fails:\n{built['error']}"
    assert built["network_attempts"] == [], built["network_attempts"]
    return built


def _compare(
    sdk: dict[str, Json], ours: tuple[dict[str, Json], dict[str, Json]]
) -> list[Difference]:
    return compare(sdk["definition"], ours[0], sdk["launches"], ours[1])


def test_every_example_has_a_program() -> None:
    missing = sorted(set(EXAMPLES) - set(WRITTEN))
    assert not missing, f"no SDK program yet for: {missing}"


@pytest.mark.parametrize(
    "example",
    [
        pytest.param(e, marks=pytest.mark.xfail(strict=True, reason=KNOWN[e])) if e in KNOWN else e
        for e in WRITTEN
    ],
)
def test_sdk_program_defines_the_same_pipeline(
    sdk_side: dict[str, dict[str, Json]], pipespec_side: dict[str, Any], example: str
) -> None:
    sdk = _sdk(sdk_side, example)
    assert normal_form(sdk["definition"])["steps"], "the normal form has no steps"
    found = _compare(sdk, pipespec_side[example])
    assert not found, f"{example}: {_report(found)}"


# --- the comparison can fail, and does not where only the form differs ----------------


def _entries(definition: dict[str, Json]) -> Iterator[dict[str, Json]]:
    todo = list(definition["Steps"])
    while todo:
        entry = todo.pop(0)
        yield entry
        todo += entry["Arguments"].get("IfSteps", []) + entry["Arguments"].get("ElseSteps", [])


def _entry(doc: dict[str, Json], name: str) -> dict[str, Json]:
    """An entry of a definition, or of the definition of ``{"definition", "launches"}``."""
    definition = doc.get("definition", doc)
    (found,) = [e for e in _entries(definition) if e["Name"] == name]
    return found


def _retype(doc: dict[str, Json]) -> None:
    _entry(doc, "stop")["Type"] = "Processing"


def _drop_dependency(doc: dict[str, Json]) -> None:
    # monitor runs `after: [deploy]`, which nothing it reads implies.
    _entry(doc, "monitor")["DependsOn"].remove("deploy")


def _drop_read(doc: dict[str, Json]) -> None:
    # count reads the download's output: the edge goes with the read (a literal URI).
    count = _entry(doc, "count")
    count.pop("DependsOn", None)
    count["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"] = "s3://elsewhere/data"


def _change_range(doc: dict[str, Json]) -> None:
    config = _entry(doc, "tune")["Arguments"]["HyperParameterTuningJobConfig"]
    (rate,) = [
        r
        for r in config["ParameterRanges"]["ContinuousParameterRanges"]
        if r["Name"] == "learning_rate"
    ]
    rate["ScalingType"] = "Linear"


def _change_objective(doc: dict[str, Json]) -> None:
    config = _entry(doc, "tune")["Arguments"]["HyperParameterTuningJobConfig"]
    config["HyperParameterTuningJobObjective"]["Type"] = "Maximize"


def _change_hyperparameter(doc: dict[str, Json]) -> None:
    _entry(doc, "train")["Arguments"]["HyperParameters"]["eta"] = "0.2"


def _change_approval(doc: dict[str, Json]) -> None:
    _entry(doc, "register")["Arguments"]["ModelApprovalStatus"] = "Approved"


def _change_replicas(doc: dict[str, Json]) -> None:
    variant = _entry(doc, "deploy-config")["Arguments"]["ProductionVariants"][0]
    variant["InitialInstanceCount"] = 2


def _change_model_source(doc: dict[str, Json]) -> None:
    container = _entry(doc, "deploy-model")["Arguments"]["PrimaryContainer"]
    container["ModelDataUrl"] = {"Get": "Steps.train.ModelArtifacts.S3ModelArtifactsX"}


def _change_operator(doc: dict[str, Json]) -> None:
    _entry(doc, "promote-when")["Arguments"]["Conditions"][0]["Type"] = "GreaterThan"


def _change_argument(doc: dict[str, Json]) -> None:
    app = _entry(doc, "download")["Arguments"]["AppSpecification"]
    app["ContainerArguments"][2] = "https://example.com/other.csv"


def _change_operand(doc: dict[str, Json]) -> None:
    condition = _entry(doc, "stop-when")["Arguments"]["Conditions"][0]
    condition["LeftValue"]["Std:JsonGet"]["Path"] = "accuracy"


def _swap_branch(doc: dict[str, Json]) -> None:
    args = _entry(doc, "promote-when")["Arguments"]
    args["IfSteps"], args["ElseSteps"] = args["ElseSteps"], args["IfSteps"]


def _change_instance(doc: dict[str, Json]) -> None:
    cluster = _entry(doc, "pick")["Arguments"]["ProcessingResources"]["ClusterConfig"]
    cluster["InstanceType"] = "ml.m5.2xlarge"


def _drop_cache(doc: dict[str, Json]) -> None:
    del _entry(doc, "score-1")["CacheConfig"]


def _change_default(doc: dict[str, Json]) -> None:
    doc["definition"]["Parameters"][0]["DefaultValue"] = 0.9


def _change_item(doc: dict[str, Json]) -> None:
    doc["launches"]["score-1"]["argv"][4] = "0.8"


def _drop_secret(doc: dict[str, Json]) -> None:
    doc["launches"]["ingest"]["secrets"].clear()


def _drop_property_file(doc: dict[str, Json]) -> None:
    del _entry(doc, "evaluate")["PropertyFiles"]


MUTATIONS: dict[str, tuple[str, Callable[[dict[str, Json]], None], str]] = {
    # name: (example, mutation, a path that must differ)
    "change a step type": ("branching", _retype, "steps.stop.Type"),
    "drop a dependency": ("churn", _drop_dependency, "steps.monitor.after"),
    "drop a read and its edge": ("minimal", _drop_read, "steps.count.after"),
    "change a condition operator": (
        "branching",
        _change_operator,
        "steps.promote-when.Arguments.Conditions[0].Type",
    ),
    "change a condition operand": (
        "branching",
        _change_operand,
        "steps.stop-when.Arguments.Conditions[0].LeftValue.Std:JsonGet.Path",
    ),
    "swap a condition's branches": ("branching", _swap_branch, "steps.promote.branch"),
    "change an argument": (
        "minimal",
        _change_argument,
        "steps.download.Arguments.AppSpecification.ContainerCommand[3]",
    ),
    "change an instance type": (
        "pod-control",
        _change_instance,
        "steps.pick.Arguments.ProcessingResources.ClusterConfig.InstanceType",
    ),
    "drop a cache config": ("pod-control", _drop_cache, "steps.score-1.CacheConfig"),
    "change a parameter default": ("branching", _change_default, "parameters.min_auc.DefaultValue"),
    "drop a property file": ("branching", _drop_property_file, "steps.evaluate.PropertyFiles"),
    "change a foreach item in a launch plan": (
        "pod-control",
        _change_item,
        "steps.score-1.Launch.argv[4]",
    ),
    "drop a secret from a launch plan": (
        "churn",
        _drop_secret,
        "steps.ingest.Launch.secrets.PIPESPEC_DATABASE_URL",
    ),
    "change a tuning range's scale": (
        "tuning",
        _change_range,
        "steps.tune.Arguments.HyperParameterTuningJobConfig.ParameterRanges"
        ".ContinuousParameterRanges.learning_rate.ScalingType",
    ),
    "change the tuning objective": (
        "tuning",
        _change_objective,
        "steps.tune.Arguments.HyperParameterTuningJobConfig.HyperParameterTuningJobObjective.Type",
    ),
    "change a hyperparameter": (
        "churn",
        _change_hyperparameter,
        "steps.train.Arguments.HyperParameters.eta",
    ),
    "change the approval status": (
        "registry",
        _change_approval,
        "steps.register.Arguments.ModelApprovalStatus",
    ),
    "change the endpoint's instance count": (
        "churn",
        _change_replicas,
        "steps.deploy-config.Arguments.ProductionVariants[0].InitialInstanceCount",
    ),
    "change where a model comes from": (
        "churn",
        _change_model_source,
        "steps.deploy-model.Arguments.PrimaryContainer.ModelDataUrl.Get",
    ),
}


def _split_entrypoint(doc: dict[str, Json]) -> None:
    """The whole argv as the entrypoint: the container runs the same command."""
    app = _entry(doc, "download")["Arguments"]["AppSpecification"]
    app["ContainerEntrypoint"] += app.pop("ContainerArguments")


def _depend_on_read(doc: dict[str, Json]) -> None:
    """An edge a Get implies, written out as DependsOn too (or not)."""
    _entry(doc, "count").pop("DependsOn", None)


def _reorder(doc: dict[str, Json]) -> None:
    doc["definition"]["Steps"].reverse()


def _sdk_defaults(doc: dict[str, Json]) -> None:
    """Fields the SDK writes with the API's own default value, left out."""
    for entry in _entries(doc["definition"]):
        cluster = entry["Arguments"].get("ProcessingResources", {}).get("ClusterConfig", {})
        cluster.pop("VolumeSizeInGB", None)
        for inp in entry["Arguments"].get("ProcessingInputs", []):
            inp.pop("AppManaged")
            inp["S3Input"].pop("S3InputMode")


EQUIVALENT: dict[str, tuple[str, Callable[[dict[str, Json]], None]]] = {
    "the argv split otherwise between entrypoint and arguments": ("minimal", _split_entrypoint),
    "a read's edge without DependsOn": ("minimal", _depend_on_read),
    "the steps in another order": ("branching", _reorder),
    "SDK defaults left out": ("pod-control", _sdk_defaults),
}


def _changed(
    pipespec_side: dict[str, tuple[dict[str, Json], dict[str, Json]]],
    example: str,
    change: Callable[[dict[str, Json]], None],
) -> tuple[dict[str, Json], dict[str, Json]]:
    """The example's definition and plans (``{"definition": ..., "launches": ...}`` to
    the change), changed."""
    if example not in pipespec_side:
        pytest.skip(f"no SDK program for {example} yet")
    definition, launches = copy.deepcopy(pipespec_side[example])
    doc = {"definition": definition, "launches": launches}
    change(doc)
    assert (definition, launches) != pipespec_side[example], "the change changed nothing"
    return definition, launches


@pytest.mark.parametrize("name", MUTATIONS)
def test_comparison_reports_a_mutation(
    sdk_side: dict[str, dict[str, Json]], pipespec_side: dict[str, Any], name: str
) -> None:
    example, change, path = MUTATIONS[name]
    found = _compare(_sdk(sdk_side, example), _changed(pipespec_side, example, change))
    assert any(d.path == path for d in found), (
        f"{name}: expected a difference at {path}, found {_report(found)}"
    )


@pytest.mark.parametrize("name", EQUIVALENT)
def test_comparison_ignores_form(
    sdk_side: dict[str, dict[str, Json]], pipespec_side: dict[str, Any], name: str
) -> None:
    example, change = EQUIVALENT[name]
    found = _compare(_sdk(sdk_side, example), _changed(pipespec_side, example, change))
    assert not found, f"{name}: {_report(found)}"
