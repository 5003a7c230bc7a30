"""The schedule script beside a Kubeflow pipeline with a ``schedule``.

Its code is fixed text; the spec's values enter only as one block of literal assignments,
so no value (quotes, newlines, triple quotes, coding cookies, unicode line separators) can
become code: the script's AST, constants aside, is the same whatever the values hold, and
each value reads back as itself. In the kubeflow conformance venv (real ``kfp``) the script
runs: ``--dry-run`` contacts nothing, and against a recording ``kfp.Client`` (each call
bound to the real method's signature) it uploads the file, finds or creates the experiment
and creates the recurring run with the converted cron.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import io
import json
import os
import subprocess
import tokenize
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipespec import ir
from pipespec.backends.kubeflow.options import KubeflowOptions
from pipespec.backends.kubeflow.schedule import (
    VALUE_NAMES,
    run_service_account,
    schedule_script,
)
from pipespec.pysafe import PYTHON_PREAMBLE
from tests.conformance.venvs import ensure_venv
from tests.conftest import ROOT
from tests.targets import example_pipeline

RECORDER = Path(__file__).resolve().parent / "kfp_recorder.py"
UTF7_PAYLOAD = "+AAo-import os+ADs-os.system(+ACI-id+ACI-)+AAo-"
NASTY = [
    "'",
    '"',
    '"""',
    "'''",
    "\\",
    "\n",
    "\r\n",
    "\u2028",
    "\u2029",
    "\x85",
    "\x0c",
    "\x00",
    "# -*- coding: utf-7 -*-",
    "\n# coding: utf-7\n",
    UTF7_PAYLOAD,
    "{{$}}",
    "{{$.inputs.parameters['x']}}",
    "'); import os; os.system('id'); ('",
    '"; __import__("os").system("id"); "',
    ")]}\nprint('escaped')\n#",
]
hostile = st.one_of(
    st.sampled_from(NASTY),
    st.text(min_size=1, max_size=40),
    st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=8)), min_size=1, max_size=6)
    .map("".join)
    .filter(bool),
)


@functools.cache
def churn() -> ir.Pipeline:
    # Example paths are relative to the repository root, as users pass them.
    here = Path.cwd()
    os.chdir(ROOT)
    try:
        return example_pipeline("churn")
    finally:
        os.chdir(here)


def _values(text: str) -> dict[str, Any]:
    """The block of assignments at the top, read back with ast; it must be one block."""
    body = ast.parse(text).body
    names = [
        i
        for i, node in enumerate(body)
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id in VALUE_NAMES
    ]
    assert names == list(range(names[0], names[0] + len(VALUE_NAMES))), names
    block = [body[i] for i in names]
    out: dict[str, Any] = {}
    for node in block:
        assert isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
        out[node.targets[0].id] = ast.literal_eval(node.value)
    assert list(out) == list(VALUE_NAMES)
    return out


def _skeleton(text: str) -> str:
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            node.value = "<const>"
    return ast.dump(tree, include_attributes=False)


def _encoding(text: str) -> str:
    encoding, _ = tokenize.detect_encoding(io.BytesIO(text.encode("utf-8")).readline)
    return encoding


def _script(pipeline: ir.Pipeline, options: KubeflowOptions, file: str = "churn.yaml") -> str:
    text = schedule_script(pipeline, options, file)
    assert text is not None
    return text


def test_churn_has_a_schedule_and_no_schedule_means_no_script() -> None:
    assert churn().schedule == "0 3 * * 1"
    unscheduled = dataclasses.replace(churn(), schedule=None)
    assert schedule_script(unscheduled, KubeflowOptions(), "churn.yaml") is None


def test_the_script_compiles_and_its_block_holds_the_spec_values() -> None:
    options = KubeflowOptions(experiment="nightly", namespace="team-a")
    text = _script(churn(), options, "churn-retrain.yaml")
    compile(text, "churn-retrain.schedule.py", "exec")
    assert tuple(text.splitlines()[:2]) == PYTHON_PREAMBLE
    assert _values(text) == {
        "PIPELINE_NAME": "churn-retrain",
        "PIPELINE_DESCRIPTION": churn().description,
        "PIPELINE_FILE": "churn-retrain.yaml",
        "SPEC_SCHEDULE": "0 3 * * 1",
        "CRON_EXPRESSION": "0 0 3 * * 1",
        "EXPERIMENT": "nightly",
        "NAMESPACE": "team-a",
        "SERVICE_ACCOUNT": None,
    }


