"""Venvs for the benchmarks, built by the conformance machinery (``tests/conformance/venvs.py``).

* ``airflow3``: the conformance venv itself (``ensure_venv("airflow3")``, its own cache);
* ``kfp``: the same for kfp (``tests/conformance/locks/kfp.txt``: kfp 2.17.0,
  kfp-pipeline-spec 2.17.3, kfp-kubernetes 2.17.0), for ``bench_kfp.py``;
* ``sagemaker``: the same for the sagemaker SDK (``tests/conformance/locks/sagemaker.txt``:
  sagemaker 2.257.7, botocore 1.44.8), for ``bench_sagemaker.py``.
* ``airflow3-dagfactory``: ``benchmarks/locks/airflow3-dagfactory.txt`` (the airflow3 lock plus
  ``dag-factory``), built the same way (``python -m venv``, ``pip install --no-deps -r``,
  ``pip check``, temp dir renamed into place, ``flock``, marker, pruning of older hashes) into
  ``$PIPESPEC_BENCH_CACHE`` (default ``~/.cache/pipespec/bench``) as ``<name>-<hash>``.

``python -m benchmarks.venvs`` builds all four and prints their pythons.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from tests.conformance import venvs as cv

LOCKS_DIR = Path(__file__).resolve().parent / "locks"
CACHE_ENV = "PIPESPEC_BENCH_CACHE"
DEFAULT_CACHE = Path("~/.cache/pipespec/bench")
AIRFLOW3 = "airflow3"
KFP = "kfp"
SAGEMAKER = "sagemaker"
CONFORMANCE = (AIRFLOW3, KFP, SAGEMAKER)  # venvs the conformance tests build from their own locks
DAGFACTORY = "airflow3-dagfactory"


def cache_dir() -> Path:
    path = Path(os.environ.get(CACHE_ENV) or str(DEFAULT_CACHE)).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def bench_lock(name: str) -> Path:
    path = LOCKS_DIR / f"{name}.txt"
    if not path.is_file():
        raise ValueError(f"no benchmark lock {path}")
    return path


def ensure_bench_venv(name: str) -> Path:
    """The python of benchmark venv ``name`` (from ``benchmarks/locks/``), built if needed."""
    lock = bench_lock(name)
    final = cache_dir() / "venvs" / f"{name}-{cv.venv_hash(lock)}"
    final.parent.mkdir(parents=True, exist_ok=True)
    python = final / "bin" / "python"
    if _complete(final):
        return python
    with cv._file_lock(final.with_name(final.name + ".lock")):
        if not _complete(final):
            if final.exists():  # a leftover without marker: never trust it
                shutil.rmtree(final)
            cv._build(name, lock, final)
    cv._prune(name, keep=final)
    return python


def _complete(venv: Path) -> bool:
    python = venv / "bin" / "python"
    return (venv / cv.MARKER).is_file() and python.exists() and python.resolve().exists()


def python_for(venv: str) -> Path:
    """``airflow3``, ``kfp`` and ``sagemaker`` come from the conformance cache; anything else from
    ``benchmarks/locks``."""
    if venv in CONFORMANCE:
        return cv.ensure_venv(venv)
    return ensure_bench_venv(venv)


def main() -> int:
    for name in (AIRFLOW3, DAGFACTORY, KFP, SAGEMAKER):
        print(f"{name}: {python_for(name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
