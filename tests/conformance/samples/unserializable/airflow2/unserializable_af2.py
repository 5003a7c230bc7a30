# mypy: ignore-errors
"""Loads fine, but Airflow 2's SerializedDAG JSON-schema validation rejects it (doc_md type)."""

from __future__ import annotations

import pendulum
from airflow import DAG
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

with DAG(
    dag_id="pipespec_unserializable_af2",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
) as dag:
    KubernetesPodOperator(task_id="step", image="busybox")

dag.doc_md = 123  # set after construction: the DAG constructor would reject it
