"""The Vertex probe itself, on pipelines kfp 2.17 compiles from GCPC 2.22 DSL programs
(samples/vertex/*.py, compiled in the kfp venv at test time) and on mutations of them that
Vertex would reject or run wrongly.

The compiled samples (and a job JSON for one of them) must report no problem; every
mutation must make the probe report one naming what is wrong.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from pipespec.backends.emit import to_yaml
from tests.conformance.vertex_runner import compile_samples, probe_vertex_many

pytestmark = pytest.mark.conformance

SAMPLES = sorted((Path(__file__).resolve().parent / "samples" / "vertex").glob("*.py"))
Spec = dict[str, Any]
Job = dict[str, Any]
JOB: Job = {
    "pipeline_job": {
        "display_name": "deploy",
        "project": "my-project",
        "location": "us-central1",
        "pipeline_root": "gs://bucket/root",
        "parameter_values": {"project": "other-project"},
        "enable_caching": False,
    },
    "template": "deploy.yaml",
    "submit": {"service_account": "runner@my-project.iam.gserviceaccount.com"},
    "generated_by": "a test",
    "schedule": {
        "cron": "TZ=Europe/Paris 0 3 * * MON-FRI",
        "display_name": "nightly",
        "max_concurrent_run_count": 1,
    },
}


def _tasks(spec: Spec) -> Spec:
    tasks: Spec = spec["root"]["dag"]["tasks"]
    return tasks


def _container(spec: Spec, executor: str) -> Spec:
    container: Spec = spec["deploymentSpec"]["executors"][executor]["container"]
    return container


def _rename_input(spec: Spec) -> None:
    fed = _tasks(spec)["model-deploy"]["inputs"]["parameters"]
    fed["dedicated_resources_machine"] = fed.pop("dedicated_resources_machine_type")


def _extra_declared_input(spec: Spec) -> None:
    declared = spec["components"]["comp-model-upload"]["inputDefinitions"]["parameters"]
    declared["region"] = {"parameterType": "STRING"}
    _tasks(spec)["model-upload"]["inputs"]["parameters"]["region"] = {
        "runtimeValue": {"constant": "us"}
    }


def _retype(spec: Spec) -> None:
    declared = spec["components"]["comp-model-deploy"]["inputDefinitions"]["parameters"]
    declared["dedicated_resources_min_replica_count"]["parameterType"] = "STRING"


def _worker_pool_typo(spec: Spec) -> None:
    declared = spec["components"]["comp-train"]["inputDefinitions"]["parameters"]
    pools = declared["worker_pool_specs"]["defaultValue"]
    pools[0]["container_spec"]["args"][1] = "{{$.inputs.parameters['rate']}}"


Mutation = Callable[[Spec], Any]
# name -> (sample, mutation of its PipelineSpec, text the probe's problems must contain)
MUTATIONS: dict[str, tuple[str, Mutation, str]] = {
    "wrong-gcpc-input-name": (
        "deploy",
        _rename_input,
        "feeds parameter 'dedicated_resources_machine', which is not an input",
    ),
    "unknown-launcher-module": (
        "model_upload",
        lambda s: _container(s, "exec-model-upload")["command"].__setitem__(3, "gcpc.upload"),
        "launcher module 'gcpc.upload' is none of GCPC's",
    ),
    "changed-launcher-arg": (
        "custom_job",
        lambda s: _container(s, "exec-train")["args"].__setitem__(1, "HyperparameterTuningJob"),
        "args differ from CustomTrainingJobOp's: arg 1 is 'HyperparameterTuningJob'",
    ),
    "dangling-dependency": (
        "deploy",
        lambda s: _tasks(s)["model-deploy"]["dependentTasks"].append("model-uplod"),
        "dependentTasks entry 'model-uplod' is not a sibling task",
    ),
    "input-gcpc-lacks": ("model_upload", _extra_declared_input, "'region' is not one of GCPC's"),
    "retyped-gcpc-input": (
        "deploy",
        _retype,
        "'dedicated_resources_min_replica_count' is STRING, GCPC declares NUMBER_INTEGER",
    ),
    "old-gcpc-image": (
        "tuning",
        lambda s: _container(s, "exec-hyperparameter-tuning-job").update(
            image="gcr.io/ml-pipeline/google-cloud-pipeline-components:2.3.1"
        ),
        "image 'gcr.io/ml-pipeline/google-cloud-pipeline-components:2.3.1' is not GCPC's",
    ),
    "worker-pool-undeclared-input": (
        "custom_job",
        _worker_pool_typo,
        "worker_pool_specs names inputs.parameters 'rate', undeclared",
    ),
    "unknown-importer-type": (
        "model_upload",
        lambda s: s["deploymentSpec"]["executors"]["exec-importer"]["importer"][
            "typeSchema"
        ].update(schemaTitle="google.Model"),
        "importer typeSchema 'google.Model' is not a known type",
    ),
    "importer-uri-not-fed": (
        "model_upload",
        lambda s: _tasks(s)["importer"]["inputs"]["parameters"].pop("uri"),
        "importer input 'uri' (its artifactUri) is not fed",
    ),
}
# name -> (mutation of JOB, text the probe's problems must contain)
JOB_MUTATIONS: dict[str, tuple[Callable[[Job], Any], str]] = {
    "parameter-pipeline-lacks": (
        lambda j: j["pipeline_job"]["parameter_values"].update(projct="x"),
        "parameter_values: 'projct' is not an input of the pipeline",
    ),
    "parameter-wrong-type": (
        lambda j: j["pipeline_job"]["parameter_values"].update(project=3),
        "parameter_values: 'project' = 3 is not a STRING",
    ),
    "unknown-job-argument": (
        lambda j: j["pipeline_job"].update(caching=True),
        "pipeline_job: 'caching' is not an argument",
    ),
    "unknown-submit-argument": (
        lambda j: j.update(submit={"service_acount": "x@y"}),
        "submit: 'service_acount' is not an argument",
    ),
    "unknown-job-key": (lambda j: j.update(run={}), "job JSON: unknown key 'run'"),
    "cron-four-fields": (
        lambda j: j["schedule"].update(cron="0 3 * *"),
        "has 4 fields, unix-cron has 5",
    ),
    "cron-macro": (lambda j: j["schedule"].update(cron="@daily"), "has 1 fields"),
    "cron-hour-25": (lambda j: j["schedule"].update(cron="0 25 * * *"), "25 is outside 0-23"),
    "cron-bad-zone": (
        lambda j: j["schedule"].update(cron="TZ=Mars/Olympus 0 3 * * *"),
        "unknown time zone 'Mars/Olympus'",
    ),
    "unknown-schedule-argument": (
        lambda j: j["schedule"].update(max_runs=3),
        "schedule: 'max_runs' is not an argument",
    ),
    "template-elsewhere": (lambda j: j.update(template="other.yaml"), "is not 'deploy.yaml'"),
}


def _unchanged(job: Job) -> None:
    return None


def _no_project(job: Job) -> None:
    del job["pipeline_job"]["project"]


def load(path: Path) -> Spec:
    spec: Spec = YAML(typ="safe").load(StringIO(path.read_text(encoding="utf-8")))
    return spec


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every sample, every mutation: one compile and one probe subprocess in all."""
    out = tmp_path_factory.mktemp("vertex")
    compiled = compile_samples(out, SAMPLES)
    pairs: dict[str, tuple[Path, Path | None]] = {n: (p, None) for n, p in compiled.items()}
    for name, (sample, mutate, _) in MUTATIONS.items():
        spec = copy.deepcopy(load(compiled[sample]))
        mutate(spec)
        path = out / f"{name}.yaml"
        path.write_text(to_yaml(spec), encoding="utf-8")
        pairs[name] = (path, None)
    unchanged = {"job": (_unchanged, ""), "no-project": (_no_project, "")}
    for name, (mutate_job, _) in {**unchanged, **JOB_MUTATIONS}.items():
        job = copy.deepcopy(JOB)
        mutate_job(job)
        folder = out / name
        folder.mkdir()
        (folder / "deploy.yaml").write_text(compiled["deploy"].read_text(encoding="utf-8"))
        (folder / "deploy.job.json").write_text(json.dumps(job), encoding="utf-8")
        pairs[name] = (folder / "deploy.yaml", folder / "deploy.job.json")
    by_path = probe_vertex_many(list(pairs.values()), timeout=300)
    return {name: by_path[path.resolve()] for name, (path, _) in pairs.items()}


