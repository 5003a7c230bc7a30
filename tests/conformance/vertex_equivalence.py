"""Compile hand-written kfp + GCPC DSL programs (``vertex_programs/<example>.py``) with
kfp's own compiler and put each beside pipespec's Vertex file of the same pipeline, both
in the normal form of ``vertex_normal_form.py``.

Runs in the ``kfp`` conformance venv (kfp 2.17, GCPC 2.22; locks/kfp.txt), as a module
with the repository root on ``PYTHONPATH``, like ``kfp_equivalence.py`` (whose
compilation it reuses)::

    python -m tests.conformance.vertex_equivalence PROGRAM.py PIPELINE.yaml [...]

prints one JSON list, an entry per pair: ``{"program", "pipeline", "dsl": NORMAL_FORM,
"pipespec": NORMAL_FORM}``, or ``{"program", "pipeline", "error": TEXT}``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.conformance.kfp_equivalence import _load_yaml, compile_program
from tests.conformance.kfp_runner import run_json
from tests.conformance.vertex_normal_form import vertex_normal_form

DEFAULT_TIMEOUT_S = 300.0


def compare(program: Path, pipeline: Path, out_dir: Path) -> dict[str, Any]:
    entry: dict[str, Any] = {"program": str(program), "pipeline": str(pipeline)}
    try:
        compiled = compile_program(program, out_dir)
    except Exception:  # any failure of the user program, kfp or GCPC is the answer
        entry["error"] = traceback.format_exc()
        return entry
    entry["dsl"] = vertex_normal_form(_load_yaml(compiled), dsl=True)
    entry["pipespec"] = vertex_normal_form(_load_yaml(pipeline), dsl=False)
    return entry


def main(argv: Sequence[str]) -> int:
    if not argv or len(argv) % 2:
        sys.stderr.write(__doc__ or "")
        return 2
    pairs = [(Path(argv[i]), Path(argv[i + 1])) for i in range(0, len(argv), 2)]
    with tempfile.TemporaryDirectory(prefix="pipespec-vertex-dsl-") as tmp:
        results = [compare(program, pipeline, Path(tmp)) for program, pipeline in pairs]
    json.dump(results, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


def run_equivalence(
    pairs: Sequence[tuple[Path, Path]], *, timeout: float = DEFAULT_TIMEOUT_S
) -> list[dict[str, Any]]:
    """One entry per (program, pipeline file) pair, from one subprocess in the kfp venv."""
    args = [str(Path(p).resolve()) for pair in pairs for p in pair]
    results = run_json("tests.conformance.vertex_equivalence", args, timeout=timeout)
    if not isinstance(results, list) or len(results) != len(pairs):
        raise RuntimeError(f"{len(pairs)} pairs, answer: {str(results)[-2000:]}")
    return results


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
