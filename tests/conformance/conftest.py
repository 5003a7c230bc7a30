"""Fixtures for conformance tests (real orchestrator libraries in cached, isolated venvs).

Set ``PIPESPEC_SKIP_CONFORMANCE=1`` to skip them (e.g. on a machine without PyPI access).
Venvs are cached under ``$PIPESPEC_CONFORMANCE_CACHE`` (default ``~/.cache/pipespec/conformance``).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conformance.venvs import ensure_venv

SKIP_ENV = "PIPESPEC_SKIP_CONFORMANCE"
AIRFLOW_VENVS = ("airflow2", "airflow3")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(SKIP_ENV, "") not in ("", "0"):
        skip = pytest.mark.skip(reason=f"{SKIP_ENV} is set")
        for item in items:
            if item.get_closest_marker("conformance") is not None:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def airflow_venvs() -> dict[str, Path]:
    """Build (or reuse) both Airflow venvs, in parallel: the cold path is two pip installs."""
    with ThreadPoolExecutor(max_workers=len(AIRFLOW_VENVS)) as pool:
        pythons = list(pool.map(ensure_venv, AIRFLOW_VENVS))
    return dict(zip(AIRFLOW_VENVS, pythons, strict=True))
