"""What Vertex can and cannot run, decided at compile time: machines and GPUs, secrets from
Secret Manager, model steps as Vertex's services, schedules, and `targets.vertex` itself;
each fault is an error at its line, and what compiles is read back from the files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.vertex.vspec import build, codes, compiled, constants, pools, refused

TRAIN = """
pipespec: 1
name: machines
params:
  machine: {type: string, default: n1-highmem-8, enum: [n1-highmem-8, n1-highmem-16]}
  free: {type: string, default: n1-highmem-8}
steps:
  fit:
    kind: train
    image: ghcr.io/acme/t:1
    command: [python, fit.py, "${outputs.model}"]
    outputs: {model: model}
"""


def _train(extra: str) -> str:
    return TRAIN + "".join(f"    {line}\n" for line in extra.strip().splitlines())


def line_of(text: str, needle: str) -> int:
    """The 1-based line of ``text`` where ``needle`` first appears."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _machine(doc: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = pools(doc, "fit")[0]["machine_spec"]
    return spec


@pytest.mark.parametrize(
    ("resources", "machine"),
    [
        ("{cpu: 8, memory: 16Gi}", {"machine_type": "n1-standard-8"}),
        ("{cpu: 2}", {"machine_type": "n1-standard-2"}),
        ("{memory: 20Gi}", {"machine_type": "n1-standard-8"}),
        ("{cpu: 96, memory: 600Gi}", {"machine_type": "n1-highmem-96"}),
        (
            "{gpu: 1, accelerator: nvidia-t4}",
            {"machine_type": "n1-standard-4", "accelerator_type": "NVIDIA_TESLA_T4",
             "accelerator_count": 1.0},
        ),
        (
            "{gpu: 2, accelerator: nvidia-a100}",
            {"machine_type": "a2-highgpu-2g", "accelerator_type": "NVIDIA_TESLA_A100",
             "accelerator_count": 2.0},
        ),
        (
            "{gpu: 1, accelerator: nvidia-l4}",
            {"machine_type": "g2-standard-4", "accelerator_type": "NVIDIA_L4",
             "accelerator_count": 1.0},
        ),
    ],
)  # fmt: skip
def test_the_machine_fits_what_the_step_asks_for(
    tmp_path: Path, resources: str, machine: dict[str, Any]
) -> None:
    doc, _ = compiled(tmp_path, _train(f"resources: {resources}"))
    assert _machine(doc) == machine


def test_no_request_is_the_default_machine_and_an_option_changes_it(tmp_path: Path) -> None:
    doc, _ = compiled(tmp_path, TRAIN)
    assert _machine(doc) == {"machine_type": "n1-standard-4"}
    doc, _ = compiled(tmp_path, TRAIN + "targets:\n  vertex: {machine_type: e2-standard-8}\n")
    assert _machine(doc) == {"machine_type": "e2-standard-8"}


@pytest.mark.parametrize(
    ("resources", "words"),
    [
        ("{gpu: 1, accelerator: nvidia-a10g}", "nvidia-a10g"),
        ("{gpu: 1}", "accelerator"),
        ("{gpu: 3, accelerator: nvidia-a100}", "3 x NVIDIA_TESLA_A100"),
        ("{cpu: 96, memory: 700Gi}", "N1"),
    ],
)
def test_a_machine_vertex_lacks_is_an_error_at_the_step(
    tmp_path: Path, resources: str, words: str
) -> None:
    (found,) = refused(tmp_path, _train(f"resources: {resources}"))
    assert found.code == "PS600" and words in found.message
    assert found.span is not None and found.span.line == line_of(TRAIN, "  fit:")


def test_a_container_task_gets_the_vertex_accelerator_name(tmp_path: Path) -> None:
    text = """
pipespec: 1
name: gpu-task
steps:
  one:
    kind: container
    image: busybox:1
    command: [nvidia-smi]
    resources: {gpu: 1, accelerator: nvidia-t4}
"""
    doc, _ = compiled(tmp_path, text)
    resources = doc["deploymentSpec"]["executors"]["exec-one"]["container"]["resources"]
    assert resources["accelerator"]["resourceType"] == "NVIDIA_TESLA_T4"
    assert resources["accelerator"]["resourceCount"] == "1"
    text_a10g = text.replace("nvidia-t4", "nvidia-a10g")
    assert [d.code for d in refused(tmp_path, text_a10g)] == ["PS600"]


