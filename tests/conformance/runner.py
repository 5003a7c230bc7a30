"""Run ``dagbag_probe.py`` in an Airflow conformance venv and return its JSON report.

``probe_dags("3", folder)`` loads every DAG file in ``folder`` with Airflow 3.3's real
``DagBag`` (``"2"``: Airflow 2.10), round-trips each DAG through the serialization the DAG
processor and scheduler use, and returns the probe's report (see ``dagbag_probe.py``)::

    {"airflow_version": "3.3.2", "import_errors": {...}, "warnings": {...},
     "dags": {dag_id: {"tasks": [...], "edges": [...], "mapped_tasks": [...],
                       "serialized": True, ...}}}

The probe runs in a subprocess (``python -I -B``) with a clean environment: a fresh temp
``AIRFLOW_HOME`` and ``HOME``, examples off, no ``PYTHONPATH``; no Airflow database is used.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.conformance.venvs import ensure_venv

PROBE = Path(__file__).resolve().parent / "dagbag_probe.py"
VENV_FOR_VERSION = {"2": "airflow2", "3": "airflow3"}
DEFAULT_TIMEOUT_S = 300.0
_STDERR_TAIL = 6000


class ProbeError(RuntimeError):
    """The probe subprocess failed, timed out or printed something that is not its report."""


def probe_env(airflow_home: Path) -> dict[str, str]:
    """The whole environment the probe runs with (nothing else is inherited)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(airflow_home),
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TZ": "UTC",
        "PYTHONDONTWRITEBYTECODE": "1",
        "TMPDIR": os.environ.get("TMPDIR", tempfile.gettempdir()),
    }


def probe_dags(
    version: str,
    dag_folder: Path,
    *,
    render: bool = False,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> dict[str, Any]:
    """Load ``dag_folder`` with Airflow ``version`` ("2" or "3") and return the probe report.

    ``render=True`` also renders every task's template fields (and KPO pod specs) into
    ``dags[id]["rendered"]``. Raises :class:`ProbeError` (with the probe's stderr) on failure.
    """
    if version not in VENV_FOR_VERSION:
        raise ValueError(f"Airflow version must be one of {sorted(VENV_FOR_VERSION)}: {version!r}")
    folder = Path(dag_folder).resolve()
    if not folder.is_dir():
        raise ValueError(f"not a directory: {folder}")
    python = ensure_venv(VENV_FOR_VERSION[version])

    home = Path(tempfile.mkdtemp(prefix=f"pipespec-airflow{version}-home-"))
    cmd = [str(python), "-I", "-B", str(PROBE), str(folder)]
    if render:
        cmd.append("--render")
    started = time.monotonic()
    try:
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                env=probe_env(home),
                cwd=home,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ProbeError(
                f"Airflow {version} probe timed out after {timeout:g}s on {folder}\n"
                f"stderr:\n{_tail(exc.stderr)}"
            ) from exc
    finally:
        shutil.rmtree(home, ignore_errors=True)
    elapsed = time.monotonic() - started

    if proc.returncode != 0:
        raise ProbeError(
            f"Airflow {version} probe failed (exit {proc.returncode}) on {folder}\n"
            f"command: {' '.join(cmd)}\nstderr:\n{_tail(proc.stderr)}"
        )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    try:
        report = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError as exc:
        raise ProbeError(
            f"Airflow {version} probe printed invalid JSON ({exc}) on {folder}\n"
            f"stdout:\n{_tail(proc.stdout)}\nstderr:\n{_tail(proc.stderr)}"
        ) from exc
    if not isinstance(report, dict) or "dags" not in report:
        raise ProbeError(
            f"Airflow {version} probe printed no report on {folder}\n"
            f"stdout:\n{_tail(proc.stdout)}\nstderr:\n{_tail(proc.stderr)}"
        )
    report["probe_seconds"] = round(elapsed, 2)
    return report


def _tail(text: str | bytes | None) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return text if len(text) <= _STDERR_TAIL else "..." + text[-_STDERR_TAIL:]
