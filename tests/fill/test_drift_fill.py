"""A monitor written with `drift:` and its inputs only: the catalog completes it with the
standard drift check (pipespec:drift), it compiles for Airflow and Kubeflow, and the lock
file pins it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from pipespec.cli import main
from pipespec.fill.catalog import load_catalog

HEAD = """\
pipespec: 1
name: drift-watch
params:
  day: {type: string, default: "2024-01-01"}
steps:
  reference:
    kind: container
    image: python:3.12-slim
    command: [python, -m, data.reference, --out, "${outputs.data}"]
    outputs: {data: dataset}
  today:
    kind: container
    image: python:3.12-slim
    command: [python, -m, data.today, --day, "${params.day}", --out, "${outputs.data}"]
    outputs: {data: dataset}
"""
MONITOR = """\
  monitor:
    kind: monitor
    inputs: INPUTS
    drift: {metric: ks, threshold: 0.15}
"""
TAIL = """\
  retrain:
    kind: train
    framework: scikit-learn
    task: regression
    when: "monitor.metrics.drifted == 1"
    inputs: {train: today.data}
targets:
  airflow: {version: "3", operator: kubernetes, namespace: ml, artifact_root: "s3://acme/art"}
  kubeflow: {}
"""
IMAGE = "public.ecr.aws/sagemaker/sagemaker-distribution:4.4.1-cpu"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.chdir(tmp_path)

    def write(inputs: str) -> Path:
        path = tmp_path / "pipeline.yaml"
        path.write_text(HEAD + MONITOR.replace("INPUTS", inputs) + TAIL, encoding="utf-8")
        return path

    return write


def monitor_entry() -> dict[str, Any]:
    lock = json.loads(Path("pipeline.lock.json").read_text(encoding="utf-8"))
    entry: dict[str, Any] = lock["steps"]["monitor"]
    return entry


def test_monitor_compiles_for_airflow_and_kubeflow_without_a_command(spec: Any) -> None:
    spec("{baseline: reference.data, current: today.data}")
    code, out, err = run("compile", "pipeline.yaml", "--target", "airflow,kubeflow", "--out", "out")
    assert code == 0, err + out
    dag = Path("out/airflow/drift-watch.py").read_text(encoding="utf-8")
    assert "pipespec standard script: a data drift check" in dag
    assert (
        "'--baseline', 's3://acme/art/drift-watch/{{ run_id }}/reference/data', "
        "'--current', 's3://acme/art/drift-watch/{{ run_id }}/today/data', '--metric', 'ks', "
        "'--threshold', '0.15', '--report', 's3://acme/art/drift-watch/{{ run_id }}/monitor/"
        "report', '--metrics', '/airflow/xcom/return.json']"
    ) in dag
    assert f"image='{IMAGE}'" in dag
    assert "_xcom_value(context, 'monitor', 'return_value')['drifted'] == 1" in dag

    pipeline = yaml.safe_load(Path("out/kubeflow/drift-watch.yaml").read_text(encoding="utf-8"))
    container = pipeline["deploymentSpec"]["executors"]["exec-monitor"]["container"]
    assert container["image"] == IMAGE
    assert container["args"][-12:] == [
        "--baseline", "{{$.inputs.artifacts['baseline'].path}}",
        "--current", "{{$.inputs.artifacts['current'].path}}",
        "--metric", "ks", "--threshold", "0.15",
        "--report", "{{$.outputs.artifacts['report'].path}}",
        "--metrics", "{{$.outputs.parameters['metrics'].output_file}}",
    ]  # fmt: skip
    assert load_catalog().script_source("drift") in container["command"]
    outputs = pipeline["components"]["comp-monitor"]["outputDefinitions"]
    assert outputs["artifacts"]["report"]["artifactType"]["schemaTitle"] == "system.Artifact"
    assert outputs["parameters"]["metrics"]["parameterType"] == "STRUCT"


def test_the_lock_pins_the_drift_check(spec: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    spec("{baseline: reference.data, data: today.data}")
    code, out, err = run("fill", "pipeline.yaml")
    assert code == 0, err + out
    entry = monitor_entry()
    version = load_catalog().version
    assert entry["fields"] == {
        "script": "pipespec:drift",
        "args": [
            "--baseline", "${inputs.baseline}", "--current", "${inputs.data}",
            "--metric", "ks", "--threshold", "0.15",
            "--report", "${outputs.report}", "--metrics", "${outputs.metrics}",
        ],
        "image": IMAGE,
    }  # fmt: skip
    assert entry["provenance"]["script"] == f"catalog:drift@{version}"
    assert entry["target_images"]["kubernetes"] == IMAGE
    # CI compiles from the lock alone.
    monkeypatch.setenv("CI", "true")
    code, out, err = run("compile", "pipeline.yaml", "--target", "airflow,kubeflow", "--out", "o")
    assert code == 0, err + out
    # A changed threshold makes the entry stale: the lock pins what was filled.
    Path("pipeline.yaml").write_text(
        Path("pipeline.yaml").read_text(encoding="utf-8").replace("0.15", "0.2"), encoding="utf-8"
    )
    code, _, err = run("compile", "pipeline.yaml", "--target", "airflow", "--out", "o")
    assert code != 0 and "PS502" in err


def test_logged_predictions_are_the_current_data_without_a_dataset(spec: Any) -> None:
    spec('{baseline: reference.data, log: "s3://acme/serving/churn/requests/"}')
    code, out, err = run("fill", "pipeline.yaml")
    assert code == 0, err + out
    args = monitor_entry()["fields"]["args"]
    assert args[2:4] == ["--current-log", "${inputs.log}"]
    code, out, err = run("compile", "pipeline.yaml", "--target", "airflow", "--out", "out")
    assert code == 0, err + out
    dag = Path("out/airflow/drift-watch.py").read_text(encoding="utf-8")
    assert "'--current-log', 's3://acme/serving/churn/requests/'" in dag


@pytest.mark.parametrize(
    ("inputs", "named"),
    [
        ("{baseline: reference.data}", "`current` (the dataset to check) or `log`"),
        ("{current: today.data}", "`baseline` (the reference dataset"),
    ],
)
def test_a_monitor_with_nothing_to_compare_names_what_to_add(
    spec: Any, inputs: str, named: str
) -> None:
    spec(inputs)
    code, _, err = run("compile", "pipeline.yaml", "--target", "airflow", "--out", "out")
    assert code != 0
    assert "error[PS500]: step 'monitor' is incomplete" in err
    assert named in err and "pipespec:drift" in err
    assert not Path("out").exists()
    code, _, err = run("fill", "pipeline.yaml")  # fill says the same
    assert code != 0 and "step 'monitor' still needs" in err and named in err


def test_a_when_on_a_key_the_check_never_writes_is_caught(spec: Any) -> None:
    spec("{baseline: reference.data, current: today.data}")
    text = Path("pipeline.yaml").read_text(encoding="utf-8")
    Path("pipeline.yaml").write_text(
        text.replace(
            "monitor.metrics.drifted == 1",
            "monitor.metrics.drfted == 1 or monitor.metrics.ks_bmi > 0.3",
        ),
        encoding="utf-8",
    )
    code, _, err = run("compile", "pipeline.yaml", "--target", "airflow", "--out", "out")
    assert code != 0
    assert (
        "error[PS437]: pipespec:drift never writes a metric 'drfted' for step 'monitor' (it "
        "writes drift, drifted, features_drifted and ks_<feature> per feature)"
    ) in err
    assert "did you mean 'drifted'" in err
    assert err.count("error[PS437]") == 1  # ks_bmi, a feature's own key, it may write