def test_instance_type_outright_and_from_a_param(tmp_path: Path) -> None:
    doc, _ = compiled(tmp_path, _train("targets: {vertex: {instance_type: c2-standard-16}}"))
    assert _machine(doc) == {"machine_type": "c2-standard-16"}
    doc, _ = compiled(tmp_path, _train('targets: {vertex: {instance_type: "${params.machine}"}}'))
    assert _machine(doc) == {"machine_type": "{{$.inputs.parameters['param-machine']}}"}
    task = doc["root"]["dag"]["tasks"]["fit"]
    assert task["inputs"]["parameters"]["param-machine"] == {"componentInputParameter": "machine"}
    definitions = doc["components"]["comp-fit"]["inputDefinitions"]["parameters"]
    assert definitions["param-machine"] == {"parameterType": "STRING"}


def test_a_machine_type_from_a_param_without_an_enum_is_refused(tmp_path: Path) -> None:
    """Vertex writes the value into the job's JSON spec unescaped, and a machine type is not
    in the command, so no file can carry it: only an enum of plain values is safe."""
    found = refused(tmp_path, _train('targets: {vertex: {instance_type: "${params.free}"}}'))
    assert [d.code for d in found] == ["PS600"]
    assert "param 'free'" in found[0].message and "enum" in (found[0].hint or "")


def test_instance_count_is_the_chief_and_a_pool_of_the_rest(tmp_path: Path) -> None:
    doc, _ = compiled(tmp_path, _train("targets: {vertex: {instance_count: 3}}"))
    chief, rest = pools(doc, "fit")
    assert (chief["replica_count"], rest["replica_count"]) == (1.0, 2.0)
    assert chief["container_spec"] == rest["container_spec"]
    doc, _ = compiled(tmp_path, _train("targets: {vertex: {instance_count: 1}}"))
    assert [p["replica_count"] for p in pools(doc, "fit")] == [1.0]


SECRET = """
pipespec: 1
name: secretive
secrets:
  db: {gcp: {secret: projects/acme-ml/secrets/db-url}, kubernetes: {secret: db, key: url}}
  pinned: {gcp: {secret: projects/1234/secrets/token/versions/7}}
  k8s: {kubernetes: {secret: db, key: url}}
steps:
  one:
    kind: container
    image: busybox:1
    command: [run, "--flag=$(x)"]
    secrets: {DB_URL: db, TOKEN: pinned}
"""


def test_a_gcp_secret_is_read_by_the_runner_before_the_command(tmp_path: Path) -> None:
    from pipespec.backends.vertex.programs import SECRET_RUNNER

    doc, _ = compiled(tmp_path, SECRET)
    container = doc["deploymentSpec"]["executors"]["exec-one"]["container"]
    assert container["command"] == [
        "python3", "-c", SECRET_RUNNER,
        "DB_URL=projects/acme-ml/secrets/db-url/versions/latest",
        "TOKEN=projects/1234/secrets/token/versions/7",
        "--", "run", "--flag=$(x)",
    ]  # fmt: skip
    assert "env" not in container  # the value is never in the pipeline
    # In a training job the runner is in the worker pool's command.
    train = SECRET.replace("kind: container", "kind: train").replace(
        '"--flag=$(x)"]', '"${outputs.model}"]\n    outputs: {model: model}'
    )
    doc, _ = compiled(tmp_path, train)
    command = pools(doc, "one")[0]["container_spec"]["command"]
    assert command[:3] == ["python3", "-c", SECRET_RUNNER] and command[5] == "--"


def test_a_secret_without_gcp_or_with_a_malformed_name_is_an_error(tmp_path: Path) -> None:
    (found,) = refused(tmp_path, SECRET.replace("TOKEN: pinned", "TOKEN: k8s"))
    assert found.code == "PS600" and "gcp" in found.message and found.hint
    malformed = SECRET.replace("token/versions/7", "token/versions/newest")
    (found,) = refused(tmp_path, malformed)
    assert found.code == "PS600" and "Secret Manager" in found.message
    quoted = SECRET.replace("secrets/db-url", 'secrets/db"url')
    (found,) = refused(tmp_path, quoted)
    assert found.code == "PS600"


