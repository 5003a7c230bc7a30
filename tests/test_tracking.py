"""`tracking: {mlflow: ...}` (issue 14, item 3): the URI and experiment reach the step as
env, the credentials as a secret reference, a step's own block replacing the default's;
Airflow and Kubeflow render them with what they do for `env` and `secrets`. (The bad
inputs are case files: tests/cases/bad/tracking*.yaml.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pipespec import ir
from pipespec.backends.kubeflow import KubeflowBackend
from pipespec.backends.kubeflow.options import KubeflowOptions
from tests.airflow.helpers import VARIANTS, render
from tests.backends.spec_ir import ir_of

SPEC = """\
pipespec: 1
name: tracked
secrets:
  mlflow_token: {kubernetes: {secret: mlflow-auth, key: token}, airflow: {conn_id: mlflow}}
  db: {kubernetes: {secret: db, key: url}, airflow: {conn_id: db}}
defaults:
  image: python:3.12
  env: {REGION: eu}
  secrets: {DB_URL: db}
  tracking:
    mlflow: {uri: "https://mlflow.example.com:5000", experiment: churn, credentials: mlflow_token}
steps:
  inherits:
    kind: container
    command: [python, -c, "print(1)"]
  own:
    kind: container
    command: [python, -c, "print(2)"]
    after: [inherits]
    tracking:
      mlflow: {uri: databricks, experiment: "/Users/me@example.com/churn's {{ run }}"}
  databricks:
    kind: container
    command: [python, -c, "print(3)"]
    after: [inherits]
    tracking:
      mlflow: {uri: "databricks://prod", experiment: /x, credentials: mlflow_token}
"""

UNTRACKED = """\
pipespec: 1
name: untracked
defaults: {image: python:3.12}
steps:
  a: {kind: container, command: [a]}
"""


def _env(step: ir.Step) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, segments in step.env:
        assert all(isinstance(s, ir.Text) for s in segments), (key, segments)
        out[key] = "".join(s.text for s in segments if isinstance(s, ir.Text))
    return out


def test_the_ir_carries_tracking_as_env_and_a_secret_reference(tmp_path: Path) -> None:
    p = ir_of(tmp_path, SPEC)
    inherits, own, databricks = p.step("inherits"), p.step("own"), p.step("databricks")
    assert _env(inherits) == {
        "MLFLOW_EXPERIMENT_NAME": "churn",
        "MLFLOW_TRACKING_URI": "https://mlflow.example.com:5000",
        "REGION": "eu",
    }
    assert inherits.secrets == (
        ir.SecretUse("DB_URL", "db"),
        ir.SecretUse("MLFLOW_TRACKING_TOKEN", "mlflow_token"),
    )
    assert inherits.provenance["env.MLFLOW_TRACKING_URI"] == "default"
    assert inherits.provenance["secrets.MLFLOW_TRACKING_TOKEN"] == "default"
    # A step's own block replaces the default's whole: no token here, since it names none.
    assert _env(own)["MLFLOW_TRACKING_URI"] == "databricks"
    assert _env(own)["MLFLOW_EXPERIMENT_NAME"] == "/Users/me@example.com/churn's {{ run }}"
    assert own.secrets == (ir.SecretUse("DB_URL", "db"),)
    assert own.provenance["tracking"] == "user"
    # Databricks' client reads its token from DATABRICKS_TOKEN.
    assert ir.SecretUse("DATABRICKS_TOKEN", "mlflow_token") in databricks.secrets
    assert "MLFLOW_TRACKING_TOKEN" not in {u.env for u in databricks.secrets}


def test_without_tracking_nothing_is_added(tmp_path: Path) -> None:
    step = ir_of(tmp_path, UNTRACKED).step("a")
    assert step.env == () and step.secrets == ()
    assert "tracking" not in step.provenance


def test_airflow_renders_the_tracking_env_and_secret(tmp_path: Path) -> None:
    p = ir_of(tmp_path, SPEC)
    for version, operator in VARIANTS:
        text = render(p, version, operator)
        assert "'MLFLOW_TRACKING_URI': 'https://mlflow.example.com:5000'" in text
        assert "'MLFLOW_EXPERIMENT_NAME': 'churn'" in text
        if operator == "kubernetes":
            assert "Secret('env', 'MLFLOW_TRACKING_TOKEN', 'mlflow-auth', 'token')" in text
            assert "Secret('env', 'DATABRICKS_TOKEN', 'mlflow-auth', 'token')" in text
        else:  # the local operator reads Airflow connections
            assert "'MLFLOW_TRACKING_TOKEN': 'mlflow'" in text
        # The experiment name is data: its braces reach Airflow's templating escaped.
        assert "churn's {{ '{' }}{ run }}" in text
        compile(text, "dag.py", "exec")


def _kubeflow(p: ir.Pipeline) -> list[dict[str, Any]]:
    result = KubeflowBackend().render(p, KubeflowOptions())
    assert not result.diagnostics, [d.message for d in result.diagnostics]
    (text,) = [v for k, v in result.files.items() if k.endswith(".yaml")]
    return list(yaml.safe_load_all(text))


def test_kubeflow_renders_the_tracking_env_and_secret(tmp_path: Path) -> None:
    spec, platform = _kubeflow(ir_of(tmp_path, SPEC))
    executors = spec["deploymentSpec"]["executors"]
    env = {e["name"]: e["value"] for e in executors["exec-inherits"]["container"]["env"]}
    assert env["MLFLOW_TRACKING_URI"] == "https://mlflow.example.com:5000"
    assert env["MLFLOW_EXPERIMENT_NAME"] == "churn"
    own = {e["name"]: e["value"] for e in executors["exec-own"]["container"]["env"]}
    assert own["MLFLOW_EXPERIMENT_NAME"] == "/Users/me@example.com/churn's {{ run }}"
    k8s = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    (token,) = [
        (s["secretName"], k["envVar"], k["secretKey"])
        for s in k8s["exec-inherits"]["secretAsEnv"]
        for k in s["keyToEnv"]
        if k["envVar"].startswith("MLFLOW")
    ]
    assert token == ("mlflow-auth", "MLFLOW_TRACKING_TOKEN", "token")
    databricks = {k["envVar"] for s in k8s["exec-databricks"]["secretAsEnv"] for k in s["keyToEnv"]}
    assert databricks == {"DATABRICKS_TOKEN", "DB_URL"}
