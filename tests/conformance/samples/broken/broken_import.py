# mypy: ignore-errors
"""A DAG file with an import error: the probe must report it in ``import_errors``."""

from __future__ import annotations

import pendulum
from airflow.providers.cncf.kubernetes.operators.pod import NoSuchOperator  # noqa: F401

DAG_ID = "pipespec_broken"
START = pendulum.datetime(2024, 1, 1, tz="UTC")
