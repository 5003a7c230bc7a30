"""The SageMaker benchmark's pieces that need no SDK: the spec it compiles, the program's
step table, and the equivalence check (which must see a dropped dependency)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import bench_kfp, bench_sagemaker, generate
from benchmarks import sagemaker_program as sp

N = 10


def _definition(tmp_path: Path) -> Path:
    spec = sp.write_spec(N, tmp_path / "specs")
    files = bench_kfp.compile_in_process(spec, "sagemaker")
    out = tmp_path / "pipespec.json"
    out.write_text(files[f"sagemaker/{spec.stem}.json"], encoding="utf-8")
    return out


def test_the_spec_is_the_plain_spec_with_a_sagemaker_target() -> None:
    plain = generate.spec_data(generate.make_pipeline(N))
    ours = sp.spec_data(N)
    assert ours.pop("targets") == {"sagemaker": {"role_arn": sp.ROLE, "region": sp.REGION}}
    plain.pop("targets")
    assert ours == plain


def test_the_program_has_a_row_per_spec_step() -> None:
    pipeline = generate.make_pipeline(N)
    rows = sp.step_table(pipeline)
    assert [r["id"] for r in rows] == [s.id for s in pipeline.steps]
    assert sum(1 for r in rows if r["when"]) == 1
    assert [r["foreach"] for r in rows if r["foreach"]] == [list(generate.REGIONS)]
    assert "def build(session)" in sp.program(pipeline)


def test_equivalence_sees_a_dropped_dependency(tmp_path: Path) -> None:
    ours = _definition(tmp_path)
    assert bench_sagemaker.equivalence(ours, ours, full=True)["same"]
    doc = json.loads(ours.read_text(encoding="utf-8"))
    after = next(s for s in doc["Steps"] if s["Name"] == "predict_007")
    after["DependsOn"].remove("score_004")  # its after: edge, not implied by data
    other = tmp_path / "other.json"
    other.write_text(json.dumps(doc), encoding="utf-8")
    for full in (False, True):
        result = bench_sagemaker.equivalence(ours, other, full=full)
        assert not result["same"]
        assert "1 steps wait for different steps" in result["differences"][0]