def _with_accounts(*accounts: str | None) -> ir.Pipeline:
    steps = list(churn().steps)
    for i, account in enumerate(accounts):
        steps[i] = dataclasses.replace(steps[i], service_account=account)
    return dataclasses.replace(churn(), steps=tuple(steps))


def test_the_steps_service_account_is_the_runs() -> None:
    assert run_service_account(churn()) is None
    pipeline = _with_accounts("trainer", None, "trainer")
    assert run_service_account(pipeline) == "trainer"
    assert _values(_script(pipeline, KubeflowOptions()))["SERVICE_ACCOUNT"] == "trainer"
    with pytest.raises(ValueError, match=r"different service accounts \(a, b\)"):
        run_service_account(_with_accounts("b", "a"))


def test_defaults_and_a_preset() -> None:
    pipeline = dataclasses.replace(churn(), schedule="@daily", description=None)
    values = _values(_script(pipeline, KubeflowOptions()))
    assert values["CRON_EXPRESSION"] == "0 0 0 * * *"
    assert values["SPEC_SCHEDULE"] == "@daily"
    assert (values["EXPERIMENT"], values["NAMESPACE"]) == ("Default", None)
    assert values["PIPELINE_DESCRIPTION"] is None


@settings(max_examples=150, deadline=None)
@given(
    name=hostile,
    description=hostile,
    experiment=hostile,
    namespace=hostile,
    file=hostile,
    account=hostile,
)
@example(
    name="# -*- coding: utf-7 -*-",
    description='"""\u2028\nimport os',
    experiment="{{$}}",
    namespace="\u2029",
    file=UTF7_PAYLOAD,
    account="\n#",
)
def test_hostile_values_arrive_as_data_never_as_code(
    name: str, description: str, experiment: str, namespace: str, file: str, account: str
) -> None:
    benign = _script(churn(), KubeflowOptions(experiment="e", namespace="n"), "f.yaml")
    pipeline = dataclasses.replace(
        _with_accounts(account),
        name=name,
        description=description,
        source_file=f"{name}/{file}",
    )
    # model_construct: the writer must hold even for values the options would refuse.
    options = KubeflowOptions.model_construct(experiment=experiment, namespace=namespace)
    text = _script(pipeline, options, file)
    assert tuple(text.splitlines()[:2]) == PYTHON_PREAMBLE
    assert _encoding(text) == "utf-8"
    assert _skeleton(text) == _skeleton(benign)
    values = _values(text)
    assert values["PIPELINE_NAME"] == name
    assert values["PIPELINE_DESCRIPTION"] == description
    assert values["PIPELINE_FILE"] == file
    assert (values["EXPERIMENT"], values["NAMESPACE"]) == (experiment, namespace)
    assert values["SERVICE_ACCOUNT"] == account


# --- in the kubeflow conformance venv ---------------------------------------------------


@pytest.fixture(scope="module")
def kfp_python() -> Path:
    return ensure_venv("kfp")


def _place(folder: Path, pipeline: ir.Pipeline, options: KubeflowOptions) -> Path:
    """The script and a stand-in pipeline file side by side, as compile writes them."""
    yaml_name = "pipeline.yaml"
    (folder / yaml_name).write_text("pipelineInfo: {name: x}\n", encoding="utf-8")
    script = folder / "pipeline.schedule.py"
    script.write_text(_script(pipeline, options, yaml_name), encoding="utf-8")
    return script


