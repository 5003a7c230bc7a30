"""Run ``vertex_probe.py`` in the kfp conformance venv (as ``kfp_runner.run_module`` runs any
probe there: clean environment, fresh ``HOME``) and return what it answers.

``probe_vertex(yaml, job)`` is the report on one pipeline file (and its job JSON, if any):
``report["problems"]`` is empty for a file kfp, GCPC 2.22 and aiplatform accept (see
``vertex_probe.py``); ``probe_vertex_many`` does several in one process (importing GCPC and
compiling its components is the slow part); ``compile_samples`` compiles DSL programs with
kfp there.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.conformance.kfp_runner import DEFAULT_TIMEOUT_S, KfpProbeError, run_json

MODULE = "tests.conformance.vertex_probe"


def probe_vertex_many(
    pairs: Sequence[tuple[Path, Path | None]], *, timeout: float = DEFAULT_TIMEOUT_S
) -> dict[Path, dict[str, Any]]:
    """The report on each (pipeline YAML, job JSON or None), keyed by the resolved YAML."""
    sent: list[tuple[str, str | None]] = [
        (str(Path(y).resolve()), str(Path(j).resolve()) if j else None) for y, j in pairs
    ]
    reports = run_json(MODULE, ["--many"], json.dumps(sent), timeout)
    if not isinstance(reports, dict) or len(reports) != len({y for y, _ in sent}):
        raise KfpProbeError(f"Vertex probe answered {reports!r} for {len(sent)} files")
    return {Path(y): reports[y] for y, _ in sent}


def probe_vertex(
    path: Path, job: Path | None = None, *, timeout: float = DEFAULT_TIMEOUT_S
) -> dict[str, Any]:
    (report,) = probe_vertex_many([(path, job)], timeout=timeout).values()
    return report


def compile_samples(
    out: Path, samples: Sequence[Path], *, timeout: float = DEFAULT_TIMEOUT_S
) -> dict[str, Path]:
    """Each sample's ``pipeline`` compiled by kfp to ``out/<stem>.yaml``: stem -> path."""
    args = ["--compile", str(Path(out).resolve()), *(str(Path(s).resolve()) for s in samples)]
    written = run_json(MODULE, args, None, timeout)
    return {Path(sample).stem: Path(path) for sample, path in written.items()}
