"""Shared test helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*/pipeline.yaml"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden files from the current compiler output (review the diff!)",
    )


@pytest.fixture(autouse=True)
def _pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs on the same day, before any catalog image's end of support (the
    earliest is 2025-07-11), so no diagnostic depends on the date the suite runs on: the
    examples compiled for Vertex would otherwise gain PS616 warnings as dates pass. Tests of
    PS616 pass their own date (``today=``, or ``PIPESPEC_TODAY`` in a command's env)."""
    monkeypatch.setenv("PIPESPEC_TODAY", "2025-07-01")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))
