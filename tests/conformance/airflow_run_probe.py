#!/usr/bin/env python
"""Run DAGs for real, one after another, with Airflow's own ``dag.test()``; report as JSON.

Standalone script: it runs under an Airflow conformance venv's interpreter and imports
nothing from pipespec. ``AIRFLOW_HOME`` must be a fresh folder whose ``dags`` folder holds
the DAG files (Airflow 3's ``dag.test()`` reads the DAG back from there).

Usage::

    python airflow_run_probe.py DAG_ID [DAG_ID ...]

It migrates the SQLite metadata database, registers the DAGs (and the assets they name)
as the DAG processor would, runs each DAG id in the order given (a DAG may be named more
than once) and prints one JSON object on stdout::

    {"airflow_version": "3.3.2",
     "runs": [{"dag_id": ..., "run_id": ..., "state": "success",
               "tasks": {task_id: state}}, ...]}
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def _migrate() -> None:
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        stdout=sys.stderr,
        stderr=sys.stderr,
        timeout=600,
    )


def _dags(folder: Path) -> dict[str, Any]:
    # Through importlib: Airflow is in the conformance venv only, not where mypy runs.
    airflow = importlib.import_module("airflow")
    bag = importlib.import_module("airflow.models.dagbag").DagBag(str(folder))
    if bag.import_errors:
        raise SystemExit(f"import errors: {bag.import_errors}")
    if airflow.__version__.startswith("2."):
        # Airflow 2 records an asset (dataset) event only for a dataset the DAG processor
        # has registered; dag.test() does not register them itself.
        dag_class = importlib.import_module("airflow.models.dag").DAG
        dag_class.bulk_write_to_db(list(bag.dags.values()))
    return dict(bag.dags)


def _run(dag: Any) -> dict[str, Any]:
    run = dag.test()
    tasks = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    return {"dag_id": dag.dag_id, "run_id": run.run_id, "state": str(run.state), "tasks": tasks}


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: airflow_run_probe.py DAG_ID [DAG_ID ...]", file=sys.stderr)
        return 2
    folder = Path(os.environ["AIRFLOW_HOME"]) / "dags"
    _migrate()
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # Airflow and the tasks print: keep stdout for the report
    try:
        dags = _dags(folder)
        runs = [_run(dags[dag_id]) for dag_id in argv]
    finally:
        sys.stdout = real_stdout
    version = importlib.import_module("airflow").__version__
    print(json.dumps({"airflow_version": version, "runs": runs}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
