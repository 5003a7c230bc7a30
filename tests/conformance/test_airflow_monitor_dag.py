"""A monitor with a schedule of its own runs as its own DAG and reads the outputs of the
pipeline DAG's latest run: both DAGs run for real with Airflow's ``dag.test()`` (2.10 and
3.3, operator: local, a shared artifact_root on disk), linked only by Airflow's assets."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pipespec.api import analyze_file
from pipespec.backends.airflow.render import render_dag
from tests.conformance.runner import probe_env
from tests.conformance.venvs import ensure_venv

pytestmark = [pytest.mark.conformance, pytest.mark.usefixtures("airflow_venvs")]

PROBE = Path(__file__).resolve().parent / "airflow_run_probe.py"
# The producer writes where it wrote (its run's folder) into its dataset; the monitor
# copies what it read.
WRITE = (
    "import pathlib, sys; p = pathlib.Path(sys.argv[1]); p.mkdir(parents=True, "
    "exist_ok=True); (p / 'data.csv').write_text(str(p))"
)
READ = (
    "import pathlib, sys; src = pathlib.Path(sys.argv[1]) / 'data.csv'; "
    "out = pathlib.Path(sys.argv[2]); out.mkdir(parents=True, exist_ok=True); "
    "(out / 'seen.txt').write_text(src.read_text()); "
    "pathlib.Path(sys.argv[3]).write_text('{\"drift\": 0}')"
)
SPEC = """\
pipespec: 1
name: watch
schedule: "@weekly"
steps:
  prep:
    kind: container
    image: python:3.12-slim
    command: [python3, -c, {write}, "${{outputs.data}}"]
    outputs: {{data: dataset}}
  monitor:
    kind: monitor
    image: python:3.12-slim
    command:
      [python3, -c, {read}, "${{inputs.baseline}}", "${{outputs.report}}", "${{outputs.metrics}}"]
    inputs: {{baseline: prep.data}}
    outputs: {{report: artifact}}
    schedule: "@daily"
    after: [prep]
targets:
  airflow: {{version: "{version}", operator: local, artifact_root: "{root}"}}
"""


def _compile(tmp_path: Path, version: str, root: Path) -> dict[str, str]:
    spec = tmp_path / "pipeline.yaml"
    text = SPEC.format(write=json.dumps(WRITE), read=json.dumps(READ), version=version, root=root)
    spec.write_text(text)
    analysis = analyze_file(spec)
    assert analysis.pipeline is not None, analysis.diagnostics
    result = render_dag(analysis.pipeline)
    assert set(result.files) == {"airflow/watch.py", "airflow/watch-monitor.py"}
    return dict(result.files)


def _run(version: str, home: Path, *dag_ids: str) -> list[dict[str, Any]]:
    python = ensure_venv(f"airflow{version}")
    proc = subprocess.run(
        [str(python), "-B", str(PROBE), *dag_ids],
        capture_output=True,
        text=True,
        env=probe_env(home),
        cwd=home,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-6000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["airflow_version"].startswith(f"{version}.")
    runs: list[dict[str, Any]] = report["runs"]
    return runs


@pytest.mark.parametrize("version", ["2", "3"])
def test_the_monitor_dag_reads_the_latest_run_of_the_pipeline(tmp_path: Path, version: str) -> None:
    root = tmp_path / "artifacts"
    home = tmp_path / "home"
    (home / "dags").mkdir(parents=True)
    for path, text in _compile(tmp_path, version, root).items():
        (home / "dags" / Path(path).name).write_text(text)
    before, first, after_first, second, after_second = _run(
        version, home, "watch-monitor", "watch", "watch-monitor", "watch", "watch-monitor"
    )
    # Before the pipeline ever ran there is nothing to monitor: skipped, not failed.
    assert before["tasks"] == {"monitor.latest": "skipped", "monitor": "skipped"}, before
    for run in (first, second, after_first, after_second):
        assert run["state"] == "success", run
        assert set(run["tasks"].values()) == {"success"}, run
    # Each monitor run read the dataset of the pipeline's run just before it.
    for pipeline_run, monitor_run in ((first, after_first), (second, after_second)):
        produced = root / "watch" / pipeline_run["run_id"] / "prep" / "data" / "data.csv"
        seen = root / "watch-monitor" / monitor_run["run_id"] / "monitor" / "report" / "seen.txt"
        assert seen.read_text() == produced.read_text() == str(produced.parent)
    assert first["run_id"] != second["run_id"]
