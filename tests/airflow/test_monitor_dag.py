"""A monitor with a schedule of its own: a second DAG where Airflow can read the pipeline's
artifacts, a diagnostic where it cannot, and nothing extra when its schedule is the
pipeline's. The DAGs run for real in tests/conformance/test_airflow_monitor_dag.py."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from pipespec import ir
from pipespec.api import analyze_file, render_target
from pipespec.backends.airflow.render import render_dag
from pipespec.diagnostics import Severity
from pipespec.ir.features import features_used
from pipespec.ir.monitors import same_schedule, scheduled_monitors

HEAD = """\
pipespec: 1
name: watch
schedule: "@weekly"
defaults: {image: "python:3.12-slim"}
steps:
  prep:
    kind: container
    command: [python3, prep.py, "${outputs.data}", "${outputs.stats}"]
    outputs: {data: dataset, stats: metrics}
"""
MONITOR = """\
  monitor:
    kind: monitor
    command: [python3, check.py, "${inputs.baseline}", "${outputs.report}", "${outputs.metrics}"]
    inputs: {baseline: BASELINE}
    schedule: "SCHEDULE"
"""


def _pipeline(
    tmp_path: Path,
    *,
    schedule: str = "@daily",
    baseline: str = "prep.data",
    extra: str = "",
    root: str | None = "s3://bucket/art",
) -> ir.Pipeline:
    target = (
        f'  airflow: {{version: "3", artifact_root: "{root}"}}\n' if root else "  airflow: {}\n"
    )
    monitor = MONITOR.replace("BASELINE", baseline).replace("SCHEDULE", schedule)
    text = HEAD + extra + monitor + "targets:\n" + target
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(text)
    analysis = analyze_file(spec)
    assert analysis.pipeline is not None, analysis.diagnostics
    return analysis.pipeline


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("@daily", "0 0 * * *", True),
        ("0  0 * * *", "@daily", True),
        ("@weekly", "0 0 * * 0", True),
        ("@hourly", "@daily", False),
        ("0 3 * * 1", "0 3 * * 2", False),
        (None, "@daily", False),
        (None, None, True),
    ],
)
def test_schedules_compare_by_meaning(a: str | None, b: str | None, same: bool) -> None:
    assert same_schedule(a, b) is same


def test_a_monitor_on_the_pipelines_schedule_needs_no_pipeline_of_its_own(
    tmp_path: Path,
) -> None:
    pipeline = _pipeline(tmp_path, schedule="0 0 * * 0")  # @weekly, as the pipeline
    assert scheduled_monitors(pipeline) == ()
    assert ir.Feature.MONITOR_SCHEDULE not in features_used(pipeline)
    result = render_dag(pipeline)
    assert set(result.files) == {"airflow/watch.py"}
    assert "outlets" not in result.files["airflow/watch.py"]


def test_a_monitor_on_its_own_schedule_gets_a_dag_that_reads_the_latest_run(
    tmp_path: Path,
) -> None:
    pipeline = _pipeline(tmp_path)
    assert [s.id for s in features_used(pipeline)[ir.Feature.MONITOR_SCHEDULE]] == ["monitor"]
    result = render_dag(pipeline)
    assert not result.diagnostics
    main, own = result.files["airflow/watch.py"], result.files["airflow/watch-monitor.py"]
    ast.parse(main)
    ast.parse(own)
    # The producer announces the dataset the monitor reads; its metrics stay unannounced.
    assert main.count("outlets=") == 1
    assert "outlets=[Asset('pipespec://watch/prep/data')]" in main
    assert "dag_id='watch-monitor'" in own and "schedule='@daily'" in own
    assert "inlets=[Asset('pipespec://watch/prep/data')]" in own
    assert "op_kwargs={'dag_id': 'watch', 'assets': {'prep': 'pipespec://watch/prep/data'}}" in own
    latest = "{{ ti.xcom_pull(task_ids='monitor.latest')['prep'] }}"
    assert f"'s3://bucket/art/watch/{latest}/prep/data'" in own.replace('"', "'")
    assert "'s3://bucket/art/watch-monitor/{{ run_id }}/monitor/report'" in own
    assert "t0_monitor_latest >> t0_monitor" in own
    # The pipeline's DAG still runs the monitor in each run, after its producer.
    assert "t0_prep >> t1_monitor" in main


def test_airflow_2_announces_datasets(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path)
    settings = {"version": "2", "artifact_root": "s3://bucket/art"}
    files = render_dag(pipeline, settings).files
    assert "from airflow.datasets import Dataset" in files["airflow/watch.py"]
    assert "outlets=[Dataset('pipespec://watch/prep/data')]" in files["airflow/watch.py"]
    own = files["airflow/watch-monitor.py"]
    assert "inlet_events[Dataset(uri)]" in own
    assert "from airflow.exceptions import AirflowSkipException" in own


def test_pipespecs_drift_check_fails_the_monitor_dags_run_on_drift(tmp_path: Path) -> None:
    from pipespec.backends.airflow.monitor_dag import FAIL_ON_DRIFT_ENV, monitor_pipeline

    pipeline = _pipeline(tmp_path)
    alone = monitor_pipeline(pipeline, pipeline.step("monitor")).steps[0]
    assert FAIL_ON_DRIFT_ENV not in dict(alone.env)  # its own command: left as written
    drift = ir.Script("pipespec:drift", "print()", "catalog:drift@1")
    steps = tuple(s if s.id != "monitor" else _with_script(s, drift) for s in pipeline.steps)
    scripted = dataclasses.replace(pipeline, steps=steps)
    alone = monitor_pipeline(scripted, scripted.step("monitor")).steps[0]
    assert dict(alone.env)[FAIL_ON_DRIFT_ENV] == (ir.Text("1"),)
    assert alone.deps == () and alone.after == () and alone.condition is None


def _with_script(step: ir.Step, script: ir.Script) -> ir.Step:
    return dataclasses.replace(step, script=script, command=())


@pytest.mark.parametrize(
    ("extra", "baseline", "says"),
    [
        ("", "prep.data, limit: prep.stats", "is a value"),
        (
            "  fan:\n    kind: container\n    foreach: [a, b]\n"
            '    command: [python3, f.py, "${item}", "${outputs.data}"]\n'
            "    outputs: {data: dataset}\n",
            "fan.data",
            "one folder per item",
        ),
    ],
)
def test_what_a_second_dag_cannot_read_is_an_error_at_the_monitor(
    tmp_path: Path, extra: str, baseline: str, says: str
) -> None:
    pipeline = _pipeline(tmp_path, extra=extra, baseline=baseline)
    result = render_dag(pipeline)
    assert result.files == {}
    (error,) = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    assert error.code == "PS600" and says in error.message
    assert error.span is not None and error.span.line == HEAD.count("\n") + extra.count("\n") + 1
    assert error.hint and "schedule" in error.hint


def test_a_condition_does_not_follow_the_monitor_into_its_own_dag(tmp_path: Path) -> None:
    extra = "  gate:\n    kind: container\n    command: [python3, g.py]\n"
    pipeline = _pipeline(tmp_path, extra=extra)
    text = (
        (tmp_path / "pipeline.yaml")
        .read_text()
        .replace('    schedule: "@daily"', '    schedule: "@daily"\n    when: "params.go"')
        .replace("steps:", "params:\n  go: {type: bool, default: true}\nsteps:")
    )
    (tmp_path / "pipeline.yaml").write_text(text)
    analysis = analyze_file(tmp_path / "pipeline.yaml")
    assert analysis.pipeline is not None and pipeline is not None, analysis.diagnostics
    result = render_dag(analysis.pipeline)
    (note,) = [d for d in result.diagnostics if "its own DAG" in d.message]
    assert note.code == "PS606" and note.severity is Severity.WARNING
    assert "when: params.go" in note.message
    assert "ShortCircuitOperator" not in result.files["airflow/watch-monitor.py"]


def test_without_a_shared_artifact_root_the_monitor_runs_once_per_run(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path, root=None)
    result = render_target("airflow", pipeline)
    assert set(result.files) == {"airflow/watch.py"}
    said = [d for d in result.diagnostics if "its own schedule" in d.message]
    assert said and said[0].code == "PS606"
    assert "artifact_root" in said[0].message
