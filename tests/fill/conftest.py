"""Fixtures for the fill tests: no real credentials, endpoints or proxies leak in."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT

_ENV = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ADMIN_KEY",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "OPENAI_CUSTOM_HEADERS",
    "OPENAI_LOG",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No real credentials, endpoints or proxies leak into a test; CI's --locked is off."""
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv("CI", raising=False)


@pytest.fixture
def churn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the churn example's spec (no lock, no scripts), as the working directory's
    `churn/`."""
    folder = tmp_path / "churn"
    folder.mkdir()
    shutil.copy(ROOT / "examples" / "churn" / "pipeline.yaml", folder / "pipeline.yaml")
    monkeypatch.chdir(tmp_path)
    return folder
