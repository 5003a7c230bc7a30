"""Run ``kfp_probe.py`` in the Kubeflow conformance venv and return what it prints.

``probe_kfp(path)`` loads one KFP pipeline file with kfp 2.17 / kfp-pipeline-spec /
kfp-kubernetes and returns the probe's JSON report (``report["problems"]`` is empty for a
file KFP accepts; see ``kfp_probe.py`` for the fields); ``probe_many(paths)`` does several
files in one process. ``cel_eval(requests)`` evaluates
trigger conditions and parameter selectors the way KFP's driver does, in one subprocess.
``run_module`` / ``run_json`` run any other module of this package in the venv the same way
(the Vertex probe, the GCPC snapshot): they are ``venv_runner``'s, bound to the ``kfp`` venv
and raising :class:`KfpProbeError` (clean environment, fresh ``HOME``; see there).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.conformance import venv_runner
from tests.conformance.venv_runner import DEFAULT_TIMEOUT_S, ROOT, ProbeError

__all__ = ["DEFAULT_TIMEOUT_S", "ROOT", "KfpProbeError", "run_json", "run_module"]
VENV = "kfp"


class KfpProbeError(ProbeError):
    """The probe failed, timed out or printed something that is not its JSON answer."""


def run_module(
    module: str, args: Sequence[str], stdin: str | None = None, timeout: float = DEFAULT_TIMEOUT_S
) -> str:
    """``python -m MODULE ARGS`` in the kfp venv (``venv_runner.run_module``)."""
    return venv_runner.run_module(VENV, module, args, stdin, timeout, error=KfpProbeError)


def run_json(
    module: str, args: Sequence[str], stdin: str | None = None, timeout: float = DEFAULT_TIMEOUT_S
) -> Any:
    """:func:`run_module` for a module that prints one JSON value."""
    return venv_runner.run_json(VENV, module, args, stdin, timeout, error=KfpProbeError)


def _run(args: Sequence[str], stdin: str | None, timeout: float) -> Any:
    return run_json("tests.conformance.kfp_probe", args, stdin, timeout)


def probe_kfp(path: Path, *, timeout: float = DEFAULT_TIMEOUT_S) -> dict[str, Any]:
    """The probe's report on the pipeline file at ``path``."""
    path = Path(path).resolve()
    if not path.is_file():
        raise ValueError(f"not a file: {path}")
    report = _run([str(path)], None, timeout)
    if not isinstance(report, dict) or "problems" not in report:
        raise KfpProbeError(f"KFP probe printed no report for {path}: {report!r}")
    return report


def probe_many(
    paths: Sequence[Path], *, timeout: float = DEFAULT_TIMEOUT_S
) -> dict[Path, dict[str, Any]]:
    """The probe's report on each file, from one subprocess (the kfp import is the slow part)."""
    resolved = [Path(p).resolve() for p in paths]
    reports = _run(["--many", *map(str, resolved)], None, timeout)
    if not isinstance(reports, dict) or len(reports) != len(set(resolved)):
        raise KfpProbeError(f"KFP probe answered {reports!r} for {len(resolved)} files")
    return {path: reports[str(path)] for path in resolved}


def cel_eval(
    requests: Sequence[dict[str, Any]], *, timeout: float = DEFAULT_TIMEOUT_S
) -> list[dict[str, Any]]:
    """One result per request (``{"value": ...}``, the task simulation, or ``{"error": ...}``):

    * ``{"condition": TEXT, "parameter_values": {...}}``: a trigger condition on resolved
      input values;
    * ``{"selector": TEXT, "value": JSON}``: a parameterExpressionSelector on one value;
    * ``{"file": PATH, "task": NAME, "inputs": {name: raw JSON}}``: the driver's handling of
      one task: selectors, type conversion, then its condition.
    """
    # The probe runs in a temp directory: files are passed by absolute path.
    sent = [{**r, "file": str(Path(r["file"]).resolve())} if "file" in r else r for r in requests]
    results = _run(["--eval"], json.dumps(sent), timeout)
    if not isinstance(results, list) or len(results) != len(requests):
        raise KfpProbeError(f"KFP probe answered {results!r} to {len(requests)} requests")
    return results
