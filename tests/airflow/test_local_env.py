"""operator: local runs a step with the least privilege the worker allows: no worker secrets.

The `_run_local` helper is taken out of a generated DAG file (by name, with `ast`) and run
for real against a child process that reports the environment it was given.
"""

from __future__ import annotations

import ast
import json
import os
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from tests.airflow.helpers import example_spec, pipeline_of, render
from tests.conftest import ROOT

WORKER_SECRETS = {
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql://airflow:hunter2@db/airflow",
    "AIRFLOW__CORE__FERNET_KEY": "fernet-secret",
    "AWS_SECRET_ACCESS_KEY": "aws-secret",
    "OPENAI_API_KEY": "sk-secret",
}


def run_local_of(version: str) -> Any:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        text = render(pipeline_of(example_spec("churn")), version, "local")
    finally:
        os.chdir(cwd)
    (node,) = [
        n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef) and n.name == "_run_local"
    ]
    namespace: dict[str, Any] = {"json": json}
    exec(compile(ast.Module(body=[node], type_ignores=[]), "<dag>", "exec"), namespace)
    return namespace["_run_local"]


class FakeHook:
    @staticmethod
    def get_connection(conn_id: str) -> Any:
        return types.SimpleNamespace(get_uri=lambda: f"postgresql://{conn_id}-uri")


@pytest.fixture
def fake_airflow(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("airflow", "airflow.sdk", "airflow.hooks", "airflow.hooks.base", "airflow.io"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "airflow.io.path", types.ModuleType("airflow.io.path"))
    for module in ("airflow.sdk", "airflow.hooks.base"):
        sys.modules[module].BaseHook = FakeHook  # type: ignore[attr-defined]
    for module in ("airflow.sdk", "airflow.io.path"):
        sys.modules[module].ObjectStoragePath = Path  # type: ignore[attr-defined]
    for name, value in WORKER_SECRETS.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("version", ["2", "3"])
def test_a_local_step_gets_only_its_own_environment(
    version: str, fake_airflow: None, tmp_path: Path
) -> None:
    seen = tmp_path / "env.json"
    report = "import json, os, sys; open(sys.argv[1], 'w').write(json.dumps(dict(os.environ)))"
    run_local = run_local_of(version)
    run_local(
        argv=[sys.executable, "-c", report, str(seen)],
        env={"MLFLOW_TRACKING_URI": "http://mlflow:5000"},
        connections={"PIPESPEC_DATABASE_URL": "warehouse"},
        outputs={},
        local_dirs=[],
        ti=None,
    )
    env = json.loads(seen.read_text())
    assert not set(WORKER_SECRETS) & set(env), sorted(env)
    assert env["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    assert env["PIPESPEC_DATABASE_URL"] == "postgresql://warehouse-uri"
    assert env["PATH"] == os.environ["PATH"]
    allowed = {"PATH", "HOME", "TMPDIR", "TEMP", "TMP", "LANG", "LC_ALL", "LC_CTYPE", "TZ"}
    extra = set(env) - allowed - {"MLFLOW_TRACKING_URI", "PIPESPEC_DATABASE_URL"}
    # The C library may add a few of its own (LC_CTYPE under some locales, __CF_*, ...).
    assert not {k for k in extra if not k.startswith(("LC_", "__CF"))}, sorted(extra)
