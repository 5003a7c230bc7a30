"""The Vertex benchmark's kfp + GCPC programs compile, in the kfp venv, to the pipeline pipespec
compiles for Vertex from the same ML spec: the same tasks (container tasks, the custom job,
the deploy's four tasks, by ``taskInfo.name``), each waiting for the same tasks, and the same
numbers of components, executors, condition and loop groups. One 10-step spec, each program
run once through the benchmark's driver; no timings asserted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import bench_kfp, generate, kfp_program
from tests.conformance.venvs import ensure_venv

pytestmark = pytest.mark.conformance

N = 10
PEER = bench_kfp.PEERS["vertex"]


def test_the_ml_spec_has_the_kinds_the_benchmark_maps() -> None:
    # Otherwise the comparison below would not reach GCPC's components.
    kinds = [s.kind for s in generate.make_pipeline(N, ml=True).steps]
    assert kinds.count("train") == 1 and kinds.count("deploy") == 1
    assert {s.kind for s in generate.make_pipeline(N).steps} == {"container"}


def test_kfp_gcpc_programs_compile_to_pipespecs_vertex_pipeline(tmp_path: Path) -> None:
    python = ensure_venv("kfp")
    spec = generate.write_spec(N, tmp_path / "specs", ml=True)
    files = bench_kfp.compile_in_process(spec, "vertex")
    ours = tmp_path / "pipespec.yaml"
    ours.write_text(files[f"vertex/{spec.stem}.yaml"], encoding="utf-8")
    assert f"vertex/{spec.stem}.job.json" in files
    compiled = {}
    for style in kfp_program.STYLES:
        stem = bench_kfp.write_program(N, style, tmp_path / "programs", PEER)
        out = tmp_path / f"kfp-{style}.yaml"
        args = [f"--program={stem}", "--repeats=1", f"--out={out}", "--imports", *PEER.imports]
        report = bench_kfp.run_driver(python, args, timeout=300)
        assert len(report["samples"]) == 1
        compiled[style] = out

    report = bench_kfp.run_driver(
        python, ["--summary", str(ours), *map(str, compiled.values())], timeout=300
    )
    summaries = report["summaries"]
    theirs = summaries[str(ours)]
    for style, out in compiled.items():
        result = bench_kfp.compare(theirs, summaries[str(out)])
        assert result["differences"] == [], style
    # 10 steps: 9 one task each, the deploy four (model helper, upload, endpoint, deploy)
    assert len(theirs["tasks"]) == N + 3
    assert {"deploy-009", "deploy-009-upload", "deploy-009-endpoint", "train-002"} <= set(
        theirs["tasks"]
    )
    assert theirs["conditions"] == theirs["loops"] == 1
    assert compiled["table"].read_bytes() == compiled["straight"].read_bytes()
