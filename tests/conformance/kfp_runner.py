"""Run ``kfp_probe.py`` in the Kubeflow conformance venv and return what it prints.

``probe_kfp(path)`` loads one KFP pipeline file with kfp 2.17 / kfp-pipeline-spec /
kfp-kubernetes and returns the probe's JSON report (``report["problems"]`` is empty for a
file KFP accepts; see ``kfp_probe.py`` for the fields); ``probe_many(paths)`` does several
files in one process. ``cel_eval(requests)`` evaluates
trigger conditions and parameter selectors the way KFP's driver does, in one subprocess.
``run_module`` / ``run_json`` run any other module of this package in the venv the same way
(the Vertex probe, the GCPC snapshot).

The probe runs as ``python -s -B -m tests.conformance.kfp_probe`` with a whole new
environment: ``PYTHONPATH`` is the repository root (the probe's sibling modules live here;
nothing from pipespec is imported), ``HOME`` a fresh temp directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.conformance.venvs import ensure_venv

ROOT = Path(__file__).resolve().parents[2]
VENV = "kfp"
DEFAULT_TIMEOUT_S = 120.0
_TAIL = 6000


class KfpProbeError(RuntimeError):
    """The probe failed, timed out or printed something that is not its JSON answer."""


def _env(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "PYTHONPATH": str(ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TZ": "UTC",
        "TMPDIR": os.environ.get("TMPDIR", tempfile.gettempdir()),
    }


def run_module(
    module: str, args: Sequence[str], stdin: str | None = None, timeout: float = DEFAULT_TIMEOUT_S
) -> str:
    """``python -m MODULE ARGS`` in the kfp venv (clean environment, fresh ``HOME``): its
    stdout, or :class:`KfpProbeError` with the stderr tail when it fails or times out."""
    python = ensure_venv(VENV)
    cmd = [str(python), "-s", "-B", "-m", module, *args]
    home = Path(tempfile.mkdtemp(prefix="pipespec-kfp-home-"))
    try:
        proc = subprocess.run(
            cmd,
            input=stdin,
            capture_output=True,
            text=True,
            env=_env(home),
            cwd=home,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise KfpProbeError(
            f"{module} timed out after {timeout:g}s: {' '.join(cmd)}\n{_tail(exc.stderr)}"
        ) from exc
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if proc.returncode != 0:
        raise KfpProbeError(
            f"{module} failed (exit {proc.returncode}): {' '.join(cmd)}\n{_tail(proc.stderr)}"
        )
    return proc.stdout


def run_json(
    module: str, args: Sequence[str], stdin: str | None = None, timeout: float = DEFAULT_TIMEOUT_S
) -> Any:
    """:func:`run_module` for a module that prints one JSON value."""
    stdout = run_module(module, args, stdin, timeout)
    try:
        return json.loads(stdout)
    except json.JSONDecodeError as exc:
        raise KfpProbeError(
            f"{module} printed invalid JSON ({exc})\nstdout:\n{_tail(stdout)}"
        ) from exc


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


def _tail(text: str | bytes | None) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return text if len(text) <= _TAIL else "..." + text[-_TAIL:]