MODELS = """
pipespec: 1
name: served
steps:
  mk:
    kind: container
    image: busybox:1
    command: [mk, "${outputs.data}"]
    outputs: {data: dataset}
  train:
    kind: train
    framework: xgboost
    task: binary_classification
    inputs: {train: mk.data}
    serving_image: ghcr.io/acme/serve:1
  deploy:
    kind: deploy
    inputs: {model: train.model}
    endpoint: {name: churn, instance_type: medium, min_replicas: 1, max_replicas: 3}
"""


def test_deploy_becomes_upload_endpoint_and_deploy_tasks(tmp_path: Path) -> None:
    doc, _ = compiled(tmp_path, MODELS)
    tasks = doc["root"]["dag"]["tasks"]
    assert {"deploy", "deploy-model", "deploy-upload", "deploy-endpoint"} <= set(tasks)
    deployed = constants(doc, "deploy")
    assert deployed["dedicated_resources_machine_type"] == "n1-standard-4"
    assert deployed["dedicated_resources_max_replica_count"] == 3
    assert constants(doc, "deploy-endpoint")["display_name"] == "churn"


def test_reading_a_deploys_endpoint_is_an_error_unless_deploy_is_a_container(
    tmp_path: Path,
) -> None:
    reader = """
  ping:
    kind: container
    image: busybox:1
    command: [ping, "${inputs.url}"]
    inputs: {url: deploy.endpoint}
"""
    found = refused(tmp_path, MODELS + reader)
    assert [d.code for d in found] == ["PS600"] and "deploy.endpoint" in found[0].message
    assert found[0].span is not None
    assert found[0].span.line == line_of(MODELS + reader, "  ping:")
    own = MODELS.replace(
        "    inputs: {model: train.model}\n    endpoint",
        '    image: ghcr.io/acme/deployer:1\n    command: [deploy, "${inputs.model}",'
        ' "${outputs.endpoint}"]\n    inputs: {model: train.model}\n    endpoint',
    )
    text = own + reader + "targets:\n  vertex: {container_kinds: [deploy]}\n"
    doc, _ = compiled(tmp_path, text)
    tasks = doc["root"]["dag"]["tasks"]
    assert "deploy-upload" not in tasks and "deploy-endpoint" not in tasks
    container = doc["deploymentSpec"]["executors"]["exec-deploy"]["container"]
    assert container["image"] == "ghcr.io/acme/deployer:1"
    assert tasks["ping"]["inputs"]["parameters"]["url"]["taskOutputParameter"] == {
        "outputParameterKey": "endpoint",
        "producerTask": "deploy",
    }


def test_batch_predict_keeps_at_most_one_column(tmp_path: Path) -> None:
    text = (
        MODELS.split("  deploy:", maxsplit=1)[0]
        + """
  score:
    kind: batch_predict
    inputs: {model: train.model, data: mk.data}
    keep_columns: [id, region]
"""
    )
    (found,) = refused(tmp_path, text)
    assert found.code == "PS600" and "keep_columns has 2" in found.message
    doc, _ = compiled(tmp_path, text.replace("[id, region]", "[id]"))
    assert constants(doc, "score")["key_field"] == "id"


@pytest.mark.parametrize(
    ("schedule", "cron"),
    [
        ("@hourly", "0 * * * *"),
        ("@daily", "0 0 * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"),
        ("@yearly", "0 0 1 1 *"),
        ("15 3 * * 1-5", "15 3 * * 1-5"),
    ],
)
def test_a_schedule_is_five_field_cron_in_the_job_file(
    tmp_path: Path, schedule: str, cron: str
) -> None:
    text = TRAIN + f'schedule: "{schedule}"\ntargets:\n  vertex: {{max_concurrent_runs: 2}}\n'
    _, job = compiled(tmp_path, text)
    assert job["schedule"] == {
        "cron": cron,
        "display_name": "machines",
        "max_concurrent_run_count": 2,
    }
    assert len(job["schedule"]["cron"].split()) == 5


