"""Run a module of this package in a conformance venv (``venvs.ensure_venv``) and return
what it prints: the one way every probe (kfp, Vertex, SageMaker) reaches its target's
libraries, which are never imported into the test process.

``run_module(venv, module, args)`` runs ``python -s -B -m MODULE ARGS`` with a whole new
environment: ``PYTHONPATH`` is the repository root (the probes' sibling modules live here;
nothing from pipespec is imported), ``HOME`` and the working directory a fresh temp
directory (so no user config, e.g. ``~/.aws`` or ``~/.config/sagemaker``, is read), ``TZ``
UTC. ``run_json`` parses the one JSON value the module prints. Failures raise ``error``
(:class:`ProbeError` or a subclass a caller's tests expect) with the stderr tail.
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
DEFAULT_TIMEOUT_S = 120.0
_TAIL = 6000


class ProbeError(RuntimeError):
    """A probe failed, timed out or printed something that is not its JSON answer."""


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
    venv: str,
    module: str,
    args: Sequence[str],
    stdin: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    *,
    error: type[ProbeError] = ProbeError,
) -> str:
    """``python -m MODULE ARGS`` in conformance venv ``venv``: its stdout, or ``error`` with
    the stderr tail when it fails or times out."""
    python = ensure_venv(venv)
    cmd = [str(python), "-s", "-B", "-m", module, *args]
    home = Path(tempfile.mkdtemp(prefix=f"pipespec-{venv}-home-"))
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
        raise error(
            f"{module} timed out after {timeout:g}s: {' '.join(cmd)}\n{tail(exc.stderr)}"
        ) from exc
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if proc.returncode != 0:
        raise error(
            f"{module} failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail(proc.stderr)}"
        )
    return proc.stdout


def run_json(
    venv: str,
    module: str,
    args: Sequence[str],
    stdin: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    *,
    error: type[ProbeError] = ProbeError,
) -> Any:
    """:func:`run_module` for a module that prints one JSON value."""
    stdout = run_module(venv, module, args, stdin, timeout, error=error)
    try:
        return json.loads(stdout)
    except json.JSONDecodeError as exc:
        raise error(f"{module} printed invalid JSON ({exc})\nstdout:\n{tail(stdout)}") from exc


def tail(text: str | bytes | None) -> str:
    """The last few thousand characters of a process's output."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return text if len(text) <= _TAIL else "..." + text[-_TAIL:]