def _record(
    python: Path, script: Path, scenario: dict[str, Any], *args: str
) -> tuple[int, list[tuple[str, dict[str, Any]]]]:
    report = script.parent / "report.json"
    cmd = [str(python), "-I", "-B", str(RECORDER), json.dumps(scenario), str(report)]
    proc = subprocess.run(
        [*cmd, str(script), *args],
        capture_output=True,
        text=True,
        cwd=script.parent,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(report.read_text(encoding="utf-8"))
    return data["exit"], [(name, arguments) for name, arguments in data["calls"]]


@pytest.mark.conformance
def test_dry_run_prints_the_plan_and_contacts_nothing(kfp_python: Path, tmp_path: Path) -> None:
    script = _place(tmp_path, churn(), KubeflowOptions())
    proc = subprocess.run(
        [str(kfp_python), "-I", "-B", str(script), "--dry-run", "--experiment", "x"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "'0 0 3 * * 1'" in proc.stdout
    assert "'x'" in proc.stdout
    assert repr(str(tmp_path / "pipeline.yaml")) in proc.stdout
    # Under the recorder: not even a kfp.Client is made.
    assert _record(kfp_python, script, {"pipeline_exists": False}, "--dry-run") == (0, [])


@pytest.mark.conformance
def test_a_new_pipeline_is_uploaded_and_scheduled(kfp_python: Path, tmp_path: Path) -> None:
    script = _place(tmp_path, churn(), KubeflowOptions(experiment="nightly"))
    code, calls = _record(kfp_python, script, {"pipeline_exists": False}, "--host", "http://k")
    assert code == 0
    assert [name for name, _ in calls] == [
        "__init__",
        "create_experiment",
        "list_recurring_runs",
        "list_pipelines",
        "upload_pipeline",
        "create_recurring_run",
    ]
    by_name = dict(calls)
    assert by_name["__init__"] == {"host": "http://k"}
    assert by_name["create_experiment"] == {"name": "nightly", "namespace": None}
    assert by_name["upload_pipeline"] == {
        "pipeline_package_path": str(tmp_path / "pipeline.yaml"),
        "pipeline_name": "churn-retrain",
        "description": churn().description,
        "namespace": None,
    }
    run = by_name["create_recurring_run"]
    assert run["cron_expression"] == "0 0 3 * * 1"
    assert run["job_name"] == "churn-retrain"
    assert (run["experiment_id"], run["pipeline_id"]) == ("experiment-1", "pipeline-new")
    assert run["version_id"] is None  # a new pipeline's only version is its default
    assert (run["enabled"], run["max_concurrency"], run["no_catchup"]) == (True, 1, True)
    assert run["service_account"] is None


@pytest.mark.conformance
def test_an_existing_pipeline_gets_a_new_version(kfp_python: Path, tmp_path: Path) -> None:
    options = KubeflowOptions(namespace="team-a")
    script = _place(tmp_path, _with_accounts("trainer"), options)
    args = ("--version-name", "v2", "--experiment", "other")
    code, calls = _record(kfp_python, script, {"pipeline_exists": True}, *args)
    assert code == 0
    by_name = dict(calls)
    assert "upload_pipeline" not in by_name
    assert by_name["create_experiment"] == {"name": "other", "namespace": "team-a"}
    assert by_name["list_pipelines"]["namespace"] == "team-a"
    version = by_name["upload_pipeline_version"]
    assert (version["pipeline_version_name"], version["pipeline_id"]) == ("v2", "pipeline-1")
    run = by_name["create_recurring_run"]
    assert (run["pipeline_id"], run["version_id"]) == ("pipeline-1", "version-2")
    assert run["service_account"] == "trainer"


@pytest.mark.conformance
def test_a_second_schedule_of_the_same_name_needs_replace(kfp_python: Path, tmp_path: Path) -> None:
    script = _place(tmp_path, churn(), KubeflowOptions())
    scenario = {"pipeline_exists": True, "existing_runs": 2}
    code, calls = _record(kfp_python, script, scenario)
    assert code == 1
    assert [name for name, _ in calls] == ["__init__", "create_experiment", "list_recurring_runs"]
    code, calls = _record(kfp_python, script, scenario, "--replace")
    assert code == 0
    names = [name for name, _ in calls]
    assert names[-3:] == ["delete_recurring_run", "delete_recurring_run", "create_recurring_run"]
    assert [a["recurring_run_id"] for n, a in calls if n == "delete_recurring_run"] == [
        "old-0",
        "old-1",
    ]


@pytest.mark.conformance
def test_hostile_values_reach_kfp_exactly(kfp_python: Path, tmp_path: Path) -> None:
    name = 'x\'); import os #\n"""\u2028{{$}}'
    description = "# -*- coding: utf-7 -*-\n" + UTF7_PAYLOAD
    pipeline = dataclasses.replace(churn(), name=name, description=description)
    options = KubeflowOptions.model_construct(experiment="e'\"\n", namespace=None)
    code, calls = _record(
        kfp_python, _place(tmp_path, pipeline, options), {"pipeline_exists": False}
    )
    assert code == 0
    by_name = dict(calls)
    assert json.loads(by_name["list_pipelines"]["filter"])["predicates"][0]["stringValue"] == name
    assert by_name["upload_pipeline"]["pipeline_name"] == name
    assert by_name["upload_pipeline"]["description"] == description
    assert by_name["create_experiment"]["name"] == "e'\"\n"
    assert by_name["create_recurring_run"]["job_name"] == name