@pytest.mark.parametrize(
    ("schedule", "code"),
    [("0 3 L * *", "PS600"), ("0 3 15W * *", "PS600"),
     # The front end refuses these already (not 5-field cron as it reads them).
     ("0 3 * * 1#2", "PS210"), ("0 3 * * 5L", "PS210")],
)  # fmt: skip
def test_a_croniter_extension_vertex_lacks_is_an_error(
    tmp_path: Path, schedule: str, code: str
) -> None:
    files, diags = build(tmp_path, TRAIN + f'schedule: "{schedule}"\n')
    assert files == {}
    assert codes(diags) == [code]
    assert "schedule" in next(d for d in diags if d.code == code).message


def _with_target(block: str) -> str:
    return TRAIN + "targets:\n  vertex:\n" + "".join(f"    {x}\n" for x in block.splitlines())


@pytest.mark.parametrize(
    ("block", "where"),
    [
        ("labels: {Team: ml}", "Team"),
        ("labels: {team: ML}", "ML"),
        ("labels: {goog-team: ml}", "goog"),
        ("labels: {vertex-ai-pipelines-run: x}", "vertex-ai"),
        ("project: acme-ml\nlabels:\n  ok: fine\n  bad key: x", "bad key"),
    ],
)
def test_a_bad_label_is_an_error_at_its_line(tmp_path: Path, block: str, where: str) -> None:
    text = _with_target(block)
    files, diags = build(tmp_path, text)
    bad = [d for d in diags if d.severity.value == "error"]
    assert files == {} and len(bad) == 1, [(d.code, d.message) for d in diags]
    assert bad[0].span is not None
    assert bad[0].span.line == line_of(text, where)
    assert "{key" not in bad[0].message, bad[0].message


def test_labels_reach_the_job_and_the_training_job(tmp_path: Path) -> None:
    doc, job = compiled(tmp_path, _with_target("labels: {team: ml, cost-center: r-d_1}"))
    assert job["pipeline_job"]["labels"] == {"team": "ml", "cost-center": "r-d_1"}
    definitions = doc["components"]["comp-fit"]["inputDefinitions"]["parameters"]
    assert definitions["labels"]["defaultValue"] == {"team": "ml", "cost-center": "r-d_1"}


def test_an_unknown_vertex_key_is_ps200_with_a_hint(tmp_path: Path) -> None:
    text = _with_target("projekt: acme-ml")
    files, diags = build(tmp_path, text)
    assert files == {}
    found = [d for d in diags if d.code == "PS200"]
    assert len(found) == 1 and found[0].span is not None
    assert found[0].span.line == line_of(text, "projekt") and found[0].hint
    assert "project" in found[0].hint


def test_a_steps_service_account_is_mapped_to_a_google_one(tmp_path: Path) -> None:
    """A step's `service_account` is a Kubernetes name: its job runs as the Google account
    targets.vertex.service_accounts maps it to, else as the run's."""
    run, own = (f"{who}@acme-ml.iam.gserviceaccount.com" for who in ("pipeline-runs", "trainer"))
    text = _train("service_account: trainer").replace(
        "steps:",
        f"targets:\n  vertex:\n    service_account: {run}\n"
        f"    service_accounts: {{trainer: {own}}}\nsteps:",
    )
    doc, _ = compiled(tmp_path, text)
    params = doc["components"]["comp-fit"]["inputDefinitions"]["parameters"]
    assert params["service_account"]["defaultValue"] == own
    doc, _ = compiled(tmp_path, text.replace("service_account: trainer", "service_account: other"))
    params = doc["components"]["comp-fit"]["inputDefinitions"]["parameters"]
    assert (
        params["service_account"]["defaultValue"] == "pipeline-runs@acme-ml.iam.gserviceaccount.com"
    )


def test_machine_settings_on_a_pipeline_task_are_a_warning(tmp_path: Path) -> None:
    text = """
pipespec: 1
name: plain
steps:
  one:
    kind: container
    image: busybox:1
    command: [echo, hi]
    targets: {vertex: {instance_type: n1-standard-8}}
"""
    files, diags = build(tmp_path, text)
    assert files
    assert [(d.code, d.severity.value) for d in diags] == [("PS606", "warning")]
    assert "instance_type" in diags[0].message


def test_sunday_as_seven_is_written_as_zero(tmp_path: Path) -> None:
    from pipespec.backends.vertex.job import vertex_cron

    assert vertex_cron("0 3 * * 7") == "0 3 * * 0"
    assert vertex_cron("0 3 * * 1-5") == "0 3 * * 1-5"
