"""Pod and run control in Airflow's own DagBag (2.10 and 3.3): the pod the
KubernetesPodOperator would submit has the node selector, tolerations, service account and
limits the spec wrote; each mapped task gets its mapping item's values; the mapped task is
bounded by `parallelism`; and the fan-in step receives every item's value as one list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.airflow.helpers import example_spec, pipeline_of, render
from tests.conformance.airflow_checks import assert_dag_matches, probe_text
from tests.conftest import ROOT

pytestmark = [pytest.mark.conformance, pytest.mark.usefixtures("airflow_venvs")]


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _pod_spec(rendered: Any) -> dict[str, Any]:
    pod = rendered["<pod>"]
    assert isinstance(pod, dict), pod
    spec: dict[str, Any] = pod["spec"]
    return spec


@pytest.mark.parametrize("version", ["2", "3"])
def test_pod_control_reaches_the_pod(tmp_path: Path, version: str) -> None:
    pipeline = pipeline_of(example_spec("pod-control"))
    report = probe_text(tmp_path, version, pipeline.name, render(pipeline, version, "kubernetes"))
    assert_dag_matches(report, pipeline, "kubernetes")
    dag = report["dags"][pipeline.name]
    assert dag["mapped_tasks"] == ["score"]
    items = dag["rendered"]["score"]
    assert [entry["arguments"][2:4] for entry in items] == [
        ["eu-west", "0.5"],
        ["us-east", "0.7"],
        ["ap-south", "0.6"],
    ]
    spec = _pod_spec(items[0])
    assert spec["nodeSelector"] == {"pool": "scoring"}
    assert spec["serviceAccountName"] == "pipeline-runner"
    assert [t["key"] for t in spec["tolerations"]] == ["dedicated", "spot"]
    # "base" runs the command; a step with a parameter output also gets the XCom sidecar.
    (container,) = [c for c in spec["containers"] if c["name"] == "base"]
    assert container["resources"]["limits"] == {"cpu": "4", "memory": "8Gi"}
    assert container["resources"]["requests"] == {"cpu": "2", "memory": "4Gi"}
    pick = dag["rendered"]["pick"]
    assert _pod_spec(pick)["serviceAccountName"] == "picker"
    # The fan-in: one JSON list, a value per item in item order.
    scores = json.loads(pick["arguments"][2])
    assert scores == [f"<xcom score:return_value:{i}>" for i in range(3)]


@pytest.mark.parametrize("version", ["2", "3"])
def test_pod_control_bounds_the_mapped_task(tmp_path: Path, version: str) -> None:
    """`parallelism` is the real operator's max_active_tis_per_dagrun (both operators)."""
    pipeline = pipeline_of(example_spec("pod-control"))
    for operator in ("kubernetes", "local"):
        text = render(pipeline, version, operator)
        (tmp_path / operator).mkdir()
        report = probe_text(tmp_path / operator, version, pipeline.name, text)
        assert_dag_matches(report, pipeline, operator)
        assert "max_active_tis_per_dagrun=2" in text
