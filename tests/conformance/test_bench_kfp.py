"""The Kubeflow benchmark's kfp programs compile, in the kfp venv, to the pipeline pipespec
compiles from the same spec: the same container tasks, each waiting for the same tasks, and
the same numbers of components, executors, condition and loop groups (benchmarks/kfp_driver.py
reads both IR files back). One 10-step spec, each program run once; no timings asserted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import bench_kfp, generate, kfp_program
from tests.conformance.venvs import ensure_venv

pytestmark = pytest.mark.conformance

N = 10


def test_kfp_programs_compile_to_pipespecs_pipeline(tmp_path: Path) -> None:
    python = ensure_venv("kfp")
    spec = generate.write_spec(N, tmp_path / "specs")
    files = bench_kfp.compile_in_process(spec)
    ours = tmp_path / "pipespec.yaml"
    ours.write_text(files[f"kubeflow/{spec.stem}.yaml"], encoding="utf-8")
    compiled = {}
    for style in kfp_program.STYLES:
        stem = bench_kfp.write_program(N, style, tmp_path / "programs")
        out = tmp_path / f"kfp-{style}.yaml"
        report = bench_kfp.run_driver(
            python, [f"--program={stem}", "--repeats=1", f"--out={out}"], timeout=300
        )
        assert len(report["samples"]) == 1
        compiled[style] = out

    report = bench_kfp.run_driver(
        python, ["--summary", str(ours), *map(str, compiled.values())], timeout=300
    )
    summaries = report["summaries"]
    for style, out in compiled.items():
        result = bench_kfp.compare(summaries[str(ours)], summaries[str(out)])
        assert result["differences"] == [], style
        assert result["tasks"] == N
    assert summaries[str(ours)]["conditions"] == summaries[str(ours)]["loops"] == 1
    # the two styles are two ways of writing one pipeline
    assert compiled["table"].read_bytes() == compiled["straight"].read_bytes()
