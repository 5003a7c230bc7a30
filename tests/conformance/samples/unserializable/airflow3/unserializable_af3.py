# mypy: ignore-errors
"""Loads fine, but Airflow 3's DagSerialization rejects it (unknown priority weight rule)."""

from __future__ import annotations

import pendulum
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import DAG

with DAG(
    dag_id="pipespec_unserializable_af3",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
) as dag:
    KubernetesPodOperator(task_id="step", image="busybox", weight_rule="no-such-rule")