@pytest.mark.parametrize("sample", [s.stem for s in SAMPLES])
def test_compiled_sample_is_accepted(sample: str, reports: dict[str, dict[str, Any]]) -> None:
    report = reports[sample]
    assert report["problems"] == []
    assert report["gcpc"], "every sample has a GCPC task"


def test_samples_cover_every_snapshot_component(reports: dict[str, dict[str, Any]]) -> None:
    used = {name for s in SAMPLES for name in reports[s.stem]["gcpc"].values()}
    assert used == {
        "CustomTrainingJobOp",
        "HyperparameterTuningJobRunOp",
        "ModelUploadOp",
        "EndpointCreateOp",
        "ModelDeployOp",
        "ModelBatchPredictOp",
    }


def test_job_json_is_accepted(reports: dict[str, dict[str, Any]]) -> None:
    report = reports["job"]
    assert report["problems"] == []
    assert report["job"]["built"] and report["job"]["scheduled"]
    assert report["job"]["parameter_values"] == ["project"]
    assert not report["job"]["project_assumed"]


def test_job_without_project_builds_offline(reports: dict[str, dict[str, Any]]) -> None:
    """The user's credentials would name the project: the probe stands one in."""
    report = reports["no-project"]
    assert report["problems"] == []
    assert report["job"]["project_assumed"]


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_mutation_is_reported(name: str, reports: dict[str, dict[str, Any]]) -> None:
    problems = reports[name]["problems"]
    assert any(MUTATIONS[name][2] in p for p in problems), problems


@pytest.mark.parametrize("name", sorted(JOB_MUTATIONS))
def test_job_mutation_is_reported(name: str, reports: dict[str, dict[str, Any]]) -> None:
    problems = reports[name]["problems"]
    assert any(JOB_MUTATIONS[name][1] in p for p in problems), problems
