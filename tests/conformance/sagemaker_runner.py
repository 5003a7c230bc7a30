"""Run ``sagemaker_probe.py`` in the ``sagemaker`` conformance venv (``venv_runner``: clean
environment, fresh ``HOME``) and return what it answers.

``probe_sagemaker_many(paths)`` is the report on each definition JSON, from one subprocess
(``report["problems"]`` is empty for a definition the probe accepts; see
``sagemaker_probe.py``); ``probe_sagemaker`` does one. ``build_samples`` builds DSL programs'
pipelines with the sagemaker SDK there, offline (``sagemaker_offline.py``);
``corrections_needed`` says, per schema correction, whether some definition fails without it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.conformance.venv_runner import DEFAULT_TIMEOUT_S, ProbeError, run_json

VENV = "sagemaker"
MODULE = "tests.conformance.sagemaker_probe"


def probe_sagemaker_many(
    paths: Sequence[Path], *, timeout: float = DEFAULT_TIMEOUT_S
) -> dict[Path, dict[str, Any]]:
    """The report on each definition file, keyed by its resolved path."""
    sent = [str(Path(p).resolve()) for p in paths]
    reports = run_json(VENV, MODULE, ["--many"], json.dumps(sent), timeout)
    if not isinstance(reports, dict) or len(reports) != len(set(sent)):
        raise ProbeError(f"SageMaker probe answered {reports!r} for {len(sent)} files")
    return {Path(p): reports[p] for p in sent}


def probe_sagemaker(path: Path, *, timeout: float = DEFAULT_TIMEOUT_S) -> dict[str, Any]:
    (report,) = probe_sagemaker_many([path], timeout=timeout).values()
    return report


def build_samples(
    out: Path, samples: Sequence[Path], *, timeout: float = DEFAULT_TIMEOUT_S
) -> dict[str, dict[str, Any]]:
    """stem -> {"path": out/<stem>.json, "network_attempts": [...]} for each sample."""
    args = ["--build", str(Path(out).resolve()), *(str(Path(s).resolve()) for s in samples)]
    written: dict[str, dict[str, Any]] = run_json(VENV, MODULE, args, None, timeout)
    return written


def corrections_needed(
    paths: Sequence[Path], *, timeout: float = DEFAULT_TIMEOUT_S
) -> list[dict[str, Any]]:
    """Per schema correction: its location, why, and whether some definition needs it."""
    args = ["--corrections", *(str(Path(p).resolve()) for p in paths)]
    needed: list[dict[str, Any]] = run_json(VENV, MODULE, args, None, timeout)
    return needed
