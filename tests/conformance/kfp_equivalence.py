"""Compile hand-written kfp DSL programs (``kfp_programs/<example>.py``) with kfp's own
compiler and put each beside pipespec's file of the same pipeline, both in the
names-aside normal form of ``kfp_normal_form.py``.

Runs in the ``kfp`` conformance venv (kfp 2.17, kfp-kubernetes; locks/kfp.txt),
never in pipespec's environment, as a module with the repository root on ``PYTHONPATH``::

    python -m tests.conformance.kfp_equivalence PROGRAM.py PIPELINE.yaml [PROGRAM PIPELINE ...]

prints one JSON list, an entry per pair: ``{"program", "pipeline", "dsl": NORMAL_FORM,
"pipespec": NORMAL_FORM}``, or ``{"program", "pipeline", "error": TEXT}`` when the
program does not compile. A program defines ``pipeline`` (a ``@dsl.pipeline`` function).

``run_equivalence(pairs)`` runs that in the venv from pipespec's test process: a whole new
environment, ``PYTHONPATH`` the repository root (the programs import their shared
``kfp_programs/common.py``; nothing imports pipespec), ``HOME`` a fresh temp directory.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.conformance.kfp_normal_form import normal_form
from tests.conformance.venvs import ensure_venv

ROOT = Path(__file__).resolve().parents[2]
VENV = "kfp"
DEFAULT_TIMEOUT_S = 300.0
_TAIL = 6000


class EquivalenceRunError(RuntimeError):
    """The comparison itself failed (not a difference: the subprocess broke)."""


def _load_yaml(path: Path) -> list[dict[str, Any]]:
    yaml = importlib.import_module("yaml")
    with path.open(encoding="utf-8") as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc is not None]


def compile_program(program: Path, out_dir: Path) -> Path:
    """kfp's compilation of the program's ``pipeline`` function, as a YAML file."""
    spec = importlib.util.spec_from_file_location(f"kfp_program_{program.stem}", program)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    compiler = importlib.import_module("kfp.compiler")
    target = out_dir / f"{program.stem}.yaml"
    compiler.Compiler().compile(pipeline_func=module.pipeline, package_path=str(target))
    return target


def compare(program: Path, pipeline: Path, out_dir: Path) -> dict[str, Any]:
    entry: dict[str, Any] = {"program": str(program), "pipeline": str(pipeline)}
    try:
        compiled = compile_program(program, out_dir)
    except Exception:  # any failure of the user program or kfp is the answer
        entry["error"] = traceback.format_exc()
        return entry
    entry["dsl"] = normal_form(_load_yaml(compiled), dsl=True)
    entry["pipespec"] = normal_form(_load_yaml(pipeline), dsl=False)
    return entry


def main(argv: Sequence[str]) -> int:
    if not argv or len(argv) % 2:
        sys.stderr.write(__doc__ or "")
        return 2
    pairs = [(Path(argv[i]), Path(argv[i + 1])) for i in range(0, len(argv), 2)]
    with tempfile.TemporaryDirectory(prefix="pipespec-kfp-dsl-") as tmp:
        results = [compare(program, pipeline, Path(tmp)) for program, pipeline in pairs]
    json.dump(results, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


def run_equivalence(
    pairs: Sequence[tuple[Path, Path]], *, timeout: float = DEFAULT_TIMEOUT_S
) -> list[dict[str, Any]]:
    """One entry per (program, pipeline file) pair, from one subprocess in the venv."""
    python = ensure_venv(VENV)
    args = [str(Path(p).resolve()) for pair in pairs for p in pair]
    cmd = [str(python), "-s", "-B", "-m", "tests.conformance.kfp_equivalence", *args]
    home = Path(tempfile.mkdtemp(prefix="pipespec-kfp-dsl-home-"))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "PYTHONPATH": str(ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TZ": "UTC",
        "TMPDIR": os.environ.get("TMPDIR", tempfile.gettempdir()),
    }
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=env, cwd=home, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise EquivalenceRunError(f"timed out after {timeout:g}s: {' '.join(cmd)}") from exc
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if proc.returncode != 0:
        raise EquivalenceRunError(
            f"exit {proc.returncode}: {' '.join(cmd)}\n{proc.stderr[-_TAIL:]}"
        )
    try:
        results = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise EquivalenceRunError(f"not JSON ({exc}):\n{proc.stdout[-_TAIL:]}") from exc
    if not isinstance(results, list) or len(results) != len(pairs):
        raise EquivalenceRunError(f"{len(pairs)} pairs, answer: {proc.stdout[-_TAIL:]}")
    return results


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
