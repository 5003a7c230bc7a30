"""The Airflow probe itself, checked on hand-written DAG files (not compiler output).

These pin what Airflow 2.10.5 and 3.3.2 really do with the constructs pipespec generates:
KubernetesPodOperator with resources/env/secrets/node selector/tolerations, a dynamically
mapped KPO task, a ShortCircuitOperator, DAG params, serialization round trip, import errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conformance.runner import probe_dags

SAMPLES = Path(__file__).resolve().parent / "samples"
VERSIONS = ("2", "3")
FULL_VERSION = {"2": "2.10.5", "3": "3.3.2"}

pytestmark = [pytest.mark.conformance, pytest.mark.usefixtures("airflow_venvs")]


@pytest.fixture(scope="module", params=VERSIONS)
def sample_report(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    version: str = request.param
    return version, probe_dags(version, SAMPLES / f"airflow{version}", render=True)


def _dag(report: dict[str, Any], dag_id: str) -> dict[str, Any]:
    dags: dict[str, Any] = report["dags"]
    assert dag_id in dags, f"{dag_id} not loaded; import errors: {report['import_errors']}"
    dag: dict[str, Any] = dags[dag_id]
    return dag


def _container(pod: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = pod["spec"]["containers"][0]
    return container


def test_sample_structure(sample_report: tuple[str, dict[str, Any]]) -> None:
    version, report = sample_report
    assert report["airflow_version"] == FULL_VERSION[version]
    assert report["import_errors"] == {}
    assert report["warnings"] == {}
    dag = _dag(report, f"pipespec_sample_af{version}")
    assert dag["tasks"] == ["prepare", "report", "should_train", "train"]
    assert dag["edges"] == [
        ["prepare", "should_train"],
        ["should_train", "train"],
        ["train", "report"],
    ]
    assert dag["mapped_tasks"] == ["train"]
    assert dag["mapped_args"] == {"train": ["arguments"]}
    assert dag["operators"] == {
        "prepare": "KubernetesPodOperator",
        "report": "KubernetesPodOperator",
        "should_train": "ShortCircuitOperator",
        "train": "KubernetesPodOperator",
    }
    assert dag["params"] == {"dataset": "s3://bucket/data.csv", "epochs": 3}
    assert dag["param_schemas"]["epochs"] == {"type": "integer", "minimum": 1}
    assert dag["schedule"] == "@daily"
    # Same "@daily", different default timetable: Airflow 3 no longer creates data intervals.
    expected_timetable = "CronTriggerTimetable" if version == "3" else "CronDataIntervalTimetable"
    assert dag["timetable"] == expected_timetable
    assert dag["catchup"] is False
    assert dag["start_date"] == "2024-01-01T00:00:00+00:00"
    assert dag["fileloc"] == f"pipespec_sample_af{version}.py"
    assert dag["serialize_error"] is None
    assert dag["serialized"] is True


def test_sample_rendering_and_pod_specs(sample_report: tuple[str, dict[str, Any]]) -> None:
    version, report = sample_report
    rendered = _dag(report, f"pipespec_sample_af{version}")["rendered"]

    prepare = rendered["prepare"]
    assert "<error>" not in prepare
    assert prepare["arguments"] == ["print('prepare')", "s3://bucket/data.csv"]  # {{ params }}
    container = _container(prepare["<pod>"])
    assert container["command"] == ["python", "-c"]
    assert container["args"] == ["print('prepare')", "s3://bucket/data.csv"]
    assert container["resources"] == {
        "limits": {"cpu": "1", "memory": "2Gi", "nvidia.com/gpu": "1"},
        "requests": {"cpu": "500m", "memory": "1Gi"},
    }
    assert container["env"] == [
        {"name": "STAGE", "value": "prepare"},
        {"name": "EPOCHS", "value": "3"},
        {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"key": "token", "name": "api"}}},
    ]
    spec = prepare["<pod>"]["spec"]
    assert spec["nodeSelector"] == {"pool": "cpu"}
    assert spec["tolerations"] == [
        {"effect": "NoSchedule", "key": "dedicated", "operator": "Equal", "value": "ml"}
    ]

    # A ShortCircuitOperator's op_kwargs are templated: the param arrives as a string.
    assert rendered["should_train"]["op_kwargs"] == {"min_rows": "3"}

    # The mapped task: one pod per literal expand value, partial() kwargs shared.
    train = rendered["train"]
    assert isinstance(train, list)
    assert [_container(item["<pod>"])["args"] for item in train] == [
        ["print(0)"],
        ["print(1)"],
        ["print(2)"],
    ]
    assert all(
        _container(item["<pod>"])["env"] == [{"name": "STAGE", "value": "train"}] for item in train
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_broken_file_is_an_import_error(version: str) -> None:
    report = probe_dags(version, SAMPLES / "broken")
    assert report["dags"] == {}
    assert list(report["import_errors"]) == ["broken_import.py"]
    message = report["import_errors"]["broken_import.py"]
    assert "ImportError" in message
    assert "NoSuchOperator" in message


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2", "123 is not of type 'string'"),  # SerializedDAG JSON-schema validation
        ("3", "Unknown priority strategy no-such-rule"),  # DagSerialization.to_dict
    ],
)
def test_unserializable_dag_is_reported(version: str, expected: str) -> None:
    report = probe_dags(version, SAMPLES / "unserializable" / f"airflow{version}")
    assert report["import_errors"] == {}
    dag = _dag(report, f"pipespec_unserializable_af{version}")
    assert dag["tasks"] == ["step"]
    assert dag["serialized"] is False
    assert expected in dag["serialize_error"]
