# mypy: ignore-errors
"""Hand-written Airflow 2 sample DAG for the conformance probe (not generated code)."""

from __future__ import annotations

import pendulum
from airflow import DAG
from airflow.models.param import Param
from airflow.operators.python import ShortCircuitOperator
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.cncf.kubernetes.secret import Secret
from kubernetes.client import models as k8s


def _should_train(min_rows: int) -> bool:
    return int(min_rows) > 0


with DAG(
    dag_id="pipespec_sample_af2",
    schedule="@daily",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "epochs": Param(3, type="integer", minimum=1),
        "dataset": Param("s3://bucket/data.csv", type="string"),
    },
    tags=["pipespec"],
) as dag:
    prepare = KubernetesPodOperator(
        task_id="prepare",
        name="prepare",
        image="python:3.11-slim",
        cmds=["python", "-c"],
        arguments=["print('prepare')", "{{ params.dataset }}"],
        container_resources=k8s.V1ResourceRequirements(
            requests={"cpu": "500m", "memory": "1Gi"},
            limits={"cpu": "1", "memory": "2Gi", "nvidia.com/gpu": "1"},
        ),
        env_vars={"STAGE": "prepare", "EPOCHS": "{{ params.epochs }}"},
        secrets=[Secret(deploy_type="env", deploy_target="API_TOKEN", secret="api", key="token")],
        node_selector={"pool": "cpu"},
        tolerations=[
            k8s.V1Toleration(key="dedicated", operator="Equal", value="ml", effect="NoSchedule")
        ],
    )
    should_train = ShortCircuitOperator(
        task_id="should_train",
        python_callable=_should_train,
        op_kwargs={"min_rows": "{{ params.epochs }}"},
    )
    train = KubernetesPodOperator.partial(
        task_id="train",
        name="train",
        image="python:3.11-slim",
        cmds=["python", "-c"],
        env_vars={"STAGE": "train"},
    ).expand(arguments=[["print(0)"], ["print(1)"], ["print(2)"]])
    report = KubernetesPodOperator(
        task_id="report",
        name="report",
        image="python:3.11-slim",
        cmds=["echo"],
        arguments=["done"],
    )

    prepare >> should_train >> train >> report
